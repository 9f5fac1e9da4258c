-- Kit script 70 verify (run by Flyway before every migrate, in file-name order).
-- Verify: a live read table against a replay of its facts, without holding
-- writers up.
-- Idempotent: CREATE OR REPLACE, safe to run again.

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

-- The facts verify's finder listed (pg_temp.kit_verify_rejected), each with
-- its columns.
CREATE OR REPLACE FUNCTION kit.rejected_facts()
RETURNS TABLE (write_table text, seq bigint, rule text, fact jsonb)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _rejected record;
BEGIN
    FOR _rejected IN SELECT r.write_table, r.seq, r.rule FROM pg_temp.kit_verify_rejected r ORDER BY r.seq LOOP
        write_table := _rejected.write_table;
        seq := _rejected.seq;
        rule := _rejected.rule;
        EXECUTE format('SELECT to_jsonb(f) - ''recorded_at'' FROM %s AS f WHERE f.seq = $1', kit.relation(_rejected.write_table))
           INTO fact USING _rejected.seq;
        RETURN NEXT;
    END LOOP;
END
$$;

-- Verify's replay of read_table into pg_temp.kit_verify through the
-- temporary functions of `mode` (plain, or finder: see kit.verify_read_table),
-- batch by batch, insert feeds first.
CREATE OR REPLACE FUNCTION kit.verify_replay(read_table text, mode text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _last     bigint := -1;
    _batch    record;
    _step     record;
    _done     bigint := 0;
    _total    bigint := kit.facts_after(verify_replay.read_table, -1);
    _reported timestamptz := clock_timestamp();
BEGIN
    LOOP
        _batch := kit.next_batch(verify_replay.read_table, _last, 9223372036854775807, 10000);
        EXIT WHEN _batch.facts = 0;
        -- The steps of every replay (kit.replay_steps), through verify's own copy of each feed.
        FOR _step IN SELECT * FROM kit.replay_steps(verify_replay.read_table, _last, _batch.to_seq) LOOP
            EXECUTE format('SELECT pg_temp.%I($1, $2)', format('kit_verify_%s_%s', verify_replay.mode, _step.feed_position))
              USING _step.run_from, _step.run_to;
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

-- Compares a live read table with a replay of its facts and returns the rows
-- that differ (at most max_rows): 'only in live' or 'only in rebuild'; and
-- the facts that break one of its rules, which a rebuild would refuse
-- ('fact breaks a rule', naming the fact by write table and seq; facts
-- written while the kit's triggers were bypassed can be such); and for the
-- read version of a table under capture, the rows in which the two differ
-- (kit.uncaptured_rows: 'only in the captured table', 'not in the captured
-- table').
--
-- It never holds writers up: it reads the live table and the facts as of one
-- snapshot (the caller's REPEATABLE READ transaction; the kit command opens
-- one), takes no lock beyond a plain SELECT's, and replays into a temporary
-- table (pg_temp.kit_verify) that has every rule the version went live
-- with, so the live table gets no dead tuples. The replay runs the
-- projections the kit would generate now from the catalog (kit.feed_statements, as
-- temporary functions), not the functions installed in the database: a
-- tampered projection cannot vouch for itself. When a unique rule refuses a
-- fact, the replay runs again with the insert feeds listing the facts they
-- refuse (one subtransaction for the whole verify, never one per batch).
-- Progress as NOTICEs every few seconds on large tables.
CREATE OR REPLACE FUNCTION kit.verify_read_table(read_table text, max_rows integer DEFAULT 20, domain text DEFAULT current_schema())
RETURNS TABLE (difference text, row_data jsonb)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _feed     record;
    _mode     text;
    _failure  jsonb := '[]';
    _diff     jsonb;
    _captured text;
BEGIN
    verify_read_table.read_table := kit.table_key(verify_read_table.read_table, verify_read_table.domain);
    PERFORM kit.require_state(verify_read_table.read_table, ARRAY['live']);
    IF current_setting('transaction_isolation') NOT IN ('repeatable read', 'serializable') THEN
        PERFORM kit.usage_error(
            format('Verify reads the table and its facts as of one snapshot: call it in a REPEATABLE READ transaction (Read table: %s)',
                   verify_read_table.read_table),
            'BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM kit.verify_read_table(...); COMMIT; (kit verify does this)');
    END IF;
    IF to_regclass(kit.relation(verify_read_table.read_table)) IS NULL THEN
        PERFORM kit.usage_error(format('Cannot verify %s: its table is missing (renamed or dropped)', verify_read_table.read_table),
                                'kit status names the damage; rename the table back or restore it, then verify again.');
    END IF;
    PERFORM kit.require_every_fact(verify_read_table.read_table, 'verify ' || verify_read_table.read_table);
    PERFORM kit.drop_verify_scratch();
    EXECUTE format('CREATE TEMP TABLE kit_verify (LIKE %s INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING INDEXES INCLUDING CONSTRAINTS)',
                   kit.relation(verify_read_table.read_table));
    -- The replay keeps every rule the version went live with, also one dropped from the live table since.
    PERFORM kit.add_missing_read_rules(verify_read_table.read_table, 'pg_temp.kit_verify'::regclass);
    CREATE TEMP TABLE kit_verify_rejected (write_table text NOT NULL, seq bigint NOT NULL, rule text NOT NULL DEFAULT 'a unique rule');
    FOR _feed IN SELECT f.write_table, f.key_column, f.position FROM kit.feed f
                  WHERE f.read_table = verify_read_table.read_table LOOP
        FOREACH _mode IN ARRAY ARRAY['plain', 'finder'] LOOP
            EXECUTE (kit.function_object(
                name => format('pg_temp.%I', format('kit_verify_%s_%s', _mode, _feed.position)),
                arguments => 'from_seq bigint, to_seq bigint', returns => 'void', applies_facts => true,
                source => kit.feed_block(kit.feed_statements(
                    write_table => _feed.write_table, read_table => verify_read_table.read_table, key_column => _feed.key_column,
                    facts => kit.fact_range_sql(_feed.write_table, '$1', '$2'), target => 'kit_verify', target_schema => 'pg_temp',
                    checks => false, rejections => CASE _mode WHEN 'finder' THEN 'list' ELSE 'fail' END)))).create_sql;
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
                   FROM kit.feed f WHERE f.read_table = verify_read_table.read_table AND f.kind IN ('update', 'accumulate')
                 UNION ALL
                 SELECT f.write_table, rr.column_name, rr.referenced_table, kit.relation(rr.referenced_table)
                   FROM kit.feed f JOIN kit.read_reference rr ON rr.read_table = f.read_table
                  WHERE f.read_table = verify_read_table.read_table AND f.kind = 'insert'
                    AND kit.domain_table_exists(rr.referenced_table) LOOP
        -- A row a delete feed removed after the fact was there when the fact was written.
        EXECUTE format($q$
            INSERT INTO pg_temp.kit_verify_rejected (write_table, seq, rule)
            SELECT %1$L, f.seq, %5$L FROM %6$s AS f
             WHERE NOT EXISTS (SELECT FROM %3$s AS r WHERE r.id = f.%2$I AND (r.first_fact_seq IS NULL OR r.first_fact_seq < f.seq))%7$s
            $q$, _feed.write_table, _feed.fact_column, _feed.relation, _feed.target,
            format('%s names no row of %s made before it', _feed.fact_column, _feed.target), kit.relation(_feed.write_table),
            (SELECT coalesce(string_agg(format(E'\n               AND NOT EXISTS (SELECT FROM %s AS d WHERE d.%I = f.%I AND d.seq > f.seq)',
                                               kit.relation(d.write_table), d.key_column, _feed.fact_column), ''), '')
               FROM kit.feed d WHERE d.read_table = _feed.target AND d.kind = 'delete'));
    END LOOP;
    EXECUTE format($q$
        SELECT coalesce(jsonb_agg(d), '[]') FROM (
            (SELECT 'only in live' AS difference, to_jsonb(r) AS row_data FROM %1$s AS r
             EXCEPT ALL SELECT 'only in live', to_jsonb(s) FROM pg_temp.kit_verify AS s)
            UNION ALL
            (SELECT 'only in rebuild', to_jsonb(s) FROM pg_temp.kit_verify AS s
             EXCEPT ALL SELECT 'only in rebuild', to_jsonb(r) FROM %1$s AS r)
            ORDER BY 2 LIMIT $1) AS d
        $q$, kit.relation(verify_read_table.read_table)) INTO _diff USING verify_read_table.max_rows;
    RETURN QUERY
    SELECT 'fact breaks a rule', jsonb_build_object('fact', format('%s seq %s', x.write_table, x.seq), 'rule', x.rule) || x.fact
      FROM kit.rejected_facts() x ORDER BY x.seq LIMIT verify_read_table.max_rows;
    RETURN QUERY SELECT 'replay fails', e FROM jsonb_array_elements(_failure) AS e;
    PERFORM kit.drop_verify_scratch();
    RETURN QUERY SELECT d ->> 'difference', d -> 'row_data' FROM jsonb_array_elements(_diff) AS d;
    -- The read version of a table under capture: the table itself, as of the same snapshot.
    _captured := (SELECT b.source_table FROM kit.baseline_table b
                   WHERE b.read_table = verify_read_table.read_table AND b.state = 'capturing'
                     AND to_regclass(kit.relation(b.source_table)) IS NOT NULL);
    IF _captured IS NOT NULL THEN
        RETURN QUERY SELECT * FROM kit.uncaptured_rows(_captured, verify_read_table.max_rows);
    END IF;
END
$$;
