-- Kit script 99 finish (run by Flyway before every migrate, after the others).
--
-- After an install or an upgrade: re-generates every function and trigger
-- the kit generated from the catalog (so a fix to a generator reaches every
-- existing feed), re-grants every app role, records the version
-- (kit.version()) and the installation, then releases the installer's lock.
-- With the same version installed it changes nothing.

-- Runs outside a transaction (see the .conf beside it): the regeneration
-- commits after each write table.
DO $$
BEGIN
    IF current_setting('kit.install_action') IN ('install', 'upgrade') THEN
        CALL kit.regenerate_generated_code();
        DROP FUNCTION IF EXISTS kit.advance_id_sequence();  -- kits before 0.2.0: its triggers are gone now
    END IF;
END
$$;

DO $$
DECLARE
    _action  text := current_setting('kit.install_action');
    _version text := current_setting('kit.incoming_version');
BEGIN
    IF _action IN ('install', 'upgrade') THEN
        PERFORM kit.grant_app_role(a.version) FROM kit.app_role a;
        EXECUTE format($fn$
            CREATE OR REPLACE FUNCTION kit.version() RETURNS text LANGUAGE sql IMMUTABLE
            SET search_path = pg_catalog, pg_temp AS $v$SELECT %L::text$v$
        $fn$, _version);
        GRANT EXECUTE ON FUNCTION kit.version() TO PUBLIC;
        INSERT INTO kit.installation (version, action, from_version)
        VALUES (_version, _action, nullif(current_setting('kit.installed_version'), ''));
        RAISE NOTICE 'kit: % is installed', _version;
    END IF;
    PERFORM pg_advisory_unlock(1263094, 0);
END
$$;
