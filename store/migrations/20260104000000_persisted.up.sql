-- Persisted operations: automatic persisted queries (any client may add one,
-- keyed by the SHA-256 of its text), trusted documents registered per client,
-- and the persisted-only settings of API keys and clients.

CREATE TABLE apq_documents (
    sha256     text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    body       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- A client (an app, a partner integration) owns its trusted documents; the
-- tenant that registered it first owns the name.
CREATE TABLE persisted_clients (
    name       text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'),
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX persisted_clients_tenant_idx ON persisted_clients (tenant_id);

CREATE TABLE persisted_documents (
    client_name    text NOT NULL REFERENCES persisted_clients (name) ON DELETE CASCADE,
    id             text NOT NULL CHECK (id <> '' AND length(id) <= 200),
    sha256         text NOT NULL, -- of body, so the full text of a registered document is recognised
    body           text NOT NULL CHECK (body <> ''),
    operation_name text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_name, id)
);
CREATE INDEX persisted_documents_id_idx ON persisted_documents (id);
CREATE INDEX persisted_documents_sha_idx ON persisted_documents (client_name, sha256);

-- Persisted-only mode: subject is an API key ID (kind API_KEY) or a client
-- name (kind CLIENT). An API key setting binds only keys whose home tenant is
-- in the subtree of tenant_id, so an admin can only restrict their own keys.
CREATE TABLE persisted_only (
    kind       text NOT NULL CHECK (kind IN ('API_KEY', 'CLIENT')),
    subject    text NOT NULL CHECK (subject <> ''),
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    enabled    boolean NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, subject, tenant_id)
);
