package auth_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/auth"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const issuer = "https://cairn.test"

// t0 is the fixed clock of the tests.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testKey returns a deterministic key: seed byte n, ID id, created at t0 plus age.
func testKey(n byte, id string, age time.Duration) auth.Key {
	return auth.Key{
		ID:        id,
		Private:   ed25519.NewKeyFromSeed(bytes.Repeat([]byte{n}, ed25519.SeedSize)),
		CreatedAt: t0.Add(age),
	}
}

var (
	keyOld   = testKey(1, "old", -48*time.Hour)
	keyNew   = testKey(2, "new", -time.Hour)
	keyOther = testKey(3, "other", 0)
)

// newTokens returns a Tokens for issuer with a one-hour lifetime, its clock at t0.
func newTokens(t *testing.T, iss string, keys ...auth.Key) *auth.Tokens {
	t.Helper()
	tokens, err := auth.NewTokens(iss, time.Hour, keys)
	if err != nil {
		t.Fatal(err)
	}
	tokens.Now = func() time.Time { return t0 }
	return tokens
}

func sign(t *testing.T, tokens *auth.Tokens, userID string) string {
	t.Helper()
	token, _, err := tokens.Sign(userID)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// signClaims signs claims with key k as alg EdDSA, without going through Tokens.
func signClaims(t *testing.T, k auth.Key, kid string, claims any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: jose.JSONWebKey{Key: k.Private, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	token, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func b64url(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestTokens_RoundTrip(t *testing.T) {
	t.Parallel()
	tokens := newTokens(t, issuer, keyNew)
	token, expiresAt, err := tokens.Sign("user-abc123")
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(time.Hour); !expiresAt.Equal(want) {
		t.Errorf("expiresAt = %v, want %v", expiresAt, want)
	}
	userID, err := tokens.Verify(token)
	if err != nil || userID != "user-abc123" {
		t.Fatalf("Verify = %q, %v; want user-abc123, nil", userID, err)
	}

	// The header and claims are those promised to other verifiers.
	parts := strings.Split(token, ".")
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var h map[string]any
	if err := json.Unmarshal(header, &h); err != nil {
		t.Fatal(err)
	}
	if h["alg"] != "EdDSA" || h["kid"] != "new" || h["typ"] != "JWT" {
		t.Errorf("header = %s, want alg EdDSA, kid new, typ JWT", header)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	now, exp := float64(t0.Unix()), float64(t0.Add(time.Hour).Unix())
	if c["iss"] != issuer || c["sub"] != "user-abc123" || c["iat"] != now || c["nbf"] != now || c["exp"] != exp {
		t.Errorf("claims = %s, want iss, sub, iat, nbf and exp of the token", payload)
	}
	if jti, _ := c["jti"].(string); !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(jti) {
		t.Errorf("jti = %q, want 32 hex characters", c["jti"])
	}
	if again := sign(t, tokens, "user-abc123"); again == token {
		t.Error("two tokens for the same user at the same time are equal; jti is not random")
	}
}

func TestTokens_Leeway(t *testing.T) {
	t.Parallel()
	tokens := newTokens(t, issuer, keyNew)
	token := sign(t, tokens, "user-abc123")
	for _, at := range []time.Time{t0.Add(-29 * time.Second), t0.Add(time.Hour + 29*time.Second)} {
		tokens.Now = func() time.Time { return at }
		if _, err := tokens.Verify(token); err != nil {
			t.Errorf("Verify at %v = %v, want the token accepted within the 30 s leeway", at, err)
		}
	}
}

func TestTokens_Verify(t *testing.T) {
	t.Parallel()
	pubNew := keyNew.Private.Public().(ed25519.PublicKey)

	for _, tt := range []struct {
		name  string
		token func(t *testing.T) string
		now   time.Time // of the verifier; t0 if zero
		want  string
	}{
		{
			name:  "ErrExpired",
			token: func(t *testing.T) string { return sign(t, newTokens(t, issuer, keyNew), "user-1") },
			now:   t0.Add(time.Hour + 31*time.Second),
			want:  "The bearer token has expired. Sign in again to get a new token.",
		},
		{
			name:  "ErrNotYetValid",
			token: func(t *testing.T) string { return sign(t, newTokens(t, issuer, keyNew), "user-1") },
			now:   t0.Add(-31 * time.Second),
			want:  "The bearer token is not valid yet (the issuer's clock may be ahead). Sign in again to get a new token.",
		},
		{
			name: "ErrIssuedInTheFuture",
			token: func(t *testing.T) string {
				return signClaims(t, keyNew, "new", jwt.Claims{Issuer: issuer, Subject: "user-1",
					IssuedAt: jwt.NewNumericDate(t0.Add(time.Minute)), Expiry: jwt.NewNumericDate(t0.Add(time.Hour))})
			},
			want: "The bearer token is not valid yet (the issuer's clock may be ahead). Sign in again to get a new token.",
		},
		{
			name:  "ErrWrongIssuer",
			token: func(t *testing.T) string { return sign(t, newTokens(t, "https://evil.test", keyNew), "user-1") },
			want:  "The bearer token was issued by another issuer, not this Cairn server. Sign in to this server to get a token.",
		},
		{
			name: "ErrAlgNone",
			token: func(t *testing.T) string {
				claims := `{"iss":"` + issuer + `","sub":"user-1","exp":` + jsonTime(t0.Add(time.Hour)) + `}`
				return b64url(`{"alg":"none","typ":"JWT","kid":"new"}`) + "." + b64url(claims) + "."
			},
			want: "The bearer token is signed with an algorithm Cairn does not accept (only EdDSA). Sign in again to get a new token.",
		},
		{
			name: "ErrHS256WithPublicKey",
			token: func(t *testing.T) string {
				// The classic confusion attack: the public key, which anyone
				// can read from the JWKS, used as an HMAC secret.
				signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256,
					Key: jose.JSONWebKey{Key: []byte(pubNew), KeyID: "new"}}, (&jose.SignerOptions{}).WithType("JWT"))
				if err != nil {
					t.Fatal(err)
				}
				token, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: issuer, Subject: "user-1",
					Expiry: jwt.NewNumericDate(t0.Add(time.Hour))}).Serialize()
				if err != nil {
					t.Fatal(err)
				}
				return token
			},
			want: "The bearer token is signed with an algorithm Cairn does not accept (only EdDSA). Sign in again to get a new token.",
		},
		{
			name:  "ErrUnknownKey",
			token: func(t *testing.T) string { return sign(t, newTokens(t, issuer, keyOther), "user-1") },
			want:  "The bearer token is signed by a key this server does not know (it may have been retired). Sign in again to get a new token.",
		},
		{
			name:  "ErrRotatedOutKey",
			token: func(t *testing.T) string { return sign(t, newTokens(t, issuer, keyOld), "user-1") },
			want:  "The bearer token is signed by a key this server does not know (it may have been retired). Sign in again to get a new token.",
		},
		{
			name: "ErrNoKeyID",
			token: func(t *testing.T) string {
				return signClaims(t, keyNew, "", jwt.Claims{Issuer: issuer, Subject: "user-1", Expiry: jwt.NewNumericDate(t0.Add(time.Hour))})
			},
			want: "The bearer token is signed by a key this server does not know (it may have been retired). Sign in again to get a new token.",
		},
		{
			name: "ErrKnownKeyIDOtherKey",
			token: func(t *testing.T) string {
				return signClaims(t, keyOther, "new", jwt.Claims{Issuer: issuer, Subject: "user-1", Expiry: jwt.NewNumericDate(t0.Add(time.Hour))})
			},
			want: "The bearer token's signature is invalid (the token was altered or forged). Sign in again to get a new token.",
		},
		{
			name: "ErrTamperedPayload",
			token: func(t *testing.T) string {
				parts := strings.Split(sign(t, newTokens(t, issuer, keyNew), "user-1"), ".")
				claims := `{"iss":"` + issuer + `","sub":"user-admin","exp":` + jsonTime(t0.Add(time.Hour)) + `}`
				return parts[0] + "." + b64url(claims) + "." + parts[2]
			},
			want: "The bearer token's signature is invalid (the token was altered or forged). Sign in again to get a new token.",
		},
		{
			name: "ErrNoExpiry",
			token: func(t *testing.T) string {
				return signClaims(t, keyNew, "new", jwt.Claims{Issuer: issuer, Subject: "user-1"})
			},
			want: "The bearer token is malformed: it is not a Cairn session token. Sign in again to get a new one.",
		},
		{
			name: "ErrNoSubject",
			token: func(t *testing.T) string {
				return signClaims(t, keyNew, "new", jwt.Claims{Issuer: issuer, Expiry: jwt.NewNumericDate(t0.Add(time.Hour))})
			},
			want: "The bearer token is malformed: it is not a Cairn session token. Sign in again to get a new one.",
		},
		{
			name: "ErrClaimsNotJSON",
			token: func(t *testing.T) string {
				return signClaims(t, keyNew, "new", map[string]any{"iss": issuer, "sub": 42})
			},
			want: "The bearer token is malformed: it is not a Cairn session token. Sign in again to get a new one.",
		},
		{
			name:  "ErrGarbage",
			token: func(*testing.T) string { return "not-a-token" },
			want:  "The bearer token is malformed: it is not a Cairn session token. Sign in again to get a new one.",
		},
		{
			name:  "ErrThreeGarbageParts",
			token: func(*testing.T) string { return "a.b.c" },
			want:  "The bearer token is malformed: it is not a Cairn session token. Sign in again to get a new one.",
		},
		{
			name:  "ErrEmpty",
			token: func(*testing.T) string { return "" },
			want:  "The bearer token is malformed: it is not a Cairn session token. Sign in again to get a new one.",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			token := tt.token(t)
			verifier := newTokens(t, issuer, keyNew)
			if !tt.now.IsZero() {
				verifier.Now = func() time.Time { return tt.now }
			}
			userID, err := verifier.Verify(token)
			if userID != "" {
				t.Errorf("userID = %q, want none", userID)
			}
			if code := cairn.ErrorCode(err); code != cairn.EUNAUTHENTICATED {
				t.Fatalf("code = %q, want %q (err %v)", code, cairn.EUNAUTHENTICATED, err)
			}
			if msg := cairn.ErrorMessage(err); msg != tt.want {
				t.Errorf("message = %q, want %q", msg, tt.want)
			}
			if token != "" && strings.Contains(err.Error(), token) {
				t.Errorf("error %q quotes the token", err)
			}
		})
	}
}

// jsonTime returns tm as a JWT NumericDate.
func jsonTime(tm time.Time) string {
	b, _ := json.Marshal(tm.Unix())
	return string(b)
}

func TestTokens_KeyRotation(t *testing.T) {
	t.Parallel()
	oldToken := sign(t, newTokens(t, issuer, keyOld), "user-1")

	// Whatever the order of the keys, the newest signs and all verify.
	for _, keys := range [][]auth.Key{{keyOld, keyNew}, {keyNew, keyOld}} {
		tokens := newTokens(t, issuer, keys...)
		if userID, err := tokens.Verify(oldToken); err != nil || userID != "user-1" {
			t.Errorf("keys %s, %s: Verify(token of the old key) = %q, %v; want user-1", keys[0].ID, keys[1].ID, userID, err)
		}
		token := sign(t, tokens, "user-2")
		if kid := keyID(t, token); kid != "new" {
			t.Errorf("keys %s, %s: new token has kid %q, want new", keys[0].ID, keys[1].ID, kid)
		}
		if _, err := newTokens(t, issuer, keyNew).Verify(token); err != nil {
			t.Errorf("the new key alone does not verify a new token: %v", err)
		}
	}
}

func keyID(t *testing.T, token string) string {
	t.Helper()
	parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	return parsed.Headers[0].KeyID
}

func TestNewTokens_Errors(t *testing.T) {
	t.Parallel()
	short := keyNew
	short.Private = short.Private[:ed25519.SeedSize]
	for _, tt := range []struct {
		name   string
		issuer string
		ttl    time.Duration
		keys   []auth.Key
		want   string
	}{
		{"ErrNoIssuer", "", time.Hour, []auth.Key{keyNew}, "auth: token issuer is empty"},
		{"ErrZeroTTL", issuer, 0, []auth.Key{keyNew}, "auth: token lifetime 0s is not positive"},
		{"ErrNoKeys", issuer, time.Hour, nil, "auth: no signing keys"},
		{"ErrNoKeyID", issuer, time.Hour, []auth.Key{testKey(4, "", 0)}, "auth: a signing key has no ID"},
		{"ErrDuplicateKeyID", issuer, time.Hour, []auth.Key{keyNew, testKey(4, "new", 0)}, `auth: two signing keys have the ID "new"`},
		{"ErrNotPrivateKey", issuer, time.Hour, []auth.Key{short}, `auth: signing key "new" is not an Ed25519 private key`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := auth.NewTokens(tt.issuer, tt.ttl, tt.keys)
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestTokens_SignEmptyUser(t *testing.T) {
	t.Parallel()
	_, _, err := newTokens(t, issuer, keyNew).Sign("")
	if err == nil || err.Error() != "auth: signing a token for an empty user ID" {
		t.Errorf("err = %v, want the empty user ID refused", err)
	}
}

func TestNewKey(t *testing.T) {
	t.Parallel()
	a, err := auth.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := auth.NewKey()
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(a.ID) || a.ID == b.ID {
		t.Errorf("IDs = %q, %q; want two different 16-hex-character IDs", a.ID, b.ID)
	}
	if len(a.Private) != ed25519.PrivateKeySize || a.CreatedAt.IsZero() {
		t.Errorf("key = %+v, want an Ed25519 private key and a creation time", a)
	}
	tokens, err := auth.NewTokens(issuer, time.Hour, []auth.Key{a})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.Verify(sign(t, tokens, "user-1")); err != nil {
		t.Errorf("a token signed with a new key does not verify: %v", err)
	}
}

func TestTokens_JWKS(t *testing.T) {
	t.Parallel()
	tokens := newTokens(t, issuer, keyOld, keyNew)

	var set struct{ Keys []map[string]any }
	if err := json.Unmarshal(tokens.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 2 {
		t.Fatalf("JWKS has %d keys, want 2: %s", len(set.Keys), tokens.JWKS())
	}
	for i, k := range []auth.Key{keyOld, keyNew} {
		got := set.Keys[i]
		x := base64.RawURLEncoding.EncodeToString(k.Private.Public().(ed25519.PublicKey))
		if got["kid"] != k.ID || got["alg"] != "EdDSA" || got["kty"] != "OKP" || got["crv"] != "Ed25519" || got["x"] != x || got["use"] != "sig" {
			t.Errorf("key %d = %v, want kid %s, alg EdDSA, the OKP Ed25519 public key and use sig", i, got, k.ID)
		}
		if _, ok := got["d"]; ok {
			t.Errorf("key %d carries its private part d", i)
		}
	}

	// Another service can verify our tokens with the published set alone.
	var published jose.JSONWebKeySet
	if err := json.Unmarshal(tokens.JWKS(), &published); err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.ParseSigned(sign(t, tokens, "user-1"), []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var claims jwt.Claims
	if err := parsed.Claims(published, &claims); err != nil || claims.Subject != "user-1" {
		t.Errorf("verifying with the published JWKS: subject %q, err %v", claims.Subject, err)
	}
}

func TestTokens_JWKSHandler(t *testing.T) {
	t.Parallel()
	tokens := newTokens(t, issuer, keyOld, keyNew)
	h := tokens.JWKSHandler()

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "public, max-age=300" {
		t.Errorf("Cache-Control = %q, want public, max-age=300", cc)
	}
	if !bytes.Equal(rec.Body.Bytes(), tokens.JWKS()) {
		t.Errorf("body = %s, want JWKS()", rec.Body)
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/.well-known/jwks.json", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: status %d, Allow %q; want 405 and GET, HEAD", rec.Code, rec.Header().Get("Allow"))
	}
}
