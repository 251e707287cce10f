package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/auth"
)

// limitBody bounds request bodies and checks the shape of a JSON GraphQL
// request before gqlgen reads it, so that a client learns exactly what was
// wrong (and the body is never echoed back).
func limitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				auth.WriteError(w, http.StatusRequestEntityTooLarge, cairn.Errorf(cairn.EBADINPUT, "The request body is larger than %d bytes; send a smaller document or fewer variables.", max))
				return
			}
			auth.WriteError(w, http.StatusBadRequest, cairn.Errorf(cairn.EBADINPUT, "Could not read the request body."))
			return
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" || mt == "" {
			if err := checkRequest(body); err != nil {
				auth.WriteError(w, http.StatusBadRequest, err)
				return
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// checkRequest checks that body is one GraphQL request as JSON:
// {"query": string, "operationName": string?, "variables": object?,
// "extensions": object?}. Returns BAD_USER_INPUT saying what is wrong.
func checkRequest(body []byte) error {
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return cairn.Errorf(cairn.EBADINPUT, "The body is not valid JSON (%s at byte %d); send {\"query\": \"...\", \"variables\": {...}}.", syn.Error(), syn.Offset)
		}
		if bytes.HasPrefix(bytes.TrimSpace(body), []byte("[")) {
			return cairn.Errorf(cairn.EBADINPUT, "Batched requests are not supported; send one {\"query\": ...} object per request.")
		}
		return cairn.Errorf(cairn.EBADINPUT, "The body must be a JSON object: {\"query\": \"...\", \"variables\": {...}}.")
	}
	for name, want := range map[string]byte{"query": '"', "operationName": '"', "variables": '{', "extensions": '{'} {
		raw, ok := req[name]
		if !ok || string(raw) == "null" {
			continue
		}
		if raw[0] != want {
			kind := map[byte]string{'"': "a string", '{': "an object"}[want]
			return cairn.FieldError(name, "%s must be %s, not %s", name, kind, jsonKind(raw))
		}
	}
	return nil
}

func jsonKind(raw json.RawMessage) string {
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return fmt.Sprintf("a number (%s)", raw)
}
