-- Replicas cache the principals of users (store/principal_cache.go). Every
-- change to what such a principal is made of tells them at commit:
-- 'user <id>' when one user's row or role bindings change, '*' when a
-- tenant's state or place in the tree changes (rare: every replica drops its
-- whole cache). API-key principals are not cached.
CREATE FUNCTION cairn_principal_user_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'users' THEN
        PERFORM pg_notify('cairn_principals', 'user ' || OLD.id);
        IF TG_OP = 'UPDATE' AND NEW.id <> OLD.id THEN
            PERFORM pg_notify('cairn_principals', 'user ' || NEW.id);
        END IF;
    ELSE -- role_bindings
        IF TG_OP <> 'INSERT' THEN
            PERFORM pg_notify('cairn_principals', 'user ' || OLD.user_id);
        END IF;
        IF TG_OP <> 'DELETE' THEN
            PERFORM pg_notify('cairn_principals', 'user ' || NEW.user_id);
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION cairn_principal_all_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cairn_principals', '*');
    RETURN NULL;
END $$;

CREATE TRIGGER users_principal AFTER UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION cairn_principal_user_changed();
CREATE TRIGGER role_bindings_principal AFTER INSERT OR UPDATE OR DELETE ON role_bindings
    FOR EACH ROW EXECUTE FUNCTION cairn_principal_user_changed();
CREATE TRIGGER tenants_principal AFTER UPDATE OF id, state, parent_id, ancestors OR DELETE OR TRUNCATE ON tenants
    FOR EACH STATEMENT EXECUTE FUNCTION cairn_principal_all_changed();
CREATE TRIGGER users_truncate_principal AFTER TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION cairn_principal_all_changed();
CREATE TRIGGER role_bindings_truncate_principal AFTER TRUNCATE ON role_bindings
    FOR EACH STATEMENT EXECUTE FUNCTION cairn_principal_all_changed();
