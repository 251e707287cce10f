DROP TRIGGER IF EXISTS role_bindings_truncate_principal ON role_bindings;
DROP TRIGGER IF EXISTS users_truncate_principal ON users;
DROP TRIGGER IF EXISTS tenants_principal ON tenants;
DROP TRIGGER IF EXISTS role_bindings_principal ON role_bindings;
DROP TRIGGER IF EXISTS users_principal ON users;
DROP FUNCTION IF EXISTS cairn_principal_all_changed();
DROP FUNCTION IF EXISTS cairn_principal_user_changed();
