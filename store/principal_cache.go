package store

import (
	clist "container/list"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/cairn-dev/cairn"
	"github.com/jackc/pgx/v5"
)

// PrincipalChannel is the channel on which the triggers of migration
// 20260105000000 announce, at commit, every change to what a user's principal
// is made of: "user <id>" for one user's row or role bindings, "*" for a
// tenant's state or place in the tree.
const PrincipalChannel = "cairn_principals"

// PrincipalListener is the application_name of the cache's LISTEN
// connection (pg_stat_activity).
const PrincipalListener = "cairn principal cache"

// PrincipalCacheSize is the default bound of a replica's principal cache.
const PrincipalCacheSize = 10000

// principalPing is how long the LISTEN connection may stay silent before the
// cache checks it is still alive.
const principalPing = 5 * time.Second

// principalCache keeps the principals of users on one replica so that a
// request costs no principal statement. It serves only while its LISTEN
// connection is up: an entry is dropped when its user's notification
// arrives, everything is dropped when the connection is lost or comes back,
// and nothing is cached or served in between. A load that raced with a
// notification (it may have read the row before the change committed) is not
// kept: every invalidation bumps gen, and a load keeps its result only if gen
// did not move while it ran.
type principalCache struct {
	url    string
	logger *slog.Logger

	mu    sync.Mutex
	live  bool   // LISTENing; guarded by mu
	gen   uint64 // bumped by every invalidation; guarded by mu
	max   int
	byID  map[string]*clist.Element // guarded by mu
	order *clist.List               // of *cachedPrincipal, most recent first; guarded by mu

	cancel context.CancelFunc
	done   chan struct{}
	// onEvent, when set (tests), is told every notification applied and
	// every change of the connection ("up", "down").
	onEvent func(string)
}

type cachedPrincipal struct {
	userID string
	p      *cairn.Principal
}

// CachePrincipals makes Principal serve users' principals from a cache of up
// to size entries (PrincipalCacheSize when size ≤ 0), kept exact by a LISTEN
// connection to url (the store's database) on PrincipalChannel. It returns
// once that connection listens; the cache stops when the store closes.
// Commits of this store drop the whole cache before they return, so this
// replica's own writes are seen by its next request; other replicas drop the
// entries a change concerns when its notification arrives, milliseconds
// after the commit.
func (s *Store) CachePrincipals(ctx context.Context, url string, size int) error {
	return s.cachePrincipals(ctx, url, size, nil)
}

func (s *Store) cachePrincipals(ctx context.Context, url string, size int, onEvent func(string)) error {
	if size <= 0 {
		size = PrincipalCacheSize
	}
	c := &principalCache{url: url, logger: slog.Default(), max: size, byID: map[string]*clist.Element{}, order: clist.New(),
		done: make(chan struct{}), onEvent: onEvent}
	conn, err := c.listen(ctx)
	if err != nil {
		return err
	}
	c.setLive(true)
	runCtx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	if !s.principals.CompareAndSwap(nil, c) {
		cancel()
		conn.Close(ctx)
		return errors.New("store: principals are already cached")
	}
	go c.run(runCtx, conn)
	return nil
}

// stopPrincipalCache stops the cache, if any; Close calls it.
func (s *Store) stopPrincipalCache() {
	if c := s.principals.Load(); c != nil {
		c.cancel()
		<-c.done
	}
}

// principalsWritten drops the cached principals after a commit of this
// store, which may have changed one: the notification would reach this
// replica's listener only after the caller's next request could.
func (s *Store) principalsWritten() {
	if c := s.principals.Load(); c != nil {
		c.invalidate("*")
	}
}

func (c *principalCache) listen(ctx context.Context) (*pgx.Conn, error) {
	return Listen(ctx, c.url, PrincipalChannel, PrincipalListener)
}

// Listen opens a connection of its own to url, named application in
// pg_stat_activity (unless empty), that LISTENs on channel.
func Listen(ctx context.Context, url, channel, application string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	if application != "" {
		cfg.RuntimeParams["application_name"] = application
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		conn.Close(ctx)
		return nil, err
	}
	return conn, nil
}

// run applies notifications until ctx ends, reconnecting when the connection
// drops; while it is down the cache is empty and bypassed.
func (c *principalCache) run(ctx context.Context, conn *pgx.Conn) {
	defer close(c.done)
	defer func() {
		c.setLive(false)
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		if conn == nil {
			var err error
			if conn, err = c.listen(ctx); err != nil {
				c.logger.Warn("principal cache: reconnecting", "err", err, "in", backoff)
				select {
				case <-ctx.Done():
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, 5*time.Second)
				continue
			}
			backoff = 100 * time.Millisecond
			c.setLive(true)
		}
		wctx, cancel := context.WithTimeout(ctx, principalPing)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if n != nil {
			// pgx returns a notification that arrived as the wait timed
			// out together with the timeout's error.
			c.invalidate(n.Payload)
		}
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, context.DeadlineExceeded) { // silence: is the connection alive?
			pctx, cancel := context.WithTimeout(ctx, principalPing)
			err = conn.Ping(pctx)
			cancel()
			if err == nil || ctx.Err() != nil {
				continue
			}
		}
		c.logger.Warn("principal cache: connection lost; principals are read from the database until it is back", "err", err)
		c.setLive(false)
		conn.Close(context.Background())
		conn = nil
	}
}

// setLive empties the cache and records whether it may serve.
func (c *principalCache) setLive(live bool) {
	c.mu.Lock()
	c.live = live
	c.gen++
	c.byID = map[string]*clist.Element{}
	c.order.Init()
	c.mu.Unlock()
	if c.onEvent != nil {
		c.onEvent(map[bool]string{true: "up", false: "down"}[live])
	}
}

// invalidate applies a notification: "user <id>" drops that user, anything
// else everything.
func (c *principalCache) invalidate(payload string) {
	c.mu.Lock()
	c.gen++
	if id, ok := strings.CutPrefix(payload, "user "); ok {
		if el, ok := c.byID[id]; ok {
			c.order.Remove(el)
			delete(c.byID, id)
		}
	} else {
		c.byID = map[string]*clist.Element{}
		c.order.Init()
	}
	c.mu.Unlock()
	if c.onEvent != nil {
		c.onEvent(payload)
	}
}

// get returns the cached principal of userID, and otherwise the generation
// a load must present to put its result.
func (c *principalCache) get(userID string) (*cairn.Principal, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live {
		return nil, c.gen, false
	}
	el, ok := c.byID[userID]
	if !ok {
		return nil, c.gen, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*cachedPrincipal).p, c.gen, true
}

// put keeps p unless an invalidation happened since get returned gen.
func (c *principalCache) put(userID string, p *cairn.Principal, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || c.gen != gen {
		return
	}
	if el, ok := c.byID[userID]; ok {
		el.Value = &cachedPrincipal{userID: userID, p: p}
		c.order.MoveToFront(el)
		return
	}
	c.byID[userID] = c.order.PushFront(&cachedPrincipal{userID: userID, p: p})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byID, last.Value.(*cachedPrincipal).userID)
	}
}

// clonePrincipal copies p, so that no caller can change a cached principal.
func clonePrincipal(p *cairn.Principal) *cairn.Principal {
	q := *p
	q.Grants = append([]cairn.Grant(nil), p.Grants...)
	return &q
}
