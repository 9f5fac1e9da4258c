-- Kit script 60 verify_rebuild_retire (run by Flyway before every migrate, in file-name order).
-- Operators' functions: verify, rebuild, retire, and the start-up gate's lock.
-- Idempotent: CREATE OR REPLACE / IF NOT EXISTS, safe to run again.

-- What depends on a read table and would block the swap at the end of its
-- rebuild (the old table is dropped): views, materialized views and rules
-- that use it, and foreign keys of other tables that reference it.
CREATE OR REPLACE FUNCTION kit.rebuild_blockers(read_table text)
RETURNS TABLE (dependent text)
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT DISTINCT format('%s %s', CASE c.relkind WHEN 'm' THEN 'materialized view' WHEN 'v' THEN 'view' ELSE 'rule on' END,
                           c.oid::regclass)
      FROM pg_depend d
      JOIN pg_rewrite r ON r.oid = d.objid
      JOIN pg_class c ON c.oid = r.ev_class
     WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
       AND d.refobjid = format('public.%I', rebuild_blockers.read_table)::regclass AND c.oid <> d.refobjid
    UNION
    SELECT format('foreign key %s on %s', k.conname, k.conrelid::regclass)
      FROM pg_constraint k
     WHERE k.contype = 'f' AND k.confrelid = format('public.%I', rebuild_blockers.read_table)::regclass
       AND k.conrelid <> k.confrelid
$$;

-- Gives `target` the grants and the comment `source` has (table and column
-- grants to every role, PUBLIC included), so that the table swapped in by a
-- rebuild keeps what users gave the one it replaces.
CREATE OR REPLACE FUNCTION kit.copy_grants_and_comment(source regclass, target regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    _grant record;
BEGIN
    FOR _grant IN
        SELECT NULL::name AS column_name, a.privilege_type, a.grantee, a.is_grantable
          FROM pg_class c, aclexplode(c.relacl) a
         WHERE c.oid = copy_grants_and_comment.source AND a.grantee <> c.relowner
        UNION ALL
        SELECT t.attname, a.privilege_type, a.grantee, a.is_grantable
          FROM pg_attribute t, aclexplode(t.attacl) a
         WHERE t.attrelid = copy_grants_and_comment.source AND t.attacl IS NOT NULL AND NOT t.attisdropped
           AND a.grantee <> (SELECT c.relowner FROM pg_class c WHERE c.oid = copy_grants_and_comment.source)
    LOOP
        EXECUTE format('GRANT %s%s ON %s TO %s%s', _grant.privilege_type,
                       CASE WHEN _grant.column_name IS NULL THEN '' ELSE format(' (%I)', _grant.column_name) END,
                       copy_grants_and_comment.target,
                       CASE WHEN _grant.grantee = 0 THEN 'PUBLIC' ELSE format('%I', pg_get_userbyid(_grant.grantee)) END,
                       CASE WHEN _grant.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
    EXECUTE format('COMMENT ON TABLE %s IS %L', copy_grants_and_comment.target,
                   obj_description(copy_grants_and_comment.source, 'pg_class'));
END
$$;

-- Starts an online rebuild of a live read table: a shadow table of the same
-- shape, fed by the same write tables, is backfilled like a new read version
-- (CALL kit.backfill(shadow)); when it has caught up it replaces the live
-- table under a short lock, with the live table's grants and comments
-- (kit.copy_grants_and_comment). Refuses up front, before creating anything,
-- when something depends on the table that the swap would have to drop
-- (kit.rebuild_blockers). Returns the shadow's name.
CREATE OR REPLACE FUNCTION kit.begin_rebuild(read_table text)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    _shadow   text := kit.object_name('shadow', begin_rebuild.read_table);
    _feed     record;
    _blockers text;
BEGIN
    PERFORM kit.require_state(begin_rebuild.read_table, ARRAY['live']);
    IF NOT kit.domain_table_exists(begin_rebuild.read_table) THEN
        PERFORM kit.usage_error(format('Cannot rebuild %s: its table is missing (renamed or dropped)', begin_rebuild.read_table),
                                'kit status names the damage; rename the table back or restore it, then kit repair and rebuild.');
    END IF;
    SELECT string_agg(d.dependent, ', ' ORDER BY d.dependent) INTO _blockers FROM kit.rebuild_blockers(begin_rebuild.read_table) d;
    IF _blockers IS NOT NULL THEN
        PERFORM kit.usage_error(format('Cannot rebuild %s: objects depend on it that the swap would have to drop (Dependents: %s)',
                                       begin_rebuild.read_table, _blockers),
                                'Drop them, rebuild, then create them again; nothing was changed.');
    END IF;
    IF EXISTS (SELECT FROM kit.read_version v WHERE v.read_table = _shadow) THEN
        PERFORM kit.usage_error(format('A rebuild of %s is already under way (Shadow table: %s)', begin_rebuild.read_table, _shadow),
                                'Run kit backfill to complete it, or kit abort ' || _shadow || ' to drop it.');
    END IF;
    EXECUTE format('CREATE TABLE public.%I (LIKE public.%I INCLUDING ALL)', _shadow, begin_rebuild.read_table);
    -- A rule dropped from the live table since it went live is put back on the shadow: the
    -- rebuild then refuses, and names, the facts that break it.
    PERFORM kit.add_missing_read_rules(begin_rebuild.read_table, format('public.%I', _shadow)::regclass);
    INSERT INTO kit.read_version (read_table, entity, rebuild_of)
    SELECT _shadow, v.entity, v.read_table FROM kit.read_version v WHERE v.read_table = begin_rebuild.read_table;
    INSERT INTO kit.read_reference (read_table, column_name, referenced_table)
    SELECT _shadow, rr.column_name, rr.referenced_table FROM kit.read_reference rr WHERE rr.read_table = begin_rebuild.read_table;
    FOR _feed IN SELECT * FROM kit.feed f WHERE f.read_table = begin_rebuild.read_table ORDER BY f.position LOOP
        EXECUTE kit.projection_sql(_feed.write_table, begin_rebuild.read_table, _feed.key_column, _shadow);
        INSERT INTO kit.feed (write_table, read_table, kind, key_column, projection, trigger_name)
        VALUES (_feed.write_table, _shadow, _feed.kind, _feed.key_column,
                kit.object_name('projection', _feed.write_table, _shadow), kit.object_name('feed', _feed.write_table));
    END LOOP;
    RETURN _shadow;
END
$$;

-- Rebuilds a live read table online: begin_rebuild, then the backfill of the
-- shadow, which swaps it in under a short lock when complete.
CREATE OR REPLACE PROCEDURE kit.rebuild(read_table text)
LANGUAGE plpgsql
AS $$
DECLARE
    _shadow text;
BEGIN
    _shadow := kit.begin_rebuild(rebuild.read_table);
    COMMIT;
    CALL kit.backfill(_shadow);
END
$$;

-- Compares a live read table with a replay of its facts and returns the rows
-- that differ (at most max_rows): 'only in live' or 'only in rebuild'; and
-- the facts that break one of its rules, which a rebuild would refuse
-- ('fact breaks a rule', naming the fact by write table and seq; facts
-- written while the kit's triggers were bypassed can be such).
--
-- It never holds writers up: it reads the live table and the facts as of one
-- snapshot (the caller's REPEATABLE READ transaction; the kit command opens
-- one), takes no lock beyond a plain SELECT's, and replays into a temporary
-- table (pg_temp.kit_verify) that has every rule the version went live
-- with, so the live table gets no dead tuples. The replay runs the
-- projections the kit would generate now from the catalog (kit.feed_sql, as
-- temporary functions), not the functions installed in the database: a
-- tampered projection cannot vouch for itself. When a unique rule refuses a
-- fact, the replay runs again with the insert feeds listing the facts they
-- refuse (one subtransaction for the whole verify, never one per batch).
-- Progress as NOTICEs every few seconds on large tables.
CREATE OR REPLACE FUNCTION kit.verify_read_table(read_table text, max_rows integer DEFAULT 20)
RETURNS TABLE (difference text, row_data jsonb)
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    _feed     record;
    _mode     text;
    _failure  jsonb := '[]';
    _diff     jsonb;
BEGIN
    PERFORM kit.require_state(verify_read_table.read_table, ARRAY['live']);
    IF current_setting('transaction_isolation') NOT IN ('repeatable read', 'serializable') THEN
        PERFORM kit.usage_error(
            format('Verify reads the table and its facts as of one snapshot: call it in a REPEATABLE READ transaction (Read table: %s)',
                   verify_read_table.read_table),
            'BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM kit.verify_read_table(...); COMMIT; (kit verify does this)');
    END IF;
    IF to_regclass(format('public.%I', verify_read_table.read_table)) IS NULL THEN
        PERFORM kit.usage_error(format('Cannot verify %s: its table is missing (renamed or dropped)', verify_read_table.read_table),
                                'kit status names the damage; rename the table back or restore it, then verify again.');
    END IF;
    PERFORM kit.drop_verify_scratch();
    EXECUTE format('CREATE TEMP TABLE kit_verify (LIKE public.%I INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING INDEXES INCLUDING CONSTRAINTS)',
                   verify_read_table.read_table);
    -- The replay keeps every rule the version went live with, also one dropped from the live table since.
    PERFORM kit.add_missing_read_rules(verify_read_table.read_table, 'pg_temp.kit_verify'::regclass);
    CREATE TEMP TABLE kit_verify_rejected (write_table text NOT NULL, seq bigint NOT NULL, rule text NOT NULL DEFAULT 'a unique rule');
    FOR _feed IN SELECT f.write_table, f.key_column, f.position FROM kit.feed f
                  WHERE f.read_table = verify_read_table.read_table LOOP
        FOREACH _mode IN ARRAY ARRAY['plain', 'finder'] LOOP
            EXECUTE format($fn$
                CREATE FUNCTION pg_temp.%1$I(from_seq bigint, to_seq bigint) RETURNS void LANGUAGE plpgsql AS $body$
                DECLARE
                    _applied bigint;
                BEGIN
                %2$s
                END
                $body$
                $fn$, format('kit_verify_%s_%s', _mode, _feed.position),
                kit.feed_sql(_feed.write_table, verify_read_table.read_table, _feed.key_column, 'kit_verify',
                             kit.fact_range_sql(_feed.write_table, '$1', '$2'), checks => false, name_rejections => false,
                             target_schema => 'pg_temp',
                             rejected_into => CASE _mode WHEN 'finder' THEN 'pg_temp.kit_verify_rejected' END));
        END LOOP;
    END LOOP;
    BEGIN
        PERFORM kit.verify_replay(verify_read_table.read_table, 'plain');
    EXCEPTION
        WHEN unique_violation THEN
            TRUNCATE pg_temp.kit_verify;
            BEGIN
                PERFORM kit.verify_replay(verify_read_table.read_table, 'finder');
            EXCEPTION WHEN integrity_constraint_violation THEN
                _failure := jsonb_build_array(jsonb_build_object('error', SQLSTATE || ': ' || SQLERRM));
            END;
        WHEN integrity_constraint_violation THEN
            -- A rule ON CONFLICT cannot skip (CHECK, NOT NULL): the replay stops at the first fact that breaks it.
            _failure := jsonb_build_array(jsonb_build_object('error', SQLSTATE || ': ' || SQLERRM));
    END;
    -- Facts that name an entity no row was made for before them: the live path refuses them
    -- (KT004), a replay passes over them; written while the kit's triggers were off.
    FOR _feed IN SELECT f.write_table, f.key_column AS fact_column, f.read_table AS target, 'pg_temp.kit_verify' AS relation
                   FROM kit.feed f WHERE f.read_table = verify_read_table.read_table AND f.kind = 'update'
                 UNION ALL
                 SELECT f.write_table, rr.column_name, rr.referenced_table, format('public.%I', rr.referenced_table)
                   FROM kit.feed f JOIN kit.read_reference rr ON rr.read_table = f.read_table
                  WHERE f.read_table = verify_read_table.read_table AND f.kind = 'insert'
                    AND kit.domain_table_exists(rr.referenced_table) LOOP
        EXECUTE format($q$
            INSERT INTO pg_temp.kit_verify_rejected (write_table, seq, rule)
            SELECT %1$L, f.seq, %5$L FROM public.%1$I AS f
             WHERE NOT EXISTS (SELECT FROM %3$s AS r WHERE r.id = f.%2$I AND (r.first_fact_seq IS NULL OR r.first_fact_seq < f.seq))
            $q$, _feed.write_table, _feed.fact_column, _feed.relation, _feed.target,
            format('%s names no row of %s made before it', _feed.fact_column, _feed.target));
    END LOOP;
    EXECUTE format($q$
        SELECT coalesce(jsonb_agg(d), '[]') FROM (
            (SELECT 'only in live' AS difference, to_jsonb(r) AS row_data FROM public.%1$I AS r
             EXCEPT ALL SELECT 'only in live', to_jsonb(s) FROM pg_temp.kit_verify AS s)
            UNION ALL
            (SELECT 'only in rebuild', to_jsonb(s) FROM pg_temp.kit_verify AS s
             EXCEPT ALL SELECT 'only in rebuild', to_jsonb(r) FROM public.%1$I AS r)
            ORDER BY 2 LIMIT $1) AS d
        $q$, verify_read_table.read_table) INTO _diff USING verify_read_table.max_rows;
    RETURN QUERY
    SELECT 'fact breaks a rule', jsonb_build_object('fact', format('%s seq %s', x.write_table, x.seq), 'rule', x.rule) || x.fact
      FROM kit.rejected_facts() x ORDER BY x.seq LIMIT verify_read_table.max_rows;
    RETURN QUERY SELECT 'replay fails', e FROM jsonb_array_elements(_failure) AS e;
    PERFORM kit.drop_verify_scratch();
    RETURN QUERY SELECT d ->> 'difference', d -> 'row_data' FROM jsonb_array_elements(_diff) AS d;
END
$$;

-- Verify's replay of read_table into pg_temp.kit_verify through the
-- temporary functions of `mode` (plain, or finder: see kit.verify_read_table),
-- batch by batch, insert feeds first.
CREATE OR REPLACE FUNCTION kit.verify_replay(read_table text, mode text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    _feeds    text[];
    _last     bigint := -1;
    _batch    record;
    _done     bigint := 0;
    _total    bigint := kit.facts_after(verify_replay.read_table, -1);
    _reported timestamptz := clock_timestamp();
BEGIN
    SELECT array_agg(format('kit_verify_%s_%s', verify_replay.mode, f.position) ORDER BY f.kind = 'update', f.position)
      INTO _feeds FROM kit.feed f WHERE f.read_table = verify_replay.read_table;
    LOOP
        _batch := kit.next_batch(verify_replay.read_table, _last, 9223372036854775807, 10000);
        EXIT WHEN _batch.facts = 0;
        FOR _i IN 1..coalesce(cardinality(_feeds), 0) LOOP
            EXECUTE format('SELECT pg_temp.%I($1, $2)', _feeds[_i]) USING _last, _batch.to_seq;
        END LOOP;
        _done := _done + _batch.facts;
        _last := _batch.to_seq;
        IF clock_timestamp() - _reported > interval '2 seconds' THEN
            RAISE NOTICE 'kit: verify %: % of % facts replayed', verify_replay.read_table, _done, _total;
            _reported := clock_timestamp();
        END IF;
    END LOOP;
END
$$;

-- The facts verify's finder listed (pg_temp.kit_verify_rejected), each with
-- its columns.
CREATE OR REPLACE FUNCTION kit.rejected_facts()
RETURNS TABLE (write_table text, seq bigint, rule text, fact jsonb)
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    _rejected record;
BEGIN
    FOR _rejected IN SELECT r.write_table, r.seq, r.rule FROM pg_temp.kit_verify_rejected r ORDER BY r.seq LOOP
        write_table := _rejected.write_table;
        seq := _rejected.seq;
        rule := _rejected.rule;
        EXECUTE format('SELECT to_jsonb(f) - ''recorded_at'' FROM public.%I AS f WHERE f.seq = $1', _rejected.write_table)
           INTO fact USING _rejected.seq;
        RETURN NEXT;
    END LOOP;
END
$$;

-- Drops verify's temporary table and functions, if this session has them.
CREATE OR REPLACE FUNCTION kit.drop_verify_scratch()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    _function regprocedure;
BEGIN
    IF to_regclass('pg_temp.kit_verify') IS NOT NULL THEN
        DROP TABLE pg_temp.kit_verify;
    END IF;
    IF to_regclass('pg_temp.kit_verify_rejected') IS NOT NULL THEN
        DROP TABLE pg_temp.kit_verify_rejected;
    END IF;
    FOR _function IN SELECT p.oid FROM pg_proc p
                      WHERE p.pronamespace = pg_my_temp_schema() AND p.proname LIKE 'kit\_verify\_%' LOOP
        EXECUTE format('DROP FUNCTION %s', _function);
    END LOOP;
END
$$;

-- The schema version an app connection belongs to, from its application_name
-- ('app-v2', 'app-v2 worker-1', ...); NULL for other clients.
CREATE OR REPLACE FUNCTION kit.client_schema_version(application_name text)
RETURNS integer
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT (regexp_match(client_schema_version.application_name, '^app-v([0-9]{1,9})(?![0-9])'))[1]::integer
$$;

-- The one lock that serialises app start-up gates with retirements: a
-- retirement holds it exclusively from its check for connected apps to its
-- commit, a gate shares it while it reads its version's state. An app whose
-- connection opened after the check therefore reads the state only once the
-- retirement has committed, and refuses to start; one that read it first is
-- connected when the retirement checks, which then refuses.
CREATE OR REPLACE FUNCTION kit.lock_retirements(exclusive boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Class 1263094 is 'KIT' in ASCII: the kit's advisory lock space; 1 is this lock.
    PERFORM kit.advisory_lock_briefly(1, lock_retirements.exclusive,
                                      CASE WHEN lock_retirements.exclusive THEN 'retire a read version' ELSE 'read the schema version''s state' END);
END
$$;

-- The state of a schema version as an app's start-up gate must read it:
-- after any retirement under way has committed (kit.lock_retirements).
-- 'missing' when the version was never migrated here. SECURITY DEFINER, so
-- that app roles may share the lock without being able to take it alone.
CREATE OR REPLACE FUNCTION kit.schema_version_state(version integer)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM kit.lock_retirements(false);
    RETURN coalesce((SELECT v.state FROM kit.schema_versions v WHERE v.version = schema_version_state.version), 'missing');
END
$$;

-- What retiring read_table would do and what stands in its way, without doing
-- it: the schema versions it retires, the feeds it drops, the connected
-- clients and live read versions that block it, and the objects that depend
-- on its table (views, rules, foreign keys: DROP TABLE would refuse them).
CREATE OR REPLACE FUNCTION kit.retirement_plan(read_table text,
                                    OUT versions integer[], OUT feeds text[], OUT clients text, OUT referrers text,
                                    OUT dependents text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog
AS $$
BEGIN
    SELECT coalesce(array_agg(s.version ORDER BY s.version), '{}') INTO versions
      FROM kit.schema_version_read s JOIN kit.schema_version v USING (version)
     WHERE s.read_table = retirement_plan.read_table AND v.retired_at IS NULL;
    SELECT coalesce(array_agg(format('%s -> %s', f.write_table, f.read_table) ORDER BY f.position), '{}') INTO feeds
      FROM kit.feed f WHERE f.read_table = retirement_plan.read_table;
    SELECT string_agg(format('%s x %s', c.connections, c.application_name), ', ' ORDER BY c.application_name) INTO clients
      FROM (SELECT a.application_name, count(*) AS connections
              FROM pg_stat_activity a
             WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
               AND kit.client_schema_version(a.application_name) = ANY (versions)
             GROUP BY a.application_name) c;
    SELECT string_agg(DISTINCT rr.read_table, ', ') INTO referrers
      FROM kit.read_reference rr JOIN kit.read_version v ON v.read_table = rr.read_table
     WHERE rr.referenced_table = retirement_plan.read_table AND v.state IN ('building', 'live') AND v.rebuild_of IS NULL;
    IF to_regclass(format('public.%I', retirement_plan.read_table)) IS NOT NULL THEN
        SELECT string_agg(d.dependent, ', ' ORDER BY d.dependent) INTO dependents FROM kit.rebuild_blockers(retirement_plan.read_table) d;
    END IF;
END
$$;

-- Retires a read version: drops its table, feeds and projection functions and
-- retires the schema versions that read it. Refuses while an app of such a
-- schema version is connected to this database, or while a live read version
-- references it. Write tables and their facts are never touched. Each lock it
-- needs is tried for at most lock_timeout, a few times, before it gives up.
CREATE OR REPLACE FUNCTION kit.retire_read_version(read_table text, lock_timeout text DEFAULT '200ms')
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    _plan   record;
BEGIN
    PERFORM FROM kit.read_version v WHERE v.read_table = retire_read_version.read_table FOR UPDATE;
    -- Building too: one flyway:migrate run can create a version and retire it
    -- before the afterMigrate backfill ever makes it live.
    IF (SELECT v.state FROM kit.read_version v WHERE v.read_table = retire_read_version.read_table) = 'retired' THEN
        -- Retired already (by kit retire before this migration ran): the tidy-up's work is done.
        RAISE NOTICE 'kit: % is retired already', retire_read_version.read_table;
        RETURN;
    END IF;
    PERFORM kit.require_state(retire_read_version.read_table, ARRAY['building', 'live']);
    -- Held to commit: no app of these versions can pass its start-up gate between this check and then.
    PERFORM kit.lock_retirements(true);
    _plan := kit.retirement_plan(retire_read_version.read_table);
    IF _plan.clients IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'KT005',
            MESSAGE = format('Read version %s is still in use by connected apps of schema version %s (Clients: %s)',
                             retire_read_version.read_table, array_to_string(_plan.versions, ', '), _plan.clients),
            SCHEMA = 'public', TABLE = retire_read_version.read_table,
            HINT = 'Stop those app servers (every app of the listed versions), then run the migration again.';
    END IF;
    IF _plan.dependents IS NOT NULL THEN
        PERFORM kit.usage_error(format('Cannot retire %s: objects depend on its table (Dependents: %s)',
                                       retire_read_version.read_table, _plan.dependents),
                                'Drop them (or move them to a live read version) first; nothing was changed.');
    END IF;
    IF _plan.referrers IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'KT005',
            MESSAGE = format('Read version %s is still referenced by %s', retire_read_version.read_table, _plan.referrers),
            SCHEMA = 'public', TABLE = retire_read_version.read_table,
            HINT = 'Retire the referencing read versions first.';
    END IF;

    -- Changing a feed trigger locks its write table against writers: wait briefly, retry, never queue for long.
    PERFORM kit.lock_briefly(kit.feeding_tables(retire_read_version.read_table)
                               || format('public.%I', retire_read_version.read_table)::regclass,
                             'ACCESS EXCLUSIVE', 'retire ' || retire_read_version.read_table, retire_read_version.lock_timeout);

    PERFORM kit.drop_feeds(retire_read_version.read_table);
    EXECUTE format('DROP TABLE public.%I', retire_read_version.read_table);
    UPDATE kit.read_version v SET state = 'retired', retired_at = now()
     WHERE v.read_table = retire_read_version.read_table;
    UPDATE kit.schema_version v SET retired_at = now() WHERE v.version = ANY (_plan.versions);
END
$$;
