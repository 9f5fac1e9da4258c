-- Kit script 55 feeds_and_triggers (run by Flyway before every migrate, in file-name order).
-- Declaring feeds, the triggers the kit keeps on each write table, and the
-- regeneration of every generated function and trigger from the catalog
-- (kit.regenerate_generated_code), which the upgrade and kit.repair() run.
-- Idempotent: CREATE OR REPLACE, safe to run again.

-- The triggers the kit puts on a write table, each ENABLE ALWAYS (so that
-- writes under session_replication_role = replica are guarded, get their ids
-- and reach the read tables too): the append-only guard, the id claimer and
-- the id assigner, and the feed trigger while the table feeds a live read
-- version.
CREATE OR REPLACE FUNCTION kit.expected_triggers(write_table text)
RETURNS TABLE (trigger_name text, enabled "char")
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT kit.object_name('append_only', expected_triggers.write_table), 'A'::"char"
    UNION ALL
    SELECT kit.object_name('accept_id', expected_triggers.write_table), 'A'::"char"
    UNION ALL
    SELECT kit.object_name('assign_id', expected_triggers.write_table), 'A'::"char"
    UNION ALL
    SELECT kit.object_name('feed', expected_triggers.write_table), 'A'::"char"
     WHERE EXISTS (SELECT FROM kit.feed f JOIN kit.read_version v ON v.read_table = f.read_table
                    WHERE f.write_table = expected_triggers.write_table AND v.state = 'live' AND kit.domain_table_exists(f.read_table))
$$;

-- Makes write_table's feed trigger apply exactly its live feeds
-- (kit.feed_trigger_sql): replaces the trigger function, creates the trigger
-- when the first feed goes live and drops both when the last one goes. The
-- caller holds a lock on the write table that keeps writers out (add_feed,
-- finish_backfill, retire, the regeneration).
CREATE OR REPLACE FUNCTION kit.regenerate_feed_trigger(write_table text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _trigger text := kit.object_name('feed', regenerate_feed_trigger.write_table);
    _feeds   record;
BEGIN
    SELECT * INTO _feeds FROM kit.feed_trigger_sql(regenerate_feed_trigger.write_table);
    IF _feeds.create_sql IS NULL THEN
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', _trigger, kit.relation(regenerate_feed_trigger.write_table));
        EXECUTE format('DROP FUNCTION IF EXISTS %s()', kit.beside(regenerate_feed_trigger.write_table, _trigger));
        RETURN;
    END IF;
    EXECUTE _feeds.create_sql;
    IF NOT EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = kit.relation(regenerate_feed_trigger.write_table)::regclass
                      AND t.tgname = _trigger) THEN
        EXECUTE _feeds.trigger_sql;
    END IF;
END
$$;

-- Drops every feed into read_table: projection functions and catalog rows,
-- and, when read_table is live, its place in its write tables' feed
-- triggers (a building version's feeds are in none). Shared by retire, abort
-- and the swap at the end of an online rebuild.
CREATE OR REPLACE FUNCTION kit.drop_feeds(read_table text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _feed record;
    _live boolean := EXISTS (SELECT FROM kit.read_version v WHERE v.read_table = drop_feeds.read_table AND v.state = 'live');
BEGIN
    FOR _feed IN DELETE FROM kit.feed f WHERE f.read_table = drop_feeds.read_table
                 RETURNING f.write_table, f.projection LOOP
        IF _live THEN
            PERFORM kit.regenerate_feed_trigger(_feed.write_table);
        END IF;
        EXECUTE format('DROP FUNCTION %s(bigint, bigint)', kit.beside(_feed.write_table, _feed.projection));
    END LOOP;
END
$$;

-- Checks a feed's computed columns and filter (see kit.add_feed) before
-- anything is made, each alone, so that a refusal (KT006) names it: a column
-- that is not a read column the feed may set, an expression that does not
-- compile against the write table's row or whose value does not fit its
-- column (planned as the feed's own INSERT or UPDATE, over no row), a filter
-- that does not compile or is not boolean.
CREATE OR REPLACE FUNCTION kit.check_feed_columns(write_table text, read_table text, kind text, columns jsonb, filter text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _column record;
    _probe  refcursor;
BEGIN
    IF jsonb_typeof(check_feed_columns.columns) IS DISTINCT FROM 'object' THEN
        PERFORM kit.usage_error(format('A feed''s columns are a JSON object of column: expression (Feed: %s into %s, Given: %s)',
                                       check_feed_columns.write_table, check_feed_columns.read_table, check_feed_columns.columns),
                                'For example columns => ''{"email": "lower(f.email)"}''; nothing was changed.');
    END IF;
    IF check_feed_columns.filter IS NOT NULL THEN
        PERFORM kit.checked_sql_text(check_feed_columns.filter, format('The filter of the feed from %s into %s',
                                                                       check_feed_columns.write_table, check_feed_columns.read_table));
    END IF;
    FOR _column IN SELECT c.key AS name, c.value AS expression, a.attname IS NOT NULL AS settable, a.attnotnull AS not_null
                     FROM jsonb_each(check_feed_columns.columns) c
                     LEFT JOIN pg_attribute a ON a.attrelid = kit.relation(check_feed_columns.read_table)::regclass
                          AND a.attname = c.key AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
                          AND a.attname NOT IN ('id', 'last_fact_seq', 'first_fact_seq')
                    ORDER BY c.key LOOP
        IF NOT _column.settable OR jsonb_typeof(_column.expression) <> 'string' THEN
            PERFORM kit.usage_error(
                format('A feed computes only columns of its read table, each from an expression in a string: %s (Feed: %s into %s)',
                       _column.name, check_feed_columns.write_table, check_feed_columns.read_table),
                'Name a column of the read table that is not id, the kit''s (last_fact_seq, first_fact_seq) or generated; nothing was changed.');
        END IF;
        PERFORM kit.checked_sql_text(_column.expression #>> '{}', format('The expression of column %s in the feed from %s into %s',
                                                                        _column.name, check_feed_columns.write_table, check_feed_columns.read_table));
        IF check_feed_columns.kind = 'accumulate' AND NOT _column.not_null THEN
            PERFORM kit.usage_error(format('An accumulating feed adds to NOT NULL columns only: %s of %s is nullable, and NULL plus anything stays NULL (Feed: %s into %s)',
                                           _column.name, check_feed_columns.read_table, check_feed_columns.write_table, check_feed_columns.read_table),
                                    format('Make it NOT NULL with a DEFAULT (ALTER TABLE %s ALTER COLUMN %I SET DEFAULT 0, ALTER COLUMN %I SET NOT NULL) before the feed; nothing was changed.',
                                           kit.relation(check_feed_columns.read_table), _column.name, _column.name));
        END IF;
        BEGIN
            -- Parsed first by PostgreSQL alone, as a cursor's query, which it refuses (42P11) if it is
            -- more than one statement before it runs any; then planned as the feed's own statement.
            OPEN _probe FOR EXECUTE format('SELECT (%s) FROM %s AS f', _column.expression #>> '{}', kit.relation(check_feed_columns.write_table));
            CLOSE _probe;
            EXECUTE CASE check_feed_columns.kind
                WHEN 'insert' THEN format('INSERT INTO %s (%I) SELECT (%s) FROM %s AS f WHERE false', kit.relation(check_feed_columns.read_table),
                                          _column.name, _column.expression #>> '{}', kit.relation(check_feed_columns.write_table))
                WHEN 'accumulate' THEN format('UPDATE %s AS r SET %2$I = r.%2$I + a.v FROM (SELECT sum((%3$s)) AS v FROM %4$s AS f WHERE false) AS a WHERE false',
                                              kit.relation(check_feed_columns.read_table), _column.name, _column.expression #>> '{}',
                                              kit.relation(check_feed_columns.write_table))
                ELSE format('UPDATE %s AS r SET %I = (%s) FROM %s AS f WHERE false', kit.relation(check_feed_columns.read_table),
                            _column.name, _column.expression #>> '{}', kit.relation(check_feed_columns.write_table)) END;
        EXCEPTION WHEN OTHERS THEN
            PERFORM kit.usage_error(format('Feed from %s into %s cannot compute column %s from %s: %s (SQLSTATE %s)',
                                           check_feed_columns.write_table, check_feed_columns.read_table, _column.name,
                                           _column.expression #>> '{}', SQLERRM, SQLSTATE),
                                    'Write the expression over the fact f (its columns as f.name), with a value of the column''s type; '
                                    'functions outside pg_catalog are named with their schema. Nothing was changed.');
        END;
    END LOOP;
    IF check_feed_columns.filter IS NOT NULL THEN
        BEGIN
            OPEN _probe FOR EXECUTE format('SELECT FROM %s AS f WHERE (%s)', kit.relation(check_feed_columns.write_table), check_feed_columns.filter);
            CLOSE _probe;
        EXCEPTION WHEN OTHERS THEN
            PERFORM kit.usage_error(format('Feed from %s into %s cannot take its filter %s: %s (SQLSTATE %s)',
                                           check_feed_columns.write_table, check_feed_columns.read_table, check_feed_columns.filter,
                                           SQLERRM, SQLSTATE),
                                    'Write the filter as a condition over the fact f, e.g. filter => ''f.role = ''''admin''''''; nothing was changed.');
        END;
    END IF;
END
$$;

-- Checks a sql feed's statement (see kit.add_feed), which kit.checked_sql_text
-- found to be one statement as text: what it names (its facts and target,
-- neither in a string, where the kit would put them all the same; the
-- row's last_fact_seq, a check of the text only), then as PostgreSQL reads
-- it, over the write table's rows as {{facts}}, without running it: planned
-- alone (EXPLAIN, opened as a cursor, which PostgreSQL refuses before it runs
-- anything if the text is more than one statement), it must compile, and
-- every table it writes (a data-modifying WITH too) must be its target, which
-- it writes at its top: an INSERT, UPDATE, DELETE or MERGE into {{target}}.
-- What functions it calls may do is the migration's own business.
CREATE OR REPLACE FUNCTION kit.check_feed_statement(write_table text, read_table text, statement text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _what    text := format('The statement of the feed from %s into %s', check_feed_statement.write_table, check_feed_statement.read_table);
    _outline text := kit.sql_outline(check_feed_statement.statement);
    _probe   refcursor;
    _plan    jsonb;
    _fault   text;
BEGIN
    _fault := CASE
        WHEN EXISTS (SELECT FROM regexp_matches(check_feed_statement.statement, '\{\{([a-z_]+)\}\}', 'g') AS m WHERE m[1] NOT IN ('facts', 'target'))
            THEN 'names only {{facts}} and {{target}}'
        WHEN lower(substring(_outline FROM '^\s*(\w+)')) NOT IN ('insert', 'update', 'delete', 'merge', 'with')
            THEN 'is not a statement that writes: it is one INSERT, UPDATE, DELETE or MERGE (or WITH ... one of them) into {{target}}'
        WHEN (SELECT count(*) FROM regexp_matches(check_feed_statement.statement, '\{\{', 'g'))
             <> (SELECT count(*) FROM regexp_matches(_outline, '\{\{', 'g'))
            THEN 'holds {{ in a string or a quoted name, where the kit would put its facts or target all the same'
        WHEN position('{{facts}}' IN _outline) = 0 OR position('{{target}}' IN _outline) = 0
            THEN 'names no {{facts}} or no {{target}}: it applies the facts it is given to its read table'
        WHEN _outline !~* 'last_fact_seq'
            THEN 'never sets last_fact_seq: every row it writes gets the seq of the newest fact it applied (a NOT NULL column of every read table)'
        END;
    IF _fault IS NOT NULL THEN
        PERFORM kit.usage_error(format('%s %s (Given: %s)', _what, _fault, check_feed_statement.statement),
                                'Write one statement over {{facts}} AS f into {{target}}; nothing was changed.');
    END IF;
    BEGIN
        OPEN _probe FOR EXECUTE 'EXPLAIN (FORMAT JSON, VERBOSE) '
            || kit.render(check_feed_statement.statement, jsonb_build_object(
                   'target', kit.relation(check_feed_statement.read_table),
                   'facts', format('(SELECT * FROM %s)', kit.relation(check_feed_statement.write_table))));
        FETCH _probe INTO _plan;
        CLOSE _probe;
    EXCEPTION WHEN OTHERS THEN
        PERFORM kit.usage_error(format('%s does not compile as one statement: %s (SQLSTATE %s)', _what, SQLERRM, SQLSTATE),
                                'Write one statement over {{facts}} AS f into {{target}}; nothing was changed.');
    END;
    _fault := CASE
        WHEN _plan #>> '{0,Plan,Node Type}' IS DISTINCT FROM 'ModifyTable'
            THEN 'writes nothing at its top: it is one INSERT, UPDATE, DELETE or MERGE into {{target}}'
        ELSE (SELECT format('writes %s, which is not its target %s: a feed changes its read table alone',
                            quote_ident(m.node ->> 'Schema') || '.' || quote_ident(m.node ->> 'Relation Name'), check_feed_statement.read_table)
                FROM jsonb_path_query(_plan, 'strict $.** ? (@."Node Type" == "ModifyTable")') AS m (node)
               WHERE (m.node ->> 'Schema', m.node ->> 'Relation Name')
                     IS DISTINCT FROM (kit.key_schema(check_feed_statement.read_table), kit.key_table(check_feed_statement.read_table))
               LIMIT 1) END;
    IF _fault IS NOT NULL THEN
        PERFORM kit.usage_error(format('%s %s (Given: %s)', _what, _fault, check_feed_statement.statement),
                                'Write one statement over {{facts}} AS f into {{target}}; nothing was changed.');
    END IF;
END
$$;

-- Declares that facts of write_table reach read_table and writes the feed's
-- projection function. For a live read version (fed by a new, empty write
-- table) the feed goes into the write table's trigger at once, under a lock
-- that first waits, briefly, for writers already inserting (their facts
-- would otherwise be missed); for a building one it does when the backfill
-- completes, so that every fact is applied exactly once: history by the
-- backfill, the rest by the trigger. Every name the feed will ever need is
-- checked here, and its key column too, not at the first write. Both tables
-- are of one domain: the schema their names give, else `domain`, the
-- caller's current schema.
--
-- `columns` computes read columns from the fact instead of copying the
-- column of the same name, each an SQL expression over the fact `f` and
-- constants: '{"email": "lower(f.email)"}'. `filter`, an SQL condition over
-- `f`, selects the facts the feed takes ('f.role = ''admin'''). Both run in
-- the feed trigger, with the kit's pinned search_path (pg_catalog): a
-- function of your own is named with its schema. Each is checked now, alone:
-- one that does not compile against the write table's row, or whose value
-- does not fit its column, is refused with KT006 naming it. Replay applies
-- the same template, so an expression must give the same value whenever it
-- runs: no now(), random() or other tables' current state (verify finds a
-- read row that a replay does not give).
--
-- `kind` is what a fact does to the read table: 'insert' makes a row (the
-- default without key_column), 'update' sets columns of the row whose id is
-- in key_column (the default with it), 'upsert' makes that row from the
-- first fact about it and sets its columns from later ones, 'delete' removes that row,
-- 'accumulate' adds to its columns: `columns` then says what each fact adds,
-- '{"message_count": "1", "balance": "f.amount"}', and every fact counts,
-- several about one row in one statement or replay batch too. A delete or
-- accumulating fact whose row is not there is refused (KT004) like an
-- update's. 'sql' is the escape hatch: `statement`, set-based SQL of the
-- migration's own over {{facts}} (the facts, a FROM item, in seq order)
-- into {{target}} (the read table, or a rebuild's or verify's copy), applied
-- live to each statement's facts and in replay to each batch: it must give
-- the same rows either way (no now(), random() or other tables' state, and
-- last_fact_seq set), which kit verify checks.
CREATE OR REPLACE FUNCTION kit.add_feed(write_table text, read_table text, key_column text DEFAULT NULL,
                                        columns jsonb DEFAULT '{}', filter text DEFAULT NULL, kind text DEFAULT NULL,
                                        statement text DEFAULT NULL, domain text DEFAULT current_schema())
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _state     text;
    _has_facts boolean;
    _key_type  text;
    _id_type   text;
    _unfilled  text;
    _clash     text;
BEGIN
    add_feed.write_table := kit.table_key(add_feed.write_table, add_feed.domain);
    add_feed.read_table := kit.table_key(add_feed.read_table, add_feed.domain);
    add_feed.columns := coalesce(add_feed.columns, '{}');
    add_feed.kind := coalesce(add_feed.kind, CASE WHEN add_feed.statement IS NOT NULL THEN 'sql'
                                                  WHEN add_feed.key_column IS NULL THEN 'insert' ELSE 'update' END);
    IF add_feed.kind NOT IN ('insert', 'update', 'upsert', 'delete', 'accumulate', 'sql')
       OR (add_feed.kind IN ('insert', 'sql')) <> (add_feed.key_column IS NULL) THEN
        PERFORM kit.usage_error(format('A feed is kind insert or sql (no key_column), or update, upsert, delete or accumulate (with key_column) (Feed: %s into %s, kind: %s, key_column: %s)',
                                       add_feed.write_table, add_feed.read_table, add_feed.kind, coalesce(add_feed.key_column, 'none')),
                                'For example kit.add_feed(''user_deleted_4'', ''users_4'', key_column => ''user_id'', kind => ''delete''); nothing was changed.');
    END IF;
    IF add_feed.kind = 'delete' AND add_feed.columns <> '{}' THEN
        PERFORM kit.usage_error(format('A delete feed computes no column (Feed: %s into %s, columns: %s)',
                                       add_feed.write_table, add_feed.read_table, add_feed.columns),
                                'Leave columns out; a filter may choose the facts that delete. Nothing was changed.');
    END IF;
    IF (add_feed.kind = 'sql') <> (add_feed.statement IS NOT NULL) OR add_feed.kind = 'sql' AND (add_feed.columns <> '{}' OR add_feed.filter IS NOT NULL) THEN
        PERFORM kit.usage_error(format('A sql feed, and only a sql feed, has a statement, and it computes no column and has no filter (it chooses its facts itself) (Feed: %s into %s, kind: %s)',
                                       add_feed.write_table, add_feed.read_table, add_feed.kind),
                                'For example kind => ''sql'', statement => ''INSERT INTO {{target}} ... SELECT ... FROM {{facts}} AS f ...''; nothing was changed.');
    END IF;
    IF add_feed.statement IS NOT NULL THEN
        add_feed.statement := kit.checked_sql_text(add_feed.statement, format('The statement of the feed from %s into %s',
                                                                              add_feed.write_table, add_feed.read_table), statement => true);
    END IF;
    IF add_feed.kind = 'accumulate' AND add_feed.columns = '{}' THEN
        PERFORM kit.usage_error(format('An accumulating feed says what each fact adds to which column (Feed: %s into %s)',
                                       add_feed.write_table, add_feed.read_table),
                                'For example columns => ''{"message_count": "1"}''; nothing was changed.');
    END IF;
    IF kit.key_schema(add_feed.write_table) <> kit.key_schema(add_feed.read_table) THEN
        PERFORM kit.usage_error(format('A feed joins tables of one domain: %s and %s are in different schemas',
                                       add_feed.write_table, add_feed.read_table),
                                'Domains are independent: feed a read table of the write table''s own schema; nothing was changed.');
    END IF;
    IF NOT EXISTS (SELECT FROM kit.write_table w WHERE w.write_table = add_feed.write_table) THEN
        PERFORM kit.usage_error(format('Not a write table: %s (register it with kit.create_write_table)', add_feed.write_table));
    END IF;
    _state := kit.require_state(add_feed.read_table, ARRAY['building', 'live']);
    IF EXISTS (SELECT FROM kit.feed f WHERE f.write_table = add_feed.write_table AND f.read_table = add_feed.read_table) THEN
        PERFORM kit.usage_error(format('Feed already declared: %s into %s', add_feed.write_table, add_feed.read_table));
    END IF;
    IF add_feed.key_column IS NOT NULL THEN
        SELECT format_type(a.atttypid, a.atttypmod) INTO _key_type FROM pg_attribute a
         WHERE a.attrelid = kit.relation(add_feed.write_table)::regclass AND a.attname = add_feed.key_column
           AND a.attnum > 0 AND NOT a.attisdropped;
        SELECT format_type(a.atttypid, a.atttypmod) INTO _id_type FROM pg_attribute a
         WHERE a.attrelid = kit.relation(add_feed.read_table)::regclass AND a.attname = 'id';
        IF _key_type IS NULL OR _key_type <> _id_type THEN
            PERFORM kit.usage_error(
                format('Key column of an update feed must be a %s column of the write table: %s (Write table: %s, Read table: %s, Found: %s)',
                       _id_type, add_feed.key_column, add_feed.write_table, add_feed.read_table, coalesce(_key_type, 'no such column')));
        END IF;
    END IF;
    PERFORM kit.check_feed_columns(add_feed.write_table, add_feed.read_table, add_feed.kind, add_feed.columns, add_feed.filter);
    IF add_feed.statement IS NOT NULL THEN
        PERFORM kit.check_feed_statement(add_feed.write_table, add_feed.read_table, add_feed.statement);
    END IF;
    PERFORM kit.object_name('projection', add_feed.write_table, kit.object_name('shadow', add_feed.read_table));
    -- Recorded first: the checks below and the generators read the feed's columns and filter from
    -- the catalog (a refusal rolls it back with the rest).
    INSERT INTO kit.feed (write_table, read_table, kind, key_column, projection, columns, filter, statement)
    VALUES (add_feed.write_table, add_feed.read_table,
            add_feed.kind, add_feed.key_column,
            kit.object_name('projection', add_feed.write_table, add_feed.read_table), add_feed.columns, add_feed.filter, add_feed.statement);
    IF add_feed.kind = 'update' AND cardinality(kit.feed_set_columns(add_feed.write_table, add_feed.read_table)) = 0 THEN
        PERFORM kit.usage_error(format('Update feed changes nothing: no column of %s is also in %s',
                                       add_feed.read_table, add_feed.write_table));
    END IF;
    -- A sum commutes with other sums, not with a fact that sets the same column: racing, the two
    -- would end otherwise than a replay in seq order.
    SELECT format('Column %s of %s would be both set (by %s) and accumulated (by %s)', c.name, add_feed.read_table,
                  CASE WHEN g.kind = 'accumulate' THEN add_feed.write_table ELSE g.write_table END,
                  CASE WHEN g.kind = 'accumulate' THEN g.write_table ELSE add_feed.write_table END)
      INTO _clash
      FROM kit.feed g
     CROSS JOIN LATERAL unnest(kit.feed_set_columns(g.write_table, g.read_table)) AS c(name)
     WHERE g.read_table = add_feed.read_table AND g.write_table <> add_feed.write_table
       AND add_feed.kind IN ('update', 'upsert', 'accumulate') AND g.kind IN ('update', 'upsert', 'accumulate')
       AND (g.kind = 'accumulate') <> (add_feed.kind = 'accumulate')
       AND c.name = ANY (kit.feed_set_columns(add_feed.write_table, add_feed.read_table))
     ORDER BY c.name, g.write_table
     LIMIT 1;
    IF _clash IS NOT NULL THEN
        PERFORM kit.usage_error(_clash || ': a fact that sets it and one that adds to it, racing, would end otherwise than a replay in seq order',
                                'Accumulate it in both (a correction adds the difference), or keep the set value in a column of its own; nothing was changed.');
    END IF;
    IF add_feed.kind IN ('insert', 'upsert') THEN
        _unfilled := kit.unfilled_columns(add_feed.write_table, add_feed.read_table);
        IF _unfilled IS NOT NULL THEN
            PERFORM kit.usage_error(
                format('Insert feed cannot fill the NOT NULL columns of %s that %s does not have, and that have no DEFAULT (Columns: %s)',
                       add_feed.read_table, add_feed.write_table, _unfilled),
                'Give those columns a DEFAULT or an expression (columns => ...), make them nullable, or add them to the write table; nothing was changed.');
        END IF;
    END IF;
    IF _state = 'live' THEN
        PERFORM kit.lock_briefly(ARRAY[kit.relation(add_feed.write_table)::regclass], 'SHARE ROW EXCLUSIVE',
                                 format('add a feed from %s into %s', add_feed.write_table, add_feed.read_table));
        EXECUTE format('SELECT EXISTS (SELECT FROM %s)', kit.relation(add_feed.write_table)) INTO _has_facts;
        IF _has_facts THEN
            PERFORM kit.usage_error(
                format('A live read version can only be fed by a new, empty write table (Read table: %s, Write table: %s)',
                       add_feed.read_table, add_feed.write_table),
                'Create a new read version: it is backfilled from every existing fact.');
        END IF;
    END IF;
    EXECUTE (kit.projection_sql(write_table => add_feed.write_table, read_table => add_feed.read_table,
                                key_column => add_feed.key_column, target => add_feed.read_table)).create_sql;
    -- The projection run over no facts at all: its statements are planned against both tables,
    -- so a column whose type does not fit is refused now, not at the first write or backfill. A
    -- trial: whatever it changed (a sql feed's statement may touch rows whatever its facts) is
    -- rolled back by the error that ends it.
    BEGIN
        EXECUTE format('SELECT %s(0, 0)', kit.beside(add_feed.write_table, kit.object_name('projection', add_feed.write_table, add_feed.read_table)));
        RAISE EXCEPTION USING ERRCODE = 'KT0TR', MESSAGE = 'the end of a trial run';
    EXCEPTION WHEN SQLSTATE 'KT0TR' THEN
        NULL;
    WHEN OTHERS THEN
        PERFORM kit.usage_error(format('Feed from %s into %s cannot apply its facts: %s (SQLSTATE %s)',
                                       add_feed.write_table, add_feed.read_table, SQLERRM, SQLSTATE),
                                CASE WHEN add_feed.kind = 'sql' THEN 'Make its statement compile against {{facts}} AS f and {{target}}; nothing was changed.'
                                     ELSE 'Make the read columns'' types fit the fact columns of the same name; nothing was changed.' END);
    END;
    IF _state = 'live' THEN
        -- Every write table feeding it: whether another feed's facts can be overtaken depends on
        -- this one's columns (kit.feed_can_race).
        PERFORM kit.regenerate_feed_trigger(f.write_table)
           FROM kit.feed f WHERE f.read_table = add_feed.read_table ORDER BY f.write_table;
    END IF;
END
$$;

-- Re-generates every feed's projection function from the catalog, into its
-- read table or a rebuild's shadow; feeds whose tables are missing are left
-- out (kit.drift() names the tables).
CREATE OR REPLACE FUNCTION kit.regenerate_projections()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _feed record;
BEGIN
    FOR _feed IN SELECT f.write_table, f.read_table, f.key_column, v.rebuild_of
                   FROM kit.feed f JOIN kit.read_version v ON v.read_table = f.read_table
                  WHERE kit.domain_table_exists(f.read_table) AND kit.domain_table_exists(f.write_table) LOOP
        EXECUTE (kit.projection_sql(write_table => _feed.write_table, read_table => coalesce(_feed.rebuild_of, _feed.read_table),
                                    key_column => _feed.key_column, target => _feed.read_table)).create_sql;
    END LOOP;
END
$$;

-- Re-generates, in the caller's transaction, what the kit generates for an
-- id space: its id assigner and claimer, and on each of its write tables the
-- id triggers and the feed trigger. Under a brief ACCESS EXCLUSIVE lock on
-- those tables (kit.lock_briefly): an assigner replaced while an older
-- trigger still calls it for every fact could overwrite an explicit id.
-- Missing write tables are left out (kit.drift() names them).
CREATE OR REPLACE FUNCTION kit.regenerate_id_space(id_space text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _tables   text[];
    _sequence text;
    _write    text;
BEGIN
    SELECT array_agg(w.write_table ORDER BY w.write_table), min(w.id_sequence) INTO _tables, _sequence
      FROM kit.write_table w
     WHERE w.id_space = regenerate_id_space.id_space AND kit.domain_table_exists(w.write_table);
    IF _tables IS NULL THEN
        RETURN;
    END IF;
    PERFORM kit.lock_briefly(ARRAY(SELECT kit.relation(t)::regclass FROM unnest(_tables) AS t),
                             'ACCESS EXCLUSIVE', 'upgrade the write tables of id space ' || regenerate_id_space.id_space);
    PERFORM kit.create_id_assigner(regenerate_id_space.id_space, _sequence);
    FOREACH _write IN ARRAY _tables LOOP
        PERFORM kit.attach_id_assigner(_write, regenerate_id_space.id_space);
        PERFORM kit.regenerate_feed_trigger(_write);
    END LOOP;
END
$$;

-- Re-generates, from the catalog, every function and trigger the kit
-- generates: each feed's projection, then id space by id space its id
-- assigner and claimer and its write tables' triggers, so that a fixed
-- generator reaches every database at its next migrate. The upgrade
-- (beforeMigrate__kit_90_upgrade.sql) and kit.repair() run it. Commits after
-- each id space: its write tables are switched under a brief lock that is
-- released at once, so writers wait at most one short lock at a time, never
-- for the whole regeneration.
CREATE OR REPLACE PROCEDURE kit.regenerate_generated_code()
LANGUAGE plpgsql
AS $$
DECLARE
    _space text;
BEGIN
    PERFORM kit.regenerate_projections();
    COMMIT;
    FOR _space IN SELECT DISTINCT w.id_space FROM kit.write_table w ORDER BY w.id_space LOOP
        PERFORM kit.regenerate_id_space(_space);
        COMMIT;
    END LOOP;
END
$$;
