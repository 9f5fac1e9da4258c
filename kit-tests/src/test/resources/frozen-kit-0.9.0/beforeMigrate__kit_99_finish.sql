-- Kit script 99 finish (run by Flyway before every migrate, after the others).
--
-- Takes EXECUTE on the kit's functions from PUBLIC (they are for migrations
-- and operators; app roles get the start-up gate's alone, kit.grant_app_role;
-- the kit changes nothing outside its own schema: a schema of the domain that
-- others may create in is a finding of kit.check_security()),
-- then, after an install or an upgrade, records the version (kit.version())
-- and the installation, and releases the installer's lock (00 begin). With
-- the same version installed it changes nothing.

-- Kit functions are for migrations and operators, not for app roles.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA kit FROM PUBLIC;
REVOKE EXECUTE ON ALL PROCEDURES IN SCHEMA kit FROM PUBLIC;

DO $$
DECLARE
    _action  text := current_setting('kit.install_action');
    _version text := current_setting('kit.incoming_version');
BEGIN
    IF _action IN ('install', 'upgrade') THEN
        EXECUTE format($fn$
            CREATE OR REPLACE FUNCTION kit.version() RETURNS text LANGUAGE sql IMMUTABLE
            SET search_path = pg_catalog, pg_temp AS $v$SELECT %L::text$v$
        $fn$, _version);
        INSERT INTO kit.installation (version, action, from_version)
        VALUES (_version, _action, nullif(current_setting('kit.installed_version'), ''));
        RAISE NOTICE 'kit: % is installed', _version;
    END IF;
    -- Except the installed kit's version, which any client may ask.
    IF to_regprocedure('kit.version()') IS NOT NULL THEN
        GRANT EXECUTE ON FUNCTION kit.version() TO PUBLIC;
    END IF;
    PERFORM pg_advisory_unlock(1263094, 0);
END
$$;
