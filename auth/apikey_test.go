package auth_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/auth"
)

func TestNewAPIKey(t *testing.T) {
	t.Parallel()
	key, hash, prefix, err := auth.NewAPIKey()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, auth.APIKeyPrefix) || !strings.HasPrefix(key, prefix) || len(prefix) >= len(key)-32 {
		t.Errorf("key %q, prefix %q", key, prefix)
	}
	if hash != auth.HashAPIKey(key) || strings.Contains(hash, key[len(auth.APIKeyPrefix):]) {
		t.Errorf("hash %q of %q", hash, key)
	}
	other, _, _, _ := auth.NewAPIKey()
	if other == key {
		t.Error("two keys are equal")
	}
}

func TestAPIKeyAuthenticator(t *testing.T) {
	t.Parallel()
	key, hash, _, _ := auth.NewAPIKey()
	want := &cairn.Principal{APIKeyID: "apikey-1"}
	a := auth.APIKeyAuthenticator(func(_ context.Context, h string) (*cairn.Principal, error) {
		if h != hash {
			return nil, cairn.Errorf(cairn.EUNAUTHENTICATED, "unknown")
		}
		return want, nil
	})
	for _, tc := range []struct {
		name, token string
		want        *cairn.Principal
		code        string
	}{
		{"Key", key, want, ""},
		{"DeclinesJWT", "eyJhbGciOiJFZERTQSJ9.e30.sig", nil, ""},
		{"ErrUnknownKey", auth.APIKeyPrefix + "nope", nil, cairn.EUNAUTHENTICATED},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := a(context.Background(), tc.token)
			if p != tc.want || cairn.ErrorCode(err) != tc.code {
				t.Errorf("got %v, %v; want %v, code %q", p, err, tc.want, tc.code)
			}
		})
	}
}

func TestSecretBox(t *testing.T) {
	t.Parallel()
	key, err := auth.NewSecretKey()
	if err != nil {
		t.Fatal(err)
	}
	box, err := auth.NewSecretBox(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := box.Seal([]byte("client-secret"), "ctx")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("client-secret")) {
		t.Fatal("sealed text holds the plaintext")
	}
	if got, err := box.Open(sealed, "ctx"); err != nil || string(got) != "client-secret" {
		t.Errorf("Open = %q, %v", got, err)
	}
	if _, err := box.Open(sealed, "other"); err == nil {
		t.Error("opened under another context")
	}
	other, _ := auth.NewSecretKey()
	otherBox, _ := auth.NewSecretBox(other)
	if _, err := otherBox.Open(sealed, "ctx"); err == nil {
		t.Error("opened with another key")
	}
	var none *auth.SecretBox
	if _, err := none.Seal([]byte("x"), "ctx"); cairn.ErrorCode(err) != cairn.EFAILEDPRECONDITION {
		t.Errorf("nil box: %v", err)
	}
	for _, s := range []string{hex.EncodeToString(key), base64.StdEncoding.EncodeToString(key), base64.RawURLEncoding.EncodeToString(key)} {
		if got, err := auth.ParseSecretKey(s); err != nil || !bytes.Equal(got, key) {
			t.Errorf("ParseSecretKey(%q) = %x, %v", s, got, err)
		}
	}
	if _, err := auth.ParseSecretKey("too-short"); err == nil {
		t.Error("ParseSecretKey accepted a short key")
	}
}
