// Package oidctest runs a real OpenID provider inside a test process:
// zitadel's certified op package with its example login UI, over in-memory
// storage, with signing keys the test can rotate and use to mint tokens of
// its own choosing (expired, for another audience, …). Tests only.
package oidctest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// Provider is a running OpenID provider.
type Provider struct {
	// Issuer is the provider's issuer URL; it ends with "/".
	Issuer string
	Server *httptest.Server

	store   *storage.Storage
	users   *userStore
	clients map[string]*storage.Client

	mu   sync.Mutex
	keys []*signingKey // the last signs; all are published

	keyFetches atomic.Int64
}

// KeyFetches returns how many times the key set (/keys) was fetched.
func (p *Provider) KeyFetches() int { return int(p.keyFetches.Load()) }

// Start runs a provider on a local port until the test ends.
func Start(t testing.TB) *Provider {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String() + "/"
	p := &Provider{Issuer: issuer, Server: srv, users: &userStore{users: map[string]*storage.User{}}, clients: map[string]*storage.Client{}}
	p.store = storage.NewStorageWithClients(p.users, p.clients)
	p.keys = []*signingKey{newKey(t)}
	op := exampleop.SetupServer(issuer, &rotatingStorage{Storage: p.store, p: p}, nil, false)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/keys" {
			p.keyFetches.Add(1)
		}
		op.ServeHTTP(w, r)
	})
	srv.Start()
	t.Cleanup(srv.Close)
	return p
}

// AddClient registers a confidential web client (client_secret_basic) that
// may redirect to redirectURIs. Call it before the client is used.
func (p *Provider) AddClient(id, secret string, redirectURIs ...string) {
	p.clients[id] = storage.WebClient(id, secret, redirectURIs...)
}

// AddUser registers a user who signs in with username and password; the
// user's subject is id.
func (p *Provider) AddUser(id, username, password, email string, emailVerified bool) {
	p.users.mu.Lock()
	defer p.users.mu.Unlock()
	p.users.users[id] = &storage.User{ID: id, Username: username, Password: password, FirstName: "Test", LastName: username,
		Email: email, EmailVerified: emailVerified, PreferredLanguage: language.English}
}

// Rotate makes a new key the signing key. With retire, the old keys leave the
// published key set (a token they signed can no longer be verified);
// without, they stay published. It returns the key that signed until now.
func (p *Provider) Rotate(t testing.TB, retire bool) (old *rsa.PrivateKey, oldID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	last := p.keys[len(p.keys)-1]
	if retire {
		p.keys = nil
	}
	p.keys = append(p.keys, newKey(t))
	return last.key, last.id
}

// Sign returns a JWT of claims signed with the provider's current key (RS256).
func (p *Provider) Sign(t testing.TB, claims map[string]any) string {
	p.mu.Lock()
	k := p.keys[len(p.keys)-1]
	p.mu.Unlock()
	return SignWith(t, jose.RS256, k.key, k.id, claims)
}

// PublicKeyPEM returns the current public key in PEM, as anyone who read the
// JWKS can write it: the key of the classic forgery, an HS256 token "signed"
// with the public key.
func (p *Provider) PublicKeyPEM(t testing.TB) []byte {
	p.mu.Lock()
	k := p.keys[len(p.keys)-1]
	p.mu.Unlock()
	der, err := x509.MarshalPKIXPublicKey(&k.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// CurrentKeyID returns the kid of the signing key.
func (p *Provider) CurrentKeyID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.keys[len(p.keys)-1].id
}

// SignWith returns a JWT of claims signed with key under alg and kid.
func SignWith(t testing.TB, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Unsigned returns a JWT of claims with alg "none" and no signature.
func Unsigned(claims map[string]any) string {
	enc := base64.RawURLEncoding
	head, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	body, _ := json.Marshal(claims)
	return enc.EncodeToString(head) + "." + enc.EncodeToString(body) + "."
}

// Login drives the provider's login form for the sign-in a browser (client,
// with a cookie jar) started by following startURL, and returns the final
// response after every redirect, e.g. Cairn's callback.
func (p *Provider) Login(t testing.TB, client *http.Client, startURL, username, password string) *http.Response {
	t.Helper()
	res, err := client.Get(startURL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	id := res.Request.URL.Query().Get("authRequestID")
	if id == "" || !strings.HasPrefix(res.Request.URL.String(), p.Issuer) {
		t.Fatalf("the sign-in did not reach the provider's login page: ended at %s with status %d", res.Request.URL, res.StatusCode)
	}
	res, err = client.PostForm(p.Issuer+"login/username", map[string][]string{"id": {id}, "username": {username}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct{ k *signingKey }

func (k publicKey) ID() string                         { return k.k.id }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.k.key.PublicKey }

var keySeq struct {
	sync.Mutex
	n int
}

func newKey(t testing.TB) *signingKey {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keySeq.Lock()
	keySeq.n++
	n := keySeq.n
	keySeq.Unlock()
	return &signingKey{id: fmt.Sprintf("key-%d", n), key: key}
}

// rotatingStorage is the example storage with the provider's rotatable keys.
type rotatingStorage struct {
	*storage.Storage
	p *Provider
}

func (s *rotatingStorage) SigningKey(context.Context) (op.SigningKey, error) {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	return s.p.keys[len(s.p.keys)-1], nil
}

func (s *rotatingStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *rotatingStorage) KeySet(context.Context) ([]op.Key, error) {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	keys := make([]op.Key, len(s.p.keys))
	for i, k := range s.p.keys {
		keys[i] = publicKey{k}
	}
	return keys, nil
}

// userStore is the example's user store, with users added by tests.
type userStore struct {
	mu    sync.Mutex
	users map[string]*storage.User
}

func (u *userStore) GetUserByID(id string) *storage.User {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.users[id]
}

func (u *userStore) GetUserByUsername(name string) *storage.User {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, user := range u.users {
		if user.Username == name {
			return user
		}
	}
	return nil
}

func (u *userStore) ExampleClientID() string { return storage.ServiceUserID }
