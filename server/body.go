package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/auth"
	"github.com/cairn-dev/cairn/persisted"
	"github.com/cairn-dev/cairn/store"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// limitBody bounds request bodies and checks the shape of a JSON GraphQL
// request before gqlgen reads it, so that a client learns exactly what was
// wrong (and the body is never echoed back). It reads and decodes a JSON body
// once: the decoded parameters (with an operation ID given as documentId,
// doc_id or id lifted to extensions.persistedDocument.id) go to postTransport
// through the request's edge state. It also lifts the operation ID of a GET.
func limitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			if r.Method == http.MethodGet {
				persisted.LiftQuery(r)
			}
			next.ServeHTTP(w, r)
			return
		}
		start := graphql.Now()
		body, err := readBody(w, r, max)
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				auth.WriteError(w, http.StatusRequestEntityTooLarge, cairn.Errorf(cairn.EBADINPUT, "The request body is larger than %d bytes; send a smaller document or fewer variables.", max))
				return
			}
			auth.WriteError(w, http.StatusBadRequest, cairn.Errorf(cairn.EBADINPUT, "Could not read the request body."))
			return
		}
		if mt := mediaType(r.Header.Get("Content-Type")); mt == "application/json" || mt == "" {
			st := stateOf(r.Context())
			serve := mt == "application/json" && st != nil && bufferable(r) // postTransport serves it
			if serve {
				if p, ok := decodeRequest(body); ok { // the common case, in one pass
					st.params = p
					st.params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
					r.Body = &bodyReader{Reader: bytes.NewReader(body)}
					next.ServeHTTP(w, r)
					return
				}
			}
			req, err := checkRequest(body)
			if err != nil {
				auth.WriteError(w, http.StatusBadRequest, err)
				return
			}
			switch {
			case mt != "application/json":
				// No transport takes it: gqlgen answers.
			case serve:
				st.params = paramsOf(req)
				st.params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
			default:
				// Server-sent events: gqlgen's transport reads the body.
				if b, ok := persisted.LiftBody(req); ok {
					body = b
					r.ContentLength = int64(len(b))
				}
			}
		}
		r.Body = &bodyReader{Reader: bytes.NewReader(body)}
		next.ServeHTTP(w, r)
	})
}

// readBody reads r's body, at most max bytes.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	rd := http.MaxBytesReader(w, r.Body, max)
	if n := r.ContentLength; n > 0 && n <= max {
		// One allocation of the announced size (and one more byte, to see
		// the end of the body without growing).
		buf := bytes.NewBuffer(make([]byte, 0, n+1))
		_, err := buf.ReadFrom(rd)
		return buf.Bytes(), err
	}
	return io.ReadAll(rd)
}

type bodyReader struct{ *bytes.Reader }

func (bodyReader) Close() error { return nil }

// mediaType is the media type of a Content-Type header, lowercase, without
// parameters ("" when ct is empty or malformed).
func mediaType(ct string) string {
	if ct == "application/json" {
		return ct
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ""
	}
	return mt
}

// requestFields are the members of a GraphQL request over HTTP with the
// first byte of the JSON each must be (when not null).
var requestFields = []struct {
	name string
	want byte
}{{"query", '"'}, {"operationName", '"'}, {"variables", '{'}, {"extensions", '{'}}

// checkRequest checks that body is one GraphQL request as JSON:
// {"query": string, "operationName": string?, "variables": object?,
// "extensions": object?}, and returns its members. Returns BAD_USER_INPUT
// saying what is wrong.
func checkRequest(body []byte) (map[string]json.RawMessage, error) {
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, cairn.Errorf(cairn.EBADINPUT, "The body is not valid JSON (%s at byte %d); send {\"query\": \"...\", \"variables\": {...}}.", syn.Error(), syn.Offset)
		}
		if bytes.HasPrefix(bytes.TrimSpace(body), []byte("[")) {
			return nil, cairn.Errorf(cairn.EBADINPUT, "Batched requests are not supported; send one {\"query\": ...} object per request.")
		}
		return nil, cairn.Errorf(cairn.EBADINPUT, "The body must be a JSON object: {\"query\": \"...\", \"variables\": {...}}.")
	}
	for _, f := range requestFields {
		raw := member(req, f.name)
		if raw == nil {
			continue
		}
		if raw[0] != f.want {
			kind := map[byte]string{'"': "a string", '{': "an object"}[f.want]
			return nil, cairn.FieldError(f.name, "%s must be %s, not %s", f.name, kind, jsonKind(raw))
		}
	}
	return req, nil
}

// member returns the member name of a request, matched as gqlgen's decoding
// matches it (exactly, else ignoring case), or nil when it is missing or null.
func member(req map[string]json.RawMessage, name string) json.RawMessage {
	raw, ok := req[name]
	if !ok {
		for k, v := range req {
			if strings.EqualFold(k, name) {
				raw, ok = v, true
				break
			}
		}
	}
	if !ok || len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}

// wireRequest is a GraphQL request as JSON, decoded as gqlgen's POST
// transport decodes it (members matched ignoring case), with the members
// that carry an operation ID.
type wireRequest struct {
	Query         string          `json:"query"`
	OperationName string          `json:"operationName"`
	Variables     map[string]any  `json:"variables"`
	Extensions    map[string]any  `json:"extensions"`
	DocumentID    json.RawMessage `json:"documentId"`
	DocID         json.RawMessage `json:"doc_id"`
	ID            json.RawMessage `json:"id"`
}

// decodeRequest decodes a well-formed request in one pass. It reports false
// for anything else (malformed JSON, members of the wrong type, trailing
// data, an operation ID to lift), which checkRequest and paramsOf handle.
func decodeRequest(body []byte) (*graphql.RawParams, bool) {
	var req wireRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&req) != nil || req.DocumentID != nil || req.DocID != nil || req.ID != nil {
		return nil, false
	}
	for _, c := range body[dec.InputOffset():] {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return nil, false
		}
	}
	return &graphql.RawParams{Query: req.Query, OperationName: req.OperationName, Variables: req.Variables, Extensions: req.Extensions}, true
}

// paramsOf returns the parameters of a request checkRequest accepted, decoded
// as gqlgen's POST transport decodes them (numbers as json.Number).
func paramsOf(req map[string]json.RawMessage) *graphql.RawParams {
	p := &graphql.RawParams{}
	if raw := member(req, "query"); raw != nil {
		_ = json.Unmarshal(raw, &p.Query)
	}
	if raw := member(req, "operationName"); raw != nil {
		_ = json.Unmarshal(raw, &p.OperationName)
	}
	if raw := member(req, "variables"); raw != nil {
		_ = decodeNumbers(raw, &p.Variables)
	}
	if raw := member(req, "extensions"); raw != nil {
		_ = decodeNumbers(raw, &p.Extensions)
	}
	if id := persisted.DocumentID(req); id != "" {
		p.Extensions = persisted.WithDocumentID(p.Extensions, id)
	}
	return p
}

func decodeNumbers(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
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

// postTransport is gqlgen's POST transport (transport.POST: the same
// statuses, content negotiation and errors) over the parameters limitBody
// decoded, so that a body is decoded once, and writing the response without
// reflection, with extensions.sqlStatements (reportStatements leaves it to
// the transport for these requests).
type postTransport struct{}

var _ graphql.Transport = postTransport{}

func (postTransport) Supports(r *http.Request) bool {
	return r.Header.Get("Upgrade") == "" && r.Method == http.MethodPost && mediaType(r.Header.Get("Content-Type")) == "application/json"
}

func (postTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	contentType := responseContentType(r.Header.Get("Accept"))
	w.Header().Set("Content-Type", contentType)
	st := stateOf(ctx)
	var params *graphql.RawParams
	if st != nil && st.params != nil {
		params = st.params
	} else { // not through limitBody
		start := graphql.Now()
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeResponse(w, ctx, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("could not read request body: %+v", err)}))
			return
		}
		params = &graphql.RawParams{}
		if err := decodeNumbers(body, params); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			writeResponse(w, ctx, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("json request body could not be decoded: %+v", err)}))
			return
		}
		params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	}
	if st != nil {
		st.statementsByTransport = true
	}
	params.Headers = r.Header
	rc, opErr := exec.CreateOperationContext(ctx, params)
	if opErr != nil {
		if errcode.GetErrorKind(opErr) == errcode.KindProtocol {
			if contentType == graphqlResponseJSON {
				w.WriteHeader(http.StatusBadRequest)
			} else {
				w.WriteHeader(http.StatusUnprocessableEntity)
			}
		}
		writeResponse(w, ctx, exec.DispatchError(graphql.WithOperationContext(ctx, rc), opErr))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	writeResponse(w, ctx, responses(ctx))
}

// responseContentType is the media type of the answer to a request that
// accepts accept, as gqlgen's transports choose it.
func responseContentType(accept string) string {
	if accept == "" || accept == "application/json" {
		return "application/json"
	}
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "*/*", "application/*", "application/json":
			return "application/json"
		case graphqlResponseJSON:
			return graphqlResponseJSON
		}
	}
	return graphqlResponseJSON
}

// respBufs are the buffers responses are encoded in.
var respBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writeResponse writes resp as JSON, as json.Marshal would (HTML characters
// escaped), with extensions.sqlStatements of the request.
func writeResponse(w http.ResponseWriter, ctx context.Context, resp *graphql.Response) {
	if resp == nil {
		_, _ = w.Write([]byte("null"))
		return
	}
	c := store.StatementCounterFrom(ctx)
	if len(resp.Extensions) > 0 || resp.Label != "" || resp.Path != nil || resp.HasNext != nil {
		if c != nil {
			if resp.Extensions == nil {
				resp.Extensions = map[string]any{}
			}
			resp.Extensions["sqlStatements"] = c.Count()
		}
		b, err := json.Marshal(resp)
		if err != nil {
			panic(fmt.Errorf("unable to marshal %s: %w", string(resp.Data), err))
		}
		_, _ = w.Write(b)
		return
	}
	var buf *bytes.Buffer
	if rb, ok := w.(*responseBuffer); ok { // the edge holds the response: encode into its buffer
		rb.started()
		buf = rb.buffer()
	} else {
		buf = respBufs.Get().(*bytes.Buffer)
		defer func() {
			_, _ = w.Write(buf.Bytes())
			putRespBuf(buf)
		}()
	}
	if err := openResponse(buf, resp, true); err != nil {
		panic(fmt.Errorf("unable to marshal errors: %w", err)) // as gqlgen's POST transport
	}
	if c != nil {
		buf.WriteString(`,"extensions":{"sqlStatements":`)
		buf.Write(strconv.AppendInt(buf.AvailableBuffer(), int64(c.Count()), 10))
		buf.WriteByte('}')
	}
	buf.WriteByte('}')
}

// openResponse writes the start of resp as a JSON object, without its
// extensions or closing brace: its errors, if any, and its data (JSON gqlgen
// wrote), HTML-escaped when escape is set, as json.Marshal escapes.
func openResponse(buf *bytes.Buffer, resp *graphql.Response, escape bool) error {
	buf.WriteByte('{')
	if len(resp.Errors) > 0 {
		b, err := json.Marshal(resp.Errors)
		if err != nil {
			return err
		}
		buf.WriteString(`"errors":`)
		buf.Write(b)
		buf.WriteByte(',')
	}
	buf.WriteString(`"data":`)
	switch {
	case resp.Data == nil:
		buf.WriteString("null")
	case escape:
		json.HTMLEscape(buf, resp.Data)
	default:
		buf.Write(resp.Data)
	}
	return nil
}

// putRespBuf returns a buffer to respBufs, unless it grew past 4 MiB. Large
// responses (a deep read writes 1.4 MB) reuse their buffer too: a fresh one
// is zeroed and faulted in page by page, 3 ms of the deep read's CPU.
func putRespBuf(buf *bytes.Buffer) {
	if buf.Cap() <= 4<<20 {
		buf.Reset()
		respBufs.Put(buf)
	}
}
