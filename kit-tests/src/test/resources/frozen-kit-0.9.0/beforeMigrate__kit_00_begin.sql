-- Kit script 00 begin (run by Flyway before every migrate, in file-name order:
-- 00 begin, 05 superseded, 10 catalog, 20 names_errors_locks ... 80
-- drift_and_repair, 90 upgrade, 99 finish). Each script calls only functions
-- that earlier scripts define (KitScriptsCallInOrderTest), so they read top
-- to bottom and PostgreSQL checks every LANGUAGE sql body when it is created.
--
-- Installs the kit on a database that has none, upgrades an older one in
-- place and refuses a newer one, under a session advisory lock that the
-- finish script releases. The version of this kit is the Maven project's
-- (the parent pom's <version>): the kit's build writes it into _incoming
-- below; a run from the sources (mvn -pl db flyway:migrate) has Flyway fill
-- in the same placeholder from db/pom.xml.
--
-- Conventions (see docs/how-it-works.md):
--   * write tables are facts, named in the past tense with the version that
--     introduced them (user_registered_0); the kit adds `seq` (global order)
--     and `recorded_at` after the domain columns;
--   * read tables are nouns with their own version (users_0); the kit adds
--     `last_fact_seq` (the last fact applied to the row);
--   * every generated name comes from kit.object_name();
--   * errors use the kit's SQLSTATE class KT (see docs/reference.md, "Error codes");
--   * a schema is a domain: its tables are named by their kit name (public.x
--     as x, shop.x as shop.x), see kit.kit_name.

DO $$
DECLARE
    _started timestamptz := clock_timestamp();
    _report  timestamptz := clock_timestamp() + interval '1 second';
    _limit   interval := coalesce(nullif(current_setting('kit.lock_wait', true), ''), '60s')::interval;
    _holder  text;
BEGIN
    -- One installer at a time per database (released by the finish script,
    -- or with the connection when a script fails). Any login can take an
    -- advisory lock, so the wait is bounded and says who holds it.
    WHILE NOT pg_try_advisory_lock(1263094, 0) LOOP
        SELECT format('Pid: %s, User: %s, Application: %s, State: %s', a.pid, a.usename, a.application_name, a.state) INTO _holder
          FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.classid = 1263094 AND l.objid = 0 AND l.objsubid = 2 AND l.granted
           AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
         LIMIT 1;
        IF clock_timestamp() - _started > _limit THEN
            RAISE EXCEPTION USING ERRCODE = 'KT007',
                MESSAGE = format('Gave up waiting for the kit''s installer lock after %s (%s)', _limit, coalesce(_holder, 'holder gone')),
                HINT = 'Another migrate of this database is running, or that session holds advisory lock (1263094, 0): let it end (or pg_terminate_backend it), then migrate again. SET kit.lock_wait changes the wait.';
        END IF;
        IF clock_timestamp() > _report THEN
            RAISE NOTICE 'kit: waiting for the kit''s installer lock (%); gives up after %', coalesce(_holder, 'holder gone'), _limit
                USING ERRCODE = 'KT007';  -- a wait's notices carry the code the wait ends with when it gives up
            _report := clock_timestamp() + interval '5 seconds';
        END IF;
        PERFORM pg_sleep(0.05);
    END LOOP;
END
$$;

-- Not CREATE SCHEMA IF NOT EXISTS: its notice ("already exists, skipping")
-- would be a warning in the log of every migrate but the first.
DO $$
BEGIN
    IF to_regnamespace('kit') IS NULL THEN
        CREATE SCHEMA kit;
    END IF;
END
$$;

DO $$
DECLARE
    _incoming  text := '0.9.0';
    _installed text;
    _action    text;
BEGIN
    IF to_regprocedure('kit.version()') IS NOT NULL THEN
        EXECUTE 'SELECT kit.version()' INTO _installed;
    ELSIF to_regclass('kit.read_version') IS NOT NULL THEN
        _installed := '0.1.0';  -- the kit as it was welded into the example's V0, before it had a version
    END IF;
    IF _installed IS NULL THEN
        _action := 'install';
    ELSIF string_to_array(_installed, '.')::integer[] > string_to_array(_incoming, '.')::integer[] THEN
        RAISE EXCEPTION USING ERRCODE = 'KT008',
            MESSAGE = format('This database has a newer kit than this one: %s (This kit: %s)', _installed, _incoming),
            HINT = 'Migrate it with the newer kit jar on Flyway''s classpath; a kit never downgrades a database.';
    ELSIF _installed = _incoming THEN
        _action := 'none';
    ELSE
        _action := 'upgrade';
    END IF;
    PERFORM set_config('kit.incoming_version', _incoming, false);
    PERFORM set_config('kit.installed_version', coalesce(_installed, ''), false);
    PERFORM set_config('kit.install_action', _action, false);
    IF _action <> 'none' THEN
        RAISE NOTICE 'kit: % %', CASE _action WHEN 'install' THEN 'installing' ELSE 'upgrading ' || _installed || ' to' END, _incoming;
    END IF;
END
$$;
