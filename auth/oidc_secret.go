package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/cairn-dev/cairn"
)

// SecretKeySize is the size of the key that seals secrets at rest (AES-256).
const SecretKeySize = 32

// SecretBox seals secrets at rest (the client secrets of identity providers,
// the state of sign-ins in progress) with AES-256-GCM. It is safe for
// concurrent use. A nil *SecretBox seals nothing: Seal and Open answer
// FAILED_PRECONDITION.
type SecretBox struct{ aead cipher.AEAD }

// NewSecretKey returns a new random key for NewSecretBox.
func NewSecretKey() ([]byte, error) {
	k := make([]byte, SecretKeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("auth: generating secret key: %w", err)
	}
	return k, nil
}

// ParseSecretKey decodes a key written as 64 hex digits or as base64 (standard
// or URL alphabet, padded or not) of 32 bytes.
func ParseSecretKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == SecretKeySize {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == SecretKeySize {
			return b, nil
		}
	}
	return nil, errors.New("the secret key must be 32 bytes, written as 64 hex digits or in base64 (e.g. openssl rand -base64 32)")
}

// NewSecretBox returns a SecretBox that seals with key, which must be
// SecretKeySize bytes.
func NewSecretBox(key []byte) (*SecretBox, error) {
	if len(key) != SecretKeySize {
		return nil, fmt.Errorf("auth: secret key is %d bytes, not %d", len(key), SecretKeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("auth: secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("auth: secret key: %w", err)
	}
	return &SecretBox{aead: aead}, nil
}

var errNoSecretKey = cairn.Errorf(cairn.EFAILEDPRECONDITION, "This Cairn server has no secret key to encrypt secrets with; start it with --secret-key or CAIRN_SECRET_KEY.")

// Seal encrypts plaintext, bound to context (which Open must be given too).
// Returns FAILED_PRECONDITION when b is nil.
func (b *SecretBox) Seal(plaintext []byte, context string) ([]byte, error) {
	if b == nil {
		return nil, errNoSecretKey
	}
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("auth: generating nonce: %w", err)
	}
	return b.aead.Seal(nonce, nonce, plaintext, []byte(context)), nil
}

// Open decrypts what Seal sealed with the same context. Returns
// FAILED_PRECONDITION when b is nil; any other failure (another key, altered
// data, another context) is an error without a code, INTERNAL to clients.
func (b *SecretBox) Open(sealed []byte, context string) ([]byte, error) {
	if b == nil {
		return nil, errNoSecretKey
	}
	n := b.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("auth: sealed secret is too short")
	}
	out, err := b.aead.Open(nil, sealed[:n], sealed[n:], []byte(context))
	if err != nil {
		return nil, errors.New("auth: cannot open sealed secret (was it sealed with another key?)")
	}
	return out, nil
}
