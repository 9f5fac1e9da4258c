-- Kit script 50 feed_templates (run by Flyway before every migrate, in file-name order).
-- The code generators of feeds: one template of the statements that apply a
-- feed's facts (kit.feed_statements), one block that declares what they use
-- (kit.feed_block), and the objects made from them: a feed's projection
-- function, the named replay of a range, and a write table's feed trigger.
-- Each object generator returns the whole object (kit.function_object).
-- The example's objects, rendered, are in docs/generated/.
-- Idempotent: CREATE OR REPLACE, safe to run again.

-- The statements that fail the statement when a fact's `fact_column` names no
-- row of `target` (a read table), or a row that a later fact created
-- (first_fact_seq): in the global order that fact came first, so a replay
-- would find no row either, and the live path must refuse it as the replay
-- would have (two writers racing: a password change that took its seq
-- before the registration it names committed). Shared by update feeds
-- (their own row) and references (another read table's row). `facts` is the
-- FROM item the facts come from (see kit.feed_statements); the variables are
-- kit.feed_block's.
CREATE OR REPLACE FUNCTION kit.existence_check_sql(write_table text, fact_column text, target text, entity text, facts text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT kit.render($t$
    SELECT f.{{fact_column}}::text, f.seq INTO _missing, _missing_seq
      FROM {{facts}} AS f
     WHERE NOT EXISTS (SELECT FROM {{target}} AS r
                        WHERE r.id = f.{{fact_column}} AND (r.first_fact_seq IS NULL OR r.first_fact_seq < f.seq))
     ORDER BY f.seq
     LIMIT 1;
    IF FOUND THEN
        PERFORM kit.raise_unknown_entity({{target_name}}, {{entity}}, {{write_table}}, {{fact_column_name}}, _missing, _missing_seq);
    END IF;
$t$, jsonb_build_object(
        'fact_column', format('%I', existence_check_sql.fact_column),
        'fact_column_name', quote_literal(existence_check_sql.fact_column),
        'facts', existence_check_sql.facts,
        'target', kit.relation(existence_check_sql.target),
        'target_name', quote_literal(existence_check_sql.target),
        'entity', quote_literal(existence_check_sql.entity),
        'write_table', quote_literal(existence_check_sql.write_table)))
$$;

-- The statements that refuse (kit.raise_raced) the first of `facts` whose
-- row of `target` a later fact of another transaction was applied to first
-- (its last_fact_seq is higher and none of these facts'), where `condition`
-- also holds. Run on the error path only, when a keyed feed changed fewer
-- rows than it has facts. `key_column` is the facts' column; the variables
-- are kit.feed_block's.
CREATE OR REPLACE FUNCTION kit.race_check_sql(write_table text, key_column text, target text, entity text, facts text,
                                              condition text DEFAULT '')
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT kit.render($t$
    SELECT f.{{key_column}}::text, f.seq INTO _missing, _missing_seq
      FROM {{facts}} AS f JOIN {{target}} AS r ON r.id = f.{{key_column}}
     WHERE r.last_fact_seq > f.seq AND r.last_fact_seq NOT IN (SELECT u.seq FROM {{facts}} AS u){{condition}}
     ORDER BY f.seq
     LIMIT 1;
    IF FOUND THEN
        PERFORM kit.raise_raced({{target_name}}, {{entity}}, {{write_table}}, {{key_name}}, _missing, _missing_seq);
    END IF;
$t$, jsonb_build_object(
        'key_column', format('%I', race_check_sql.key_column),
        'key_name', quote_literal(race_check_sql.key_column),
        'facts', race_check_sql.facts,
        'target', kit.relation(race_check_sql.target),
        'target_name', quote_literal(race_check_sql.target),
        'entity', quote_literal(race_check_sql.entity),
        'write_table', quote_literal(race_check_sql.write_table),
        'condition', race_check_sql.condition))
$$;

-- The block of every function (or DO block) that applies feeds: the
-- variables kit.feed_statements uses, declared here and nowhere else, then
-- the statements and `ending` (a trigger's RETURN NULL). fact_count is the
-- SQL expression that counts the facts, where a statement compares with it
-- (the live path: rows applied against facts); the others leave it NULL.
--   _fact_count   how many facts there are
--   _applied      the rows the last statement changed
--   _missing, _missing_seq   the first fact an existence check found naming no row
CREATE OR REPLACE FUNCTION kit.feed_block(statements text, fact_count text DEFAULT NULL, ending text DEFAULT '')
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT kit.render($t$
DECLARE
    _fact_count  bigint{{fact_count}};
    _applied     bigint;
    _missing     text;
    _missing_seq bigint;
BEGIN
{{statements}}{{ending}}END
$t$, jsonb_build_object('fact_count', coalesce(' := ' || feed_block.fact_count, ''),
                        'statements', feed_block.statements, 'ending', feed_block.ending))
$$;

-- The one template of a feed: the PL/pgSQL statements that apply facts of
-- write_table to `target` (the read table, or the shadow table of an online
-- rebuild, named by its kit name; target_schema is pg_temp only for verify's
-- scratch copy),
-- set-based, using the variables of kit.feed_block. `facts` is the FROM item
-- they come from: `new_rows` (the statement's transition table) in the
-- write table's feed trigger, where they are inlined, and a seq range of the
-- write table (kit.fact_range_sql) in the feed's projection function, which
-- replays history. Both are made here, so a rebuild applies exactly what the
-- live path applies.
--
-- Columns map by name: an insert feed fills each read column from the fact
-- column of the same name, or from the expression the feed computes it with
-- (kit.feed.columns), and leaves the others to their DEFAULT (or generation
-- expression); an update feed sets every read column the fact also has or
-- the feed computes, on the row whose id is in key_column, unless a later fact was
-- already applied to it (last_fact_seq), so racing facts end as a replay in
-- seq order would; where the later fact was another feed's that did not set
-- every column this one sets (kit.feed_can_race), it refuses the earlier one
-- instead (kit.race_check_sql), live. A feed with a filter (kit.feed.filter) takes only the
-- facts that meet it: `facts` becomes those, and they are what its counts
-- compare with. With `checks` (the live path), an insert feed checks its
-- read table's references first, and an update feed checks that its rows
-- exist when it changed fewer rows than there are facts (a later fact
-- already applied, several facts about one row, or an unknown one): the
-- check is the error path, not a lookup per fact. Without (replay) there
-- are none: replayed facts were checked when they were written.
--
-- What an insert feed does with a fact that a unique rule of the target
-- refuses, by `rejections`:
--   'fail'  a plain INSERT, which fails with unique_violation: about twice
--           as fast for large ranges (no speculative insertion); replay runs
--           it and, only when it fails, the same facts again with 'name'
--           (kit.replay_facts);
--   'name'  INSERT ... ON CONFLICT DO NOTHING and, when fewer rows went in
--           than there were facts, the first fact refused named (KT002/KT003):
--           the live path;
--   'list'  ON CONFLICT DO NOTHING, and the refused facts listed in
--           pg_temp.kit_verify_rejected instead of failing: verify's finder.
CREATE OR REPLACE FUNCTION kit.feed_statements(write_table text, read_table text, key_column text, facts text,
                                               target text DEFAULT NULL, target_schema text DEFAULT NULL,
                                               checks boolean DEFAULT false, rejections text DEFAULT 'fail')
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _write   regclass := kit.relation(feed_statements.write_table)::regclass;
    _read    regclass := kit.relation(feed_statements.read_table)::regclass;
    _target  text := coalesce(feed_statements.target, feed_statements.read_table);
    _entity  text := (SELECT v.entity FROM kit.read_version v WHERE v.read_table = feed_statements.read_table);
    _feed    record;
    _facts   text := feed_statements.facts;
    _checks  text;
    _races   text := '';
    _parts   jsonb;
BEGIN
    SELECT coalesce(f.columns, '{}') AS columns, f.filter, f.kind, f.statement INTO _feed
      FROM kit.feed f WHERE f.write_table = feed_statements.write_table AND f.read_table = feed_statements.read_table;
    _feed.columns := coalesce(_feed.columns, '{}');
    _feed.kind := coalesce(_feed.kind, CASE WHEN feed_statements.key_column IS NULL THEN 'insert' ELSE 'update' END);
    IF _feed.filter IS NOT NULL THEN
        _facts := format('(SELECT * FROM %s AS f WHERE %s)', feed_statements.facts, _feed.filter);
    END IF;
    IF feed_statements.rejections IS NULL OR feed_statements.rejections NOT IN ('fail', 'name', 'list') THEN
        RAISE EXCEPTION 'A feed''s rejections are fail, name or list (Given: %)', feed_statements.rejections;
    END IF;
    -- In column order, whatever plan reads the catalog: the code is compared as text (kit.drift).
    SELECT string_agg(kit.existence_check_sql(feed_statements.write_table, c.column_name, c.checked_table, c.entity,
                                              _facts), '' ORDER BY c.column_name)
      INTO _checks
      FROM (SELECT rr.column_name, rr.referenced_table AS checked_table, v.entity
              FROM kit.read_reference rr JOIN kit.read_version v ON v.read_table = rr.referenced_table
             WHERE rr.read_table = feed_statements.read_table AND feed_statements.key_column IS NULL
            UNION ALL
            SELECT feed_statements.key_column, _target, _entity WHERE feed_statements.key_column IS NOT NULL AND _feed.kind <> 'upsert') c;
    -- An update or upsert fact that a later fact of another feed overtook (kit.feed_can_race), or an
    -- upsert fact whose row a later fact made: refused, live, on the same error path.
    IF feed_statements.checks AND _feed.kind IN ('update', 'upsert') THEN
        _races := CASE WHEN kit.feed_can_race(feed_statements.write_table, feed_statements.read_table)
                       THEN kit.race_check_sql(feed_statements.write_table, feed_statements.key_column, _target, _entity, _facts,
                                               CASE _feed.kind WHEN 'update' THEN ' AND (r.first_fact_seq IS NULL OR r.first_fact_seq < f.seq)' ELSE '' END)
                       WHEN _feed.kind = 'upsert'
                       THEN kit.race_check_sql(feed_statements.write_table, feed_statements.key_column, _target, _entity, _facts,
                                               ' AND r.first_fact_seq > f.seq')
                       ELSE '' END;
    END IF;
    _checks := CASE WHEN (_checks IS NULL OR NOT feed_statements.checks) AND _races = '' THEN ''
                    WHEN feed_statements.key_column IS NOT NULL
                        THEN kit.render(E'    IF _applied < {{fact_count}} THEN{{checks}}{{races}}    END IF;\n',
                                        jsonb_build_object('checks', CASE WHEN feed_statements.checks THEN coalesce(_checks, '') ELSE '' END,
                                                           'races', _races, 'fact_count', CASE WHEN _feed.filter IS NULL THEN '_fact_count'
                                                                          ELSE format('(SELECT count(*) FROM %s AS f)', _facts) END))
                    ELSE _checks END;
    _parts := jsonb_build_object(
        'target', CASE WHEN feed_statements.target_schema = 'pg_temp' THEN format('pg_temp.%I', _target) ELSE kit.relation(_target) END,
        'target_name', quote_literal(_target),
        'write_table', quote_literal(feed_statements.write_table),
        'facts', _facts,
        'fact_count', CASE WHEN _feed.filter IS NULL THEN '_fact_count' ELSE format('(SELECT count(*) FROM %s AS f)', _facts) END);

    IF _feed.kind = 'sql' THEN
        -- The migration's own statement, with its facts and its target put in: the same live and in
        -- replay, so verify and rebuild cover it (kit.add_feed checks it).
        RETURN E'\n    ' || kit.render(_feed.statement, jsonb_build_object('target', _parts ->> 'target', 'facts', _facts)) || E';\n';
    END IF;

    IF _feed.kind = 'upsert' THEN
        -- Makes the row whose id is in key_column from the newest of the statement's facts about
        -- it, or sets its columns where it is there and no later fact was applied (the order
        -- guard, as an update feed's); first_fact_seq is the first of those facts. A unique rule
        -- of another column refuses with PostgreSQL's own unique_violation.
        SELECT _parts || jsonb_build_object(
                   'key_column', format('%I', feed_statements.key_column),
                   'columns', string_agg(format('%I', r.attname), ', ' ORDER BY r.attnum),
                   'values', string_agg(CASE WHEN _feed.columns ? r.attname THEN format('(%s)', _feed.columns ->> r.attname)
                                             ELSE format('f.%I', r.attname) END, ', ' ORDER BY r.attnum),
                   'sets', string_agg(format('%1$I = excluded.%1$I', r.attname), ', ' ORDER BY r.attnum))
          INTO _parts
          FROM pg_attribute r
          LEFT JOIN pg_attribute w ON w.attrelid = _write AND w.attname = r.attname AND w.attnum > 0 AND NOT w.attisdropped
         WHERE r.attrelid = _read AND r.attnum > 0 AND NOT r.attisdropped AND r.attgenerated = ''
           AND r.attname NOT IN ('id', 'last_fact_seq', 'first_fact_seq')
           AND (w.attname IS NOT NULL OR _feed.columns ? r.attname);
        RETURN kit.render($t$
    INSERT INTO {{target}} AS r (id, {{columns}}, last_fact_seq, first_fact_seq)
    SELECT f.{{key_column}}, {{values}}, f.seq, f.first_seq
      FROM (SELECT DISTINCT ON (u.{{key_column}}) u.*, min(u.seq) OVER (PARTITION BY u.{{key_column}}) AS first_seq
              FROM {{facts}} AS u ORDER BY u.{{key_column}}, u.seq DESC) AS f
    ON CONFLICT (id) DO UPDATE SET {{sets}}, last_fact_seq = excluded.last_fact_seq
     WHERE r.last_fact_seq < excluded.last_fact_seq;
$t$, _parts) || CASE WHEN _checks = '' THEN '' ELSE E'    GET DIAGNOSTICS _applied = ROW_COUNT;\n' || _checks END;
    END IF;

    IF _feed.kind = 'delete' THEN
        -- Removes each fact's row. Live, a fact whose row is not there (or was made by a later
        -- fact) is refused as an update feed's is (KT004), found among the rows the statement
        -- did not remove; several facts about one row in one statement remove it once, as the
        -- first of them. A row that a later fact changed first (its last_fact_seq is higher: an
        -- update, a sum, an upsert that a replay would apply after the delete, to no row or to a
        -- new one) is not removed, and the fact refused (kit.raise_raced), to be written again.
        -- Into a read table whose rows an upsert makes, a row that is not there is no error: the
        -- first fact about its key (a display name set, say) may never have come.
        _parts := _parts || jsonb_build_object('key_column', format('%I', feed_statements.key_column),
                                               'first_facts', format('(SELECT DISTINCT ON (u.%1$I) u.* FROM %2$s AS u ORDER BY u.%1$I, u.seq)',
                                                                     feed_statements.key_column, _facts),
                                               'key_name', quote_literal(feed_statements.key_column), 'entity', quote_literal(_entity));
        _parts := _parts || jsonb_build_object('unknown', CASE
            WHEN EXISTS (SELECT FROM kit.feed g WHERE g.read_table = feed_statements.read_table AND g.kind = 'upsert') THEN ''
            ELSE kit.render(E'\n        PERFORM kit.raise_unknown_entity({{target_name}}, {{entity}}, {{write_table}}, {{key_name}}, _missing, _missing_seq);',
                            _parts) END);
        RETURN kit.render(CASE WHEN feed_statements.checks THEN $t$
    WITH gone AS (
        DELETE FROM {{target}} AS r USING {{first_facts}} AS f
         WHERE r.id = f.{{key_column}} AND (r.first_fact_seq IS NULL OR r.first_fact_seq < f.seq) AND r.last_fact_seq < f.seq
        RETURNING r.id)
    SELECT f.{{key_column}}::text, f.seq INTO _missing, _missing_seq
      FROM {{facts}} AS f
     WHERE f.{{key_column}} NOT IN (SELECT g.id FROM gone AS g)
     ORDER BY f.seq
     LIMIT 1;
    IF FOUND THEN
        IF EXISTS (SELECT FROM {{target}} AS r
                    WHERE r.id = _missing::bigint AND (r.first_fact_seq IS NULL OR r.first_fact_seq < _missing_seq)) THEN
            PERFORM kit.raise_raced({{target_name}}, {{entity}}, {{write_table}}, {{key_name}}, _missing, _missing_seq);
        END IF;{{unknown}}
    END IF;
$t$ ELSE $t$
    DELETE FROM {{target}} AS r USING {{first_facts}} AS f
     WHERE r.id = f.{{key_column}} AND (r.first_fact_seq IS NULL OR r.first_fact_seq < f.seq);
$t$ END, _parts);
    END IF;

    IF _feed.kind = 'accumulate' THEN
        -- Adds to the row what its facts add (kit.feed.columns: an amount per fact), all of one
        -- statement's facts about a row at once, whatever their order: a sum does not depend on
        -- it, so no order guard is needed, and racing writers each add theirs (the second UPDATE
        -- reads the row the first committed). A fact whose row was made by a later fact is left
        -- out, as a replay finds no row for it, and refused live (KT004). The row's last_fact_seq
        -- becomes the newest fact applied to it, so that a delete or an update that a sum
        -- overtook is caught (kit.feed_can_race); a replay adds after the batch's updates. A fact
        -- whose amount is NULL adds nothing, alone as beside others (sum() skips it), so that how
        -- facts fall into statements and batches never matters.
        SELECT _parts || jsonb_build_object(
                   'key_column', format('%I', feed_statements.key_column),
                   -- Each sum by its position (add_1, add_2, ...), never a column's own name, which
                   -- could be one of the CTE's working columns (id, facts, last_seq).
                   'sums', string_agg(format('sum((%s)) AS add_%s', c.value, c.n), ', ' ORDER BY c.n),
                   'adds', string_agg(format('%1$I = coalesce(r.%1$I + a.add_%2$s, r.%1$I)', c.key, c.n), ', ' ORDER BY c.n))
          INTO _parts
          FROM (SELECT e.key, e.value, row_number() OVER (ORDER BY e.key) AS n FROM jsonb_each_text(_feed.columns) e) c;
        RETURN kit.render($t$
    WITH a AS (
        SELECT f.{{key_column}} AS id, {{sums}}, count(*) AS facts, max(f.seq) AS last_seq
          FROM {{facts}} AS f JOIN {{target}} AS r ON r.id = f.{{key_column}} AND (r.first_fact_seq IS NULL OR r.first_fact_seq < f.seq)
         GROUP BY f.{{key_column}}),
    added AS (
        UPDATE {{target}} AS r SET {{adds}}, last_fact_seq = greatest(r.last_fact_seq, a.last_seq) FROM a WHERE r.id = a.id RETURNING a.facts)
    SELECT coalesce(sum(added.facts), 0) INTO _applied FROM added;
$t$, _parts) || _checks;
    END IF;

    IF feed_statements.key_column IS NULL THEN
        -- Only the columns the fact has (and the kit's last_fact_seq, first_fact_seq): every other
        -- column gets its DEFAULT, and a generated column its expression.
        SELECT _parts || jsonb_build_object(
                   'columns', string_agg(format('%I', r.attname), ', ' ORDER BY r.attnum),
                   'values', string_agg(CASE WHEN r.attname IN ('last_fact_seq', 'first_fact_seq') THEN 'f.seq'
                                             WHEN _feed.columns ? r.attname THEN format('(%s)', _feed.columns ->> r.attname)
                                             ELSE format('f.%I', w.attname) END, ', ' ORDER BY r.attnum))
          INTO _parts
          FROM pg_attribute r
          LEFT JOIN pg_attribute w ON w.attrelid = _write AND w.attname = r.attname AND w.attnum > 0 AND NOT w.attisdropped
         WHERE r.attrelid = _read AND r.attnum > 0 AND NOT r.attisdropped AND r.attgenerated = ''
           AND (w.attname IS NOT NULL OR r.attname IN ('last_fact_seq', 'first_fact_seq') OR _feed.columns ? r.attname);
        RETURN _checks || kit.render(CASE feed_statements.rejections
            WHEN 'fail' THEN $t$
    INSERT INTO {{target}} ({{columns}})
    SELECT {{values}} FROM {{facts}} AS f;
$t$
            WHEN 'name' THEN $t$
    INSERT INTO {{target}} ({{columns}})
    SELECT {{values}} FROM {{facts}} AS f
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS _applied = ROW_COUNT;
    IF _applied < {{fact_count}} THEN
        PERFORM kit.raise_rejected_insert({{target_name}}, {{write_table}}, (SELECT jsonb_agg(f) FROM {{facts}} AS f));
    END IF;
$t$
            WHEN 'list' THEN $t$
    INSERT INTO {{target}} ({{columns}})
    SELECT {{values}} FROM {{facts}} AS f
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS _applied = ROW_COUNT;
    IF _applied < (SELECT count(*) FROM {{facts}} AS f) THEN
        INSERT INTO pg_temp.kit_verify_rejected (write_table, seq)
        SELECT {{write_table}}, f.seq FROM {{facts}} AS f
         WHERE NOT EXISTS (SELECT FROM {{target}} AS r WHERE r.id = f.id AND r.last_fact_seq = f.seq);
    END IF;
$t$ END, _parts);
    END IF;

    -- No column in common (refused when declared, see kit.add_feed; possible after damage, which
    -- kit.drift() names): the fact still moves the row's last_fact_seq.
    SELECT _parts || jsonb_build_object(
               'key_column', format('%I', feed_statements.key_column),
               'sets', coalesce(string_agg(CASE WHEN _feed.columns ? r.attname THEN format('%I = (%s)', r.attname, _feed.columns ->> r.attname)
                                                ELSE format('%1$I = f.%1$I', r.attname) END, ', ' ORDER BY r.attnum) || ', ', ''))
      INTO _parts
      FROM pg_attribute r
      LEFT JOIN pg_attribute w ON w.attrelid = _write AND w.attname = r.attname AND w.attnum > 0 AND NOT w.attisdropped
     WHERE r.attrelid = _read AND r.attnum > 0 AND NOT r.attisdropped AND r.attgenerated = ''
       AND r.attname NOT IN ('id', 'last_fact_seq', 'first_fact_seq', 'seq', 'recorded_at')
       AND (w.attname IS NOT NULL OR _feed.columns ? r.attname);
    RETURN kit.render($t$
    UPDATE {{target}} AS r
       SET {{sets}}last_fact_seq = f.seq
      FROM (SELECT DISTINCT ON (u.{{key_column}}) u.* FROM {{facts}} AS u ORDER BY u.{{key_column}}, u.seq DESC) AS f
     WHERE r.id = f.{{key_column}} AND r.last_fact_seq < f.seq;
    GET DIAGNOSTICS _applied = ROW_COUNT;
$t$, _parts) || _checks;
END
$$;

-- The facts of write_table with from_seq < seq <= to_seq, in seq order, as a
-- FROM item for kit.feed_statements; the bounds are SQL expressions ($1 and
-- $2 in a projection function, literals in kit.named_replay_sql).
CREATE OR REPLACE FUNCTION kit.fact_range_sql(write_table text, from_seq text, to_seq text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT format('(SELECT * FROM %s WHERE seq > %s AND seq <= %s ORDER BY seq)',
                  kit.relation(fact_range_sql.write_table), fact_range_sql.from_seq, fact_range_sql.to_seq)
$$;

-- The projection function of a feed into `target` (the read table, or the
-- shadow table of an online rebuild), project_<write>_into_<target> in the
-- write table's schema:
-- the feed's template (kit.feed_statements) over the facts of the write
-- table with from_seq < seq <= to_seq, without the existence checks (those
-- facts were checked when they were written) and as plain inserts (a
-- rejected fact fails it with unique_violation; see kit.replay_facts).
-- Backfill, rebuild and verify replay history through it; the live path
-- inlines the same template in the feed trigger.
--
-- facts => 'array' makes instead the projection of the write path of kits
-- before 0.3.0 (an array of the facts, checked and with rejected facts
-- named, as the trigger applies them), which the bench measures against
-- today's (figure 10) through kit.feed_trigger_sql(feeds => 'call').
--
-- Only the kit calls it (EXECUTE is revoked from PUBLIC): app roles may
-- insert facts but never write a read table. No SET search_path: every name
-- in it is qualified, and it runs inside a kit function's pinned search_path.
CREATE OR REPLACE FUNCTION kit.projection_sql(write_table text, read_table text, key_column text, target text,
                                              facts text DEFAULT 'range',
                                              OUT function_name text, OUT create_sql text, OUT body text,
                                              OUT security_definer boolean, OUT config text[], OUT strict boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT o.*
      FROM (SELECT kit.beside(projection_sql.write_table, kit.object_name('projection', projection_sql.write_table, projection_sql.target)) AS name) n
     CROSS JOIN LATERAL kit.function_object(
        name => n.name,
        arguments => CASE projection_sql.facts WHEN 'range' THEN 'from_seq bigint, to_seq bigint'
                                               WHEN 'array' THEN format('facts %s[]', kit.relation(projection_sql.write_table)) END,
        returns => 'void', applies_facts => true,
        null_input => CASE projection_sql.facts WHEN 'range' THEN 'strict' ELSE 'called' END,
        source => CASE projection_sql.facts
            WHEN 'range' THEN kit.feed_block(kit.feed_statements(
                write_table => projection_sql.write_table, read_table => projection_sql.read_table,
                key_column => projection_sql.key_column, target => projection_sql.target,
                facts => kit.fact_range_sql(projection_sql.write_table, '$1', '$2'), checks => false, rejections => 'fail'))
            WHEN 'array' THEN kit.feed_block(kit.feed_statements(
                write_table => projection_sql.write_table, read_table => projection_sql.read_table,
                key_column => projection_sql.key_column, target => projection_sql.target,
                facts => 'unnest(facts)', checks => true, rejections => 'name'), fact_count => 'cardinality(facts)') END) o
$$;

-- The error path of a replay: a DO block that applies a feed's facts with
-- from_seq < seq <= to_seq as the live path would, ON CONFLICT DO NOTHING, so
-- that the first fact a unique rule rejects is named (KT002/KT003). The same
-- template as the projection function; run only after that failed.
CREATE OR REPLACE FUNCTION kit.named_replay_sql(write_table text, read_table text, key_column text, target text,
                                                from_seq bigint, to_seq bigint)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT kit.render(E'DO {{quote}}{{block}}{{quote}};\n', jsonb_build_object('quote', '$block$', 'block', kit.feed_block(
        kit.feed_statements(write_table => named_replay_sql.write_table, read_table => named_replay_sql.read_table,
                            key_column => named_replay_sql.key_column, target => named_replay_sql.target,
                            facts => r.facts, checks => false, rejections => 'name'),
        fact_count => format('(SELECT count(*) FROM %s AS f)', r.facts))))
      FROM (SELECT kit.fact_range_sql(named_replay_sql.write_table, named_replay_sql.from_seq::text,
                                      named_replay_sql.to_seq::text) AS facts) r
$$;

-- The trigger function that applies a write table's facts to every live
-- read version it feeds, in the inserting transaction, and the trigger that
-- runs it (trigger_sql): one per write table, made from the catalog, so the
-- kit regenerates it whenever a feed into a live version is added or
-- dropped (kit.regenerate_feed_trigger). All NULL when the write table feeds
-- no live read version.
--
-- The kit's: statement-level with a transition table, every feed's template
-- (kit.feed_statements) inlined over new_rows: a multi-row INSERT or COPY
-- applies all its facts with one set-based statement per feed, where a row
-- trigger would run them once per row; and a single fact pays one trigger
-- call, no array of facts and no function call per feed. Feeds run in
-- read-table name order, the same for every write table: two writers racing
-- one email through user_registered_0 and user_registered_1 then wait on the
-- read tables' unique indexes in one order, and never deadlock. Each feed's
-- part starts with a comment naming its projection function (the same feed,
-- replayed).
--
-- The alternatives the bench measures against it, made here so that it
-- measures exactly what this generator writes:
--   level => 'row'        a row-level trigger over NEW (figure 12: as fast
--                         for one fact per statement, 1.3-1.5x slower for
--                         batches of 100);
--   rejections => 'fail'  plain INSERTs: a rejected fact gets PostgreSQL's
--                         23505 with no fact named; 'catch' the same inside
--                         an EXCEPTION block that could name it (figure 11);
--   feeds => 'call'       an array of the facts and a call per feed of its
--                         array projection (kit.projection_sql(facts =>
--                         'array')), the write path before 0.3.0 (figure 10).
--
-- SECURITY DEFINER: the privilege boundary. The inserting app role may not
-- write read tables; the feeds do, as the kit's owner. Therefore nothing they
-- run may resolve a name through the writer's search_path, or a writer that
-- owns a schema could put its own count() or = operator first and have it
-- run as the owner. SET search_path = pg_catalog, pg_temp pins it for the
-- whole call, error helpers included (they inherit it); pg_temp last, so no
-- temporary object shadows anything, and the domain's tables are always
-- schema-qualified (kit.relation). kit.check_security() reports any SECURITY DEFINER function
-- without such a path. ENABLE ALWAYS: facts written under
-- session_replication_role = replica (a logical-replication subscriber
-- applying the origin's facts, a restore) reach the read tables too.
CREATE OR REPLACE FUNCTION kit.feed_trigger_sql(write_table text, level text DEFAULT 'statement', rejections text DEFAULT 'name',
                                                feeds text DEFAULT 'inline',
                                                OUT function_name text, OUT create_sql text, OUT body text,
                                                OUT security_definer boolean, OUT config text[], OUT strict boolean,
                                                OUT trigger_sql text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _trigger    text := kit.object_name('feed', feed_trigger_sql.write_table);
    _facts      text;
    _statements text;
    _block      text;
BEGIN
    IF feed_trigger_sql.level IS NULL OR feed_trigger_sql.level NOT IN ('statement', 'row')
       OR feed_trigger_sql.rejections IS NULL OR feed_trigger_sql.rejections NOT IN ('name', 'fail', 'catch')
       OR feed_trigger_sql.feeds IS NULL OR feed_trigger_sql.feeds NOT IN ('inline', 'call') THEN
        RAISE EXCEPTION 'A feed trigger is level statement or row, rejections name, fail or catch, feeds inline or call (Given: %, %, %)',
            feed_trigger_sql.level, feed_trigger_sql.rejections, feed_trigger_sql.feeds;
    END IF;
    _facts := CASE feed_trigger_sql.level WHEN 'statement' THEN 'new_rows' ELSE '(SELECT NEW.*)' END;
    SELECT string_agg(CASE feed_trigger_sql.feeds
                          WHEN 'inline' THEN format('    -- %s', f.projection) || kit.feed_statements(
                              write_table => f.write_table, read_table => f.read_table, key_column => f.key_column,
                              facts => _facts, checks => true,
                              rejections => CASE feed_trigger_sql.rejections WHEN 'name' THEN 'name' ELSE 'fail' END)
                          ELSE format(E'    PERFORM %s(_facts);\n', kit.beside(f.write_table, f.projection)) END,
                      '' ORDER BY f.read_table)
      INTO _statements
      FROM kit.feed f JOIN kit.read_version v ON v.read_table = f.read_table
     WHERE f.write_table = feed_trigger_sql.write_table AND v.state = 'live' AND kit.domain_table_exists(f.read_table);
    IF _statements IS NULL THEN
        RETURN;
    END IF;
    IF feed_trigger_sql.rejections = 'catch' THEN
        _statements := kit.render(E'    BEGIN\n{{statements}}    EXCEPTION WHEN unique_violation THEN\n        RAISE;\n    END;\n',
                                  jsonb_build_object('statements', _statements));
    END IF;
    _block := CASE feed_trigger_sql.feeds
        WHEN 'inline' THEN kit.feed_block(_statements, ending => E'    RETURN NULL;\n',
                                          fact_count => CASE feed_trigger_sql.level WHEN 'statement' THEN '(SELECT count(*) FROM new_rows)' ELSE '1' END)
        ELSE kit.render($t$
DECLARE
    _facts {{write_table}}[] := ARRAY(SELECT n::{{write_table}} FROM {{facts}} AS n);
BEGIN
{{statements}}    RETURN NULL;
END
$t$, jsonb_build_object('write_table', kit.relation(feed_trigger_sql.write_table), 'facts', _facts, 'statements', _statements)) END;
    SELECT o.function_name, o.create_sql, o.body, o.security_definer, o.config, o.strict
      INTO function_name, create_sql, body, security_definer, config, "strict"
      FROM kit.function_object(name => kit.beside(feed_trigger_sql.write_table, _trigger), arguments => '', returns => 'trigger', source => _block,
                               definer => true, pinned_path => 'pg_catalog, pg_temp', applies_facts => true) o;
    trigger_sql := kit.render($t$CREATE TRIGGER {{trigger}} AFTER INSERT ON {{write_table}}{{transition}}
    FOR EACH {{level}} EXECUTE FUNCTION {{function}}();
ALTER TABLE {{write_table}} ENABLE ALWAYS TRIGGER {{trigger}};
$t$, jsonb_build_object('trigger', format('%I', _trigger), 'write_table', kit.relation(feed_trigger_sql.write_table),
                        'function', kit.beside(feed_trigger_sql.write_table, _trigger),
                        'transition', CASE feed_trigger_sql.level WHEN 'statement' THEN ' REFERENCING NEW TABLE AS new_rows' ELSE '' END,
                        'level', upper(feed_trigger_sql.level)));
END
$$;
