package store

import (
	clist "container/list"
	"fmt"
	"testing"

	"github.com/cairn-dev/cairn"
)

func newTestCache(max int) *principalCache {
	c := &principalCache{max: max, byID: map[string]*clist.Element{}, order: clist.New()}
	c.setLive(true)
	return c
}

// TestPrincipalCacheRules checks the rules that keep the cache exact: a load
// that raced with an invalidation is not kept, nothing is served or kept while
// the connection is down, and the size is bounded (least recently used out).
func TestPrincipalCacheRules(t *testing.T) {
	t.Parallel()
	p := &cairn.Principal{UserID: "user-a"}
	for _, tc := range []struct {
		name string
		run  func(c *principalCache) (string, bool) // the user to look up; whether it must be cached
	}{
		{"Kept", func(c *principalCache) (string, bool) {
			_, gen, _ := c.get("user-a")
			c.put("user-a", p, gen)
			return "user-a", true
		}},
		{"RacedWithItsUser", func(c *principalCache) (string, bool) {
			_, gen, _ := c.get("user-a")
			c.invalidate("user user-a")
			c.put("user-a", p, gen)
			return "user-a", false
		}},
		{"RacedWithAnotherUser", func(c *principalCache) (string, bool) {
			_, gen, _ := c.get("user-a")
			c.invalidate("user user-b")
			c.put("user-a", p, gen)
			return "user-a", false
		}},
		{"Invalidated", func(c *principalCache) (string, bool) {
			_, gen, _ := c.get("user-a")
			c.put("user-a", p, gen)
			c.invalidate("user user-a")
			return "user-a", false
		}},
		{"OtherUserInvalidated", func(c *principalCache) (string, bool) {
			_, gen, _ := c.get("user-a")
			c.put("user-a", p, gen)
			c.invalidate("user user-b")
			return "user-a", true
		}},
		{"Flushed", func(c *principalCache) (string, bool) {
			_, gen, _ := c.get("user-a")
			c.put("user-a", p, gen)
			c.invalidate("*")
			return "user-a", false
		}},
		{"ConnectionDown", func(c *principalCache) (string, bool) {
			_, gen, _ := c.get("user-a")
			c.put("user-a", p, gen)
			c.setLive(false)
			return "user-a", false
		}},
		{"KeptWhileDown", func(c *principalCache) (string, bool) {
			c.setLive(false)
			_, gen, _ := c.get("user-a")
			c.put("user-a", p, gen)
			c.live = true // as if served again without the flush: the entry must not be there
			return "user-a", false
		}},
		{"ConnectionBack", func(c *principalCache) (string, bool) {
			_, gen, _ := c.get("user-a")
			c.put("user-a", p, gen)
			c.setLive(false)
			c.setLive(true)
			return "user-a", false
		}},
		{"Bounded", func(c *principalCache) (string, bool) {
			for i := range 5 {
				id := fmt.Sprintf("user-%d", i)
				_, gen, _ := c.get(id)
				c.put(id, p, gen)
			}
			return "user-0", false
		}},
		{"LeastRecentlyUsedOut", func(c *principalCache) (string, bool) {
			for i := range 5 {
				id := fmt.Sprintf("user-%d", i)
				_, gen, _ := c.get(id)
				c.put(id, p, gen)
				c.get("user-0")
			}
			return "user-0", true
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newTestCache(3)
			id, want := tc.run(c)
			if _, _, got := c.get(id); got != want {
				t.Errorf("cached %v, want %v", got, want)
			}
			if c.order.Len() > c.max || len(c.byID) != c.order.Len() {
				t.Errorf("%d entries in the list, %d in the map, bound %d", c.order.Len(), len(c.byID), c.max)
			}
		})
	}
}
