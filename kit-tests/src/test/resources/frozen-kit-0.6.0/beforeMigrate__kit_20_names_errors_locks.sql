-- Kit script 20 names_errors_locks (run by Flyway before every migrate, in file-name order).
-- What every later script uses: every generated name (kit.object_name), the
-- kit's errors (SQLSTATE class KT) and its bounded waits for locks.
-- Idempotent: CREATE OR REPLACE / IF NOT EXISTS, safe to run again.

-- Every name the kit generates comes from here, so that names never drift.
-- 'feed', 'accept_id' and 'assign_id' name a write table's triggers,
-- 'id_space' and 'id_claimer' the functions that give and take an id space's
-- ids (write_table is then the id space). accept_id_<w> sorts before
-- assign_id_<w> on purpose: PostgreSQL fires a table's BEFORE triggers in
-- name order, and an explicit id must be claimed before the assigner runs.
CREATE OR REPLACE FUNCTION kit.object_name(kind text, write_table text, read_table text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog
AS $$
DECLARE
    _name text;
BEGIN
    _name := CASE object_name.kind
        WHEN 'projection'  THEN format('project_%s_into_%s', object_name.write_table, object_name.read_table)
        WHEN 'feed'        THEN format('feed_%s', object_name.write_table)
        WHEN 'append_only' THEN format('append_only_%s', object_name.write_table)
        WHEN 'assign_id'   THEN format('assign_id_%s', object_name.write_table)
        WHEN 'accept_id'   THEN format('accept_id_%s', object_name.write_table)
        WHEN 'id_space'    THEN format('assign_%s_id', object_name.write_table)
        WHEN 'id_claimer'  THEN format('accept_%s_id', object_name.write_table)
        WHEN 'shadow'      THEN format('%s__rebuild', object_name.write_table)
    END;
    IF _name IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'KT006',
            MESSAGE = format('Unknown kind of kit object: %s (Write table: %s)', object_name.kind, object_name.write_table);
    END IF;
    IF octet_length(_name) > 63 THEN
        RAISE EXCEPTION USING ERRCODE = 'KT006',
            MESSAGE = format('Generated name is longer than PostgreSQL allows: %s (Limit: 63 bytes)', _name),
            HINT = 'Use shorter write or read table names.';
    END IF;
    RETURN _name;
END
$$;

-- Kit usage errors (a wrong call in a migration) share one code.
CREATE OR REPLACE FUNCTION kit.usage_error(message text, hint text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'KT006', MESSAGE = usage_error.message,
        HINT = coalesce(usage_error.hint, 'See the README section "Adding a version".');
END
$$;

-- The state of a read version, failing with KT006 unless it is one of `allowed`.
CREATE OR REPLACE FUNCTION kit.require_state(read_table text, allowed text[])
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    _state text;
BEGIN
    SELECT v.state INTO _state FROM kit.read_version v WHERE v.read_table = require_state.read_table;
    IF _state IS NULL OR NOT _state = ANY (require_state.allowed) THEN
        PERFORM kit.usage_error(format('Not a %s read version: %s (State: %s)',
                                       array_to_string(require_state.allowed, ' or '), require_state.read_table,
                                       coalesce(_state, 'none')),
                                'kit status lists every read version and its state (SELECT read_table, state FROM kit.read_version).');
    END IF;
    RETURN _state;
END
$$;

-- Whether a domain table (a read or write table) exists: a feed whose read
-- or write table was renamed or dropped behind the kit's back is left out of
-- the generated code (the write table's other feeds go on; kit.drift() names
-- the missing table) instead of failing every write to its write tables. A
-- feed that checks its facts against a missing table (references) stays,
-- and refuses its facts until the table is back: a rule it cannot check is
-- not waived.
CREATE OR REPLACE FUNCTION kit.domain_table_exists(table_name text)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT to_regclass(format('public.%I', domain_table_exists.table_name)) IS NOT NULL
$$;

CREATE OR REPLACE FUNCTION kit.refuse_change_of_fact()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'KT001',
        MESSAGE = format('Facts are append-only: %s is not allowed (Write table: %s)', TG_OP, TG_TABLE_NAME),
        SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME,
        HINT = 'Record a new fact instead (for example a password change).';
END
$$;

CREATE OR REPLACE FUNCTION kit.raise_unknown_entity(read_table text, entity text, write_table text, column_name text,
                                         value text, fact_seq bigint)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'KT004',
        MESSAGE = format('Unknown %s: %s (Fact: %s seq %s, Column: %s, Read table: %s)',
                         raise_unknown_entity.entity, raise_unknown_entity.value, raise_unknown_entity.write_table,
                         raise_unknown_entity.fact_seq, raise_unknown_entity.column_name, raise_unknown_entity.read_table),
        SCHEMA = 'public', TABLE = raise_unknown_entity.write_table, COLUMN = raise_unknown_entity.column_name,
        DETAIL = format('Fact seq: %s. Looked up in: %s.', raise_unknown_entity.fact_seq, raise_unknown_entity.read_table),
        HINT = format('Record facts about a %s only after it exists.', raise_unknown_entity.entity);
END
$$;

-- Called by an insert projection when ON CONFLICT DO NOTHING skipped a row:
-- finds the first rejected fact and says which unique rule it broke. Only the
-- error path pays for the dynamic SQL.
CREATE OR REPLACE FUNCTION kit.raise_rejected_insert(read_table text, write_table text, facts jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _fact     jsonb;
    _seq      bigint;
    _entity   text;
    _column     text;
    _type       text;
    _constraint text;
    _taken_by bigint;
BEGIN
    SELECT v.entity INTO _entity FROM kit.read_version v WHERE v.read_table = raise_rejected_insert.read_table;
    FOR _fact IN SELECT f FROM jsonb_array_elements(raise_rejected_insert.facts) AS f ORDER BY (f ->> 'seq')::bigint LOOP
        _seq := (_fact ->> 'seq')::bigint;
        -- The fact that made the row (first_fact_seq; last_fact_seq on rows older than it).
        EXECUTE format('SELECT coalesce(first_fact_seq, last_fact_seq) FROM public.%I WHERE id = $1', raise_rejected_insert.read_table)
           INTO _taken_by USING (_fact ->> 'id')::bigint;
        IF _taken_by = _seq THEN
            CONTINUE;  -- this fact's row is there: it was not the rejected one
        END IF;
        IF _taken_by IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'KT002',
                MESSAGE = format('Duplicate %s id: %s (Fact: %s seq %s, Read table: %s, Taken by fact seq: %s)',
                                 _entity, _fact ->> 'id', raise_rejected_insert.write_table, _seq,
                                 raise_rejected_insert.read_table, _taken_by),
                SCHEMA = 'public', TABLE = raise_rejected_insert.read_table, COLUMN = 'id',
                DETAIL = format('Fact: %s seq %s. Taken by fact seq: %s.', raise_rejected_insert.write_table, _seq, _taken_by),
                HINT = 'Leave the id out and the kit assigns a free one.';
        END IF;
        -- Not there and its id is free: another unique column rejected it.
        FOR _column, _type, _constraint IN
            SELECT a.attname, format_type(a.atttypid, a.atttypmod), c.relname
              FROM pg_index i
              JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
              JOIN pg_class c ON c.oid = i.indexrelid
             WHERE i.indrelid = format('public.%I', raise_rejected_insert.read_table)::regclass
               AND i.indisunique AND NOT i.indisprimary AND i.indnatts = 1
        LOOP
            EXECUTE format('SELECT coalesce(first_fact_seq, last_fact_seq) FROM public.%I WHERE %I = CAST($1 AS %s)',
                           raise_rejected_insert.read_table, _column, _type)
               INTO _taken_by USING _fact ->> _column;
            IF _taken_by IS NOT NULL AND _taken_by <> _seq THEN
                RAISE EXCEPTION USING ERRCODE = 'KT003',
                    MESSAGE = format('Duplicate %s %s: %s (Fact: %s seq %s, Read table: %s, Taken by fact seq: %s)',
                                     _entity, _column, _fact ->> _column, raise_rejected_insert.write_table, _seq,
                                     raise_rejected_insert.read_table, _taken_by),
                    SCHEMA = 'public', TABLE = raise_rejected_insert.read_table, COLUMN = _column, CONSTRAINT = _constraint,
                    DETAIL = format('Fact: %s seq %s. Taken by fact seq: %s.', raise_rejected_insert.write_table, _seq, _taken_by),
                    HINT = format('Each %s must be unique across every version.', _column);
            END IF;
        END LOOP;
        RAISE EXCEPTION USING ERRCODE = 'KT003',
            MESSAGE = format('Fact rejected by a unique rule of the read table (Fact: %s seq %s, Read table: %s)',
                             raise_rejected_insert.write_table, _seq, raise_rejected_insert.read_table),
            SCHEMA = 'public', TABLE = raise_rejected_insert.read_table,
            DETAIL = format('Fact: %s seq %s.', raise_rejected_insert.write_table, _seq);
    END LOOP;
END
$$;

-- Takes the kit's transaction-level advisory lock (1263094, key), shared or
-- exclusive, waiting at most `timeout` (else the setting kit.lock_wait, else
-- 10 seconds); then gives up with KT007 naming who holds it. Any login may
-- take an advisory lock, so no wait of the kit's may be unbounded or silent:
-- after a second it says what it waits for, in a NOTICE with SQLSTATE KT007
-- (as every wait of the kit's: clients tell them apart by that code).
CREATE OR REPLACE FUNCTION kit.advisory_lock_briefly(key integer, exclusive boolean, what text, timeout interval DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _started timestamptz := clock_timestamp();
    _limit   interval := coalesce(advisory_lock_briefly.timeout,
                                  nullif(current_setting('kit.lock_wait', true), '')::interval, interval '10 seconds');
    _report  timestamptz := clock_timestamp() + interval '1 second';
    _holder  text;
BEGIN
    WHILE NOT CASE WHEN advisory_lock_briefly.exclusive THEN pg_try_advisory_xact_lock(1263094, advisory_lock_briefly.key)
                   ELSE pg_try_advisory_xact_lock_shared(1263094, advisory_lock_briefly.key) END LOOP
        IF clock_timestamp() - _started > _limit OR clock_timestamp() > _report THEN
            SELECT format('Pid: %s, User: %s, Application: %s, State: %s', a.pid, a.usename, a.application_name, a.state) INTO _holder
              FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND l.classid = 1263094 AND l.objid = advisory_lock_briefly.key AND l.objsubid = 2
               AND l.granted AND l.pid <> pg_backend_pid()
               AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
             LIMIT 1;
            IF clock_timestamp() - _started > _limit THEN
                RAISE EXCEPTION USING ERRCODE = 'KT007',
                    MESSAGE = format('Could not %s: gave up after %s waiting for the kit''s lock (1263094, %s) (%s)',
                                     advisory_lock_briefly.what, _limit, advisory_lock_briefly.key,
                                     coalesce(_holder, 'holder gone')),
                    HINT = 'A retirement or another session holds it: let it end (or pg_terminate_backend it), then try again.';
            END IF;
            RAISE NOTICE 'kit: to % waits for the kit''s lock (1263094, %) (%); gives up after %',
                advisory_lock_briefly.what, advisory_lock_briefly.key, coalesce(_holder, 'holder gone'), _limit
                USING ERRCODE = 'KT007';
            _report := clock_timestamp() + interval '5 seconds';
        END IF;
        PERFORM pg_sleep(0.02);
    END LOOP;
END
$$;

-- Takes `mode` locks on tables, each tried for at most lock_timeout, all of
-- them again after a pause when one is busy, up to `attempts` times; then
-- gives up with KT007 naming `what`. Never queues behind a long transaction
-- for longer than one lock_timeout, so writers behind it wait no longer.
CREATE OR REPLACE FUNCTION kit.lock_briefly(tables regclass[], mode text, what text,
                                 lock_timeout text DEFAULT '200ms', attempts integer DEFAULT 10)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _table regclass;
BEGIN
    FOR _attempt IN 1..lock_briefly.attempts LOOP
        BEGIN
            PERFORM set_config('lock_timeout', lock_briefly.lock_timeout, true);
            FOREACH _table IN ARRAY lock_briefly.tables LOOP
                EXECUTE format('LOCK TABLE %s IN %s MODE', _table, lock_briefly.mode);
            END LOOP;
            PERFORM set_config('lock_timeout', '0', true);
            RETURN;
        EXCEPTION WHEN lock_not_available THEN
            PERFORM set_config('lock_timeout', '0', true);
        END;
        PERFORM pg_sleep(0.05 * _attempt);
    END LOOP;
    RAISE EXCEPTION USING ERRCODE = 'KT007',
        MESSAGE = format('Could not %s: its tables stayed busy for %s attempts of %s (Tables: %s)', lock_briefly.what,
                         lock_briefly.attempts, lock_briefly.lock_timeout, array_to_string(lock_briefly.tables, ', ')),
        HINT = 'Long transactions are using them; run it again later.';
END
$$;
