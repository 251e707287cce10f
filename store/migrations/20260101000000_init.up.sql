-- The control-plane graph. Every table that can be scoped to a tenant carries
-- the tenant columns its scope needs (provider_tenant_id, tenant_id), so that
-- scoping is a predicate on the row, not a join.

CREATE TABLE tenants (
    id         text PRIMARY KEY,
    name       text NOT NULL CHECK (name <> ''),
    kind       text NOT NULL CHECK (kind IN ('ROOT', 'PARTNER', 'CUSTOMER', 'UNIT')),
    state      text NOT NULL DEFAULT 'ENABLED' CHECK (state IN ('ENABLED', 'DISABLED')),
    parent_id  text REFERENCES tenants (id),
    ancestors  text[] NOT NULL, -- root … self
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version    int NOT NULL DEFAULT 1
);
CREATE INDEX tenants_ancestors_idx ON tenants USING gin (ancestors);
CREATE INDEX tenants_parent_idx ON tenants (parent_id, created_at, id);

CREATE TABLE users (
    id            text PRIMARY KEY,
    email         text NOT NULL CHECK (email <> ''),
    name          text NOT NULL,
    tenant_id     text NOT NULL REFERENCES tenants (id),
    password_hash text,
    activated     boolean NOT NULL DEFAULT false,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    version       int NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_tenant_idx ON users (tenant_id, created_at, id);

CREATE TABLE role_bindings (
    id         text PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('ROOT', 'ADMIN', 'EDITOR', 'READER')),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, tenant_id, role)
);
CREATE INDEX role_bindings_tenant_idx ON role_bindings (tenant_id, created_at, id);

CREATE TABLE services (
    id                 text PRIMARY KEY,
    provider_tenant_id text NOT NULL REFERENCES tenants (id),
    name               text NOT NULL CHECK (name <> ''),
    key                text NOT NULL,
    description        text NOT NULL,
    service_logo_url   text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    version            int NOT NULL DEFAULT 1,
    UNIQUE (provider_tenant_id, key)
);
CREATE INDEX services_created_idx ON services (created_at, id);

CREATE TABLE service_environments (
    id                        text PRIMARY KEY,
    service_id                text NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    provider_tenant_id        text NOT NULL REFERENCES tenants (id),
    name                      text NOT NULL CHECK (name <> ''),
    key                       text NOT NULL,
    description               text NOT NULL,
    type                      text NOT NULL,
    visibility                text NOT NULL DEFAULT 'PRIVATE',
    auto_approve_subscription boolean NOT NULL DEFAULT false,
    source_environment_id     text REFERENCES service_environments (id) ON DELETE SET NULL,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    version                   int NOT NULL DEFAULT 1,
    UNIQUE (service_id, key)
);
CREATE INDEX service_environments_service_idx ON service_environments (service_id, created_at, id);
CREATE INDEX service_environments_public_idx ON service_environments (service_id) WHERE visibility = 'PUBLIC';

CREATE TABLE service_models (
    id                 text PRIMARY KEY,
    service_id         text NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    environment_id     text NOT NULL REFERENCES service_environments (id) ON DELETE CASCADE,
    provider_tenant_id text NOT NULL REFERENCES tenants (id),
    name               text NOT NULL CHECK (name <> ''),
    key                text NOT NULL,
    description        text NOT NULL,
    model_type         text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    version            int NOT NULL DEFAULT 1,
    UNIQUE (environment_id, key)
);
CREATE INDEX service_models_environment_idx ON service_models (environment_id, created_at, id);

CREATE TABLE product_tiers (
    id                        text PRIMARY KEY,
    service_id                text NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    environment_id            text NOT NULL REFERENCES service_environments (id) ON DELETE CASCADE,
    model_id                  text NOT NULL REFERENCES service_models (id) ON DELETE CASCADE,
    provider_tenant_id        text NOT NULL REFERENCES tenants (id),
    name                      text NOT NULL CHECK (name <> ''),
    key                       text NOT NULL,
    description               text NOT NULL,
    tier_type                 text NOT NULL,
    plan_description          text NOT NULL DEFAULT '',
    aws_regions               text[] NOT NULL DEFAULT '{}',
    gcp_regions               text[] NOT NULL DEFAULT '{}',
    azure_regions             text[] NOT NULL DEFAULT '{}',
    max_number_of_instances   int CHECK (max_number_of_instances >= 0),
    disabled                  boolean NOT NULL DEFAULT false,
    auto_approve_subscription boolean NOT NULL DEFAULT false,
    pricing                   jsonb NOT NULL DEFAULT '{}',
    features                  jsonb NOT NULL DEFAULT '{}',
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    version                   int NOT NULL DEFAULT 1,
    UNIQUE (model_id, key)
);
CREATE INDEX product_tiers_model_idx ON product_tiers (model_id, created_at, id);
CREATE INDEX product_tiers_environment_idx ON product_tiers (environment_id);

CREATE TABLE resources (
    id                 text PRIMARY KEY,
    service_id         text NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    environment_id     text NOT NULL REFERENCES service_environments (id) ON DELETE CASCADE,
    model_id           text NOT NULL REFERENCES service_models (id) ON DELETE CASCADE,
    tier_id            text NOT NULL REFERENCES product_tiers (id) ON DELETE CASCADE,
    provider_tenant_id text NOT NULL REFERENCES tenants (id),
    name               text NOT NULL CHECK (name <> ''),
    key                text NOT NULL,
    description        text NOT NULL,
    resource_type      text NOT NULL DEFAULT 'Generic',
    internal           boolean NOT NULL DEFAULT false,
    input_parameters   jsonb NOT NULL DEFAULT '[]',
    output_parameters  jsonb NOT NULL DEFAULT '[]',
    dependency_ids     text[] NOT NULL DEFAULT '{}',
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    version            int NOT NULL DEFAULT 1,
    UNIQUE (tier_id, key)
);
CREATE INDEX resources_tier_idx ON resources (tier_id, created_at, id);
CREATE INDEX resources_environment_idx ON resources (environment_id);

CREATE TABLE service_subscriptions (
    id                 text PRIMARY KEY,
    tenant_id          text NOT NULL REFERENCES tenants (id),
    tier_id            text NOT NULL REFERENCES product_tiers (id),
    service_id         text NOT NULL REFERENCES services (id),
    provider_tenant_id text NOT NULL REFERENCES tenants (id),
    status             text NOT NULL,
    created_by_user_id text REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    version            int NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX service_subscriptions_live_key ON service_subscriptions (tenant_id, tier_id) WHERE status <> 'CANCELLED';
CREATE INDEX service_subscriptions_tenant_idx ON service_subscriptions (tenant_id, created_at, id);
CREATE INDEX service_subscriptions_tier_idx ON service_subscriptions (tier_id, created_at, id);
CREATE INDEX service_subscriptions_service_idx ON service_subscriptions (service_id, created_at, id);
CREATE INDEX service_subscriptions_provider_idx ON service_subscriptions (provider_tenant_id);

CREATE TABLE resource_instances (
    id                 text PRIMARY KEY,
    resource_id        text NOT NULL REFERENCES resources (id),
    subscription_id    text NOT NULL REFERENCES service_subscriptions (id),
    tenant_id          text NOT NULL REFERENCES tenants (id),
    tier_id            text NOT NULL REFERENCES product_tiers (id),
    service_id         text NOT NULL REFERENCES services (id),
    provider_tenant_id text NOT NULL REFERENCES tenants (id),
    status             text NOT NULL,
    cloud_provider     text NOT NULL,
    region             text NOT NULL,
    network_type       text NOT NULL DEFAULT 'PUBLIC',
    request_params     jsonb NOT NULL DEFAULT '{}',
    result_params      jsonb NOT NULL DEFAULT '{}',
    replicas           int NOT NULL DEFAULT 1,
    created_by_user_id text REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    version            int NOT NULL DEFAULT 1
);
CREATE INDEX resource_instances_resource_idx ON resource_instances (resource_id, created_at, id);
CREATE INDEX resource_instances_subscription_idx ON resource_instances (subscription_id, created_at, id);
CREATE INDEX resource_instances_tenant_idx ON resource_instances (tenant_id, created_at, id);
CREATE INDEX resource_instances_tenant_status_idx ON resource_instances (tenant_id, status, created_at, id);
CREATE INDEX resource_instances_service_idx ON resource_instances (service_id, created_at, id);
CREATE INDEX resource_instances_provider_idx ON resource_instances (provider_tenant_id, created_at, id);
CREATE INDEX resource_instances_created_idx ON resource_instances (created_at, id);

-- Idempotency keys of creates: a retry with the same key and the same input
-- returns the first result; with another input it answers CONFLICT.
CREATE TABLE idempotency_keys (
    principal_id text NOT NULL,
    key          text NOT NULL,
    operation    text NOT NULL,
    input_hash   text NOT NULL,
    result_id    text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal_id, key)
);

-- The Ed25519 keys that sign Cairn's session tokens, shared by every replica.
CREATE TABLE signing_keys (
    id          text PRIMARY KEY,
    private_key bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
