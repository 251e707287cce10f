package main

import "time"

// workload is one GraphQL operation driven at one number of connections.
type workload struct {
	Slug, Name  string
	Who         string // demo user: owner, alice or bob
	Query       string
	Vars        map[string]any
	Connections int
	Mutation    bool
	MinDuration time.Duration // at least this long, whatever -d says (slow requests)

	// Filled in by capture.
	Statements int      // reported by the server (extensions.sqlStatements)
	Captured   int      // run on the database, counting the sign-in check outside the counter
	Script     string   // the pgbench script of the captured SQL
	Defines    []string // pgbench -D name=value: the values of its statements' parameters
	Prepared   bool     // the server prepares some statement: pgbench runs -M prepared
	Err        string   // why it could not be measured
}

// deepQuery is workload 1: the first 50 generated services and below them
// every environment, model, tier and resource, and the first 10 instances
// of each resource (50 × 3 × 2 × 3 × 3 × 10 = 27,000 instances). The name
// filter leaves out the demo's own service, so the 50 are the generated ones.
const deepQuery = `query Deep {
  services(first: 50, filter: {nameContains: "Service"}) { nodes { id
    environments(first: 3) { nodes { id
      models(first: 2) { nodes { id
        tiers(first: 3) { nodes { id
          resources(first: 3) { nodes { id
            instances(first: 10) { nodes { id status } }
          } }
        } }
      } }
    } }
  } }
}`

// smallQuery is workload 2: one instance with its resource's and tier's names.
const smallQuery = `query Small($id: ID!) {
  instance(id: $id) { id status resource { name tier { name } } }
}`

// pageQuery is workload 3: a page of 100 RUNNING instances of the caller's
// tenant, after a cursor or from the start.
const pageQuery = `query Page($after: String) {
  instances(first: 100, after: $after, filter: {status: [RUNNING]}) {
    nodes { id status createdAt }
    pageInfo { hasNextPage endCursor }
  }
}`

// createQuery is workload 4: create an instance.
const createQuery = `mutation Create($input: CreateInstanceInput!) {
  createInstance(input: $input) { instance { id status } }
}`

// workloads returns every workload over the data of d, in the order they
// run: reads first, so the mutations' new rows do not change what they read.
func workloads(d *dataset) []*workload {
	create := map[string]any{"input": map[string]any{
		"resourceId": d.resourceID, "subscriptionId": d.subID, "cloudProvider": "aws", "region": "us-east-1",
	}}
	return []*workload{
		{Slug: "deep-c1", Name: "1 deep read (27,000 instances)", Who: "owner", Query: deepQuery, Connections: 1},
		{Slug: "deep-c10", Name: "1 deep read (27,000 instances)", Who: "owner", Query: deepQuery, Connections: 10, MinDuration: 30 * time.Second},
		{Slug: "small-c1", Name: "2 small read (instance by id)", Who: "alice", Query: smallQuery, Vars: map[string]any{"id": d.smallID}, Connections: 1},
		{Slug: "small-c10", Name: "2 small read (instance by id)", Who: "alice", Query: smallQuery, Vars: map[string]any{"id": d.smallID}, Connections: 10},
		{Slug: "page-first", Name: "3 page of 100, first", Who: "bob", Query: pageQuery, Connections: 10},
		{Slug: "page-deep", Name: "3 page of 100, deep", Who: "bob", Query: pageQuery, Vars: map[string]any{"after": d.deepCursor}, Connections: 10},
		{Slug: "create-c1", Name: "4 createInstance", Who: "alice", Query: createQuery, Vars: create, Connections: 1, Mutation: true},
		{Slug: "create-c10", Name: "4 createInstance", Who: "alice", Query: createQuery, Vars: create, Connections: 10, Mutation: true},
	}
}
