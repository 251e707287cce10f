package store

import "testing"

// TestDirectStatementKeys checks that plans whose statements differ get
// different keys in the statement cache: a shared key would run one
// selection's statement for another's.
func TestDirectStatementKeys(t *testing.T) {
	base := func() *connPlan {
		return &connPlan{typ: directTypes["Resource"], parentCol: "tier_id", cols: []string{"id", "name"},
			pg: page{limit: 3, order: orderFields["CREATED_AT"]}}
	}
	variants := map[string]func(c *connPlan) (nested bool){
		"Base":     func(c *connPlan) bool { return true },
		"TopLevel": func(c *connPlan) bool { return false },
		"Single":   func(c *connPlan) bool { c.single = "r-1"; return false },
		"Type":     func(c *connPlan) bool { c.typ = directTypes["ProductTier"]; return true },
		"Parent":   func(c *connPlan) bool { c.parentCol = "service_id"; return true },
		"Columns":  func(c *connPlan) bool { c.cols = []string{"id", "key"}; return true },
		"MoreCols": func(c *connPlan) bool { c.cols = []string{"id", "name", "key"}; return true },
		"Filter":   func(c *connPlan) bool { c.filter = map[string]any{"nameContains": "sql"}; return true },
		"Filter2":  func(c *connPlan) bool { c.filter = map[string]any{"nameContains": "pg"}; return true },
		"Limit":    func(c *connPlan) bool { c.pg.limit = 4; return true },
		"Order":    func(c *connPlan) bool { c.pg.order = orderFields["NAME"]; return true },
		"Desc":     func(c *connPlan) bool { c.pg.order.desc = true; return true },
		"Backward": func(c *connPlan) bool { c.pg.backward = true; return true },
		"Cursor":   func(c *connPlan) bool { c.pg.cursor = &cursor{Value: "a", ID: "r-1"}; return true },
		"CursorID": func(c *connPlan) bool { c.pg.cursor = &cursor{Value: "a", ID: "r-2"}; return true },
		"Join": func(c *connPlan) bool {
			c.joins = []*joinPlan{{typ: directTypes["ProductTier"], from: -1, fk: 1, cols: []string{"id"}}}
			return true
		},
		"JoinCols": func(c *connPlan) bool {
			c.joins = []*joinPlan{{typ: directTypes["ProductTier"], from: -1, fk: 1, cols: []string{"id", "name"}}}
			return true
		},
		"JoinFK": func(c *connPlan) bool {
			c.joins = []*joinPlan{{typ: directTypes["ProductTier"], from: -1, fk: 0, cols: []string{"id"}}}
			return true
		},
		"JoinType": func(c *connPlan) bool {
			c.joins = []*joinPlan{{typ: directTypes["Service"], from: -1, fk: 1, cols: []string{"id"}}}
			return true
		},
		"JoinNested": func(c *connPlan) bool {
			c.joins = []*joinPlan{{typ: directTypes["ProductTier"], from: 0, fk: 1, cols: []string{"id"}}}
			return true
		},
	}
	seen := map[string]string{}
	for name, change := range variants {
		c := base()
		key := c.stmtKey(change(c))
		if other, ok := seen[key]; ok {
			t.Errorf("%s and %s share the key %q", name, other, key)
		}
		seen[key] = name
	}
}
