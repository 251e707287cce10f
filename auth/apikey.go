package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/cairn-dev/cairn"
)

// APIKeyPrefix starts every API key, so that the middleware tells keys from
// JWTs without a lookup, and secret scanners can find leaked keys.
const APIKeyPrefix = "cairn_ak_"

// NewAPIKey returns a new random API key (shown to its creator once), the
// hash to store, and its first characters, by which a person can recognise
// it. It fails only if the system's random source fails.
func NewAPIKey() (key, hash, prefix string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", "", fmt.Errorf("auth: generating API key: %w", err)
	}
	key = APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return key, HashAPIKey(key), key[:len(APIKeyPrefix)+6], nil
}

// HashAPIKey returns the stored form of an API key: its SHA-256 in hex. The
// key has 256 bits of entropy, so a fast hash is as good as a slow one and
// lets the store find a key by its hash.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// APIKeyLookupFunc returns the principal of the API key with the hash, or
// UNAUTHENTICATED (store.Store.APIKeyPrincipal is one).
type APIKeyLookupFunc func(ctx context.Context, hash string) (*cairn.Principal, error)

// APIKeyAuthenticator accepts API keys: tokens that start with APIKeyPrefix.
// It declines every other token. Returns UNAUTHENTICATED for an unknown,
// revoked or expired key, as lookup does.
func APIKeyAuthenticator(lookup APIKeyLookupFunc) Authenticator {
	return func(ctx context.Context, token string) (*cairn.Principal, error) {
		if !strings.HasPrefix(token, APIKeyPrefix) {
			return nil, nil
		}
		p, err := lookup(ctx, HashAPIKey(token))
		if err != nil {
			return nil, err
		} else if p == nil {
			return nil, fmt.Errorf("auth: API key lookup returned neither a principal nor an error")
		}
		return p, nil
	}
}
