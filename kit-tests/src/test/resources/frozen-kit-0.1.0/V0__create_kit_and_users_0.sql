-- Schema version 0: the kit itself (catalog, then functions), then the first
-- write table and read table. The kit arrives with V0 so that
-- `flyway:migrate -Dflyway.target=0` gives a database at exactly version 0.
--
-- Conventions (see README, "How the kit works"):
--   * write tables are facts, named in the past tense with the version that
--     introduced them (user_registered_0); the kit adds `seq` (global order)
--     and `recorded_at` after the domain columns;
--   * read tables are nouns with their own version (users_0); the kit adds
--     `last_fact_seq` (the last fact applied to the row);
--   * every generated name comes from kit.object_name();
--   * errors use the kit's SQLSTATE class KT (see kit.error_code comments and
--     the README's error table).
--   * domain tables live in the public schema.

------------------------------------------------------------------------------
-- Catalog tables
------------------------------------------------------------------------------

CREATE SCHEMA kit;
COMMENT ON SCHEMA kit IS 'The versioned CQRS kit: catalog of write tables, read versions, feeds and schema versions, and the functions migrations call.';

-- One global order for every fact in every write table.
CREATE SEQUENCE kit.fact_seq AS bigint;

CREATE TABLE kit.write_table (
    write_table  text PRIMARY KEY,
    id_space     text NOT NULL,
    id_sequence  text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE kit.write_table IS 'Append-only fact tables. Tables of one id space share one id sequence.';

CREATE TABLE kit.read_version (
    read_table        text PRIMARY KEY,
    entity            text NOT NULL,
    state             text NOT NULL DEFAULT 'building' CHECK (state IN ('building', 'live', 'retired', 'aborted')),
    rebuild_of        text REFERENCES kit.read_version,
    backfilled_to     bigint NOT NULL DEFAULT 0,
    backfilled_facts  bigint NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now(),
    live_at           timestamptz,
    retired_at        timestamptz
);
COMMENT ON TABLE kit.read_version IS 'Read tables and their lifecycle: building (being backfilled), live (complete, fed by triggers), retired (dropped by a tidy-up), aborted (dropped while building).';
COMMENT ON COLUMN kit.read_version.rebuild_of IS 'Set on the shadow table of an online rebuild: the live read table it replaces when complete.';
COMMENT ON COLUMN kit.read_version.backfilled_to IS 'While building: every feeding fact with seq up to this one has been applied.';

CREATE TABLE kit.app_role (
    version    integer PRIMARY KEY,
    role_name  text NOT NULL
);
COMMENT ON TABLE kit.app_role IS 'The database role of each app version: it may insert into its own write tables and read its own read tables, nothing more.';

CREATE TABLE kit.read_reference (
    read_table        text NOT NULL REFERENCES kit.read_version,
    column_name       text NOT NULL,
    referenced_table  text NOT NULL REFERENCES kit.read_version,
    PRIMARY KEY (read_table, column_name)
);
COMMENT ON TABLE kit.read_reference IS 'Columns of a read table that must name an existing row (by id) of another read table, checked for every fact.';

CREATE TABLE kit.feed (
    write_table  text NOT NULL REFERENCES kit.write_table,
    read_table   text NOT NULL REFERENCES kit.read_version,
    kind         text NOT NULL CHECK (kind IN ('insert', 'update')),
    key_column   text,
    projection   text NOT NULL,
    trigger_name text NOT NULL,
    position     bigint GENERATED ALWAYS AS IDENTITY,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (write_table, read_table),
    CHECK ((kind = 'update') = (key_column IS NOT NULL))
);
COMMENT ON TABLE kit.feed IS 'One feed per write table x read table: a trigger on the write table that calls the projection function. Insert feeds create read rows, update feeds change the row whose id is in key_column.';

CREATE TABLE kit.schema_version (
    version     integer PRIMARY KEY CHECK (version >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    retired_at  timestamptz
);

CREATE TABLE kit.schema_version_read (
    version     integer NOT NULL REFERENCES kit.schema_version,
    read_table  text NOT NULL REFERENCES kit.read_version,
    PRIMARY KEY (version, read_table)
);
COMMENT ON TABLE kit.schema_version_read IS 'The read versions an app of each schema version reads.';

-- A schema version is live when it is not retired and every read version it
-- uses is live; its state is derived, never stored twice.
CREATE VIEW kit.schema_versions AS
SELECT v.version,
       CASE WHEN v.retired_at IS NOT NULL THEN 'retired'
            WHEN bool_or(r.state = 'aborted') THEN 'aborted'
            WHEN bool_and(r.state = 'live') THEN 'live'
            ELSE 'building' END                      AS state,
       array_agg(r.read_table ORDER BY r.read_table) AS read_tables,
       v.created_at,
       v.retired_at
  FROM kit.schema_version v
  JOIN kit.schema_version_read s USING (version)
  JOIN kit.read_version r USING (read_table)
 GROUP BY v.version;

------------------------------------------------------------------------------
-- Names and errors
------------------------------------------------------------------------------

-- Every name the kit generates comes from here, so that names never drift.
CREATE FUNCTION kit.object_name(kind text, write_table text, read_table text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog
AS $$
DECLARE
    _name text;
BEGIN
    _name := CASE object_name.kind
        WHEN 'projection'  THEN format('project_%s_into_%s', object_name.write_table, object_name.read_table)
        WHEN 'feed'        THEN format('feed_%s__%s', object_name.write_table, object_name.read_table)
        WHEN 'append_only' THEN format('append_only_%s', object_name.write_table)
        WHEN 'advance_ids' THEN format('advance_ids_%s', object_name.write_table)
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
CREATE FUNCTION kit.usage_error(message text, hint text DEFAULT NULL)
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
CREATE FUNCTION kit.require_state(read_table text, allowed text[])
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
                                       coalesce(_state, 'none')));
    END IF;
    RETURN _state;
END
$$;

CREATE FUNCTION kit.refuse_change_of_fact()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'KT001',
        MESSAGE = format('Facts are append-only: %s is not allowed (Write table: %s)', TG_OP, TG_TABLE_NAME),
        HINT = 'Record a new fact instead (for example a password change).';
END
$$;

CREATE FUNCTION kit.raise_unknown_entity(read_table text, entity text, write_table text, column_name text,
                                         value text, fact_seq bigint)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'KT004',
        MESSAGE = format('Unknown %s: %s (Fact: %s seq %s, Column: %s, Read table: %s)',
                         raise_unknown_entity.entity, raise_unknown_entity.value, raise_unknown_entity.write_table,
                         raise_unknown_entity.fact_seq, raise_unknown_entity.column_name, raise_unknown_entity.read_table),
        HINT = format('Record facts about a %s only after it exists.', raise_unknown_entity.entity);
END
$$;

-- Called by an insert projection when ON CONFLICT DO NOTHING skipped a row:
-- finds the first rejected fact and says which unique rule it broke. Only the
-- error path pays for the dynamic SQL.
CREATE FUNCTION kit.raise_rejected_insert(read_table text, write_table text, facts jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    _fact     jsonb;
    _seq      bigint;
    _entity   text;
    _column   text;
    _type     text;
    _taken_by bigint;
BEGIN
    SELECT v.entity INTO _entity FROM kit.read_version v WHERE v.read_table = raise_rejected_insert.read_table;
    FOR _fact IN SELECT f FROM jsonb_array_elements(raise_rejected_insert.facts) AS f ORDER BY (f ->> 'seq')::bigint LOOP
        _seq := (_fact ->> 'seq')::bigint;
        EXECUTE format('SELECT last_fact_seq FROM public.%I WHERE id = $1', raise_rejected_insert.read_table)
           INTO _taken_by USING (_fact ->> 'id')::bigint;
        IF _taken_by = _seq THEN
            CONTINUE;  -- this fact's row is there: it was not the rejected one
        END IF;
        IF _taken_by IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'KT002',
                MESSAGE = format('Duplicate %s id: %s (Fact: %s seq %s, Read table: %s, Taken by fact seq: %s)',
                                 _entity, _fact ->> 'id', raise_rejected_insert.write_table, _seq,
                                 raise_rejected_insert.read_table, _taken_by),
                HINT = 'Leave the id out and the kit assigns a free one.';
        END IF;
        -- Not there and its id is free: another unique column rejected it.
        FOR _column, _type IN
            SELECT a.attname, format_type(a.atttypid, a.atttypmod)
              FROM pg_index i
              JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
             WHERE i.indrelid = format('public.%I', raise_rejected_insert.read_table)::regclass
               AND i.indisunique AND NOT i.indisprimary AND i.indnatts = 1
        LOOP
            EXECUTE format('SELECT last_fact_seq FROM public.%I WHERE %I = CAST($1 AS %s)',
                           raise_rejected_insert.read_table, _column, _type)
               INTO _taken_by USING _fact ->> _column;
            IF _taken_by IS NOT NULL AND _taken_by <> _seq THEN
                RAISE EXCEPTION USING ERRCODE = 'KT003',
                    MESSAGE = format('Duplicate %s %s: %s (Fact: %s seq %s, Read table: %s, Taken by fact seq: %s)',
                                     _entity, _column, _fact ->> _column, raise_rejected_insert.write_table, _seq,
                                     raise_rejected_insert.read_table, _taken_by),
                    HINT = format('Each %s must be unique across every version.', _column);
            END IF;
        END LOOP;
        RAISE EXCEPTION USING ERRCODE = 'KT003',
            MESSAGE = format('Fact rejected by a unique rule of the read table (Fact: %s seq %s, Read table: %s)',
                             raise_rejected_insert.write_table, _seq, raise_rejected_insert.read_table);
    END LOOP;
END
$$;

------------------------------------------------------------------------------
-- Write tables
------------------------------------------------------------------------------

-- The id that nextval() would give next, without taking it.
CREATE FUNCTION kit.next_id(id_sequence regclass)
RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT coalesce(pg_sequence_last_value(next_id.id_sequence) + s.seqincrement, s.seqstart)
      FROM pg_sequence s
     WHERE s.seqrelid = next_id.id_sequence
$$;

-- Moves an id space's sequence past `max_id`, serialising the explicit-id
-- writers of that id space; setval never moves the sequence back.
-- SECURITY DEFINER: app roles may take ids (USAGE) but not set the sequence.
CREATE FUNCTION kit.advance_id_sequence_past(id_sequence regclass, max_id bigint)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog
AS $$
BEGIN
    IF advance_id_sequence_past.max_id >= kit.next_id(advance_id_sequence_past.id_sequence) THEN
        PERFORM pg_advisory_xact_lock(advance_id_sequence_past.id_sequence::oid::integer, 0);
        PERFORM setval(advance_id_sequence_past.id_sequence,
                       greatest(advance_id_sequence_past.max_id, kit.next_id(advance_id_sequence_past.id_sequence) - 1), true);
    END IF;
END
$$;

-- After an insert with explicit ids (as in `INSERT ... VALUES (1, ...)`), move
-- the id space's sequence past them, so that a later sequence-given id cannot
-- collide. This runs for every insert, so its usual case is one comparison:
-- ids the sequence gave are at most its last value. Only statements whose ids
-- reach past it call the SECURITY DEFINER setval path. No SET search_path:
-- every name is qualified, and a SET clause would cost a configuration change
-- on every write.
CREATE FUNCTION kit.advance_id_sequence()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    _max bigint;
BEGIN
    SELECT max(n.id) INTO _max FROM new_rows n;
    IF _max > coalesce(pg_catalog.pg_sequence_last_value(TG_ARGV[0]::pg_catalog.regclass), -1) THEN
        PERFORM kit.advance_id_sequence_past(TG_ARGV[0]::pg_catalog.regclass, _max);
    END IF;
    RETURN NULL;
END
$$;

-- Turns a freshly created table of domain columns (id first) into a write
-- table: adds the kit columns, the id sequence of its id space, the
-- append-only guard and registers it.
--
-- The write table's key is seq, its place in the global order. Ids are not
-- indexed here: the read tables' primary keys hold one id per entity across
-- every write table of its id space (and say so with the kit's KT002), so a
-- second index per fact would only cost writes.
CREATE FUNCTION kit.create_write_table(write_table text, id_space text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    _table    regclass := to_regclass(format('public.%I', create_write_table.write_table));
    _sequence text := format('kit.%I', create_write_table.id_space || '_id_seq');
BEGIN
    IF _table IS NULL THEN
        PERFORM kit.usage_error(format('No such table: %s (create the table before calling kit.create_write_table)',
                                       create_write_table.write_table));
    END IF;
    IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = _table AND attname = 'id' AND attnum = 1) THEN
        PERFORM kit.usage_error(format('A write table needs id as its first column (Write table: %s)',
                                       create_write_table.write_table));
    END IF;
    IF to_regclass(_sequence) IS NULL THEN
        EXECUTE format('CREATE SEQUENCE %s AS bigint', _sequence);
    END IF;
    EXECUTE format($ddl$
        ALTER TABLE %1$s
            ALTER COLUMN id SET DEFAULT nextval(%2$L),
            ADD COLUMN seq bigint NOT NULL DEFAULT nextval('kit.fact_seq'),
            ADD COLUMN recorded_at timestamptz NOT NULL DEFAULT now(),
            ADD PRIMARY KEY (seq)
        $ddl$, _table, _sequence);
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE OR TRUNCATE ON %s
                    FOR EACH STATEMENT EXECUTE FUNCTION kit.refuse_change_of_fact()',
                   kit.object_name('append_only', create_write_table.write_table), _table);
    -- ALWAYS: the guard holds even with session_replication_role = replica.
    EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I',
                   _table, kit.object_name('append_only', create_write_table.write_table));
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS new_rows
                    FOR EACH STATEMENT EXECUTE FUNCTION kit.advance_id_sequence(%L)',
                   kit.object_name('advance_ids', create_write_table.write_table), _table, _sequence);
    INSERT INTO kit.write_table (write_table, id_space, id_sequence)
    VALUES (create_write_table.write_table, create_write_table.id_space, _sequence);
END
$$;

------------------------------------------------------------------------------
-- Read versions and feeds
------------------------------------------------------------------------------

-- Registers a freshly created read table (primary key id) as a building read
-- version. `refs` names columns that must point at rows of other read tables,
-- e.g. '{"src_id": "users_2"}'. A building version is filled by kit.backfill
-- (run by the afterMigrate callback) and goes live when complete.
CREATE FUNCTION kit.create_read_version(read_table text, entity text, refs jsonb DEFAULT '{}')
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    _table regclass := to_regclass(format('public.%I', create_read_version.read_table));
    _ref   record;
BEGIN
    IF _table IS NULL THEN
        PERFORM kit.usage_error(format('No such table: %s (create the table before calling kit.create_read_version)',
                                       create_read_version.read_table));
    END IF;
    IF EXISTS (SELECT FROM kit.read_version v WHERE v.read_table = create_read_version.read_table) THEN
        PERFORM kit.usage_error(format('Read version already exists: %s', create_read_version.read_table),
                                'A read version is never reused; create the next version instead.');
    END IF;
    IF NOT EXISTS (SELECT FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                    WHERE i.indrelid = _table AND i.indisprimary AND i.indnatts = 1 AND a.attname = 'id') THEN
        PERFORM kit.usage_error(format('A read table needs PRIMARY KEY (id) (Read table: %s)',
                                       create_read_version.read_table));
    END IF;
    EXECUTE format('ALTER TABLE %s ADD COLUMN last_fact_seq bigint NOT NULL', _table);
    INSERT INTO kit.read_version (read_table, entity)
    VALUES (create_read_version.read_table, create_read_version.entity);
    FOR _ref IN SELECT key AS column_name, value AS referenced FROM jsonb_each_text(create_read_version.refs) LOOP
        IF NOT EXISTS (SELECT FROM kit.read_version v WHERE v.read_table = _ref.referenced AND v.state IN ('building', 'live')) THEN
            PERFORM kit.usage_error(format('Referenced read version is not live: %s (Read table: %s, Column: %s)',
                                           _ref.referenced, create_read_version.read_table, _ref.column_name));
        END IF;
        INSERT INTO kit.read_reference (read_table, column_name, referenced_table)
        VALUES (create_read_version.read_table, _ref.column_name, _ref.referenced);
    END LOOP;
END
$$;

-- The SQL that fails the statement when a fact's `fact_column` names no row of
-- `target` (a read table). Shared by update feeds (their own row) and
-- references (another read table's row). Skipped when replaying: those facts
-- were checked when they were written.
CREATE FUNCTION kit.existence_check_sql(write_table text, fact_column text, target text, entity text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT format($sql$
    IF NOT replay THEN
        SELECT f.%2$I::text, f.seq INTO _missing, _missing_seq
          FROM unnest(facts) AS f
         WHERE NOT EXISTS (SELECT FROM public.%3$I AS r WHERE r.id = f.%2$I)
         ORDER BY f.seq
         LIMIT 1;
        IF FOUND THEN
            PERFORM kit.raise_unknown_entity(%3$L, %4$L, %1$L, %2$L, _missing, _missing_seq);
        END IF;
    END IF;
$sql$, existence_check_sql.write_table, existence_check_sql.fact_column, existence_check_sql.target,
       existence_check_sql.entity)
$$;

-- Writes the projection function of a feed into `target` (the read table, or
-- the shadow table of an online rebuild). Columns map by name: an insert feed
-- fills each read column from the fact column of the same name (NULL when the
-- fact has none); an update feed sets every read column the fact also has, on
-- the row whose id is in key_column, unless a later fact was already applied
-- to it (last_fact_seq), so racing facts end as a replay in seq order would.
--
-- Only the kit calls it (EXECUTE is revoked from PUBLIC): app roles may
-- insert facts but never write a read table; the feed trigger writes it as
-- the kit's owner. No SET search_path: every name in it is qualified, and it
-- runs inside the trigger's or a kit function's pinned search_path.
CREATE FUNCTION kit.projection_sql(write_table text, read_table text, key_column text, target text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public
AS $$
DECLARE
    _write   regclass := format('public.%I', projection_sql.write_table)::regclass;
    _read    regclass := format('public.%I', projection_sql.read_table)::regclass;
    _entity  text := (SELECT v.entity FROM kit.read_version v WHERE v.read_table = projection_sql.read_table);
    _checks  text;
    _body    text;
    _targets text;
    _values  text;
    _sets    text;
BEGIN
    SELECT coalesce(string_agg(kit.existence_check_sql(projection_sql.write_table, c.column_name, c.checked_table, c.entity), ''), '')
      INTO _checks
      FROM (SELECT rr.column_name, rr.referenced_table AS checked_table, v.entity
              FROM kit.read_reference rr JOIN kit.read_version v ON v.read_table = rr.referenced_table
             WHERE rr.read_table = projection_sql.read_table AND projection_sql.key_column IS NULL
            UNION ALL
            SELECT projection_sql.key_column, projection_sql.target, _entity WHERE projection_sql.key_column IS NOT NULL) c;

    IF projection_sql.key_column IS NULL THEN
        SELECT string_agg(format('%I', r.attname), ', ' ORDER BY r.attnum),
               string_agg(CASE WHEN r.attname = 'last_fact_seq' THEN 'f.seq'
                               WHEN w.attname IS NOT NULL THEN format('f.%I', w.attname)
                               ELSE 'NULL' END, ', ' ORDER BY r.attnum)
          INTO _targets, _values
          FROM pg_attribute r
          LEFT JOIN pg_attribute w ON w.attrelid = _write AND w.attname = r.attname AND w.attnum > 0 AND NOT w.attisdropped
         WHERE r.attrelid = _read AND r.attnum > 0 AND NOT r.attisdropped;
        _body := format($sql$
    INSERT INTO public.%1$I (%2$s)
    SELECT %3$s FROM unnest(facts) AS f
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS _inserted = ROW_COUNT;
    IF _inserted < cardinality(facts) THEN
        PERFORM kit.raise_rejected_insert(%1$L, %4$L, to_jsonb(facts));
    END IF;
$sql$, projection_sql.target, _targets, _values, projection_sql.write_table);
    ELSE
        SELECT string_agg(format('%1$I = f.%1$I', r.attname), ', ' ORDER BY r.attnum)
          INTO _sets
          FROM pg_attribute r
          JOIN pg_attribute w ON w.attrelid = _write AND w.attname = r.attname AND w.attnum > 0 AND NOT w.attisdropped
         WHERE r.attrelid = _read AND r.attnum > 0 AND NOT r.attisdropped
           AND r.attname NOT IN ('id', 'last_fact_seq', 'seq', 'recorded_at');
        IF _sets IS NULL THEN
            PERFORM kit.usage_error(format('Update feed changes nothing: no column of %s is also in %s',
                                           projection_sql.read_table, projection_sql.write_table));
        END IF;
        _body := format($sql$
    UPDATE public.%1$I AS r
       SET %2$s, last_fact_seq = f.seq
      FROM (SELECT DISTINCT ON (u.%3$I) u.* FROM unnest(facts) AS u ORDER BY u.%3$I, u.seq DESC) AS f
     WHERE r.id = f.%3$I AND r.last_fact_seq < f.seq;
$sql$, projection_sql.target, _sets, projection_sql.key_column);
    END IF;

    RETURN format($fn$
CREATE FUNCTION public.%1$I(facts public.%2$I[], replay boolean)
RETURNS void
LANGUAGE plpgsql STRICT
AS $body$
DECLARE
    _inserted    bigint;
    _missing     text;
    _missing_seq bigint;
BEGIN
%3$s%4$s
END
$body$;
REVOKE EXECUTE ON FUNCTION public.%1$I(public.%2$I[], boolean) FROM PUBLIC;
$fn$, kit.object_name('projection', projection_sql.write_table, projection_sql.target),
      projection_sql.write_table, _checks, _body);
END
$$;

-- Creates the statement-level trigger that hands every inserted fact to the
-- feed's projection, in the inserting transaction.
--
-- Why statement-level with a transition table: a multi-row INSERT or COPY
-- calls each projection once with all its facts (set-based SQL), where a row
-- trigger would run the projection's statements once per row. A one-row
-- INSERT costs about the same either way.
CREATE FUNCTION kit.create_feed_trigger(write_table text, read_table text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    _feed       text := kit.object_name('feed', create_feed_trigger.write_table, create_feed_trigger.read_table);
    _projection text := kit.object_name('projection', create_feed_trigger.write_table, create_feed_trigger.read_table);
BEGIN
    -- SECURITY DEFINER: the privilege boundary. The inserting app role may not
    -- write read tables; the trigger does, as the kit's owner.
    -- No SET search_path, although it is SECURITY DEFINER: the clause costs a
    -- configuration change per trigger call (about a fifth of a feed's cost,
    -- measured), and nothing here or in the projection resolves through the
    -- search path: every table and function is schema-qualified, pg_catalog
    -- (operators, built-ins) is searched first, and pg_temp is never searched
    -- for functions or operators.
    EXECUTE format($fn$
CREATE FUNCTION public.%1$I()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
AS $body$
BEGIN
    PERFORM public.%2$I(ARRAY(SELECT n::public.%3$I FROM new_rows AS n), false);
    RETURN NULL;
END
$body$;
REVOKE EXECUTE ON FUNCTION public.%1$I() FROM PUBLIC;
$fn$, _feed, _projection, create_feed_trigger.write_table);
    EXECUTE format('CREATE TRIGGER %1$I AFTER INSERT ON public.%2$I REFERENCING NEW TABLE AS new_rows
                    FOR EACH STATEMENT EXECUTE FUNCTION public.%1$I()', _feed, create_feed_trigger.write_table);
END
$$;

-- Drops every feed into read_table: triggers (a building version's feeds have
-- none yet), trigger functions, projection functions and catalog rows. Shared
-- by retire, abort and the swap at the end of an online rebuild.
CREATE FUNCTION kit.drop_feeds(read_table text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    _feed record;
BEGIN
    FOR _feed IN SELECT f.write_table, f.projection, f.trigger_name FROM kit.feed f
                  WHERE f.read_table = drop_feeds.read_table LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON public.%I', _feed.trigger_name, _feed.write_table);
        EXECUTE format('DROP FUNCTION IF EXISTS public.%I()', _feed.trigger_name);
        EXECUTE format('DROP FUNCTION public.%I(public.%I[], boolean)', _feed.projection, _feed.write_table);
    END LOOP;
    DELETE FROM kit.feed f WHERE f.read_table = drop_feeds.read_table;
END
$$;

-- Declares that facts of write_table reach read_table and writes the feed's
-- projection function. For a live read version (fed by a new, empty write
-- table) the trigger is created at once; for a building one it is created
-- when the backfill completes, so that every fact is applied exactly once:
-- history by the backfill, the rest by the trigger.
CREATE FUNCTION kit.add_feed(write_table text, read_table text, key_column text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    _state     text;
    _has_facts boolean;
BEGIN
    IF NOT EXISTS (SELECT FROM kit.write_table w WHERE w.write_table = add_feed.write_table) THEN
        PERFORM kit.usage_error(format('Not a write table: %s (register it with kit.create_write_table)', add_feed.write_table));
    END IF;
    _state := kit.require_state(add_feed.read_table, ARRAY['building', 'live']);
    EXECUTE format('SELECT EXISTS (SELECT FROM public.%I)', add_feed.write_table) INTO _has_facts;
    IF _state = 'live' AND _has_facts THEN
        PERFORM kit.usage_error(
            format('A live read version can only be fed by a new, empty write table (Read table: %s, Write table: %s)',
                   add_feed.read_table, add_feed.write_table),
            'Create a new read version: it is backfilled from every existing fact.');
    END IF;
    EXECUTE kit.projection_sql(add_feed.write_table, add_feed.read_table, add_feed.key_column, add_feed.read_table);
    INSERT INTO kit.feed (write_table, read_table, kind, key_column, projection, trigger_name)
    VALUES (add_feed.write_table, add_feed.read_table,
            CASE WHEN add_feed.key_column IS NULL THEN 'insert' ELSE 'update' END, add_feed.key_column,
            kit.object_name('projection', add_feed.write_table, add_feed.read_table),
            kit.object_name('feed', add_feed.write_table, add_feed.read_table));
    IF _state = 'live' THEN
        PERFORM kit.create_feed_trigger(add_feed.write_table, add_feed.read_table);
    END IF;
END
$$;

-- Records that apps of `version` read `read_tables`.
CREATE FUNCTION kit.create_schema_version(version integer, read_tables text[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    _missing text;
BEGIN
    SELECT t INTO _missing FROM unnest(create_schema_version.read_tables) AS t
     WHERE NOT EXISTS (SELECT FROM kit.read_version v WHERE v.read_table = t AND v.state IN ('building', 'live'))
     LIMIT 1;
    IF _missing IS NOT NULL THEN
        PERFORM kit.usage_error(format('Schema version %s names a read version that is not live or building: %s',
                                       create_schema_version.version, _missing));
    END IF;
    INSERT INTO kit.schema_version (version) VALUES (create_schema_version.version);
    INSERT INTO kit.schema_version_read (version, read_table)
    SELECT create_schema_version.version, t FROM unnest(create_schema_version.read_tables) AS t;
END
$$;

-- The write tables an app of `version` writes: the newest version of each
-- fact (user_registered_1 rather than _0 from version 1 on). The same rule
-- gives the app's generated code and its role's grants.
CREATE FUNCTION kit.schema_version_write_tables(version integer)
RETURNS SETOF text
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT DISTINCT ON (regexp_replace(w.write_table, '_[0-9]+$', '')) w.write_table
      FROM kit.write_table w
     WHERE substring(w.write_table FROM '_([0-9]+)$')::integer <= schema_version_write_tables.version
     ORDER BY regexp_replace(w.write_table, '_[0-9]+$', ''), substring(w.write_table FROM '_([0-9]+)$')::integer DESC
$$;

------------------------------------------------------------------------------
-- Backfill: building -> live, batch by batch, resumable
------------------------------------------------------------------------------

-- Applies the facts with from_seq < seq <= to_seq to read_table through its
-- feeds' projection functions (insert feeds first, so rows exist before facts
-- change them; then update feeds; each in seq order, in batches). The same
-- functions the live triggers call, in replay mode. Returns the facts applied.
CREATE FUNCTION kit.replay_facts(read_table text, from_seq bigint, to_seq bigint, batch_size integer DEFAULT 10000)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    _feed  record;
    _last  bigint;
    _count bigint;
    _total bigint := 0;
BEGIN
    FOR _feed IN SELECT f.write_table, f.projection FROM kit.feed f
                  WHERE f.read_table = replay_facts.read_table
                  ORDER BY f.kind = 'update', f.position LOOP
        _last := replay_facts.from_seq;
        LOOP
            EXECUTE format($q$
                SELECT max(w.seq), count(*), public.%1$I(array_agg(w::public.%2$I ORDER BY w.seq), true)
                  FROM (SELECT * FROM public.%2$I WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3) AS w
                $q$, _feed.projection, _feed.write_table)
               INTO _last, _count USING _last, replay_facts.to_seq, replay_facts.batch_size;
            EXIT WHEN _count = 0;
            _total := _total + _count;
        END LOOP;
    END LOOP;
    RETURN _total;
END
$$;

-- The write tables that feed read_table, as regclasses.
CREATE FUNCTION kit.feeding_tables(read_table text)
RETURNS regclass[]
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT coalesce(array_agg(DISTINCT format('public.%I', f.write_table)::regclass), '{}')
      FROM kit.feed f WHERE f.read_table = feeding_tables.read_table
$$;

-- A seq below which every fact of read_table's write tables is committed or
-- rolled back, found without blocking any writer: read the fact sequence, then
-- wait until every transaction that was writing to those tables at that moment
-- has ended (a writer holds its table lock from before it takes its seq until
-- it ends). Gives up after `timeout` with KT007 naming the transaction.
CREATE FUNCTION kit.safe_watermark(read_table text, timeout interval DEFAULT '60 seconds')
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    _tables  regclass[] := kit.feeding_tables(safe_watermark.read_table);
    _mark    bigint := coalesce(pg_sequence_last_value('kit.fact_seq'), 0);
    _writers text[];
    _oldest  record;
    _started timestamptz := clock_timestamp();
BEGIN
    SELECT coalesce(array_agg(DISTINCT l.virtualtransaction), '{}') INTO _writers
      FROM pg_locks l
     WHERE l.locktype = 'relation' AND l.relation = ANY (_tables::oid[]) AND l.mode = 'RowExclusiveLock'
       AND l.granted AND l.pid <> pg_backend_pid();
    WHILE EXISTS (SELECT FROM pg_locks l WHERE l.virtualtransaction = ANY (_writers)) LOOP
        IF clock_timestamp() - _started > safe_watermark.timeout THEN
            SELECT a.pid, a.application_name, now() - a.xact_start AS age INTO _oldest
              FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.virtualtransaction = ANY (_writers) ORDER BY a.xact_start LIMIT 1;
            RAISE EXCEPTION USING ERRCODE = 'KT007',
                MESSAGE = format('Backfill of %s gave up waiting for a transaction that writes to its write tables (Pid: %s, Application: %s, Open for: %s)',
                                 safe_watermark.read_table, _oldest.pid, _oldest.application_name, _oldest.age),
                HINT = 'End that transaction, then run the backfill again (mvn flyway:migrate, or kit backfill): it resumes where it stopped.';
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
CREATE FUNCTION kit.backfill_step(read_table text, batch_size integer DEFAULT 10000,
                                  OUT applied bigint, OUT backfilled_to bigint, OUT watermark bigint, OUT state text)
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    _from  bigint;
    _to    bigint;
    _count bigint;
    _union text;
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
    watermark := kit.safe_watermark(backfill_step.read_table);
    SELECT string_agg(format('SELECT seq FROM public.%I WHERE seq > $1 AND seq <= $2', f.write_table), ' UNION ALL ')
      INTO _union FROM kit.feed f WHERE f.read_table = backfill_step.read_table;
    -- The batch ends at the batch_size-th fact after backfilled_to, or at the
    -- watermark when fewer are left.
    EXECUTE format('SELECT max(seq), count(*) FROM (SELECT seq FROM (%s) AS s ORDER BY seq LIMIT $3) AS b', _union)
       INTO _to, _count USING _from, watermark, backfill_step.batch_size;
    IF _count < backfill_step.batch_size THEN
        _to := watermark;
    END IF;
    applied := kit.replay_facts(backfill_step.read_table, _from, greatest(_to, _from));
    backfilled_to := greatest(_to, _from);
    UPDATE kit.read_version v
       SET backfilled_to = backfill_step.backfilled_to, backfilled_facts = v.backfilled_facts + applied
     WHERE v.read_table = backfill_step.read_table;
END
$$;

-- How many facts a building read version still has to apply (its feeding
-- write tables' facts after backfilled_to), for progress reports.
CREATE FUNCTION kit.backfill_remaining(read_table text)
RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public
AS $$
DECLARE
    _from  bigint := (SELECT v.backfilled_to FROM kit.read_version v WHERE v.read_table = backfill_remaining.read_table);
    _count bigint;
    _total bigint := 0;
    _table text;
BEGIN
    FOR _table IN SELECT f.write_table FROM kit.feed f WHERE f.read_table = backfill_remaining.read_table LOOP
        EXECUTE format('SELECT count(*) FROM public.%I WHERE seq > $1', _table) INTO _count USING _from;
        _total := _total + _count;
    END LOOP;
    RETURN _total;
END
$$;

-- Completes a caught-up building read version, in the caller's transaction:
-- locks its write tables against writers (SHARE ROW EXCLUSIVE, at most
-- lock_timeout; the caller retries), applies the facts written since the last
-- batch, then either creates the feed triggers and marks it live, or, for an
-- online rebuild, swaps the shadow table in for the live one.
CREATE FUNCTION kit.finish_backfill(read_table text, lock_timeout text DEFAULT '50ms')
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, public
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
    PERFORM set_config('lock_timeout', finish_backfill.lock_timeout, true);
    FOREACH _table IN ARRAY kit.feeding_tables(finish_backfill.read_table) LOOP
        EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', _table);
    END LOOP;
    IF _version.rebuild_of IS NOT NULL THEN
        EXECUTE format('LOCK TABLE public.%I IN ACCESS EXCLUSIVE MODE', _version.rebuild_of);
    END IF;
    PERFORM set_config('lock_timeout', '0', true);
    -- Writers are held: every fact is committed, and none arrives until commit.
    _tail := kit.replay_facts(finish_backfill.read_table, _version.backfilled_to, (SELECT max(last_value) FROM kit.fact_seq));

    IF _version.rebuild_of IS NULL THEN
        FOR _feed IN SELECT f.write_table FROM kit.feed f WHERE f.read_table = finish_backfill.read_table LOOP
            PERFORM kit.create_feed_trigger(_feed.write_table, finish_backfill.read_table);
        END LOOP;
        UPDATE kit.read_version v
           SET state = 'live', live_at = now(), backfilled_to = (SELECT last_value FROM kit.fact_seq),
               backfilled_facts = v.backfilled_facts + _tail
         WHERE v.read_table = finish_backfill.read_table;
        RETURN _tail;
    END IF;

    -- Online rebuild: the shadow replaces the live table under the same name;
    -- the live projection functions name the table, so they write the new one.
    PERFORM kit.drop_feeds(finish_backfill.read_table);
    DELETE FROM kit.read_reference rr WHERE rr.read_table = finish_backfill.read_table;
    DELETE FROM kit.read_version v WHERE v.read_table = finish_backfill.read_table;
    EXECUTE format('DROP TABLE public.%I', _version.rebuild_of);
    EXECUTE format('ALTER TABLE public.%I RENAME TO %I', finish_backfill.read_table, _version.rebuild_of);
    FOR _index IN SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                   WHERE i.indrelid = format('public.%I', _version.rebuild_of)::regclass LOOP
        EXECUTE format('ALTER INDEX public.%I RENAME TO %I', _index.relname,
                       replace(_index.relname, finish_backfill.read_table, _version.rebuild_of));
    END LOOP;
    PERFORM kit.grant_app_role(a.version) FROM kit.app_role a
      JOIN kit.schema_version_read s USING (version) WHERE s.read_table = _version.rebuild_of;
    RETURN _tail;
END
$$;

-- Backfills building read versions (one, or all) batch by batch, each batch
-- committed on its own, then completes them. Killed half-way, it resumes from
-- the last committed batch when run again. Reports progress as NOTICEs.
-- The afterMigrate callback calls it, so `flyway:migrate` ends with every
-- version live.
CREATE PROCEDURE kit.backfill(read_table text DEFAULT NULL, batch_size integer DEFAULT 10000)
LANGUAGE plpgsql
AS $$
DECLARE
    _target   text;
    _step     record;
    _total    bigint;
    _done     bigint;
    _started  timestamptz;
    _reported timestamptz;
    _finished boolean;
    _rate     numeric;
BEGIN
    FOR _target IN SELECT v.read_table FROM kit.read_version v
                    WHERE v.state = 'building' AND (backfill.read_table IS NULL OR v.read_table = backfill.read_table)
                    ORDER BY v.created_at, v.read_table LOOP
        _started := clock_timestamp();
        _reported := _started;
        _done := 0;
        _total := kit.backfill_remaining(_target);
        RAISE NOTICE 'kit: backfilling % from % facts', _target, _total;
        LOOP
            _step := kit.backfill_step(_target, backfill.batch_size);
            _done := _done + _step.applied;
            COMMIT;
            EXIT WHEN _step.state <> 'building';
            IF clock_timestamp() - _reported > interval '2 seconds' THEN
                _rate := _done / greatest(extract(epoch FROM clock_timestamp() - _started), 0.001);
                RAISE NOTICE 'kit: % backfill: % of about % facts, % facts/s, about % s left', _target, _done, _total,
                    round(_rate), round(greatest(_total - _done, 0) / greatest(_rate, 1));
                _reported := clock_timestamp();
            END IF;
            EXIT WHEN _step.backfilled_to >= _step.watermark;
        END LOOP;
        _finished := false;
        FOR _attempt IN 1..40 LOOP
            BEGIN
                _done := _done + kit.finish_backfill(_target);
                _finished := true;
            EXCEPTION WHEN lock_not_available THEN
                _finished := false;
            END;
            EXIT WHEN _finished;
            COMMIT;
            PERFORM pg_sleep(least(0.02 * _attempt, 0.5));
            PERFORM kit.backfill_step(_target, backfill.batch_size);
            COMMIT;
        END LOOP;
        IF NOT _finished THEN
            RAISE EXCEPTION USING ERRCODE = 'KT007',
                MESSAGE = format('Could not complete %s: its write tables stayed busy for 40 short lock attempts', _target),
                HINT = 'Long transactions are writing to them; run the backfill again later (mvn flyway:migrate, or kit backfill): it resumes where it stopped.';
        END IF;
        COMMIT;
        RAISE NOTICE 'kit: % is live: % facts in % s', _target, _done,
            round(extract(epoch FROM clock_timestamp() - _started)::numeric, 1);
    END LOOP;
END
$$;

-- Drops a building read version (aborting its backfill): its table, feeds and
-- projections go; write tables and other versions are untouched. Schema
-- versions that needed it show as aborted.
CREATE FUNCTION kit.abort_read_version(read_table text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
BEGIN
    PERFORM FROM kit.read_version v WHERE v.read_table = abort_read_version.read_table FOR UPDATE;
    PERFORM kit.require_state(abort_read_version.read_table, ARRAY['building']);
    PERFORM kit.drop_feeds(abort_read_version.read_table);
    EXECUTE format('DROP TABLE public.%I', abort_read_version.read_table);
    IF (SELECT v.rebuild_of FROM kit.read_version v WHERE v.read_table = abort_read_version.read_table) IS NOT NULL THEN
        DELETE FROM kit.read_reference rr WHERE rr.read_table = abort_read_version.read_table;
        DELETE FROM kit.read_version v WHERE v.read_table = abort_read_version.read_table;
    ELSE
        UPDATE kit.read_version v SET state = 'aborted', retired_at = now() WHERE v.read_table = abort_read_version.read_table;
    END IF;
END
$$;

------------------------------------------------------------------------------
-- Verify, rebuild, retire
------------------------------------------------------------------------------

-- Starts an online rebuild of a live read table: a shadow table of the same
-- shape, fed by the same write tables, is backfilled like a new read version
-- (CALL kit.backfill(shadow)); when it has caught up it replaces the live
-- table under a short lock. Returns the shadow's name.
CREATE FUNCTION kit.begin_rebuild(read_table text)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    _shadow text := kit.object_name('shadow', begin_rebuild.read_table);
    _feed   record;
BEGIN
    PERFORM kit.require_state(begin_rebuild.read_table, ARRAY['live']);
    IF EXISTS (SELECT FROM kit.read_version v WHERE v.read_table = _shadow) THEN
        PERFORM kit.usage_error(format('A rebuild of %s is already under way (Shadow table: %s)', begin_rebuild.read_table, _shadow),
                                'Run kit backfill to complete it, or kit abort ' || _shadow || ' to drop it.');
    END IF;
    EXECUTE format('CREATE TABLE public.%I (LIKE public.%I INCLUDING ALL)', _shadow, begin_rebuild.read_table);
    INSERT INTO kit.read_version (read_table, entity, rebuild_of)
    SELECT _shadow, v.entity, v.read_table FROM kit.read_version v WHERE v.read_table = begin_rebuild.read_table;
    INSERT INTO kit.read_reference (read_table, column_name, referenced_table)
    SELECT _shadow, rr.column_name, rr.referenced_table FROM kit.read_reference rr WHERE rr.read_table = begin_rebuild.read_table;
    FOR _feed IN SELECT * FROM kit.feed f WHERE f.read_table = begin_rebuild.read_table ORDER BY f.position LOOP
        EXECUTE kit.projection_sql(_feed.write_table, begin_rebuild.read_table, _feed.key_column, _shadow);
        INSERT INTO kit.feed (write_table, read_table, kind, key_column, projection, trigger_name)
        VALUES (_feed.write_table, _shadow, _feed.kind, _feed.key_column,
                kit.object_name('projection', _feed.write_table, _shadow), kit.object_name('feed', _feed.write_table, _shadow));
    END LOOP;
    RETURN _shadow;
END
$$;

-- Rebuilds a live read table online: begin_rebuild, then the backfill of the
-- shadow, which swaps it in under a short lock when complete.
CREATE PROCEDURE kit.rebuild(read_table text)
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

-- Compares a live read table with a rebuild from the facts and returns the
-- rows that differ (at most max_rows): 'only in live' or 'only in rebuild'.
-- The rebuild runs in a subtransaction that is rolled back, so the table is
-- left as it was. Writers that feed the table wait while it runs (SHARE lock),
-- which also keeps the set of facts still.
CREATE FUNCTION kit.verify_read_table(read_table text, max_rows integer DEFAULT 20)
RETURNS TABLE (difference text, row_data jsonb)
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    _diff jsonb;
BEGIN
    PERFORM kit.require_state(verify_read_table.read_table, ARRAY['live']);
    EXECUTE format('LOCK TABLE public.%I IN SHARE MODE', verify_read_table.read_table);
    IF to_regclass('pg_temp.kit_verify_live') IS NOT NULL THEN
        DROP TABLE pg_temp.kit_verify_live;
    END IF;
    EXECUTE format('CREATE TEMP TABLE kit_verify_live ON COMMIT DROP AS SELECT to_jsonb(r) AS row_data FROM public.%I AS r',
                   verify_read_table.read_table);
    BEGIN
        EXECUTE format('DELETE FROM public.%I', verify_read_table.read_table);
        PERFORM kit.replay_facts(verify_read_table.read_table, -1, (SELECT last_value FROM kit.fact_seq));
        EXECUTE format($q$
            SELECT coalesce(jsonb_agg(d), '[]') FROM (
                (SELECT 'only in live' AS difference, row_data FROM pg_temp.kit_verify_live
                 EXCEPT ALL SELECT 'only in live', to_jsonb(r) FROM public.%1$I AS r)
                UNION ALL
                (SELECT 'only in rebuild', to_jsonb(r) FROM public.%1$I AS r
                 EXCEPT ALL SELECT 'only in rebuild', row_data FROM pg_temp.kit_verify_live)
                ORDER BY 2 LIMIT $1) AS d
            $q$, verify_read_table.read_table) INTO _diff USING verify_read_table.max_rows;
        RAISE EXCEPTION USING ERRCODE = 'KT000', MESSAGE = 'verify: undo the rebuild';
    EXCEPTION WHEN SQLSTATE 'KT000' THEN
        NULL;  -- the rebuild is undone; _diff survives
    END;
    DROP TABLE pg_temp.kit_verify_live;
    RETURN QUERY SELECT d ->> 'difference', d -> 'row_data' FROM jsonb_array_elements(_diff) AS d;
END
$$;

-- The schema version an app connection belongs to, from its application_name
-- ('app-v2', 'app-v2 worker-1', ...); NULL for other clients.
CREATE FUNCTION kit.client_schema_version(application_name text)
RETURNS integer
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT (regexp_match(client_schema_version.application_name, '^app-v([0-9]{1,9})(?![0-9])'))[1]::integer
$$;

-- What retiring read_table would do and what stands in its way, without doing
-- it: the schema versions it retires, the feeds it drops, the connected
-- clients and live read versions that block it.
CREATE FUNCTION kit.retirement_plan(read_table text,
                                    OUT versions integer[], OUT feeds text[], OUT clients text, OUT referrers text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog
AS $$
BEGIN
    SELECT coalesce(array_agg(s.version ORDER BY s.version), '{}') INTO versions
      FROM kit.schema_version_read s JOIN kit.schema_version v USING (version)
     WHERE s.read_table = retirement_plan.read_table AND v.retired_at IS NULL;
    SELECT coalesce(array_agg(f.trigger_name ORDER BY f.position), '{}') INTO feeds
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
END
$$;

-- Retires a read version: drops its table, feeds and projection functions and
-- retires the schema versions that read it. Refuses while an app of such a
-- schema version is connected to this database, or while a live read version
-- references it. Write tables and their facts are never touched. Each lock it
-- needs is tried for at most lock_timeout, a few times, before it gives up.
CREATE FUNCTION kit.retire_read_version(read_table text, lock_timeout text DEFAULT '200ms')
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    _plan   record;
    _feed   record;
    _locked boolean;
BEGIN
    PERFORM FROM kit.read_version v WHERE v.read_table = retire_read_version.read_table FOR UPDATE;
    -- Building too: one flyway:migrate run can create a version and retire it
    -- before the afterMigrate backfill ever makes it live.
    PERFORM kit.require_state(retire_read_version.read_table, ARRAY['building', 'live']);
    _plan := kit.retirement_plan(retire_read_version.read_table);
    IF _plan.clients IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'KT005',
            MESSAGE = format('Read version %s is still in use by connected apps of schema version %s (Clients: %s)',
                             retire_read_version.read_table, array_to_string(_plan.versions, ', '), _plan.clients),
            HINT = 'Stop those app servers (every app of the listed versions), then run the migration again.';
    END IF;
    IF _plan.referrers IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'KT005',
            MESSAGE = format('Read version %s is still referenced by %s', retire_read_version.read_table, _plan.referrers),
            HINT = 'Retire the referencing read versions first.';
    END IF;

    -- Dropping a trigger locks its write table against writers: wait briefly, retry, never queue for long.
    FOR _attempt IN 1..10 LOOP
        BEGIN
            PERFORM set_config('lock_timeout', retire_read_version.lock_timeout, true);
            FOR _feed IN SELECT f.write_table FROM kit.feed f WHERE f.read_table = retire_read_version.read_table LOOP
                EXECUTE format('LOCK TABLE public.%I IN ACCESS EXCLUSIVE MODE', _feed.write_table);
            END LOOP;
            EXECUTE format('LOCK TABLE public.%I IN ACCESS EXCLUSIVE MODE', retire_read_version.read_table);
            _locked := true;
        EXCEPTION WHEN lock_not_available THEN
            _locked := false;
        END;
        EXIT WHEN _locked;
        PERFORM pg_sleep(0.1 * _attempt);
    END LOOP;
    PERFORM set_config('lock_timeout', '0', true);
    IF NOT _locked THEN
        RAISE EXCEPTION USING ERRCODE = 'KT007',
            MESSAGE = format('Could not retire %s: its tables stayed busy for 10 attempts of %s', retire_read_version.read_table,
                             retire_read_version.lock_timeout),
            HINT = 'Long transactions are using them; run the migration again later.';
    END IF;

    PERFORM kit.drop_feeds(retire_read_version.read_table);
    EXECUTE format('DROP TABLE public.%I', retire_read_version.read_table);
    UPDATE kit.read_version v SET state = 'retired', retired_at = now()
     WHERE v.read_table = retire_read_version.read_table;
    UPDATE kit.schema_version v SET retired_at = now() WHERE v.version = ANY (_plan.versions);
END
$$;

------------------------------------------------------------------------------
-- Least privilege: one role per app version
------------------------------------------------------------------------------

-- Grants an app version's role what it needs and nothing more: INSERT on the
-- domain columns of its write tables (never seq or recorded_at), the id and
-- fact sequences, SELECT on its read tables and on kit.schema_versions (for
-- the start-up gate). No UPDATE, DELETE or TRUNCATE anywhere; read tables
-- change only through the feeds' SECURITY DEFINER projections.
CREATE FUNCTION kit.grant_app_role(version integer)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    _role  text := (SELECT a.role_name FROM kit.app_role a WHERE a.version = grant_app_role.version);
    _table text;
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA public, kit TO %I', _role);
    EXECUTE format('GRANT SELECT ON kit.schema_versions TO %I', _role);
    EXECUTE format('GRANT USAGE ON SEQUENCE kit.fact_seq TO %I', _role);
    -- Explicit ids move the id sequence through this (SECURITY DEFINER) function.
    EXECUTE format('GRANT EXECUTE ON FUNCTION kit.advance_id_sequence_past(regclass, bigint) TO %I', _role);
    FOR _table IN SELECT kit.schema_version_write_tables(grant_app_role.version) LOOP
        EXECUTE format('GRANT INSERT (%s) ON public.%I TO %I',
                       (SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
                         WHERE a.attrelid = format('public.%I', _table)::regclass AND a.attnum > 0 AND NOT a.attisdropped
                           AND a.attname NOT IN ('seq', 'recorded_at')),
                       _table, _role);
        -- INSERT ... RETURNING id needs SELECT on id.
        EXECUTE format('GRANT SELECT (id) ON public.%I TO %I', _table, _role);
        EXECUTE format('GRANT USAGE ON SEQUENCE %s TO %I',
                       (SELECT w.id_sequence FROM kit.write_table w WHERE w.write_table = _table), _role);
    END LOOP;
    FOR _table IN SELECT s.read_table FROM kit.schema_version_read s WHERE s.version = grant_app_role.version LOOP
        EXECUTE format('GRANT SELECT ON public.%I TO %I', _table, _role);
    END LOOP;
END
$$;

-- Creates (once per server: roles are shared by its databases) and grants the
-- role of app version `version`, named by the setting kit.app_role_prefix
-- (default 'kit_app_v') followed by the version: kit_app_v2.
CREATE FUNCTION kit.create_app_role(version integer)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    _role text := coalesce(nullif(current_setting('kit.app_role_prefix', true), ''), 'kit_app_v') || create_app_role.version;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles r WHERE r.rolname = _role) THEN
        BEGIN
            EXECUTE format('CREATE ROLE %I NOLOGIN', _role);
        EXCEPTION WHEN duplicate_object THEN
            NULL;  -- another database's migration created it at the same moment
        END;
    END IF;
    INSERT INTO kit.app_role AS a (version, role_name) VALUES (create_app_role.version, _role)
    ON CONFLICT ON CONSTRAINT app_role_pkey DO UPDATE SET role_name = excluded.role_name;
    PERFORM kit.grant_app_role(create_app_role.version);
END
$$;

-- Kit functions are for migrations and operators, not for app roles.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA kit FROM PUBLIC;
-- Nobody but the owner creates objects beside the kit's (PostgreSQL 15's
-- default; older servers let everyone create in public).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE EXECUTE ON ALL PROCEDURES IN SCHEMA kit FROM PUBLIC;

------------------------------------------------------------------------------
-- Schema version 0: users register with an email and a password.
------------------------------------------------------------------------------

CREATE TABLE user_registered_0 (
    id            bigint NOT NULL,
    email         text NOT NULL,
    password_hash text NOT NULL
);
SELECT kit.create_write_table('user_registered_0', id_space => 'user');

CREATE TABLE users_0 (
    id            bigint PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    password_hash text NOT NULL
);
SELECT kit.create_read_version('users_0', entity => 'user');
SELECT kit.add_feed('user_registered_0', 'users_0');

SELECT kit.create_schema_version(0, ARRAY['users_0']);
SELECT kit.create_app_role(0);
