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
DECLARE
    _read text;
BEGIN
    IF current_setting('kit.install_action') IN ('install', 'upgrade') THEN
        -- Read tables of kits before 0.4.0 lack first_fact_seq (the seq of the fact that created
        -- the row): added, empty for old rows, before the feeds that fill it are generated; one
        -- brief lock at a time.
        FOR _read IN SELECT v.read_table FROM kit.read_version v
                      WHERE v.state IN ('building', 'live') AND to_regclass(format('public.%I', v.read_table)) IS NOT NULL LOOP
            PERFORM kit.add_first_fact_seq(_read);
            COMMIT;
        END LOOP;
        CALL kit.regenerate_generated_code();
        -- The feeds fill first_fact_seq from here on; the rows made before get theirs, once.
        FOR _read IN SELECT v.read_table FROM kit.read_version v
                      WHERE v.state IN ('building', 'live') AND to_regclass(format('public.%I', v.read_table)) IS NOT NULL
                        AND current_setting('kit.install_action') = 'upgrade'
                        AND string_to_array(current_setting('kit.installed_version'), '.')::integer[] < ARRAY[0, 4, 0] LOOP
            CALL kit.fill_first_fact_seq(_read);
        END LOOP;
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
        -- Kits before 0.4.0 recorded no rules nor fact columns: recorded as they are now.
        PERFORM kit.record_write_columns(w.write_table) FROM kit.write_table w
          WHERE to_regclass(format('public.%I', w.write_table)) IS NOT NULL
            AND NOT EXISTS (SELECT FROM kit.write_column c WHERE c.write_table = w.write_table);
        PERFORM kit.record_read_rules(v.read_table) FROM kit.read_version v
          WHERE v.state = 'live' AND to_regclass(format('public.%I', v.read_table)) IS NOT NULL
            AND NOT EXISTS (SELECT FROM kit.read_rule r WHERE r.read_table = v.read_table);
        PERFORM kit.grant_app_role(a.version) FROM kit.app_roles_in_use() a;
        -- Roles of aborted versions keep nothing on the domain (kits before 0.4.0 left it), and
        -- those of retired versions only the gate of the kit's functions.
        PERFORM kit.revoke_app_role(s.version) FROM kit.schema_versions s WHERE s.state = 'aborted';
        PERFORM kit.grant_start_up_gate(a.role_name) FROM kit.app_role a JOIN kit.schema_versions s USING (version)
          WHERE s.state = 'retired' AND EXISTS (SELECT FROM pg_roles r WHERE r.rolname = a.role_name);
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
