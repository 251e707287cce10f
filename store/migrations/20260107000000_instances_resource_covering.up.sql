-- A page of a resource's instances (Resource.instances, the deep read's
-- last level: one index descent per resource) reads its rows from the index
-- alone when the selection asks only for id and status: the scope's columns
-- and the status ride along (an index-only scan, once VACUUM has marked the
-- pages all-visible). Same key as before, so every other plan is unchanged.
DROP INDEX resource_instances_resource_idx;
CREATE INDEX resource_instances_resource_idx ON resource_instances (resource_id, created_at, id)
  INCLUDE (status, tenant_id, provider_tenant_id);
