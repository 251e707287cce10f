package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

const createKey = `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret apiKey { id name role tenantId prefix expiresAt lastUsedAt revokedAt } } }`

func mintKey(t *testing.T, e *env, who, tenant, role string, expires *time.Time) (id, secret string) {
	t.Helper()
	in := map[string]any{"name": "partner " + role, "tenantId": tenant, "role": role}
	if expires != nil {
		in["expiresAt"] = expires.Format(time.RFC3339)
	}
	r := e.do(who, createKey, map[string]any{"in": in})
	if len(r.Errors) > 0 {
		t.Fatalf("createApiKey: %+v", r.Errors)
	}
	return get(r.Data, "createApiKey", "apiKey", "id").(string), get(r.Data, "createApiKey", "secret").(string)
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	e := setup(t)
	id, secret := mintKey(t, e, "alice", e.demo.CustomerA, "EDITOR", nil)
	if !strings.HasPrefix(secret, "cairn_ak_") || len(secret) < 40 {
		t.Fatalf("secret %q is not an API key", secret)
	}

	// Stored hashed: the secret appears nowhere in the row.
	var row string
	if err := e.store.DB().NewSelect().TableExpr("api_keys").ColumnExpr("row_to_json(api_keys)::text").Where("id = ?", id).Scan(context.Background(), &row); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(row, secret[len("cairn_ak_")+6:]) {
		t.Errorf("the API key's secret is stored: %s", row)
	}

	// Used as a bearer token, the key acts with its one role on its tenant.
	r := e.bearer(secret, viewerQ, nil)
	if r.Status != 200 || get(r.Data, "viewer", "user") != nil || get(r.Data, "viewer", "tenant", "id") != e.demo.CustomerA {
		t.Fatalf("viewer of the key: %d %+v %+v", r.Status, r.Data, r.Errors)
	}
	if got := fmt.Sprint(get(r.Data, "viewer", "roleBindings")); got != fmt.Sprintf("[map[role:EDITOR tenantId:%s]]", e.demo.CustomerA) {
		t.Errorf("the key's grants = %s", got)
	}
	r = e.bearer(secret, `{ instances(first: 50) { totalCount nodes { tenant { id } } } }`, nil)
	if n := get(r.Data, "instances", "totalCount"); n != float64(len(e.demo.InstancesA)) {
		t.Errorf("the key sees %v instances, want customer A's %d", n, len(e.demo.InstancesA))
	}
	// Scope follows the key's grant: EDITOR does not mint keys (ADMIN does).
	if r := e.bearer(secret, createKey, map[string]any{"in": map[string]any{"name": "x", "tenantId": e.demo.CustomerA, "role": "READER"}}); r.code() != "FORBIDDEN" {
		t.Errorf("an EDITOR key minted a key: %+v", r.Errors)
	}
	if r := e.bearer(secret, `query($id: ID!) { tenant(id: $id) { id } }`, map[string]any{"id": e.demo.CustomerB}); get(r.Data, "tenant") != nil {
		t.Errorf("the key of customer A reads customer B: %+v", r.Data)
	}

	list := `query($f: ApiKeyFilter) { apiKeys(first: 10, filter: $f) { totalCount nodes { id prefix lastUsedAt revokedAt } } }`
	r = e.do("alice", list, map[string]any{"f": map[string]any{"tenantId": e.demo.CustomerA}})
	if get(r.Data, "apiKeys", "totalCount") != float64(1) || get(r.Data, "apiKeys", "nodes", 0, "lastUsedAt") == nil {
		t.Errorf("list after use: %+v %+v", r.Data, r.Errors)
	}
	if p := get(r.Data, "apiKeys", "nodes", 0, "prefix").(string); !strings.HasPrefix(secret, p) || len(p) >= len(secret) {
		t.Errorf("prefix %q", p)
	}
	if r := e.do("bob", list, nil); get(r.Data, "apiKeys", "totalCount") != float64(0) {
		t.Errorf("bob lists alice's keys: %+v", r.Data)
	}

	// Revoked, the key stops working at once.
	rev := `mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { revokedAt } } }`
	if r := e.do("bob", rev, map[string]any{"id": id}); r.code() != "NOT_FOUND" {
		t.Errorf("bob revoked alice's key: %+v", r)
	}
	if r := e.do("alice", rev, map[string]any{"id": id}); get(r.Data, "revokeApiKey", "apiKey", "revokedAt") == nil {
		t.Fatalf("revoke: %+v", r.Errors)
	}
	r = e.bearer(secret, viewerQ, nil)
	if r.Status != http.StatusUnauthorized || r.code() != "UNAUTHENTICATED" || !strings.Contains(r.Errors[0].Message, "was revoked") {
		t.Errorf("a revoked key: %d %+v", r.Status, r.Errors)
	}
	if r := e.do("alice", rev, map[string]any{"id": id}); r.code() != "FAILED_PRECONDITION" {
		t.Errorf("revoking twice: %+v", r.Errors)
	}
}

func TestAPIKeyExpiry(t *testing.T) {
	t.Parallel()
	e := setup(t)
	soon := time.Now().Add(time.Hour)
	id, secret := mintKey(t, e, "alice", e.demo.CustomerA, "READER", &soon)
	if r := e.bearer(secret, viewerQ, nil); r.Status != 200 {
		t.Fatalf("%+v", r.Errors)
	}
	// Expire it now.
	past := time.Now().Add(-time.Minute).Format(time.RFC3339)
	if r := e.do("alice", `mutation($id: ID!, $at: Time!) { updateApiKey(input: {id: $id, expiresAt: $at}) { apiKey { expiresAt } } }`,
		map[string]any{"id": id, "at": past}); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	r := e.bearer(secret, viewerQ, nil)
	if r.code() != "UNAUTHENTICATED" || !strings.Contains(r.Errors[0].Message, "expired at") {
		t.Errorf("an expired key: %+v", r.Errors)
	}

	for _, tc := range []struct {
		name, who, role, code, msg string
		expires                    time.Time
	}{
		{"ErrExpiryInPast", "alice", "READER", "BAD_USER_INPUT", "not in the future", time.Now().Add(-time.Hour)},
		{"ErrRoleAboveCaller", "alice", "ROOT", "FORBIDDEN", "cannot grant a role higher", time.Now().Add(time.Hour)},
		{"ErrOtherTenant", "bob", "READER", "NOT_FOUND", "not found", time.Now().Add(time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.who, createKey, map[string]any{"in": map[string]any{"name": "k", "tenantId": e.demo.CustomerA, "role": tc.role,
				"expiresAt": tc.expires.Format(time.RFC3339)}})
			if r.code() != tc.code || !strings.Contains(r.Errors[0].Message, tc.msg) {
				t.Errorf("got %s %+v, want %s containing %q", r.code(), r.Errors, tc.code, tc.msg)
			}
		})
	}

	// A key of a disabled tenant can no longer act.
	_, live := mintKey(t, e, "alice", e.demo.CustomerA, "READER", nil)
	if r := e.do("owner", `mutation($id: ID!) { updateTenant(input: {id: $id, state: DISABLED}) { tenant { state } } }`, map[string]any{"id": e.demo.CustomerA}); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	if r := e.bearer(live, viewerQ, nil); r.code() != "UNAUTHENTICATED" || !strings.Contains(r.Errors[0].Message, "disabled") {
		t.Errorf("a key of a disabled tenant: %+v", r.Errors)
	}
}

func TestInvitationAndActivation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	check := `query($e: String!) { checkLogin(email: $e) { email available } }`
	if r := e.do("alice", check, map[string]any{"e": " Richard.Doe@Customer-A.example "}); get(r.Data, "checkLogin", "available") != true ||
		get(r.Data, "checkLogin", "email") != "richard.doe@customer-a.example" {
		t.Fatalf("checkLogin of a free email: %+v %+v", r.Data, r.Errors)
	}
	r := e.do("alice", `mutation($t: ID!) { createUser(input: {tenantId: $t, email: "richard.doe@customer-a.example", name: "Richard Doe", role: READER}) { user { id activated } } }`,
		map[string]any{"t": e.demo.CustomerA})
	if get(r.Data, "createUser", "user", "activated") != false {
		t.Fatalf("invite: %+v", r.Errors)
	}
	uid := get(r.Data, "createUser", "user", "id").(string)
	if r := e.do("alice", check, map[string]any{"e": "richard.doe@customer-a.example"}); get(r.Data, "checkLogin", "available") != false {
		t.Errorf("checkLogin of a taken email: %+v", r.Data)
	}
	signIn := `mutation { signIn(input: {email: "richard.doe@customer-a.example", password: "newUserPassword312"}) { token } }`
	if r := e.do("", signIn, nil); r.code() != "UNAUTHENTICATED" {
		t.Errorf("an unactivated user signed in: %+v", r)
	}

	setPw := `mutation($u: ID!, $p: String!) { setUserPassword(input: {userId: $u, password: $p}) { user { activated } } }`
	for _, tc := range []struct{ name, who, pw, code string }{
		{"ErrOtherTenant", "bob", "newUserPassword312", "NOT_FOUND"},
		{"ErrShortPassword", "alice", "short", "BAD_USER_INPUT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := e.do(tc.who, setPw, map[string]any{"u": uid, "p": tc.pw}); r.code() != tc.code {
				t.Errorf("got %+v, want %s", r.Errors, tc.code)
			}
		})
	}
	if r := e.do("", check, map[string]any{"e": "x@y.example"}); r.code() != "UNAUTHENTICATED" {
		t.Errorf("checkLogin without signing in: %+v", r.Errors)
	}
	if r := e.do("alice", setPw, map[string]any{"u": uid, "p": "newUserPassword312"}); get(r.Data, "setUserPassword", "user", "activated") != true {
		t.Fatalf("activate: %+v", r.Errors)
	}
	if r := e.do("", signIn, nil); r.code() != "" || get(r.Data, "signIn", "token") == nil {
		t.Errorf("the activated user cannot sign in: %+v", r.Errors)
	}
}

func TestInstanceQuota(t *testing.T) {
	t.Parallel()
	e := setup(t)
	n := len(e.demo.InstancesA)
	set := `mutation($in: SetQuotaInput!) { setQuota(input: $in) { quota { item max used tierId } } }`
	if r := e.do("alice", set, map[string]any{"in": map[string]any{"tenantId": e.demo.CustomerA, "item": "INSTANCES", "max": 100}}); r.code() != "FORBIDDEN" {
		t.Errorf("alice raised her own tenant's quota: %+v", r.Errors)
	}
	r := e.do("owner", set, map[string]any{"in": map[string]any{"tenantId": e.demo.CustomerA, "item": "INSTANCES", "max": n + 1}})
	if get(r.Data, "setQuota", "quota", "used") != float64(n) {
		t.Fatalf("setQuota: %+v %+v", r.Data, r.Errors)
	}
	create := `mutation($in: CreateInstanceInput!) { createInstance(input: $in) { instance { id } } }`
	in := map[string]any{"resourceId": e.demo.MySQL, "subscriptionId": e.demo.SubA, "cloudProvider": "aws", "region": "us-east-1",
		"requestParams": map[string]any{"mysqlDatabase": "app", "mysqlUser": "app", "mysqlPassword": "s3cret-pw"}}
	if r := e.do("alice", create, map[string]any{"in": in}); len(r.Errors) > 0 {
		t.Fatalf("create under the quota: %+v", r.Errors)
	}
	r = e.do("alice", create, map[string]any{"in": in})
	if r.code() != "RESOURCE_EXHAUSTED" || !strings.Contains(r.Errors[0].Message, fmt.Sprintf("allows %d instance(s)", n+1)) {
		t.Errorf("create past the quota: %+v", r.Errors)
	}
	// Setting it again replaces it; a tier quota applies too.
	r = e.do("owner", set, map[string]any{"in": map[string]any{"tenantId": e.demo.CustomerA, "item": "INSTANCES", "max": 50}})
	if get(r.Data, "setQuota", "quota", "max") != float64(50) {
		t.Fatalf("replace: %+v", r.Errors)
	}
	r = e.do("owner", set, map[string]any{"in": map[string]any{"tenantId": e.demo.CustomerA, "item": "INSTANCES", "tierId": e.demo.Premium, "max": 0}})
	if len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	r = e.do("alice", create, map[string]any{"in": in})
	if r.code() != "RESOURCE_EXHAUSTED" || !strings.Contains(r.Errors[0].Message, "of product tier "+e.demo.Premium) {
		t.Errorf("create past the partner's tier quota: %+v", r.Errors)
	}
	del := `mutation($in: DeleteQuotaInput!) { deleteQuota(input: $in) { deletedId } }`
	if r := e.do("owner", del, map[string]any{"in": map[string]any{"tenantId": e.demo.CustomerA, "item": "INSTANCES", "tierId": e.demo.Premium}}); !strings.HasPrefix(fmt.Sprint(get(r.Data, "deleteQuota", "deletedId")), "quota-") {
		t.Fatalf("deleteQuota: %+v %+v", r.Data, r.Errors)
	}
	if r := e.do("owner", del, map[string]any{"in": map[string]any{"tenantId": e.demo.CustomerA, "item": "INSTANCES", "tierId": e.demo.Premium}}); r.code() != "NOT_FOUND" {
		t.Errorf("deleting a quota twice: %+v", r.Errors)
	}
	r = e.do("alice", `query($t: ID!) { quotas(tenantId: $t) { item max used } }`, map[string]any{"t": e.demo.CustomerA})
	if got := fmt.Sprint(get(r.Data, "quotas")); got != fmt.Sprintf("[map[item:INSTANCES max:50 used:%d]]", n+1) {
		t.Errorf("quotas = %s %+v", got, r.Errors)
	}
	if r := e.do("alice", create, map[string]any{"in": in}); len(r.Errors) > 0 {
		t.Errorf("create after the quota was removed: %+v", r.Errors)
	}
}
