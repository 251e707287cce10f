// Package auth signs and verifies Cairn's session tokens, hashes passwords, and
// turns a request's Authorization header into a cairn.Principal.
package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Leeway is how far the clocks of the signer and the verifier may disagree:
// Verify accepts a token up to Leeway after it expires or before it is valid.
const Leeway = 30 * time.Second

// Key is an Ed25519 key that signs session tokens. ID becomes the JWT's kid.
type Key struct {
	ID        string
	Private   ed25519.PrivateKey
	CreatedAt time.Time
}

// NewKey returns a new random key with a random 16-hex-character ID, created now.
func NewKey() (Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Key{}, fmt.Errorf("auth: generating key: %w", err)
	}
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return Key{}, fmt.Errorf("auth: generating key ID: %w", err)
	}
	return Key{ID: hex.EncodeToString(id[:]), Private: priv, CreatedAt: time.Now()}, nil
}

// Tokens signs and verifies session tokens: EdDSA JWTs signed with the newest
// of its keys and verified with any of them, so that keys can be rotated by
// adding a new key and, once the tokens it signed have expired, dropping the old.
// A Tokens is safe for concurrent use; set Now only before first use.
type Tokens struct {
	// Now returns the current time; tests replace it. Never nil.
	Now func() time.Time

	issuer string
	ttl    time.Duration
	signer jose.Signer
	public map[string]ed25519.PublicKey // by key ID
	jwks   []byte
}

// NewTokens returns a Tokens that issues tokens as issuer, valid for ttl. It
// signs with the key of the latest CreatedAt (the later in keys on a tie) and
// verifies with all of them. It fails if issuer is empty, ttl is not positive,
// keys is empty, or a key has an empty or duplicate ID or is not a valid
// Ed25519 private key: configuration errors, INTERNAL to cairn.ErrorCode.
func NewTokens(issuer string, ttl time.Duration, keys []Key) (*Tokens, error) {
	switch {
	case issuer == "":
		return nil, errors.New("auth: token issuer is empty")
	case ttl <= 0:
		return nil, fmt.Errorf("auth: token lifetime %v is not positive", ttl)
	case len(keys) == 0:
		return nil, errors.New("auth: no signing keys")
	}
	t := &Tokens{Now: time.Now, issuer: issuer, ttl: ttl, public: make(map[string]ed25519.PublicKey)}
	var set jose.JSONWebKeySet
	newest := keys[0]
	for _, k := range keys {
		if k.ID == "" {
			return nil, errors.New("auth: a signing key has no ID")
		} else if _, dup := t.public[k.ID]; dup {
			return nil, fmt.Errorf("auth: two signing keys have the ID %q", k.ID)
		} else if len(k.Private) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("auth: signing key %q is not an Ed25519 private key", k.ID)
		}
		pub := k.Private.Public().(ed25519.PublicKey)
		t.public[k.ID] = pub
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: pub, KeyID: k.ID, Algorithm: string(jose.EdDSA), Use: "sig"})
		if !k.CreatedAt.Before(newest.CreatedAt) {
			newest = k
		}
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.EdDSA, Key: jose.JSONWebKey{Key: newest.Private, KeyID: newest.ID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("auth: signer for key %q: %w", newest.ID, err)
	}
	t.signer = signer
	if t.jwks, err = json.Marshal(set); err != nil {
		return nil, fmt.Errorf("auth: encoding key set: %w", err)
	}
	return t, nil
}

// Sign returns a session token for the user and the time it expires (whole
// seconds, as in the token). It fails only if userID is empty or the system's
// random source fails, both INTERNAL to cairn.ErrorCode.
func (t *Tokens) Sign(userID string) (token string, expiresAt time.Time, err error) {
	if userID == "" {
		return "", time.Time{}, errors.New("auth: signing a token for an empty user ID")
	}
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", time.Time{}, fmt.Errorf("auth: generating token ID: %w", err)
	}
	now := t.Now().Truncate(time.Second)
	expiresAt = now.Add(t.ttl)
	token, err = jwt.Signed(t.signer).Claims(jwt.Claims{
		Issuer:    t.issuer,
		Subject:   userID,
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		Expiry:    jwt.NewNumericDate(expiresAt),
		ID:        hex.EncodeToString(jti[:]),
	}).Serialize()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: signing token: %w", err)
	}
	return token, expiresAt, nil
}

// Messages of the errors Verify returns. None of them quotes the token.
const (
	msgMalformed    = "The bearer token is malformed: it is not a Cairn session token. Sign in again to get a new one."
	msgAlgorithm    = "The bearer token is signed with an algorithm Cairn does not accept (only EdDSA). Sign in again to get a new token."
	msgUnknownKey   = "The bearer token is signed by a key this server does not know (it may have been retired). Sign in again to get a new token."
	msgBadSignature = "The bearer token's signature is invalid (the token was altered or forged). Sign in again to get a new token."
	msgWrongIssuer  = "The bearer token was issued by another issuer, not this Cairn server. Sign in to this server to get a token."
	msgExpired      = "The bearer token has expired. Sign in again to get a new token."
	msgNotYetValid  = "The bearer token is not valid yet (the issuer's clock may be ahead). Sign in again to get a new token."
)

// Verify checks token's signature, key, issuer and validity period (with
// Leeway) and returns the user it was issued to. Only EdDSA tokens signed by
// one of t's keys are accepted. Returns UNAUTHENTICATED, with a message that
// says whether the token is malformed, signed with another algorithm, signed
// by an unknown key, badly signed, from another issuer, expired or not yet
// valid.
func (t *Tokens) Verify(token string) (userID string, err error) {
	fail := func(msg string) (string, error) { return "", cairn.Errorf(cairn.EUNAUTHENTICATED, "%s", msg) }

	parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.EdDSA})
	if _, ok := errors.AsType[*jose.ErrUnexpectedSignatureAlgorithm](err); ok {
		return fail(msgAlgorithm)
	} else if err != nil || len(parsed.Headers) != 1 {
		return fail(msgMalformed)
	}
	pub, ok := t.public[parsed.Headers[0].KeyID]
	if !ok {
		return fail(msgUnknownKey)
	}
	var claims jwt.Claims
	if err := parsed.Claims(pub, &claims); errors.Is(err, jose.ErrCryptoFailure) {
		return fail(msgBadSignature)
	} else if err != nil || claims.Subject == "" || claims.Expiry == nil {
		return fail(msgMalformed)
	}
	err = claims.ValidateWithLeeway(jwt.Expected{Issuer: t.issuer, Time: t.Now()}, Leeway)
	switch {
	case err == nil:
		return claims.Subject, nil
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return fail(msgWrongIssuer)
	case errors.Is(err, jwt.ErrExpired):
		return fail(msgExpired)
	case errors.Is(err, jwt.ErrNotValidYet), errors.Is(err, jwt.ErrIssuedInTheFuture):
		return fail(msgNotYetValid)
	}
	return fail(msgMalformed)
}

// JWKS returns the JSON Web Key Set of t's public keys, each with its kid,
// alg EdDSA and use sig, so that other services can verify Cairn's tokens.
func (t *Tokens) JWKS() []byte {
	return append([]byte(nil), t.jwks...)
}

// JWKSHandler serves JWKS as application/json, cacheable for five minutes,
// to GET and HEAD requests.
func (t *Tokens) JWKSHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "Use GET to read the key set.", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(t.jwks)
	})
}
