-- Kit script 90 upgrade (run by Flyway before every migrate, after every
-- script that defines the kit's functions, before 99 finish).
--
-- Everything that brings a database of an older kit to this one, in one
-- place: the functions only an upgrade needs, then the steps, each marked
-- with the release that needs it. Runs only to upgrade (and drops the
-- column kit.feed.trigger_name wherever it is left); the drops of functions
-- whose signature changed come before the definitions, in
-- beforeMigrate__kit_05_superseded.sql. Runs outside a transaction (see the
-- .conf beside it): it commits after each read table and each id space, so
-- writers wait at most one short lock at a time.
--
-- Update notes, newest first:
--   0.10.0 Beyond one server: running apps register on the primary for a
--          lease (kit.register_app, kit.unregister_app, kit.registered_apps;
--          catalog kit.app_instance), and retirements refuse while one of the
--          versions holds a lease; app roles may run both (kit.gate_functions).
--          Backfills pause between batches while a physical replica replays
--          more than kit.replica_lag_limit behind, and give up after
--          kit.replica_lag_wait (kit.await_replicas). Write tables
--          partitioned by seq range (kit.create_write_table's partition_size,
--          kit.add_partitions, also run after every migrate; catalog
--          kit.write_table.partition_size, partitioned_from and
--          partitioned_to); the
--          append-only guard refuses an INSERT on a partition; kit.baseline
--          takes partition_size too (its old signature is dropped). Verify
--          compares a table under capture with its read version
--          (kit.uncaptured_rows); kit.recapture records what its capture
--          missed. kit.write_table.partitioned_to bounds what
--          kit.missing_partitions checks; kit.attach_partition. No generated
--          code changed.
--   0.9.0  Forgetting a person: kit.declare_personal_data, kit.forget, the
--          forget role (kit_forget) and kit.grant_forget; the catalog gains
--          kit.personal_column, kit.forgotten, kit.forget_role and
--          kit.forget_grant. The append-only guard lets a forget's UPDATE
--          through. Existing tables come under the kit (kit.baseline,
--          kit.end_capture; catalog kit.baseline_table), and the backfill
--          copies their rows first. No generated code changed.
--   0.8.0  Feeds that race end as a replay would or are refused with 40001;
--          a sql feed's statement, expressions and filters are checked as
--          PostgreSQL parses them; an accumulated NULL adds nothing; a delete
--          into an upsert's table takes a key without a row. The feeds' code
--          changed, so the upgrade regenerates it (as every upgrade does).
--          kit.update_feed_columns is kit.feed_set_columns. The code that
--          applies facts pins kit.fact_settings() (TimeZone UTC, ...).
--   0.7.0  A schema is a domain: tables in any schema, several domains in one
--          database, each with its own schema versions and app roles. Kit
--          functions that name a table take 'schema.table' or the caller's
--          current schema, and domain =>; the catalog names tables schema.name
--          (the name alone in public) and gets a domain column; schema
--          versions and app roles are keyed by (domain, version). The upgrade
--          puts every existing entry in public. Backward-incompatible: the gate
--          and registration are kit.schema_version_state(integer, text) and
--          kit.register_client(integer, text); kit.app_roles_in_use() and
--          kit.clients() return the domain; one version number may now have a
--          row per domain. Feeds have a kind (insert, update, upsert, delete,
--          accumulate, sql), columns, a filter and a statement in kit.feed.
--   0.6.0  Adopt it on any database. A write table's fact and schema version
--          are declared (kit.create_write_table(..., fact =>, schema_version =>),
--          kit.write_table.fact and .schema_version; the upgrade records what
--          the names implied). Retirement sees every client of a version by
--          its role (kit.clients(): a login that is a member of the app role,
--          or a session that called kit.register_client) instead of an
--          application_name of app-vN; kit.retire_read_version and
--          kit.retirement_plan take ignore_sessions. The kit no longer
--          revokes CREATE on schema public: kit.check_security() (now
--          object, problem, hint) reports a domain schema every role may
--          create in, and no kit function has public on its search_path.
--          Backward-incompatible: clients that took an app role with SET
--          ROLE are not seen by retirement unless they register (the
--          example's apps do); kit.client_schema_version is gone; a write
--          table that would belong to no version is refused (KT006).
--   0.5.0  One concern per script, in call order. Every generator returns
--          one whole object (kit.function_object) with named parts; the feed
--          template is kit.feed_statements (was kit.feed_sql), with a named
--          rejections mode; drift compares generated bodies with the
--          generator's, without parsing them; kit.feed.trigger_name (never
--          read) is gone; the kit's wait notices carry SQLSTATE KT007; the
--          version comes from the build (kit.version() = the jar's version).
--          Regenerated on upgrade; nothing changes for writers or migrations.
--          Backward-incompatible only for code that called the generators
--          (kit.feed_sql, kit.projection_sql, kit.feed_trigger_sql,
--          kit.assign_id_sql, kit.claim_id_sql) or read kit.feed.trigger_name.
--   0.4.0  Health you can trust. kit.drift() also sees: kit triggers not
--          ENABLE ALWAYS (all of them fire ALWAYS now, replica sessions
--          included), a generated function's settings, lost read-table
--          rules (kit.read_rule, recorded when a version goes live), missing
--          sequence and gate grants, app roles that may run kit functions,
--          renamed or dropped read tables (no longer an error). Explicit ids
--          are claimed by a SECURITY DEFINER trigger (accept_id_<w>); app
--          roles lose EXECUTE on kit.claim_explicit_id. Insert feeds leave
--          columns the fact lacks to their DEFAULT. Retired and aborted
--          versions' roles lose their grants. Read tables get first_fact_seq
--          (the seq of the fact that made the row; NULL for older rows): a
--          fact naming a row that a later fact created is refused (KT004), as
--          a replay would find no row for it. Backward-incompatible:
--          a schema version must name read versions with an insert feed, a
--          read version may not reference itself or a missing column, and
--          a writer in a replica session now gets ids and projections.
--   0.3.0  The write path: each write table's feed trigger applies its feeds
--          with their SQL inlined over the transition table (no array of
--          facts, no projection call per feed); projections and the trigger
--          come from one template per feed. Regenerated on upgrade; nothing
--          changes for writers or migrations.
--   0.2.0  The kit becomes its own module (classpath:db/kit). Security: the
--          feeds run from one SECURITY DEFINER trigger per write table with a
--          pinned search_path. Ids: explicit ids must lie below 10^9 (or the
--          id space's explicit_ids_below), sequence-given ids from there on.
--          Backward-incompatible for writers that chose explicit ids at or
--          above the boundary (now KT006) or repeated one (now KT002).
--   0.1.0  The kit as it was welded into the example's V0 (no kit.version():
--          00 begin recognises it by its catalog).

-- Gives a read table of a kit before 0.4.0 the kit's first_fact_seq column
-- (nullable: rows made before it have none), under a brief lock.
CREATE OR REPLACE FUNCTION kit.add_first_fact_seq(read_table text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = kit.relation(add_first_fact_seq.read_table)::regclass
                      AND a.attname = 'first_fact_seq' AND NOT a.attisdropped) THEN
        PERFORM kit.lock_briefly(ARRAY[kit.relation(add_first_fact_seq.read_table)::regclass], 'ACCESS EXCLUSIVE',
                                 'add first_fact_seq to ' || add_first_fact_seq.read_table);
        EXECUTE format('ALTER TABLE public.%I ADD COLUMN first_fact_seq bigint', add_first_fact_seq.read_table);
    END IF;
END
$$;

-- Fills first_fact_seq where kits before 0.4.0 left it empty: each row gets
-- the seq of the insert fact that made it, write table by write table, in
-- seq ranges of batch_size facts, each committed on its own (row locks only,
-- held one batch at a time), so that the table equals a rebuild again.
CREATE OR REPLACE PROCEDURE kit.fill_first_fact_seq(read_table text, batch_size integer DEFAULT 10000)
LANGUAGE plpgsql
AS $$
DECLARE
    _write text;
    _last  bigint;
    _to    bigint;
BEGIN
    FOR _write IN SELECT f.write_table FROM kit.feed f
                   WHERE f.read_table = fill_first_fact_seq.read_table AND f.kind = 'insert' ORDER BY f.position LOOP
        _last := 0;
        LOOP
            EXECUTE format('SELECT max(seq) FROM (SELECT seq FROM public.%I WHERE seq > $1 ORDER BY seq LIMIT $2) AS b', _write)
               INTO _to USING _last, fill_first_fact_seq.batch_size;
            EXIT WHEN _to IS NULL;
            EXECUTE format('UPDATE public.%I AS r SET first_fact_seq = f.seq FROM public.%I AS f
                             WHERE f.seq > $1 AND f.seq <= $2 AND r.id = f.id AND r.first_fact_seq IS NULL',
                           fill_first_fact_seq.read_table, _write) USING _last, _to;
            COMMIT;
            _last := _to;
        END LOOP;
    END LOOP;
END
$$;

-- Claims every id the id space's facts hold after seq `after` (returns the
-- highest seq seen), so that an adopted id space refuses them as explicit ids.
CREATE OR REPLACE FUNCTION kit.claim_existing_ids(id_space text, after bigint DEFAULT 0)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _table text;
    _seen  bigint := claim_existing_ids.after;
    _max   bigint;
BEGIN
    FOR _table IN SELECT w.write_table FROM kit.write_table w WHERE w.id_space = claim_existing_ids.id_space LOOP
        EXECUTE format('WITH claimed AS (INSERT INTO kit.explicit_id (id_space, id)
                                         SELECT DISTINCT $1, f.id FROM public.%I AS f WHERE f.seq > $2
                                         ON CONFLICT DO NOTHING)
                        SELECT max(f.seq) FROM public.%I AS f WHERE f.seq > $2', _table, _table)
           INTO _max USING claim_existing_ids.id_space, claim_existing_ids.after;
        _seen := greatest(_seen, _max);
    END LOOP;
    RETURN _seen;
END
$$;

-- Brings an id space's write tables to the id rule of this kit, in the
-- caller's transaction, where a kit before 0.2.0 left them: ids from a column
-- DEFAULT, moved past explicit ids by an AFTER trigger (advance_ids_<write>).
-- Every id the space already holds becomes a claimed explicit id (so no new
-- explicit id can repeat one), and the sequence then gives ids from
-- explicit_ids_below on: 10^9, or past the last id it gave if that is more.
-- The caller holds ACCESS EXCLUSIVE locks on the write tables; `claimed_to`
-- is the seq up to which ids were claimed before they were taken.
CREATE OR REPLACE FUNCTION kit.adopt_id_rule(id_space text, claimed_to bigint)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _sequence regclass := (SELECT w.id_sequence FROM kit.write_table w WHERE w.id_space = adopt_id_rule.id_space LIMIT 1)::regclass;
    _first    bigint;
    _table    text;
BEGIN
    PERFORM kit.claim_existing_ids(adopt_id_rule.id_space, adopt_id_rule.claimed_to);
    _first := greatest(1000000000, coalesce(pg_sequence_last_value(_sequence), 0) + 1);
    IF (SELECT s.seqmin FROM pg_sequence s WHERE s.seqrelid = _sequence) < _first THEN
        EXECUTE format('ALTER SEQUENCE %s MINVALUE %s START %2$s RESTART %2$s', _sequence, _first);
    END IF;
    FOR _table IN SELECT w.write_table FROM kit.write_table w WHERE w.id_space = adopt_id_rule.id_space LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON public.%I', 'advance_ids_' || _table, _table);
        EXECUTE format('ALTER TABLE public.%I ALTER COLUMN id DROP DEFAULT', _table);
        PERFORM kit.attach_id_assigner(_table, adopt_id_rule.id_space);
    END LOOP;
END
$$;

-- Feed triggers a write table has that the kit no longer generates: the
-- per-feed triggers (feed_<write>__<read>) of kits before 0.2.0. Dropped,
-- with their functions, when the write table's trigger is regenerated.
CREATE OR REPLACE FUNCTION kit.stale_feed_triggers(write_table text)
RETURNS SETOF text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.tgname::text FROM pg_trigger t
     WHERE t.tgrelid = kit.relation(stale_feed_triggers.write_table)::regclass AND NOT t.tgisinternal
       AND t.tgname LIKE 'feed\_%' AND t.tgname <> kit.object_name('feed', stale_feed_triggers.write_table)
$$;

-- 0.5.0: kit.feed.trigger_name named the write table's one feed trigger (kit.object_name says
-- it) and no kit code read it. Dropped wherever it is left.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = to_regclass('kit.feed') AND a.attname = 'trigger_name'
                  AND NOT a.attisdropped) THEN
        ALTER TABLE kit.feed DROP COLUMN trigger_name;
    END IF;
END
$$;

DO $$
DECLARE
    _from    integer[] := string_to_array(nullif(current_setting('kit.installed_version'), ''), '.')::integer[];
    _read    text;
    _space   record;
    _write   text;
    _stale   text;
    _feed    record;
    _claimed bigint;
    _adopt   boolean;
BEGIN
    IF current_setting('kit.install_action') <> 'upgrade' THEN
        RETURN;
    END IF;

    -- 0.4.0: read tables get first_fact_seq (the seq of the fact that created the row), empty for
    -- old rows, before the feeds that fill it are generated; one brief lock at a time.
    FOR _read IN SELECT v.read_table FROM kit.read_version v
                  WHERE v.state IN ('building', 'live') AND kit.domain_table_exists(v.read_table) LOOP
        PERFORM kit.add_first_fact_seq(_read);
        COMMIT;
    END LOOP;

    -- Every release: what the kit generates, generated again by this kit (see
    -- kit.regenerate_generated_code), id space by id space, together with what older kits
    -- generated that this one does not.
    PERFORM kit.regenerate_projections();
    COMMIT;
    FOR _space IN SELECT w.id_space, min(w.id_sequence) AS id_sequence,
                         array_agg(w.write_table ORDER BY w.write_table) AS write_tables,
                         array_agg(kit.relation(w.write_table)::regclass ORDER BY w.write_table) AS tables
                    FROM kit.write_table w
                   WHERE kit.domain_table_exists(w.write_table)  -- a missing one is drift
                   GROUP BY w.id_space ORDER BY w.id_space LOOP
        -- 0.2.0: ids from a column DEFAULT, moved past explicit ids by advance_ids_<write>
        -- triggers, become this kit's id rule (kit.adopt_id_rule); the long part, claiming the ids
        -- the facts hold, runs before the lock.
        _adopt := EXISTS (SELECT FROM unnest(_space.write_tables) AS w
                           WHERE NOT EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = kit.relation(w)::regclass
                                                AND t.tgname = kit.object_name('assign_id', w)));
        IF _adopt THEN
            _claimed := kit.claim_existing_ids(_space.id_space);
            COMMIT;
        END IF;
        PERFORM kit.lock_briefly(_space.tables, 'ACCESS EXCLUSIVE', 'upgrade the write tables of id space ' || _space.id_space);
        IF _adopt THEN
            -- The new assigner first: the old trigger, until adopt_id_rule replaces it, calls it.
            PERFORM kit.create_id_assigner(_space.id_space, _space.id_sequence);
            PERFORM kit.adopt_id_rule(_space.id_space, _claimed);
        END IF;
        PERFORM kit.regenerate_id_space(_space.id_space);
        FOREACH _write IN ARRAY _space.write_tables LOOP
            -- 0.2.0: the per-feed triggers of 0.1.0 (feed_<write>__<read>) and their functions.
            FOR _stale IN SELECT kit.stale_feed_triggers(_write) LOOP
                EXECUTE format('DROP TRIGGER %I ON %s', _stale, kit.relation(_write));
                EXECUTE format('DROP FUNCTION IF EXISTS %s()', kit.beside(_write, _stale));
            END LOOP;
            -- 0.4.0: kits before left their triggers enabled ORIGIN, so that writes under
            -- session_replication_role = replica bypassed them; this kit's fire ALWAYS. A trigger
            -- somebody disabled stays disabled: kit.drift() names it, kit.repair() enables it.
            FOR _stale IN SELECT t.tgname FROM pg_trigger t
                           WHERE t.tgrelid = kit.relation(_write)::regclass AND t.tgenabled = 'O'
                             AND t.tgname IN (SELECT e.trigger_name FROM kit.expected_triggers(_write) e) LOOP
                EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', kit.relation(_write), _stale);
            END LOOP;
            -- 0.3.0: the projections of kits before took arrays of facts; the old triggers, gone
            -- now, called them, so they go here, under the same lock, not before.
            FOR _feed IN SELECT f.projection FROM kit.feed f WHERE f.write_table = _write
                            AND kit.key_schema(_write) = 'public'  -- kits before 0.3.0 kept every table there
                            AND to_regprocedure(format('public.%I(public.%I[], boolean)', f.projection, _write)) IS NOT NULL LOOP
                EXECUTE format('DROP FUNCTION public.%I(public.%I[], boolean)', _feed.projection, _write);
            END LOOP;
        END LOOP;
        COMMIT;
    END LOOP;

    -- 0.4.0: the feeds fill first_fact_seq from here on; the rows made before get theirs, once.
    IF _from < ARRAY[0, 4, 0] THEN
        FOR _read IN SELECT v.read_table FROM kit.read_version v
                      WHERE v.state IN ('building', 'live') AND kit.domain_table_exists(v.read_table) LOOP
            CALL kit.fill_first_fact_seq(_read);
        END LOOP;
    END IF;

    -- 0.2.0: the id rule of 0.1.0 had one more function; its triggers are gone now.
    IF to_regprocedure('kit.advance_id_sequence()') IS NOT NULL THEN
        DROP FUNCTION kit.advance_id_sequence();
    END IF;

    -- 0.4.0: kits before recorded no rules nor fact columns: recorded as they are now.
    PERFORM kit.record_write_columns(w.write_table) FROM kit.write_table w
      WHERE kit.domain_table_exists(w.write_table)
        AND NOT EXISTS (SELECT FROM kit.write_column c WHERE c.write_table = w.write_table);
    PERFORM kit.record_read_rules(v.read_table, domain => v.domain) FROM kit.read_version v
      WHERE v.state = 'live' AND kit.domain_table_exists(v.read_table)
        AND NOT EXISTS (SELECT FROM kit.read_rule r WHERE r.read_table = v.read_table);

    -- Every release: each app role in use gets what this kit grants (kit.grant_app_role).
    PERFORM kit.grant_app_role(a.version, a.domain) FROM kit.app_roles_in_use() a;
    -- 0.4.0: roles of aborted versions keep nothing on the domain (kits before left it), and
    -- those of retired versions only the start-up gate.
    PERFORM kit.revoke_app_role(s.version, s.domain) FROM kit.schema_versions s WHERE s.state = 'aborted';
    PERFORM kit.grant_start_up_gate(a.role_name) FROM kit.app_role a JOIN kit.schema_versions s USING (domain, version)
      WHERE s.state = 'retired' AND EXISTS (SELECT FROM pg_roles r WHERE r.rolname = a.role_name);
    COMMIT;
END
$$;
