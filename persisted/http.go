package persisted

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
)

// idParams are the request parameters that carry a registered operation's ID:
// documentId (the GraphQL-over-HTTP persisted documents proposal), and doc_id
// and id (what Relay's network layers send).
var idParams = []string{"documentId", "doc_id", "id"}

// LiftDocumentID moves an operation ID given as a top-level request
// parameter (documentId, doc_id or id; in a JSON body or a GET query string)
// to extensions.persistedDocument.id, where Extension reads it. A request
// without one passes unchanged. (Cairn's server reads a JSON body once and
// lifts the ID with DocumentID and WithDocumentID instead; it uses LiftQuery
// for GET.)
func LiftDocumentID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			LiftQuery(r)
		case http.MethodPost:
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" && r.Body != nil {
				liftBody(r)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// LiftQuery is LiftDocumentID for the query string of a GET request.
func LiftQuery(r *http.Request) {
	if r.URL.RawQuery == "" {
		return
	}
	q := r.URL.Query()
	id := ""
	for _, p := range idParams {
		if v := q.Get(p); v != "" && id == "" {
			id = v
		}
		q.Del(p)
	}
	if id == "" {
		return
	}
	ext := map[string]any{}
	if s := q.Get("extensions"); s != "" {
		if json.Unmarshal([]byte(s), &ext) != nil {
			return // gqlgen reports the malformed extensions
		}
	}
	ext = WithDocumentID(ext, id)
	b, _ := json.Marshal(ext)
	q.Set("extensions", string(b))
	u := *r.URL
	u.RawQuery = q.Encode()
	r.URL = &u
}

// DocumentID returns the operation ID a JSON request (its top-level members)
// gives as documentId, doc_id or id (the first that is a non-empty string),
// or "".
func DocumentID(req map[string]json.RawMessage) string {
	for _, p := range idParams {
		raw, ok := req[p]
		if !ok || len(raw) == 0 || raw[0] != '"' {
			continue
		}
		var v string
		if json.Unmarshal(raw, &v) == nil && v != "" {
			return v
		}
	}
	return ""
}

// WithDocumentID sets extensions.persistedDocument.id of a request's
// extensions (nil for none) to id and returns them.
func WithDocumentID(ext map[string]any, id string) map[string]any {
	if ext == nil {
		ext = map[string]any{}
	}
	ext["persistedDocument"] = map[string]any{"id": id}
	return ext
}

// LiftBody returns the JSON request req (its top-level members) with its
// operation ID, if any, moved to extensions.persistedDocument.id, and
// whether it moved one.
func LiftBody(req map[string]json.RawMessage) ([]byte, bool) {
	id := DocumentID(req)
	if id == "" {
		return nil, false
	}
	for _, p := range idParams {
		delete(req, p)
	}
	ext := map[string]any{}
	if raw, ok := req["extensions"]; ok {
		_ = json.Unmarshal(raw, &ext)
	}
	req["extensions"], _ = json.Marshal(WithDocumentID(ext, id))
	b, _ := json.Marshal(req)
	return b, true
}

func liftBody(r *http.Request) {
	body, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return
	}
	var req map[string]json.RawMessage
	if json.Unmarshal(body, &req) != nil {
		return
	}
	if b, ok := LiftBody(req); ok {
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
	}
}
