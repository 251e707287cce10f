package cairn

import "context"

// PageArgs are the Relay pagination arguments of a connection field.
type PageArgs struct {
	First  *int
	After  *string
	Last   *int
	Before *string
}

// Page sizes: a connection asked for no size returns DefaultPageSize items and
// refuses more than MaxPageSize.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// PageInfo is Relay's page information.
type PageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     *string
	EndCursor       *string
}

// Edge is one item of a connection with its cursor.
type Edge[T any] struct {
	Cursor string
	Node   *T
}

// Connection is one page of a list, as Relay's connection specification
// describes. Count, set by the store, counts the whole filtered list; it runs
// only when a client asks for totalCount.
type Connection[T any] struct {
	Edges    []*Edge[T]
	PageInfo *PageInfo
	Count    func(ctx context.Context) (int, error)
}

// Nodes returns the items of the page, without their cursors.
func (c *Connection[T]) Nodes() []*T {
	nodes := make([]*T, len(c.Edges))
	for i, e := range c.Edges {
		nodes[i] = e.Node
	}
	return nodes
}

// TotalCount returns the number of items in the whole filtered list.
func (c *Connection[T]) TotalCount(ctx context.Context) (int, error) {
	if c.Count == nil {
		return len(c.Edges), nil
	}
	return c.Count(ctx)
}

// OrderDirection is ASC or DESC.
type OrderDirection string

const (
	OrderAsc  OrderDirection = "ASC"
	OrderDesc OrderDirection = "DESC"
)

// The connection types of the schema. gqlgen binds each GraphQL connection and
// edge type to one instance of the generic types above.
type (
	TenantConnection              = Connection[Tenant]
	TenantEdge                    = Edge[Tenant]
	UserConnection                = Connection[User]
	UserEdge                      = Edge[User]
	RoleBindingConnection         = Connection[RoleBinding]
	RoleBindingEdge               = Edge[RoleBinding]
	ServiceConnection             = Connection[Service]
	ServiceEdge                   = Edge[Service]
	ServiceEnvironmentConnection  = Connection[ServiceEnvironment]
	ServiceEnvironmentEdge        = Edge[ServiceEnvironment]
	ServiceModelConnection        = Connection[ServiceModel]
	ServiceModelEdge              = Edge[ServiceModel]
	ProductTierConnection         = Connection[ProductTier]
	ProductTierEdge               = Edge[ProductTier]
	ResourceConnection            = Connection[Resource]
	ResourceEdge                  = Edge[Resource]
	ServiceSubscriptionConnection = Connection[ServiceSubscription]
	ServiceSubscriptionEdge       = Edge[ServiceSubscription]
	ResourceInstanceConnection    = Connection[ResourceInstance]
	ResourceInstanceEdge          = Edge[ResourceInstance]
)

// Node is any object with a global ID (the schema's Node interface).
type Node interface{}
