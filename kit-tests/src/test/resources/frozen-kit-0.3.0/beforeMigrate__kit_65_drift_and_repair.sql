-- Kit script 65 drift_and_repair (run by Flyway before every migrate, in file-name order).
-- Drift: where the database no longer holds what the kit's catalog says it
-- generated (a trigger disabled or dropped, a generated function replaced, a
-- grant revoked, a trigger the kit did not create on its tables), found
-- before any fact is lost; and the repair that restores it from the catalog.
-- Idempotent: CREATE OR REPLACE, safe to run again.

-- The body of a function as PostgreSQL stores it (pg_proc.prosrc), from the
-- CREATE FUNCTION statement a kit generator returns ($body$ quoted).
CREATE OR REPLACE FUNCTION kit.function_body(create_sql text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT substring(function_body.create_sql FROM 'AS \$body\$(.*?)\$body\$')
$$;

-- What a generated function should be, beside what the database has: one row
-- per function the kit generates (id assigners, projections, feed triggers).
CREATE OR REPLACE FUNCTION kit.generated_functions()
RETURNS TABLE (function_name text, installed regprocedure, expected_body text, security_definer boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, public
AS $$
    SELECT format('kit.%I()', kit.object_name('id_space', w.id_space)),
           to_regprocedure(format('kit.%I()', kit.object_name('id_space', w.id_space))),
           kit.function_body(kit.assign_id_sql(w.id_space, min(w.id_sequence))), false
      FROM kit.write_table w GROUP BY w.id_space
    UNION ALL
    SELECT format('public.%I(bigint, bigint)', f.projection),
           to_regprocedure(format('public.%I(bigint, bigint)', f.projection)),
           kit.function_body(kit.projection_sql(f.write_table, coalesce(v.rebuild_of, f.read_table), f.key_column, f.read_table)), false
      FROM kit.feed f JOIN kit.read_version v ON v.read_table = f.read_table
     WHERE v.state IN ('building', 'live') AND to_regclass(format('public.%I', f.read_table)) IS NOT NULL
    UNION ALL
    SELECT format('public.%I()', kit.object_name('feed', w.write_table)),
           to_regprocedure(format('public.%I()', kit.object_name('feed', w.write_table))),
           kit.function_body(t.create_sql), true
      FROM kit.write_table w
     CROSS JOIN LATERAL (SELECT kit.feed_trigger_sql(w.write_table) AS create_sql) t
     WHERE t.create_sql IS NOT NULL  -- generated once per write table
$$;

-- The triggers the kit puts on a write table, and whether each must be there
-- and how enabled: the append-only guard (ALWAYS), the id assigner, and the
-- feed trigger while the table feeds a live read version.
CREATE OR REPLACE FUNCTION kit.expected_triggers(write_table text)
RETURNS TABLE (trigger_name text, enabled "char")
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT kit.object_name('append_only', expected_triggers.write_table), 'A'::"char"
    UNION ALL
    SELECT kit.object_name('assign_id', expected_triggers.write_table), 'O'::"char"
    UNION ALL
    SELECT kit.object_name('feed', expected_triggers.write_table), 'O'::"char"
     WHERE EXISTS (SELECT FROM kit.feed f JOIN kit.read_version v ON v.read_table = f.read_table
                    WHERE f.write_table = expected_triggers.write_table AND v.state = 'live')
$$;

-- Every way the database differs from what the kit generated, one row each:
-- the object and the problem. Empty when there is none. Drift in a feed
-- means facts written since are missing from read tables: after kit.repair(),
-- verify and rebuild the tables it names.
CREATE OR REPLACE FUNCTION kit.drift()
RETURNS TABLE (object text, problem text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public
AS $$
BEGIN
    -- Write tables: the kit's triggers there, enabled as the kit enables them; no others.
    RETURN QUERY
    SELECT format('trigger %s on %s', e.trigger_name, w.write_table),
           CASE WHEN t.oid IS NULL THEN 'missing'
                WHEN e.enabled = 'A' AND t.tgenabled <> 'A' THEN 'not enabled ALWAYS'
                ELSE 'disabled' END
      FROM kit.write_table w
      CROSS JOIN LATERAL kit.expected_triggers(w.write_table) e
      LEFT JOIN pg_trigger t ON t.tgrelid = to_regclass(format('public.%I', w.write_table)) AND t.tgname = e.trigger_name
     WHERE to_regclass(format('public.%I', w.write_table)) IS NOT NULL
       AND (t.oid IS NULL OR t.tgenabled = 'D' OR (e.enabled = 'A' AND t.tgenabled <> 'A'));
    RETURN QUERY
    SELECT format('table %s', w.write_table), 'missing (a write table in the catalog)'
      FROM kit.write_table w WHERE to_regclass(format('public.%I', w.write_table)) IS NULL;

    -- Triggers the kit did not create, on its write and read tables: they run on every fact.
    RETURN QUERY
    SELECT format('trigger %s on %s', t.tgname, c.relname), 'not created by the kit'
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
     WHERE NOT t.tgisinternal AND c.relnamespace = 'public'::regnamespace
       AND (c.relname IN (SELECT v.read_table FROM kit.read_version v WHERE v.state IN ('building', 'live'))
            OR (c.relname IN (SELECT w.write_table FROM kit.write_table w)
                AND t.tgname NOT IN (SELECT e.trigger_name FROM kit.expected_triggers(c.relname) e)));

    -- Generated functions: present, and exactly what the kit would generate now.
    RETURN QUERY
    SELECT format('function %s', g.function_name),
           CASE WHEN g.installed IS NULL THEN 'missing'
                WHEN p.prosrc IS DISTINCT FROM g.expected_body THEN 'differs from what the kit generates'
                ELSE 'not SECURITY DEFINER' END
      FROM kit.generated_functions() g
      LEFT JOIN pg_proc p ON p.oid = g.installed
     WHERE g.installed IS NULL OR p.prosrc IS DISTINCT FROM g.expected_body OR p.prosecdef <> g.security_definer;

    -- Read tables: present, with the kit's column.
    RETURN QUERY
    SELECT format('table %s', v.read_table),
           CASE WHEN to_regclass(format('public.%I', v.read_table)) IS NULL THEN format('missing (a %s read version)', v.state)
                ELSE 'has no last_fact_seq bigint NOT NULL column (the kit''s order guard)' END
      FROM kit.read_version v
     WHERE v.state IN ('building', 'live')
       AND NOT EXISTS (SELECT FROM pg_attribute a
                        WHERE a.attrelid = to_regclass(format('public.%I', v.read_table)) AND a.attname = 'last_fact_seq'
                          AND a.atttypid = 'bigint'::regtype AND a.attnotnull AND NOT a.attisdropped);

    -- The privileges the kit grants each app role of a schema version in use.
    RETURN QUERY
    SELECT format('role %s', a.role_name), format('cannot %s %s', x.privilege, x.relation)
      FROM kit.app_role a
      JOIN kit.schema_versions s ON s.version = a.version AND s.state IN ('building', 'live')
      CROSS JOIN LATERAL (
          SELECT 'SELECT' AS privilege, r.read_table AS relation FROM kit.schema_version_read r
            JOIN kit.read_version v ON v.read_table = r.read_table
           WHERE r.version = a.version AND v.state = 'live'
          UNION ALL
          SELECT 'INSERT', t FROM kit.schema_version_write_tables(a.version) AS t) x
     WHERE EXISTS (SELECT FROM pg_roles r WHERE r.rolname = a.role_name)
       AND to_regclass(format('public.%I', x.relation)) IS NOT NULL
       AND NOT CASE x.privilege
               WHEN 'SELECT' THEN has_table_privilege(a.role_name, format('public.%I', x.relation), 'SELECT')
               ELSE has_any_column_privilege(a.role_name, format('public.%I', x.relation), 'INSERT') END;
END
$$;

-- Restores from the catalog what kit.drift() finds the kit generated and
-- lost: every generated function and feed trigger (kit.regenerate_generated_code,
-- which also puts back a missing id assigner), the kit's triggers enabled as
-- it enables them, a missing append-only guard, and every app role's grants.
-- Triggers the kit did not create are reported by kit.drift(), never dropped:
-- they are somebody's. Each write table is switched under a brief lock.
-- Facts written while a feed was off are not in the read tables: verify and
-- rebuild after a repair.
CREATE OR REPLACE PROCEDURE kit.repair()
LANGUAGE plpgsql
AS $$
DECLARE
    _write   text;
    _trigger record;
    _version integer;
BEGIN
    CALL kit.regenerate_generated_code();
    FOR _write IN SELECT w.write_table FROM kit.write_table w
                   WHERE to_regclass(format('public.%I', w.write_table)) IS NOT NULL ORDER BY w.write_table LOOP
        PERFORM kit.lock_briefly(ARRAY[format('public.%I', _write)::regclass], 'SHARE ROW EXCLUSIVE', 'repair ' || _write);
        IF NOT EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = format('public.%I', _write)::regclass
                          AND t.tgname = kit.object_name('append_only', _write)) THEN
            EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE OR TRUNCATE ON public.%I
                            FOR EACH STATEMENT EXECUTE FUNCTION kit.refuse_change_of_fact()',
                           kit.object_name('append_only', _write), _write);
        END IF;
        FOR _trigger IN SELECT e.trigger_name, e.enabled FROM kit.expected_triggers(_write) e
                          JOIN pg_trigger t ON t.tgrelid = format('public.%I', _write)::regclass AND t.tgname = e.trigger_name
                         WHERE t.tgenabled <> e.enabled LOOP
            EXECUTE format('ALTER TABLE public.%I ENABLE %s TRIGGER %I', _write,
                           CASE _trigger.enabled WHEN 'A' THEN 'ALWAYS' ELSE '' END, _trigger.trigger_name);
        END LOOP;
        COMMIT;
    END LOOP;
    FOR _version IN SELECT a.version FROM kit.app_role a JOIN kit.schema_versions s USING (version)
                     WHERE s.state IN ('building', 'live') AND EXISTS (SELECT FROM pg_roles r WHERE r.rolname = a.role_name)
                     ORDER BY a.version LOOP
        PERFORM kit.grant_app_role(_version);
    END LOOP;
    COMMIT;
END
$$;
