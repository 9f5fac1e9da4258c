-- Kit script 10 catalog (run by Flyway before every migrate, in file-name order).
-- The kit's catalog: write tables and their id spaces, read versions and
-- their state, feeds, schema versions, the global fact sequence. Additive
-- only (IF NOT EXISTS): a newer kit adds tables and columns, never drops them.
-- Idempotent: CREATE OR REPLACE / IF NOT EXISTS, safe to run again; and run
-- only to install or upgrade, so that a migrate with the same kit installed
-- takes no lock on the catalog (kit.schema_versions is read by app gates).

DO $catalog$
DECLARE
    _messages text := current_setting('client_min_messages');
BEGIN
IF current_setting('kit.install_action') = 'none' THEN
    RETURN;
END IF;
-- On an upgrade each IF NOT EXISTS that finds its object says so ("relation ...
-- already exists, skipping"), and Flyway logs every such notice as a warning: a
-- dozen of them after every upgrade, none of them news. This block raises nothing
-- of its own, so it hides notices until its end.
PERFORM set_config('client_min_messages', 'warning', true);

COMMENT ON SCHEMA kit IS 'The versioned CQRS kit: catalog of write tables, read versions, feeds and schema versions, and the functions migrations call.';

-- Every install and upgrade of the kit in this database; kit.version() is the newest.
CREATE TABLE IF NOT EXISTS kit.installation (
    version       text NOT NULL,
    action        text NOT NULL CHECK (action IN ('install', 'upgrade')),
    from_version  text,
    installed_at  timestamptz NOT NULL DEFAULT now()
);

-- One global order for every fact in every write table.
CREATE SEQUENCE IF NOT EXISTS kit.fact_seq AS bigint;

CREATE TABLE IF NOT EXISTS kit.write_table (
    write_table  text PRIMARY KEY,
    id_space     text NOT NULL,
    id_sequence  text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE kit.write_table IS 'Append-only fact tables. Tables of one id space share one id sequence.';
-- Declared by kit.create_write_table (a kit before 0.6.0 parsed both from the
-- name; the upgrade records what the names implied).
ALTER TABLE kit.write_table ADD COLUMN IF NOT EXISTS fact text;
ALTER TABLE kit.write_table ADD COLUMN IF NOT EXISTS schema_version integer;
COMMENT ON COLUMN kit.write_table.fact IS 'The kind of fact the table holds: apps of version N write the newest write table of each fact at or below N.';
COMMENT ON COLUMN kit.write_table.schema_version IS 'The schema version the write table belongs to (NULL: a table an older kit could not place in any version).';
-- 0.6.0: what the names of an older kit's write tables implied, recorded once
-- (a table whose name has no _<N> belonged to no version, and still does).
UPDATE kit.write_table w
   SET fact = coalesce((regexp_match(w.write_table, '^(.+)_[0-9]{1,9}$'))[1], w.write_table),
       schema_version = (regexp_match(w.write_table, '_([0-9]{1,9})$'))[1]::integer
 WHERE w.fact IS NULL;
-- 0.7.0: a schema is a domain (see kit.kit_name): every catalog entry names its schema, and
-- schema versions and app roles are numbered per domain. Kits before kept every table in public.
ALTER TABLE kit.write_table ADD COLUMN IF NOT EXISTS domain text NOT NULL DEFAULT 'public';
COMMENT ON COLUMN kit.write_table.domain IS 'The schema the write table is in: its domain. write_table is its kit name (schema.name, or the name alone in public).';
-- 0.10.0: a write table partitioned by seq range (kit.add_partitions).
ALTER TABLE kit.write_table ADD COLUMN IF NOT EXISTS partition_size bigint;
ALTER TABLE kit.write_table ADD COLUMN IF NOT EXISTS partitioned_from bigint;
COMMENT ON COLUMN kit.write_table.partition_size IS 'How many seqs each range partition of a write table partitioned by seq holds (NULL: not partitioned).';
COMMENT ON COLUMN kit.write_table.partitioned_from IS 'The first seq of its first partition: every fact from there on must be in a partition attached to it, or a backfill, rebuild or verify would miss it.';
ALTER TABLE kit.write_table ADD COLUMN IF NOT EXISTS partitioned_to bigint;
COMMENT ON COLUMN kit.write_table.partitioned_to IS 'The first seq above the partitions kit.add_partitions has made: a seq range below it that no attached partition takes is a partition detached or dropped, never one to make anew.';
DROP INDEX IF EXISTS kit.write_table_fact_schema_version;
CREATE UNIQUE INDEX IF NOT EXISTS write_table_domain_fact_schema_version ON kit.write_table (domain, fact, schema_version);

-- Explicit ids taken in each id space. Sequence-given ids never need a row
-- here: they come from a range explicit ids may not use (see kit.assign_id_sql).
CREATE TABLE IF NOT EXISTS kit.explicit_id (
    id_space  text NOT NULL,
    id        bigint NOT NULL,
    PRIMARY KEY (id_space, id)
);
COMMENT ON TABLE kit.explicit_id IS 'Ids that writers chose themselves, one row per id space and id, so that two facts of one id space never share an explicit id.';

CREATE TABLE IF NOT EXISTS kit.read_version (
    read_table        text PRIMARY KEY,
    entity            text NOT NULL,
    state             text NOT NULL DEFAULT 'building' CHECK (state IN ('building', 'live', 'retired', 'aborted')),
    rebuild_of        text REFERENCES kit.read_version,
    backfilled_to     bigint NOT NULL DEFAULT 0,
    backfilled_facts  bigint NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now(),
    live_at           timestamptz,
    retired_at        timestamptz
);
COMMENT ON TABLE kit.read_version IS 'Read tables and their lifecycle: building (being backfilled), live (complete, fed by triggers), retired (dropped by a tidy-up), aborted (dropped while building).';
COMMENT ON COLUMN kit.read_version.rebuild_of IS 'Set on the shadow table of an online rebuild: the live read table it replaces when complete.';
COMMENT ON COLUMN kit.read_version.backfilled_to IS 'While building: every feeding fact with seq up to this one has been applied.';
ALTER TABLE kit.read_version ADD COLUMN IF NOT EXISTS backfill_error text;
ALTER TABLE kit.read_version ADD COLUMN IF NOT EXISTS backfill_failed_at timestamptz;
ALTER TABLE kit.read_version ADD COLUMN IF NOT EXISTS domain text NOT NULL DEFAULT 'public';
COMMENT ON COLUMN kit.read_version.domain IS 'The schema the read table is in: its domain. read_table is its kit name (schema.name, or the name alone in public).';
COMMENT ON COLUMN kit.read_version.backfill_error IS 'While building: why its last backfill stopped (SQLSTATE: message); cleared by the next batch that succeeds.';

CREATE TABLE IF NOT EXISTS kit.app_role (
    version    integer PRIMARY KEY,
    role_name  text NOT NULL
);
COMMENT ON TABLE kit.app_role IS 'The database role of each app version of a domain: it may insert into its own write tables and read its own read tables, nothing more.';
ALTER TABLE kit.app_role ADD COLUMN IF NOT EXISTS domain text NOT NULL DEFAULT 'public';

CREATE TABLE IF NOT EXISTS kit.read_reference (
    read_table        text NOT NULL REFERENCES kit.read_version,
    column_name       text NOT NULL,
    referenced_table  text NOT NULL REFERENCES kit.read_version,
    PRIMARY KEY (read_table, column_name)
);
COMMENT ON TABLE kit.read_reference IS 'Columns of a read table that must name an existing row (by id) of another read table, checked for every fact.';

CREATE TABLE IF NOT EXISTS kit.feed (
    write_table  text NOT NULL REFERENCES kit.write_table,
    read_table   text NOT NULL REFERENCES kit.read_version,
    kind         text NOT NULL CHECK (kind IN ('insert', 'update')),
    key_column   text,
    projection   text NOT NULL,
    position     bigint GENERATED ALWAYS AS IDENTITY,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (write_table, read_table),
    CHECK ((kind = 'update') = (key_column IS NOT NULL))
);
COMMENT ON TABLE kit.feed IS 'One feed per write table x read table, applied by the write table''s one feed trigger (kit.object_name(''feed'', write_table)) and replayed by its projection function. Insert feeds create read rows, update feeds change the row whose id is in key_column.';
-- 0.7.0: a feed may compute read columns from the fact, and take only some facts.
ALTER TABLE kit.feed ADD COLUMN IF NOT EXISTS columns jsonb NOT NULL DEFAULT '{}';
ALTER TABLE kit.feed ADD COLUMN IF NOT EXISTS filter text;
COMMENT ON COLUMN kit.feed.columns IS 'Read columns the feed computes, each an SQL expression over the fact f: {"email": "lower(f.email)"}; every other column is the fact column of the same name.';
COMMENT ON COLUMN kit.feed.filter IS 'An SQL condition over the fact f that selects the facts the feed takes; NULL: every fact.';
-- 0.7.0: delete feeds remove the row whose id is in key_column, accumulating feeds add to it,
-- and a feed may be a statement of the migration's own (kit.feed.statement).
ALTER TABLE kit.feed ADD COLUMN IF NOT EXISTS statement text;
IF NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conrelid = 'kit.feed'::regclass AND c.conname = 'feed_kinds'
                  AND pg_get_constraintdef(c.oid) LIKE '%upsert%') THEN
    EXECUTE (SELECT string_agg(format('ALTER TABLE kit.feed DROP CONSTRAINT %I', c.conname), '; ')
               FROM pg_constraint c WHERE c.conrelid = 'kit.feed'::regclass AND c.contype = 'c');
    ALTER TABLE kit.feed ADD CONSTRAINT feed_kinds CHECK (kind IN ('insert', 'update', 'upsert', 'delete', 'accumulate', 'sql')),
        ADD CONSTRAINT feed_keys CHECK ((kind IN ('insert', 'sql')) = (key_column IS NULL)),
        ADD CONSTRAINT feed_statements CHECK ((kind = 'sql') = (statement IS NOT NULL));
END IF;
COMMENT ON COLUMN kit.feed.kind IS 'insert: a fact makes a row; update: it sets columns of the row whose id is in key_column; upsert: it makes that row, or sets its columns when it is there; delete: it removes that row; accumulate: it adds to that row''s columns (kit.feed.columns: what each fact adds); sql: the feed''s own statement (kit.feed.statement).';
COMMENT ON COLUMN kit.feed.statement IS 'A sql feed''s statement: set-based SQL over {{facts}} (the facts, a FROM item) into {{target}} (the read table), the same live and in replay.';

-- The rules of each read version (constraints, unique indexes, NOT NULL
-- columns) as they were when it went live, so that a rule dropped later is
-- drift, and a rebuild or verify replays into a table that has every one.
CREATE TABLE IF NOT EXISTS kit.read_rule (
    read_table  text NOT NULL REFERENCES kit.read_version,
    kind        text NOT NULL CHECK (kind IN ('column', 'constraint', 'unique index', 'not null')),
    definition  text NOT NULL,
    PRIMARY KEY (read_table, kind, definition)
);
-- The columns of each write table as it was created: a fact column dropped
-- later is drift (its values are gone), never something to regenerate around.
CREATE TABLE IF NOT EXISTS kit.write_column (
    write_table  text NOT NULL REFERENCES kit.write_table,
    column_name  text NOT NULL,
    type         text NOT NULL,
    PRIMARY KEY (write_table, column_name)
);
COMMENT ON TABLE kit.write_column IS 'The columns a write table had when it was created (kit.record_write_columns): one missing later is drift.';

COMMENT ON TABLE kit.read_rule IS 'The rules a read table had when its version went live (kit.read_rules): a rule missing later is drift, and kit.repair() puts it back when the rows allow.';

CREATE TABLE IF NOT EXISTS kit.schema_version (
    version     integer PRIMARY KEY CHECK (version >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    retired_at  timestamptz
);

CREATE TABLE IF NOT EXISTS kit.schema_version_read (
    version     integer NOT NULL REFERENCES kit.schema_version,
    read_table  text NOT NULL REFERENCES kit.read_version,
    PRIMARY KEY (version, read_table)
);
COMMENT ON TABLE kit.schema_version_read IS 'The read versions an app of each schema version of a domain reads.';
ALTER TABLE kit.schema_version ADD COLUMN IF NOT EXISTS domain text NOT NULL DEFAULT 'public';
ALTER TABLE kit.schema_version_read ADD COLUMN IF NOT EXISTS domain text NOT NULL DEFAULT 'public';
-- Keyed by (domain, version) from 0.7.0 on: each domain has its own version line.
IF (SELECT array_length(c.conkey, 1) FROM pg_constraint c WHERE c.conrelid = 'kit.schema_version'::regclass AND c.contype = 'p') = 1 THEN
    -- The view groups by the old key (its other columns depend on it): made again below, and
    -- granted again to every app role by the upgrade.
    DROP VIEW IF EXISTS kit.schema_versions;
    EXECUTE (SELECT string_agg(format('ALTER TABLE kit.schema_version_read DROP CONSTRAINT %I', c.conname), '; ')
               FROM pg_constraint c WHERE c.conrelid = 'kit.schema_version_read'::regclass AND c.contype IN ('p', 'f')
                AND c.confrelid IS DISTINCT FROM 'kit.read_version'::regclass);
    ALTER TABLE kit.schema_version DROP CONSTRAINT schema_version_pkey, ADD CONSTRAINT schema_version_pkey PRIMARY KEY (domain, version);
    ALTER TABLE kit.schema_version_read ADD CONSTRAINT schema_version_read_pkey PRIMARY KEY (domain, version, read_table),
        ADD CONSTRAINT schema_version_read_version_fkey FOREIGN KEY (domain, version) REFERENCES kit.schema_version;
    ALTER TABLE kit.app_role DROP CONSTRAINT app_role_pkey, ADD CONSTRAINT app_role_pkey PRIMARY KEY (domain, version);
END IF;

-- A schema version (of a domain: the view's last column) is live when it is not retired and every read version it
-- uses is live; its state is derived, never stored twice.
CREATE OR REPLACE VIEW kit.schema_versions AS
SELECT v.version,
       CASE WHEN v.retired_at IS NOT NULL THEN 'retired'
            WHEN bool_or(r.state = 'aborted') THEN 'aborted'
            WHEN bool_and(r.state = 'live') THEN 'live'
            ELSE 'building' END                      AS state,
       array_agg(r.read_table ORDER BY r.read_table) AS read_tables,
       v.created_at,
       v.retired_at,
       v.domain
  FROM kit.schema_version v
  JOIN kit.schema_version_read s USING (domain, version)
  JOIN kit.read_version r USING (read_table)
 GROUP BY v.domain, v.version;

-- 0.9.0: forgetting a person, the one sanctioned change of facts (kit.forget).
CREATE TABLE IF NOT EXISTS kit.personal_column (
    write_table    text NOT NULL REFERENCES kit.write_table,
    column_name    text NOT NULL,
    redaction      text NOT NULL,
    entity         text NOT NULL,
    entity_column  text NOT NULL,
    PRIMARY KEY (write_table, column_name)
);
COMMENT ON TABLE kit.personal_column IS 'Columns of write tables that hold personal data about an entity (an id space), and what kit.forget writes in their place: redaction, an SQL expression over the fact f. entity_column is the fact''s column that holds the entity''s id (id for facts of the entity''s own id space).';
CREATE TABLE IF NOT EXISTS kit.forgotten (
    domain            text NOT NULL,
    entity            text NOT NULL,
    id                bigint NOT NULL,
    forgotten_at      timestamptz NOT NULL DEFAULT now(),
    forgotten_by      text NOT NULL DEFAULT session_user,
    facts_redacted    bigint NOT NULL DEFAULT 0,
    rows_reprojected  bigint NOT NULL DEFAULT 0,
    xact              xid8 NOT NULL DEFAULT pg_current_xact_id(),
    redacting         text
);
COMMENT ON TABLE kit.forgotten IS 'Every kit.forget: when, which entity and id, by which login role, how many facts it redacted and read rows it projected again; never a value it erased. redacting names the write table kit.forget is changing while it does (the append-only guard lets that UPDATE through, in that transaction only).';
CREATE INDEX IF NOT EXISTS forgotten_xact ON kit.forgotten (xact) WHERE redacting IS NOT NULL;
-- The role that may call kit.forget (one row), and the app versions a migration granted it to.
CREATE TABLE IF NOT EXISTS kit.forget_role (
    role_name  text PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS kit.forget_grant (
    domain   text NOT NULL,
    version  integer NOT NULL,
    PRIMARY KEY (domain, version)
);
COMMENT ON TABLE kit.forget_grant IS 'The app versions whose role a migration made a member of the forget role (kit.grant_forget): any other app role that can run kit.forget is drift.';

-- 0.9.0: an existing table brought under the kit (kit.baseline): its rows become facts, and
-- every change to it, until the tidy-up ends the capture (kit.end_capture).
CREATE TABLE IF NOT EXISTS kit.baseline_table (
    source_table    text PRIMARY KEY,
    key_column      text NOT NULL,
    recorded_table  text NOT NULL REFERENCES kit.write_table,
    removed_table   text NOT NULL REFERENCES kit.write_table,
    read_table      text NOT NULL REFERENCES kit.read_version,
    state           text NOT NULL DEFAULT 'copying' CHECK (state IN ('copying', 'capturing', 'ended')),
    copy_until      bigint,
    copied_to       bigint,
    rows_copied     bigint NOT NULL DEFAULT 0,
    started_at      timestamptz NOT NULL DEFAULT now(),
    copied_at       timestamptz,
    ended_at        timestamptz
);
COMMENT ON TABLE kit.baseline_table IS 'Existing tables brought under the kit: copying (its rows become facts of recorded_table, batch by batch, up to the key copy_until it had when the capture started), capturing (copied; each insert, update and delete of it still becomes a fact), ended (kit.end_capture: the table is read-only or dropped).';

-- 0.10.0: the app servers that run, each registered on the primary by itself for a lease it
-- renews (kit.register_app): retirements see an app that reads from a streaming replica only,
-- whose sessions there the primary's pg_stat_activity does not show.
CREATE TABLE IF NOT EXISTS kit.app_instance (
    instance    text PRIMARY KEY CHECK (length(instance) BETWEEN 1 AND 200),
    domain      text NOT NULL,
    version     integer NOT NULL,
    login       text NOT NULL,
    reads_from  text NOT NULL CHECK (length(reads_from) <= 500),
    started_at  timestamptz NOT NULL DEFAULT now(),
    renewed_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
COMMENT ON TABLE kit.app_instance IS 'Running app servers, each registered by itself (kit.register_app) for a lease it renews while it runs and gives back when it stops (kit.unregister_app); one killed holds its version until expires_at. reads_from: primary, or the replica it reads from. kit.registered_apps() lists those whose lease holds; a retirement refuses while one of its versions does.';

PERFORM set_config('client_min_messages', _messages, true);
END
$catalog$;
