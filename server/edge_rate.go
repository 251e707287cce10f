package server

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cairn-dev/cairn"
	lru "github.com/hashicorp/golang-lru/v2"
)

// Rate is a token bucket: Burst requests at once, refilled at PerSecond.
type Rate struct {
	PerSecond float64
	Burst     int
}

func (r Rate) enabled() bool { return r.PerSecond > 0 && r.Burst > 0 }

// limiter keeps one token bucket per API key or user, in this replica's
// memory (with N replicas a caller gets up to N times the rate). It is safe
// for concurrent use.
type limiter struct {
	apiKey, user Rate
	now          func() time.Time
	refused      func(kind string) // told "apikey" or "user" at each refusal; may be nil

	mu      sync.Mutex
	buckets *lru.Cache[string, *bucket]
}

type bucket struct {
	tokens float64
	at     time.Time
}

// limiterSize bounds the number of buckets kept; the least recently used
// are dropped (a dropped bucket starts full again).
const limiterSize = 100_000

func newLimiter(apiKey, user Rate) *limiter {
	b, _ := lru.New[string, *bucket](limiterSize)
	return &limiter{apiKey: apiKey, user: user, now: time.Now, buckets: b}
}

// take takes a token from the bucket of key under rate; when it is empty it
// returns how long until one is back.
func (l *limiter) take(key string, rate Rate) (ok bool, wait time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, found := l.buckets.Get(key)
	if !found {
		b = &bucket{tokens: float64(rate.Burst), at: now}
		l.buckets.Add(key, b)
	}
	b.tokens = math.Min(float64(rate.Burst), b.tokens+now.Sub(b.at).Seconds()*rate.PerSecond)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / rate.PerSecond * float64(time.Second))
}

// limitRate answers 429 RESOURCE_EXHAUSTED, with Retry-After and
// extensions.retryAfter (seconds), to an API key or user whose bucket is
// empty. Requests without a principal pass (they can only sign in).
func limitRate(l *limiter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principalOf(r.Context())
		var key, who string
		var rate Rate
		switch {
		case p == nil:
		case p.APIKeyID != "":
			key, who, rate = "key:"+p.APIKeyID, "API key", l.apiKey
		case p.UserID != "":
			key, who, rate = "user:"+p.UserID, "user", l.user
		}
		if key == "" || !rate.enabled() {
			next.ServeHTTP(w, r)
			return
		}
		if ok, wait := l.take(key, rate); !ok {
			if l.refused != nil {
				l.refused(strings.ReplaceAll(strings.ToLower(who), " ", ""))
			}
			secs := int(math.Ceil(wait.Seconds()))
			writeRateLimited(w, secs, who, rate)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeRateLimited(w http.ResponseWriter, secs int, who string, rate Rate) {
	body, _ := json.Marshal(map[string]any{"errors": []any{map[string]any{
		"message": "Too many requests: this " + who + " may send " + strconv.FormatFloat(rate.PerSecond, 'g', -1, 64) +
			" requests a second (bursts of " + strconv.Itoa(rate.Burst) + "); retry in " + strconv.Itoa(secs) + "s.",
		"extensions": map[string]any{"code": cairn.ERESOURCEEXHAUSTED, "retryAfter": secs},
	}}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write(body)
}
