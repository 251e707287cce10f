package cairn

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// ID prefixes of the identity area.
const (
	PrefixIdentityProvider = "idp"
	PrefixAPIKey           = "apikey"
	PrefixQuota            = "quota"
)

// IdentityProviderStatus says whether an identity provider answered its
// discovery document when last verified.
type IdentityProviderStatus string

// Identity provider statuses.
const (
	IdentityProviderPending IdentityProviderStatus = "PENDING" // never verified
	IdentityProviderReady   IdentityProviderStatus = "READY"   // discovery and JWKS answered
	IdentityProviderFailed  IdentityProviderStatus = "FAILED"  // see StatusReason
)

// IdentityProvider is an OpenID Connect provider registered by a tenant: its
// users sign in with it (the authorization-code flow) or send its tokens as
// bearer tokens. The client secret is not part of this type: it is stored
// sealed and never leaves the store but to the code exchange.
type IdentityProvider struct {
	ID                    string `bun:",pk"`
	TenantID              string `bun:",notnull"`
	Name                  string `bun:",notnull"`
	Type                  string `bun:",notnull"` // seed 001's identityProviderName: Google, Okta, OIDC…
	IssuerURL             string `bun:"issuer_url,notnull"`
	AuthorizationEndpoint *string
	TokenEndpoint         *string
	UserInfoEndpoint      *string
	ClientID              string                 `bun:"client_id,notnull"`
	Scopes                []string               `bun:",array,notnull"`
	EmailIdentifiers      []string               `bun:",array,notnull"` // the email domains allowed to sign in
	DefaultRole           Role                   `bun:",notnull"`       // granted on TenantID to users provisioned on first sign-in
	LoginButtonText       string                 `bun:",notnull"`
	LoginButtonIconURL    *string                `bun:"login_button_icon_url"`
	Disabled              bool                   `bun:",notnull"`
	Status                IdentityProviderStatus `bun:",notnull"`
	StatusReason          string                 `bun:",notnull"`
	VerifiedAt            *time.Time
	CreatedAt             time.Time
	UpdatedAt             time.Time
	Version               int
}

// IdentityProviderFilter narrows a list of identity providers. Nil fields do
// not filter.
type IdentityProviderFilter struct {
	TenantID *string
	Disabled *bool
}

// CreateIdentityProviderInput registers an identity provider for a tenant
// (seed 001's CreateIdentityProvider).
type CreateIdentityProviderInput struct {
	TenantID              string
	Name                  string
	Type                  string
	IssuerURL             string
	AuthorizationEndpoint *string
	TokenEndpoint         *string
	UserInfoEndpoint      *string
	ClientID              string
	ClientSecret          string // write-only
	Scopes                []string
	EmailIdentifiers      []string
	DefaultRole           *Role
	LoginButtonText       *string
	LoginButtonIconURL    *string
	Disabled              *bool
}

// UpdateIdentityProviderInput changes an identity provider; nil fields stay.
type UpdateIdentityProviderInput struct {
	ID                    string
	ExpectedVersion       *int
	Name                  *string
	IssuerURL             *string
	AuthorizationEndpoint *string
	TokenEndpoint         *string
	UserInfoEndpoint      *string
	ClientID              *string
	ClientSecret          *string // write-only
	Scopes                []string
	EmailIdentifiers      []string
	DefaultRole           *Role
	LoginButtonText       *string
	LoginButtonIconURL    *string
	Disabled              *bool
}

// FederatedIdentity is what a verified token of an identity provider says
// about its user.
type FederatedIdentity struct {
	Issuer        string
	Subject       string
	Email         string
	EmailVerified *bool
	Name          string
}

// APIKey is a secret a partner integration sends as a bearer token. It is
// bound to one tenant and one role; the secret itself is stored hashed and
// shown once, when the key is created.
type APIKey struct {
	ID              string `bun:",pk"`
	TenantID        string `bun:",notnull"`
	Name            string `bun:",notnull"`
	Role            Role   `bun:",notnull"`
	Prefix          string `bun:",notnull"`
	ExpiresAt       *time.Time
	LastUsedAt      *time.Time
	RevokedAt       *time.Time
	CreatedByUserID *string
	CreatedAt       time.Time
	UpdatedAt       time.Time
	Version         int
}

// APIKeyFilter narrows a list of API keys. Nil fields do not filter.
type APIKeyFilter struct {
	TenantID *string
	Revoked  *bool
}

// CreateAPIKeyInput mints an API key.
type CreateAPIKeyInput struct {
	TenantID  string
	Name      string
	Role      Role
	ExpiresAt *time.Time
}

// UpdateAPIKeyInput renames a key or changes when it expires (a time in the
// past expires it now); nil fields stay.
type UpdateAPIKeyInput struct {
	ID              string
	ExpectedVersion *int
	Name            *string
	ExpiresAt       *time.Time
}

// QuotaItem is an offering item a quota limits (seed 003).
type QuotaItem string

// Quota items.
const (
	QuotaInstances QuotaItem = "INSTANCES" // resource instances not being deleted
)

// TenantQuota limits an offering item over a tenant's whole subtree,
// optionally for one product tier only.
type TenantQuota struct {
	ID        string    `bun:",pk"`
	TenantID  string    `bun:",notnull"`
	Item      QuotaItem `bun:",notnull"`
	TierID    *string
	Max       int `bun:",notnull"`
	Used      int `bun:",scanonly"`
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int
}

// SetQuotaInput sets (creates or replaces) the quota of an item on a tenant.
type SetQuotaInput struct {
	TenantID string
	Item     QuotaItem
	TierID   *string
	Max      int
}

// DeleteQuotaInput removes the quota of an item on a tenant.
type DeleteQuotaInput struct {
	TenantID string
	Item     QuotaItem
	TierID   *string
}

// SetUserPasswordInput sets a user's password, which activates an invited
// user (seed 003's POST /users/{id}/password).
type SetUserPasswordInput struct {
	UserID   string
	Password string
}

// LoginAvailability answers whether an email can be used for a new user
// (seed 003's check_login).
type LoginAvailability struct {
	Email     string
	Available bool
}

// Names the schema binds to (its types are ApiKey, ApiKeyConnection…).
type (
	ApiKey                     = APIKey //nolint:revive // the schema's name
	ApiKeyConnection           = Connection[APIKey]
	ApiKeyEdge                 = Edge[APIKey]
	ApiKeyFilter               = APIKeyFilter
	CreateApiKeyInput          = CreateAPIKeyInput
	UpdateApiKeyInput          = UpdateAPIKeyInput
	IdentityProviderConnection = Connection[IdentityProvider]
	IdentityProviderEdge       = Edge[IdentityProvider]
)

var identityEnums = map[string][]string{
	"IdentityProviderStatus": {"PENDING", "READY", "FAILED"},
	"QuotaItem":              {"INSTANCES"},
}

func unmarshalIdentityEnum(kind string, v any) (string, error) {
	s, ok := v.(string)
	if !ok || !slices.Contains(identityEnums[kind], s) {
		return "", fmt.Errorf("%v is not a valid %s: use one of %v", v, kind, identityEnums[kind])
	}
	return s, nil
}

func (e IdentityProviderStatus) MarshalGQL(w io.Writer) { marshalEnum(w, string(e)) }
func (e QuotaItem) MarshalGQL(w io.Writer)              { marshalEnum(w, string(e)) }

func (e *IdentityProviderStatus) UnmarshalGQL(v any) error {
	s, err := unmarshalIdentityEnum("IdentityProviderStatus", v)
	*e = IdentityProviderStatus(s)
	return err
}
func (e *QuotaItem) UnmarshalGQL(v any) error {
	s, err := unmarshalIdentityEnum("QuotaItem", v)
	*e = QuotaItem(s)
	return err
}
