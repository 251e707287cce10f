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
// without one passes unchanged.
func LiftDocumentID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			liftQuery(r)
		case http.MethodPost:
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" && r.Body != nil {
				liftBody(r)
			}
		}
		next.ServeHTTP(w, r)
	})
}

func liftQuery(r *http.Request) {
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
	ext["persistedDocument"] = map[string]any{"id": id}
	b, _ := json.Marshal(ext)
	q.Set("extensions", string(b))
	u := *r.URL
	u.RawQuery = q.Encode()
	r.URL = &u
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
	id := ""
	for _, p := range idParams {
		if raw, ok := req[p]; ok {
			var v string
			if json.Unmarshal(raw, &v) == nil && id == "" {
				id = v
			}
			delete(req, p)
		}
	}
	if id == "" {
		return
	}
	ext := map[string]any{}
	if raw, ok := req["extensions"]; ok {
		_ = json.Unmarshal(raw, &ext)
	}
	if ext == nil {
		ext = map[string]any{}
	}
	ext["persistedDocument"] = map[string]any{"id": id}
	req["extensions"], _ = json.Marshal(ext)
	b, _ := json.Marshal(req)
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
}
