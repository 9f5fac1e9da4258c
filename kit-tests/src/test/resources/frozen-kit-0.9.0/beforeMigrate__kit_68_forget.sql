-- Kit script 68 forget (run by Flyway before every migrate, in file-name order).
-- Forgetting a person, the one sanctioned change of facts: which columns of
-- write tables hold personal data about an entity and what replaces them
-- (kit.declare_personal_data), the role that may forget (kit.grant_forget),
-- and kit.forget, which redacts those columns in every fact about one entity,
-- projects that entity's read rows again from the redacted facts and records
-- that it happened, in one transaction.
-- Idempotent: CREATE OR REPLACE, safe to run again.

-- The role whose members may call kit.forget: the one recorded when the kit
-- made it (kit.forget_role), else the setting kit.forget_role, else
-- kit_forget: for people and jobs that forget (GRANT kit_forget TO alice).
-- Roles belong to the server: a member may forget in every database whose
-- kit made that role its forget role; databases whose forgetters must differ
-- name theirs at the install (-c kit.forget_role=...).
CREATE OR REPLACE FUNCTION kit.forget_role_name()
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT coalesce((SELECT r.role_name FROM kit.forget_role r ORDER BY r.role_name LIMIT 1),
                    nullif(current_setting('kit.forget_role', true), ''), 'kit_forget')
$$;

-- Makes the forget role, unless it is there, with USAGE on the kit's schema
-- and EXECUTE on kit.forget, and records its name. Without the right to
-- create roles it says so and leaves kit.forget to its owner and the app
-- versions granted it.
CREATE OR REPLACE FUNCTION kit.ensure_forget_role()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _role text := kit.forget_role_name();
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles r WHERE r.rolname = _role) THEN
        BEGIN
            EXECUTE format('CREATE ROLE %I NOLOGIN', _role);
        EXCEPTION
            WHEN duplicate_object THEN
                NULL;  -- another database's migration made it at the same moment
            WHEN insufficient_privilege THEN
                RAISE NOTICE 'kit: cannot create the forget role % (%): only the kit''s owner may call kit.forget until a migration with CREATEROLE calls kit.grant_forget',
                             _role, SQLERRM;
                RETURN;
        END;
    END IF;
    INSERT INTO kit.forget_role (role_name) VALUES (_role) ON CONFLICT DO NOTHING;
    EXECUTE format('GRANT USAGE ON SCHEMA kit TO %I', _role);
    EXECUTE format('GRANT EXECUTE ON FUNCTION kit.forget(text, bigint, text) TO %I', _role);
END
$$;

-- The read row a feed's fact makes or changes, as an SQL expression over the
-- fact f: a keyed feed's key column, an insert feed's id (f.id, or what the
-- feed computes it with). NULL for a sql feed: the kit cannot see which rows
-- its statement writes.
CREATE OR REPLACE FUNCTION kit.feed_row_key(kind text, key_column text, columns jsonb)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT CASE WHEN feed_row_key.kind = 'sql' THEN NULL
                WHEN feed_row_key.key_column IS NOT NULL THEN format('f.%I', feed_row_key.key_column)
                WHEN coalesce(feed_row_key.columns, '{}') ? 'id' THEN format('(%s)', feed_row_key.columns ->> 'id')
                ELSE 'f.id' END
$$;

-- Declares which columns of a write table hold personal data about an
-- entity, and what kit.forget writes in their place: `columns` maps each to
-- an SQL expression over the fact f, of the column's type, that keeps the read
-- tables' rules ('forgotten-' || f.id || '@invalid' for an email that is NOT
-- NULL UNIQUE). The entity is an id space of the domain: the table's own
-- (its facts' id is the entity's, entity_column 'id'), or the one whose id
-- entity_column holds (password_changed_2.user_id: entity => 'user',
-- entity_column => 'user_id'); or the entity of its read versions, whose ids
-- no id space gives (a table brought under the kit: customers_recorded_0.row_id,
-- entity => 'customers'). Called by the migration that creates the
-- table, again by a later one to change a redaction. Refuses (KT006, nothing
-- changed) a column the kit or a feed needs as it is (id, seq, recorded_at,
-- the entity column, a feed's key), an expression that does not compile
-- against the table's row or does not fit the column, NULL for a NOT NULL
-- column, and another entity than the table's columns are declared about.
CREATE OR REPLACE FUNCTION kit.declare_personal_data(write_table text, columns jsonb, entity text DEFAULT NULL,
                                                     entity_column text DEFAULT 'id', domain text DEFAULT current_schema())
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _write  record;
    _table  regclass;
    _column record;
    _other  record;
    _probe  refcursor;
BEGIN
    declare_personal_data.write_table := kit.table_key(declare_personal_data.write_table, kit.require_domain(declare_personal_data.domain));
    SELECT * INTO _write FROM kit.write_table w WHERE w.write_table = declare_personal_data.write_table;
    IF NOT FOUND THEN
        PERFORM kit.usage_error(format('Not a write table: %s', declare_personal_data.write_table),
                                'Declare its personal data after kit.create_write_table; nothing was changed.');
    END IF;
    _table := to_regclass(kit.relation(declare_personal_data.write_table));
    IF _table IS NULL THEN
        PERFORM kit.refuse_missing_table(declare_personal_data.write_table, 'kit.declare_personal_data');
    END IF;
    declare_personal_data.entity := coalesce(kit.table_key(declare_personal_data.entity, kit.key_schema(declare_personal_data.write_table)),
                                             CASE WHEN declare_personal_data.entity_column = 'id' THEN _write.id_space END);
    IF declare_personal_data.entity IS NULL THEN
        PERFORM kit.usage_error(format('Name the entity whose id %s of %s holds (entity => ...)', declare_personal_data.entity_column,
                                       declare_personal_data.write_table),
                                'The entity is an id space of the domain, e.g. entity => ''user'', entity_column => ''user_id''; nothing was changed.');
    END IF;
    IF NOT EXISTS (SELECT FROM kit.write_table w WHERE w.id_space = declare_personal_data.entity)
       AND NOT EXISTS (SELECT FROM kit.read_version v WHERE v.domain = kit.key_schema(declare_personal_data.write_table)
                          AND v.entity = kit.key_table(declare_personal_data.entity)) THEN
        PERFORM kit.usage_error(format('No such entity (id space): %s (Write table: %s, Id spaces: %s)', declare_personal_data.entity,
                                       declare_personal_data.write_table,
                                       (SELECT string_agg(DISTINCT w.id_space, ', ') FROM kit.write_table w
                                         WHERE w.domain = kit.key_schema(declare_personal_data.write_table))),
                                'Name an id space of the domain (kit.create_write_table''s id_space), or the entity of its read versions; nothing was changed.');
    END IF;
    IF declare_personal_data.entity_column = 'id' AND declare_personal_data.entity <> _write.id_space THEN
        PERFORM kit.usage_error(format('The id of %s is a %s id, not a %s id: name the column that holds the %3$s''s id (entity_column => ...)',
                                       declare_personal_data.write_table, _write.id_space, declare_personal_data.entity));
    END IF;
    IF NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = _table AND a.attname = declare_personal_data.entity_column
                      AND a.attnum > 0 AND NOT a.attisdropped AND a.atttypid = 'bigint'::regtype) THEN
        PERFORM kit.usage_error(format('%s has no bigint column %s to find the facts about a %s by', declare_personal_data.write_table,
                                       coalesce(declare_personal_data.entity_column, 'NULL'), declare_personal_data.entity),
                                'Name the column that holds the entity''s id (entity_column => ...); nothing was changed.');
    END IF;
    SELECT p.entity, p.entity_column INTO _other FROM kit.personal_column p
     WHERE p.write_table = declare_personal_data.write_table
       AND (p.entity, p.entity_column) IS DISTINCT FROM (declare_personal_data.entity, declare_personal_data.entity_column)
     LIMIT 1;
    IF FOUND THEN
        PERFORM kit.usage_error(format('%s holds personal data about %s, by its column %s, not about %s by %s: one entity per write table',
                                       declare_personal_data.write_table, _other.entity, _other.entity_column,
                                       declare_personal_data.entity, declare_personal_data.entity_column),
                                format('To change a redaction, name the same entity: entity => %L, entity_column => %L; nothing was changed.',
                                       _other.entity, _other.entity_column));
    END IF;
    IF jsonb_typeof(declare_personal_data.columns) IS DISTINCT FROM 'object' OR declare_personal_data.columns = '{}' THEN
        PERFORM kit.usage_error(format('Personal data is a JSON object of column: redaction (Write table: %s, Given: %s)',
                                       declare_personal_data.write_table, coalesce(declare_personal_data.columns::text, 'NULL')),
                                'For example columns => ''{"email": "''''forgotten-'''' || f.id || ''''@invalid''''"}''; nothing was changed.');
    END IF;
    FOR _column IN SELECT c.key AS name, c.value AS redaction, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
                          a.attname IS NOT NULL AND a.attname NOT IN ('id', 'seq', 'recorded_at', declare_personal_data.entity_column)
                          AND NOT EXISTS (SELECT FROM kit.feed f WHERE f.write_table = declare_personal_data.write_table
                                             AND f.key_column = c.key) AS redactable
                     FROM jsonb_each(declare_personal_data.columns) c
                     LEFT JOIN pg_attribute a ON a.attrelid = _table AND a.attname = c.key AND a.attnum > 0 AND NOT a.attisdropped
                    ORDER BY c.key LOOP
        IF NOT _column.redactable OR jsonb_typeof(_column.redaction) <> 'string' THEN
            PERFORM kit.usage_error(
                format('Personal data is a column of the write table that is not id, seq, recorded_at, the entity''s id or a feed''s key, redacted by an expression in a string: %s (Write table: %s)',
                       _column.name, declare_personal_data.write_table),
                'Name the columns that hold what a person may ask to have erased (an email, a name); nothing was changed.');
        END IF;
        PERFORM kit.checked_sql_text(_column.redaction #>> '{}', format('The redaction of column %s of %s', _column.name,
                                                                       declare_personal_data.write_table));
        IF _column.not_null AND upper(btrim(_column.redaction #>> '{}')) = 'NULL' THEN
            PERFORM kit.usage_error(format('Column %s of %s is NOT NULL: its redaction cannot be NULL', _column.name,
                                           declare_personal_data.write_table),
                                    'Redact it to a value that says what it was, e.g. ''!'' for a password hash; nothing was changed.');
        END IF;
        BEGIN
            -- Parsed by PostgreSQL alone as a cursor's query (one statement, nothing run), then planned
            -- as kit.forget's own UPDATE (EXPLAIN: the append-only guard would refuse it run).
            OPEN _probe FOR EXECUTE format('SELECT (%s) FROM %s AS f', _column.redaction #>> '{}', _table);
            CLOSE _probe;
            EXECUTE format('EXPLAIN UPDATE %s AS f SET %I = (%s)', _table, _column.name, _column.redaction #>> '{}');
        EXCEPTION WHEN OTHERS THEN
            PERFORM kit.usage_error(format('Cannot redact column %s of %s with %s: %s (SQLSTATE %s)', _column.name,
                                           declare_personal_data.write_table, _column.redaction #>> '{}', SQLERRM, SQLSTATE),
                                    format('Write the redaction over the fact f (its columns as f.name), with a value of type %s; nothing was changed.',
                                           _column.type));
        END;
        INSERT INTO kit.personal_column AS p (write_table, column_name, redaction, entity, entity_column)
        VALUES (declare_personal_data.write_table, _column.name, _column.redaction #>> '{}', declare_personal_data.entity,
                declare_personal_data.entity_column)
        ON CONFLICT ON CONSTRAINT personal_column_pkey DO UPDATE
            SET redaction = excluded.redaction, entity = excluded.entity, entity_column = excluded.entity_column;
    END LOOP;
END
$$;

-- Projects rows `ids` of read_table again from their facts with seq up to
-- up_to, as a replay makes them: removes them, then applies every fact that
-- one of its feeds takes about them (kit.feed_row_key), in seq order, a run
-- of one write table's facts at a time, through the feed's own template
-- (kit.feed_statements, as a replay: no checks, plain inserts). Returns how
-- many of those rows there are afterwards. The caller keeps new facts about
-- them out (kit.forget's locks).
CREATE OR REPLACE FUNCTION kit.reproject_rows(read_table text, ids bigint[], up_to bigint)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _rules_of text := coalesce((SELECT v.rebuild_of FROM kit.read_version v WHERE v.read_table = reproject_rows.read_table),
                               reproject_rows.read_table);
    _facts    text;
    _run      record;
    _rows     bigint;
BEGIN
    EXECUTE format('DELETE FROM %s AS r WHERE r.id = ANY ($1)', kit.relation(reproject_rows.read_table)) USING reproject_rows.ids;
    SELECT string_agg(format('SELECT f.seq, %L::text AS write_table FROM %s AS f WHERE %s = ANY ($1) AND f.seq <= $2',
                             f.write_table, kit.relation(f.write_table), kit.feed_row_key(f.kind, f.key_column, f.columns)), ' UNION ALL ')
      INTO _facts
      FROM kit.feed f WHERE f.read_table = reproject_rows.read_table AND kit.domain_table_exists(f.write_table);
    FOR _run IN EXECUTE format($q$
        SELECT r.write_table, min(r.seq) AS first_seq, max(r.seq) AS last_seq
          FROM (SELECT u.seq, u.write_table, count(*) FILTER (WHERE u.write_table IS DISTINCT FROM u.before) OVER (ORDER BY u.seq) AS run
                  FROM (SELECT u.*, lag(u.write_table) OVER (ORDER BY u.seq) AS before FROM (%s) AS u) AS u) AS r
         GROUP BY r.run, r.write_table
         ORDER BY min(r.seq)
        $q$, coalesce(_facts, 'SELECT NULL::bigint AS seq, NULL::text AS write_table WHERE false'))
        USING reproject_rows.ids, reproject_rows.up_to LOOP
        SELECT format('(SELECT f.* FROM %s AS f WHERE %s = ANY (%L::bigint[]) AND f.seq >= %s AND f.seq <= %s ORDER BY f.seq)',
                      kit.relation(f.write_table), kit.feed_row_key(f.kind, f.key_column, f.columns), reproject_rows.ids,
                      _run.first_seq, _run.last_seq) INTO _facts
          FROM kit.feed f WHERE f.read_table = reproject_rows.read_table AND f.write_table = _run.write_table;
        EXECUTE kit.render(E'DO {{quote}}{{block}}{{quote}};\n', jsonb_build_object('quote', '$block$', 'block', kit.feed_block(
            kit.feed_statements(write_table => _run.write_table, read_table => _rules_of,
                                key_column => (SELECT f.key_column FROM kit.feed f
                                                WHERE f.read_table = reproject_rows.read_table AND f.write_table = _run.write_table),
                                facts => _facts, target => reproject_rows.read_table, checks => false, rejections => 'fail'),
            fact_count => format('(SELECT count(*) FROM %s AS f)', _facts))));
    END LOOP;
    EXECUTE format('SELECT count(*) FROM %s AS r WHERE r.id = ANY ($1)', kit.relation(reproject_rows.read_table))
       INTO _rows USING reproject_rows.ids;
    RETURN _rows;
END
$$;

-- Forgets entity `id` of `domain` (the caller's current schema unless
-- named), in the caller's transaction: every declared personal column
-- (kit.declare_personal_data) of every fact about it, in every write table,
-- becomes its redaction; every row of a live or building read version (rebuild
-- shadows included) that one of those facts made or changed is projected again
-- from the redacted facts (kit.reproject_rows; a building one up to where its
-- backfill is); and kit.forgotten records it: when, entity, id, the login role,
-- how many facts and rows, never a value. Returns those two counts. An id that
-- no fact with personal data names is refused (KT004), and nothing recorded.
--
-- While it runs, the write tables that feed those read versions take no new
-- fact and no other forget runs (SHARE ROW EXCLUSIVE locks, taken briefly:
-- kit.lock_briefly, in name order), and no backfill, retire
-- or rebuild batch touches them (their catalog rows FOR SHARE): no fact
-- about the person arrives half-redacted, no update of their row is lost.
-- Writers of those tables wait for it, a few milliseconds.
--
-- A read version that a sql feed fills is projected again whole (the kit
-- cannot tell which of its rows a fact made): a forget then takes as long as
-- its rebuild. Refuses (KT006, nothing changed) an entity with no declared
-- personal data, a table still under capture (kit.baseline), and any
-- redaction that breaks a rule, naming it. SECURITY DEFINER: the members
-- of the forget role (kit.forget_role_name) and the app versions granted it
-- (kit.grant_forget) run it as the
-- kit's owner, with the pinned search_path and the settings that applying
-- facts runs with (kit.fact_settings, set below), as a replay would.
CREATE OR REPLACE FUNCTION kit.forget(entity text, id bigint, domain text DEFAULT current_schema(),
                                      OUT facts_redacted bigint, OUT rows_reprojected bigint)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _entity  text;
    _tables  text[];
    _reads   text[];
    _write   record;
    _read    record;
    _ids     bigint[];
    _count   bigint;
    _state   text;
    _message text;
BEGIN
    IF forget.entity IS NULL OR forget.id IS NULL THEN
        PERFORM kit.usage_error('kit.forget needs an entity and an id, e.g. kit.forget(''user'', 42)',
                                'Name the entity (an id space with declared personal data) and the id to forget; nothing was changed.');
    END IF;
    _entity := kit.table_key(forget.entity, kit.require_domain(forget.domain));
    _tables := ARRAY(SELECT DISTINCT p.write_table FROM kit.personal_column p
                      WHERE p.entity = _entity AND kit.domain_table_exists(p.write_table) ORDER BY 1);
    IF cardinality(_tables) = 0 THEN
        PERFORM kit.usage_error(format('No personal data is declared about %s (Domain: %s, Declared about: %s)', _entity, forget.domain,
                                       coalesce((SELECT string_agg(DISTINCT p.entity, ', ') FROM kit.personal_column p), 'nothing')),
                                'A migration declares it: kit.declare_personal_data(''<write table>'', ''{"<column>": "<redaction>"}''); nothing was changed.');
    END IF;
    _message := (SELECT string_agg(b.source_table, ', ') FROM kit.baseline_table b
                  WHERE b.recorded_table = ANY (_tables) AND b.state IN ('copying', 'capturing'));
    IF _message IS NOT NULL THEN
        PERFORM kit.usage_error(format('kit.forget cannot forget %s %s while %s is still captured: its next write would record the person''s row again',
                                       _entity, forget.id, _message),
                                'Move the app to facts and end the capture first (kit.end_capture); nothing was changed.');
    END IF;
    _reads := ARRAY(SELECT DISTINCT f.read_table FROM kit.feed f
                      JOIN kit.read_version v ON v.read_table = f.read_table AND v.state IN ('building', 'live')
                     WHERE f.write_table = ANY (_tables) AND kit.domain_table_exists(f.read_table) ORDER BY 1);
    -- SHARE ROW EXCLUSIVE: no writer, and no other forget (it conflicts with itself, where SHARE
    -- would let two forgets share the tables, then deadlock on their UPDATEs); in one order.
    PERFORM kit.lock_briefly(ARRAY(SELECT w.t::regclass
                                     FROM (SELECT DISTINCT kit.relation(u.t) AS t
                                             FROM (SELECT unnest(_tables) AS t
                                                   UNION SELECT g.write_table FROM kit.feed g WHERE g.read_table = ANY (_reads)) u
                                            WHERE kit.domain_table_exists(u.t)) w
                                    ORDER BY w.t),
                             'SHARE ROW EXCLUSIVE', format('forget %s %s', _entity, forget.id), attempts => 50);
    PERFORM set_config('lock_timeout', '10s', true);
    PERFORM FROM kit.read_version v WHERE v.read_table = ANY (_reads) ORDER BY v.read_table FOR SHARE;
    PERFORM set_config('lock_timeout', '0', true);

    INSERT INTO kit.forgotten (domain, entity, id) VALUES (forget.domain, _entity, forget.id);
    facts_redacted := 0;
    rows_reprojected := 0;
    BEGIN
        FOR _write IN SELECT p.write_table, p.entity_column,
                             string_agg(format('%I = (%s)', p.column_name, p.redaction), ', ' ORDER BY p.column_name) AS sets
                        FROM kit.personal_column p
                       WHERE p.write_table = ANY (_tables) AND p.entity = _entity
                       GROUP BY p.write_table, p.entity_column ORDER BY p.write_table LOOP
            -- The append-only guard lets this UPDATE through, and no other (kit.refuse_change_of_fact).
            UPDATE kit.forgotten g SET redacting = _write.write_table
             WHERE g.xact = pg_current_xact_id() AND g.domain = forget.domain AND g.entity = _entity AND g.id = forget.id;
            EXECUTE format('UPDATE %s AS f SET %s WHERE f.%I = $1', kit.relation(_write.write_table), _write.sets, _write.entity_column)
              USING forget.id;
            GET DIAGNOSTICS _count = ROW_COUNT;
            facts_redacted := facts_redacted + _count;
        END LOOP;
        UPDATE kit.forgotten g SET redacting = NULL
         WHERE g.xact = pg_current_xact_id() AND g.domain = forget.domain AND g.entity = _entity AND g.id = forget.id;

        -- A read version a sql feed fills, projected again whole: the kit cannot tell which of its
        -- rows a fact made (as long as a rebuild of it takes).
        FOR _read IN SELECT v.read_table, CASE v.state WHEN 'live' THEN coalesce(pg_sequence_last_value('kit.fact_seq'), 0)
                                                       ELSE v.backfilled_to END AS up_to
                       FROM kit.read_version v
                      WHERE v.read_table = ANY (_reads)
                        AND EXISTS (SELECT FROM kit.feed g WHERE g.read_table = v.read_table AND g.kind = 'sql')
                      ORDER BY v.read_table LOOP
            EXECUTE format('DELETE FROM %s', kit.relation(_read.read_table));
            PERFORM kit.replay_facts(_read.read_table, 0, _read.up_to);
            EXECUTE format('SELECT count(*) FROM %s', kit.relation(_read.read_table)) INTO _count;
            rows_reprojected := rows_reprojected + _count;
        END LOOP;
        -- Each other read version's rows that the facts about the entity make or change, projected again.
        FOR _read IN SELECT v.read_table, CASE v.state WHEN 'live' THEN 9223372036854775807 ELSE v.backfilled_to END AS up_to,
                            string_agg(format('SELECT %s AS id FROM %s AS f WHERE f.%I = $1 AND f.seq <= $2',
                                              kit.feed_row_key(f.kind, f.key_column, f.columns), kit.relation(f.write_table),
                                              p.entity_column), ' UNION ') AS keys
                       FROM kit.read_version v
                       JOIN kit.feed f ON f.read_table = v.read_table
                       JOIN (SELECT DISTINCT q.write_table, q.entity_column FROM kit.personal_column q
                              WHERE q.write_table = ANY (_tables) AND q.entity = _entity) p ON p.write_table = f.write_table
                      WHERE v.read_table = ANY (_reads)
                        AND NOT EXISTS (SELECT FROM kit.feed g WHERE g.read_table = v.read_table AND g.kind = 'sql')
                      GROUP BY v.read_table, v.state, v.backfilled_to ORDER BY v.read_table LOOP
            EXECUTE format('SELECT array_agg(DISTINCT k.id) FROM (%s) AS k WHERE k.id IS NOT NULL', _read.keys)
               INTO _ids USING forget.id, _read.up_to;
            IF _ids IS NOT NULL THEN
                rows_reprojected := rows_reprojected + kit.reproject_rows(_read.read_table, _ids, _read.up_to);
            END IF;
        END LOOP;
    EXCEPTION WHEN integrity_constraint_violation THEN
        GET STACKED DIAGNOSTICS _state = RETURNED_SQLSTATE, _message = MESSAGE_TEXT;
        PERFORM kit.usage_error(format('Forgetting %s %s breaks a rule: %s (SQLSTATE %s)', _entity, forget.id, _message, _state),
                                'A redaction must keep every rule of the write and read tables (NOT NULL, UNIQUE, CHECK): e.g. ''forgotten-'' || f.id || ''@invalid'' for a unique email; nothing was changed.');
    END;
    IF facts_redacted = 0 THEN
        -- Nothing to forget: a wrong id, or another entity's; recorded as done it would look like an erasure.
        RAISE EXCEPTION USING ERRCODE = 'KT004',
            MESSAGE = format('Unknown %s: %s (no fact holds personal data about it; nothing was changed)', _entity, forget.id),
            HINT = format('Name the id of a %s that has facts.', _entity);
    END IF;
    UPDATE kit.forgotten g SET facts_redacted = forget.facts_redacted, rows_reprojected = forget.rows_reprojected
     WHERE g.xact = pg_current_xact_id() AND g.domain = forget.domain AND g.entity = _entity AND g.id = forget.id;
END
$$;

-- kit.forget applies facts (it projects rows again): it runs with the
-- settings that the feeds' code pins (kit.fact_settings), whatever the
-- caller's session says.
DO $$
DECLARE
    _setting text;
BEGIN
    FOREACH _setting IN ARRAY kit.fact_settings() LOOP
        EXECUTE format('ALTER FUNCTION kit.forget(text, bigint, text) SET %I = %L',
                       split_part(_setting, '=', 1), substr(_setting, strpos(_setting, '=') + 1));
    END LOOP;
END
$$;

-- Lets the role of app version `version` of `domain` (the caller's current
-- schema unless named) call kit.forget (the example's version 4: DELETE
-- /users/{id}?forget=true): EXECUTE on it in this database, not the forget
-- role, whose membership would reach every database of the server where an
-- app role of that name exists. Recorded (kit.forget_grant), so that the
-- grant is kept (kit.grant_start_up_gate) and expected (kit.drift), and any
-- other app role that can run kit.forget is drift, which kit.repair()
-- revokes.
CREATE OR REPLACE FUNCTION kit.grant_forget(version integer, domain text DEFAULT current_schema())
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _role text := (SELECT a.role_name FROM kit.app_role a
                    WHERE a.domain = kit.require_domain(grant_forget.domain) AND a.version = grant_forget.version);
BEGIN
    IF _role IS NULL THEN
        PERFORM kit.usage_error(format('Version %s of %s has no app role', grant_forget.version, grant_forget.domain),
                                format('Create it first: kit.create_app_role(%s); nothing was changed.', grant_forget.version));
    END IF;
    INSERT INTO kit.forget_grant (domain, version) VALUES (grant_forget.domain, grant_forget.version) ON CONFLICT DO NOTHING;
    EXECUTE format('GRANT EXECUTE ON FUNCTION kit.forget(text, bigint, text) TO %I', _role);
END
$$;

-- The app roles that can run kit.forget (through the forget role or a grant
-- of their own) though no migration granted it to their version
-- (kit.grant_forget): kit.drift() names them, kit.repair() revokes them.
CREATE OR REPLACE FUNCTION kit.unsanctioned_forgetters()
RETURNS TABLE (role_name text, domain text, version integer)
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT a.role_name, a.domain, a.version
      FROM kit.app_role a
      JOIN pg_roles r ON r.rolname = a.role_name
     WHERE has_function_privilege(r.oid, 'kit.forget(text, bigint, text)', 'EXECUTE')
       AND NOT EXISTS (SELECT FROM kit.forget_grant g WHERE g.domain = a.domain AND g.version = a.version)
     ORDER BY 1
$$;

DO $$
BEGIN
    IF current_setting('kit.install_action') <> 'none' THEN
        PERFORM kit.ensure_forget_role();
    END IF;
END
$$;
