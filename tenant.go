package cairn

import "time"

// Tenant is an organisation in the tenant tree: the root (the operator), its
// partners, their customers and the customers' units. A role granted on a
// tenant applies to the tenant and all its descendants.
type Tenant struct {
	ID        string      `bun:",pk"`
	Name      string      `bun:",notnull"`
	Kind      TenantKind  `bun:",notnull"`
	State     TenantState `bun:",notnull"`
	ParentID  *string
	Ancestors []string `bun:",array,notnull"` // the path from the root to the tenant, itself included
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int
}

// TenantFilter narrows a list of tenants. Nil fields do not filter.
type TenantFilter struct {
	Kind         *TenantKind
	State        *TenantState
	ParentID     *string
	NameContains *string
}

// CreateTenantInput creates a tenant under a parent the caller administers.
type CreateTenantInput struct {
	ParentID string
	Name     string
	Kind     TenantKind
}

// UpdateTenantInput changes a tenant; nil fields stay as they are.
type UpdateTenantInput struct {
	ID              string
	ExpectedVersion *int
	Name            *string
	State           *TenantState
}

// User is a person who signs in, belonging to one home tenant.
type User struct {
	ID           string `bun:",pk"`
	Email        string `bun:",notnull"`
	Name         string `bun:",notnull"`
	TenantID     string `bun:",notnull"`
	PasswordHash string `bun:",nullzero"` // never exposed
	Activated    bool   `bun:",notnull"`
	Disabled     bool   `bun:",notnull"`
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Version      int
}

// UserFilter narrows a list of users. Nil fields do not filter.
type UserFilter struct {
	TenantID      *string
	EmailContains *string
}

// CreateUserInput creates a user in a tenant. Without a password the user is
// created unactivated and activates by setting one later.
type CreateUserInput struct {
	TenantID string
	Email    string
	Name     string
	Password *string
	Role     *Role // granted on TenantID when set
}

// UpdateUserInput changes a user; nil fields stay as they are.
type UpdateUserInput struct {
	ID              string
	ExpectedVersion *int
	Name            *string
	Disabled        *bool
}

// SignUpInput creates a customer tenant and its first user, an ADMIN of it.
type SignUpInput struct {
	Email      string
	Name       string
	Password   string
	TenantName string
}

// SignInInput signs a user in with a password.
type SignInInput struct {
	Email    string
	Password string
}

// RoleBinding grants a user a role on a tenant and all its descendants.
type RoleBinding struct {
	ID        string `bun:",pk"`
	UserID    string `bun:",notnull"`
	TenantID  string `bun:",notnull"`
	Role      Role   `bun:",notnull"`
	CreatedAt time.Time
}

// RoleBindingFilter narrows a list of role bindings. Nil fields do not filter.
type RoleBindingFilter struct {
	TenantID *string
	UserID   *string
	Role     *Role
}

// CreateRoleBindingInput grants a role.
type CreateRoleBindingInput struct {
	UserID   string
	TenantID string
	Role     Role
}

// Order sorts a list by one of its fields; ties break on the ID.
type Order struct {
	Field     string
	Direction OrderDirection
}

// DeleteInput names the object to delete.
type DeleteInput struct {
	ID              string
	ExpectedVersion *int
}
