-- Federated identity: OIDC identity providers and the identities they vouch
-- for, API keys of partner integrations, and per-tenant quotas.

CREATE TABLE identity_providers (
    id                     text PRIMARY KEY,
    tenant_id              text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name                   text NOT NULL CHECK (name <> ''),
    type                   text NOT NULL CHECK (type <> ''),
    issuer_url             text NOT NULL CHECK (issuer_url <> ''),
    authorization_endpoint text,
    token_endpoint         text,
    user_info_endpoint     text,
    client_id              text NOT NULL CHECK (client_id <> ''),
    client_secret          bytea NOT NULL, -- AES-GCM sealed with the server's secret key
    scopes                 text[] NOT NULL DEFAULT '{openid,email,profile}',
    email_identifiers      text[] NOT NULL DEFAULT '{}',
    default_role           text NOT NULL DEFAULT 'READER' CHECK (default_role IN ('ADMIN', 'EDITOR', 'READER')),
    login_button_text      text NOT NULL DEFAULT '',
    login_button_icon_url  text,
    disabled               boolean NOT NULL DEFAULT false,
    status                 text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'READY', 'FAILED')),
    status_reason          text NOT NULL DEFAULT '',
    verified_at            timestamptz,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    version                int NOT NULL DEFAULT 1
);
-- A bearer token names its issuer and audience: (issuer, client) finds one provider.
CREATE UNIQUE INDEX identity_providers_client_key ON identity_providers (issuer_url, client_id);
CREATE INDEX identity_providers_tenant_idx ON identity_providers (tenant_id, created_at, id);

-- A user as known to an issuer: (issuer, subject) maps to one Cairn user.
CREATE TABLE user_identities (
    issuer               text NOT NULL,
    subject              text NOT NULL,
    user_id              text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    identity_provider_id text NOT NULL REFERENCES identity_providers (id) ON DELETE CASCADE,
    email                text NOT NULL DEFAULT '',
    created_at           timestamptz NOT NULL DEFAULT now(),
    last_sign_in_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX user_identities_user_idx ON user_identities (user_id);

CREATE TABLE api_keys (
    id                 text PRIMARY KEY,
    tenant_id          text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name               text NOT NULL CHECK (name <> ''),
    role               text NOT NULL CHECK (role IN ('ROOT', 'ADMIN', 'EDITOR', 'READER')),
    secret_hash        text NOT NULL UNIQUE, -- SHA-256 of the whole key
    prefix             text NOT NULL,        -- the first characters, to recognise a key
    expires_at         timestamptz,
    last_used_at       timestamptz,
    revoked_at         timestamptz,
    created_by_user_id text REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    version            int NOT NULL DEFAULT 1
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, created_at, id);

-- Offering-item quotas (seed 003): a limit on a tenant's whole subtree.
CREATE TABLE tenant_quotas (
    id         text PRIMARY KEY,
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    item       text NOT NULL CHECK (item IN ('INSTANCES')),
    tier_id    text REFERENCES product_tiers (id) ON DELETE CASCADE,
    max        int NOT NULL CHECK (max >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version    int NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX tenant_quotas_key ON tenant_quotas (tenant_id, item, coalesce(tier_id, ''));
