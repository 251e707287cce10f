-- Lifecycle: operations (long work on instances) and audit events (every
-- change, written in the transaction of the change; seq orders them and is
-- the cursor of subscriptions).

CREATE TABLE operations (
    id text PRIMARY KEY,
    action text NOT NULL,
    status text NOT NULL,
    instance_id text NOT NULL,
    tenant_id text NOT NULL,
    provider_tenant_id text NOT NULL,
    service_id text NOT NULL,
    target_status text,
    params jsonb NOT NULL DEFAULT '{}',
    error text,
    attempts integer NOT NULL DEFAULT 0,
    created_by_user_id text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    finished_at timestamptz
);
CREATE INDEX operations_instance_idx ON operations (instance_id, created_at, id);
CREATE INDEX operations_tenant_idx ON operations (tenant_id, created_at, id);

CREATE TABLE audit_events (
    seq bigserial NOT NULL UNIQUE,
    id text PRIMARY KEY,
    time timestamptz NOT NULL,
    source text NOT NULL,
    type text NOT NULL,
    message text NOT NULL,
    user_id text,
    tenant_id text NOT NULL,
    provider_tenant_id text NOT NULL,
    service_id text NOT NULL,
    subscription_id text,
    instance_id text,
    operation_id text,
    previous_status text,
    status text,
    workflow_failures jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX audit_events_instance_idx ON audit_events (instance_id, seq);
CREATE INDEX audit_events_tenant_idx ON audit_events (tenant_id, seq);
CREATE INDEX audit_events_provider_idx ON audit_events (provider_tenant_id, seq);
CREATE INDEX audit_events_service_idx ON audit_events (service_id, seq);
CREATE INDEX audit_events_operation_idx ON audit_events (operation_id, seq);
CREATE INDEX audit_events_time_idx ON audit_events (time, seq);

-- Instances in quarantine (seed 002: delete first quarantines).
ALTER TABLE resource_instances ADD COLUMN quarantined_at timestamptz;
ALTER TABLE resource_instances ADD COLUMN quarantine_previous_status text;

-- Per-instance connection credentials (seed 002).
CREATE TABLE instance_credentials (
    id text PRIMARY KEY,
    instance_id text NOT NULL REFERENCES resource_instances (id) ON DELETE CASCADE,
    username text NOT NULL,
    password text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    UNIQUE (instance_id, username)
);

-- Snapshots of instances: taken and restored by lifecycle operations.
CREATE TABLE instance_snapshots (
    id text PRIMARY KEY,
    instance_id text NOT NULL REFERENCES resource_instances (id) ON DELETE CASCADE,
    status text NOT NULL,
    request_params jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX instance_snapshots_instance_idx ON instance_snapshots (instance_id, created_at, id);
