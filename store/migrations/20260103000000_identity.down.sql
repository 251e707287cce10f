DROP TABLE IF EXISTS tenant_quotas;
DROP TABLE IF EXISTS api_keys;
DROP TABLE IF EXISTS user_identities;
DROP TABLE IF EXISTS identity_providers;
