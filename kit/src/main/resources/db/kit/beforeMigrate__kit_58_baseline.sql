-- Kit script 58 baseline (run by Flyway before every migrate, in file-name order).
-- Bringing an existing table under the kit, online: kit.baseline makes its
-- write tables, its read version and a capture of every change to it; the
-- backfill (kit.backfill, the afterMigrate callback) copies its rows as
-- facts, batch by batch (kit.baseline_step), before it fills the read
-- version; kit.end_capture, the tidy-up once the app writes facts, stops the
-- capture and leaves the table read-only, or drops it.
-- Idempotent: CREATE OR REPLACE, safe to run again.

-- Why the kit cannot take `source` (a table's kit name) as it is, or NULL:
-- each reason says what to change. A single integer primary key (the read
-- rows' id), no stored generated column (its value is the table's to
-- compute, not a fact's), no foreign key that points at it (its rows move out
-- of it: a referencing row would point at a table that is frozen, then gone),
-- not partitioned (ATTACH and DETACH PARTITION change its rows with no row
-- change a capture sees) and no inheritance (the capture and the copy see one
-- table), no constraint not validated and no rule that names the key (the
-- read version keeps its rules, with the key as id), no column named as the
-- kit names its own (id unless it is the key,
-- row_id, seq, recorded_at, last_fact_seq, first_fact_seq), not a kit table,
-- not brought under the kit already.
CREATE OR REPLACE FUNCTION kit.baseline_refusal(source regclass, source_table text)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT CASE
        WHEN c.relkind = 'p' THEN 'it is partitioned, and attaching or detaching a partition changes its rows with no change a capture sees: '
                                  'bring a plain copy of it under the kit (whose write tables may be partitioned: partition_size => ...)'
        WHEN c.relkind <> 'r' THEN 'it is not a table'
        WHEN EXISTS (SELECT FROM pg_inherits i WHERE i.inhrelid = c.oid OR i.inhparent = c.oid)
            THEN 'it inherits or is inherited from (the capture and the copy see one table)'
        WHEN EXISTS (SELECT FROM kit.baseline_table b WHERE b.source_table = baseline_refusal.source_table)
            THEN 'it is under the kit already (kit.baseline)'
        WHEN EXISTS (SELECT FROM kit.write_table w WHERE w.write_table = baseline_refusal.source_table)
             OR EXISTS (SELECT FROM kit.read_version v WHERE v.read_table = baseline_refusal.source_table)
            THEN 'it is a table of the kit''s'
        WHEN NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)
            THEN 'it has no primary key: the kit needs one integer column that names each row'
        WHEN NOT EXISTS (SELECT FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                          WHERE i.indrelid = c.oid AND i.indisprimary AND i.indnatts = 1
                            AND a.atttypid IN ('bigint'::regtype, 'integer'::regtype, 'smallint'::regtype))
            THEN 'its primary key is not one integer column (bigint, integer or smallint): read rows are named by a bigint id'
        WHEN EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated <> '')
            THEN format('it has generated columns (%s): a fact holds values, not how to compute them; drop the generation (ALTER TABLE ... ALTER COLUMN ... DROP EXPRESSION) first',
                        (SELECT string_agg(a.attname, ', ') FROM pg_attribute a
                          WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated <> ''))
        WHEN EXISTS (SELECT FROM pg_constraint k WHERE k.conrelid = c.oid AND NOT k.convalidated)
            THEN format('it has constraints not validated (%s): a row may break them, and its read version, which keeps them, would refuse it; ALTER TABLE ... VALIDATE CONSTRAINT first',
                        (SELECT string_agg(k.conname, ', ') FROM pg_constraint k WHERE k.conrelid = c.oid AND NOT k.convalidated))
        WHEN EXISTS (SELECT FROM pg_constraint k JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
                      WHERE k.conrelid = c.oid AND k.contype IN ('c', 'u') AND i.indkey[0] = ANY (k.conkey))
             OR EXISTS (SELECT FROM pg_index u JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
                         WHERE u.indrelid = c.oid AND u.indisunique AND NOT u.indisprimary AND i.indkey[0] = ANY (u.indkey::int2[]))
            THEN format('rules name its key column, which its read version calls id (%s): drop them, bring the table under the kit, and add them to the read table with id',
                        (SELECT string_agg(n.name, ', ') FROM (
                            SELECT k.conname::text AS name FROM pg_constraint k JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
                             WHERE k.conrelid = c.oid AND k.contype IN ('c', 'u') AND i.indkey[0] = ANY (k.conkey)
                            UNION
                            SELECT u.indexrelid::regclass::text FROM pg_index u JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
                             WHERE u.indrelid = c.oid AND u.indisunique AND NOT u.indisprimary AND i.indkey[0] = ANY (u.indkey::int2[])
                               AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = u.indexrelid)) n))
        WHEN EXISTS (SELECT FROM pg_constraint f WHERE f.confrelid = c.oid AND f.contype = 'f')
            THEN format('foreign keys point at it (%s): its rows are to live in the kit''s tables; drop them first, or bring those tables under the kit too',
                        (SELECT string_agg(format('%s.%s', f.conrelid::regclass, f.conname), ', ') FROM pg_constraint f
                          WHERE f.confrelid = c.oid AND f.contype = 'f'))
        WHEN EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                        AND a.attname IN ('row_id', 'seq', 'recorded_at', 'last_fact_seq', 'first_fact_seq', 'id')
                        AND NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary AND i.indkey[0] = a.attnum))
            THEN format('it has a column the kit names its own (%s): rename it first',
                        (SELECT string_agg(a.attname, ', ') FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                            AND a.attname IN ('row_id', 'seq', 'recorded_at', 'last_fact_seq', 'first_fact_seq', 'id')
                            AND NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary AND i.indkey[0] = a.attnum)))
        END
      FROM pg_class c WHERE c.oid = baseline_refusal.source
$$;

-- The columns of `source` but its key, as a column list for CREATE TABLE:
-- name, type, collation where it is not the type's, NOT NULL where the table
-- has it (with_not_null), in the table's order.
CREATE OR REPLACE FUNCTION kit.baseline_columns(source regclass, key_column text, with_not_null boolean)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT coalesce(string_agg(format('%I %s%s%s', a.attname, format_type(a.atttypid, a.atttypmod),
                                      CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                                           THEN ' COLLATE ' || a.attcollation::regcollation::text ELSE '' END,
                                      CASE WHEN baseline_columns.with_not_null AND a.attnotnull THEN ' NOT NULL' ELSE '' END),
                               ', ' ORDER BY a.attnum), '')
      FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
     WHERE a.attrelid = baseline_columns.source AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> baseline_columns.key_column
$$;

-- The rules of `source` its read version keeps, as table constraints for
-- CREATE TABLE: its CHECK and UNIQUE constraints, and its unique indexes on
-- plain columns. (A partial or expression unique index, an exclusion
-- constraint: the migration adds it to the read table itself.)
CREATE OR REPLACE FUNCTION kit.baseline_rules(source regclass, key_column text)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT coalesce(string_agg(r.definition, ', ' ORDER BY r.definition), '')
      FROM (SELECT pg_get_constraintdef(k.oid) AS definition FROM pg_constraint k
             WHERE k.conrelid = baseline_rules.source AND k.contype IN ('c', 'u')
            UNION
            SELECT format('UNIQUE (%s)', (SELECT string_agg(format('%I', a.attname), ', ' ORDER BY x.n)
                                            FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS x (attnum, n)
                                            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = x.attnum))
              FROM pg_index i
             WHERE i.indrelid = baseline_rules.source AND i.indisunique AND NOT i.indisprimary
               AND i.indpred IS NULL AND i.indexprs IS NULL AND 0 <> ALL (i.indkey::int2[])
               AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid)) r
$$;

-- The columns of a baseline's recorded table that hold the row (all but the
-- fact's id, row_id and the kit's seq and recorded_at), in their order: what
-- the capture records and the copy writes.
CREATE OR REPLACE FUNCTION kit.baseline_row_columns(recorded_table text)
RETURNS name[]
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT coalesce(array_agg(a.attname ORDER BY a.attnum), '{}')
      FROM pg_attribute a
     WHERE a.attrelid = kit.relation(baseline_row_columns.recorded_table)::regclass AND a.attnum > 0 AND NOT a.attisdropped
       AND a.attname NOT IN ('id', 'row_id', 'seq', 'recorded_at')
$$;

-- kit.baseline_row_columns as a list to follow a first column in SQL:
-- ', "email", "name"' (empty when the row has no other column).
CREATE OR REPLACE FUNCTION kit.baseline_column_list(recorded_table text)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT coalesce(string_agg(format(', %I', a.name), '' ORDER BY a.n), '')
      FROM unnest(kit.baseline_row_columns(baseline_column_list.recorded_table)) WITH ORDINALITY AS a (name, n)
$$;

-- The trigger function that turns each change of a table under capture into
-- a fact, in the changing transaction, after the row is written (so after
-- its row lock: two changes of one row take their seqs in the order they
-- commit): an insert or an update records the row's new values
-- (recorded_table), a delete, or an update of the key, records that the old
-- key's row is gone (removed_table). SECURITY DEFINER: the table's writers
-- need no grant on the kit's tables; therefore a pinned search_path, and
-- every name schema-qualified.
CREATE OR REPLACE FUNCTION kit.capture_sql(source_table text, key_column text, recorded_table text, removed_table text,
                                           OUT function_name text, OUT create_sql text, OUT body text,
                                           OUT security_definer boolean, OUT config text[], OUT strict boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT o.*
      FROM (SELECT string_agg(format('%I', a.name), ', ' ORDER BY a.n) AS columns,
                   string_agg(format('NEW.%I', a.name), ', ' ORDER BY a.n) AS new_values
              FROM unnest(kit.baseline_row_columns(capture_sql.recorded_table)) WITH ORDINALITY AS a (name, n)) c
     CROSS JOIN LATERAL kit.function_object(
        name => kit.beside(capture_sql.source_table, kit.object_name('capture', capture_sql.source_table)),
        arguments => '', returns => 'trigger', definer => true, pinned_path => 'pg_catalog, pg_temp',
        source => kit.render($t$
BEGIN
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.{{key}} IS DISTINCT FROM NEW.{{key}}) THEN
        INSERT INTO {{removed}} (row_id) VALUES (OLD.{{key}});
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO {{recorded}} (row_id{{columns}}) VALUES (NEW.{{key}}{{new_values}});
    END IF;
    RETURN NULL;
END
$t$, jsonb_build_object('key', format('%I', capture_sql.key_column),
                        'removed', kit.relation(capture_sql.removed_table), 'recorded', kit.relation(capture_sql.recorded_table),
                        'columns', coalesce(', ' || c.columns, ''), 'new_values', coalesce(', ' || c.new_values, '')))) o
$$;

-- (Re)makes the capture of a table (kit.capture_sql) and its triggers, ENABLE
-- ALWAYS, so that they fire under session_replication_role = replica too:
-- capture_<t> after each row written, no_truncate_<t> before a TRUNCATE.
-- The caller holds a lock on the table that keeps writers out.
CREATE OR REPLACE FUNCTION kit.capture(source_table text, key_column text, recorded_table text, removed_table text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _source regclass := kit.relation(capture.source_table)::regclass;
    _name   text;
BEGIN
    EXECUTE (kit.capture_sql(capture.source_table, capture.key_column, capture.recorded_table, capture.removed_table)).create_sql;
    FOREACH _name IN ARRAY ARRAY[kit.object_name('capture', capture.source_table), kit.object_name('no_truncate', capture.source_table)] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', _name, _source);
    END LOOP;
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION %s()',
                   kit.object_name('capture', capture.source_table), _source,
                   kit.beside(capture.source_table, kit.object_name('capture', capture.source_table)));
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION kit.refuse_uncaptured_truncate()',
                   kit.object_name('no_truncate', capture.source_table), _source);
    EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', _source, kit.object_name('capture', capture.source_table));
    EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', _source, kit.object_name('no_truncate', capture.source_table));
END
$$;

-- Removes the capture of a table (its triggers, briefly under ACCESS
-- EXCLUSIVE, and its function); the table is left as it is otherwise.
CREATE OR REPLACE FUNCTION kit.drop_capture(source_table text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _source regclass := to_regclass(kit.relation(drop_capture.source_table));
BEGIN
    IF _source IS NOT NULL THEN
        PERFORM kit.lock_briefly(ARRAY[_source], 'ACCESS EXCLUSIVE', 'end the capture of ' || drop_capture.source_table);
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', kit.object_name('capture', drop_capture.source_table), _source);
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', kit.object_name('no_truncate', drop_capture.source_table), _source);
    END IF;
    EXECUTE format('DROP FUNCTION IF EXISTS %s()', kit.beside(drop_capture.source_table, kit.object_name('capture', drop_capture.source_table)));
END
$$;

-- The statement trigger function that refuses a TRUNCATE of a table under
-- capture: a row-level capture never sees it, and its rows would stay in
-- the read version.
CREATE OR REPLACE FUNCTION kit.refuse_uncaptured_truncate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'KT006',
        MESSAGE = format('TRUNCATE of %I.%I is not captured: it is under the kit (kit.baseline)', TG_TABLE_SCHEMA, TG_TABLE_NAME),
        SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME,
        HINT = 'DELETE its rows instead (each becomes a fact), or end the capture first (kit.end_capture).';
END
$$;

-- The statement trigger function that keeps a table read-only once
-- kit.end_capture ended its capture: its rows live on as facts, and a write
-- here would reach no read version.
CREATE OR REPLACE FUNCTION kit.refuse_write_after_capture()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'KT001',
        MESSAGE = format('%I.%I is read-only: its rows live on as facts (kit.end_capture), so %s is not allowed',
                         TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP),
        SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME,
        HINT = 'Write the facts instead (its recorded and removed write tables, kit.baseline).';
END
$$;

-- Brings an existing table with rows under the kit, online, in the caller's
-- transaction (a migration's): makes
--   * write table recorded_table (<table>_recorded_<N>): row_id (the table's
--     key) and every other column of the table, one fact per row as it is
--     now, and per insert or update to come;
--   * write table removed_table (<table>_removed_<N>): row_id, a fact per
--     delete to come;
--   * read version read_table (<table>_<N>, id = the key), building, with the
--     table's columns, NOT NULLs, CHECK and UNIQUE rules, an upsert feed from
--     the first and a delete feed from the second, and schema version N of
--     the domain that reads it (unless with_schema_version is false, for
--     several tables in one version: create it after them);
--   * a capture of the table (kit.capture_sql, ENABLE ALWAYS): from this
--     transaction's commit on, every insert, update and delete becomes a
--     fact, until kit.end_capture; a TRUNCATE is refused.
-- With partition_size, both write tables are partitioned by seq range,
-- partition_size seqs a partition (kit.create_write_table, kit.add_partitions):
-- for a table whose facts are to grow for years.
-- Its rows are copied as facts afterwards, by the backfill (kit.backfill, the
-- afterMigrate callback), in short batches that each commit
-- (kit.baseline_step), up to the highest key the table had here; then the
-- backfill fills the read version and makes it live, as any other.
--
-- Takes SHARE ROW EXCLUSIVE on the table (briefly: kit.lock_briefly, 50 ms
-- a try) until the migration commits: writers wait that long, so keep that
-- migration to this call. Refuses (KT006, nothing made) a table it cannot
-- take (kit.baseline_refusal).
CREATE OR REPLACE FUNCTION kit.baseline(source_table text, schema_version integer DEFAULT 0, read_table text DEFAULT NULL,
                                        recorded_table text DEFAULT NULL, removed_table text DEFAULT NULL,
                                        id_space text DEFAULT NULL, with_schema_version boolean DEFAULT true,
                                        domain text DEFAULT current_schema(), partition_size bigint DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _source  regclass;
    _name    text;
    _key     text;
    _why     text;
    _by_seq  text := '';
BEGIN
    baseline.source_table := kit.table_key(baseline.source_table, kit.require_domain(baseline.domain));
    _source := to_regclass(kit.relation(baseline.source_table));
    IF _source IS NULL THEN
        PERFORM kit.usage_error(format('No such table: %s', baseline.source_table),
                                'Name the existing table to bring under the kit, with its schema unless it is in the migration''s (''crm.customers''); nothing was changed.');
    END IF;
    IF baseline.schema_version IS NULL OR baseline.schema_version < 0 THEN
        PERFORM kit.usage_error(format('A schema version is 0 or more (Table: %s, schema_version: %s)', baseline.source_table,
                                       coalesce(baseline.schema_version::text, 'NULL')));
    END IF;
    _why := kit.baseline_refusal(_source, baseline.source_table);
    IF _why IS NOT NULL THEN
        PERFORM kit.usage_error(format('Cannot bring %s under the kit: %s', baseline.source_table, _why),
                                'Nothing was changed.');
    END IF;
    _name := kit.key_table(baseline.source_table);
    _key := (SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
              WHERE i.indrelid = _source AND i.indisprimary);
    baseline.read_table := kit.table_key(coalesce(baseline.read_table, format('%s_%s', _name, baseline.schema_version)), kit.key_schema(baseline.source_table));
    baseline.recorded_table := kit.table_key(coalesce(baseline.recorded_table, format('%s_recorded_%s', _name, baseline.schema_version)),
                                             kit.key_schema(baseline.source_table));
    baseline.removed_table := kit.table_key(coalesce(baseline.removed_table, format('%s_removed_%s', _name, baseline.schema_version)),
                                            kit.key_schema(baseline.source_table));
    baseline.id_space := coalesce(baseline.id_space, _name || '_change');
    FOREACH _name IN ARRAY ARRAY[baseline.read_table, baseline.recorded_table, baseline.removed_table] LOOP
        IF to_regclass(kit.relation(_name)) IS NOT NULL THEN
            PERFORM kit.usage_error(format('Cannot bring %s under the kit: %s exists already', baseline.source_table, _name),
                                    'Name the tables to make (read_table => ..., recorded_table => ..., removed_table => ...); nothing was changed.');
        END IF;
    END LOOP;
    IF baseline.with_schema_version AND EXISTS (SELECT FROM kit.schema_version s WHERE s.domain = kit.key_schema(baseline.source_table)
                                                                                  AND s.version = baseline.schema_version) THEN
        PERFORM kit.usage_error(format('Cannot bring %s under the kit as schema version %s: domain %s has that version already',
                                       baseline.source_table, baseline.schema_version, kit.key_schema(baseline.source_table)),
                                'Name the next version (schema_version => N), or give with_schema_version => false and name its read table in the next version''s kit.create_schema_version; nothing was changed.');
    END IF;
    IF baseline.partition_size IS NOT NULL THEN
        IF baseline.partition_size < 1 THEN
            PERFORM kit.usage_error(format('partition_size must be positive (Table: %s, Given: %s)', baseline.source_table, baseline.partition_size),
                                    'partition_size is how many seqs each partition of its write tables takes (partition_size => 1000000); leave it out for plain write tables. Nothing was changed.');
        END IF;
        -- kit.create_write_table takes a table partitioned by seq that declares seq and recorded_at.
        _by_seq := ', seq bigint, recorded_at timestamptz) PARTITION BY RANGE (seq';
    END IF;
    -- The names of the capture's objects, checked before anything is made.
    PERFORM kit.object_name('capture', baseline.source_table), kit.object_name('no_truncate', baseline.source_table),
            kit.object_name('read_only', baseline.source_table);

    -- No writer of the table from here to commit: the capture starts at one moment, and the
    -- copy goes up to the highest key there is at that moment (a later row is captured).
    PERFORM kit.lock_briefly(ARRAY[_source], 'SHARE ROW EXCLUSIVE', 'bring ' || baseline.source_table || ' under the kit',
                             lock_timeout => '50ms', attempts => 40);

    EXECUTE format('CREATE TABLE %s (id bigint NOT NULL, row_id bigint NOT NULL%s%s)', kit.relation(baseline.recorded_table),
                   coalesce(', ' || nullif(kit.baseline_columns(_source, _key, true), ''), ''), _by_seq);
    PERFORM kit.create_write_table(baseline.recorded_table, baseline.id_space, fact => kit.key_table(baseline.source_table) || '_recorded',
                                   schema_version => baseline.schema_version, domain => kit.key_schema(baseline.source_table),
                                   partition_size => baseline.partition_size);
    EXECUTE format('CREATE TABLE %s (id bigint NOT NULL, row_id bigint NOT NULL%s)', kit.relation(baseline.removed_table), _by_seq);
    PERFORM kit.create_write_table(baseline.removed_table, baseline.id_space, fact => kit.key_table(baseline.source_table) || '_removed',
                                   schema_version => baseline.schema_version, domain => kit.key_schema(baseline.source_table),
                                   partition_size => baseline.partition_size);
    EXECUTE format('CREATE TABLE %s (id bigint PRIMARY KEY%s%s)', kit.relation(baseline.read_table),
                   coalesce(', ' || nullif(kit.baseline_columns(_source, _key, true), ''), ''),
                   coalesce(', ' || nullif(kit.baseline_rules(_source, _key), ''), ''));
    PERFORM kit.create_read_version(baseline.read_table, kit.key_table(baseline.source_table), domain => kit.key_schema(baseline.source_table));
    PERFORM kit.add_feed(baseline.recorded_table, baseline.read_table, key_column => 'row_id', kind => 'upsert',
                         domain => kit.key_schema(baseline.source_table));
    PERFORM kit.add_feed(baseline.removed_table, baseline.read_table, key_column => 'row_id', kind => 'delete',
                         domain => kit.key_schema(baseline.source_table));
    IF baseline.with_schema_version THEN
        PERFORM kit.create_schema_version(baseline.schema_version, ARRAY[baseline.read_table], domain => kit.key_schema(baseline.source_table));
    END IF;

    PERFORM kit.capture(baseline.source_table, _key, baseline.recorded_table, baseline.removed_table);

    EXECUTE format('INSERT INTO kit.baseline_table (source_table, key_column, recorded_table, removed_table, read_table, copy_until) '
                   'SELECT $1, $2, $3, $4, $5, max(%I) FROM %s', _key, _source)
      USING baseline.source_table, _key, baseline.recorded_table, baseline.removed_table, baseline.read_table;
END
$$;

-- One batch of a baseline's copy, in the caller's transaction: the next
-- `batch_size` rows of the table by key, up to copy_until, become facts of
-- its recorded table, and the catalog records how far it got; when no row is
-- left, the copy is done (state capturing). The rows are read FOR SHARE: a
-- change of one of them in flight is waited for and copied as it committed,
-- and one to come waits for this batch, so its fact comes after the copy's.
-- Writers of those rows wait at most one batch.
CREATE OR REPLACE FUNCTION kit.baseline_step(source_table text, batch_size integer DEFAULT 1000,
                                             OUT copied bigint, OUT copied_to bigint, OUT copy_until bigint, OUT state text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _baseline record;
    _columns  text;
    _last     bigint;
BEGIN
    SELECT * INTO _baseline FROM kit.baseline_table b WHERE b.source_table = baseline_step.source_table FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM kit.usage_error(format('Not a table brought under the kit: %s', baseline_step.source_table));
    END IF;
    copy_until := _baseline.copy_until;
    state := _baseline.state;
    copied := 0;
    copied_to := _baseline.copied_to;
    IF _baseline.state <> 'copying' THEN
        RETURN;
    END IF;
    _columns := (SELECT string_agg(format('%I', a.name), ', ' ORDER BY a.n)
                   FROM unnest(kit.baseline_row_columns(_baseline.recorded_table)) WITH ORDINALITY AS a (name, n));
    EXECUTE format($q$
        WITH rows AS (
            SELECT s.%1$I AS row_id%2$s FROM %3$s AS s
             WHERE s.%1$I > $1 AND s.%1$I <= $2
             ORDER BY s.%1$I
             LIMIT $3
               FOR SHARE),
        facts AS (
            INSERT INTO %4$s (row_id%2$s) SELECT r.* FROM rows AS r ORDER BY r.row_id RETURNING row_id)
        SELECT count(*), max(row_id) FROM facts
        $q$, _baseline.key_column, coalesce(', ' || _columns, ''), kit.relation(_baseline.source_table),
        kit.relation(_baseline.recorded_table))
      INTO copied, _last
      USING coalesce(_baseline.copied_to, -9223372036854775808), coalesce(_baseline.copy_until, -9223372036854775808),
            baseline_step.batch_size;
    IF copied = 0 THEN
        state := 'capturing';
        UPDATE kit.baseline_table b SET state = 'capturing', copied_at = now() WHERE b.source_table = baseline_step.source_table;
    ELSE
        copied_to := _last;
        UPDATE kit.baseline_table b SET copied_to = _last, rows_copied = b.rows_copied + baseline_step.copied
         WHERE b.source_table = baseline_step.source_table;
    END IF;
END
$$;

-- kit.baseline_step with its error returned instead of raised (the backfill
-- records it on the baseline's read version, as a failed backfill, and goes
-- on with the other tables).
CREATE OR REPLACE FUNCTION kit.try_baseline_step(source_table text, batch_size integer,
                                                 OUT copied bigint, OUT copied_to bigint, OUT copy_until bigint, OUT state text,
                                                 OUT error_state text, OUT error_message text, OUT error_hint text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT s.copied, s.copied_to, s.copy_until, s.state INTO copied, copied_to, copy_until, state
      FROM kit.baseline_step(try_baseline_step.source_table, try_baseline_step.batch_size) AS s;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS error_state = RETURNED_SQLSTATE, error_message = MESSAGE_TEXT, error_hint = PG_EXCEPTION_HINT;
END
$$;

-- How many rows of a baseline's table its copy has still to go through, for
-- progress reports (counted: once per backfill).
CREATE OR REPLACE FUNCTION kit.baseline_rows_left(source_table text)
RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _baseline record;
    _rows     bigint;
BEGIN
    SELECT * INTO _baseline FROM kit.baseline_table b WHERE b.source_table = baseline_rows_left.source_table;
    EXECUTE format('SELECT count(*) FROM %s AS s WHERE s.%I > $1 AND s.%2$I <= $2', kit.relation(_baseline.source_table), _baseline.key_column)
       INTO _rows USING coalesce(_baseline.copied_to, -9223372036854775808), coalesce(_baseline.copy_until, -9223372036854775808);
    RETURN _rows;
END
$$;

-- The rows in which a table under capture and its read version differ, as of
-- the caller's snapshot, over the columns its capture records: 'only in the
-- captured table' (the table's row as it is, id for its key: its read row is
-- missing or has other values) and 'not in the captured table' (the read row).
-- Every captured change writes both in its own transaction, so in one
-- snapshot they are equal: a difference is a change the capture missed (its
-- trigger disabled or dropped for a while, a write with it bypassed). At most
-- max_rows (NULL: all). kit.verify_read_table lists them; kit.recapture
-- records them as facts.
CREATE OR REPLACE FUNCTION kit.uncaptured_rows(source_table text, max_rows integer DEFAULT NULL)
RETURNS TABLE (difference text, row_data jsonb)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _baseline record;
BEGIN
    SELECT * INTO _baseline FROM kit.baseline_table b WHERE b.source_table = uncaptured_rows.source_table;
    IF NOT FOUND THEN
        PERFORM kit.usage_error(format('Not a table brought under the kit: %s', coalesce(uncaptured_rows.source_table, 'NULL')),
                                'Name it as kit.baseline_table.source_table does (crm.customers, or customers in public).');
    END IF;
    IF _baseline.state <> 'capturing' OR to_regclass(kit.relation(_baseline.source_table)) IS NULL THEN
        PERFORM kit.usage_error(format('%s and its read version %s are not both current: its copy is %s', uncaptured_rows.source_table,
                                       _baseline.read_table, CASE _baseline.state WHEN 'copying' THEN 'not done' ELSE 'over, and its capture ended' END),
                                'They are compared while the capture runs, from the end of the copy (kit backfill) to kit.end_capture.');
    END IF;
    RETURN QUERY EXECUTE format($q$
        WITH captured AS (SELECT s.%1$I AS id%2$s FROM %3$s AS s),
             projected AS (SELECT r.id%2$s FROM %4$s AS r)
        (SELECT 'only in the captured table', to_jsonb(c) FROM (SELECT * FROM captured EXCEPT ALL SELECT * FROM projected) AS c)
        UNION ALL
        (SELECT 'not in the captured table', to_jsonb(p) FROM (SELECT * FROM projected EXCEPT ALL SELECT * FROM captured) AS p)
        ORDER BY 2 LIMIT $1
        $q$, _baseline.key_column,
        kit.baseline_column_list(_baseline.recorded_table),
        kit.relation(_baseline.source_table), kit.relation(_baseline.read_table))
      USING uncaptured_rows.max_rows;
END
$$;

-- Records as facts the changes the capture of a table missed
-- (kit.uncaptured_rows): a removed fact for each read row whose key the table
-- no longer has, then a recorded fact of each row as the table has it now
-- where its read row is missing or has other values; the feeds make the read
-- version equal to the table again. For a table whose copy is done and whose
-- read version is live (KT006 otherwise), while the app still writes the
-- table: once it writes facts instead, the table is out of date, and its rows
-- recorded now would come after the newer facts (end the capture then). Holds SHARE ROW EXCLUSIVE on the
-- table (writers wait) until the caller commits. Returns how many facts of
-- each kind it wrote.
CREATE OR REPLACE FUNCTION kit.recapture(source_table text, domain text DEFAULT current_schema(),
                                         OUT recorded bigint, OUT removed bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _baseline record;
    _columns  text;
BEGIN
    IF recapture.source_table IS NULL THEN
        PERFORM kit.usage_error('Name the table to recapture: kit.recapture(''customers'')', 'Nothing was changed.');
    END IF;
    recapture.source_table := kit.table_key(recapture.source_table, kit.require_domain(recapture.domain));
    SELECT b.*, v.state AS read_state INTO _baseline FROM kit.baseline_table b JOIN kit.read_version v ON v.read_table = b.read_table
     WHERE b.source_table = recapture.source_table;
    IF NOT FOUND THEN
        PERFORM kit.usage_error(format('Not a table brought under the kit: %s', recapture.source_table),
                                'kit.baseline brings a table under the kit; nothing was changed.');
    END IF;
    IF _baseline.state <> 'capturing' OR _baseline.read_state <> 'live' OR to_regclass(kit.relation(recapture.source_table)) IS NULL THEN
        PERFORM kit.usage_error(format('Cannot recapture %s: its copy is %s and %s is %s', recapture.source_table,
                                       CASE _baseline.state WHEN 'copying' THEN 'not done' WHEN 'ended' THEN 'over, and its capture ended' ELSE 'done' END,
                                       _baseline.read_table, _baseline.read_state),
                                'A recapture compares the table under capture with its live read version: let the backfill finish first (kit backfill); nothing was changed.');
    END IF;
    PERFORM kit.lock_briefly(ARRAY[kit.relation(recapture.source_table)::regclass], 'SHARE ROW EXCLUSIVE',
                             'recapture ' || recapture.source_table, lock_timeout => '50ms', attempts => 40);
    _columns := kit.baseline_column_list(_baseline.recorded_table);
    -- Removals first: a row now holding a value another row held (a unique rule) comes after that row is gone.
    EXECUTE format($q$
        WITH facts AS (
            INSERT INTO %1$s (row_id)
            SELECT r.id FROM %2$s AS r WHERE NOT EXISTS (SELECT FROM %3$s AS s WHERE s.%4$I = r.id) ORDER BY r.id
            RETURNING 1)
        SELECT count(*) FROM facts
        $q$, kit.relation(_baseline.removed_table), kit.relation(_baseline.read_table), kit.relation(recapture.source_table),
        _baseline.key_column) INTO removed;
    EXECUTE format($q$
        WITH facts AS (
            INSERT INTO %1$s (row_id%2$s)
            SELECT c.* FROM (SELECT s.%3$I AS id%2$s FROM %4$s AS s EXCEPT SELECT r.id%2$s FROM %5$s AS r) AS c ORDER BY c.id
            RETURNING 1)
        SELECT count(*) FROM facts
        $q$, kit.relation(_baseline.recorded_table), _columns, _baseline.key_column, kit.relation(recapture.source_table),
        kit.relation(_baseline.read_table)) INTO recorded;
    IF recorded + removed > 0 THEN
        RAISE NOTICE 'kit: % recaptured: % rows recorded as they are, % removals recorded', recapture.source_table, recorded, removed;
    END IF;
END
$$;

-- The tidy-up of a baseline, once the apps write facts: stops the capture
-- and leaves the table read-only (KT001 on any write), or drops it
-- (drop_table; the key's sequence stays, for the apps' new keys). Refuses
-- (KT006) a table whose copy is not done or whose read version is not live;
-- one whose read version was aborted goes back to its app as it was. Takes ACCESS EXCLUSIVE on the table briefly
-- (kit.lock_briefly): stop its writers first.
CREATE OR REPLACE FUNCTION kit.end_capture(source_table text, drop_table boolean DEFAULT false, domain text DEFAULT current_schema())
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _baseline  record;
    _source    regclass;
    _sequence  record;
    _kept      text[] := '{}';
    _statement text;
BEGIN
    end_capture.source_table := kit.table_key(end_capture.source_table, kit.require_domain(end_capture.domain));
    SELECT b.*, v.state AS read_state INTO _baseline FROM kit.baseline_table b JOIN kit.read_version v ON v.read_table = b.read_table
     WHERE b.source_table = end_capture.source_table FOR UPDATE OF b;
    IF NOT FOUND THEN
        PERFORM kit.usage_error(format('Not a table brought under the kit: %s', end_capture.source_table),
                                'kit.baseline brings a table under the kit; nothing was changed.');
    END IF;
    _source := to_regclass(kit.relation(end_capture.source_table));
    IF _baseline.read_state = 'aborted' AND _baseline.state <> 'ended' THEN
        -- Its read version was dropped (kit.abort_read_version): the table goes back to its app as it
        -- was, and may be brought under the kit again. The write tables and their facts stay.
        PERFORM kit.drop_capture(end_capture.source_table);
        DELETE FROM kit.baseline_table b WHERE b.source_table = end_capture.source_table;
        RAISE NOTICE 'kit: % is no longer captured: its read version % was aborted; bring it under the kit again with a new schema version',
                     end_capture.source_table, _baseline.read_table;
        RETURN;
    END IF;
    IF _baseline.state <> 'capturing' OR _baseline.read_state <> 'live' THEN
        PERFORM kit.usage_error(format('The capture of %s cannot end yet: its copy is %s and %s is %s', end_capture.source_table,
                                       CASE _baseline.state WHEN 'copying' THEN 'not done' WHEN 'ended' THEN 'over, and its capture ended' ELSE 'done' END,
                                       _baseline.read_table, _baseline.read_state),
                                'Let the backfill finish (kit backfill), move the apps to writing facts, then end the capture; nothing was changed.');
    END IF;
    PERFORM kit.drop_capture(end_capture.source_table);
    IF _source IS NOT NULL THEN
        IF end_capture.drop_table THEN
            -- The key's sequence outlives the table: the apps take new keys from it. A serial's is
            -- set free; an identity's goes with the table, so one of its name takes over where it was.
            FOR _sequence IN SELECT d.objid::regclass AS sequence, d.deptype, pg_sequence_last_value(d.objid::regclass) AS last_value
                               FROM pg_depend d
                              WHERE d.refobjid = _source AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
                                AND EXISTS (SELECT FROM pg_class q WHERE q.oid = d.objid AND q.relkind = 'S') LOOP
                IF _sequence.deptype = 'a' THEN
                    EXECUTE format('ALTER SEQUENCE %s OWNED BY NONE', _sequence.sequence);
                ELSE
                    _kept := _kept || ARRAY[format('CREATE SEQUENCE %s AS bigint START %s', _sequence.sequence, coalesce(_sequence.last_value + 1, 1))];
                END IF;
            END LOOP;
            EXECUTE format('DROP TABLE %s', _source);
            FOREACH _statement IN ARRAY _kept LOOP
                EXECUTE _statement;
            END LOOP;
        ELSE
            EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s FOR EACH STATEMENT '
                           'EXECUTE FUNCTION kit.refuse_write_after_capture()', kit.object_name('read_only', end_capture.source_table), _source);
            EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', _source, kit.object_name('read_only', end_capture.source_table));
        END IF;
    END IF;
    UPDATE kit.baseline_table b SET state = 'ended', ended_at = now() WHERE b.source_table = end_capture.source_table;
END
$$;
