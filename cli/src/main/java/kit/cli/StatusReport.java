package kit.cli;

import kit.client.KitName;
import kit.client.KitVersion;
import kit.types.State;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.JSONB;
import org.jooq.exception.DataAccessException;
import org.jooq.impl.DSL;

import java.time.OffsetDateTime;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static kit.catalog.Routines.backfillRemaining;
import static kit.catalog.Tables.FEED;
import static kit.catalog.Tables.READ_VERSION;
import static kit.catalog.Tables.SCHEMA_VERSIONS;
import static kit.catalog.Tables.WRITE_TABLE;

/**
 * Everything {@code kit status} reports, read once, from one snapshot, and then rendered as text, JSON
 * or the feed graph: so the three never disagree, and the row counts and the catalog belong together.
 * As JSON (snake_case keys) this record is the documented shape of {@code kit status --format json}.
 *
 * @param rowsEstimatedFrom tables the planner expects to hold at least this many rows have estimated
 *                          counts; null under {@code --exact}
 * @param exitStatus        1 on drift, a security finding, a failed backfill or a kit version other than the command's
 */
record StatusReport(int formatVersion, String command, String database, boolean kitInstalled, KitVersions kit,
                    Long rowsEstimatedFrom, List<SchemaVersion> schemaVersions, List<ReadVersion> readVersions,
                    List<WriteTable> writeTables, List<ConnectedClients.Client> clients,
                    List<ConnectedClients.App> registeredApps, Replication replication,
                    List<FailedBackfill> failedBackfills, List<DriftFinding> drift, List<SecurityFinding> security,
                    int exitStatus) {

    /** The kit in the database and the command's; {@code warning} is set when they differ. */
    record KitVersions(String database, String command, boolean same, String warning) {
    }

    /** @param domain the schema whose version line it is on (public under a kit before 0.7.0) */
    record SchemaVersion(int version, State state, List<String> readTables, String domain) {
    }

    /** @param rows null for a retired or aborted version (it has no table) or a missing table */
    record ReadVersion(String table, String entity, State state, String rebuildOf, Long rows, boolean rowsEstimated,
                       boolean tableMissing, Backfill backfill, OffsetDateTime createdAt, OffsetDateTime liveAt,
                       OffsetDateTime retiredAt, List<Feed> feeds) {
    }

    /** @param remainingFacts facts still to apply, while building; else null */
    record Backfill(long appliedFacts, Long remainingFacts, String error, OffsetDateTime failedAt) {
    }

    /** A feed into a read version: from {@code writeTable}, of {@code kind} (insert, or update by {@code keyColumn}). */
    /** @param projection the feed's projection function, named with its schema outside public */
    /**
     * @param columns   the read columns it computes, each an SQL expression over the fact {@code f}
     *                  (empty under a kit before 0.7.0)
     * @param filter    the condition that selects the facts it takes, or null for every fact
     * @param statement a sql feed's statement, else null
     */
    record Feed(String writeTable, String kind, String keyColumn, String projection, Map<String, String> columns,
                String filter, String statement) {

        /** The fields of kit.feed a feed is shown with: what the database's kit has of them (columns, filter and statement since 0.7.0). */
        static org.jooq.SelectJoinStep<?> select(DSLContext db) {
            boolean expressions = DatabaseKit.hasColumn(db, "kit.feed", "columns");
            return db.select(FEED.WRITE_TABLE, FEED.READ_TABLE, FEED.KIND, FEED.KEY_COLUMN, FEED.PROJECTION, FEED.POSITION,
                            expressions ? FEED.COLUMNS : DSL.inline(JSONB.valueOf("{}")).as(FEED.COLUMNS.getName()),
                            expressions ? FEED.FILTER : DSL.inline((String) null, FEED.FILTER).as(FEED.FILTER.getName()),
                            expressions ? FEED.STATEMENT : DSL.inline((String) null, FEED.STATEMENT).as(FEED.STATEMENT.getName()))
                    .from(FEED);
        }

        static Feed of(kit.catalog.tables.records.FeedRecord feed) {
            KitName write = KitName.of(feed.getWriteTable());
            return new Feed(feed.getWriteTable(), feed.getKind(), feed.getKeyColumn(),
                    new KitName(write.domain(), feed.getProjection()).toString(), expressions(feed.getColumns()),
                    feed.getFilter(), feed.getStatement());
        }

        private static Map<String, String> expressions(JSONB columns) {
            Map<String, String> expressions = new java.util.TreeMap<>();
            if (columns != null) {
                Json.MAPPER.readTree(columns.data()).properties().forEach(e -> expressions.put(e.getKey(), e.getValue().asString()));
            }
            return expressions;
        }
    }

    /**
     * @param fact          the kind of fact it holds, and {@code schemaVersion} the version it belongs to, as
     *                      declared (null under a kit before 0.6.0)
     * @param feeds         the read tables its facts feed
     * @param partitions    how a table partitioned by seq stands (kit 0.10.0 on); null for a plain one
     */
    record WriteTable(String table, String fact, Integer schemaVersion, String idSpace, Long rows, boolean rowsEstimated,
                      boolean tableMissing, List<String> feeds, Partitions partitions) {
    }

    /**
     * A write table partitioned by seq (kit.write_table_partitions).
     *
     * @param attached           its partitions with a seq range (the default one aside)
     * @param upToSeq            the first seq its partitions do not take; null when it has none
     * @param defaultPartition   {@code empty}; {@code holds facts}: kit.add_partitions has not run in time; or
     *                           {@code missing}: detached or dropped (drift, which kit repair restores)
     * @param missingSeqs        the seqs no attached partition takes (kit.missing_partitions): a partition
     *                           detached or dropped, which backfill, rebuild and verify refuse over; null when none
     */
    record Partitions(long partitionSize, long attached, Long upToSeq, String defaultPartition, String missingSeqs) {

        /** Null for a plain table (partitionSize null); the caller leaves out a table that is gone. */
        static Partitions of(DSLContext db, String writeTable, Long partitionSize) {
            if (partitionSize == null) {
                return null;
            }
            var row = db.fetchOne("""
                    SELECT count(*) FILTER (WHERE p.from_seq IS NOT NULL), max(p.to_seq),
                           (SELECT d.partition::text FROM kit.write_table_partitions(?) d WHERE d.from_seq IS NULL),
                           kit.missing_partitions(?)
                      FROM kit.write_table_partitions(?) p""", writeTable, writeTable, writeTable);
            String defaultPartition = row.get(2, String.class);
            String state = defaultPartition == null ? "missing"
                    : Boolean.TRUE.equals(db.fetchValue("SELECT EXISTS (SELECT FROM " + defaultPartition + ")")) ? "holds facts" : "empty";
            return new Partitions(partitionSize, row.get(0, Long.class), row.get(1, Long.class), state, row.get(3, String.class));
        }
    }

    /** Logical replication of kit tables; {@code error} says why it could not be read (a role without the right), else null. */
    /** @param streamingReplicas the physical replicas streaming from this server, as kit.replica_lag() sees them (kit 0.10.0 on) */
    record Replication(List<Subscription> subscriptions, List<Publication> publications, List<StreamingReplica> streamingReplicas,
                       String error) {
    }

    /** @param lagBytes WAL still to replay; null when it has reported no replay position, or this login may not see it */
    record StreamingReplica(String name, Long lagBytes) {
    }

    record Subscription(String name, boolean enabled, long writeTables, long readTables) {
    }

    record Publication(String name, long kitTables) {
    }

    record FailedBackfill(String table, String error, OffsetDateTime failedAt) {
    }

    /** Runs {@code work} in one REPEATABLE READ, READ ONLY transaction: every figure of a report is of one moment. */
    static <T> T inOneSnapshot(DSLContext db, Function<DSLContext, T> work) {
        return db.transactionResult(t -> {
            t.dsl().execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
            return work.apply(t.dsl());
        });
    }


    /** Reads the report; call it in {@link #inOneSnapshot}. */
    static StatusReport read(DSLContext db, boolean exact) {
        KitVersions kit = kitVersions(db);
        List<FeedRow> feeds = Feed.select(db).orderBy(FEED.READ_TABLE, FEED.POSITION).fetchInto(FEED).stream()
                .map(f -> new FeedRow(f.getReadTable(), Feed.of(f))).toList();
        boolean domains = DatabaseKit.hasColumn(db, "kit.schema_versions", "domain");
        Field<String> domain = domains ? SCHEMA_VERSIONS.DOMAIN : DSL.inline(KitName.PUBLIC, SCHEMA_VERSIONS.DOMAIN);
        List<SchemaVersion> schemaVersions = db.select(SCHEMA_VERSIONS.VERSION, SCHEMA_VERSIONS.STATE, SCHEMA_VERSIONS.READ_TABLES, domain)
                .from(SCHEMA_VERSIONS).orderBy(domains ? SCHEMA_VERSIONS.DOMAIN : DSL.noField(), SCHEMA_VERSIONS.VERSION)
                .fetch(v -> new SchemaVersion(v.value1(), v.value2(), List.of(v.value3()), v.value4()));
        Field<Long> remaining = DSL.when(READ_VERSION.STATE.eq(State.BUILDING), backfillRemaining(READ_VERSION.READ_TABLE));
        // A kit before 0.7.0 has no domain column: every field this kit knows that the database has.
        List<Field<?>> readFields = new java.util.ArrayList<>(List.of(READ_VERSION.fields()));
        if (!domains) {
            readFields.remove(READ_VERSION.DOMAIN);
        }
        readFields.add(remaining);
        List<ReadVersion> readVersions = db.select(readFields).from(READ_VERSION)
                .orderBy(READ_VERSION.CREATED_AT, READ_VERSION.READ_TABLE)
                .fetch(r -> {
                    var v = r.into(READ_VERSION);
                    // Retired and aborted versions have no table any more.
                    boolean hasTable = v.getState() == State.BUILDING || v.getState() == State.LIVE;
                    RowCount rows = hasTable ? RowCount.of(db, v.getReadTable(), exact) : RowCount.MISSING;
                    return new ReadVersion(v.getReadTable(), v.getEntity(), v.getState(), v.getRebuildOf(), rows.rows(),
                            rows.estimated(), hasTable && rows.missing(),
                            new Backfill(v.getBackfilledFacts(), r.get(remaining), v.getBackfillError(), v.getBackfillFailedAt()),
                            v.getCreatedAt(), v.getLiveAt(), v.getRetiredAt(),
                            feeds.stream().filter(f -> f.readTable().equals(v.getReadTable())).map(FeedRow::feed).toList());
                });
        boolean declared = DatabaseKit.hasColumn(db, "kit.write_table", "fact");
        Field<String> fact = declared ? WRITE_TABLE.FACT : DSL.inline(null, WRITE_TABLE.FACT);
        Field<Integer> version = declared ? WRITE_TABLE.SCHEMA_VERSION : DSL.inline(null, WRITE_TABLE.SCHEMA_VERSION);
        Field<Long> partitionSize = DatabaseKit.hasColumn(db, "kit.write_table", "partition_size")
                ? WRITE_TABLE.PARTITION_SIZE : DSL.inline(null, WRITE_TABLE.PARTITION_SIZE);
        List<WriteTable> writeTables = db.select(WRITE_TABLE.WRITE_TABLE_, fact, version, WRITE_TABLE.ID_SPACE, partitionSize).from(WRITE_TABLE)
                .orderBy(WRITE_TABLE.CREATED_AT, WRITE_TABLE.WRITE_TABLE_)
                .fetch(w -> {
                    RowCount rows = RowCount.of(db, w.value1(), exact);
                    return new WriteTable(w.value1(), w.value2(), w.value3(), w.value4(), rows.rows(), rows.estimated(), rows.missing(),
                            feeds.stream().filter(f -> f.feed().writeTable().equals(w.value1())).map(FeedRow::readTable).toList(),
                            rows.missing() ? null : Partitions.of(db, w.value1(), w.value5()));
                });
        List<FailedBackfill> failed = readVersions.stream()
                .filter(v -> v.state() == State.BUILDING && v.backfill().error() != null)
                .map(v -> new FailedBackfill(v.table(), v.backfill().error(), v.backfill().failedAt()))
                .sorted(Comparator.comparing(FailedBackfill::table)).toList();
        List<DriftFinding> drift = DriftFinding.of(db);
        List<SecurityFinding> security = SecurityFinding.of(db);
        int exitStatus = drift.isEmpty() && security.isEmpty() && failed.isEmpty() && kit.same() ? 0 : 1;
        return new StatusReport(Json.FORMAT_VERSION, "status", db.fetchValue(DSL.select(DSL.currentCatalog())), true, kit,
                exact ? null : RowCount.ESTIMATE_FROM, schemaVersions, readVersions, writeTables, ConnectedClients.of(db),
                ConnectedClients.registered(db), replication(db), failed, drift, security, exitStatus);
    }

    private record FeedRow(String readTable, Feed feed) {
    }

    /**
     * The kit in the database beside this command's: a database with an older kit has that kit's checks
     * only (kit.drift is the database's), so status says so and asks for the migrate that upgrades it.
     */
    private static KitVersions kitVersions(DSLContext db) {
        boolean versioned = Boolean.TRUE.equals(db.fetchValue("SELECT to_regprocedure('kit.version()') IS NOT NULL"));
        String inDatabase = versioned ? String.valueOf(db.fetchValue("SELECT kit.version()")) : "0.1.0";  // before it had a version
        String mine = KitVersion.current();
        return new KitVersions(inDatabase, mine, mine.equals(inDatabase), mine.equals(inDatabase) ? null
                : "the database has kit " + inDatabase + ", this command is kit " + mine
                        + ": the checks below are the database's kit's; flyway:migrate with the kit " + mine + " jar upgrades it");
    }

    /**
     * Where facts come from and go to besides this database's own writers: its logical-replication
     * subscriptions and publications of kit tables (docs/operating.md, "Replica sessions and logical
     * replication"). Read in a savepoint: status must work for any role that can read the catalog, and
     * this part is a courtesy.
     */
    private static Replication replication(DSLContext db) {
        try {
            return db.transactionResult(t -> replicationOrFail(t.dsl()));
        } catch (DataAccessException e) {
            return new Replication(List.of(), List.of(), List.of(), e.getMessage().lines().reduce((a, b) -> b).orElse(""));
        }
    }

    private static Replication replicationOrFail(DSLContext db) {
        var subscriptions = db.resultQuery("""
                SELECT s.subname, s.subenabled,
                       count(*) FILTER (WHERE r.srrelid IN (SELECT to_regclass(kit.relation(w.write_table)) FROM kit.write_table w)) AS facts,
                       count(*) FILTER (WHERE r.srrelid IN (SELECT to_regclass(kit.relation(v.read_table)) FROM kit.read_version v)) AS reads
                  FROM pg_subscription s JOIN pg_subscription_rel r ON r.srsubid = s.oid
                 WHERE s.subdbid = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
                 GROUP BY s.subname, s.subenabled ORDER BY s.subname""")
                .fetch(r -> new Subscription(r.get(0, String.class), Boolean.TRUE.equals(r.get(1, Boolean.class)),
                        r.get(2, Long.class), r.get(3, Long.class)));
        var publications = db.resultQuery("""
                SELECT p.pubname, count(*) AS tables FROM pg_publication_tables p
                 WHERE kit.kit_name(p.schemaname, p.tablename) IN (SELECT w.write_table FROM kit.write_table w
                                                                   UNION SELECT v.read_table FROM kit.read_version v)
                 GROUP BY p.pubname ORDER BY p.pubname""")
                .fetch(r -> new Publication(r.get(0, String.class), r.get(1, Long.class)));
        List<StreamingReplica> replicas = DatabaseKit.hasFunction(db, "kit.replica_lag()")
                ? db.resultQuery("SELECT r.replica, r.lag FROM kit.replica_lag() r")
                        .fetch(r -> new StreamingReplica(r.get(0, String.class), r.get(1, Long.class)))
                : List.of();
        return new Replication(subscriptions, publications, replicas, null);
    }
}
