-- Kit script 75 retire (run by Flyway before every migrate, in file-name order).
-- Retiring a read version: what it would do, and doing it under the lock
-- the app start-up gates share (kit.lock_retirements).
-- Idempotent: CREATE OR REPLACE, safe to run again.

-- What retiring read_table would do and what stands in its way, without doing
-- it: the schema versions it retires, the feeds it drops, the connected
-- clients (kit.clients(), but for the sessions in ignore_sessions) and live
-- read versions that block it, and the objects that depend on its table
-- (views, rules, foreign keys: DROP TABLE would refuse them).
CREATE OR REPLACE FUNCTION kit.retirement_plan(read_table text, ignore_sessions integer[] DEFAULT '{}',
                                    domain text DEFAULT current_schema(),
                                    OUT versions integer[], OUT feeds text[], OUT clients text, OUT referrers text,
                                    OUT dependents text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog
AS $$
BEGIN
    retirement_plan.read_table := kit.table_key(retirement_plan.read_table, retirement_plan.domain);
    SELECT coalesce(array_agg(s.version ORDER BY s.version), '{}') INTO versions
      FROM kit.schema_version_read s JOIN kit.schema_version v USING (domain, version)
     WHERE s.read_table = retirement_plan.read_table AND v.retired_at IS NULL;
    SELECT coalesce(array_agg(format('%s -> %s', f.write_table, f.read_table) ORDER BY f.position), '{}') INTO feeds
      FROM kit.feed f WHERE f.read_table = retirement_plan.read_table;
    SELECT string_agg(format('pid %s (application %L, role %s, from %s, since %s, %s of version %s)',
                             c.pid, coalesce(c.application_name, '?'), coalesce(c.role_name, '?'),
                             coalesce(c.client_addr, 'a local socket'), coalesce(to_char(c.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ'), '?'),
                             CASE c.seen_by WHEN 'member' THEN 'a member' ELSE 'registered as a client' END, c.version),
                      '; ' ORDER BY c.pid) INTO clients
      FROM kit.clients() c
     WHERE c.domain = kit.key_schema(retirement_plan.read_table) AND c.version = ANY (versions) AND c.pid <> ALL (coalesce(retirement_plan.ignore_sessions, '{}'));
    -- Apps registered on the primary (kit.register_app) count whatever sessions they have here: one that
    -- reads from a replica needs the table there, where no session of this server can see it.
    clients := concat_ws('; ', clients,
        (SELECT string_agg(format('app %s (login %s, reads from %s, registered since %s, lease until %s, of version %s)',
                                  a.instance, a.login, a.reads_from, to_char(a.started_at, 'YYYY-MM-DD HH24:MI:SS TZ'),
                                  to_char(a.expires_at, 'HH24:MI:SS TZ'), a.version), '; ' ORDER BY a.instance)
           FROM kit.registered_apps() a
          WHERE a.domain = kit.key_schema(retirement_plan.read_table) AND a.version = ANY (versions)));
    clients := nullif(clients, '');
    SELECT string_agg(DISTINCT rr.read_table, ', ') INTO referrers
      FROM kit.read_reference rr JOIN kit.read_version v ON v.read_table = rr.read_table
     WHERE rr.referenced_table = retirement_plan.read_table AND v.state IN ('building', 'live') AND v.rebuild_of IS NULL;
    IF to_regclass(kit.relation(retirement_plan.read_table)) IS NOT NULL THEN
        SELECT string_agg(d.dependent, ', ' ORDER BY d.dependent) INTO dependents FROM kit.rebuild_blockers(retirement_plan.read_table) d;
    END IF;
END
$$;

-- Retires a read version: drops its table, feeds and projection functions and
-- retires the schema versions that read it. Refuses while a client of such a
-- schema version is connected to this database (kit.clients(); the operator
-- may name sessions to ignore), or while a live read version references it.
-- Write tables and their facts are never touched. Each lock it needs is tried
-- for at most lock_timeout, a few times, before it gives up.
CREATE OR REPLACE FUNCTION kit.retire_read_version(read_table text, lock_timeout text DEFAULT '200ms',
                                                   ignore_sessions integer[] DEFAULT '{}', domain text DEFAULT current_schema())
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _plan   record;
BEGIN
    retire_read_version.read_table := kit.table_key(retire_read_version.read_table, retire_read_version.domain);
    PERFORM FROM kit.read_version v WHERE v.read_table = retire_read_version.read_table FOR UPDATE;
    -- Building too: one flyway:migrate run can create a version and retire it
    -- before the afterMigrate backfill ever makes it live.
    IF (SELECT v.state FROM kit.read_version v WHERE v.read_table = retire_read_version.read_table) = 'retired' THEN
        -- Retired already (by kit retire before this migration ran): the tidy-up's work is done.
        RAISE NOTICE 'kit: % is retired already', retire_read_version.read_table;
        RETURN;
    END IF;
    PERFORM kit.require_state(retire_read_version.read_table, ARRAY['building', 'live']);
    -- Held to commit: no app of these versions can pass its start-up gate between this check and then.
    PERFORM kit.lock_retirements(true);
    _plan := kit.retirement_plan(retire_read_version.read_table, retire_read_version.ignore_sessions,
                                 domain => kit.key_schema(retire_read_version.read_table));
    IF _plan.clients IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'KT005',
            MESSAGE = format('Read version %s is still in use by connected clients of schema version %s%s (Clients: %s)',
                             retire_read_version.read_table, array_to_string(_plan.versions, ', '),
                             CASE WHEN kit.key_schema(retire_read_version.read_table) = 'public' THEN ''
                                  ELSE ' of domain ' || kit.key_schema(retire_read_version.read_table) END, _plan.clients),
            SCHEMA = kit.key_schema(retire_read_version.read_table), TABLE = kit.key_table(retire_read_version.read_table),
            HINT = 'Stop those clients: every app server of the listed versions, and any other session '
                   '(kit status lists them; SELECT pg_terminate_backend(<pid>) ends a session). An app stopped gives its '
                   'registration back; one killed holds it until its lease ends (kit status, Registered apps), or until '
                   'SELECT kit.unregister_app(''<app>'') for one that will not come back. Then run the migration again, '
                   'or retire it first with kit retire ' || retire_read_version.read_table
                   || ' --ignore-session <pid> if a listed session will not read it again.';
    END IF;
    IF _plan.dependents IS NOT NULL THEN
        PERFORM kit.usage_error(format('Cannot retire %s: objects depend on its table (Dependents: %s)',
                                       retire_read_version.read_table, _plan.dependents),
                                'Drop them (or move them to a live read version) first; nothing was changed.');
    END IF;
    IF _plan.referrers IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'KT005',
            MESSAGE = format('Read version %s is still referenced by %s', retire_read_version.read_table, _plan.referrers),
            SCHEMA = kit.key_schema(retire_read_version.read_table), TABLE = kit.key_table(retire_read_version.read_table),
            HINT = 'Retire the referencing read versions first.';
    END IF;

    -- Changing a feed trigger locks its write table against writers: wait briefly, retry, never queue for long.
    PERFORM kit.lock_briefly(kit.feeding_tables(retire_read_version.read_table)
                               || kit.relation(retire_read_version.read_table)::regclass,
                             'ACCESS EXCLUSIVE', 'retire ' || retire_read_version.read_table, retire_read_version.lock_timeout);

    PERFORM kit.drop_feeds(retire_read_version.read_table);
    EXECUTE format('DROP TABLE %s', kit.relation(retire_read_version.read_table));
    UPDATE kit.read_version v SET state = 'retired', retired_at = now()
     WHERE v.read_table = retire_read_version.read_table;
    UPDATE kit.schema_version v SET retired_at = now()
     WHERE v.domain = kit.key_schema(retire_read_version.read_table) AND v.version = ANY (_plan.versions);
END
$$;
