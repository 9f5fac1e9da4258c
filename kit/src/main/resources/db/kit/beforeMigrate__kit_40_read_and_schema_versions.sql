-- Kit script 40 read_and_schema_versions (run by Flyway before every migrate, in file-name order).
-- Read versions (registration, the rules they went live with) and schema
-- versions (which read versions an app reads, which write tables it writes,
-- and the state its start-up gate reads under the retirements' lock).
-- Idempotent: CREATE OR REPLACE / IF NOT EXISTS, safe to run again.

-- Registers a freshly created read table (primary key id) as a building read
-- version. `refs` names columns that must point at rows of other read tables,
-- e.g. '{"src_id": "users_2"}', read tables of its own domain (unqualified
-- names are in it). A building version is filled by kit.backfill (run by the
-- afterMigrate callback) and goes live when complete. The table is in the
-- schema its name gives, else in `domain`, the caller's current schema.
CREATE OR REPLACE FUNCTION kit.create_read_version(read_table text, entity text, refs jsonb DEFAULT '{}',
                                                   domain text DEFAULT current_schema())
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _table    regclass;
    _ref      record;
    _ref_type text;
    _id_type  text;
BEGIN
    create_read_version.read_table := kit.table_key(create_read_version.read_table, create_read_version.domain);
    _table := to_regclass(kit.relation(create_read_version.read_table));
    IF _table IS NULL THEN
        PERFORM kit.refuse_missing_table(create_read_version.read_table, 'kit.create_read_version');
    END IF;
    IF EXISTS (SELECT FROM kit.read_version v WHERE v.read_table = create_read_version.read_table) THEN
        PERFORM kit.usage_error(format('Read version already exists: %s', create_read_version.read_table),
                                'A read version is never reused; create the next version instead.');
    END IF;
    -- The name an online rebuild will need, checked now rather than when it is needed.
    PERFORM kit.object_name('shadow', create_read_version.read_table);
    IF NOT EXISTS (SELECT FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                    WHERE i.indrelid = _table AND i.indisprimary AND i.indnatts = 1 AND a.attname = 'id'
                      AND a.atttypid = 'bigint'::regtype) THEN
        PERFORM kit.usage_error(format('A read table needs id bigint PRIMARY KEY, as facts'' ids are bigint (Read table: %s)',
                                       create_read_version.read_table));
    END IF;
    EXECUTE format('ALTER TABLE %s ADD COLUMN last_fact_seq bigint NOT NULL, ADD COLUMN first_fact_seq bigint', _table);
    INSERT INTO kit.read_version (read_table, entity, domain)
    VALUES (create_read_version.read_table, create_read_version.entity, kit.key_schema(create_read_version.read_table));
    FOR _ref IN SELECT key AS column_name, kit.table_key(value, kit.key_schema(create_read_version.read_table)) AS referenced
                  FROM jsonb_each_text(create_read_version.refs) LOOP
        IF kit.key_schema(_ref.referenced) <> kit.key_schema(create_read_version.read_table) THEN
            PERFORM kit.usage_error(format('A read version references read versions of its own domain only (Read table: %s, Column: %s, References: %s)',
                                           create_read_version.read_table, _ref.column_name, _ref.referenced),
                                    'Domains are independent: each can be retired and rebuilt without the other. Nothing was changed.');
        END IF;
        IF _ref.referenced = create_read_version.read_table THEN
            PERFORM kit.usage_error(format('A read version cannot reference itself (Read table: %s, Column: %s)',
                                           create_read_version.read_table, _ref.column_name),
                                    'A self-reference could never be retired; reference another read version.');
        END IF;
        IF NOT EXISTS (SELECT FROM kit.read_version v WHERE v.read_table = _ref.referenced AND v.state IN ('building', 'live')) THEN
            PERFORM kit.usage_error(format('Referenced read version is not live: %s (Read table: %s, Column: %s)',
                                           _ref.referenced, create_read_version.read_table, _ref.column_name));
        END IF;
        _ref_type := (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                       WHERE a.attrelid = _table AND a.attname = _ref.column_name AND a.attnum > 0 AND NOT a.attisdropped);
        _id_type := (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                      WHERE a.attrelid = kit.relation(_ref.referenced)::regclass AND a.attname = 'id');
        IF _ref_type IS DISTINCT FROM _id_type THEN
            PERFORM kit.usage_error(
                format('A reference must name a %s column of the read table: %s (Read table: %s, References: %s, Found: %s)',
                       _id_type, _ref.column_name, create_read_version.read_table, _ref.referenced,
                       coalesce(_ref_type, 'no such column')));
        END IF;
        INSERT INTO kit.read_reference (read_table, column_name, referenced_table)
        VALUES (create_read_version.read_table, _ref.column_name, _ref.referenced);
    END LOOP;
END
$$;

-- The rules a table holds now: its columns (name and type), its constraints
-- (pg_get_constraintdef; not foreign keys, which a rebuild refuses anyway,
-- see kit.rebuild_blockers), its unique indexes that back no constraint, and
-- its NOT NULL columns, each as a definition that names no table, so that a
-- read table, its rebuild's shadow and verify's scratch copy compare equal.
CREATE OR REPLACE FUNCTION kit.read_rules(relation regclass)
RETURNS TABLE (kind text, definition text)
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT 'column', format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod))
      FROM pg_attribute a WHERE a.attrelid = read_rules.relation AND a.attnum > 0 AND NOT a.attisdropped
    UNION
    SELECT 'constraint', pg_get_constraintdef(c.oid)
      FROM pg_constraint c WHERE c.conrelid = read_rules.relation AND c.contype IN ('p', 'u', 'c', 'x')
    UNION
    SELECT 'unique index',
           format('USING %s (%s)%s', am.amname,
                  (SELECT string_agg(pg_get_indexdef(i.indexrelid, k, true), ', ' ORDER BY k)
                     FROM generate_series(1, i.indnkeyatts) AS k),
                  ' WHERE ' || pg_get_expr(i.indpred, i.indrelid, true))
      FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid JOIN pg_am am ON am.oid = x.relam
     WHERE i.indrelid = read_rules.relation AND i.indisunique
       AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
    UNION
    SELECT 'not null', quote_ident(a.attname)
      FROM pg_attribute a WHERE a.attrelid = read_rules.relation AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull
$$;

-- Records the rules read_table holds now (kit.read_rules) as the ones it
-- must keep: when its version goes live, or when an operator has changed
-- them on purpose (SELECT kit.record_read_rules('users_2')).
CREATE OR REPLACE FUNCTION kit.record_read_rules(read_table text, domain text DEFAULT current_schema())
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    record_read_rules.read_table := kit.table_key(record_read_rules.read_table, record_read_rules.domain);
    PERFORM kit.require_state(record_read_rules.read_table, ARRAY['building', 'live']);
    DELETE FROM kit.read_rule r WHERE r.read_table = record_read_rules.read_table;
    INSERT INTO kit.read_rule (read_table, kind, definition)
    SELECT record_read_rules.read_table, r.kind, r.definition
      FROM kit.read_rules(kit.relation(record_read_rules.read_table)::regclass) r;
END
$$;

-- The recorded rules of read_table that `relation` (the table, its shadow or
-- a scratch copy) does not hold.
CREATE OR REPLACE FUNCTION kit.missing_read_rules(read_table text, relation regclass)
RETURNS TABLE (kind text, definition text)
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT r.kind, r.definition FROM kit.read_rule r WHERE r.read_table = missing_read_rules.read_table
    EXCEPT
    SELECT h.kind, h.definition FROM kit.read_rules(missing_read_rules.relation) h
$$;

-- The statement that gives `relation` one rule (see kit.read_rules).
CREATE OR REPLACE FUNCTION kit.read_rule_sql(relation regclass, kind text, definition text)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT CASE read_rule_sql.kind
        WHEN 'column'       THEN format('ALTER TABLE %s ADD COLUMN %s', read_rule_sql.relation, read_rule_sql.definition)
        WHEN 'constraint'   THEN format('ALTER TABLE %s ADD %s', read_rule_sql.relation, read_rule_sql.definition)
        WHEN 'unique index' THEN format('CREATE UNIQUE INDEX ON %s %s', read_rule_sql.relation, read_rule_sql.definition)
        WHEN 'not null'     THEN format('ALTER TABLE %s ALTER COLUMN %s SET NOT NULL', read_rule_sql.relation, read_rule_sql.definition)
    END
$$;

-- Gives `relation` (an empty shadow or scratch copy of read_table) every
-- recorded rule it lacks, so that a replay into it refuses what the live
-- table refused when the rule was there.
CREATE OR REPLACE FUNCTION kit.add_missing_read_rules(read_table text, relation regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    _rule record;
BEGIN
    FOR _rule IN SELECT * FROM kit.missing_read_rules(add_missing_read_rules.read_table, add_missing_read_rules.relation)
                  ORDER BY kind, definition LOOP
        EXECUTE kit.read_rule_sql(add_missing_read_rules.relation, _rule.kind, _rule.definition);
    END LOOP;
END
$$;

-- The NOT NULL columns of read_table without a DEFAULT (or generation) that
-- write_table's facts do not have, nor the feed computes (kit.feed.columns),
-- so that an insert feed between them could
-- only fail: refused when the feed is declared, drift when a column like it
-- is added later. NULL when there is none.
CREATE OR REPLACE FUNCTION kit.unfilled_columns(write_table text, read_table text)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT string_agg(format('%I', r.attname), ', ' ORDER BY r.attnum)
      FROM pg_attribute r
     WHERE r.attrelid = to_regclass(kit.relation(unfilled_columns.read_table)) AND r.attnum > 0 AND NOT r.attisdropped
       AND r.attnotnull AND NOT r.atthasdef AND r.attgenerated = '' AND r.attidentity = ''
       AND r.attname NOT IN ('last_fact_seq', 'first_fact_seq')
       AND NOT EXISTS (SELECT FROM pg_attribute w WHERE w.attrelid = to_regclass(kit.relation(unfilled_columns.write_table))
                          AND w.attname = r.attname AND w.attnum > 0 AND NOT w.attisdropped)
       AND NOT EXISTS (SELECT FROM kit.feed f WHERE f.write_table = unfilled_columns.write_table
                          AND f.read_table = unfilled_columns.read_table AND f.columns ? r.attname)
$$;

-- The columns of read_table that a fact of write_table sets through its
-- feed, in name order. An insert, update or upsert feed: those both tables
-- have, but the row's id, the kit's columns and generated ones, and those
-- the feed computes (kit.feed.columns; see kit.feed_statements). An
-- accumulating feed: those it adds to. A delete or sql feed: none the kit
-- can name.
CREATE OR REPLACE FUNCTION kit.feed_set_columns(write_table text, read_table text)
RETURNS text[]
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT coalesce(array_agg(c.name ORDER BY c.name), '{}')
      FROM (SELECT r.attname::text AS name
              FROM kit.feed f
              JOIN pg_attribute r ON r.attrelid = to_regclass(kit.relation(f.read_table))
              JOIN pg_attribute w ON w.attrelid = to_regclass(kit.relation(f.write_table)) AND w.attname = r.attname
             WHERE f.write_table = feed_set_columns.write_table AND f.read_table = feed_set_columns.read_table
               AND f.kind IN ('insert', 'update', 'upsert')
               AND r.attnum > 0 AND NOT r.attisdropped AND w.attnum > 0 AND NOT w.attisdropped
               AND r.attgenerated = '' AND r.attname NOT IN ('id', 'last_fact_seq', 'first_fact_seq', 'seq', 'recorded_at')
            UNION
            SELECT k FROM kit.feed f, jsonb_object_keys(f.columns) AS k
             WHERE f.write_table = feed_set_columns.write_table AND f.read_table = feed_set_columns.read_table) c
$$;

-- Whether a fact of an update or upsert feed can be overtaken: a later fact
-- of another feed (higher seq, committed first) applied to its row while it
-- did not set all the columns this one sets. A replay in seq order applies
-- both, the live path cannot put the earlier one before the later, so it
-- refuses it (serialization_failure, kit.raise_raced) instead of skipping it
-- as it skips one whose columns the later fact all set. Accumulating feeds
-- count (they move last_fact_seq and add to columns no update sets), and sql
-- feeds, whose columns the kit cannot see. False for other kinds.
CREATE OR REPLACE FUNCTION kit.feed_can_race(write_table text, read_table text)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT coalesce(bool_or(g.write_table IS NOT NULL), false)
      FROM kit.feed f
      LEFT JOIN kit.feed g ON g.read_table = f.read_table AND g.write_table <> f.write_table
                          AND g.kind IN ('update', 'upsert', 'accumulate', 'sql')
                          AND NOT kit.feed_set_columns(f.write_table, f.read_table) <@ kit.feed_set_columns(g.write_table, g.read_table)
     WHERE f.write_table = feed_can_race.write_table AND f.read_table = feed_can_race.read_table
       AND f.kind IN ('update', 'upsert')
$$;

-- Records that apps of `version` read `read_tables`: a version of the domain
-- the read tables are in (unqualified names are in `domain`, the caller's
-- current schema). Each domain numbers its own versions.
CREATE OR REPLACE FUNCTION kit.create_schema_version(version integer, read_tables text[], domain text DEFAULT current_schema())
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    _missing text;
    _domains text[];
BEGIN
    create_schema_version.read_tables := ARRAY(SELECT kit.table_key(t, create_schema_version.domain)
                                                 FROM unnest(create_schema_version.read_tables) WITH ORDINALITY AS x (t, n) ORDER BY x.n);
    _domains := ARRAY(SELECT DISTINCT kit.key_schema(t) FROM unnest(create_schema_version.read_tables) AS t ORDER BY 1);
    IF cardinality(_domains) <> 1 THEN
        PERFORM kit.usage_error(format('A schema version reads the read versions of one domain (Schema version: %s, Domains: %s)',
                                       create_schema_version.version, coalesce(array_to_string(_domains, ', '), 'none: no read table')),
                                'Name its read tables, all in one schema; nothing was changed.');
    END IF;
    IF _domains[1] IS DISTINCT FROM create_schema_version.domain THEN
        RAISE NOTICE 'kit: schema version % is a version of domain %, the schema its read tables are in (not of %)',
                     create_schema_version.version, _domains[1], create_schema_version.domain;
    END IF;
    create_schema_version.domain := _domains[1];
    IF EXISTS (SELECT FROM kit.schema_version v WHERE v.domain = create_schema_version.domain AND v.version = create_schema_version.version) THEN
        PERFORM kit.usage_error(format('Schema version %s of domain %s exists already', create_schema_version.version, create_schema_version.domain),
                                'A schema version is created once; the next one has the next number. Nothing was changed.');
    END IF;
    SELECT t INTO _missing FROM unnest(create_schema_version.read_tables) AS t
     WHERE NOT EXISTS (SELECT FROM kit.read_version v WHERE v.read_table = t AND v.state IN ('building', 'live'))
     LIMIT 1;
    IF _missing IS NOT NULL THEN
        PERFORM kit.usage_error(format('Schema version %s names a read version that is not live or building: %s',
                                       create_schema_version.version, _missing));
    END IF;
    SELECT t INTO _missing FROM unnest(create_schema_version.read_tables) AS t
     WHERE NOT EXISTS (SELECT FROM kit.feed f WHERE f.read_table = t AND f.kind IN ('insert', 'upsert', 'sql'))
     LIMIT 1;
    IF _missing IS NOT NULL THEN
        PERFORM kit.usage_error(format('Schema version %s names a read version that no feed can fill: %s (it has no insert feed)',
                                       create_schema_version.version, _missing),
                                'Declare its insert feeds (kit.add_feed without key_column) before the schema version; nothing was changed.');
    END IF;
    INSERT INTO kit.schema_version (domain, version) VALUES (create_schema_version.domain, create_schema_version.version);
    INSERT INTO kit.schema_version_read (domain, version, read_table)
    SELECT create_schema_version.domain, create_schema_version.version, t FROM unnest(create_schema_version.read_tables) AS t;
END
$$;

-- The advisory lock a client session of an app role holds for as long as it
-- is connected (kit.register_client): class 1263095 ('KIT' + 1 in ASCII),
-- the app role's oid in the low half. pg_locks shows it to every session as
-- classid 1263095, objid the role's oid, objsubid 1.
CREATE OR REPLACE FUNCTION kit.client_lock_key(app_role oid)
RETURNS bigint
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT (1263095::bigint << 32) | client_lock_key.app_role::bigint
$$;

-- The role of schema version `version` of `domain`, once the session's login is
-- seen to act as it: what a client must be to register as one of the version
-- (kit.register_client, kit.register_app, kit.unregister_app).
CREATE OR REPLACE FUNCTION kit.client_role(version integer, domain text)
RETURNS oid
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _role oid := (SELECT r.oid FROM kit.app_role a JOIN pg_roles r ON r.rolname = a.role_name
                   WHERE a.domain = client_role.domain AND a.version = client_role.version);
BEGIN
    IF client_role.version IS NULL OR client_role.domain IS NULL THEN
        PERFORM kit.usage_error('A client registers for a schema version and its domain, neither of them NULL',
                                'Name both, e.g. kit.register_app(2, ''public'', ...); nothing was registered.');
    END IF;
    IF _role IS NULL THEN
        PERFORM kit.usage_error(format('Schema version %s of domain %s has no app role in this database', client_role.version,
                                       coalesce(client_role.domain, 'none')),
                                'Migrate the version first (kit.create_app_role); nothing was registered.');
    END IF;
    IF NOT pg_has_role(session_user, _role, 'MEMBER') THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('Login %s may not act as %s, so it cannot register as a client of schema version %s',
                             session_user, _role::regrole, client_role.version);
    END IF;
    RETURN _role;
END
$$;

-- Registers this session as a client of schema version `version` of
-- `domain` (the caller's current schema unless named) until it disconnects: for sessions that act as an app role through SET ROLE, which
-- nobody outside the session can see (pg_stat_activity shows the login
-- only). The example's apps call it on every pooled connection. Only a login
-- that may act as the version's role can register for it. SECURITY DEFINER
-- to read the app role's name; the lock is the session's whoever takes it.
CREATE OR REPLACE FUNCTION kit.register_client(version integer, domain text DEFAULT current_schema())
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_advisory_lock_shared(kit.client_lock_key(kit.client_role(register_client.version, register_client.domain)));
END
$$;

-- Registers a running app server of schema version `version` of `domain`, or
-- renews its registration, for `lease` from now: what an app that reads from
-- a streaming replica needs, since its sessions there are no client the
-- primary can see (kit.register_client). The app calls it at start, before its
-- start-up gate, and again well within the lease while it runs
-- (kit.unregister_app when it stops); one that is killed holds its version
-- until the lease ends. `instance` is the app's own name for itself, unique
-- among the running apps; `reads_from` says where it reads (primary, or the
-- replica). An instance keeps the version it registered with. Returns when the
-- lease ends. Only a login that may act as the version's role can register.
CREATE OR REPLACE FUNCTION kit.register_app(version integer, domain text, instance text, reads_from text,
                                            lease interval DEFAULT '30 seconds')
RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _expires timestamptz;
    _state   text;
    _held    integer;
BEGIN
    PERFORM kit.client_role(register_app.version, register_app.domain);
    _state := (SELECT v.state FROM kit.schema_versions v WHERE v.domain = register_app.domain AND v.version = register_app.version);
    IF _state IN ('retired', 'aborted') THEN
        PERFORM kit.usage_error(format('Schema version %s of domain %s is %s: no app of it can run, so none registers',
                                       register_app.version, register_app.domain, _state),
                                'Run an app of a live version; nothing was registered.');
    END IF;
    IF register_app.lease IS NULL OR register_app.lease < interval '1 second' OR register_app.lease > interval '1 day' THEN
        PERFORM kit.usage_error(format('An app''s lease must be between 1 second and 1 day (got %s)', coalesce(register_app.lease::text, 'NULL')),
                                'Nothing was registered.');
    END IF;
    IF coalesce(length(register_app.instance), 0) NOT BETWEEN 1 AND 200 OR coalesce(length(register_app.reads_from), 0) NOT BETWEEN 1 AND 500 THEN
        PERFORM kit.usage_error('An app registers with a name (1 to 200 characters) and where it reads (1 to 500)', 'Nothing was registered.');
    END IF;
    INSERT INTO kit.app_instance AS a (instance, domain, version, login, reads_from, expires_at)
    VALUES (register_app.instance, register_app.domain, register_app.version, session_user, register_app.reads_from,
            now() + register_app.lease)
    ON CONFLICT ON CONSTRAINT app_instance_pkey DO UPDATE SET renewed_at = now(), expires_at = excluded.expires_at, reads_from = excluded.reads_from
     WHERE a.domain = excluded.domain AND a.version = excluded.version
    RETURNING a.expires_at INTO _expires;
    IF _expires IS NULL THEN
        SELECT a.version INTO _held FROM kit.app_instance a WHERE a.instance = register_app.instance;
        PERFORM kit.usage_error(format('App %s is registered for schema version %s of domain %s, not %s',
                                       register_app.instance, _held,
                                       (SELECT a.domain FROM kit.app_instance a WHERE a.instance = register_app.instance), register_app.version),
                                'Each app server registers under a name of its own; nothing was registered.');
    END IF;
    -- Leases that ended long ago say nothing any more.
    DELETE FROM kit.app_instance a WHERE a.expires_at < now() - interval '1 day';
    RETURN _expires;
END
$$;

-- Ends the registration of a stopping app (kit.register_app). True when there
-- was one; a login may end only registrations of versions it may act as.
CREATE OR REPLACE FUNCTION kit.unregister_app(instance text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _app record;
BEGIN
    SELECT a.domain, a.version INTO _app FROM kit.app_instance a WHERE a.instance = unregister_app.instance;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM kit.client_role(_app.version, _app.domain);
    DELETE FROM kit.app_instance a WHERE a.instance = unregister_app.instance;
    RETURN true;
END
$$;

-- The app servers whose registration holds (kit.register_app): running, or
-- killed less than a lease ago.
CREATE OR REPLACE FUNCTION kit.registered_apps()
RETURNS TABLE (domain text, version integer, instance text, login text, reads_from text, started_at timestamptz,
               renewed_at timestamptz, expires_at timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT a.domain, a.version, a.instance, a.login, a.reads_from, a.started_at, a.renewed_at, a.expires_at
      FROM kit.app_instance a
     WHERE a.expires_at > now()
     ORDER BY a.domain, a.version, a.instance
$$;

-- Every session connected to this database that is a client of a schema
-- version, whatever its application_name or language:
--   'member':     its login is not a superuser and has the privileges of the
--                 version's app role (pg_has_role USAGE: a member that
--                 inherits), so it can read the version's read tables;
--   'registered': it holds the version's client lock (kit.register_client),
--                 as a session that acts as the role through SET ROLE must.
-- Superuser logins count only when registered: they read every table, and
-- they are the operators', migrations' and the kit command's sessions. A
-- login that owns the tables counts only if it is such a member. This
-- session never counts. Names, addresses and start times of other logins'
-- sessions show only to superusers and members of pg_read_all_stats.
CREATE OR REPLACE FUNCTION kit.clients()
RETURNS TABLE (version integer, pid integer, application_name text, role_name text, client_addr text,
               backend_start timestamptz, seen_by text, domain text)
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT a.version, s.pid, s.application_name, s.usename::text, host(s.client_addr), s.backend_start,
           CASE WHEN reg.registered THEN 'registered' ELSE 'member' END, a.domain
      FROM kit.app_role a
      JOIN pg_roles r ON r.rolname = a.role_name
      JOIN pg_stat_activity s ON s.datname = current_database() AND s.pid <> pg_backend_pid()
                             AND s.backend_type = 'client backend'
      LEFT JOIN pg_roles u ON u.oid = s.usesysid
     CROSS JOIN LATERAL (SELECT EXISTS (SELECT FROM pg_locks l
                                         WHERE l.pid = s.pid AND l.locktype = 'advisory' AND l.classid = 1263095
                                           AND l.objid = r.oid AND l.objsubid = 1 AND l.granted) AS registered) reg
     WHERE reg.registered OR (u.oid IS NOT NULL AND NOT u.rolsuper AND pg_has_role(u.oid, r.oid, 'USAGE'))
$$;

-- The one lock that serialises app start-up gates with retirements: a
-- retirement holds it exclusively from its check for connected apps to its
-- commit, a gate shares it while it reads its version's state. An app whose
-- connection opened after the check therefore reads the state only once the
-- retirement has committed, and refuses to start; one that read it first is
-- connected when the retirement checks, which then refuses.
CREATE OR REPLACE FUNCTION kit.lock_retirements(exclusive boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Class 1263094 is 'KIT' in ASCII: the kit's advisory lock space; 1 is this lock.
    PERFORM kit.advisory_lock_briefly(1, lock_retirements.exclusive,
                                      CASE WHEN lock_retirements.exclusive THEN 'retire a read version' ELSE 'read the schema version''s state' END);
END
$$;

-- The state of a schema version of a domain (the caller's current schema
-- unless named) as an app's start-up gate must read it: after any retirement
-- under way has committed (kit.lock_retirements). 'missing' when the version
-- was never migrated here. SECURITY DEFINER, so that app roles may share the
-- lock without being able to take it alone.
CREATE OR REPLACE FUNCTION kit.schema_version_state(version integer, domain text DEFAULT current_schema())
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM kit.lock_retirements(false);
    RETURN coalesce((SELECT v.state FROM kit.schema_versions v
                      WHERE v.domain = schema_version_state.domain AND v.version = schema_version_state.version), 'missing');
END
$$;
