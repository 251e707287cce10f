package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cairn-dev/cairn/auth"
)

// secretKeyFile is where the private PostgreSQL mode keeps a generated
// secret key, next to its database.
const secretKeyFile = "secret.key"

// secrets returns the box that seals identity providers' client secrets:
// from --secret-key; else, with the private PostgreSQL, from a key generated
// once into --data-dir; else nil, and identity providers cannot be
// registered (they answer FAILED_PRECONDITION until a key is set). The key is
// never logged.
func (m *Main) secrets() (*auth.SecretBox, error) {
	if m.Config.SecretKey != "" {
		key, err := auth.ParseSecretKey(m.Config.SecretKey)
		if err != nil {
			return nil, usageError{"--secret-key (CAIRN_SECRET_KEY): " + err.Error()}
		}
		return auth.NewSecretBox(key)
	}
	if m.pg == nil {
		m.log.Warn("no --secret-key (CAIRN_SECRET_KEY): identity providers cannot be registered and their sign-ins are off; set one shared by every replica (openssl rand -base64 32)")
		return nil, nil
	}
	path := filepath.Join(m.Config.DataDir, secretKeyFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key, err := auth.NewSecretKey()
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create %s: %w", m.Config.DataDir, err)
		}
		if err := os.WriteFile(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("write the secret key: %w", err)
		}
		m.log.Info("generated a secret key for identity providers' client secrets", "file", path)
		return auth.NewSecretBox(key)
	} else if err != nil {
		return nil, fmt.Errorf("read the secret key: %w", err)
	}
	key, err := auth.ParseSecretKey(strings.TrimSpace(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("the secret key in %s: %w", path, err)
	}
	return auth.NewSecretBox(key)
}
