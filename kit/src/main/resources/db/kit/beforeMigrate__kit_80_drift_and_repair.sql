-- Kit script 80 drift_and_repair (run by Flyway before every migrate, in file-name order).
-- Drift: where the database no longer holds what the kit's catalog says it
-- generated (a trigger disabled or dropped, a generated function replaced, a
-- grant revoked, a trigger the kit did not create on its tables), found
-- before any fact is lost; and the repair that restores it from the catalog.
-- Idempotent: CREATE OR REPLACE, safe to run again.

-- What a generated function should be, beside what the database has: one row
-- per function the kit generates (id assigners and claimers, projections,
-- feed triggers), each as its generator returns it now (kit.function_object:
-- the body PostgreSQL keeps as prosrc, and the attributes a function can
-- lose behind the kit's back: ALTER FUNCTION ... SECURITY INVOKER, RESET
-- search_path, CALLED ON NULL INPUT). Feeds whose read tables are missing
-- generate nothing (see kit.domain_table_exists); kit.drift() names the
-- tables instead.
CREATE OR REPLACE FUNCTION kit.generated_functions()
RETURNS TABLE (function_name text, installed regprocedure, expected_body text, security_definer boolean,
               config text[], strict boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT g.function_name, to_regprocedure(g.function_name), g.body, g.security_definer, g.config, g.strict
      FROM (SELECT w.id_space, min(w.id_sequence) AS id_sequence FROM kit.write_table w GROUP BY w.id_space) s
     CROSS JOIN LATERAL kit.assign_id_sql(s.id_space, s.id_sequence) g
    UNION ALL
    SELECT g.function_name, to_regprocedure(g.function_name), g.body, g.security_definer, g.config, g.strict
      FROM (SELECT DISTINCT w.id_space FROM kit.write_table w) s
     CROSS JOIN LATERAL kit.claim_id_sql(s.id_space) g
    UNION ALL
    SELECT g.function_name, to_regprocedure(g.function_name), g.body, g.security_definer, g.config, g.strict
      FROM (SELECT f.write_table, f.read_table, f.key_column, v.rebuild_of
              FROM kit.feed f JOIN kit.read_version v ON v.read_table = f.read_table
             WHERE v.state IN ('building', 'live') AND kit.domain_table_exists(f.read_table) AND kit.domain_table_exists(f.write_table)
               AND (v.rebuild_of IS NULL OR to_regclass(kit.relation(v.rebuild_of)) IS NOT NULL)
            OFFSET 0) f  -- filtered before the generator runs: it needs the tables
     CROSS JOIN LATERAL kit.projection_sql(write_table => f.write_table, read_table => coalesce(f.rebuild_of, f.read_table),
                                           key_column => f.key_column, target => f.read_table) g
    UNION ALL
    -- Generated once per write table; expected_body NULL: the kit generates none now.
    SELECT n.function_name, to_regprocedure(n.function_name), g.body, true, ARRAY['search_path=pg_catalog, pg_temp'] || kit.fact_settings(), false
      FROM (SELECT w.write_table FROM kit.write_table w WHERE kit.domain_table_exists(w.write_table) OFFSET 0) w
     CROSS JOIN LATERAL (SELECT kit.beside(w.write_table, kit.object_name('feed', w.write_table)) || '()' AS function_name) n
     CROSS JOIN LATERAL kit.feed_trigger_sql(w.write_table) g
     WHERE g.body IS NOT NULL OR to_regprocedure(n.function_name) IS NOT NULL
$$;

-- The damage kit.repair() cannot undo, one row each (kit.drift() lists it
-- too): a fact column a write table lost (its values went with it), and
-- NOT NULL columns without a DEFAULT of a live read table that an insert
-- feed's facts lack (every such fact would be refused).
CREATE OR REPLACE FUNCTION kit.unrepairable()
RETURNS TABLE (object text, problem text)
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT format('table %s', c.write_table),
           format('lost its fact column %I %s (it had it when it was created): its values are gone; restore them from a backup', c.column_name, c.type)
      FROM kit.write_column c
     WHERE kit.domain_table_exists(c.write_table)
       AND NOT EXISTS (SELECT FROM pg_attribute a
                        WHERE a.attrelid = kit.relation(c.write_table)::regclass AND a.attname = c.column_name
                          AND NOT a.attisdropped AND format_type(a.atttypid, a.atttypmod) = c.type)
    UNION ALL
    SELECT format('table %s', f.read_table),
           format('has NOT NULL columns without a DEFAULT that facts of %s lack (Columns: %s): every such fact is refused; give them a DEFAULT or drop NOT NULL',
                  f.write_table, u.columns)
      FROM kit.feed f JOIN kit.read_version v ON v.read_table = f.read_table AND v.state = 'live'
     CROSS JOIN LATERAL (SELECT kit.unfilled_columns(f.write_table, f.read_table) AS columns) u
     WHERE f.kind = 'insert' AND u.columns IS NOT NULL
$$;

-- Every way the database differs from what the kit generated and recorded,
-- one row each: the object and the problem. Empty when there is none. It
-- never fails on a damaged database: missing tables are findings too. Drift
-- in a feed means facts written since are missing from read tables: after
-- kit.repair(), verify and rebuild the tables it names.
CREATE OR REPLACE FUNCTION kit.drift()
RETURNS TABLE (object text, problem text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Write tables: the kit's triggers there, ENABLE ALWAYS; no others.
    RETURN QUERY
    SELECT format('trigger %s on %s', e.trigger_name, w.write_table),
           CASE WHEN t.oid IS NULL THEN 'missing'
                WHEN t.tgenabled = 'D' THEN 'disabled'
                WHEN t.tgenabled = 'R' THEN 'enabled only for replica sessions (ENABLE REPLICA): ordinary writes bypass it'
                ELSE 'enabled ORIGIN, not ALWAYS: writes under session_replication_role = replica bypass it' END
      FROM kit.write_table w
      CROSS JOIN LATERAL kit.expected_triggers(w.write_table) e
      LEFT JOIN pg_trigger t ON t.tgrelid = to_regclass(kit.relation(w.write_table)) AND t.tgname = e.trigger_name
     WHERE to_regclass(kit.relation(w.write_table)) IS NOT NULL
       AND (t.oid IS NULL OR t.tgenabled <> e.enabled);
    RETURN QUERY
    SELECT format('table %s', w.write_table), 'missing (a write table in the catalog)'
      FROM kit.write_table w WHERE to_regclass(kit.relation(w.write_table)) IS NULL;
    -- Partitions of a write table partitioned by seq: on each, its guard and the id triggers it has
    -- from the table, ENABLE ALWAYS (a statement on a partition fires its own statement triggers only);
    -- and the default partition, which takes the facts no other partition does.
    RETURN QUERY
    SELECT format('trigger %s on %s', e.trigger_name, p.partition_name),
           CASE WHEN t.oid IS NULL THEN 'missing'
                WHEN t.tgenabled = 'D' THEN 'disabled'
                WHEN t.tgenabled = 'R' THEN 'enabled only for replica sessions (ENABLE REPLICA): ordinary writes bypass it'
                ELSE 'enabled ORIGIN, not ALWAYS: writes under session_replication_role = replica bypass it' END
      FROM kit.write_table w
     CROSS JOIN LATERAL kit.write_table_partitions(w.write_table) p
     CROSS JOIN LATERAL (VALUES (kit.object_name('append_only', p.partition_name)), (kit.object_name('accept_id', w.write_table)),
                                (kit.object_name('assign_id', w.write_table))) e (trigger_name)
      LEFT JOIN pg_trigger t ON t.tgrelid = p.partition AND t.tgname = e.trigger_name
     WHERE w.partition_size IS NOT NULL AND (t.oid IS NULL OR t.tgenabled <> 'A');
    RETURN QUERY
    SELECT format('table %s', w.write_table), 'has no default partition: a fact whose seq no partition takes is refused'
      FROM kit.write_table w
     WHERE w.partition_size IS NOT NULL AND to_regclass(kit.relation(w.write_table)) IS NOT NULL
       AND NOT EXISTS (SELECT FROM kit.write_table_partitions(w.write_table) p WHERE p.from_seq IS NULL);

    -- Tables brought under the kit and still captured (kit.baseline): every change must become a fact.
    RETURN QUERY
    SELECT format('trigger %s on %s', k.trigger_name, b.source_table),
           CASE WHEN t.oid IS NULL THEN 'missing: changes to the table are not captured, and its read version misses them'
                ELSE 'not enabled ALWAYS: some changes to the table are not captured' END
      FROM kit.baseline_table b
     CROSS JOIN LATERAL (VALUES (kit.object_name('capture', b.source_table)), (kit.object_name('no_truncate', b.source_table))) k (trigger_name)
      LEFT JOIN pg_trigger t ON t.tgrelid = to_regclass(kit.relation(b.source_table)) AND t.tgname = k.trigger_name
     WHERE b.state IN ('copying', 'capturing') AND to_regclass(kit.relation(b.source_table)) IS NOT NULL
       AND (t.oid IS NULL OR t.tgenabled <> 'A');
    RETURN QUERY
    SELECT format('function %s()', c.function_name), 'differs from what the kit generates: changes to the table may not be captured as they are'
      FROM kit.baseline_table b
     CROSS JOIN LATERAL kit.capture_sql(b.source_table, b.key_column, b.recorded_table, b.removed_table) c
     WHERE b.state IN ('copying', 'capturing') AND to_regclass(kit.relation(b.source_table)) IS NOT NULL
       AND kit.domain_table_exists(b.recorded_table)
       AND (SELECT p.prosrc FROM pg_proc p WHERE p.oid = to_regprocedure(c.function_name)) IS DISTINCT FROM c.body;
    RETURN QUERY
    SELECT format('table %s', b.source_table),
           format('has columns its capture does not record (%s): their changes reach no fact; bring the table under the kit again in a new version',
                  string_agg(a.attname, ', ' ORDER BY a.attnum))
      FROM kit.baseline_table b
      JOIN pg_attribute a ON a.attrelid = to_regclass(kit.relation(b.source_table)) AND a.attnum > 0 AND NOT a.attisdropped
     WHERE b.state IN ('copying', 'capturing') AND a.attname <> b.key_column AND kit.domain_table_exists(b.recorded_table)
       AND NOT EXISTS (SELECT FROM pg_attribute r WHERE r.attrelid = to_regclass(kit.relation(b.recorded_table))
                          AND r.attname = a.attname AND r.attnum > 0 AND NOT r.attisdropped)
     GROUP BY b.source_table;

    -- Triggers the kit did not create, on its write and read tables: they run on every fact.
    RETURN QUERY
    SELECT format('trigger %s on %s', t.tgname, k.name), 'not created by the kit'
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     CROSS JOIN LATERAL (SELECT kit.kit_name(n.nspname, c.relname) AS name) k
     WHERE NOT t.tgisinternal AND n.oid IN (SELECT kit.domain_schemas())
       AND (k.name IN (SELECT v.read_table FROM kit.read_version v WHERE v.state IN ('building', 'live'))
            OR (k.name IN (SELECT w.write_table FROM kit.write_table w)
                AND t.tgname NOT IN (SELECT e.trigger_name FROM kit.expected_triggers(k.name) e)
                AND t.tgname <> kit.object_name('feed', k.name))  -- a feed trigger not needed: see its function
            -- on a partition of a partitioned write table: its guard, and the triggers it has from the table (tgparentid)
            OR (t.tgparentid = 0
                AND EXISTS (SELECT FROM kit.write_table w CROSS JOIN LATERAL kit.write_table_partitions(w.write_table) p
                             WHERE w.partition_size IS NOT NULL AND p.partition = c.oid
                               AND t.tgname <> kit.object_name('append_only', p.partition_name))));

    -- Generated functions: present, and exactly what the kit would generate now.
    RETURN QUERY
    SELECT format('function %s', g.function_name),
           CASE WHEN g.installed IS NULL THEN 'missing'
                WHEN g.expected_body IS NULL THEN 'feeds only read tables that are missing: the kit generates none now'
                WHEN p.prosrc IS DISTINCT FROM g.expected_body THEN 'differs from what the kit generates'
                WHEN p.prosecdef <> g.security_definer
                    THEN CASE WHEN g.security_definer THEN 'not SECURITY DEFINER' ELSE 'SECURITY DEFINER, which the kit never made it' END
                WHEN p.proconfig IS DISTINCT FROM g.config
                    THEN format('settings %s, where the kit sets %s', coalesce(array_to_string(p.proconfig, '; '), 'none'),
                                coalesce(array_to_string(g.config, '; '), 'none'))
                ELSE CASE WHEN g.strict THEN 'not STRICT' ELSE 'STRICT, which the kit never made it' END END
      FROM kit.generated_functions() g
      LEFT JOIN pg_proc p ON p.oid = g.installed
     WHERE g.installed IS NULL OR p.prosrc IS DISTINCT FROM g.expected_body OR p.prosecdef <> g.security_definer
        OR p.proconfig IS DISTINCT FROM g.config OR p.proisstrict <> g.strict;

    -- Read tables: present, with the kit's column and every rule they went live with.
    RETURN QUERY
    SELECT format('table %s', v.read_table),
           CASE WHEN to_regclass(kit.relation(v.read_table)) IS NULL
                THEN format('missing (a %s read version): renamed or dropped; its feeds are left out of the write tables'' triggers until it is back', v.state)
                ELSE 'has no last_fact_seq bigint NOT NULL column (the kit''s order guard)' END
      FROM kit.read_version v
     WHERE v.state IN ('building', 'live')
       AND NOT EXISTS (SELECT FROM pg_attribute a
                        WHERE a.attrelid = to_regclass(kit.relation(v.read_table)) AND a.attname = 'last_fact_seq'
                          AND a.atttypid = 'bigint'::regtype AND a.attnotnull AND NOT a.attisdropped);
    RETURN QUERY
    SELECT format('table %s', v.read_table), format('lost its rule %s %s (it had it when it went live)', m.kind, m.definition)
      FROM kit.read_version v
     CROSS JOIN LATERAL kit.missing_read_rules(v.read_table, to_regclass(kit.relation(v.read_table))) m
     WHERE v.state = 'live' AND to_regclass(kit.relation(v.read_table)) IS NOT NULL;

    -- What no repair can restore: lost fact columns, NOT NULL read columns no feed fills.
    RETURN QUERY SELECT u.object, u.problem FROM kit.unrepairable() u;

    -- A logical-replication subscription that brings a write table's facts but not the live read
    -- tables it feeds: its apply worker fires row triggers only (the id claimer), never the
    -- statement-level feed trigger, so those facts would reach no read table here.
    RETURN QUERY
    SELECT DISTINCT format('subscription %s', s.subname),
           format('replicates write table %s but not read table %s: the apply worker fires no statement trigger, so these facts reach no read table here (add the read table to the publication)',
                  f.write_table, f.read_table)
      FROM pg_subscription s
      JOIN pg_subscription_rel w ON w.srsubid = s.oid
      JOIN kit.feed f ON to_regclass(kit.relation(f.write_table)) = w.srrelid
      JOIN kit.read_version v ON v.read_table = f.read_table AND v.state = 'live'
     WHERE s.subdbid = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
       AND NOT EXISTS (SELECT FROM pg_subscription_rel r WHERE r.srsubid = s.oid
                          AND r.srrelid = to_regclass(kit.relation(f.read_table)));

    -- The privileges the kit grants each app role of a schema version in use, and no kit function beyond the gate's.
    RETURN QUERY
    SELECT format('role %s', a.role_name), format('cannot %s %s', x.privilege, x.object)
      FROM kit.app_roles_in_use() a
      CROSS JOIN LATERAL kit.app_role_privileges(a.version, a.role_name, a.domain) x
     WHERE NOT x.held;
    RETURN QUERY
    SELECT format('role %s', a.role_name),
           format('can run %s (app roles run kit code only through its triggers, the start-up gate and kit.register_client)', p.oid::regprocedure)
      FROM kit.app_role a
      JOIN pg_roles r ON r.rolname = a.role_name
      JOIN pg_proc p ON p.pronamespace = 'kit'::regnamespace
     WHERE p.oid <> ALL (kit.gate_functions() || 'kit.version()'::regprocedure)
       AND p.prorettype <> 'trigger'::regtype
       AND has_function_privilege(r.oid, p.oid, 'EXECUTE')
       AND NOT (p.oid = 'kit.forget(text, bigint, text)'::regprocedure
                AND EXISTS (SELECT FROM kit.forget_grant g WHERE g.domain = a.domain AND g.version = a.version));
    RETURN QUERY
    SELECT format('role %s', x.role_name), format('can %s %s (%s)', x.privilege, x.relation, x.why)
      FROM kit.excess_app_privileges() x;
    RETURN QUERY
    SELECT format('role %s', x.member), format('is a member of %s (each version''s role reaches its own tables only)', x.granted)
      FROM kit.app_role_memberships() x;
END
$$;

-- Restores from the catalog what kit.drift() finds the kit generated and
-- recorded and the database lost: first every read table's recorded columns
-- and rules (a column comes back empty: kit rebuild fills it; a rule only
-- when the rows allow), then every generated function and trigger
-- (kit.regenerate_generated_code, which also puts back a missing id
-- assigner), the kit's triggers enabled ALWAYS, a missing append-only guard
-- (on each partition of a partitioned write table too, and its default
-- partition: kit.add_partitions),
-- every app role's grants, and no more than those (privileges beyond them,
-- and memberships between app roles, are revoked). Triggers the kit did not
-- create are reported by kit.drift(), never dropped: they are somebody's.
-- Each table is changed under a brief lock. What it cannot restore it says,
-- in a WARNING each starting 'kit: repair cannot' (and kit.drift() still
-- lists it): a missing table, a lost fact column, a rule the rows break, a
-- NOT NULL column no feed fills. Facts written while a feed was off are not
-- in the read tables: verify and rebuild after a repair.
CREATE OR REPLACE PROCEDURE kit.repair()
LANGUAGE plpgsql
AS $$
DECLARE
    _write   text;
    _trigger record;
    _version record;
    _read    text;
    _rule    record;
    _role    text;
    _finding record;
BEGIN
    FOR _read IN SELECT v.read_table FROM kit.read_version v WHERE v.state = 'live' ORDER BY v.read_table LOOP
        IF NOT kit.domain_table_exists(_read) THEN
            RAISE WARNING 'kit: repair cannot restore table % (a live read version): it was renamed or dropped. Rename it back, or restore it, then run kit repair and kit verify %; until then its own feeds are left out (writes go on without it), and read versions that check references against it refuse their facts.', _read, _read;
            CONTINUE;
        END IF;
        FOR _rule IN SELECT * FROM kit.missing_read_rules(_read, kit.relation(_read)::regclass) ORDER BY kind, definition LOOP
            BEGIN
                -- Building an index holds writers for as long as it takes: the price of putting a rule back.
                PERFORM kit.lock_briefly(ARRAY[kit.relation(_read)::regclass], 'ACCESS EXCLUSIVE', 'restore a rule of ' || _read);
                EXECUTE kit.read_rule_sql(kit.relation(_read)::regclass, _rule.kind, _rule.definition);
                IF _rule.kind = 'column' THEN
                    RAISE WARNING 'kit: repair put back column % of % empty: kit rebuild % fills it from the facts', _rule.definition, _read, _read;
                END IF;
            EXCEPTION
                WHEN integrity_constraint_violation THEN
                    RAISE WARNING 'kit: repair cannot restore the rule % % of %: its rows break it (%). If the rows are wrong (kit verify % compares them with the facts), kit rebuild % and repair again; if the facts break it (kit verify names them), serve them from a new read version whose rules they satisfy.',
                        _rule.kind, _rule.definition, _read, SQLERRM, _read, _read;
                WHEN OTHERS THEN
                    RAISE WARNING 'kit: repair cannot restore the rule % % of % (%: %): change the table back by hand, or record its rules as they are now with SELECT kit.record_read_rules(%L).',
                        _rule.kind, _rule.definition, _read, SQLSTATE, SQLERRM, _read;
            END;
            COMMIT;
        END LOOP;
    END LOOP;
    CALL kit.regenerate_generated_code();
    -- The capture of each table still under it (kit.baseline): its function and triggers, as the kit makes them.
    FOR _finding IN SELECT b.source_table, b.key_column, b.recorded_table, b.removed_table FROM kit.baseline_table b
                     WHERE b.state IN ('copying', 'capturing') AND to_regclass(kit.relation(b.source_table)) IS NOT NULL
                       AND kit.domain_table_exists(b.recorded_table) AND kit.domain_table_exists(b.removed_table) LOOP
        PERFORM kit.lock_briefly(ARRAY[kit.relation(_finding.source_table)::regclass], 'SHARE ROW EXCLUSIVE',
                                 'repair the capture of ' || _finding.source_table);
        PERFORM kit.capture(_finding.source_table, _finding.key_column, _finding.recorded_table, _finding.removed_table);
        COMMIT;
    END LOOP;
    FOR _write IN SELECT w.write_table FROM kit.write_table w ORDER BY w.write_table LOOP
        IF NOT kit.domain_table_exists(_write) THEN
            RAISE WARNING 'kit: repair cannot restore write table % (its facts): it was renamed or dropped. Rename it back, or restore it from a backup, then run kit repair.', _write;
            CONTINUE;
        END IF;
        PERFORM kit.lock_briefly(ARRAY[kit.relation(_write)::regclass], 'SHARE ROW EXCLUSIVE', 'repair ' || _write);
        IF NOT EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = kit.relation(_write)::regclass
                          AND t.tgname = kit.object_name('append_only', _write)) THEN
            PERFORM kit.create_append_only_guard(kit.relation(_write)::regclass, _write);
        END IF;
        FOR _trigger IN SELECT e.trigger_name FROM kit.expected_triggers(_write) e
                          JOIN pg_trigger t ON t.tgrelid = kit.relation(_write)::regclass AND t.tgname = e.trigger_name
                         WHERE t.tgenabled <> e.enabled LOOP
            EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', kit.relation(_write), _trigger.trigger_name);
        END LOOP;
        -- A partitioned one: the guard on each partition, its triggers ALWAYS, a default partition.
        BEGIN
            PERFORM kit.add_partitions(_write, domain => kit.key_schema(_write)) FROM kit.write_table w WHERE w.write_table = _write AND w.partition_size IS NOT NULL;
        EXCEPTION WHEN SQLSTATE 'KT006' OR SQLSTATE 'KT007' THEN
            -- A table in the way of a partition it would attach back, a lock it could not get: the rest is repaired still.
            RAISE WARNING 'kit: repair cannot restore the partitions of %: %', _write, SQLERRM;
        END;
        COMMIT;
    END LOOP;
    FOR _version IN SELECT a.version, a.domain FROM kit.app_roles_in_use() a LOOP
        PERFORM kit.grant_app_role(_version.version, _version.domain);
    END LOOP;
    FOR _role IN SELECT a.role_name FROM kit.app_role a WHERE EXISTS (SELECT FROM pg_roles r WHERE r.rolname = a.role_name)
                    AND (a.domain, a.version) NOT IN (SELECT u.domain, u.version FROM kit.app_roles_in_use() u) LOOP
        PERFORM kit.grant_start_up_gate(_role);
    END LOOP;
    FOR _finding IN SELECT * FROM kit.excess_app_privileges() LOOP
        EXECUTE format('REVOKE %s ON %s FROM %I', _finding.privilege, kit.relation(_finding.relation), _finding.role_name);
        EXECUTE format('REVOKE %s ON %s FROM PUBLIC', _finding.privilege, kit.relation(_finding.relation));
    END LOOP;
    FOR _finding IN SELECT * FROM kit.app_role_memberships() LOOP
        EXECUTE format('REVOKE %I FROM %I', _finding.granted, _finding.member);
    END LOOP;
    FOR _finding IN SELECT * FROM kit.unsanctioned_forgetters() LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION kit.forget(text, bigint, text) FROM %I', _finding.role_name);
        IF EXISTS (SELECT FROM kit.forget_role) THEN
            EXECUTE format('REVOKE %I FROM %I', kit.forget_role_name(), _finding.role_name);
        END IF;
    END LOOP;
    FOR _finding IN SELECT u.object, u.problem FROM kit.unrepairable() u LOOP
        RAISE WARNING 'kit: repair cannot restore % (%)', _finding.object, _finding.problem;
    END LOOP;
    COMMIT;
END
$$;
