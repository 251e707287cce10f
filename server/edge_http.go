package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/auth"
)

// GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/):
//
//   - application/graphql-response+json answers 200 when the operation was
//     executed and 4xx when it was not (no "data": a request error);
//     application/json keeps gqlgen's statuses (200, 422 for documents that
//     fail to parse or validate);
//   - GET runs queries only: a mutation over GET answers 405 with Allow: POST;
//   - a GET answer without errors carries an ETag and is revalidated with
//     If-None-Match (304), so caches in front of Cairn can keep it; it is
//     private to the caller (Vary: Authorization and the client headers).

const graphqlResponseJSON = "application/graphql-response+json"

// bufferable reports whether r is an ordinary request/response exchange (not
// a websocket or an event stream), whose response the edge may hold back to
// set its status and cache headers.
func bufferable(r *http.Request) bool {
	return r.Header.Get("Upgrade") == "" && !strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// responseBuffer holds a response until the handler is done, in a buffer
// of respBufs.
type responseBuffer struct {
	w      http.ResponseWriter
	status int
	body   *bytes.Buffer
}

func (b *responseBuffer) Header() http.Header { return b.w.Header() }

func (b *responseBuffer) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *responseBuffer) Write(p []byte) (int, error) {
	b.started()
	return b.buffer().Write(p)
}

// started records that the body began (with status 200 unless one was set).
func (b *responseBuffer) started() {
	if b.status == 0 {
		b.status = http.StatusOK
	}
}

func (b *responseBuffer) buffer() *bytes.Buffer {
	if b.body == nil {
		b.body = respBufs.Get().(*bytes.Buffer)
	}
	return b.body
}

func (b *responseBuffer) finish(r *http.Request, st *edgeState) {
	body := b.buffer()
	defer putRespBuf(body) // written (copied) by then
	b.body = nil
	status := b.status
	if status == 0 {
		status = http.StatusOK
	}
	h := b.w.Header()
	mt := mediaType(h.Get("Content-Type"))
	var resp struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Path []any `json:"path"`
		} `json:"errors"`
	}
	// Only a graphql-response+json answer's status and a GET's ETag read the
	// body; an application/json POST (most requests) is not decoded again.
	isJSON := (mt == graphqlResponseJSON || mt == "application/json" && r.Method == http.MethodGet) && json.Unmarshal(body.Bytes(), &resp) == nil
	switch {
	case st.status != 0:
		status = st.status
		if status == http.StatusMethodNotAllowed {
			h.Set("Allow", "POST")
		}
	case isJSON && mt == graphqlResponseJSON && status == http.StatusOK && requestError(resp.Data, len(resp.Errors), len(resp.Errors) > 0 && resp.Errors[0].Path == nil):
		status = http.StatusBadRequest
	}
	if r.Method == http.MethodGet && status == http.StatusOK && isJSON && len(resp.Errors) == 0 {
		sum := sha256.Sum256(body.Bytes())
		etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
		h.Set("ETag", etag)
		h.Set("Cache-Control", "private, no-cache")
		h.Set("Vary", "Accept, Authorization, X-Cairn-Client, Apollographql-Client-Name")
		if slices.Contains(strings.Split(strings.ReplaceAll(r.Header.Get("If-None-Match"), " ", ""), ","), etag) {
			h.Del("Content-Type")
			b.w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	h.Set("Content-Length", strconv.Itoa(body.Len()))
	b.w.WriteHeader(status)
	_, _ = b.w.Write(body.Bytes())
}

// requestError reports whether a response is that of a request error (the
// operation never ran): no data, or null data with errors that name no path.
func requestError(data json.RawMessage, errs int, pathless bool) bool {
	return data == nil || (string(data) == "null" && errs > 0 && pathless)
}

// CSRFHeaders are the headers that mark a request as not a simple
// cross-site one: a browser sends them only after a CORS preflight.
var CSRFHeaders = []string{"X-Cairn-CSRF", "Apollo-Require-Preflight", "X-Apollo-Operation-Name"}

// csrf refuses requests a browser would send cross-site without a CORS
// preflight (a GET, or a POST of a form or plain text) unless they carry one
// of CSRFHeaders: such a request could run an operation with a user's
// credentials from another site. JSON posts and websockets pass.
func csrf(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodGet || r.Method == http.MethodPost) && r.Header.Get("Upgrade") == "" && simpleContentType(r) {
			for _, name := range CSRFHeaders {
				if r.Header.Get(name) != "" {
					next.ServeHTTP(w, r)
					return
				}
			}
			auth.WriteError(w, http.StatusBadRequest, cairn.Errorf(cairn.EBADINPUT,
				"This request could be sent by any web page (a cross-site request forgery), so it is refused: POST with Content-Type: application/json, or add the header X-Cairn-CSRF: 1 (or apollo-require-preflight: true) to a GET."))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func simpleContentType(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return true
	}
	if ct == "application/json" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "text/plain" || mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data")
}

// cors answers CORS preflights and marks responses readable by the allowed
// origins ("*" allows any). Cairn authenticates with bearer tokens, never
// cookies, so credentials are not allowed.
func cors(origins []string, next http.Handler) http.Handler {
	allowed := func(origin string) bool {
		return origin != "" && (slices.Contains(origins, "*") || slices.Contains(origins, origin))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		h := w.Header()
		if origin != "" {
			h.Add("Vary", "Origin")
		}
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if !allowed(origin) {
			if preflight {
				w.WriteHeader(http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", "Retry-After, ETag")
		if preflight {
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, Idempotency-Key, X-Cairn-CSRF, X-Cairn-Client, Apollographql-Client-Name, Apollographql-Client-Version, Apollo-Require-Preflight, X-Apollo-Operation-Name")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
