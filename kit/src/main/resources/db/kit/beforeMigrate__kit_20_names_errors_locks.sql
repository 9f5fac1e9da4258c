-- Kit script 20 names_errors_locks (run by Flyway before every migrate, in file-name order).
-- What every later script uses: every generated name (kit.object_name), the
-- kit's errors (SQLSTATE class KT) and its bounded waits for locks.
-- Idempotent: CREATE OR REPLACE / IF NOT EXISTS, safe to run again.

-- Domains. A schema is a domain: its write tables, read versions, schema
-- versions and app roles are its own, beside any other schema's. The kit
-- names a table by its kit name: the table's name alone in schema public (as
-- every kit before 0.7.0 named them all), schema.name in any other. Catalog
-- keys, messages and the kit command use it; kit.relation turns it into SQL.
-- Names are taken as written (no case folding, as the kit always took them);
-- double quotes are needed only in a name given with a quote (parse_ident
-- reads it then). A schema or table name with a dot in it is refused: its kit
-- name could not be read back.

-- The kit name of table_name in schema_name.
CREATE OR REPLACE FUNCTION kit.kit_name(schema_name text, table_name text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT CASE WHEN kit_name.schema_name = 'public' THEN kit_name.table_name
                ELSE kit_name.schema_name || '.' || kit_name.table_name END
$$;

-- The schema (the domain) of a kit name.
CREATE OR REPLACE FUNCTION kit.key_schema(kit_name text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT CASE WHEN strpos(key_schema.kit_name, '.') = 0 THEN 'public' ELSE split_part(key_schema.kit_name, '.', 1) END
$$;

-- The table name of a kit name, without its schema.
CREATE OR REPLACE FUNCTION kit.key_table(kit_name text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT substr(key_table.kit_name, strpos(key_table.kit_name, '.') + 1)
$$;

-- A kit name as SQL: schema-qualified and quoted (to_regclass reads it, %s
-- writes it into a statement).
CREATE OR REPLACE FUNCTION kit.relation(kit_name text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT format('%I.%I', kit.key_schema(relation.kit_name), kit.key_table(relation.kit_name))
$$;

-- An object the kit generates for a table (a trigger function, a
-- projection) as SQL: `name` in the table's schema.
CREATE OR REPLACE FUNCTION kit.beside(kit_name text, name text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT format('%I.%I', kit.key_schema(beside.kit_name), beside.name)
$$;

-- The kit name of a table named in a call: 'shop.order_placed' (or
-- '"Shop"."Order"'), or an unqualified name in `domain`, which the kit's
-- functions default to the caller's current schema (a parameter's DEFAULT is
-- evaluated in the caller's session, before the function's own pinned
-- search_path applies). NULL for NULL. Refuses with KT006 a name of more than
-- two parts, an empty part, a part with a dot, and no domain.
CREATE OR REPLACE FUNCTION kit.table_key(name text, domain text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog
AS $$
DECLARE
    _parts text[];
BEGIN
    IF table_key.name IS NULL THEN
        RETURN NULL;
    END IF;
    IF strpos(table_key.name, '"') > 0 THEN
        BEGIN
            _parts := parse_ident(table_key.name);
        EXCEPTION WHEN OTHERS THEN
            RAISE EXCEPTION USING ERRCODE = 'KT006', MESSAGE = format('Not a table name: %s (%s)', table_key.name, SQLERRM),
                HINT = 'Name a table as schema.table or table; quote a part only when it holds a quote, as "Shop"."Order".';
        END;
    ELSE
        _parts := string_to_array(table_key.name, '.');
    END IF;
    IF cardinality(_parts) = 1 THEN
        _parts := ARRAY[table_key.domain, _parts[1]];
    END IF;
    IF cardinality(_parts) <> 2 OR _parts[1] IS NULL OR _parts[1] = '' OR _parts[2] = ''
       OR strpos(_parts[1], '.') > 0 OR strpos(_parts[2], '.') > 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'KT006',
            MESSAGE = format('Not a table name the kit can take: %s', table_key.name)
                      || CASE WHEN cardinality(_parts) = 2 AND _parts[1] IS NULL THEN ' (no current schema: name its schema)' ELSE '' END,
            HINT = 'Name a table as schema.table, or as table in the current schema (SET search_path, or Flyway''s defaultSchema); '
                   'a schema or table name may not contain a dot.';
    END IF;
    RETURN kit.kit_name(_parts[1], _parts[2]);
END
$$;

-- A domain named in a call (domain => 'shop', or the caller's current
-- schema): refused with KT006 unless the schema exists.
CREATE OR REPLACE FUNCTION kit.require_domain(domain text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog
AS $$
BEGIN
    IF require_domain.domain IS NULL OR to_regnamespace(quote_ident(require_domain.domain)) IS NULL
       OR strpos(require_domain.domain, '.') > 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'KT006',
            MESSAGE = format('No such domain (schema): %s', coalesce(require_domain.domain, 'none: the session has no current schema')),
            HINT = 'A domain is a schema that holds kit tables: name it (domain => ''shop''), or set the search_path to it.';
    END IF;
    RETURN require_domain.domain;
END
$$;

-- Every name the kit generates comes from here, so that names never drift.
-- 'feed', 'accept_id' and 'assign_id' name a write table's triggers,
-- 'projection' a feed's function (in the write table's schema: see
-- kit.beside), 'shadow' the kit name of a read table's rebuild (in its
-- schema), 'id_space' and 'id_claimer' the functions in schema kit that give
-- and take an id space's ids (write_table is then the id space, a kit name
-- too: an id space belongs to a domain; shop.order gives assign_shop__order_id).
-- accept_id_<w> sorts before assign_id_<w> on purpose: PostgreSQL fires a
-- table's BEFORE triggers in name order, and an explicit id must be claimed
-- before the assigner runs. 'capture' (trigger and function), 'no_truncate'
-- and 'read_only' name what kit.baseline and kit.end_capture put on an
-- existing table (write_table is then that table). Each name is checked
-- against PostgreSQL's limit.
CREATE OR REPLACE FUNCTION kit.object_name(kind text, write_table text, read_table text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog
AS $$
DECLARE
    _write text := kit.key_table(object_name.write_table);
    _space text := replace(object_name.write_table, '.', '__');
    _name  text;
BEGIN
    _name := CASE object_name.kind
        WHEN 'projection'  THEN format('project_%s_into_%s', _write, kit.key_table(object_name.read_table))
        WHEN 'feed'        THEN format('feed_%s', _write)
        WHEN 'append_only' THEN format('append_only_%s', _write)
        WHEN 'assign_id'   THEN format('assign_id_%s', _write)
        WHEN 'accept_id'   THEN format('accept_id_%s', _write)
        WHEN 'id_space'    THEN format('assign_%s_id', _space)
        WHEN 'id_claimer'  THEN format('accept_%s_id', _space)
        WHEN 'id_sequence' THEN format('%s_id_seq', _space)
        WHEN 'shadow'      THEN format('%s__rebuild', _write)
        WHEN 'capture'     THEN format('capture_%s', _write)
        WHEN 'no_truncate' THEN format('no_truncate_%s', _write)
        WHEN 'read_only'   THEN format('read_only_%s', _write)
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
    IF object_name.kind = 'shadow' THEN
        RETURN kit.kit_name(kit.key_schema(object_name.write_table), _name);
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

-- SQL text a migration gives the kit (a feed's expressions, filter and
-- statement) with what PostgreSQL's lexer would not read as code blanked out:
-- each string literal (standard, E'' with backslash escapes, dollar-quoted)
-- becomes '' ('\' for a standard one that holds a backslash, which a session
-- with standard_conforming_strings off would read as an escape), each quoted
-- name "_", and each comment the marker --. NULL when a literal, quoted name
-- or comment is not closed. What is left is where a ';', a parenthesis or a
-- comment could end the code the kit puts it in. As PostgreSQL's lexer does,
-- it takes every character outside ASCII for a letter of a name: a $ or an e
-- right after one continues the name, it starts no quote.
CREATE OR REPLACE FUNCTION kit.sql_outline(sql text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog
AS $$
DECLARE
    _out     text := '';
    _i       integer := 1;
    _n       integer := length(sql_outline.sql);
    _ch      text;
    _next    text;
    _escapes boolean;
    _tag     text;
    _end     integer;
    _depth   integer;
    _name    constant text := '[A-Za-z0-9_$]|[^\x01-\x7f]';
    _slash   boolean;
    _after   integer;           -- where the last string literal ended
    _was_e   boolean := false;  -- whether it was an E'' one
BEGIN
    WHILE _i <= _n LOOP
        _ch := substr(sql_outline.sql, _i, 1);
        _next := substr(sql_outline.sql, _i + 1, 1);
        _tag := CASE WHEN _ch = '$' AND (_i = 1 OR substr(sql_outline.sql, _i - 1, 1) !~ _name)
                     THEN substring(substr(sql_outline.sql, _i)
                                    FROM '^\$(?:(?:[A-Za-z_]|[^\x01-\x7f])(?:[A-Za-z_0-9]|[^\x01-\x7f])*)?\$') END;
        IF _ch IN ('''', '"') THEN
            -- E'' (not part of a longer name) escapes with a backslash; every quote doubles its own.
            _escapes := _ch = '''' AND _i > 1 AND lower(substr(sql_outline.sql, _i - 1, 1)) = 'e'
                        AND (_i = 2 OR substr(sql_outline.sql, _i - 2, 1) !~ _name);
            -- A literal after another with only a line break between goes on with it, E'' too.
            _escapes := _escapes OR _ch = '''' AND _was_e AND _after IS NOT NULL
                        AND substr(sql_outline.sql, _after, _i - _after) ~ '^[ \t\f\r]*\n[ \t\f\r\n]*$';
            _slash := false;
            _i := _i + 1;
            LOOP
                IF _i > _n THEN
                    RETURN NULL;
                ELSIF _escapes AND substr(sql_outline.sql, _i, 1) = '\' THEN
                    _i := _i + 2;
                ELSIF _ch = '''' AND substr(sql_outline.sql, _i, 1) = '\' THEN
                    _slash := true;
                    _i := _i + 1;
                ELSIF substr(sql_outline.sql, _i, 2) = _ch || _ch THEN
                    _i := _i + 2;
                ELSIF substr(sql_outline.sql, _i, 1) = _ch THEN
                    EXIT;
                ELSE
                    _i := _i + 1;
                END IF;
            END LOOP;
            _out := _out || CASE WHEN _ch = '"' THEN '"_"' WHEN _slash THEN '''\''' ELSE '''''' END;
            _i := _i + 1;
            IF _ch = '''' THEN
                _after := _i;
                _was_e := _escapes;
            END IF;
        ELSIF _tag IS NOT NULL THEN
            _end := position(_tag IN substr(sql_outline.sql, _i + length(_tag)));
            IF _end = 0 THEN
                RETURN NULL;
            END IF;
            _out := _out || '''''';
            _i := _i + 2 * length(_tag) + _end - 1;
        ELSIF _ch = '-' AND _next = '-' THEN
            _end := coalesce(nullif(position(E'\n' IN substr(sql_outline.sql, _i)), 0), _n - _i + 2);
            _out := _out || '--';
            _i := _i + _end;
        ELSIF _ch = '/' AND _next = '*' THEN
            -- Block comments nest.
            _depth := 1;
            _i := _i + 2;
            WHILE _depth > 0 LOOP
                IF _i > _n THEN
                    RETURN NULL;
                END IF;
                _depth := _depth + CASE substr(sql_outline.sql, _i, 2) WHEN '/*' THEN 1 WHEN '*/' THEN -1 ELSE 0 END;
                _i := _i + CASE WHEN substr(sql_outline.sql, _i, 2) IN ('/*', '*/') THEN 2 ELSE 1 END;
            END LOOP;
            _out := _out || '--';
        ELSE
            _out := _out || _ch;
            _i := _i + 1;
        END IF;
    END LOOP;
    RETURN _out;
END
$$;

-- Refuses (KT006) SQL text of a migration's (see kit.sql_outline) that could
-- be more than the one expression, or with `statement` the one statement, it
-- is given as: the kit writes it into the code it generates (between
-- parentheses, or as a statement of its own), which runs with the kit's
-- rights. `what` names it in the message. Returns the text to use: a
-- statement without its closing ';'. A text check, first, for clear
-- messages; PostgreSQL's own parser has the last word before anything runs
-- (kit.check_feed_columns, kit.check_feed_statement, which also checks what
-- a sql feed's statement names).
CREATE OR REPLACE FUNCTION kit.checked_sql_text(sql text, what text, statement boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    _outline  text := kit.sql_outline(checked_sql_text.sql);
    _fault    text;
    _one      text := CASE WHEN checked_sql_text.statement THEN 'one statement' ELSE 'one expression' END;
BEGIN
    IF checked_sql_text.statement AND _outline ~ ';\s*$' THEN
        checked_sql_text.sql := regexp_replace(checked_sql_text.sql, ';\s*$', '');
        _outline := regexp_replace(_outline, ';\s*$', '');
    END IF;
    _fault := CASE
        WHEN btrim(checked_sql_text.sql, E' \t\r\n') = '' THEN 'is empty'
        WHEN checked_sql_text.sql ~ '\$(body|block)\$' THEN 'holds $body$ or $block$, the quotes of the code the kit writes'
        WHEN _outline IS NULL THEN 'has an unterminated quoted string, quoted name or comment'
        WHEN position('--' IN _outline) > 0 THEN 'holds a comment (write it in the migration, outside the string)'
        WHEN position('\' IN _outline) > 0
            THEN 'holds a backslash in a standard string, which a writer''s session could read as an escape (standard_conforming_strings): write it as E''...'' with the backslash doubled'
        WHEN position(';' IN _outline) > 0 THEN format('holds a ;, which would end it: it is %s', _one)
        WHEN EXISTS (SELECT FROM (SELECT sum(CASE WHEN p.paren[1] = '(' THEN 1 ELSE -1 END) OVER (ORDER BY p.n) AS depth,
                                         count(*) OVER () AS parens, p.n
                                    FROM regexp_matches(_outline, '[()]', 'g') WITH ORDINALITY AS p(paren, n)) d
                      WHERE d.depth < 0 OR d.n = d.parens AND d.depth <> 0)
            THEN format('closes a parenthesis it did not open, or leaves one open: its parentheses do not balance, it is %s', _one)
        END;
    IF _fault IS NOT NULL THEN
        PERFORM kit.usage_error(format('%s %s (Given: %s)', checked_sql_text.what, _fault, checked_sql_text.sql),
                                CASE WHEN checked_sql_text.statement
                                     THEN 'Write one statement over {{facts}} AS f into {{target}}; nothing was changed.'
                                     ELSE 'Write one SQL expression over the fact f; nothing was changed.' END);
    END IF;
    RETURN checked_sql_text.sql;
END
$$;

-- Refuses (KT006) a call that names a table that is not there, saying whether
-- its schema is missing or the table: `call` is the kit function called.
CREATE OR REPLACE FUNCTION kit.refuse_missing_table(kit_name text, call text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    PERFORM kit.usage_error(format('No such table: %s (%s)', refuse_missing_table.kit_name,
                                   CASE WHEN to_regnamespace(quote_ident(kit.key_schema(refuse_missing_table.kit_name))) IS NULL
                                        THEN format('there is no schema %s', kit.key_schema(refuse_missing_table.kit_name))
                                        ELSE format('create the table before calling %s', refuse_missing_table.call) END));
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
    SELECT to_regclass(kit.relation(domain_table_exists.table_name)) IS NOT NULL
$$;

-- The append-only guard of every write table (kit.create_append_only_guard):
-- refuses a change of a fact with KT001. The one change it lets through is kit.forget's: an UPDATE of the write
-- table that a kit.forget of this very transaction is redacting at that
-- moment (kit.forgotten.redacting, which only kit.forget sets, and clears
-- before it returns). Any other UPDATE, DELETE or TRUNCATE, by any role,
-- superuser included, is refused. On a partition of a partitioned write table
-- (kit.guard_partitions) it refuses an INSERT too: a statement on a partition
-- fires none of the write table's statement triggers, its feed trigger
-- included, so such a fact would reach no read table. SECURITY DEFINER so that it reads that
-- catalog row whatever role is updating.
CREATE OR REPLACE FUNCTION kit.refuse_change_of_fact()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND EXISTS (SELECT FROM kit.forgotten g
                                     WHERE g.redacting = kit.kit_name(TG_TABLE_SCHEMA, TG_TABLE_NAME)
                                       AND g.xact = pg_current_xact_id_if_assigned()) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        RAISE EXCEPTION USING ERRCODE = 'KT001',
            MESSAGE = format('Facts are written to their write table, not to one of its partitions: INSERT is not allowed (Partition: %s)', TG_TABLE_NAME),
            SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME,
            HINT = 'Insert into the partitioned write table: only its feed trigger brings facts to the read tables.';
    END IF;
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
        SCHEMA = kit.key_schema(raise_unknown_entity.write_table), TABLE = kit.key_table(raise_unknown_entity.write_table), COLUMN = raise_unknown_entity.column_name,
        DETAIL = format('Fact seq: %s. Looked up in: %s.', raise_unknown_entity.fact_seq, raise_unknown_entity.read_table),
        HINT = format('Record facts that name this %s only after it exists.', raise_unknown_entity.entity);
END
$$;

-- Refuses a fact that a later fact about the same read row overtook: the
-- later one (higher seq) committed and was applied first, and a replay in
-- seq order would apply this one before it, which the live path can no
-- longer do (see kit.feed_can_race). PostgreSQL's serialization_failure, as
-- for any transaction that lost a race: written again, the fact takes a new
-- seq, after the one applied first. `value` is the row's id.
CREATE OR REPLACE FUNCTION kit.raise_raced(read_table text, entity text, write_table text, column_name text,
                                           value text, fact_seq bigint)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _later bigint;
BEGIN
    EXECUTE format('SELECT last_fact_seq FROM %s WHERE id = $1', kit.relation(raise_raced.read_table))
       INTO _later USING raise_raced.value::bigint;
    RAISE EXCEPTION USING ERRCODE = 'serialization_failure',
        MESSAGE = format('A later fact about %s %s was applied first (Fact: %s seq %s, Column: %s, Read table: %s, Applied first: fact seq %s)',
                         raise_raced.entity, raise_raced.value, raise_raced.write_table, raise_raced.fact_seq,
                         raise_raced.column_name, raise_raced.read_table, _later),
        SCHEMA = kit.key_schema(raise_raced.write_table), TABLE = kit.key_table(raise_raced.write_table), COLUMN = raise_raced.column_name,
        DETAIL = format('Fact seq: %s. Applied first: fact seq %s. A replay in seq order would apply this fact before it.',
                        raise_raced.fact_seq, _later),
        HINT = 'Write the fact again: it takes a new seq, after the fact applied first.';
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
    _computed jsonb;
    _value    text;
BEGIN
    SELECT v.entity INTO _entity FROM kit.read_version v WHERE v.read_table = raise_rejected_insert.read_table;
    SELECT f.columns INTO _computed FROM kit.feed f
     WHERE f.write_table = raise_rejected_insert.write_table AND f.read_table = raise_rejected_insert.read_table;
    FOR _fact IN SELECT f FROM jsonb_array_elements(raise_rejected_insert.facts) AS f ORDER BY (f ->> 'seq')::bigint LOOP
        _seq := (_fact ->> 'seq')::bigint;
        -- The fact that made the row (first_fact_seq; last_fact_seq on rows older than it).
        EXECUTE format('SELECT coalesce(first_fact_seq, last_fact_seq) FROM %s WHERE id = $1', kit.relation(raise_rejected_insert.read_table))
           INTO _taken_by USING (_fact ->> 'id')::bigint;
        IF _taken_by = _seq THEN
            CONTINUE;  -- this fact's row is there: it was not the rejected one
        END IF;
        IF _taken_by IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'KT002',
                MESSAGE = format('Duplicate %s id: %s (Fact: %s seq %s, Read table: %s, Taken by fact seq: %s)',
                                 _entity, _fact ->> 'id', raise_rejected_insert.write_table, _seq,
                                 raise_rejected_insert.read_table, _taken_by),
                SCHEMA = kit.key_schema(raise_rejected_insert.read_table), TABLE = kit.key_table(raise_rejected_insert.read_table), COLUMN = 'id',
                DETAIL = format('Fact: %s seq %s. Taken by fact seq: %s.', raise_rejected_insert.write_table, _seq, _taken_by),
                HINT = 'Leave the id out and the kit assigns a free one.';
        END IF;
        -- Not there and its id is free: another unique column rejected it.
        FOR _column, _type, _constraint IN
            SELECT a.attname, format_type(a.atttypid, a.atttypmod), c.relname
              FROM pg_index i
              JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
              JOIN pg_class c ON c.oid = i.indexrelid
             WHERE i.indrelid = kit.relation(raise_rejected_insert.read_table)::regclass
               AND i.indisunique AND NOT i.indisprimary AND i.indnatts = 1
        LOOP
            -- The value the feed gives the column: the fact's own, or what the feed computes from it.
            IF _computed ? _column THEN
                EXECUTE format('SELECT (%s)::text FROM jsonb_populate_record(NULL::%s, $1) AS f',
                               _computed ->> _column, kit.relation(raise_rejected_insert.write_table))
                   INTO _value USING _fact;
            ELSE
                _value := _fact ->> _column;
            END IF;
            EXECUTE format('SELECT coalesce(first_fact_seq, last_fact_seq) FROM %s WHERE %I = CAST($1 AS %s)',
                           kit.relation(raise_rejected_insert.read_table), _column, _type)
               INTO _taken_by USING _value;
            IF _taken_by IS NOT NULL AND _taken_by <> _seq THEN
                RAISE EXCEPTION USING ERRCODE = 'KT003',
                    MESSAGE = format('Duplicate %s %s: %s (Fact: %s seq %s, Read table: %s, Taken by fact seq: %s)',
                                     _entity, _column, _value, raise_rejected_insert.write_table, _seq,
                                     raise_rejected_insert.read_table, _taken_by),
                    SCHEMA = kit.key_schema(raise_rejected_insert.read_table), TABLE = kit.key_table(raise_rejected_insert.read_table), COLUMN = _column, CONSTRAINT = _constraint,
                    DETAIL = format('Fact: %s seq %s. Taken by fact seq: %s.', raise_rejected_insert.write_table, _seq, _taken_by),
                    HINT = format('Each %s must be unique across every version.', _column);
            END IF;
        END LOOP;
        RAISE EXCEPTION USING ERRCODE = 'KT003',
            MESSAGE = format('Fact rejected by a unique rule of the read table (Fact: %s seq %s, Read table: %s)',
                             raise_rejected_insert.write_table, _seq, raise_rejected_insert.read_table),
            SCHEMA = kit.key_schema(raise_rejected_insert.read_table), TABLE = kit.key_table(raise_rejected_insert.read_table),
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
