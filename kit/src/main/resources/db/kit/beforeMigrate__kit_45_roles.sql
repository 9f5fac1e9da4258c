-- Kit script 45 roles (run by Flyway before every migrate, in file-name order).
-- Least privilege: one role per app version, what it may do and what it may
-- not (the findings of kit.drift), and the security check. Before the
-- scripts that make read versions live or drop them, which grant and revoke.
-- Idempotent: CREATE OR REPLACE / IF NOT EXISTS, safe to run again.

-- What every app role may do in the kit's schema, whatever its version's
-- state: read its version's state (the start-up gate: kit.schema_versions,
-- kit.schema_version_state) and register its sessions as clients, so that
-- retirement sees them (kit.register_client). No other kit function: those it needs run
-- through the kit's triggers, so EXECUTE on every other one is revoked
-- (also what kits before 0.4.0 granted: kit.claim_explicit_id).
-- The kit functions every app role may run: the start-up gate's and the
-- registrations of client sessions and of running apps. kit.grant_start_up_gate grants them, kit.drift
-- expects them and no other.
CREATE OR REPLACE FUNCTION kit.gate_functions()
RETURNS regprocedure[]
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY['kit.schema_version_state(integer, text)'::regprocedure, 'kit.register_client(integer, text)'::regprocedure,
                 'kit.register_app(integer, text, text, text, interval)'::regprocedure, 'kit.unregister_app(text)'::regprocedure]
$$;

CREATE OR REPLACE FUNCTION kit.grant_start_up_gate(role_name text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    _function regprocedure;
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA kit TO %I', grant_start_up_gate.role_name);
    EXECUTE format('REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA kit FROM %I', grant_start_up_gate.role_name);
    EXECUTE format('REVOKE EXECUTE ON ALL PROCEDURES IN SCHEMA kit FROM %I', grant_start_up_gate.role_name);
    EXECUTE format('GRANT SELECT ON kit.schema_versions TO %I', grant_start_up_gate.role_name);
    -- A version in use that a migration let forget (kit.grant_forget) keeps that grant; an aborted
    -- or retired one loses it with the rest.
    IF EXISTS (SELECT FROM kit.forget_grant g JOIN kit.app_role a USING (domain, version)
                 JOIN kit.app_roles_in_use() u USING (domain, version)
                WHERE a.role_name = grant_start_up_gate.role_name) THEN
        EXECUTE format('GRANT EXECUTE ON FUNCTION kit.forget(text, bigint, text) TO %I', grant_start_up_gate.role_name);
    END IF;
    FOREACH _function IN ARRAY kit.gate_functions() LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', _function, grant_start_up_gate.role_name);
    END LOOP;
END
$$;

-- Grants the role of app version `version` of `domain` what it needs and
-- nothing more: USAGE on the domain's schema, INSERT on the
-- domain columns of its write tables (never seq or recorded_at), the id and
-- fact sequences, SELECT on its read tables and on kit.schema_versions (for
-- the start-up gate). No UPDATE, DELETE or TRUNCATE anywhere, and no kit
-- function but the gate's: read tables change only through the feeds'
-- SECURITY DEFINER trigger, explicit ids are claimed by the id claimer's.
-- Only read versions that are building or live are granted: a retired or
-- aborted one has no table any more.
CREATE OR REPLACE FUNCTION kit.grant_app_role(version integer, domain text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _role  text := (SELECT a.role_name FROM kit.app_role a WHERE a.domain = grant_app_role.domain AND a.version = grant_app_role.version);
    _table text;
BEGIN
    PERFORM kit.grant_start_up_gate(_role);
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', grant_app_role.domain, _role);
    EXECUTE format('GRANT USAGE ON SEQUENCE kit.fact_seq TO %I', _role);
    FOR _table IN SELECT t FROM kit.schema_version_write_tables(grant_app_role.version, grant_app_role.domain) AS t
                   WHERE to_regclass(kit.relation(t)) IS NOT NULL LOOP
        PERFORM kit.grant_write_table(_table, _role);
    END LOOP;
    FOR _table IN SELECT s.read_table FROM kit.schema_version_read s JOIN kit.read_version v USING (read_table)
                   WHERE s.domain = grant_app_role.domain AND s.version = grant_app_role.version AND v.state IN ('building', 'live')
                     AND to_regclass(kit.relation(s.read_table)) IS NOT NULL LOOP
        EXECUTE format('GRANT SELECT ON %s TO %I', kit.relation(_table), _role);
    END LOOP;
END
$$;

-- Takes back from an app version's role what kit.grant_app_role gave it on
-- the domain's tables and sequences, once its schema version is aborted:
-- its app may never start, and its role must not keep writing facts. The
-- start-up gate's grants stay, so that such an app is told why it may not
-- start. (A retired version's role keeps INSERT on its write tables: its
-- facts still reach the live versions, and the gate stops its apps.)
CREATE OR REPLACE FUNCTION kit.revoke_app_role(version integer, domain text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _role  text := (SELECT a.role_name FROM kit.app_role a WHERE a.domain = revoke_app_role.domain AND a.version = revoke_app_role.version);
    _table text;
BEGIN
    IF _role IS NULL OR NOT EXISTS (SELECT FROM pg_roles r WHERE r.rolname = _role) THEN
        RETURN;
    END IF;
    FOR _table IN SELECT w.write_table FROM kit.write_table w WHERE w.domain = revoke_app_role.domain
                  UNION SELECT v.read_table FROM kit.read_version v WHERE v.domain = revoke_app_role.domain LOOP
        IF to_regclass(kit.relation(_table)) IS NOT NULL THEN
            EXECUTE format('REVOKE ALL ON %s FROM %I', kit.relation(_table), _role);
        END IF;
    END LOOP;
    FOR _table IN SELECT DISTINCT w.id_sequence FROM kit.write_table w WHERE w.domain = revoke_app_role.domain
                  UNION SELECT 'kit.fact_seq' LOOP
        EXECUTE format('REVOKE ALL ON SEQUENCE %s FROM %I', _table, _role);
    END LOOP;
    PERFORM kit.grant_start_up_gate(_role);
END
$$;

-- The schema versions (of every domain) whose app roles hold grants:
-- building and live ones.
-- PL/pgSQL, not SQL: a SQL function's body is checked when it is created,
-- which would lock kit.schema_version at every migrate, behind (and in front
-- of) the app gates that read it.
CREATE OR REPLACE FUNCTION kit.app_roles_in_use()
RETURNS TABLE (version integer, role_name text, domain text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog
AS $$
BEGIN
    RETURN QUERY
    SELECT a.version, a.role_name, a.domain FROM kit.app_role a JOIN kit.schema_versions s ON s.domain = a.domain AND s.version = a.version
     WHERE s.state IN ('building', 'live') AND EXISTS (SELECT FROM pg_roles r WHERE r.rolname = a.role_name)
     ORDER BY a.domain, a.version;
END
$$;

-- The prefix of a domain's app role names when nobody sets one:
-- kit_app_v in public, kit_app_<domain>_v in any other (kit_app_shop_v0).
CREATE OR REPLACE FUNCTION kit.default_app_role_prefix(domain text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT CASE WHEN default_app_role_prefix.domain = 'public' THEN 'kit_app_v' ELSE 'kit_app_' || default_app_role_prefix.domain || '_v' END
$$;

-- The prefix of a domain's app role names in this database: the setting
-- kit.app_role_prefix when a migration sets it, else the prefix the catalog
-- recorded with the domain's newest app role (so a later migration run
-- without the setting keeps the names consistent), else the default one.
CREATE OR REPLACE FUNCTION kit.app_role_prefix(domain text)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(nullif(current_setting('kit.app_role_prefix', true), ''),
                    (SELECT left(a.role_name, length(a.role_name) - length(a.version::text))
                       FROM kit.app_role a WHERE a.domain = app_role_prefix.domain AND a.role_name LIKE '%' || a.version
                      ORDER BY a.version DESC LIMIT 1),
                    kit.default_app_role_prefix(app_role_prefix.domain))
$$;

-- Creates (once per server: roles are shared by its databases) and grants the
-- role of app version `version` of `domain` (the caller's current schema
-- unless named), named by kit.app_role_prefix(domain) followed by the
-- version: kit_app_v2, kit_app_shop_v1. Under the default prefix it refuses a
-- role that another database already granted (KT006), however the prefix
-- came about: one database's apps must not reach another's tables by
-- accident; and any role another domain of this database has.
CREATE OR REPLACE FUNCTION kit.create_app_role(version integer, domain text DEFAULT current_schema())
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    _role   text;
    _others text;
BEGIN
    PERFORM kit.require_domain(create_app_role.domain);
    _role := kit.app_role_prefix(create_app_role.domain) || create_app_role.version;
    IF octet_length(_role) > 63 THEN
        PERFORM kit.usage_error(format('App role name is longer than PostgreSQL allows: %s (Limit: 63 bytes)', _role),
                                'Set a shorter prefix for this domain''s migrations (kit.app_role_prefix); nothing was changed.');
    END IF;
    SELECT a.domain INTO _others FROM kit.app_role a WHERE a.role_name = _role AND a.domain <> create_app_role.domain;
    IF _others IS NOT NULL THEN
        PERFORM kit.usage_error(format('App role %s is already the role of a version of domain %s', _role, _others),
                                format('Each domain has its own app roles: migrate %s with a prefix of its own (kit.app_role_prefix = %s_app_v, say); nothing was changed.',
                                       create_app_role.domain,
                                       regexp_replace(lower(current_database() || '_' || create_app_role.domain), '[^a-z0-9_]', '_', 'g')));
    END IF;
    -- Roles belong to the server. A role of the default name that already has grants in
    -- another database is that database's: reusing it would let one database's apps reach the
    -- other's tables. Checked for every role of the default name, whether the prefix was set
    -- explicitly or not, and for a database's later versions too.
    IF kit.app_role_prefix(create_app_role.domain) = kit.default_app_role_prefix(create_app_role.domain) THEN
        SELECT string_agg(DISTINCT d.datname, ', ' ORDER BY d.datname) INTO _others
          FROM pg_shdepend s JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.refobjid
         WHERE s.refclassid = 'pg_authid'::regclass AND s.deptype = 'a' AND r.rolname = _role
           AND d.datname <> current_database();
        IF _others IS NOT NULL THEN
            PERFORM kit.usage_error(
                format('App role %s already has grants in another database of this server (Databases: %s)', _role, _others),
                format('Roles are shared by a server''s databases: give this domain of this database its own prefix for its migrations '
                       '(kit.app_role_prefix = %s, e.g. -Dflyway.jdbcProperties.options="-c kit.app_role_prefix=%1$s") and start its apps with --db-role %1$sN; nothing was changed.',
                       regexp_replace(lower(current_database()), '[^a-z0-9_]', '_', 'g')
                       || CASE WHEN create_app_role.domain = 'public' THEN '' ELSE '_' || lower(create_app_role.domain) END || '_app_v'));
        END IF;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles r WHERE r.rolname = _role) THEN
        BEGIN
            EXECUTE format('CREATE ROLE %I NOLOGIN', _role);
        EXCEPTION WHEN duplicate_object THEN
            NULL;  -- another database's migration created it at the same moment
        END;
    END IF;
    INSERT INTO kit.app_role AS a (domain, version, role_name) VALUES (create_app_role.domain, create_app_role.version, _role)
    ON CONFLICT ON CONSTRAINT app_role_pkey DO UPDATE SET role_name = excluded.role_name;
    PERFORM kit.grant_app_role(create_app_role.version, create_app_role.domain);
END
$$;

-- The privileges the kit grants an app role of a schema version in use
-- (kit.grant_app_role), one row each: what, on which object, and whether
-- the role has it now.
CREATE OR REPLACE FUNCTION kit.app_role_privileges(version integer, role_name text, domain text)
RETURNS TABLE (privilege text, object text, held boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT 'SELECT', r.read_table, has_table_privilege(app_role_privileges.role_name, kit.relation(r.read_table), 'SELECT')
      FROM kit.schema_version_read r JOIN kit.read_version v ON v.read_table = r.read_table
     WHERE r.domain = app_role_privileges.domain AND r.version = app_role_privileges.version AND v.state = 'live'
       AND to_regclass(kit.relation(r.read_table)) IS NOT NULL
    UNION ALL
    SELECT 'INSERT', t, has_any_column_privilege(app_role_privileges.role_name, kit.relation(t), 'INSERT')
      FROM kit.schema_version_write_tables(app_role_privileges.version, app_role_privileges.domain) AS t
     WHERE to_regclass(kit.relation(t)) IS NOT NULL
    UNION ALL
    SELECT 'USAGE', s, has_sequence_privilege(app_role_privileges.role_name, s, 'USAGE')
      FROM (SELECT 'kit.fact_seq' AS s
            UNION SELECT w.id_sequence FROM kit.write_table w
                   WHERE w.write_table IN (SELECT kit.schema_version_write_tables(app_role_privileges.version, app_role_privileges.domain))) q
    UNION ALL
    SELECT 'SELECT', 'kit.schema_versions', has_table_privilege(app_role_privileges.role_name, 'kit.schema_versions', 'SELECT')
    UNION ALL
    SELECT 'EXECUTE', f::text, has_function_privilege(app_role_privileges.role_name, f, 'EXECUTE')
      FROM unnest(kit.gate_functions()) AS f
    UNION ALL
    SELECT 'EXECUTE', 'kit.forget(text, bigint, text)',
           has_function_privilege(app_role_privileges.role_name, 'kit.forget(text, bigint, text)', 'EXECUTE')
      FROM kit.forget_grant g WHERE g.domain = app_role_privileges.domain AND g.version = app_role_privileges.version
    UNION ALL
    SELECT 'USAGE', 'schema ' || n, has_schema_privilege(app_role_privileges.role_name, n, 'USAGE')
      FROM unnest(ARRAY['kit', app_role_privileges.domain]) AS n
$$;

-- What app roles may do on the domain's tables beyond what the kit grants
-- (kit.grant_app_role): write a read table, or change a fact. Granted to the
-- role, to PUBLIC or through another role; kit.repair() revokes what was
-- granted to the role or to PUBLIC.
CREATE OR REPLACE FUNCTION kit.excess_app_privileges()
RETURNS TABLE (role_name text, privilege text, relation text, why text)
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT a.role_name, p.privilege, t.relation, t.why
      FROM kit.app_role a
      JOIN pg_roles r ON r.rolname = a.role_name
     CROSS JOIN LATERAL (
          SELECT v.read_table AS relation, 'app roles only read read tables' AS why,
                 ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'] AS privileges
            FROM kit.read_version v WHERE v.state IN ('building', 'live') AND kit.domain_table_exists(v.read_table)
          UNION ALL
          SELECT w.write_table, 'facts are append-only', ARRAY['UPDATE', 'DELETE', 'TRUNCATE']
            FROM kit.write_table w WHERE kit.domain_table_exists(w.write_table)) t
     CROSS JOIN LATERAL unnest(t.privileges) AS p (privilege)
     WHERE has_table_privilege(r.oid, kit.relation(t.relation), p.privilege)
     ORDER BY 1, 3, 2
$$;

-- App roles that are members of other app roles: each would reach the
-- other version's tables. kit.drift() names them, kit.repair() revokes them.
CREATE OR REPLACE FUNCTION kit.app_role_memberships()
RETURNS TABLE (member text, granted text)
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT m.rolname::text, g.rolname::text
      FROM pg_auth_members am JOIN pg_roles m ON m.oid = am.member JOIN pg_roles g ON g.oid = am.roleid
     WHERE m.rolname IN (SELECT a.role_name FROM kit.app_role a) AND g.rolname IN (SELECT a.role_name FROM kit.app_role a)
     ORDER BY 1, 2
$$;

-- The schemas of the domains (every schema that holds kit tables, or app
-- roles' versions), as they exist now.
CREATE OR REPLACE FUNCTION kit.domain_schemas()
RETURNS SETOF regnamespace
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT DISTINCT n.oid::regnamespace
      FROM (SELECT w.domain FROM kit.write_table w UNION SELECT v.domain FROM kit.read_version v
            UNION SELECT a.domain FROM kit.app_role a) d
      JOIN pg_namespace n ON n.nspname = d.domain
$$;

-- What could let a writer's code run with another role's rights, each with
-- the statement that removes it. Empty when the rule "writing a fact grants
-- nothing else" holds; `kit verify` and `kit status` report any row.
--  * A SECURITY DEFINER function in the kit's reach (schema kit, where the
--    kit keeps its own and its generated functions, and the domain's
--    schemas) whose search_path a writer could influence: one with no pinned
--    search_path, or whose path names "$user" or a schema in which a role
--    other than the function's owner may create objects.
--  * A domain schema in which a writer may create objects: PUBLIC has CREATE
--    (the default before PostgreSQL 15), or a role that is, or inherits, an
--    app role. Such a writer could plant a function that the domain's
--    migrations and apps resolve through their search_path. The kit's own
--    code resolves nothing there, and it changes no schema but its own: the
--    hint gives the statement to run.
CREATE OR REPLACE FUNCTION kit.check_security()
RETURNS TABLE (object text, problem text, hint text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH definer AS (
        SELECT p.oid, p.proowner, n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS function,
               (SELECT substr(c, length('search_path=') + 1) FROM unnest(p.proconfig) AS c
                 WHERE c LIKE 'search\_path=%') AS path
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE p.prosecdef AND (n.nspname = 'kit' OR n.oid IN (SELECT kit.domain_schemas()))
    ), entry AS (
        SELECT d.function, d.proowner, btrim(e, ' "') AS schema_name
          FROM definer d, unnest(string_to_array(d.path, ',')) AS e
    ), pin AS (
        SELECT 'pin its path: ALTER FUNCTION ... SET search_path = pg_catalog, pg_temp'::text AS hint
    )
    SELECT d.function, 'SECURITY DEFINER without a pinned search_path', pin.hint FROM definer d, pin WHERE d.path IS NULL
    UNION ALL
    SELECT e.function, 'SECURITY DEFINER whose search_path names "$user", which follows the caller', pin.hint
      FROM entry e, pin WHERE e.schema_name = '$user'
    UNION ALL
    SELECT e.function, format('SECURITY DEFINER whose search_path names schema %s, in which %s may create objects', e.schema_name,
                              string_agg(DISTINCT CASE WHEN c.grantee = 0 THEN 'PUBLIC' ELSE c.grantee::regrole::text END, ', ')),
           min(pin.hint)
      FROM entry e
      JOIN pg_namespace n ON n.nspname = e.schema_name
      CROSS JOIN LATERAL (SELECT n.nspowner AS grantee
                          UNION SELECT a.grantee FROM aclexplode(n.nspacl) AS a WHERE a.privilege_type = 'CREATE') AS c
      CROSS JOIN pin
     WHERE e.schema_name NOT IN ('pg_catalog', 'pg_temp') AND c.grantee <> e.proowner
     GROUP BY e.function, e.schema_name
    UNION ALL
    SELECT format('schema %s', s.nspname),
           format('%s may create objects in it, so a writer can plant functions that the migrations and apps of the kit '
                  'tables in it resolve through their search_path', w.who),
           format('REVOKE CREATE ON SCHEMA %I FROM %s;', s.nspname, w.who)
      FROM pg_namespace s
      CROSS JOIN LATERAL (SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(g.rolname) END AS who
                            FROM aclexplode(s.nspacl) a LEFT JOIN pg_roles g ON g.oid = a.grantee
                           WHERE a.privilege_type = 'CREATE'
                             AND (a.grantee = 0
                                  OR (a.grantee <> s.nspowner AND NOT g.rolsuper
                                      AND EXISTS (SELECT FROM kit.app_role r JOIN pg_roles ar ON ar.rolname = r.role_name
                                                   WHERE pg_has_role(a.grantee, ar.oid, 'USAGE'))))) w
     WHERE s.nspname = 'kit' OR s.oid IN (SELECT kit.domain_schemas())
    ORDER BY 1, 2
$$;
