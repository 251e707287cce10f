DROP TABLE instance_snapshots;
DROP TABLE instance_credentials;
ALTER TABLE resource_instances DROP COLUMN quarantine_previous_status;
ALTER TABLE resource_instances DROP COLUMN quarantined_at;
DROP TABLE audit_events;
DROP TABLE operations;
