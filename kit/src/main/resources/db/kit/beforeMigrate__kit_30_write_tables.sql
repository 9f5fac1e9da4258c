-- Kit script 30 write_tables (run by Flyway before every migrate, in file-name order).
-- Write tables: append-only facts, their id spaces, id assigners and id claimers.
-- Idempotent: CREATE OR REPLACE / IF NOT EXISTS, safe to run again.

-- The write table a table is, or the one it is a partition of (the id
-- triggers a partitioned write table's partitions inherit name the partition
-- in TG_TABLE_NAME): its kit name. A table that is neither is given back.
CREATE OR REPLACE FUNCTION kit.write_table_of(table_name text)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT coalesce((SELECT w.write_table FROM kit.write_table w
                       JOIN pg_inherits i ON i.inhparent = to_regclass(kit.relation(w.write_table))
                      WHERE w.partition_size IS NOT NULL
                        AND i.inhrelid = to_regclass(kit.relation(write_table_of.table_name))),
                    write_table_of.table_name)
$$;

-- Takes an explicit id (one the writer chose) for its id space, or refuses it:
-- KT006 when it lies outside the range explicit ids may use (negative, or
-- where the id space's sequence gives ids) or the table is not a write table
-- of that id space, KT002 when a fact of the id space already has it. Called
-- by the id claimers (kit.claim_id_sql), for explicit ids only, so the usual
-- write (no id) never pays for it; no app role may call it. (SECURITY
-- DEFINER only for the id assigners of kits before 0.4.0, which call it as
-- the writer until the upgrade replaces them.)
CREATE OR REPLACE FUNCTION kit.claim_explicit_id(id_space text, write_table text, id bigint)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _first_given bigint;
BEGIN
    claim_explicit_id.write_table := kit.write_table_of(claim_explicit_id.write_table);
    SELECT s.seqmin INTO _first_given
      FROM kit.write_table w JOIN pg_sequence s ON s.seqrelid = w.id_sequence::regclass
     WHERE w.write_table = claim_explicit_id.write_table AND w.id_space = claim_explicit_id.id_space;
    IF _first_given IS NULL THEN
        PERFORM kit.usage_error(format('Not a write table of the %s id space: %s', claim_explicit_id.id_space,
                                       claim_explicit_id.write_table));
    END IF;
    IF claim_explicit_id.id < 0 OR claim_explicit_id.id >= _first_given THEN
        RAISE EXCEPTION USING ERRCODE = 'KT006',
            MESSAGE = format('Explicit %s id out of range: %s (Write table: %s, Explicit ids: 0 to %s)',
                             claim_explicit_id.id_space, claim_explicit_id.id, claim_explicit_id.write_table, _first_given - 1),
            SCHEMA = kit.key_schema(claim_explicit_id.write_table), TABLE = kit.key_table(claim_explicit_id.write_table), COLUMN = 'id',
            HINT = format('Leave the id out and the kit assigns one; ids from %s on are the sequence''s alone.', _first_given);
    END IF;
    INSERT INTO kit.explicit_id (id_space, id) VALUES (claim_explicit_id.id_space, claim_explicit_id.id)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'KT002',
            MESSAGE = format('Duplicate %s id: %s (Write table: %s, Id space: %s)', claim_explicit_id.id_space,
                             claim_explicit_id.id, claim_explicit_id.write_table, claim_explicit_id.id_space),
            SCHEMA = kit.key_schema(claim_explicit_id.write_table), TABLE = kit.key_table(claim_explicit_id.write_table), COLUMN = 'id',
            HINT = 'Leave the id out and the kit assigns a free one.';
    END IF;
END
$$;

-- A fact that arrives with session_replication_role = replica was written
-- elsewhere (a logical-replication subscriber applying the origin's facts, a
-- restore): its id and seq were given there. Its explicit id is claimed as
-- any other; a sequence-given id and its seq move this database's sequences
-- past them, so that after a failover the first local write gets an id and a
-- seq nobody has. Called only by the id claimers.
CREATE OR REPLACE FUNCTION kit.take_replicated_ids(id_space text, write_table text, id bigint, seq bigint)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _sequence regclass;
    _first    bigint;
BEGIN
    take_replicated_ids.write_table := kit.write_table_of(take_replicated_ids.write_table);
    SELECT w.id_sequence::regclass, s.seqmin INTO _sequence, _first
      FROM kit.write_table w JOIN pg_sequence s ON s.seqrelid = w.id_sequence::regclass
     WHERE w.write_table = take_replicated_ids.write_table;
    IF take_replicated_ids.id < _first THEN
        PERFORM kit.claim_explicit_id(take_replicated_ids.id_space, take_replicated_ids.write_table, take_replicated_ids.id);
    ELSIF take_replicated_ids.id > coalesce(pg_sequence_last_value(_sequence), 0) THEN
        PERFORM setval(_sequence, take_replicated_ids.id);
    END IF;
    IF take_replicated_ids.seq > coalesce(pg_sequence_last_value('kit.fact_seq'), 0) THEN
        PERFORM setval('kit.fact_seq', take_replicated_ids.seq);
    END IF;
END
$$;

-- The trigger function that gives a fact without an id the next one of its
-- id space's sequence, per row, before the row is written (its trigger has
-- WHEN (NEW.id IS NULL), so a fact with an id never calls it). Sequence-given
-- ids start at the sequence's MINVALUE and explicit ids must lie below it
-- (kit.claim_explicit_id), so a sequence-given id can never equal one
-- somebody chose, whenever and in whatever order they commit: no lock, no
-- setval, and an insert without an id never fails because of another
-- writer's id.
--
-- It runs as the inserting role (no SECURITY DEFINER), which has USAGE on
-- the sequence: a writer's search_path could only change what runs with its
-- own rights. Still every name is schema-qualified. (A SET search_path
-- clause would cost a configuration change per row.)
CREATE OR REPLACE FUNCTION kit.assign_id_sql(id_space text, id_sequence text,
                                             OUT function_name text, OUT create_sql text, OUT body text,
                                             OUT security_definer boolean, OUT config text[], OUT strict boolean)
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM kit.function_object(
        name => format('kit.%I', kit.object_name('id_space', assign_id_sql.id_space)), arguments => '', returns => 'trigger',
        source => kit.render($t$
BEGIN
    NEW.id := pg_catalog.nextval({{id_sequence}}::pg_catalog.regclass);
    RETURN NEW;
END
$t$, jsonb_build_object('id_sequence', quote_literal(assign_id_sql.id_sequence))))
$$;

-- The trigger function that takes a fact's explicit id (one the writer
-- chose) for its id space, per row, before the row is written; its trigger
-- has WHEN (NEW.id IS NOT NULL), so the usual write (no id) never calls it.
-- SECURITY DEFINER, because it writes the kit's catalog (kit.explicit_id),
-- which app roles may not; therefore a pinned search_path. Only a trigger
-- can call a trigger function, and only the kit can attach it (EXECUTE is
-- revoked from PUBLIC): an app role cannot claim an id of a table it may not
-- write, nor put rows into kit.explicit_id by any other way.
CREATE OR REPLACE FUNCTION kit.claim_id_sql(id_space text,
                                            OUT function_name text, OUT create_sql text, OUT body text,
                                            OUT security_definer boolean, OUT config text[], OUT strict boolean)
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM kit.function_object(
        name => format('kit.%I', kit.object_name('id_claimer', claim_id_sql.id_space)), arguments => '', returns => 'trigger',
        definer => true, pinned_path => 'pg_catalog, pg_temp',
        source => kit.render($t$
BEGIN
    IF current_setting('session_replication_role') = 'replica' THEN
        PERFORM kit.take_replicated_ids({{id_space}}, kit.kit_name(TG_TABLE_SCHEMA, TG_TABLE_NAME), NEW.id, NEW.seq);
    ELSE
        PERFORM kit.claim_explicit_id({{id_space}}, kit.kit_name(TG_TABLE_SCHEMA, TG_TABLE_NAME), NEW.id);
    END IF;
    RETURN NEW;
END
$t$, jsonb_build_object('id_space', quote_literal(claim_id_sql.id_space))))
$$;

-- (Re)creates an id space's id assigner and id claimer (kit.assign_id_sql,
-- kit.claim_id_sql); only the triggers that use them may run them.
CREATE OR REPLACE FUNCTION kit.create_id_assigner(id_space text, id_sequence text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE (kit.assign_id_sql(create_id_assigner.id_space, create_id_assigner.id_sequence)).create_sql;
    EXECUTE (kit.claim_id_sql(create_id_assigner.id_space)).create_sql;
END
$$;

-- Puts the id triggers of its id space on a write table, unless they are
-- there as this kit makes them: accept_id_<w> for facts with an id, then
-- assign_id_<w> for facts without (kits before 0.4.0 had one assign_id_<w>
-- for both, with no WHEN clause: it is replaced). Both ENABLE ALWAYS, so
-- that they hold under session_replication_role = replica too. The caller
-- holds a lock on the table that keeps writers out.
CREATE OR REPLACE FUNCTION kit.attach_id_assigner(write_table text, id_space text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _table   regclass := kit.relation(attach_id_assigner.write_table)::regclass;
    _trigger record;
BEGIN
    FOR _trigger IN SELECT k.kind, kit.object_name(k.kind, attach_id_assigner.write_table) AS name,
                           kit.object_name(k.function_kind, attach_id_assigner.id_space) AS function_name, k.condition
                      FROM (VALUES ('accept_id', 'id_claimer', 'NEW.id IS NOT NULL'),
                                   ('assign_id', 'id_space', 'NEW.id IS NULL')) AS k (kind, function_kind, condition) LOOP
        IF EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = _table AND t.tgname = _trigger.name AND t.tgqual IS NULL) THEN
            EXECUTE format('DROP TRIGGER %I ON %s', _trigger.name, _table);
        END IF;
        IF NOT EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = _table AND t.tgname = _trigger.name) THEN
            EXECUTE format('CREATE TRIGGER %I BEFORE INSERT ON %s FOR EACH ROW WHEN (%s) EXECUTE FUNCTION kit.%I()',
                           _trigger.name, _table, _trigger.condition, _trigger.function_name);
            EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', _table, _trigger.name);
        END IF;
    END LOOP;
END
$$;

-- Records the columns a write table has now (name and type) as the ones its
-- facts keep: when it is created (kit.write_column).
CREATE OR REPLACE FUNCTION kit.record_write_columns(write_table text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM kit.write_column c WHERE c.write_table = record_write_columns.write_table;
    INSERT INTO kit.write_column (write_table, column_name, type)
    SELECT record_write_columns.write_table, a.attname, format_type(a.atttypid, a.atttypmod)
      FROM pg_attribute a
     WHERE a.attrelid = kit.relation(record_write_columns.write_table)::regclass AND a.attnum > 0 AND NOT a.attisdropped;
END
$$;

-- Puts the append-only guard on a write table: UPDATE, DELETE and TRUNCATE
-- fail with KT001, ENABLE ALWAYS, so that it holds with
-- session_replication_role = replica too.
CREATE OR REPLACE FUNCTION kit.create_append_only_guard(relation regclass, write_table text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE OR TRUNCATE ON %s
                    FOR EACH STATEMENT EXECUTE FUNCTION kit.refuse_change_of_fact()',
                   kit.object_name('append_only', create_append_only_guard.write_table), create_append_only_guard.relation);
    EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I',
                   create_append_only_guard.relation, kit.object_name('append_only', create_append_only_guard.write_table));
END
$$;

-- The write tables an app of `version` of `domain` writes: the newest write
-- table of each fact at or below it (user_registered_1 rather than _0 from
-- version 1 on), as kit.create_write_table declared them. The same rule
-- gives the app's generated code and its role's grants.
CREATE OR REPLACE FUNCTION kit.schema_version_write_tables(version integer, domain text)
RETURNS SETOF text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT DISTINCT ON (w.fact) w.write_table
      FROM kit.write_table w
     WHERE w.domain = schema_version_write_tables.domain AND w.schema_version <= schema_version_write_tables.version
     ORDER BY w.fact, w.schema_version DESC
$$;

-- What an app role needs on a write table it writes: INSERT on its domain
-- columns (never seq or recorded_at), SELECT on id (for INSERT ... RETURNING
-- id) and USAGE on its id space's sequence.
CREATE OR REPLACE FUNCTION kit.grant_write_table(write_table text, role_name text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _relation regclass := kit.relation(grant_write_table.write_table)::regclass;
BEGIN
    EXECUTE format('GRANT INSERT (%s) ON %s TO %I',
                   (SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
                     WHERE a.attrelid = _relation AND a.attnum > 0 AND NOT a.attisdropped
                       AND a.attname NOT IN ('seq', 'recorded_at')),
                   _relation, grant_write_table.role_name);
    EXECUTE format('GRANT SELECT (id) ON %s TO %I', _relation, grant_write_table.role_name);
    EXECUTE format('GRANT USAGE ON SEQUENCE %s TO %I',
                   (SELECT w.id_sequence FROM kit.write_table w WHERE w.write_table = grant_write_table.write_table),
                   grant_write_table.role_name);
END
$$;

-- The fact and schema version a new write table is declared with, the name's
-- <fact>_<N> form standing in for either one left out. Refuses (KT006, with
-- the call that declares it) a table that would belong to no schema version,
-- a negative version, and a second write table of one fact in one version,
-- which would leave that version's apps two tables to write.
CREATE OR REPLACE FUNCTION kit.write_table_declaration(write_table text, given_fact text, given_version integer,
                                                       OUT fact text, OUT schema_version integer)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _named    text[] := regexp_match(kit.key_table(write_table_declaration.write_table), '^(.+)_([0-9]{1,9})$');
    _existing kit.write_table;
    _other    text;
BEGIN
    SELECT * INTO _existing FROM kit.write_table w WHERE w.write_table = write_table_declaration.write_table;
    IF FOUND THEN
        PERFORM kit.usage_error(format('%s is a write table already (fact %s, schema version %s)', write_table_declaration.write_table,
                                       _existing.fact, _existing.schema_version),
                                'A write table is declared once; a changed fact is a new write table of a later version. Nothing was changed.');
    END IF;
    fact := coalesce(write_table_declaration.given_fact, _named[1], kit.key_table(write_table_declaration.write_table));
    schema_version := coalesce(write_table_declaration.given_version, _named[2]::integer);
    IF fact !~ '^[A-Za-z_][A-Za-z0-9_]*$' THEN
        PERFORM kit.usage_error(format('A fact is named like an identifier: letters, digits and _, not starting with a digit (Write table: %s, fact: %L)',
                                       write_table_declaration.write_table, fact),
                                'Name the fact as its generated classes will be named, e.g. fact => ''order_placed''; nothing was changed.');
    END IF;
    IF schema_version IS NULL THEN
        PERFORM kit.usage_error(format('Write table %s belongs to no schema version: its name does not end in _<N>, and none was declared',
                                       write_table_declaration.write_table),
                                format('Declare it: kit.create_write_table(%L, <id space>, fact => %L, schema_version => <N>); nothing was changed.',
                                       write_table_declaration.write_table, fact));
    END IF;
    IF schema_version < 0 THEN
        PERFORM kit.usage_error(format('A schema version is 0 or more (Write table: %s, schema_version: %s)',
                                       write_table_declaration.write_table, schema_version),
                                'Declare the version the table belongs to: schema_version => 0, 1, ...; nothing was changed.');
    END IF;
    IF _named[2]::integer IS DISTINCT FROM schema_version AND _named IS NOT NULL THEN
        RAISE NOTICE 'kit: % belongs to schema version %, as declared, not to the % its name ends in',
                     write_table_declaration.write_table, schema_version, _named[2];
    END IF;
    SELECT w.write_table INTO _other FROM kit.write_table w
     WHERE w.domain = kit.key_schema(write_table_declaration.write_table)
       AND w.fact = write_table_declaration.fact AND w.schema_version = write_table_declaration.schema_version;
    IF _other IS NOT NULL THEN
        PERFORM kit.usage_error(format('Schema version %s already has a write table of fact %s: %s (Write table: %s)',
                                       schema_version, fact, _other, write_table_declaration.write_table),
                                'Give the new table another fact (fact => ...) or the version it belongs to (schema_version => ...); nothing was changed.');
    END IF;
END
$$;

-- The partitions of a write table partitioned by seq, lowest first: each
-- with its kit name and the seqs it takes (from_seq up to, not including,
-- to_seq), the default partition last, with neither.
CREATE OR REPLACE FUNCTION kit.write_table_partitions(write_table text)
RETURNS TABLE (partition_name text, partition regclass, from_seq bigint, to_seq bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT kit.kit_name(n.nspname, c.relname), c.oid::regclass,
           CASE WHEN b.bounds[1] = 'MINVALUE' THEN -9223372036854775807 - 1 ELSE btrim(b.bounds[1], '''')::bigint END,
           CASE WHEN b.bounds[2] = 'MAXVALUE' THEN 9223372036854775807 ELSE btrim(b.bounds[2], '''')::bigint END
      FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
     CROSS JOIN LATERAL (SELECT regexp_match(pg_get_expr(c.relpartbound, c.oid), '^FOR VALUES FROM \(([^)]*)\) TO \(([^)]*)\)$') AS bounds) b
     WHERE i.inhparent = to_regclass(kit.relation(write_table_partitions.write_table))
     ORDER BY 3 NULLS LAST, 1
$$;

-- The seqs of a partitioned write table that no attached partition takes,
-- from its first partition's first seq (kit.write_table.partitioned_from) up
-- to the last it made a partition for (partitioned_to), as 'from to to'
-- ranges; NULL when there are none (and for a table not partitioned). The
-- kit never makes a partition below partitioned_to again, so a hole is a
-- partition somebody detached (or dropped): its facts are out of the kit's
-- view.
CREATE OR REPLACE FUNCTION kit.missing_partitions(write_table text)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT CASE WHEN NOT EXISTS (SELECT FROM kit.write_table_partitions(w.write_table) p WHERE p.from_seq IS NOT NULL)
                THEN format('%s on', w.partitioned_from)
                ELSE (SELECT string_agg(format('%s to %s', g.from_seq, g.to_seq - 1), ', ' ORDER BY g.from_seq)
                        FROM (SELECT coalesce(lag(p.to_seq) OVER (ORDER BY p.from_seq), w.partitioned_from) AS from_seq,
                                     p.from_seq AS to_seq
                                FROM kit.write_table_partitions(w.write_table) p WHERE p.from_seq IS NOT NULL
                              UNION ALL
                              -- The highest partitions the kit made, detached: their facts are out of view too.
                              SELECT max(p.to_seq), w.partitioned_to
                                FROM kit.write_table_partitions(w.write_table) p WHERE p.from_seq IS NOT NULL) g
                       WHERE g.to_seq > g.from_seq) END
      FROM kit.write_table w
     WHERE w.write_table = missing_partitions.write_table AND w.partition_size IS NOT NULL
       AND to_regclass(kit.relation(w.write_table)) IS NOT NULL
$$;

-- Refuses (KT006) to `what` (a backfill, rebuild or verify) while one of
-- the write tables that feed read_table lacks a partition between its first
-- seq and its highest one (kit.missing_partitions): reading the facts by seq
-- would silently miss those that are in the detached partition.
CREATE OR REPLACE FUNCTION kit.require_every_fact(read_table text, what text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _missing record;
BEGIN
    FOR _missing IN SELECT f.write_table, kit.missing_partitions(f.write_table) AS seqs
                      FROM (SELECT DISTINCT f.write_table FROM kit.feed f WHERE f.read_table = require_every_fact.read_table) f
                     ORDER BY f.write_table LOOP
        IF _missing.seqs IS NOT NULL THEN
            PERFORM kit.usage_error(
                format('Cannot %s: write table %s has no partition for seqs %s (detached or dropped), so the facts there are out of the kit''s view (Read table: %s)',
                       require_every_fact.what, _missing.write_table, _missing.seqs, require_every_fact.read_table),
                format('Attach each back: SELECT kit.attach_partition(%L, <the detached table>) (with the facts the default partition took in its seqs), then run it again; nothing was changed.',
                       _missing.write_table));
        END IF;
    END LOOP;
END
$$;

-- Puts the kit's guard on every partition of a partitioned write table
-- (a statement on a partition fires the partition's statement triggers, not
-- the table's): BEFORE INSERT, UPDATE, DELETE or TRUNCATE, each refused with
-- KT001 (kit.refuse_change_of_fact); and makes it and the id triggers each
-- partition has from the table fire ALWAYS (on PostgreSQL 15 and later
-- ENABLE ALWAYS on the table reaches its partitions; this does not rely on it).
CREATE OR REPLACE FUNCTION kit.guard_partitions(write_table text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _partition record;
    _trigger   text;
BEGIN
    FOR _partition IN SELECT p.partition_name, p.partition FROM kit.write_table_partitions(guard_partitions.write_table) p LOOP
        _trigger := kit.object_name('append_only', _partition.partition_name);
        IF NOT EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = _partition.partition AND t.tgname = _trigger) THEN
            EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s
                            FOR EACH STATEMENT EXECUTE FUNCTION kit.refuse_change_of_fact()', _trigger, _partition.partition);
        END IF;
        FOR _trigger IN SELECT t.tgname FROM pg_trigger t
                         WHERE t.tgrelid = _partition.partition AND t.tgenabled <> 'A'
                           AND t.tgname IN (_trigger, kit.object_name('accept_id', guard_partitions.write_table),
                                            kit.object_name('assign_id', guard_partitions.write_table)) LOOP
            EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', _partition.partition, _trigger);
        END LOOP;
    END LOOP;
END
$$;

-- Moves the facts a partitioned write table's default partition holds in
-- seqs from_seq to to_seq into table target (a partition about to be
-- attached), in the caller's transaction: the only delete from a partition,
-- with the default's guard off for it, and target's own guards (one it kept
-- when detached) off for the insert.
CREATE OR REPLACE FUNCTION kit.move_out_of_default(write_table text, target regclass, from_seq bigint, to_seq bigint)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _default record;
    _guards  name[] := ARRAY(SELECT t.tgname FROM pg_trigger t
                              WHERE t.tgrelid = move_out_of_default.target AND t.tgfoid = 'kit.refuse_change_of_fact()'::regprocedure);
    _guard   name;
BEGIN
    SELECT p.partition_name, p.partition INTO _default
      FROM kit.write_table_partitions(move_out_of_default.write_table) p WHERE p.from_seq IS NULL;
    IF _default.partition IS NULL THEN
        RETURN;
    END IF;
    FOREACH _guard IN ARRAY _guards LOOP
        EXECUTE format('ALTER TABLE %s DISABLE TRIGGER %I', move_out_of_default.target, _guard);
    END LOOP;
    EXECUTE format('INSERT INTO %1$s (%3$s) SELECT %3$s FROM %2$s WHERE seq >= %4$s AND seq < %5$s',
                   move_out_of_default.target, _default.partition,
                   (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
                     WHERE a.attrelid = kit.relation(move_out_of_default.write_table)::regclass AND a.attnum > 0 AND NOT a.attisdropped),
                   move_out_of_default.from_seq, move_out_of_default.to_seq);
    FOREACH _guard IN ARRAY _guards LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', move_out_of_default.target, _guard);
    END LOOP;
    EXECUTE format('ALTER TABLE %s DISABLE TRIGGER %I', _default.partition, kit.object_name('append_only', _default.partition_name));
    EXECUTE format('DELETE FROM %s WHERE seq >= %s AND seq < %s', _default.partition, move_out_of_default.from_seq, move_out_of_default.to_seq);
    EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', _default.partition, kit.object_name('append_only', _default.partition_name));
END
$$;

-- Attaches table partition_name to a partitioned write table, for seqs
-- from_seq to to_seq (the default partition when both are NULL), in the
-- caller's transaction under its lock: facts the default partition took in
-- that range move into it first (which a plain ATTACH PARTITION refuses),
-- with its guard and the default's off for the move. KT006, nothing changed,
-- when the table holds a seq the fact sequence has not given (not facts of
-- this database's) or PostgreSQL refuses (rows outside the range, other
-- columns). kit.attach_partition and kit.add_partitions (a detached default
-- partition) run it.
CREATE OR REPLACE FUNCTION kit.attach_partition_back(write_table text, partition_name text, from_seq bigint, to_seq bigint)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _table    regclass := kit.relation(attach_partition_back.partition_name)::regclass;
    _bounds   text := CASE WHEN attach_partition_back.from_seq IS NULL THEN 'DEFAULT'
                           ELSE format('FOR VALUES FROM (%s) TO (%s)', attach_partition_back.from_seq, attach_partition_back.to_seq) END;
    _highest  bigint;
BEGIN
    EXECUTE format('SELECT max(seq) FROM %s', _table) INTO _highest;
    IF _highest > coalesce(pg_sequence_last_value('kit.fact_seq'), 0) THEN
        RAISE EXCEPTION USING ERRCODE = 'KT006', MESSAGE = format('it holds seq %s, which the fact sequence has not given yet', _highest);
    END IF;
    IF attach_partition_back.from_seq IS NOT NULL THEN
        PERFORM kit.move_out_of_default(attach_partition_back.write_table, _table, attach_partition_back.from_seq, attach_partition_back.to_seq);
    END IF;
    EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s %s', kit.relation(attach_partition_back.write_table), _table, _bounds);
    RAISE NOTICE 'kit: % attached to % (%): its facts are in view', attach_partition_back.partition_name, attach_partition_back.write_table, _bounds;
EXCEPTION WHEN OTHERS THEN
    PERFORM kit.usage_error(format('Cannot attach %s to %s (%s): %s',
                                   attach_partition_back.partition_name, attach_partition_back.write_table, _bounds, SQLERRM),
                            'Rename it, or drop it if it holds no facts of this table, then run it again; nothing was changed.');
END
$$;

-- Makes sure a write table partitioned by seq (kit.create_write_table with
-- partition_size) has partitions for the facts to come: those that take the
-- fact sequence's current position and `ahead` more, each partition_size
-- seqs wide, above its highest one, and a default partition, which takes a
-- fact no other partition does, so that an insert never fails when nobody
-- ran this in time. It never fills a hole below the highest partition (a
-- detached partition's seqs stay missing: kit.missing_partitions). Facts the
-- default partition holds in the seqs of a new partition move into it (the
-- kit is the only one that may delete there). write_table NULL: every
-- partitioned write table. Run by kit.create_write_table, after every
-- migrate and by kit.repair(); schedule it too (cron, pg_cron) so that it
-- keeps ahead of the writers. Adding a partition takes an ACCESS EXCLUSIVE
-- lock on the table for a moment (kit.lock_briefly), and scans the default
-- partition: keep that one empty by running this often enough. Returns the
-- partitions it made.
CREATE OR REPLACE FUNCTION kit.add_partitions(write_table text DEFAULT NULL, ahead integer DEFAULT 2,
                                              domain text DEFAULT current_schema())
RETURNS SETOF text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _write    record;
    _parent   regclass;
    _default  record;
    _position bigint := coalesce(pg_sequence_last_value('kit.fact_seq'), 0);
    _from     bigint;
    _to       bigint;
    _up_to    bigint;
    _name     text;
    _locked   boolean;
    _moving   boolean;
BEGIN
    IF add_partitions.write_table IS NOT NULL THEN
        add_partitions.write_table := kit.table_key(add_partitions.write_table, add_partitions.domain);
        IF NOT EXISTS (SELECT FROM kit.write_table w WHERE w.write_table = add_partitions.write_table AND w.partition_size IS NOT NULL) THEN
            PERFORM kit.usage_error(format('Not a write table partitioned by seq: %s', add_partitions.write_table),
                                    'kit.create_write_table makes one of a table created PARTITION BY RANGE (seq); nothing was changed.');
        END IF;
    END IF;
    IF add_partitions.ahead IS NULL OR add_partitions.ahead < 0 THEN
        PERFORM kit.usage_error(format('ahead is 0 or more partitions (Given: %s)', add_partitions.ahead));
    END IF;
    FOR _write IN SELECT w.write_table, w.partition_size, w.partitioned_from, w.partitioned_to FROM kit.write_table w
                   WHERE w.partition_size IS NOT NULL AND to_regclass(kit.relation(w.write_table)) IS NOT NULL
                     AND (add_partitions.write_table IS NULL OR w.write_table = add_partitions.write_table)
                   ORDER BY w.write_table LOOP
        _parent := kit.relation(_write.write_table)::regclass;
        _locked := false;
        SELECT p.partition_name, p.partition INTO _default FROM kit.write_table_partitions(_write.write_table) p WHERE p.from_seq IS NULL;
        IF _default.partition IS NULL THEN
            PERFORM kit.lock_briefly(ARRAY[_parent], 'ACCESS EXCLUSIVE', 'add partitions to ' || _write.write_table);
            _locked := true;
            _name := kit.kit_name(kit.key_schema(_write.write_table), kit.key_table(_write.write_table) || '_default');
            IF to_regclass(kit.relation(_name)) IS NOT NULL THEN
                -- The default partition detached (never meant to be): the table of its name goes back.
                PERFORM kit.attach_partition_back(_write.write_table, _name, NULL, NULL);
            ELSE
                EXECUTE format('CREATE TABLE %s PARTITION OF %s DEFAULT', kit.relation(_name), _parent);
            END IF;
            RETURN NEXT _name;
            SELECT p.partition_name, p.partition INTO _default FROM kit.write_table_partitions(_write.write_table) p WHERE p.from_seq IS NULL;
        END IF;
        PERFORM kit.guard_partitions(_write.write_table);
        _from := coalesce((SELECT max(p.to_seq) FROM kit.write_table_partitions(_write.write_table) p WHERE p.from_seq IS NOT NULL),
                          _write.partitioned_from);
        EXECUTE format('SELECT max(seq) FROM %s', _default.partition) INTO _up_to;
        _up_to := greatest((_position / _write.partition_size + 1 + add_partitions.ahead) * _write.partition_size,
                           (coalesce(_up_to, 0) / _write.partition_size + 1) * _write.partition_size);
        WHILE _from < _up_to LOOP
            IF NOT _locked THEN
                PERFORM kit.lock_briefly(ARRAY[_parent], 'ACCESS EXCLUSIVE', 'add partitions to ' || _write.write_table);
                _locked := true;
            END IF;
            _to := (_from / _write.partition_size + 1) * _write.partition_size;
            _name := kit.kit_name(kit.key_schema(_write.write_table),
                                  format('%s_p%s', kit.key_table(_write.write_table), _from / _write.partition_size));
            IF octet_length(kit.key_table(_name)) > 63 - octet_length('append_only_') THEN
                PERFORM kit.usage_error(format('Partition name is longer than PostgreSQL allows with its guard trigger''s: %s (Write table: %s)',
                                               kit.key_table(_name), _write.write_table),
                                        'Use a shorter write table name.');
            END IF;
            EXECUTE format('SELECT EXISTS (SELECT FROM %s WHERE seq >= %s AND seq < %s)', _default.partition, _from, _to) INTO _moving;
            IF _to <= coalesce(_write.partitioned_to, 0) THEN
                -- A partition made before, detached (or dropped): never made anew, empty (kit.missing_partitions
                -- names the hole; kit.attach_partition puts it back); the default partition takes its seqs meanwhile.
                _from := _to;
                CONTINUE;
            ELSIF to_regclass(kit.relation(_name)) IS NOT NULL THEN
                PERFORM kit.usage_error(format('Table %s is in the way of the partition %s is to have for seqs %s to %s',
                                               _name, _write.write_table, _from, _to - 1),
                                        'Rename it or drop it, then run it again; nothing was changed.');
            ELSIF _moving THEN
                -- The default partition took these facts: they move to the new partition, in this transaction.
                EXECUTE format('CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS)', kit.relation(_name), _parent);
                PERFORM kit.move_out_of_default(_write.write_table, kit.relation(_name)::regclass, _from, _to);
                EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%s) TO (%s)', _parent, kit.relation(_name), _from, _to);
            ELSE
                EXECUTE format('CREATE TABLE %s PARTITION OF %s FOR VALUES FROM (%s) TO (%s)', kit.relation(_name), _parent, _from, _to);
            END IF;
            RETURN NEXT _name;
            _from := _to;
        END LOOP;
        PERFORM kit.guard_partitions(_write.write_table);
        UPDATE kit.write_table w SET partitioned_to = greatest(w.partitioned_to,
                   (SELECT max(p.to_seq) FROM kit.write_table_partitions(_write.write_table) p))
         WHERE w.write_table = _write.write_table;
    END LOOP;
END
$$;

-- Attaches a detached partition back to a partitioned write table (ATTACH
-- PARTITION, under a brief ACCESS EXCLUSIVE lock), and the facts the default
-- partition took in its seqs meanwhile with it: the way to close a hole
-- kit.missing_partitions names. Its seqs: from_seq on, partition_size of
-- them; from its name when it has the kit's (<table>_p<n>), else from its
-- facts. KT006, nothing changed, for a table the kit cannot attach.
CREATE OR REPLACE FUNCTION kit.attach_partition(write_table text, partition text, from_seq bigint DEFAULT NULL,
                                               domain text DEFAULT current_schema())
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _size   bigint;
    _table  regclass;
    _prefix text;
BEGIN
    IF attach_partition.write_table IS NULL OR attach_partition.partition IS NULL THEN
        PERFORM kit.usage_error('Name the write table and the table to attach: kit.attach_partition(''user_registered_0'', ''user_registered_0_p3'')',
                                'Nothing was changed.');
    END IF;
    attach_partition.write_table := kit.table_key(attach_partition.write_table, kit.require_domain(attach_partition.domain));
    _size := (SELECT w.partition_size FROM kit.write_table w WHERE w.write_table = attach_partition.write_table);
    IF _size IS NULL OR to_regclass(kit.relation(attach_partition.write_table)) IS NULL THEN
        PERFORM kit.usage_error(format('Not a write table partitioned by seq: %s', attach_partition.write_table), 'Nothing was changed.');
    END IF;
    attach_partition.partition := kit.table_key(attach_partition.partition, kit.key_schema(attach_partition.write_table));
    _table := to_regclass(kit.relation(attach_partition.partition));
    IF _table IS NULL THEN
        PERFORM kit.usage_error(format('No such table: %s', attach_partition.partition),
                                'Name it with its schema unless it is in the write table''s; nothing was changed.');
    ELSIF EXISTS (SELECT FROM pg_inherits i WHERE i.inhrelid = _table) THEN
        PERFORM kit.usage_error(format('%s is a partition already', attach_partition.partition), 'Nothing was changed.');
    END IF;
    IF attach_partition.from_seq IS NULL THEN
        _prefix := kit.key_table(attach_partition.write_table) || '_p';
        IF left(kit.key_table(attach_partition.partition), length(_prefix)) = _prefix
           AND substr(kit.key_table(attach_partition.partition), length(_prefix) + 1) ~ '^[0-9]{1,18}$' THEN
            attach_partition.from_seq := substr(kit.key_table(attach_partition.partition), length(_prefix) + 1)::bigint * _size;
        ELSE
            EXECUTE format('SELECT min(seq) / %s * %1$s FROM %s', _size, _table) INTO attach_partition.from_seq;
        END IF;
        IF attach_partition.from_seq IS NULL THEN
            PERFORM kit.usage_error(format('Cannot tell which seqs %s takes: it holds no fact, and its name is not the kit''s for a partition of %s',
                                           attach_partition.partition, attach_partition.write_table),
                                    'Give its first seq (from_seq => ...), a multiple of the partition size; nothing was changed.');
        END IF;
    ELSIF attach_partition.from_seq % _size <> 0 THEN
        PERFORM kit.usage_error(format('A partition of %s starts at a multiple of %s seqs (Given: %s)', attach_partition.write_table, _size,
                                       attach_partition.from_seq), 'Nothing was changed.');
    END IF;
    PERFORM kit.lock_briefly(ARRAY[kit.relation(attach_partition.write_table)::regclass], 'ACCESS EXCLUSIVE',
                             'attach ' || attach_partition.partition || ' to ' || attach_partition.write_table);
    PERFORM kit.attach_partition_back(attach_partition.write_table, attach_partition.partition, attach_partition.from_seq,
                                      attach_partition.from_seq + _size);
    PERFORM kit.guard_partitions(attach_partition.write_table);
END
$$;

-- kit.add_partitions for work that must go on when writers keep a table too
-- busy for its brief lock (KT007): a warning then, and the default partition
-- takes the facts meanwhile. The afterMigrate callback and a baseline's copy
-- (kit.backfill) run it.
CREATE OR REPLACE FUNCTION kit.keep_partitions_ahead(write_table text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- A write table's key names its schema unless it is public's: no current_schema() in the way.
    PERFORM kit.add_partitions(keep_partitions_ahead.write_table, domain => coalesce(kit.key_schema(keep_partitions_ahead.write_table), 'public'));
EXCEPTION WHEN SQLSTATE 'KT007' THEN
    RAISE WARNING 'kit: partitions not added now: %. The default partitions take the facts meanwhile; run SELECT kit.add_partitions() later.', SQLERRM;
END
$$;

-- Turns a freshly created table of domain columns (id bigint first) into a
-- write table: adds the kit columns, the id space's sequence and id assigner,
-- the append-only guard and registers it. The first write table of an id
-- space creates its sequence, whose ids start at explicit_ids_below: writers
-- may choose ids from 0 up to it (the examples' VALUES (0, ...)), the
-- sequence gives the ids from there on.
--
-- The write table's key is seq, its place in the global order. Ids are not
-- indexed here: kit.explicit_id holds explicit ids once per id space and the
-- sequence never repeats, so a second index per fact would only cost writes.
--
-- It records what the table is, declared, never parsed from its name: the
-- kind of fact it holds (fact) and the schema version it belongs to
-- (schema_version). Apps of version N write the newest write table of each
-- fact at or below N (kit.schema_version_write_tables). Both may be left out
-- for a name of the form <fact>_<N> (user_registered_1: fact user_registered,
-- version 1); a fact left out is the name without that suffix, or the name.
--
-- The table is in its domain: the schema its name gives ('shop.order_placed'),
-- else `domain`, the caller's current schema. So is its id space: 'order' is
-- shop's id space shop.order, whose sequence and id functions the kit keeps in
-- its own schema (kit.shop__order_id_seq).
--
-- A table created PARTITION BY RANGE (seq), with seq bigint and
-- recorded_at timestamptz among its columns, becomes a write table
-- partitioned by seq: the kit gives those two their defaults and NOT NULL,
-- and makes its partitions, partition_size seqs each (a million unless
-- given), and a default partition (kit.add_partitions). partition_size is
-- refused for a table not so partitioned.
CREATE OR REPLACE FUNCTION kit.create_write_table(write_table text, id_space text, explicit_ids_below bigint DEFAULT 1000000000,
                                                  fact text DEFAULT NULL, schema_version integer DEFAULT NULL,
                                                  domain text DEFAULT current_schema(), partition_size bigint DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _table       regclass;
    _sequence    text;
    _id_type     text;
    _first_given bigint;
    _declared    record;
    _partitioned boolean;
BEGIN
    create_write_table.write_table := kit.table_key(create_write_table.write_table, create_write_table.domain);
    create_write_table.id_space := kit.table_key(create_write_table.id_space, kit.key_schema(create_write_table.write_table));
    _table := to_regclass(kit.relation(create_write_table.write_table));
    _sequence := format('kit.%I', kit.object_name('id_sequence', create_write_table.id_space));
    IF kit.key_schema(create_write_table.id_space) <> kit.key_schema(create_write_table.write_table) THEN
        PERFORM kit.usage_error(format('An id space belongs to the domain of its write tables (Write table: %s, Id space: %s)',
                                       create_write_table.write_table, create_write_table.id_space),
                                'Name the id space without a schema; nothing was changed.');
    END IF;
    IF _table IS NULL THEN
        PERFORM kit.refuse_missing_table(create_write_table.write_table, 'kit.create_write_table');
    END IF;
    SELECT format_type(a.atttypid, a.atttypmod) INTO _id_type
      FROM pg_attribute a WHERE a.attrelid = _table AND a.attname = 'id' AND a.attnum = 1;
    IF _id_type IS DISTINCT FROM 'bigint' THEN
        PERFORM kit.usage_error(format('A write table needs id bigint as its first column (Write table: %s, First column''s id type: %s)',
                                       create_write_table.write_table, coalesce(_id_type, 'no id column first')));
    END IF;
    IF create_write_table.explicit_ids_below < 1 THEN
        PERFORM kit.usage_error(format('explicit_ids_below must be positive (Write table: %s, Given: %s)',
                                       create_write_table.write_table, create_write_table.explicit_ids_below));
    END IF;
    _partitioned := (SELECT c.relkind = 'p' FROM pg_class c WHERE c.oid = _table);
    IF _partitioned THEN
        IF NOT EXISTS (SELECT FROM pg_partitioned_table p
                         JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
                        WHERE p.partrelid = _table AND p.partstrat = 'r' AND p.partnatts = 1
                          AND a.attname = 'seq' AND a.atttypid = 'bigint'::regtype)
           OR NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = _table AND a.attname = 'recorded_at'
                             AND a.atttypid = 'timestamptz'::regtype AND NOT a.attisdropped) THEN
            PERFORM kit.usage_error(format('A partitioned write table is partitioned BY RANGE (seq), and declares seq bigint and recorded_at timestamptz (Write table: %s)',
                                           create_write_table.write_table),
                                    'CREATE TABLE ... (id bigint, <its columns>, seq bigint, recorded_at timestamptz) PARTITION BY RANGE (seq); nothing was changed.');
        END IF;
        IF EXISTS (SELECT FROM pg_inherits i WHERE i.inhparent = _table) THEN
            PERFORM kit.usage_error(format('A partitioned write table is created without partitions: the kit makes them (Write table: %s)',
                                           create_write_table.write_table),
                                    'Drop its partitions, or create it anew; nothing was changed.');
        END IF;
        create_write_table.partition_size := coalesce(create_write_table.partition_size, 1000000);
        IF create_write_table.partition_size < 1 THEN
            PERFORM kit.usage_error(format('partition_size must be positive (Write table: %s, Given: %s)',
                                           create_write_table.write_table, create_write_table.partition_size));
        END IF;
    ELSIF create_write_table.partition_size IS NOT NULL THEN
        PERFORM kit.usage_error(format('partition_size is for a table partitioned by seq, and %s is not (Write table: %s)',
                                       create_write_table.write_table, create_write_table.write_table),
                                'CREATE TABLE ... (id bigint, <its columns>, seq bigint, recorded_at timestamptz) PARTITION BY RANGE (seq), or leave partition_size out; nothing was changed.');
    END IF;
    _declared := kit.write_table_declaration(create_write_table.write_table, create_write_table.fact,
                                              create_write_table.schema_version);
    -- The names its triggers will need, checked before anything is made.
    PERFORM kit.object_name('feed', create_write_table.write_table), kit.object_name('assign_id', create_write_table.write_table),
            kit.object_name('accept_id', create_write_table.write_table);
    _first_given := (SELECT s.seqmin FROM pg_sequence s WHERE s.seqrelid = to_regclass(_sequence));
    IF _first_given IS NULL THEN
        EXECUTE format('CREATE SEQUENCE %s AS bigint MINVALUE %s START %2$s', _sequence, create_write_table.explicit_ids_below);
        PERFORM kit.create_id_assigner(create_write_table.id_space, _sequence);
    ELSIF _first_given <> create_write_table.explicit_ids_below THEN
        PERFORM kit.usage_error(format('The %s id space already gives ids from %s on (Write table: %s, explicit_ids_below: %s)',
                                       create_write_table.id_space, _first_given,
                                       create_write_table.write_table, create_write_table.explicit_ids_below),
                                'Leave explicit_ids_below out for a second write table of an id space.');
    END IF;
    IF _partitioned THEN
        -- The table declares seq and recorded_at, which it is partitioned by; its key includes the partition key.
        EXECUTE format($ddl$
            ALTER TABLE %1$s
                ALTER COLUMN id DROP DEFAULT,
                ALTER COLUMN seq SET DEFAULT nextval('kit.fact_seq'), ALTER COLUMN seq SET NOT NULL,
                ALTER COLUMN recorded_at SET DEFAULT now(), ALTER COLUMN recorded_at SET NOT NULL,
                ADD PRIMARY KEY (seq)
            $ddl$, _table);
    ELSE
        EXECUTE format($ddl$
            ALTER TABLE %1$s
                ALTER COLUMN id DROP DEFAULT,
                ADD COLUMN seq bigint NOT NULL DEFAULT nextval('kit.fact_seq'),
                ADD COLUMN recorded_at timestamptz NOT NULL DEFAULT now(),
                ADD PRIMARY KEY (seq)
            $ddl$, _table);
    END IF;
    PERFORM kit.create_append_only_guard(_table, create_write_table.write_table);
    PERFORM kit.attach_id_assigner(create_write_table.write_table, create_write_table.id_space);
    INSERT INTO kit.write_table (write_table, id_space, id_sequence, fact, schema_version, domain, partition_size, partitioned_from)
    VALUES (create_write_table.write_table, create_write_table.id_space, _sequence, _declared.fact, _declared.schema_version,
            kit.key_schema(create_write_table.write_table), create_write_table.partition_size,
            coalesce(pg_sequence_last_value('kit.fact_seq'), 0) / create_write_table.partition_size * create_write_table.partition_size);
    PERFORM kit.record_write_columns(create_write_table.write_table);
    IF _partitioned THEN
        PERFORM kit.add_partitions(create_write_table.write_table, domain => kit.key_schema(create_write_table.write_table));
    END IF;
    -- The roles of building and live versions that write this table from now on (the newest table
    -- of its fact at or below their version) get its grants now, not at the next kit repair.
    PERFORM kit.grant_write_table(create_write_table.write_table, a.role_name)
       FROM kit.app_role a
       JOIN kit.schema_versions s ON s.domain = a.domain AND s.version = a.version AND s.state IN ('building', 'live')
      WHERE a.domain = kit.key_schema(create_write_table.write_table) AND EXISTS (SELECT FROM pg_roles r WHERE r.rolname = a.role_name)
        AND create_write_table.write_table IN (SELECT kit.schema_version_write_tables(a.version, a.domain));
END
$$;
