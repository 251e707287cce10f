package server

import (
	"container/list"
	"context"
	"testing"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/auth"
)

// TestCachedSession checks that remembering verified tokens changes nothing
// a client can see: a token is accepted until it expires (plus the leeway),
// a tampered one never, and the principal is looked up on every request.
func TestCachedSession(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tokens, token, exp := signedSession(t, func() time.Time { return now })
	lookups := 0
	a := cachedSession(tokens, func(_ context.Context, id string) (*cairn.Principal, error) {
		lookups++
		return &cairn.Principal{UserID: id}, nil
	})
	tests := []struct {
		name  string
		at    time.Time
		token string
		code  string // "" accepts
	}{
		{"First", now, token, ""},
		{"Remembered", now, token, ""},
		{"WithinLeeway", exp.Add(auth.Leeway - time.Second), token, ""},
		{"Expired", exp.Add(auth.Leeway + time.Second), token, cairn.EUNAUTHENTICATED},
		{"Tampered", now, token[:len(token)-2] + "xx", cairn.EUNAUTHENTICATED},
	}
	for _, tc := range tests { // in order: the cache carries over
		now = tc.at
		p, err := a(context.Background(), tc.token)
		if got := cairn.ErrorCode(err); err != nil && got != tc.code || err == nil && tc.code != "" {
			t.Fatalf("%s: err %v, want code %q", tc.name, err, tc.code)
		}
		if tc.code == "" && p.UserID != "user-1" {
			t.Errorf("%s: principal %q, want user-1", tc.name, p.UserID)
		}
	}
	if lookups != 3 {
		t.Errorf("%d principal lookups for 3 accepted requests", lookups)
	}
}

// TestKnownSession checks that the authenticator that goes first accepts
// only the tokens the session authenticator verified and still remembers,
// and passes every other on (nil, nil) to the next authenticator.
func TestKnownSession(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tokens, token, exp := signedSession(t, func() time.Time { return now })
	known, session := sessionAuthenticators(tokens, func(_ context.Context, id string) (*cairn.Principal, error) {
		return &cairn.Principal{UserID: id}, nil
	})
	for _, tc := range []struct {
		name   string
		at     time.Time
		token  string
		verify bool // the session authenticator sees the token first
		user   string
	}{
		{"Unseen", now, token, false, ""},
		{"APIKey", now, "cairn_ak_123", false, ""},
		{"Verified", now, token, true, "user-1"},
		{"Tampered", now, token[:len(token)-2] + "xx", false, ""},
		{"Expired", exp.Add(auth.Leeway + time.Second), token, false, ""},
	} { // in order: the cache carries over
		now = tc.at
		if tc.verify {
			if _, err := session(context.Background(), tc.token); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
		}
		p, err := known(context.Background(), tc.token)
		if err != nil || (p == nil) != (tc.user == "") || p != nil && p.UserID != tc.user {
			t.Errorf("%s: principal %v, err %v; want user %q", tc.name, p, err, tc.user)
		}
	}
}

// TestTokenCacheEvicts checks that the cache holds at most max tokens,
// dropping the least recently used.
func TestTokenCacheEvicts(t *testing.T) {
	t.Parallel()
	c := &tokenCache{max: 2, byKey: map[[32]byte]*list.Element{}, order: list.New()}
	now := time.Now()
	later := now.Add(time.Hour)
	a, b, d := [32]byte{1}, [32]byte{2}, [32]byte{3}
	c.put(a, "a", later)
	c.put(b, "b", later)
	if _, ok := c.get(a, now); !ok { // a is now the most recent
		t.Fatal("a missing")
	}
	c.put(d, "d", later)
	for key, want := range map[[32]byte]bool{a: true, b: false, d: true} {
		if _, ok := c.get(key, now); ok != want {
			t.Errorf("key %d cached %v, want %v", key[0], ok, want)
		}
	}
	if _, ok := c.get(a, later); ok {
		t.Error("an entry outlived its expiry")
	}
}

// signedSession returns a token service on clock and a token it signed for
// user-1, with its expiry.
func signedSession(t *testing.T, clock func() time.Time) (tokens *auth.Tokens, token string, exp time.Time) {
	t.Helper()
	key, err := auth.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	tokens, err = auth.NewTokens("http://cairn.test", time.Minute, []auth.Key{key})
	if err != nil {
		t.Fatal(err)
	}
	tokens.Now = clock
	token, exp, err = tokens.Sign("user-1")
	if err != nil {
		t.Fatal(err)
	}
	return tokens, token, exp
}
