package persisted

import (
	"context"
	"net/http"
	"regexp"

	"github.com/99designs/gqlgen/graphql"
	"github.com/cairn-dev/cairn"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// ClientHeaders name the client of a request, first match wins: Cairn's own
// header, then the one Apollo's clients send.
var ClientHeaders = []string{"X-Cairn-Client", "Apollographql-Client-Name"}

// ClientName returns the client a request names in its headers, or "".
func ClientName(h http.Header) string {
	for _, name := range ClientHeaders {
		if v := h.Get(name); v != "" {
			return v
		}
	}
	return ""
}

// Extension is the gqlgen handler extension of persisted operations. It runs
// before the document is parsed and:
//
//   - resolves extensions.persistedQuery.sha256Hash (Apollo's APQ and Apollo
//     manifest IDs) and extensions.persistedDocument.id (Relay IDs and
//     documentId, lifted there by LiftDocumentID) to the registered text of the
//     request's client, then to an APQ text;
//   - stores an APQ text sent with its hash, after checking the hash;
//   - refuses, for an API key or client in persisted-only mode, any document
//     that is not registered, with PERSISTED_QUERY_NOT_ALLOWED.
//
// A hash or ID that names nothing answers PERSISTED_QUERY_NOT_FOUND, which
// tells Apollo's clients to send the text once with the hash.
type Extension struct {
	Registry *Registry
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = Extension{}

// ExtensionName implements graphql.HandlerExtension.
func (Extension) ExtensionName() string { return "CairnPersistedOperations" }

// Validate implements graphql.HandlerExtension.
func (Extension) Validate(graphql.ExecutableSchema) error { return nil }

var hashPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// MutateOperationParameters implements graphql.OperationParameterMutator.
func (e Extension) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	if err := e.resolve(ctx, raw); err != nil {
		if cairn.ErrorCode(err) == cairn.EINTERNAL {
			err = cairn.Errorf(cairn.EINTERNAL, "Internal error: persisted operations are unavailable; retry, or send the query text.")
		}
		return &gqlerror.Error{Err: err, Message: cairn.ErrorMessage(err)}
	}
	return nil
}

func (e Extension) resolve(ctx context.Context, raw *graphql.RawParams) error {
	client := ClientName(raw.Headers)
	hash, id, err := persistedIDs(raw.Extensions)
	if err != nil {
		return err
	}
	only, err := e.Registry.persistedOnly(ctx, cairn.PrincipalFromContext(ctx), client)
	if err != nil {
		return err
	}
	if raw.Query != "" {
		if hash == "" && !only {
			return nil // a plain document: nothing to hash
		}
		sum := Hash(raw.Query)
		if hash != "" && hash != sum {
			return cairn.Errorf(cairn.EBADINPUT, "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query text; compute it over the exact text you send")
		}
		if only {
			ok, err := e.Registry.store.PersistedDocumentRegistered(ctx, client, sum)
			if err != nil {
				return err
			}
			if !ok {
				return notAllowed(client)
			}
			return nil
		}
		if hash != "" {
			return e.Registry.addAPQ(ctx, hash, raw.Query)
		}
		return nil
	}
	key := id
	if key == "" {
		key = hash
	}
	if key == "" {
		if only {
			return notAllowed(client)
		}
		return nil // no document at all: gqlgen answers that
	}
	doc, err := e.Registry.document(ctx, client, key)
	switch {
	case err == nil:
		raw.Query = doc.Body
		return nil
	case cairn.ErrorCode(err) != cairn.ENOTFOUND:
		return err
	case only:
		return notAllowed(client)
	case hash != "" && hashPattern.MatchString(hash):
		body, ok, err := e.Registry.apqDocument(ctx, hash)
		if err != nil {
			return err
		}
		if ok {
			raw.Query = body
			return nil
		}
		return cairn.Errorf(cairn.EPERSISTEDQUERYNOTFOUND, "PersistedQueryNotFound: no document is stored under sha256Hash %s; send the query text with the hash once, or register it in your client's manifest", hash)
	}
	return cairn.Errorf(cairn.EPERSISTEDQUERYNOTFOUND, "PersistedQueryNotFound: no operation %q is registered%s; register your manifest with registerOperations", id, forClient(client))
}

// persistedIDs reads extensions.persistedQuery (version 1, sha256Hash) and
// extensions.persistedDocument.id. Returns BAD_USER_INPUT when malformed.
func persistedIDs(ext map[string]any) (hash, id string, err error) {
	if pq, ok := ext["persistedQuery"]; ok && pq != nil {
		m, _ := pq.(map[string]any)
		hash, _ = m["sha256Hash"].(string)
		if v := m["version"]; m == nil || hash == "" || (v != nil && numberString(v) != "1") {
			return "", "", cairn.Errorf(cairn.EBADINPUT, "extensions.persistedQuery must be {\"version\": 1, \"sha256Hash\": \"<hex SHA-256>\"}")
		}
	}
	if pd, ok := ext["persistedDocument"]; ok && pd != nil {
		m, _ := pd.(map[string]any)
		id, _ = m["id"].(string)
		if id == "" {
			return "", "", cairn.Errorf(cairn.EBADINPUT, "extensions.persistedDocument must be {\"id\": \"<registered operation ID>\"}")
		}
	}
	return hash, id, nil
}

func numberString(v any) string {
	switch n := v.(type) {
	case float64:
		if n == 1 {
			return "1"
		}
	case interface{ String() string }:
		return n.String()
	case int, int64:
		if n == 1 || n == int64(1) {
			return "1"
		}
	}
	return ""
}

func notAllowed(client string) error {
	return cairn.Errorf(cairn.EPERSISTEDQUERYNOTALLOWED, "This API key or client%s runs registered operations only: send the ID of an operation from your registered manifest (extensions.persistedQuery.sha256Hash or documentId), not a document", forClient(client))
}

func forClient(client string) string {
	if client == "" {
		return ""
	}
	return " (client " + client + ")"
}
