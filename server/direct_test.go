package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/cairn-dev/cairn/graph"
	"github.com/cairn-dev/cairn/server"
	"github.com/cairn-dev/cairn/telemetry"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// directPair is the same store served twice: with direct execution (the
// default) and with every field through the resolvers.
type directPair struct {
	e         *env
	tel       *telemetry.Telemetry
	direct    *httptest.Server
	resolvers *httptest.Server
}

func setupDirect(t *testing.T) *directPair {
	t.Helper()
	e := setup(t)
	tel, err := telemetry.New(context.Background(), telemetry.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	p := &directPair{e: e, tel: tel}
	p.direct = httptest.NewServer(server.New(server.Config{Store: e.store, Tokens: e.tokenSigner, Telemetry: tel}))
	p.resolvers = httptest.NewServer(server.New(server.Config{Store: e.store, Tokens: e.tokenSigner, NoDirect: true}))
	t.Cleanup(p.direct.Close)
	t.Cleanup(p.resolvers.Close)
	return p
}

// rawResponse is a response with its data and errors as sent.
type rawResponse struct {
	Data       json.RawMessage
	Errors     json.RawMessage
	Extensions struct{ SQLStatements int }
}

func (p *directPair) post(srv *httptest.Server, who, query string, vars map[string]any) rawResponse {
	p.e.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+p.e.tokens[who])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var r rawResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		p.e.t.Fatalf("response is not JSON (status %d): %s", res.StatusCode, raw)
	}
	return r
}

// compare sends query to both servers, fails unless their data and errors
// are the same bytes, and reports whether direct execution answered it.
func (p *directPair) compare(t *testing.T, who, query string, vars map[string]any) (rawResponse, bool) {
	t.Helper()
	before := testutil.ToFloat64(p.tel.DirectFields.WithLabelValues("direct"))
	got := p.post(p.direct, who, query, vars)
	answered := testutil.ToFloat64(p.tel.DirectFields.WithLabelValues("direct")) > before
	want := p.post(p.resolvers, who, query, vars)
	if !bytes.Equal(got.Data, want.Data) || !bytes.Equal(got.Errors, want.Errors) {
		t.Errorf("direct execution (answered: %v) differs from the resolvers\nquery: %s\ndirect:    %s %s\nresolvers: %s %s",
			answered, query, got.Data, got.Errors, want.Data, want.Errors)
	}
	return got, answered
}

// deepQuery reads the whole catalog down to instances, with every plain field
// the direct plan writes at each level.
const deepDirectQuery = `query($n: Int) {
  services(first: $n, orderBy: {field: NAME, direction: DESC}) { __typename nodes { __typename id name key description serviceLogoURL providerTenantId createdAt updatedAt version
    environments { nodes { id name key description type visibility autoApproveSubscription serviceId sourceEnvironmentId createdAt updatedAt version
      models { nodes { id name key description modelType serviceId environmentId createdAt updatedAt version
        tiers { edges { __typename node { id name key description tierType planDescription maxNumberOfInstances disabled autoApproveSubscription serviceId modelId createdAt updatedAt version
          subscriptions { nodes { id status tenantId tierId serviceId createdByUserId createdAt updatedAt version instances(first: 2) { nodes { id status } } } }
          resources { nodes { id name key description resourceType internal serviceId tierId createdAt updatedAt version
            instances(last: 3) { nodes { id status cloudProvider region networkType replicas resourceId subscriptionId tenantId createdByUserId createdAt updatedAt version quarantinedAt } }
          } }
        } } }
      } }
    } }
    instances(first: 4, filter: {status: [RUNNING, STOPPED]}) { nodes { id status } }
  } }
}`

// TestDirectMatchesResolvers sends queries to a server with direct execution
// and to one without, over the same data, and requires the same bytes: the
// direct plan writes each value as gqlgen would, and leaves to gqlgen what it
// cannot answer (direct: false).
func TestDirectMatchesResolvers(t *testing.T) {
	t.Parallel()
	p := setupDirect(t)
	for _, tc := range []struct {
		name, who, query string
		vars             map[string]any
		direct           bool
	}{
		{"DeepOwner", "owner", deepDirectQuery, nil, true},
		{"DeepAlice", "alice", deepDirectQuery, map[string]any{"n": 3}, true},
		{"DeepBob", "bob", deepDirectQuery, map[string]any{"n": 1}, true},
		{"Aliases", "owner", `{ a: services { list: nodes { ident: id id name } items: nodes { key } } b: services(first: 1) { nodes { name } } }`, nil, true},
		{"Fragments", "owner", `query { services { ...S } } fragment S on ServiceConnection { nodes { ... on Node { id } ... on Service { name environments { nodes { ...E } } } } } fragment E on ServiceEnvironment { key type }`, nil, true},
		{"IncludeSkip", "owner", `query($y: Boolean!, $n: Boolean!) { services { nodes { id name @include(if: $y) key @include(if: $n) environments @skip(if: $n) { nodes { id } } } } }`,
			map[string]any{"y": true, "n": false}, true},
		{"MergedFields", "owner", `{ services { nodes { id environments { nodes { id } } environments { nodes { name } } } } }`, nil, true},
		{"RootLists", "owner", `{ serviceEnvironments(first: 3) { nodes { id models { nodes { id } } } } serviceModels { nodes { id tiers(first: 1) { nodes { id } } } } productTiers(last: 2) { nodes { id } } resources(filter: {nameContains: "sql"}) { nodes { id name instances { nodes { id } } } } }`, nil, true},
		{"Filters", "owner", `{ services(filter: {nameContains: "MY"}) { nodes { environments(filter: {visibility: PUBLIC}) { nodes { id models(filter: {modelType: OMNISTRATE_HOSTED}) { nodes { tiers(filter: {disabled: false}) { nodes { id } } } } } } } } }`, nil, true},
		{"NothingMatches", "owner", `{ services(filter: {nameContains: "no such service"}) { nodes { id environments { nodes { id } } } } }`, nil, true},
		{"FirstZero", "owner", `{ services { nodes { id environments(first: 0) { nodes { id models { nodes { id } } } } } } }`, nil, true},
		{"Escaping", "owner", `{ services { nodes { description } } }`, nil, true},
		{"OrderByStatus", "alice", `{ services { nodes { instances(orderBy: {field: STATUS, direction: DESC}) { nodes { id status } } } } }`, nil, true},
		{"PageInfo", "owner", `{ services(first: 1) { pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor } nodes { id } } }`, nil, true},
		{"PageInfoNested", "owner", `{ services { nodes { environments(first: 1, orderBy: {field: NAME}) { p: pageInfo { hasNextPage endCursor } } models: environments(last: 1) { pageInfo { hasPreviousPage startCursor } } } } }`, nil, true},
		{"PageInfoEmpty", "owner", `{ services { nodes { environments(first: 0) { pageInfo { hasNextPage startCursor endCursor } } } } }`, nil, true},
		{"TotalCount", "alice", `{ services { totalCount nodes { environments { totalCount nodes { models { totalCount } } } instances(first: 1) { totalCount } } } }`, nil, true},
		{"Cursor", "owner", `{ services { edges { cursor node { id environments(orderBy: {field: NAME, direction: DESC}) { edges { cursor } } instances(orderBy: {field: UPDATED_AT}) { edges { cursor } } } } } }`, nil, true},
		{"CursorByName", "owner", `{ resources(orderBy: {field: KEY}) { edges { cursor } pageInfo { startCursor } } }`, nil, true},
		{"OwnedRoots", "bob", `{ instances(first: 2, filter: {status: [RUNNING, STOPPED]}) { nodes { id status createdAt } pageInfo { hasNextPage endCursor } totalCount } serviceSubscriptions { edges { cursor node { id status instances { nodes { id } } } } } }`, nil, true},
		{"OwnedRootsProvider", "owner", `{ instances(last: 3, orderBy: {field: STATUS}) { nodes { id status } pageInfo { hasPreviousPage startCursor } } }`, nil, true},
		{"Parents", "owner", `{ instances(first: 5) { nodes { id resource { id name tier { name model { key environment { name service { name } } } } } subscription { status tier { name } service { key } } } } }`, nil, true},
		{"ParentsAlice", "alice", `{ instances { edges { node { id resource { name tier { name } } subscription { id } } } pageInfo { hasNextPage } } }`, nil, true},
		{"ParentsNested", "owner", `{ services { nodes { environments { nodes { sourceEnvironment { id name } models { nodes { environment { id } tiers { nodes { model { id service { id } } resources { nodes { tier { id } service { id } instances { nodes { resource { name } subscription { tier { id } } } } } } } } } } } } } } }`, nil, true},
		{"ParentAliases", "owner", `{ resources(last: 2) { nodes { a: tier { name } b: tier { key } tier { __typename id } } } }`, nil, true},
		{"SingleInstance", "alice", `query($id: ID!) { instance(id: $id) { id status resource { name tier { name } } } }`, map[string]any{"id": p.e.demo.InstancesA[0]}, true},
		{"SingleService", "owner", `query($id: ID!) { service(id: $id) { __typename id name createdAt } }`, map[string]any{"id": p.e.demo.Service}, true},
		{"SingleSubscription", "bob", `query($id: ID!) { serviceSubscription(id: $id) { id status tier { name } service { name } } }`, map[string]any{"id": p.e.demo.SubB}, true},
		{"SingleNotFound", "alice", `{ instance(id: "instance-nosuchone") { id } }`, nil, true},
		{"SingleOtherTenant", "bob", `query($id: ID!) { other: instance(id: $id) { id resource { name } } }`, map[string]any{"id": p.e.demo.InstancesA[0]}, true},
		{"SingleWrongKind", "owner", `query($id: ID!) { service(id: $id) { id } }`, map[string]any{"id": p.e.demo.InstancesA[0]}, true},
		// Left to the resolvers.
		{"SingleWithConnection", "owner", `query($id: ID!) { service(id: $id) { id environments { nodes { id } } } }`, map[string]any{"id": p.e.demo.Service}, false},
		{"ParentWithConnection", "owner", `{ resources { nodes { tier { resources { nodes { id } } } } } }`, nil, false},
		{"ComputedField", "owner", `{ services { nodes { id provider { id } } } }`, nil, false},
		{"ListField", "owner", `{ productTiers { nodes { id awsRegions } } }`, nil, false},
		{"TooLarge", "owner", `{ services { nodes { environments(first: 501) { nodes { id } } } } }`, nil, false},
		{"BadCursor", "owner", `{ services(after: "nope") { nodes { id } } }`, nil, false},
		// A well-formed cursor whose time is not one: BAD_USER_INPUT, not
		// an SQL cast failing as INTERNAL.
		{"CursorNotATime", "owner", `{ resources(after: "WyJub3QtYS10aW1lIiwici14Il0") { nodes { id } } }`, nil, false},
		{"NotSignedIn", "", `{ services { nodes { id } } }`, nil, false},
		{"NotAConnection", "owner", `{ tenants { nodes { id } } }`, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, answered := p.compare(t, tc.who, tc.query, tc.vars)
			if answered != tc.direct {
				t.Errorf("answered directly: %v, want %v (data %.300s, errors %s)", answered, tc.direct, res.Data, res.Errors)
			}
		})
	}
}

// TestDirectPages pages through a list with the cursors the resolvers give:
// after and before read the same pages directly.
func TestDirectPages(t *testing.T) {
	t.Parallel()
	p := setupDirect(t)
	res := p.post(p.resolvers, "owner", `{ resources(first: 2) { edges { cursor } } }`, nil)
	var page struct {
		Resources struct{ Edges []struct{ Cursor string } }
	}
	if err := json.Unmarshal(res.Data, &page); err != nil || len(page.Resources.Edges) != 2 {
		t.Fatalf("no cursors: %s %s", res.Data, res.Errors)
	}
	c := page.Resources.Edges[1].Cursor
	res = p.post(p.resolvers, "owner", `{ instances(first: 3) { pageInfo { endCursor } } }`, nil)
	var ipage struct {
		Instances struct{ PageInfo struct{ EndCursor string } }
	}
	if err := json.Unmarshal(res.Data, &ipage); err != nil || ipage.Instances.PageInfo.EndCursor == "" {
		t.Fatalf("no cursor: %s %s", res.Data, res.Errors)
	}
	if _, answered := p.compare(t, "owner", `query($c: String) { instances(first: 3, after: $c) { nodes { id } pageInfo { hasPreviousPage hasNextPage } } }`,
		map[string]any{"c": ipage.Instances.PageInfo.EndCursor}); !answered {
		t.Error("the page of instances after a cursor was not answered directly")
	}
	for _, q := range []string{
		`query($c: String) { resources(first: 2, after: $c) { nodes { id name } } }`,
		`query($c: String) { resources(last: 1, before: $c) { nodes { id name } } }`,
		`query($c: String) { services { nodes { environments { nodes { models { nodes { tiers { nodes { resources(after: $c) { nodes { id } } } } } } } } } } }`,
	} {
		if _, answered := p.compare(t, "owner", q, map[string]any{"c": c}); !answered {
			t.Errorf("not answered directly: %s", q)
		}
	}
}

// TestDirectEveryField asks for each scalar field of each type under the
// catalog's connections, one at a time, and requires the resolvers' bytes;
// the fields answered directly must include the plain columns listed.
func TestDirectEveryField(t *testing.T) {
	t.Parallel()
	p := setupDirect(t)
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	paths := map[string]string{ // a query reaching each type, %s its selection
		"Service":             `{ services { nodes { %s } } }`,
		"ServiceEnvironment":  `{ serviceEnvironments { nodes { %s } } }`,
		"ServiceModel":        `{ serviceModels { nodes { %s } } }`,
		"ProductTier":         `{ productTiers { nodes { %s } } }`,
		"Resource":            `{ resources { nodes { %s } } }`,
		"ServiceSubscription": `{ productTiers { nodes { subscriptions { nodes { %s } } } } }`,
		"ResourceInstance":    `{ resources { nodes { instances { nodes { %s } } } } }`,
	}
	var direct []string
	for typ, q := range paths {
		for _, f := range schema.Types[typ].Fields {
			def := schema.Types[f.Type.Name()]
			if len(f.Arguments) > 0 || def == nil || (def.Kind != "SCALAR" && def.Kind != "ENUM") || strings.HasPrefix(f.Name, "__") {
				continue
			}
			for _, who := range []string{"owner", "alice"} {
				if _, answered := p.compare(t, who, fmt.Sprintf(q, f.Name), nil); answered {
					direct = append(direct, typ+"."+f.Name)
				}
			}
		}
	}
	for _, want := range []string{"Service.id", "Service.serviceLogoURL", "Service.createdAt", "ServiceEnvironment.visibility",
		"ServiceEnvironment.sourceEnvironmentId", "ProductTier.maxNumberOfInstances", "ProductTier.disabled", "Resource.internal",
		"ResourceInstance.status", "ResourceInstance.replicas", "ResourceInstance.quarantinedAt", "ServiceSubscription.createdByUserId"} {
		if !slices.Contains(direct, want) {
			t.Errorf("%s was not answered directly", want)
		}
	}
}

// TestDirectHiddenParents moves a resource and a tier where Alice cannot
// read them, under instances she can: an instance's resource she may not
// read is null (as its resolver answers), a resource's tier she may not
// read is NOT_FOUND (left to the resolvers); both as the resolvers say.
func TestDirectHiddenParents(t *testing.T) {
	t.Parallel()
	p := setupDirect(t)
	hideFromAlice(t, p.e)
	d := p.e.demo
	for _, tc := range []struct {
		name, query string
		vars        map[string]any
		direct      bool
	}{
		{"ResourceHidden", `query($id: ID!) { instance(id: $id) { id resource { name tier { name } } } }`, map[string]any{"id": d.InstancesA[1]}, true},
		{"TierHidden", `query($id: ID!) { instance(id: $id) { id resource { name tier { name } } } }`, map[string]any{"id": d.InstancesA[2]}, false},
		{"ListResourceHidden", `{ instances { nodes { id resource { name } subscription { id } } } }`, nil, true},
		{"ListTierHidden", `{ instances { nodes { id resource { name tier { name } } } } }`, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, answered := p.compare(t, "alice", tc.query, tc.vars)
			if answered != tc.direct {
				t.Errorf("answered directly: %v, want %v (data %.300s, errors %s)", answered, tc.direct, res.Data, res.Errors)
			}
		})
	}
}
