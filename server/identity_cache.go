package server

import (
	"container/list"
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/auth"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// verifiedTokens is how many verified session tokens a server remembers.
const verifiedTokens = 10000

// cachedSession is auth.SessionAuthenticator with the signature check of a
// token done once per token rather than once per request: an Ed25519
// verification costs about a tenth of a small read's CPU. A token verified
// once stays valid until it expires (tokens are not revoked one by one; a
// disabled user or tenant is refused by the principal lookup, which still runs
// on every request), so the cache remembers the user of each verified token,
// keyed by the token's SHA-256, until the token's expiry plus auth.Leeway,
// exactly as long as Verify would accept it. (With store.CachePrincipals the
// lookup is served from memory too, and emptied at every change.)
func cachedSession(tokens *auth.Tokens, lookup auth.LookupFunc) auth.Authenticator {
	_, session := sessionAuthenticators(tokens, lookup)
	return session
}

// sessionAuthenticators returns cachedSession's authenticator (session) and
// one that accepts only the tokens session verified before and still
// remembers, answering (nil, nil) for any other (known). A remembered token
// was signed by Cairn's keys, so known can go before the authenticators of API
// keys and identity providers: a signed-in user's requests skip their checks
// (an identity provider's reads the token's claims).
func sessionAuthenticators(tokens *auth.Tokens, lookup auth.LookupFunc) (known, session auth.Authenticator) {
	c := &tokenCache{max: verifiedTokens, byKey: map[[32]byte]*list.Element{}, order: list.New()}
	principal := func(ctx context.Context, userID string) (*cairn.Principal, error) {
		p, err := lookup(ctx, userID)
		if err != nil {
			return nil, err
		} else if p == nil {
			return nil, fmt.Errorf("auth: lookup of user %q returned neither a principal nor an error", userID)
		}
		return p, nil
	}
	known = func(ctx context.Context, token string) (*cairn.Principal, error) {
		userID, ok := c.get(sha256.Sum256([]byte(token)), tokens.Now())
		if !ok {
			return nil, nil
		}
		return principal(ctx, userID)
	}
	session = func(ctx context.Context, token string) (*cairn.Principal, error) {
		key := sha256.Sum256([]byte(token))
		userID, ok := c.get(key, tokens.Now())
		if !ok {
			var err error
			if userID, err = tokens.Verify(token); err != nil {
				return nil, err
			}
			if exp, ok := expiry(token); ok {
				c.put(key, userID, exp.Add(auth.Leeway))
			}
		}
		return principal(ctx, userID)
	}
	return known, session
}

// expiry reads the expiry of a token that Verify accepted.
func expiry(token string) (time.Time, bool) {
	parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return time.Time{}, false
	}
	var claims jwt.Claims
	if err := parsed.UnsafeClaimsWithoutVerification(&claims); err != nil || claims.Expiry == nil {
		return time.Time{}, false
	}
	return claims.Expiry.Time(), true
}

// tokenCache is a small LRU of verified tokens.
type tokenCache struct {
	mu    sync.Mutex
	max   int
	byKey map[[32]byte]*list.Element
	order *list.List // of *tokenEntry, most recent first
}

type tokenEntry struct {
	key    [32]byte
	userID string
	until  time.Time
}

func (c *tokenCache) get(key [32]byte, now time.Time) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		return "", false
	}
	e := el.Value.(*tokenEntry)
	if !now.Before(e.until) {
		c.order.Remove(el)
		delete(c.byKey, key)
		return "", false
	}
	c.order.MoveToFront(el)
	return e.userID, true
}

func (c *tokenCache) put(key [32]byte, userID string, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		el.Value = &tokenEntry{key: key, userID: userID, until: until}
		c.order.MoveToFront(el)
		return
	}
	c.byKey[key] = c.order.PushFront(&tokenEntry{key: key, userID: userID, until: until})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*tokenEntry).key)
	}
}
