// Package persisted owns Cairn's persisted operations: automatic persisted
// queries (Apollo's APQ protocol) stored in PostgreSQL behind an in-memory
// LRU, trusted documents registered per client from Apollo or Relay
// manifests, and persisted-only mode, enforced before a document is parsed.
package persisted

import (
	"context"
	"regexp"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/store"
	lru "github.com/hashicorp/golang-lru/v2"
)

// Registry gives access to persisted documents through in-memory caches in
// front of the store. Every replica shares the store, so a document added on
// one is found on all; the caches hold only what cannot go stale (a hash
// names one text; a registered ID never changes), except the persisted-only
// settings, cached for SettingsTTL. It is safe for concurrent use.
type Registry struct {
	store *store.Store
	apq   *lru.Cache[string, string]                   // sha256 → body
	docs  *lru.Cache[docKey, *cairn.PersistedDocument] // (client, id) → document
	only  *lru.Cache[onlyKey, onlyEntry]

	// SettingsTTL is how long a persisted-only answer is reused; a change
	// made on another replica takes effect within it.
	SettingsTTL time.Duration
	// Now returns the current time; tests replace it.
	Now func() time.Time
}

type docKey struct{ client, id string }

type onlyKey struct{ apiKey, keyTenant, client string }

type onlyEntry struct {
	on bool
	at time.Time
}

// DefaultCacheSize is the number of documents each in-memory cache holds.
const DefaultCacheSize = 4096

// NewRegistry returns a registry over s whose caches hold size entries each
// (0 means DefaultCacheSize).
func NewRegistry(s *store.Store, size int) *Registry {
	if size <= 0 {
		size = DefaultCacheSize
	}
	apq, _ := lru.New[string, string](size)
	docs, _ := lru.New[docKey, *cairn.PersistedDocument](size)
	only, _ := lru.New[onlyKey, onlyEntry](size)
	return &Registry{store: s, apq: apq, docs: docs, only: only, SettingsTTL: 2 * time.Second, Now: time.Now}
}

// Get returns the text of an APQ hash. With Add it implements gqlgen's
// graphql.Cache[string], so the registry can also back gqlgen's own
// extension.AutomaticPersistedQuery. A database error reads as a miss.
func (r *Registry) Get(ctx context.Context, sha256 string) (string, bool) {
	body, ok, _ := r.apqDocument(ctx, sha256)
	return body, ok
}

// Add stores an APQ document; the caller has checked the hash. A database
// error is dropped: the client sends the text again on the next miss.
func (r *Registry) Add(ctx context.Context, sha256, body string) { _ = r.addAPQ(ctx, sha256, body) }

func (r *Registry) apqDocument(ctx context.Context, sha256 string) (string, bool, error) {
	if body, ok := r.apq.Get(sha256); ok {
		return body, true, nil
	}
	body, ok, err := r.store.APQDocument(ctx, sha256)
	if ok {
		r.apq.Add(sha256, body)
	}
	return body, ok, err
}

func (r *Registry) addAPQ(ctx context.Context, sha256, body string) error {
	if _, ok := r.apq.Get(sha256); ok {
		return nil
	}
	if err := r.store.AddAPQDocument(ctx, sha256, body); err != nil {
		return err
	}
	r.apq.Add(sha256, body)
	return nil
}

// document returns the trusted document id of client (of any client when
// client is ""). Returns NOT_FOUND when none is registered.
func (r *Registry) document(ctx context.Context, client, id string) (*cairn.PersistedDocument, error) {
	k := docKey{client, id}
	if d, ok := r.docs.Get(k); ok {
		return d, nil
	}
	d, err := r.store.PersistedDocument(ctx, client, id)
	if err != nil {
		return nil, err
	}
	r.docs.Add(k, d)
	return d, nil
}

// persistedOnly reports whether the request of p (possibly nil) by client
// must run registered documents only.
func (r *Registry) persistedOnly(ctx context.Context, p *cairn.Principal, client string) (bool, error) {
	k := onlyKey{client: client}
	if p != nil && p.APIKeyID != "" {
		k.apiKey, k.keyTenant = p.APIKeyID, p.TenantID
	}
	if k.apiKey == "" && k.client == "" {
		return false, nil
	}
	if e, ok := r.only.Get(k); ok && r.Now().Sub(e.at) < r.SettingsTTL {
		return e.on, nil
	}
	on, err := r.store.PersistedOnly(ctx, k.apiKey, k.keyTenant, k.client)
	if err != nil {
		return false, err
	}
	r.only.Add(k, onlyEntry{on: on, at: r.Now()})
	return on, nil
}

var clientPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

func checkClientName(name, field string) error {
	if !clientPattern.MatchString(name) {
		return cairn.FieldError(field, "clientName %q must start with a letter or digit and hold only letters, digits, '.', '_' and '-', at most 100 characters", name)
	}
	return nil
}

// Register parses a manifest in format and registers its operations for
// client, owned by tenantID. Returns BAD_USER_INPUT for a malformed manifest
// or client name, and the codes of store.RegisterDocuments (UNAUTHENTICATED,
// NOT_FOUND, FORBIDDEN, CONFLICT).
func (r *Registry) Register(ctx context.Context, tenantID, client string, format Format, manifest map[string]any) (*store.RegisterResult, error) {
	if err := checkClientName(client, "input.clientName"); err != nil {
		return nil, err
	}
	docs, err := ParseManifest(format, manifest)
	if err != nil {
		return nil, err
	}
	return r.store.RegisterDocuments(ctx, tenantID, client, docs)
}

// SetPersistedOnly records a persisted-only setting and forgets the cached
// answers of this replica. Returns BAD_USER_INPUT for a malformed subject and
// the codes of store.SetPersistedOnly (UNAUTHENTICATED, NOT_FOUND, FORBIDDEN).
func (r *Registry) SetPersistedOnly(ctx context.Context, s cairn.PersistedOnlySetting) error {
	if s.Kind == cairn.PersistedOnlyClient {
		if err := checkClientName(s.Subject, "input.clientName"); err != nil {
			return err
		}
	}
	if err := r.store.SetPersistedOnly(ctx, s); err != nil {
		return err
	}
	r.only.Purge()
	return nil
}
