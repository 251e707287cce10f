package persisted

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"

	"github.com/cairn-dev/cairn"
)

// Format is the format of an operation manifest.
type Format string

const (
	// FormatApollo is Apollo's persisted-query manifest:
	// {"format": "apollo-persisted-query-manifest", "version": 1,
	//  "operations": [{"id", "name", "type", "body"}]}.
	FormatApollo Format = "APOLLO"
	// FormatRelay is Relay's persisted-query map: {"<id>": "<document text>"}.
	FormatRelay Format = "RELAY"
)

// MaxManifestOperations bounds the operations of one manifest.
const MaxManifestOperations = 5000

// ParseManifest returns the documents of a manifest in format. Returns
// BAD_USER_INPUT (field input.manifest) saying what is malformed.
func ParseManifest(format Format, m map[string]any) ([]cairn.PersistedDocument, error) {
	var docs []cairn.PersistedDocument
	switch format {
	case FormatApollo:
		if f, _ := m["format"].(string); f != "apollo-persisted-query-manifest" {
			return nil, manifestError("an Apollo manifest has \"format\": \"apollo-persisted-query-manifest\", not %v", m["format"])
		}
		if v := fmt.Sprint(m["version"]); v != "1" {
			return nil, manifestError("only version 1 of Apollo's manifest format is supported, not %s", v)
		}
		ops, ok := m["operations"].([]any)
		if !ok {
			return nil, manifestError("an Apollo manifest has an \"operations\" array")
		}
		for i, o := range ops {
			op, _ := o.(map[string]any)
			id, _ := op["id"].(string)
			body, _ := op["body"].(string)
			name, _ := op["name"].(string)
			if id == "" || body == "" {
				return nil, manifestError("operations[%d] needs a string \"id\" and \"body\"", i)
			}
			docs = append(docs, document(id, body, name))
		}
	case FormatRelay:
		ids := make([]string, 0, len(m))
		for id := range m {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			body, _ := m[id].(string)
			if id == "" || body == "" {
				return nil, manifestError("a Relay map is {\"<id>\": \"<document text>\"}; %q has no text", id)
			}
			docs = append(docs, document(id, body, ""))
		}
	default:
		return nil, cairn.FieldError("input.format", "format must be APOLLO or RELAY, not %q", format)
	}
	switch {
	case len(docs) == 0:
		return nil, manifestError("the manifest holds no operations")
	case len(docs) > MaxManifestOperations:
		return nil, manifestError("the manifest holds %d operations; register at most %d at a time", len(docs), MaxManifestOperations)
	}
	seen := map[string]string{}
	unique := docs[:0]
	for _, d := range docs {
		if len(d.ID) > 200 {
			return nil, manifestError("operation ID %.20q… is longer than 200 characters", d.ID)
		}
		if sha, ok := seen[d.ID]; ok {
			if sha != d.SHA256 {
				return nil, manifestError("operation ID %q appears twice with different texts", d.ID)
			}
			continue
		}
		seen[d.ID] = d.SHA256
		unique = append(unique, d)
	}
	return unique, nil
}

func document(id, body, name string) cairn.PersistedDocument {
	return cairn.PersistedDocument{ID: id, SHA256: Hash(body), Body: body, OperationName: name}
}

// Hash returns the hex SHA-256 of a document's text, as APQ and Apollo's
// manifests compute it.
func Hash(body string) string {
	sum := sha256.Sum256([]byte(body))
	return hex.EncodeToString(sum[:])
}

func manifestError(format string, args ...any) error {
	return cairn.FieldError("input.manifest", format, args...)
}
