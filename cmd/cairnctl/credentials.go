package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// credentials is what signin stores: the token and the Cairn it is for.
type credentials struct {
	URL       string    `json:"url"`
	Token     string    `json:"token"`
	Email     string    `json:"email,omitempty"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

// configDir returns cairnctl's folder: CAIRN_CONFIG_DIR, or cairn/ under the
// user's config directory (~/.config/cairn on Linux).
func configDir(getenv func(string) string) (string, error) {
	if d := getenv("CAIRN_CONFIG_DIR"); d != "" {
		return d, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no config directory (%w); set CAIRN_CONFIG_DIR", err)
	}
	return filepath.Join(base, "cairn"), nil
}

func credentialsPath(dir string) string { return filepath.Join(dir, "credentials.json") }

// loadCredentials reads the stored credentials; none stored is not an error.
func loadCredentials(dir string) (*credentials, error) {
	raw, err := os.ReadFile(credentialsPath(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var c credentials
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("%s is not valid JSON (%v); sign in again or delete it", credentialsPath(dir), err)
	}
	return &c, nil
}

// saveCredentials writes the credentials readable by the user only (0600),
// replacing the file atomically.
func saveCredentials(dir string, c *credentials) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	raw, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, ".credentials-*.json")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return "", err
	}
	if _, err := f.Write(append(raw, '\n')); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	path := credentialsPath(dir)
	return path, os.Rename(f.Name(), path)
}

// removeCredentials deletes the stored credentials; none stored is not an error.
func removeCredentials(dir string) (bool, error) {
	err := os.Remove(credentialsPath(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}
