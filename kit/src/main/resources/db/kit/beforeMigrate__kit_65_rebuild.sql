-- Kit script 65 rebuild (run by Flyway before every migrate, in file-name order).
-- Online rebuild of a live read table: a shadow backfilled like a new
-- version, swapped in when complete (kit.finish_backfill).
-- Idempotent: CREATE OR REPLACE, safe to run again.

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
       AND d.refobjid = kit.relation(rebuild_blockers.read_table)::regclass AND c.oid <> d.refobjid
    UNION
    SELECT format('foreign key %s on %s', k.conname, k.conrelid::regclass)
      FROM pg_constraint k
     WHERE k.contype = 'f' AND k.confrelid = kit.relation(rebuild_blockers.read_table)::regclass
       AND k.conrelid <> k.confrelid
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
SET search_path = pg_catalog, pg_temp
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
    PERFORM kit.require_every_fact(begin_rebuild.read_table, 'rebuild ' || begin_rebuild.read_table);
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
    EXECUTE format('CREATE TABLE %s (LIKE %s INCLUDING ALL)', kit.relation(_shadow), kit.relation(begin_rebuild.read_table));
    -- A rule dropped from the live table since it went live is put back on the shadow: the
    -- rebuild then refuses, and names, the facts that break it.
    PERFORM kit.add_missing_read_rules(begin_rebuild.read_table, kit.relation(_shadow)::regclass);
    INSERT INTO kit.read_version (read_table, entity, rebuild_of)
    SELECT _shadow, v.entity, v.read_table FROM kit.read_version v WHERE v.read_table = begin_rebuild.read_table;
    INSERT INTO kit.read_reference (read_table, column_name, referenced_table)
    SELECT _shadow, rr.column_name, rr.referenced_table FROM kit.read_reference rr WHERE rr.read_table = begin_rebuild.read_table;
    FOR _feed IN SELECT * FROM kit.feed f WHERE f.read_table = begin_rebuild.read_table ORDER BY f.position LOOP
        EXECUTE (kit.projection_sql(write_table => _feed.write_table, read_table => begin_rebuild.read_table,
                                    key_column => _feed.key_column, target => _shadow)).create_sql;
        INSERT INTO kit.feed (write_table, read_table, kind, key_column, projection, columns, filter, statement)
        VALUES (_feed.write_table, _shadow, _feed.kind, _feed.key_column, kit.object_name('projection', _feed.write_table, _shadow),
                _feed.columns, _feed.filter, _feed.statement);
    END LOOP;
    RETURN _shadow;
END
$$;

-- Rebuilds a live read table online: begin_rebuild, then the backfill of the
-- shadow, which swaps it in under a short lock when complete. The table is
-- in the schema its name gives, else in `domain`, the caller's current schema.
CREATE OR REPLACE PROCEDURE kit.rebuild(read_table text, domain text DEFAULT current_schema())
LANGUAGE plpgsql
AS $$
DECLARE
    _shadow text;
BEGIN
    _shadow := kit.begin_rebuild(kit.table_key(rebuild.read_table, rebuild.domain));
    COMMIT;
    CALL kit.backfill(_shadow, domain => kit.key_schema(_shadow));
END
$$;
