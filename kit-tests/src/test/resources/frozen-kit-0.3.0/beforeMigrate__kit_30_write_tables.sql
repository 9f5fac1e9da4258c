-- Kit script 30 write_tables (run by Flyway before every migrate, in file-name order).
-- Write tables: append-only facts, their id spaces and id assigners.
-- Idempotent: CREATE OR REPLACE / IF NOT EXISTS, safe to run again.

-- Takes an explicit id (one the writer chose) for its id space, or refuses it:
-- KT006 when it lies outside the range explicit ids may use (negative, or
-- where the id space's sequence gives ids), KT002 when a fact of the id space
-- already has it. Called by the id assigners for explicit ids only, so the
-- usual write (no id) never pays for it.
-- SECURITY DEFINER: app roles may not write the kit's catalog; a pinned
-- search_path, so nothing here resolves through the writer's.
CREATE OR REPLACE FUNCTION kit.claim_explicit_id(id_space text, write_table text, id bigint)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _first_given bigint;
BEGIN
    SELECT s.seqmin INTO _first_given
      FROM kit.write_table w JOIN pg_sequence s ON s.seqrelid = w.id_sequence::regclass
     WHERE w.write_table = claim_explicit_id.write_table;
    IF claim_explicit_id.id < 0 OR claim_explicit_id.id >= _first_given THEN
        RAISE EXCEPTION USING ERRCODE = 'KT006',
            MESSAGE = format('Explicit %s id out of range: %s (Write table: %s, Explicit ids: 0 to %s)',
                             claim_explicit_id.id_space, claim_explicit_id.id, claim_explicit_id.write_table, _first_given - 1),
            SCHEMA = 'public', TABLE = claim_explicit_id.write_table, COLUMN = 'id',
            HINT = format('Leave the id out and the kit assigns one; ids from %s on are the sequence''s alone.', _first_given);
    END IF;
    INSERT INTO kit.explicit_id (id_space, id) VALUES (claim_explicit_id.id_space, claim_explicit_id.id)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'KT002',
            MESSAGE = format('Duplicate %s id: %s (Write table: %s, Id space: %s)', claim_explicit_id.id_space,
                             claim_explicit_id.id, claim_explicit_id.write_table, claim_explicit_id.id_space),
            SCHEMA = 'public', TABLE = claim_explicit_id.write_table, COLUMN = 'id',
            HINT = 'Leave the id out and the kit assigns a free one.';
    END IF;
END
$$;

-- The trigger function that gives each fact of an id space its id, per row,
-- before the row is written. A fact without an id gets the next one from the
-- id space's sequence; one with an id claims it (kit.claim_explicit_id).
-- Sequence-given ids start at the sequence's MINVALUE and explicit ids must
-- lie below it, so a sequence-given id can never equal one somebody chose,
-- whenever and in whatever order they commit: no lock, no setval, and an
-- insert without an id never fails because of another writer's id.
--
-- It runs as the inserting role (no SECURITY DEFINER): a writer's
-- search_path could only change what runs with its own rights. Still every
-- name is schema-qualified, operators included, so that no writer can make
-- it let an id through that it should refuse. (A SET search_path clause
-- would do the same at the cost of a configuration change per row.)
CREATE OR REPLACE FUNCTION kit.assign_id_sql(id_space text, id_sequence text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT format($fn$
CREATE OR REPLACE FUNCTION kit.%1$I()
RETURNS trigger
LANGUAGE plpgsql
AS $body$
BEGIN
    IF NEW.id IS NULL THEN
        NEW.id := pg_catalog.nextval(%2$L::pg_catalog.regclass);
    ELSE
        PERFORM kit.claim_explicit_id(%3$L, TG_TABLE_NAME::pg_catalog.text, NEW.id);
    END IF;
    RETURN NEW;
END
$body$;
$fn$, kit.object_name('id_space', assign_id_sql.id_space), assign_id_sql.id_sequence, assign_id_sql.id_space)
$$;

-- (Re)creates an id space's id assigner from kit.assign_id_sql; only the
-- triggers that use it may run it.
CREATE OR REPLACE FUNCTION kit.create_id_assigner(id_space text, id_sequence text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE kit.assign_id_sql(create_id_assigner.id_space, create_id_assigner.id_sequence);
    EXECUTE format('REVOKE EXECUTE ON FUNCTION kit.%I() FROM PUBLIC', kit.object_name('id_space', create_id_assigner.id_space));
END
$$;

-- Puts the id assigner of its id space on a write table, unless it is there.
CREATE OR REPLACE FUNCTION kit.attach_id_assigner(write_table text, id_space text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = format('public.%I', attach_id_assigner.write_table)::regclass
                      AND t.tgname = kit.object_name('assign_id', attach_id_assigner.write_table)) THEN
        EXECUTE format('CREATE TRIGGER %I BEFORE INSERT ON public.%I FOR EACH ROW EXECUTE FUNCTION kit.%I()',
                       kit.object_name('assign_id', attach_id_assigner.write_table), attach_id_assigner.write_table,
                       kit.object_name('id_space', attach_id_assigner.id_space));
    END IF;
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
CREATE OR REPLACE FUNCTION kit.create_write_table(write_table text, id_space text, explicit_ids_below bigint DEFAULT 1000000000)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    _table       regclass := to_regclass(format('public.%I', create_write_table.write_table));
    _sequence    text := format('kit.%I', create_write_table.id_space || '_id_seq');
    _id_type     text;
    _first_given bigint;
BEGIN
    IF _table IS NULL THEN
        PERFORM kit.usage_error(format('No such table: %s (create the table before calling kit.create_write_table)',
                                       create_write_table.write_table));
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
    -- The names its triggers will need, checked before anything is made.
    PERFORM kit.object_name('feed', create_write_table.write_table), kit.object_name('assign_id', create_write_table.write_table);
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
    EXECUTE format($ddl$
        ALTER TABLE %1$s
            ALTER COLUMN id DROP DEFAULT,
            ADD COLUMN seq bigint NOT NULL DEFAULT nextval('kit.fact_seq'),
            ADD COLUMN recorded_at timestamptz NOT NULL DEFAULT now(),
            ADD PRIMARY KEY (seq)
        $ddl$, _table);
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE OR TRUNCATE ON %s
                    FOR EACH STATEMENT EXECUTE FUNCTION kit.refuse_change_of_fact()',
                   kit.object_name('append_only', create_write_table.write_table), _table);
    -- ALWAYS: the guard holds even with session_replication_role = replica.
    EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I',
                   _table, kit.object_name('append_only', create_write_table.write_table));
    PERFORM kit.attach_id_assigner(create_write_table.write_table, create_write_table.id_space);
    INSERT INTO kit.write_table (write_table, id_space, id_sequence)
    VALUES (create_write_table.write_table, create_write_table.id_space, _sequence);
END
$$;
