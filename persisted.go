package cairn

// PersistedDocument is a GraphQL document registered for a client (a trusted
// document): callable by its ID, and the only kind of document a client or API
// key in persisted-only mode may run.
type PersistedDocument struct {
	ClientName    string
	ID            string // the manifest's ID: Apollo's sha256 of the body, or Relay's ID
	SHA256        string // hex SHA-256 of Body
	Body          string
	OperationName string
}

// PersistedOnlySubject is what a persisted-only setting applies to.
type PersistedOnlySubject string

const (
	PersistedOnlyAPIKey PersistedOnlySubject = "API_KEY"
	PersistedOnlyClient PersistedOnlySubject = "CLIENT"
)

// PersistedOnlySetting puts an API key or a client in persisted-only mode (or
// takes it out), on behalf of a tenant whose admin decides.
type PersistedOnlySetting struct {
	TenantID string
	Kind     PersistedOnlySubject
	Subject  string // an API key ID or a client name
	Enabled  bool
}
