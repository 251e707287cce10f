package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// client sends GraphQL operations to Cairn over HTTP, as any other client.
type client struct {
	url     string // the GraphQL endpoint, e.g. http://127.0.0.1:8080/graphql
	token   string // a session token or API key; "" for none
	timeout time.Duration
	http    *http.Client
	verbose io.Writer // when set, requests and responses are printed there, secrets redacted
}

// apiError is an error the API answered, with its extensions.code.
type apiError struct {
	Code    string
	Message string
	Field   string // the input field at fault, for BAD_USER_INPUT
	Path    string
}

func (e *apiError) Error() string {
	msg := e.Code + ": " + e.Message
	if e.Field != "" {
		msg += " (field " + e.Field + ")"
	}
	return msg
}

// notFound is the error cairnctl reports when the API answered null for an ID.
func notFound(kind, id string) error {
	return &apiError{Code: "NOT_FOUND", Message: fmt.Sprintf("%s %q not found", kind, id)}
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// endpoint returns the GraphQL endpoint of a base URL: a URL that already ends
// in /graphql is kept, any other gets /graphql appended.
func endpoint(base string) string {
	base = strings.TrimRight(base, "/")
	if strings.HasSuffix(base, "/graphql") {
		return base
	}
	return base + "/graphql"
}

// do runs one GraphQL operation and decodes its data into out (a pointer, or
// nil). The first GraphQL error is returned as an *apiError; transport
// failures say which URL could not be reached.
func (c *client) do(ctx context.Context, query string, vars map[string]any, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("bad URL %q: %w", c.url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json, application/json")
	req.Header.Set("User-Agent", "cairnctl")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.verbose != nil {
		fmt.Fprintf(c.verbose, "> POST %s\n", c.url)
		for _, h := range []string{"Content-Type", "Authorization"} {
			if v := req.Header.Get(h); v != "" {
				if h == "Authorization" {
					v = "Bearer <redacted>"
				}
				fmt.Fprintf(c.verbose, "> %s: %s\n", h, v)
			}
		}
		fmt.Fprintf(c.verbose, "%s\n", c.redact(body))
	}
	start := time.Now()
	res, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("no answer from %s within %s (raise --timeout or CAIRN_TIMEOUT)", c.url, c.timeout)
		}
		return fmt.Errorf("cannot reach Cairn at %s: %w (check --url or CAIRN_URL)", c.url, errors.Unwrap(err))
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("reading the answer of %s: %w", c.url, err)
	}
	if c.verbose != nil {
		fmt.Fprintf(c.verbose, "< %s (%s)\n%s\n", res.Status, time.Since(start).Round(time.Millisecond), c.redact(raw))
	}
	var r gqlResponse
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil {
		return fmt.Errorf("%s answered %s, not a GraphQL response: %.200s", c.url, res.Status, bytes.TrimSpace(raw))
	}
	if len(r.Errors) > 0 {
		e := r.Errors[0]
		ae := &apiError{Message: e.Message}
		ae.Code, _ = e.Extensions["code"].(string)
		ae.Field, _ = e.Extensions["field"].(string)
		if ae.Code == "" {
			ae.Code = "UNKNOWN"
		}
		if len(e.Path) > 0 {
			parts := make([]string, len(e.Path))
			for i, p := range e.Path {
				parts[i] = fmt.Sprint(p)
			}
			ae.Path = strings.Join(parts, ".")
		}
		return ae
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s", c.url, res.Status)
	}
	if out == nil {
		return nil
	}
	dec = json.NewDecoder(bytes.NewReader(r.Data))
	dec.UseNumber()
	return dec.Decode(out)
}

// secretKey matches the JSON keys whose values --verbose never prints.
var secretKey = regexp.MustCompile(`(?i)token|secret|password|authorization`)

// redact returns a JSON body with the values of secret-looking keys and any
// occurrence of the client's token replaced, for --verbose.
func (c *client) redact(body []byte) string {
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	out := string(body)
	if dec.Decode(&v) == nil {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if enc.Encode(redactValue(v)) == nil {
			out = strings.TrimSuffix(b.String(), "\n")
		}
	}
	if c.token != "" {
		out = strings.ReplaceAll(out, c.token, "<redacted>")
	}
	return out
}

func redactValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			if _, isString := x.(string); isString && secretKey.MatchString(k) {
				m[k] = "<redacted>"
			} else {
				m[k] = redactValue(x)
			}
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, x := range v {
			s[i] = redactValue(x)
		}
		return s
	}
	return v
}
