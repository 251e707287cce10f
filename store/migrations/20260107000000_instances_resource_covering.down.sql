DROP INDEX resource_instances_resource_idx;
CREATE INDEX resource_instances_resource_idx ON resource_instances (resource_id, created_at, id);
