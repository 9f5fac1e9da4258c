-- Kit script 60 replay_and_backfill (run by Flyway before every migrate, in file-name order).
-- Replaying facts into a read table, and the backfill that takes a building
-- read version (or a rebuild's shadow) to live, batch by batch, resumable;
-- aborting a building one.
-- Idempotent: CREATE OR REPLACE, safe to run again.

-- The next batch of read_table's facts after after_seq, up to up_to_seq: it
-- ends at the batch_size-th fact of its feeding write tables, or at
-- up_to_seq when fewer are left. Returns where it ends and how many facts it
-- holds.
CREATE OR REPLACE FUNCTION kit.next_batch(read_table text, after_seq bigint, up_to_seq bigint, batch_size integer,
                                          OUT to_seq bigint, OUT facts bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _union text;
BEGIN
    -- Each table's first batch_size facts by its seq index, merged: one
    -- ORDER BY over the union would read every remaining fact and sort them.
    SELECT string_agg(format('(SELECT seq FROM %s WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3)', kit.relation(f.write_table)),
                      ' UNION ALL ')
      INTO _union FROM kit.feed f WHERE f.read_table = next_batch.read_table;
    IF _union IS NULL THEN  -- no feeds, no facts
        to_seq := greatest(next_batch.up_to_seq, next_batch.after_seq);
        facts := 0;
        RETURN;
    END IF;
    EXECUTE format('SELECT max(seq), count(*) FROM (SELECT seq FROM (%s) AS s ORDER BY seq LIMIT $3) AS b', _union)
       INTO to_seq, facts USING next_batch.after_seq, next_batch.up_to_seq, next_batch.batch_size;
    IF facts < next_batch.batch_size THEN
        to_seq := next_batch.up_to_seq;
    END IF;
    to_seq := greatest(to_seq, next_batch.after_seq);
END
$$;

-- The feeds of read_table of the given kinds over from_seq < seq <= to_seq,
-- as runs: each run a feed's write table and the sub-range (run_from,
-- run_to] that holds a stretch of its facts with no fact of another of those
-- feeds between them, in seq order (kit.replay_steps applies them so). One
-- such feed: one run over the whole range; none: no run.
CREATE OR REPLACE FUNCTION kit.feed_runs(read_table text, from_seq bigint, to_seq bigint, kinds text[])
RETURNS TABLE (write_table text, run_from bigint, run_to bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _feeds text[] := ARRAY(SELECT f.write_table FROM kit.feed f
                            WHERE f.read_table = feed_runs.read_table AND f.kind = ANY (feed_runs.kinds) ORDER BY f.position);
BEGIN
    IF cardinality(_feeds) <= 1 THEN
        RETURN QUERY SELECT w, feed_runs.from_seq, feed_runs.to_seq FROM unnest(_feeds) AS w;
        RETURN;
    END IF;
    RETURN QUERY EXECUTE format($q$
        SELECT r.write_table, coalesce(lag(r.last_seq) OVER (ORDER BY r.last_seq), $1), r.last_seq
          FROM (SELECT s.write_table, max(s.seq) AS last_seq
                  FROM (SELECT s.seq, s.write_table,
                               count(*) FILTER (WHERE s.write_table IS DISTINCT FROM s.before) OVER (ORDER BY s.seq) AS run
                          FROM (SELECT u.seq, u.write_table, lag(u.write_table) OVER (ORDER BY u.seq) AS before
                                  FROM (%s) AS u) s) s
                 GROUP BY s.run, s.write_table) r
         ORDER BY r.last_seq
        $q$, (SELECT string_agg(format('SELECT seq, %L::text AS write_table FROM %s WHERE seq > $1 AND seq <= $2', w, kit.relation(w)),
                                ' UNION ALL ')
                FROM unnest(_feeds) AS w))
    USING feed_runs.from_seq, feed_runs.to_seq;
END
$$;

-- How a replay applies the facts with from_seq < seq <= to_seq to read_table,
-- step by step: each step a feed (its position) over a sub-range. Insert
-- feeds first, each once over the whole range, so rows exist before facts
-- change them; then the update feeds' facts in seq order across feeds, as
-- the live path applied them, in runs (kit.feed_runs): a row has one order
-- guard (last_fact_seq), and applied feed after feed, an earlier fact of one
-- update feed would be skipped behind a later fact of another that the feed
-- before had applied, and its columns lost; then the accumulating feeds, once
-- each (a sum does not depend on order). A read table with a delete feed
-- takes every feed's facts in seq order, in runs: a row removed and another
-- made with its unique email must go in that order; so does one with a sql
-- feed, whose statement the kit cannot see into. kit.replay_range and
-- verify's replay (kit.verify_replay) both take these steps.
CREATE OR REPLACE FUNCTION kit.replay_steps(read_table text, from_seq bigint, to_seq bigint)
RETURNS TABLE (feed_position bigint, run_from bigint, run_to bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF EXISTS (SELECT FROM kit.feed f WHERE f.read_table = replay_steps.read_table AND f.kind IN ('delete', 'sql')) THEN
        RETURN QUERY
        SELECT f.position, r.run_from, r.run_to
          FROM kit.feed_runs(replay_steps.read_table, replay_steps.from_seq, replay_steps.to_seq,
                             ARRAY['insert', 'update', 'upsert', 'delete', 'accumulate', 'sql']) WITH ORDINALITY AS r
          JOIN kit.feed f ON f.read_table = replay_steps.read_table AND f.write_table = r.write_table
         ORDER BY r.ordinality;
        RETURN;
    END IF;
    RETURN QUERY
    SELECT s.position, s.run_from, s.run_to
      FROM (SELECT f.position, replay_steps.from_seq AS run_from, replay_steps.to_seq AS run_to,
                   CASE f.kind WHEN 'insert' THEN 0 ELSE 2 END AS stage, f.position AS place
              FROM kit.feed f WHERE f.read_table = replay_steps.read_table AND f.kind IN ('insert', 'accumulate')
            UNION ALL
            SELECT f.position, r.run_from, r.run_to, 1, r.run_to
              FROM kit.feed_runs(replay_steps.read_table, replay_steps.from_seq, replay_steps.to_seq, ARRAY['update', 'upsert']) r
              JOIN kit.feed f ON f.read_table = replay_steps.read_table AND f.write_table = r.write_table) s
     ORDER BY s.stage, s.place;
END
$$;

-- Applies the facts with from_seq < seq <= to_seq to read_table, step by step
-- (kit.replay_steps). Fast: through the projection functions (plain inserts,
-- a rejected fact fails with unique_violation). Named: the same template run
-- as the live path runs it (kit.named_replay_sql), which names the first
-- rejected fact.
CREATE OR REPLACE FUNCTION kit.replay_range(read_table text, from_seq bigint, to_seq bigint, named boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _feed record;
BEGIN
    FOR _feed IN SELECT f.write_table, f.read_table, f.key_column, f.projection, v.rebuild_of, s.run_from, s.run_to
                   FROM kit.replay_steps(replay_range.read_table, replay_range.from_seq, replay_range.to_seq) WITH ORDINALITY AS s
                   JOIN kit.feed f ON f.position = s.feed_position
                   JOIN kit.read_version v ON v.read_table = f.read_table
                  ORDER BY s.ordinality LOOP
        IF replay_range.named THEN
            EXECUTE kit.named_replay_sql(_feed.write_table, coalesce(_feed.rebuild_of, _feed.read_table), _feed.key_column,
                                         _feed.read_table, _feed.run_from, _feed.run_to);
        ELSE
            EXECUTE format('SELECT %s($1, $2)', kit.beside(_feed.write_table, _feed.projection)) USING _feed.run_from, _feed.run_to;
        END IF;
    END LOOP;
END
$$;

-- Applies the facts with from_seq < seq <= to_seq to read_table, batch by
-- batch (kit.next_batch, kit.replay_range). Returns the facts applied.
CREATE OR REPLACE FUNCTION kit.replay_batches(read_table text, from_seq bigint, to_seq bigint, batch_size integer, named boolean)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _last  bigint := replay_batches.from_seq;
    _batch record;
    _total bigint := 0;
BEGIN
    LOOP
        _batch := kit.next_batch(replay_batches.read_table, _last, replay_batches.to_seq, replay_batches.batch_size);
        EXIT WHEN _batch.facts = 0;
        PERFORM kit.replay_range(replay_batches.read_table, _last, _batch.to_seq, replay_batches.named);
        _total := _total + _batch.facts;
        _last := _batch.to_seq;
        EXIT WHEN _last >= replay_batches.to_seq;  -- the range is done: no query for an empty batch
    END LOOP;
    RETURN _total;
END
$$;

-- Applies the facts with from_seq < seq <= to_seq to read_table in batches,
-- in the caller's transaction; returns the facts applied. The template the
-- live triggers inline, over the write tables themselves.
--
-- Plain inserts are about twice as fast as ON CONFLICT DO NOTHING over a
-- large range, so the replay runs them and, only when a unique rule rejects a
-- fact, undoes itself and replays the same batches again with the fact named
-- (KT002/KT003, as the live path names it). One subtransaction per call, not
-- per batch: a long replay in one transaction never overflows PostgreSQL's
-- cache of 64 subtransactions per backend.
CREATE OR REPLACE FUNCTION kit.replay_facts(read_table text, from_seq bigint, to_seq bigint, batch_size integer DEFAULT 10000)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _state   text;
    _message text;
    _hint    text;
BEGIN
    RETURN kit.replay_batches(replay_facts.read_table, replay_facts.from_seq, replay_facts.to_seq, replay_facts.batch_size, named => false);
EXCEPTION WHEN unique_violation THEN
    BEGIN
        PERFORM kit.replay_batches(replay_facts.read_table, replay_facts.from_seq, replay_facts.to_seq, replay_facts.batch_size, named => true);
    EXCEPTION WHEN SQLSTATE 'KT002' OR SQLSTATE 'KT003' THEN
        -- Raised again from here: its context is then this function, not the generated block.
        GET STACKED DIAGNOSTICS _state = RETURNED_SQLSTATE, _message = MESSAGE_TEXT, _hint = PG_EXCEPTION_HINT;
        RAISE EXCEPTION USING ERRCODE = _state, MESSAGE = _message, HINT = _hint;
    END;
    RAISE;  -- the named replay passed: a unique rule the kit does not name (an update feed's) failed
END
$$;

-- The write tables that feed read_table, as regclasses.
CREATE OR REPLACE FUNCTION kit.feeding_tables(read_table text)
RETURNS regclass[]
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT coalesce(array_agg(DISTINCT kit.relation(f.write_table)::regclass), '{}')
      FROM kit.feed f WHERE f.read_table = feeding_tables.read_table
$$;

-- A seq below which every fact of read_table's write tables is committed or
-- rolled back, found without blocking any writer: read the fact sequence, then
-- wait until every transaction that was writing to those tables at that moment
-- has ended (a writer holds its table lock from before it takes its seq until
-- it ends). Says what it waits for in a NOTICE (SQLSTATE KT007) after a
-- second and every 5 seconds after that; gives up after `timeout` with
-- KT007 naming the transaction.
CREATE OR REPLACE FUNCTION kit.safe_watermark(read_table text, timeout interval DEFAULT '60 seconds')
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    _tables    regclass[] := kit.feeding_tables(safe_watermark.read_table);
    _mark      bigint := coalesce(pg_sequence_last_value('kit.fact_seq'), 0);
    _writers   text[];
    _oldest    record;
    _started   timestamptz := clock_timestamp();
    _report_at timestamptz := clock_timestamp() + interval '1 second';
    _now       timestamptz;
BEGIN
    -- A prepared transaction (PREPARE TRANSACTION) keeps its locks with no backend: pid NULL.
    SELECT coalesce(array_agg(DISTINCT l.virtualtransaction), '{}') INTO _writers
      FROM pg_locks l
     WHERE l.locktype = 'relation' AND l.relation = ANY (_tables::oid[]) AND l.mode = 'RowExclusiveLock'
       AND l.granted AND l.pid IS DISTINCT FROM pg_backend_pid();
    WHILE EXISTS (SELECT FROM pg_locks l WHERE l.virtualtransaction = ANY (_writers)) LOOP
        _now := clock_timestamp();
        IF _now - _started > safe_watermark.timeout OR _now > _report_at THEN
            -- The writer's age now: clock_timestamp(), as now() is this transaction's start.
            SELECT w.who, w.age INTO _oldest FROM (
                SELECT format('Pid: %s, Application: %s', a.pid, a.application_name) AS who, a.xact_start AS started,
                       date_trunc('second', _now - a.xact_start) AS age
                  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                 WHERE l.virtualtransaction = ANY (_writers)
                UNION ALL
                SELECT format('Prepared transaction: %s, Owner: %s', p.gid, p.owner), p.prepared,
                       date_trunc('second', _now - p.prepared)
                  FROM pg_locks l JOIN pg_prepared_xacts p ON p.transaction::text = split_part(l.virtualtransaction, '/', 2)
                 WHERE l.pid IS NULL AND l.virtualtransaction = ANY (_writers) AND p.database = current_database()) w
             ORDER BY w.started LIMIT 1;
            IF _now - _started > safe_watermark.timeout THEN
                RAISE EXCEPTION USING ERRCODE = 'KT007',
                    MESSAGE = format('Backfill of %s gave up waiting for a transaction that writes to its write tables (%s, Open for: %s)',
                                     safe_watermark.read_table, _oldest.who, _oldest.age),
                    HINT = 'End that transaction (a prepared one with COMMIT PREPARED or ROLLBACK PREPARED), then run the backfill again (mvn flyway:migrate, or kit backfill): it resumes where it stopped.';
            END IF;
            RAISE NOTICE 'kit: backfill of % waits for a transaction that writes to its write tables (%, Open for: %); gives up after %',
                safe_watermark.read_table, _oldest.who, _oldest.age, safe_watermark.timeout USING ERRCODE = 'KT007';
            _report_at := _now + interval '5 seconds';
        END IF;
        PERFORM pg_sleep(0.005);
    END LOOP;
    RETURN _mark;
END
$$;

-- One batch of a building read version's backfill, in the caller's
-- transaction: applies up to batch_size facts after backfilled_to and records
-- how far it got. Returns the facts applied, the new backfilled_to, the
-- watermark (backfilled_to = watermark means caught up) and the version's
-- state. Two backfillers of one version (a rerun while a killed run's session
-- is still finishing) take turns batch by batch on the catalog row; when one
-- completes the version, the other sees state live and stops.
CREATE OR REPLACE FUNCTION kit.backfill_step(read_table text, batch_size integer DEFAULT 10000,
                                  OUT applied bigint, OUT backfilled_to bigint, OUT watermark bigint, OUT state text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _from bigint;
    _to   bigint;
BEGIN
    SELECT v.backfilled_to, v.state INTO _from, state FROM kit.read_version v
     WHERE v.read_table = backfill_step.read_table FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM kit.require_state(backfill_step.read_table, ARRAY['building']);
    END IF;
    IF state <> 'building' THEN
        applied := 0;
        backfilled_to := _from;
        watermark := _from;
        RETURN;
    END IF;
    PERFORM kit.require_every_fact(backfill_step.read_table, 'backfill ' || backfill_step.read_table);
    watermark := kit.safe_watermark(backfill_step.read_table);
    _to := (kit.next_batch(backfill_step.read_table, _from, watermark, backfill_step.batch_size)).to_seq;
    applied := kit.replay_facts(backfill_step.read_table, _from, _to, backfill_step.batch_size);
    backfilled_to := _to;
    UPDATE kit.read_version v
       SET backfilled_to = backfill_step.backfilled_to, backfilled_facts = v.backfilled_facts + applied,
           backfill_error = NULL, backfill_failed_at = NULL
     WHERE v.read_table = backfill_step.read_table;
END
$$;

-- How many facts of read_table's feeding write tables come after after_seq.
CREATE OR REPLACE FUNCTION kit.facts_after(read_table text, after_seq bigint)
RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _count bigint;
    _total bigint := 0;
    _table text;
BEGIN
    FOR _table IN SELECT f.write_table FROM kit.feed f WHERE f.read_table = facts_after.read_table LOOP
        EXECUTE format('SELECT count(*) FROM %s WHERE seq > $1', kit.relation(_table)) INTO _count USING facts_after.after_seq;
        _total := _total + _count;
    END LOOP;
    RETURN _total;
END
$$;

-- How many facts a building read version still has to apply (its feeding
-- write tables' facts after backfilled_to), for progress reports.
CREATE OR REPLACE FUNCTION kit.backfill_remaining(read_table text)
RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT kit.facts_after(backfill_remaining.read_table,
                           (SELECT v.backfilled_to FROM kit.read_version v WHERE v.read_table = backfill_remaining.read_table))
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

-- Completes a caught-up building read version, in the caller's transaction:
-- locks its write tables against writers (SHARE ROW EXCLUSIVE, at most
-- lock_timeout; the caller retries), applies the facts written since the last
-- batch, then either creates the feed triggers and marks it live, or, for an
-- online rebuild, swaps the shadow table in for the live one.
CREATE OR REPLACE FUNCTION kit.finish_backfill(read_table text, lock_timeout text DEFAULT '50ms')
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _version  record;
    _table    regclass;
    _tail     bigint;
    _feed     record;
    _index    record;
BEGIN
    SELECT * INTO _version FROM kit.read_version v WHERE v.read_table = finish_backfill.read_table FOR UPDATE;
    IF NOT FOUND AND finish_backfill.read_table LIKE '%\_\_rebuild' OR _version.state = 'live' THEN
        RETURN 0;  -- another backfiller completed it first
    END IF;
    PERFORM kit.require_state(finish_backfill.read_table, ARRAY['building']);
    IF EXISTS (SELECT FROM kit.baseline_table b WHERE b.read_table = finish_backfill.read_table AND b.state = 'copying') THEN
        PERFORM kit.usage_error(format('%s cannot go live yet: the rows of %s are still being copied as facts', finish_backfill.read_table,
                                       (SELECT b.source_table FROM kit.baseline_table b WHERE b.read_table = finish_backfill.read_table)),
                                'Run the backfill (CALL kit.backfill(), kit backfill): it copies them first, where it stopped.');
    END IF;
    PERFORM set_config('lock_timeout', finish_backfill.lock_timeout, true);
    FOREACH _table IN ARRAY kit.feeding_tables(finish_backfill.read_table) LOOP
        EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', _table);
    END LOOP;
    IF _version.rebuild_of IS NOT NULL THEN
        EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', kit.relation(_version.rebuild_of));
    END IF;
    PERFORM set_config('lock_timeout', '0', true);
    -- Writers are held: every fact is committed, and none arrives until commit.
    _tail := kit.replay_facts(finish_backfill.read_table, _version.backfilled_to, (SELECT max(last_value) FROM kit.fact_seq));

    IF _version.rebuild_of IS NULL THEN
        UPDATE kit.read_version v
           SET state = 'live', live_at = now(), backfilled_to = (SELECT last_value FROM kit.fact_seq),
               backfilled_facts = v.backfilled_facts + _tail
         WHERE v.read_table = finish_backfill.read_table;
        PERFORM kit.record_read_rules(finish_backfill.read_table, domain => kit.key_schema(finish_backfill.read_table));
        FOR _feed IN SELECT DISTINCT f.write_table FROM kit.feed f WHERE f.read_table = finish_backfill.read_table LOOP
            PERFORM kit.regenerate_feed_trigger(_feed.write_table);
        END LOOP;
        RETURN _tail;
    END IF;

    -- Online rebuild: the shadow replaces the live table under the same name;
    -- the live projection functions name the table, so they write the new one.
    PERFORM kit.drop_feeds(finish_backfill.read_table);
    UPDATE kit.read_version v SET backfilled_facts = _version.backfilled_facts + _tail
     WHERE v.read_table = _version.rebuild_of;  -- what the rebuild applied, as status shows it
    DELETE FROM kit.read_reference rr WHERE rr.read_table = finish_backfill.read_table;
    DELETE FROM kit.read_version v WHERE v.read_table = finish_backfill.read_table;
    PERFORM kit.copy_grants_and_comment(kit.relation(_version.rebuild_of)::regclass,
                                        kit.relation(finish_backfill.read_table)::regclass);
    EXECUTE format('DROP TABLE %s', kit.relation(_version.rebuild_of));
    EXECUTE format('ALTER TABLE %s RENAME TO %I', kit.relation(finish_backfill.read_table), kit.key_table(_version.rebuild_of));
    FOR _index IN SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                   WHERE i.indrelid = kit.relation(_version.rebuild_of)::regclass LOOP
        EXECUTE format('ALTER INDEX %s RENAME TO %I', kit.beside(_version.rebuild_of, _index.relname),
                       replace(_index.relname, kit.key_table(finish_backfill.read_table), kit.key_table(_version.rebuild_of)));
    END LOOP;
    PERFORM kit.grant_app_role(a.version, a.domain) FROM kit.app_role a
      JOIN kit.schema_version_read s USING (domain, version) WHERE s.read_table = _version.rebuild_of;
    RETURN _tail;
END
$$;

-- kit.backfill_step with its error returned (error_state, _message, _hint)
-- instead of raised, so that kit.backfill can go on with other versions.
CREATE OR REPLACE FUNCTION kit.try_backfill_step(read_table text, batch_size integer,
                                      OUT applied bigint, OUT backfilled_to bigint, OUT watermark bigint, OUT state text,
                                      OUT error_state text, OUT error_message text, OUT error_hint text)
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    SELECT s.applied, s.backfilled_to, s.watermark, s.state INTO applied, backfilled_to, watermark, state
      FROM kit.backfill_step(try_backfill_step.read_table, try_backfill_step.batch_size) AS s;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS error_state = RETURNED_SQLSTATE, error_message = MESSAGE_TEXT, error_hint = PG_EXCEPTION_HINT;
END
$$;

-- kit.finish_backfill with its error returned instead of raised; busy when
-- its short lock timed out (the caller retries).
CREATE OR REPLACE FUNCTION kit.try_finish_backfill(read_table text,
                                        OUT applied bigint, OUT busy boolean,
                                        OUT error_state text, OUT error_message text, OUT error_hint text)
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    busy := false;
    applied := kit.finish_backfill(try_finish_backfill.read_table);
EXCEPTION
    WHEN lock_not_available THEN
        busy := true;
    WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS error_state = RETURNED_SQLSTATE, error_message = MESSAGE_TEXT, error_hint = PG_EXCEPTION_HINT;
END
$$;

-- Drops a building read version (aborting its backfill): its table, feeds and
-- projections go; write tables and other versions are untouched. Schema
-- versions that needed it show as aborted. The table is named as in
-- kit.create_read_version.
CREATE OR REPLACE FUNCTION kit.abort_read_version(read_table text, domain text DEFAULT current_schema())
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _referrers text;
BEGIN
    abort_read_version.read_table := kit.table_key(abort_read_version.read_table, abort_read_version.domain);
    PERFORM FROM kit.read_version v WHERE v.read_table = abort_read_version.read_table FOR UPDATE;
    PERFORM kit.require_state(abort_read_version.read_table, ARRAY['building']);
    SELECT string_agg(DISTINCT rr.read_table, ', ') INTO _referrers
      FROM kit.read_reference rr JOIN kit.read_version v ON v.read_table = rr.read_table
     WHERE rr.referenced_table = abort_read_version.read_table AND v.state IN ('building', 'live') AND v.rebuild_of IS NULL;
    IF _referrers IS NOT NULL THEN
        PERFORM kit.usage_error(format('Cannot abort %s: read versions reference it (Referenced by: %s)',
                                       abort_read_version.read_table, _referrers),
                                format('Abort %s first; nothing was changed.', _referrers));
    END IF;
    PERFORM kit.drop_feeds(abort_read_version.read_table);
    EXECUTE format('DROP TABLE %s', kit.relation(abort_read_version.read_table));
    IF (SELECT v.rebuild_of FROM kit.read_version v WHERE v.read_table = abort_read_version.read_table) IS NOT NULL THEN
        DELETE FROM kit.read_reference rr WHERE rr.read_table = abort_read_version.read_table;
        DELETE FROM kit.read_version v WHERE v.read_table = abort_read_version.read_table;
    ELSE
        UPDATE kit.read_version v SET state = 'aborted', retired_at = now() WHERE v.read_table = abort_read_version.read_table;
        -- The app roles of the schema versions that needed it keep nothing on the domain's tables.
        PERFORM kit.revoke_app_role(s.version, s.domain) FROM kit.schema_version_read s WHERE s.read_table = abort_read_version.read_table;
    END IF;
END
$$;

-- The bound a backfill keeps a replica's replay lag within and how long it
-- waits for a replica to come back within it: the settings
-- kit.replica_lag_limit (a size as pg_size_bytes reads it, '64MB' when not
-- set; '-1' or 'off': no bound, lag_limit NULL) and kit.replica_lag_wait (an
-- interval, '10 min' when not set). Read once per call, so a wrong value
-- fails (KT006, naming the setting) before any batch rather than after one.
CREATE OR REPLACE FUNCTION kit.replica_lag_settings(OUT lag_limit bigint, OUT lag_limit_text text, OUT wait interval)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog
AS $$
DECLARE
    _wait text := coalesce(nullif(btrim(current_setting('kit.replica_lag_wait', true)), ''), '10 min');
BEGIN
    lag_limit_text := coalesce(nullif(btrim(current_setting('kit.replica_lag_limit', true)), ''), '64MB');
    BEGIN
        lag_limit := CASE WHEN lower(lag_limit_text) = 'off' THEN -1 ELSE pg_size_bytes(lag_limit_text) END;
        wait := _wait::interval;
    EXCEPTION WHEN data_exception THEN
        lag_limit := -2;  -- named below, with the other wrong values
    END;
    IF lag_limit < -1 OR wait IS NULL OR wait < interval '0' THEN
        PERFORM kit.usage_error(format('Not a replica lag setting: kit.replica_lag_limit = %s, kit.replica_lag_wait = %s',
                                       lag_limit_text, _wait),
                                'kit.replica_lag_limit is a size (''64MB''), or ''off'' (or ''-1'') for no bound; '
                                'kit.replica_lag_wait an interval (''10 min''). Nothing was backfilled.');
    END IF;
    IF lag_limit = -1 THEN
        lag_limit := NULL;
    END IF;
END
$$;

-- The physical replicas streaming from this server (pg_stat_replication;
-- a logical walsender, a subscription's, has no replay to fall behind in and
-- is left out), each named by its application_name and address, with how
-- many bytes of this server's WAL it has still to replay. Its lag is NULL
-- while it has reported no replay position (starting up, or a base backup
-- being taken), and when the caller may not see it: PostgreSQL shows
-- pg_stat_replication's positions only to superusers and members of
-- pg_read_all_stats (pg_monitor is one); then seen is false.
CREATE OR REPLACE FUNCTION kit.replica_lag(OUT replica text, OUT lag bigint, OUT seen boolean)
RETURNS SETOF record
LANGUAGE sql
SET search_path = pg_catalog
AS $$
    SELECT CASE WHEN r.state IS NULL THEN r.application_name
                ELSE format('%s (%s)', r.application_name, coalesce(host(r.client_addr), 'local socket')) END,
           pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)::bigint,
           r.state IS NOT NULL
      FROM pg_stat_replication r
     WHERE NOT EXISTS (SELECT FROM pg_replication_slots s WHERE s.active_pid = r.pid AND s.slot_type = 'logical')
     ORDER BY 2 DESC NULLS LAST, 1
$$;

-- Holds a backfill (`what`: 'backfill of users_2', 'copy of users') between
-- two batches while a physical replica replays more than
-- kit.replica_lag_limit behind (kit.replica_lag_settings). A backfill writes
-- as fast as the primary lets it; a replica that replays more slowly falls
-- further behind with every batch, its readers see ever older rows and a
-- failover to it waits for all that replay. Called after the batch's COMMIT,
-- and it commits after each look at the replicas: while it waits, the
-- session holds no transaction, snapshot or lock for longer than a poll.
-- While it waits, a NOTICE (SQLSTATE KT007) names the replica and its lag,
-- at most every 2 seconds counted from `reported` (the caller's last
-- progress notice; updated here). After kit.replica_lag_wait it gives up:
-- gave_up is then the KT007 error (SQLSTATE, message, hint) for the caller
-- to raise, else NULL. A replica whose lag this login cannot see is named
-- once per session in a NOTICE and not waited for.
CREATE OR REPLACE PROCEDURE kit.await_replicas(what text, INOUT reported timestamptz, INOUT gave_up text[])
LANGUAGE plpgsql
AS $$
DECLARE
    _settings record := kit.replica_lag_settings();
    _started  timestamptz := clock_timestamp();
    _replica  record;
    _unseen   text;
BEGIN
    gave_up := NULL;
    IF _settings.lag_limit IS NULL THEN
        RETURN;
    END IF;
    IF current_setting('kit.replica_lag_unseen_told', true) IS DISTINCT FROM 'yes' THEN
        SELECT string_agg(r.replica, ', ') INTO _unseen FROM kit.replica_lag() r WHERE NOT r.seen;
        IF _unseen IS NOT NULL THEN
            RAISE NOTICE 'kit: the % does not wait for replica %: this login (%) may not see how far behind it is (pg_stat_replication shows it to superusers and members of pg_read_all_stats, such as pg_monitor)',
                await_replicas.what, _unseen, current_user;
            PERFORM set_config('kit.replica_lag_unseen_told', 'yes', false);  -- once per session
        END IF;
    END IF;
    LOOP
        SELECT r.replica, r.lag INTO _replica FROM kit.replica_lag() r WHERE r.lag > _settings.lag_limit LIMIT 1;
        EXIT WHEN NOT FOUND;
        IF clock_timestamp() - _started > _settings.wait THEN
            gave_up := ARRAY['KT007',
                format('%s gave up waiting for replica %s to replay (Behind by: %s, Limit: kit.replica_lag_limit = %s, Waited: %s)',
                       upper(left(await_replicas.what, 1)) || substr(await_replicas.what, 2), _replica.replica,
                       pg_size_pretty(_replica.lag), _settings.lag_limit_text, date_trunc('second', clock_timestamp() - _started)),
                'Let the replica catch up (is its replay paused? SELECT pg_wal_replay_resume() on it; a long query there holds it '
                'up to max_standby_streaming_delay), then run the backfill again (mvn flyway:migrate, or kit backfill): it resumes '
                'where it stopped. SET kit.replica_lag_limit (a size, or off) and kit.replica_lag_wait change the bound and the wait.'];
            RETURN;
        END IF;
        IF clock_timestamp() - await_replicas.reported > interval '2 seconds' THEN
            RAISE NOTICE 'kit: % pauses: replica % is % behind (limit kit.replica_lag_limit = %); gives up after %',
                await_replicas.what, _replica.replica, pg_size_pretty(_replica.lag), _settings.lag_limit_text, _settings.wait
                USING ERRCODE = 'KT007';  -- a wait's notices carry the code the wait ends with when it gives up
            reported := clock_timestamp();
        END IF;
        PERFORM pg_sleep(0.1);
        COMMIT;
    END LOOP;
END
$$;

-- Backfills building read versions (one, or all) batch by batch, each batch
-- committed on its own, then completes them. Killed half-way, it resumes from
-- the last committed batch when run again. Reports progress as NOTICEs.
-- The afterMigrate callback calls it, so `flyway:migrate` ends with every
-- version live.
--
-- A version that fails (a history that breaks its rule, a writer that stays
-- open) keeps its error in kit.read_version.backfill_error, shown by kit
-- status, and does not hold the others up: they are completed, then the
-- procedure fails with the first error and a hint that says how to get out.
-- After each batch it lets the physical replicas replay it, pausing while
-- one is more than kit.replica_lag_limit behind (kit.await_replicas); a
-- replica that stays behind for kit.replica_lag_wait holds every version up
-- alike, so the procedure stops there with KT007, resumable like a kill.
-- A version named is in the schema its name gives, else in `domain`, the
-- caller's current schema; none named: every domain's.
CREATE OR REPLACE PROCEDURE kit.backfill(read_table text DEFAULT NULL, batch_size integer DEFAULT 10000,
                                         domain text DEFAULT current_schema())
LANGUAGE plpgsql
AS $$
DECLARE
    _target   text;
    _step     record;
    _copy     record;
    _finish   record;
    _error    text[];  -- SQLSTATE, message, hint of this version's failure
    _first    text[];  -- the same of the first version that failed
    _failed   text[] := '{}';
    _first_dropped boolean;  -- the first failure was a rebuild, dropped: no abort to advise
    _rebuild_of text;
    _total    bigint;
    _done     bigint;
    _started  timestamptz;
    _reported timestamptz;
    _rate     numeric;
    _gave_up  text[];  -- SQLSTATE, message, hint of a wait for a replica that gave up
    _partitioned text[];  -- a baseline's write tables that are partitioned
    _copied_into text;    -- a baseline's read version
BEGIN
    backfill.read_table := kit.table_key(backfill.read_table, backfill.domain);
    PERFORM kit.replica_lag_settings();  -- a wrong setting fails here, not after the first batch
    -- Tables brought under the kit (kit.baseline) first: their rows become facts, a short batch
    -- per transaction, before their read versions are filled.
    FOR _target, _copied_into IN SELECT b.source_table, b.read_table FROM kit.baseline_table b
                    WHERE b.state = 'copying' AND (backfill.read_table IS NULL OR b.read_table = backfill.read_table)
                    ORDER BY b.started_at, b.source_table LOOP
        _error := NULL;
        _started := clock_timestamp();
        _reported := _started;
        _done := 0;
        _total := kit.baseline_rows_left(_target);
        RAISE NOTICE 'kit: copying the rows of % as facts (about % rows)', _target, _total;
        _partitioned := ARRAY(SELECT w.write_table FROM kit.baseline_table b
                                JOIN kit.write_table w ON w.write_table IN (b.recorded_table, b.removed_table)
                               WHERE b.source_table = _target AND w.partition_size IS NOT NULL ORDER BY w.write_table);
        LOOP
            _copy := kit.try_baseline_step(_target, least(backfill.batch_size, 1000));
            IF _copy.error_state IS NOT NULL THEN
                _error := ARRAY[_copy.error_state, format('The copy of %s failed: %s', _target, _copy.error_message), _copy.error_hint];
                EXIT;
            END IF;
            _done := _done + _copy.copied;
            COMMIT;
            IF cardinality(_partitioned) > 0 AND (_copy.state <> 'copying' OR clock_timestamp() - _reported > interval '2 seconds') THEN
                -- Partitioned write tables: their partitions keep ahead of the fact sequence, which the copy moves on.
                PERFORM kit.keep_partitions_ahead(t) FROM unnest(_partitioned) AS t;
                COMMIT;
            END IF;
            EXIT WHEN _copy.state <> 'copying';
            CALL kit.await_replicas(format('copy of %s', _target), _reported, _gave_up);
            IF _gave_up IS NOT NULL THEN
                _error := _gave_up;
                EXIT;
            END IF;
            IF clock_timestamp() - _reported > interval '2 seconds' THEN
                _rate := _done / greatest(extract(epoch FROM clock_timestamp() - _started), 0.001);
                RAISE NOTICE 'kit: % copy: % of about % rows, % rows/s, about % s left', _target, _done, _total,
                    round(_rate), round(greatest(_total - _done, 0) / greatest(_rate, 1));
                _reported := clock_timestamp();
            END IF;
        END LOOP;
        IF _error IS NOT NULL THEN
            -- Shown as its read version's failed backfill (kit status), which cannot go on before the copy.
            UPDATE kit.read_version v SET backfill_error = _error[1] || ': ' || _error[2], backfill_failed_at = now()
             WHERE v.read_table = _copied_into;
            COMMIT;
            IF _gave_up IS NOT NULL THEN
                RAISE EXCEPTION USING ERRCODE = _gave_up[1], MESSAGE = _gave_up[2], HINT = _gave_up[3];
            END IF;
            RAISE WARNING 'kit: copy of % failed (%: %); going on with the other tables and building versions', _target, _error[1], _error[2];
            IF cardinality(_failed) = 0 THEN
                _first := _error;
                _first_dropped := false;
            END IF;
            _failed := _failed || _copied_into;
            CONTINUE;
        END IF;
        RAISE NOTICE 'kit: % copied: % rows in % s; its changes since are captured', _target, _done,
            round(extract(epoch FROM clock_timestamp() - _started)::numeric, 1);
    END LOOP;
    FOR _target IN SELECT v.read_table FROM kit.read_version v
                    WHERE v.state = 'building' AND (backfill.read_table IS NULL OR v.read_table = backfill.read_table)
                      AND v.read_table <> ALL (_failed)  -- a copy that failed above: its rows are not all facts yet
                    ORDER BY v.created_at, v.read_table LOOP
        _started := clock_timestamp();
        _reported := _started;
        _done := 0;
        _total := kit.backfill_remaining(_target);
        _error := NULL;
        RAISE NOTICE 'kit: backfilling % from % facts', _target, _total;
        LOOP
            _step := kit.try_backfill_step(_target, backfill.batch_size);
            IF _step.error_state IS NOT NULL THEN
                _error := ARRAY[_step.error_state, _step.error_message, _step.error_hint];
                EXIT;
            END IF;
            _done := _done + _step.applied;
            COMMIT;
            EXIT WHEN _step.state <> 'building';
            CALL kit.await_replicas(format('backfill of %s', _target), _reported, _gave_up);
            IF _gave_up IS NOT NULL THEN
                _error := _gave_up;
                EXIT;
            END IF;
            IF clock_timestamp() - _reported > interval '2 seconds' THEN
                _rate := _done / greatest(extract(epoch FROM clock_timestamp() - _started), 0.001);
                RAISE NOTICE 'kit: % backfill: % of about % facts, % facts/s, about % s left', _target, _done, _total,
                    round(_rate), round(greatest(_total - _done, 0) / greatest(_rate, 1));
                _reported := clock_timestamp();
            END IF;
            EXIT WHEN _step.backfilled_to >= _step.watermark;
        END LOOP;
        IF _error IS NULL THEN
            FOR _attempt IN 1..40 LOOP
                _finish := kit.try_finish_backfill(_target);
                EXIT WHEN NOT _finish.busy;
                COMMIT;
                PERFORM pg_sleep(least(0.02 * _attempt, 0.5));
                _step := kit.try_backfill_step(_target, backfill.batch_size);
                COMMIT;
            END LOOP;
            IF _finish.error_state IS NOT NULL THEN
                _error := ARRAY[_finish.error_state, _finish.error_message, _finish.error_hint];
            ELSIF _finish.busy THEN
                _error := ARRAY['KT007', format('Could not complete %s: its write tables stayed busy for 40 short lock attempts', _target),
                                'Long transactions are writing to them; run the backfill again later (mvn flyway:migrate, or kit backfill): it resumes where it stopped.'];
            END IF;
        END IF;
        _rebuild_of := (SELECT v.rebuild_of FROM kit.read_version v WHERE v.read_table = _target);
        IF _error IS NOT NULL AND _error[1] <> 'KT007' AND _rebuild_of IS NOT NULL THEN
            -- A rebuild that cannot complete is dropped: its shadow must not break later migrations.
            PERFORM kit.abort_read_version(_target, domain => kit.key_schema(_target));
            _error[2] := _error[2] || format(' (The rebuild was dropped: %s is unchanged.)', _rebuild_of);
            _error[3] := format('The facts of %s break a rule of %s, so no rebuild can complete: kit verify %s names every such fact. '
                                'Nothing is left to abort. Serve that entity from a new read version whose rules the facts satisfy.',
                                _rebuild_of, _rebuild_of, _rebuild_of);
        END IF;
        IF _error IS NOT NULL THEN
            UPDATE kit.read_version v SET backfill_error = _error[1] || ': ' || _error[2], backfill_failed_at = now()
             WHERE v.read_table = _target;
            COMMIT;
            IF _gave_up IS NOT NULL THEN
                -- The replica holds the other versions up as well: no wait again for each of them.
                RAISE EXCEPTION USING ERRCODE = _gave_up[1],
                    MESSAGE = _gave_up[2] || CASE WHEN cardinality(_failed) > 0
                                                  THEN format(' (Backfills that failed before: %s)', array_to_string(_failed, ', ')) ELSE '' END,
                    HINT = _gave_up[3];
            END IF;
            RAISE WARNING 'kit: backfill of % failed (%: %); going on with the other building versions', _target, _error[1], _error[2];
            IF cardinality(_failed) = 0 THEN
                _first := _error;
                _first_dropped := _rebuild_of IS NOT NULL AND _error[1] <> 'KT007';
            END IF;
            _failed := _failed || _target;
            CONTINUE;
        END IF;
        COMMIT;
        RAISE NOTICE 'kit: % is live: % facts in % s', _target, _done,
            round(extract(epoch FROM clock_timestamp() - _started)::numeric, 1);
    END LOOP;
    IF cardinality(_failed) > 0 THEN
        RAISE EXCEPTION USING ERRCODE = _first[1],
            MESSAGE = _first[2] || CASE WHEN cardinality(_failed) > 1
                                                   THEN format(' (Backfills that failed: %s)', array_to_string(_failed, ', ')) ELSE '' END,
            HINT = CASE WHEN _first_dropped THEN _first[3]
                        ELSE coalesce(nullif(_first[3], '') || ' ', '')
                   || format('The backfill of %s stopped there; every other building version went on. If its facts can never satisfy it, '
                             'drop it with kit abort %1$s (SELECT kit.abort_read_version(%2$L)) and fix forward in a new migration.',
                             _failed[1], _failed[1]) END;
    END IF;
END
$$;
