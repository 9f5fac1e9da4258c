package kit.bench;

import kit.app.App;
import kit.app.AppConfig;
import kit.app.Passwords;
import kit.client.Catalog;
import kit.client.DatabaseUrl;
import kit.client.Jdbc;
import kit.client.Migrations;
import kit.example.ExampleMigrations;
import kit.server.PostgresServer;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static kit.client.Jdbc.exec;
import static kit.client.Jdbc.single;

/**
 * The benchmark's measurements. Every ratio divides two rates measured one
 * after the other in this run on this server, so machine noise mostly cancels.
 */
final class Measurements {

    static final String INSERT_FACT = "INSERT INTO %s (email, password_hash, username) VALUES (?, 'h', 'u')";
    static final String INSERT_BATCH = "INSERT INTO %s (email, password_hash, username) "
            + "SELECT ? || '-' || g || '@bench.example', 'h', 'u' FROM generate_series(1, 100) g";

    private final PostgresServer server;
    private final double seconds;
    private final List<Integer> backfillSizes;
    private final Consumer<Figure> out;
    private final String syncCommit;
    private final AtomicInteger databases = new AtomicInteger();
    private final List<String> created = new ArrayList<>();

    Measurements(PostgresServer server, double seconds, List<Integer> backfillSizes, Consumer<Figure> out) throws SQLException {
        this.server = server;
        this.seconds = seconds;
        this.backfillSizes = backfillSizes;
        this.out = out;
        try (Connection c = Jdbc.connect(server.url())) {
            this.syncCommit = single(c, "SHOW synchronous_commit");
        }
    }

    /** A fresh database at schema `target` where user_registered_1 feeds `readVersions` live read tables (1, 2 or 3). */
    DatabaseUrl databaseWith(int readVersions) throws SQLException {
        String name = "kit_bench_" + ProcessHandle.current().pid() + "_" + databases.incrementAndGet();
        server.dropDatabase(name);
        server.createDatabase(name, null);
        created.add(name);
        DatabaseUrl url = server.url().withDatabase(name);
        new Migrations(url, ExampleMigrations.LOCATION, "kit_bench_v").migrateTo("2");
        try (Connection c = Jdbc.connect(url)) {
            if (readVersions <= 2) {
                retire(c, "users_0");
            }
            if (readVersions <= 1) {
                retire(c, "users_1");
            }
            exec(c, """
                    CREATE SEQUENCE plain_id;
                    CREATE TABLE plain_registered (id bigint NOT NULL DEFAULT nextval('plain_id'), email text NOT NULL,
                        password_hash text NOT NULL, username text, seq bigserial PRIMARY KEY, recorded_at timestamptz NOT NULL DEFAULT now());
                    """);
        }
        return url;
    }

    void dropAll() {
        for (String name : created) {
            try {
                server.dropDatabase(name);
            } catch (SQLException e) {
                System.err.println("bench: could not drop " + name + ": " + e.getMessage());
            }
        }
    }

    private String conditions(int clients, int batch) {
        return clients + " client" + (clients == 1 ? "" : "s") + ", " + batch + " fact" + (batch == 1 ? "" : "s") + "/statement, synchronous_commit=" + syncCommit;
    }

    private static Load.Operation insert(String table, boolean batch) {
        String sql = String.format(batch ? INSERT_BATCH : INSERT_FACT, table);
        return (c, client, n) -> {
            try (PreparedStatement s = c.prepareStatement(sql)) {
                String email = "c" + client + "-" + n + "-" + ThreadLocalRandom.current().nextInt();
                s.setString(1, batch ? email : email + "@bench.example");
                s.executeUpdate();
            }
            return batch ? 100 : 1;
        };
    }

    /** 1 and 2: facts/s into user_registered_1 feeding R read versions, against a plain table. */
    void writePath() throws Exception {
        DatabaseUrl[] dbs = {null, databaseWith(1), databaseWith(2), databaseWith(3)};
        for (boolean batch : new boolean[] {false, true}) {
            for (int clients : new int[] {1, 8}) {
                double plain = Load.run(dbs[3], clients, seconds, insert("plain_registered", batch)).factsPerSecond();
                for (int r = 1; r <= 3; r++) {
                    double kit = Load.run(dbs[r], clients, seconds, insert("user_registered_1", batch)).factsPerSecond();
                    out.accept(new Figure(batch ? "2. write path, batches" : "1. write path, one fact per transaction",
                            "R=" + r + " / plain table", conditions(clients, batch ? 100 : 1), kit, plain, "facts/s",
                            writeTarget(batch, clients, r), true));
                }
            }
        }
    }

    /**
     * 8: what the id rule costs. The same plain table, its ids given once by
     * DEFAULT nextval() and once by the kit's id assigner (a BEFORE INSERT row
     * trigger WHEN (NEW.id IS NULL), as the kit attaches it: the sequence for
     * facts without an id; explicit ones go to the id claimer instead).
     */
    void idAssignment() throws Exception {
        DatabaseUrl db = databaseWith(1);
        try (Connection c = Jdbc.connect(db)) {
            exec(c, """
                    CREATE TABLE assigned_registered (LIKE plain_registered INCLUDING ALL);
                    ALTER TABLE assigned_registered ALTER COLUMN id DROP DEFAULT;
                    CREATE TRIGGER assign_id BEFORE INSERT ON assigned_registered FOR EACH ROW WHEN (NEW.id IS NULL) EXECUTE FUNCTION kit.assign_user_id();
                    """);
        }
        for (boolean batch : new boolean[] {false, true}) {
            double plain = Load.run(db, 1, seconds, insert("plain_registered", batch)).factsPerSecond();
            double assigned = Load.run(db, 1, seconds, insert("assigned_registered", batch)).factsPerSecond();
            out.accept(new Figure("8. id rule", "id assigner trigger / DEFAULT nextval()", conditions(1, batch ? 100 : 1),
                    assigned, plain, "facts/s", Double.NaN, true));
        }
    }

    private static double writeTarget(boolean batch, int clients, int r) {
        if (batch) {
            return r == 1 ? 0.5 : r == 3 ? 0.28 : Double.NaN;
        }
        if (clients == 1) {
            return r == 3 ? 0.85 : Double.NaN;
        }
        return r == 1 ? 0.75 : r == 3 ? 0.65 : Double.NaN;
    }

    /** 3: the trigger path against the application writing the fact and the R=3 read rows itself. */
    void againstTheAppWritingReadRows() throws Exception {
        DatabaseUrl db = withAppWrittenTables(databaseWith(3));
        Load.Operation separate = (c, client, n) -> {
            c.setAutoCommit(false);
            long id;
            long seq;
            String email = "s" + client + "-" + n + "-" + ThreadLocalRandom.current().nextInt() + "@bench.example";
            try (PreparedStatement s = c.prepareStatement("INSERT INTO alt_fact (email, password_hash, username) VALUES (?, 'h', 'u') RETURNING id, seq")) {
                s.setString(1, email);
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    id = rs.getLong(1);
                    seq = rs.getLong(2);
                }
            }
            for (String table : List.of("alt_users_a", "alt_users_b", "alt_users_c")) {
                try (PreparedStatement s = c.prepareStatement("INSERT INTO " + table + " (id, email, password_hash, username, last_fact_seq) VALUES (?, ?, 'h', 'u', ?)")) {
                    s.setLong(1, id);
                    s.setString(2, email);
                    s.setLong(3, seq);
                    s.executeUpdate();
                }
            }
            c.commit();
            c.setAutoCommit(true);
            return 1;
        };
        for (int clients : new int[] {1, 8}) {
            double kit = Load.run(db, clients, seconds, insert("user_registered_1", false)).factsPerSecond();
            double sep = Load.run(db, clients, seconds, separate).factsPerSecond();
            double one = Load.run(db, clients, seconds, APP_WRITES_IN_ONE_STATEMENT).factsPerSecond();
            out.accept(new Figure("3. trigger path vs the app writing the rows", "R=3 triggers / app, one statement (CTE)",
                    conditions(clients, 1), kit, one, "facts/s", 1.0, true));
            out.accept(new Figure("3. trigger path vs the app writing the rows", "R=3 triggers / app, separate statements",
                    conditions(clients, 1), kit, sep, "facts/s", 1.3, true));
        }
    }

    /**
     * 9: one fact per transaction at R=3, with synchronous commit on and off, 1 and 8 clients: the kit
     * against a plain insert and against the application writing the fact and its three read rows in
     * one statement (a CTE), the cheapest way to write the same rows without triggers.
     */
    void againstTheCheapestWayToWriteTheSameRows() throws Exception {
        DatabaseUrl db = withAppWrittenTables(databaseWith(3));
        for (String commit : List.of("on", "off")) {
            DatabaseUrl url = db.with("options", "-csynchronous_commit=" + commit);
            for (int clients : new int[] {8, 1}) {
                double plain = Load.run(url, clients, seconds, insert("plain_registered", false)).factsPerSecond();
                double kit = Load.run(url, clients, seconds, insert("user_registered_1", false)).factsPerSecond();
                double cte = Load.run(url, clients, seconds, APP_WRITES_IN_ONE_STATEMENT).factsPerSecond();
                String conditions = clients + (clients == 1 ? " client" : " clients") + ", 1 fact/statement, synchronous_commit=" + commit;
                out.accept(new Figure("9. the kit vs the cheapest way to write the same rows", "R=3 / plain table", conditions,
                        kit, plain, "facts/s", againstPlainTarget(commit, clients), true));
                out.accept(new Figure("9. the kit vs the cheapest way to write the same rows", "R=3 / app, one statement (CTE)", conditions,
                        kit, cte, "facts/s", 0.9, true));
            }
        }
    }

    /**
     * 14: the two levers on the write path taken together, against the application writing the same
     * rows in one statement (a CTE), with the kit as it is measured in the same run: the feed trigger
     * with plain INSERTs (a rejected fact would get PostgreSQL's unique_violation, kit.feed_trigger_sql's
     * rejections => 'fail') and ids by the column's DEFAULT nextval() of the id space's sequence (the id
     * assigner and the explicit-id check dropped, since the check would take every DEFAULT id for an
     * explicit one out of range; an explicit id is then not checked by anything on this path). What the
     * kit would reach if both rules were kept another way. Order: CTE, levers, levers, CTE, kit.
     */
    void bothLevers() throws Exception {
        DatabaseUrl kit = withAppWrittenTables(databaseWith(3));
        DatabaseUrl levers = databaseWith(3);
        try (Connection c = Jdbc.connect(levers)) {
            replaceFeedTrigger(c, "'user_registered_1', rejections => 'fail'");
            exec(c, single(c, """
                    SELECT format('ALTER TABLE user_registered_1 ALTER COLUMN id SET DEFAULT nextval(%L);', w.id_sequence)
                           || 'DROP TRIGGER assign_id_user_registered_1 ON user_registered_1;'
                           || 'DROP TRIGGER accept_id_user_registered_1 ON user_registered_1'
                      FROM kit.write_table w WHERE w.write_table = 'user_registered_1'"""));
        }
        Load.Operation writer = insert("user_registered_1", false);
        for (int clients : new int[] {1, 8}) {
            double cte = Load.run(kit, clients, seconds, APP_WRITES_IN_ONE_STATEMENT).factsPerSecond();
            double withLevers = Load.run(levers, clients, seconds, writer).factsPerSecond() + Load.run(levers, clients, seconds, writer).factsPerSecond();
            cte += Load.run(kit, clients, seconds, APP_WRITES_IN_ONE_STATEMENT).factsPerSecond();
            double asIs = Load.run(kit, clients, seconds, writer).factsPerSecond();
            out.accept(new Figure("14. both write-path levers", "R=3 plain INSERTs and DEFAULT ids / app, one statement (CTE)",
                    conditions(clients, 1), withLevers / 2, cte / 2, "facts/s", 0.9, true));
            out.accept(new Figure("14. both write-path levers", "R=3 kit as it is / app, one statement (CTE)",
                    conditions(clients, 1), asIs, cte / 2, "facts/s", 0.9, true));
        }
    }

    /**
     * 12: the write table's trigger statement-level (the kit's: every feed once over the transition
     * table) against row-level (every feed once per fact, over NEW), both written by the kit's generator
     * (kit.feed_trigger_sql, level => 'row'), measured side by side (see sideBySide).
     */
    void rowAgainstStatementTrigger() throws Exception {
        DatabaseUrl statement = databaseWith(3);
        DatabaseUrl row = databaseWith(3);
        try (Connection c = Jdbc.connect(row)) {
            replaceFeedTrigger(c, "'user_registered_1', level => 'row'");
        }
        sideBySide("12. statement-level vs row-level feed trigger", "R=3 statement / row", statement, row);
    }

    /**
     * 15: what pinning the settings a feed's values depend on (kit.fact_settings: TimeZone, DateStyle,
     * ...) costs the feed trigger, one GUC save and restore each per call: the kit's trigger against
     * the same function with its search_path alone, side by side.
     */
    void pinnedSettings() throws Exception {
        DatabaseUrl pinned = databaseWith(3);
        DatabaseUrl unpinned = databaseWith(3);
        try (Connection c = Jdbc.connect(unpinned)) {
            exec(c, "ALTER FUNCTION feed_user_registered_1() RESET ALL");
            exec(c, "ALTER FUNCTION feed_user_registered_1() SET search_path = pg_catalog, pg_temp");
        }
        sideBySide("15. pinned settings of the feed trigger", "R=3 pinned / search_path alone", pinned, unpinned);
    }

    /**
     * 17: what partitioning a write table by seq range costs its writers: user_registered_8, feeding
     * three read versions, created PARTITION BY RANGE (seq) in one database and plain in the other,
     * measured side by side. The partitions are the kit's (kit.add_partitions, made ahead of the fact
     * sequence, as every migrate makes them), each holding more seqs than one measurement writes, so
     * that a run crosses a partition boundary or two, as a busy table does.
     */
    void partitionedWriteTable() throws Exception {
        DatabaseUrl partitioned = databaseWith(1);
        DatabaseUrl plain = databaseWith(1);
        sql(partitioned, c -> declareUsers8(c, true));
        sql(plain, c -> declareUsers8(c, false));
        // The target: partitioning costs the write path at most 5 %.
        sideBySide("17. partitioned write table", "R=3 partitioned by seq / plain", partitioned, plain, "user_registered_8", 0.95);
    }

    /** user_registered_8 (partitioned or not) and three read versions it feeds, live. */
    private static void declareUsers8(Connection c, boolean partitioned) throws SQLException {
        exec(c, partitioned
                ? """
                  CREATE TABLE user_registered_8 (id bigint, email text NOT NULL, password_hash text NOT NULL, username text,
                                                  seq bigint, recorded_at timestamptz) PARTITION BY RANGE (seq);
                  SELECT kit.create_write_table('user_registered_8', 'user', fact => 'user_registered_8', schema_version => 8,
                                                partition_size => 200000);
                  SELECT kit.add_partitions('user_registered_8', ahead => 40);
                  """
                : """
                  CREATE TABLE user_registered_8 (id bigint, email text NOT NULL, password_hash text NOT NULL, username text);
                  SELECT kit.create_write_table('user_registered_8', 'user', fact => 'user_registered_8', schema_version => 8);
                  """);
        for (int r = 1; r <= 3; r++) {
            exec(c, """
                    CREATE TABLE users_8%1$d (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, password_hash text NOT NULL, username text);
                    SELECT kit.create_read_version('users_8%1$d', 'user');
                    SELECT kit.add_feed('user_registered_8', 'users_8%1$d');
                    """.formatted(r));
        }
        exec(c, "SELECT kit.create_schema_version(8, ARRAY['users_81', 'users_82', 'users_83'])");
        exec(c, "CALL kit.backfill()");
    }

    /**
     * Replaces user_registered_1's feed trigger, function and trigger, with what the kit's generator
     * writes for {@code arguments} (kit.feed_trigger_sql's), so that a variant differs from the kit's
     * trigger in what it is asked for and nothing else.
     */
    private static void replaceFeedTrigger(Connection c, String arguments) throws SQLException {
        exec(c, "DROP TRIGGER feed_user_registered_1 ON user_registered_1");
        exec(c, single(c, "SELECT create_sql || trigger_sql FROM kit.feed_trigger_sql(" + arguments + ")"));
    }

    /**
     * Registrations into {@code numerator}'s database against {@code denominator}'s, for single facts and
     * batches of 100 with 1 and 8 clients, in the order denominator, numerator, numerator, denominator:
     * a drift of the machine during the four runs cancels out.
     */
    private void sideBySide(String group, String name, DatabaseUrl numerator, DatabaseUrl denominator) throws Exception {
        sideBySide(group, name, numerator, denominator, "user_registered_1", Double.NaN);
    }

    private void sideBySide(String group, String name, DatabaseUrl numerator, DatabaseUrl denominator, String table, double target) throws Exception {
        for (boolean batch : new boolean[] {false, true}) {
            for (int clients : new int[] {1, 8}) {
                Load.Operation writer = insert(table, batch);
                double below = Load.run(denominator, clients, seconds, writer).factsPerSecond();
                double above = Load.run(numerator, clients, seconds, writer).factsPerSecond()
                        + Load.run(numerator, clients, seconds, writer).factsPerSecond();
                below += Load.run(denominator, clients, seconds, writer).factsPerSecond();
                out.accept(new Figure(group, name, conditions(clients, batch ? 100 : 1), above / 2, below / 2, "facts/s", target, true));
            }
        }
    }

    /**
     * 11: what naming a rejected fact costs on the path of the facts that are not rejected. The
     * kit's trigger (INSERT ... ON CONFLICT DO NOTHING, then a row count against the number of facts,
     * KT002/KT003 named on the error path) against the same trigger with plain INSERTs (a rejected
     * fact would get PostgreSQL's 23505 with no fact named), and against plain INSERTs inside a
     * BEGIN ... EXCEPTION block that could name it (a subtransaction per statement).
     */
    void rejection() throws Exception {
        DatabaseUrl kit = databaseWith(3);
        DatabaseUrl plain = databaseWith(3);
        DatabaseUrl handler = databaseWith(3);
        try (Connection c = Jdbc.connect(plain)) {
            replaceFeedTrigger(c, "'user_registered_1', rejections => 'fail'");
        }
        try (Connection c = Jdbc.connect(handler)) {
            replaceFeedTrigger(c, "'user_registered_1', rejections => 'catch'");
        }
        for (boolean batch : new boolean[] {false, true}) {
            Load.Operation writer = insert("user_registered_1", batch);
            double onConflict = Load.run(kit, 1, seconds, writer).factsPerSecond();
            double plainInserts = Load.run(plain, 1, seconds, writer).factsPerSecond();
            double withHandler = Load.run(handler, 1, seconds, writer).factsPerSecond();
            out.accept(new Figure("11. naming rejected facts", "R=3 ON CONFLICT + count / plain INSERT", conditions(1, batch ? 100 : 1),
                    onConflict, plainInserts, "facts/s", Double.NaN, true));
            out.accept(new Figure("11. naming rejected facts", "R=3 ON CONFLICT + count / INSERT in an EXCEPTION block",
                    conditions(1, batch ? 100 : 1), onConflict, withHandler, "facts/s", Double.NaN, true));
        }
    }

    /**
     * 10: the write path of 0.3.0 (each feed's SQL inlined in the write table's trigger, over the
     * transition table) against that of 0.2.0 (an array of the facts, then one projection call per
     * feed), measured side by side: the same database shape, the 0.2.0 trigger rebuilt from the catalog.
     */
    void inlineFeedsAgainstProjectionCalls() throws Exception {
        DatabaseUrl inline = databaseWith(3);
        DatabaseUrl calls = databaseWith(3);
        try (Connection c = Jdbc.connect(calls)) {
            // 0.2.0's projections took an array of facts, and its trigger called each: both written by the
            // kit's generators (kit.projection_sql, facts => 'array'; kit.feed_trigger_sql, feeds => 'call').
            exec(c, single(c, """
                    SELECT string_agg(g.create_sql, chr(10) ORDER BY f.read_table)
                      FROM kit.feed f JOIN kit.read_version v USING (read_table)
                     CROSS JOIN LATERAL kit.projection_sql(write_table => f.write_table, read_table => f.read_table,
                                                           key_column => f.key_column, target => f.read_table, facts => 'array') g
                     WHERE f.write_table = 'user_registered_1' AND v.state = 'live'"""));
            replaceFeedTrigger(c, "'user_registered_1', feeds => 'call'");
        }
        sideBySide("10. inline feeds (0.3.0) vs projection calls (0.2.0)", "R=3 inline / calls", inline, calls);
    }

    /** Targets: 0.65 of plain with 8 clients and synchronous commit, 0.5 with asynchronous commit. */
    private static double againstPlainTarget(String synchronousCommit, int clients) {
        return synchronousCommit.equals("off") ? 0.5 : clients == 8 ? 0.65 : Double.NaN;
    }

    /** The fact and its three read rows written by the application in one statement, no triggers (alt_ tables). */
    private static final Load.Operation APP_WRITES_IN_ONE_STATEMENT = (c, client, n) -> {
        try (PreparedStatement s = c.prepareStatement("""
                WITH f AS (INSERT INTO alt_fact (email, password_hash, username) VALUES (?, 'h', 'u') RETURNING id, email, password_hash, username, seq),
                     a AS (INSERT INTO alt_users_a SELECT * FROM f),
                     b AS (INSERT INTO alt_users_b SELECT * FROM f)
                INSERT INTO alt_users_c SELECT * FROM f""")) {
            s.setString(1, "o" + client + "-" + n + "-" + ThreadLocalRandom.current().nextInt() + "@bench.example");
            s.executeUpdate();
        }
        return 1;
    };

    /** Adds a fact table and three read tables of users_2's shape with no kit: what the app would write itself. */
    private static DatabaseUrl withAppWrittenTables(DatabaseUrl db) throws SQLException {
        try (Connection c = Jdbc.connect(db)) {
            exec(c, """
                    CREATE SEQUENCE alt_id;
                    CREATE TABLE alt_fact (id bigint NOT NULL DEFAULT nextval('alt_id'), email text NOT NULL, password_hash text NOT NULL,
                        username text, seq bigserial PRIMARY KEY, recorded_at timestamptz NOT NULL DEFAULT now());
                    CREATE TABLE alt_users_a (LIKE users_2 INCLUDING ALL);
                    CREATE TABLE alt_users_b (LIKE users_2 INCLUDING ALL);
                    CREATE TABLE alt_users_c (LIKE users_2 INCLUDING ALL);
                    """);
        }
        return db;
    }

    /** 13: each feed kind against the same rows written by hand in one statement (see {@link FeedKinds}). */
    void feedKinds() throws Exception {
        new FeedKinds(databaseWith(1), seconds, out, conditions(1, 1)).run();
    }

    /**
     * 16: an existing table brought under the kit (kit.baseline, then the backfill that copies its rows as
     * facts and fills read version 0) against an INSERT ... SELECT of the same rows into a table like it;
     * and the longest update of that table by 4 writers while it is brought under the kit.
     */
    void baseline() throws Exception {
        String group = "16. baseline of an existing table";
        for (int size : backfillSizes) {
            DatabaseUrl db = databaseWith(1);
            try (Connection c = Jdbc.connect(db)) {
                customers(c, size);
                long t = System.nanoTime();
                exec(c, "SELECT kit.baseline('crm.customers')");
                exec(c, "CALL kit.backfill()");
                double kit = size / ((System.nanoTime() - t) / 1e9);
                exec(c, "CREATE TABLE crm.copy (LIKE crm.customers INCLUDING ALL)");
                t = System.nanoTime();
                exec(c, "INSERT INTO crm.copy SELECT * FROM crm.customers");
                double setBased = size / ((System.nanoTime() - t) / 1e9);
                out.accept(new Figure(group, "baseline / INSERT ... SELECT, " + size + " rows",
                        "copy batches of 1000, synchronous_commit=" + syncCommit, kit, setBased, "rows/s", Double.NaN, true));
            }
        }
        DatabaseUrl db = databaseWith(1);
        int rows = backfillSizes.getLast();
        try (Connection c = Jdbc.connect(db)) {
            customers(c, rows);
        }
        Load.Operation update = (c, client, n) -> {
            try (PreparedStatement s = c.prepareStatement("UPDATE crm.customers SET name = ? WHERE customer_id = ?")) {
                s.setString(1, "n" + n);
                s.setLong(2, 1 + ThreadLocalRandom.current().nextInt(rows));
                s.executeUpdate();
            }
            return 1;
        };
        Load.Result during = Load.run(db, 4, seconds, update, () -> sql(db, c -> {
            exec(c, "SELECT kit.baseline('crm.customers')");
            exec(c, "CALL kit.backfill()");
        }));
        String conditions = "4 clients updating random rows, " + rows + " rows, synchronous_commit=" + syncCommit;
        out.accept(new Figure(group, "max update latency while baselining", conditions, during.maxMillis(), Double.NaN, "ms", 100, false));
        out.accept(new Figure(group, "p99 update latency while baselining", conditions, during.percentileMillis(0.99), Double.NaN, "ms", Double.NaN, false));
    }

    /** crm.customers, an existing table of `rows` customers with a unique email, in a domain of its own. */
    private static void customers(Connection c, int rows) throws SQLException {
        exec(c, """
                CREATE SCHEMA crm;
                CREATE TABLE crm.customers (customer_id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text,
                                            since date NOT NULL DEFAULT DATE '2020-01-01');
                """);
        exec(c, "INSERT INTO crm.customers (email, name) SELECT 'c' || g || '@bench.example', 'customer ' || g FROM generate_series(1, ?) g", rows);
        exec(c, "VACUUM ANALYZE crm.customers");
    }

    /** 4: password changes (facts that update existing read rows) against a plain UPDATE of one row. */
    void passwordChanges() throws Exception {
        for (int r : new int[] {1, 3}) {
            DatabaseUrl db = databaseWith(r);
            try (Connection c = Jdbc.connect(db)) {
                exec(c, "INSERT INTO user_registered_1 (email, password_hash) SELECT 'p' || g || '@bench.example', 'h' FROM generate_series(1, 1000) g");
                exec(c, "CREATE TABLE plain_users (LIKE users_2 INCLUDING ALL); INSERT INTO plain_users SELECT * FROM users_2");
            }
            long[] ids = ids(db);
            Load.Operation change = (c, client, n) -> {
                try (PreparedStatement s = c.prepareStatement("INSERT INTO password_changed_2 (user_id, password_hash) VALUES (?, ?)")) {
                    s.setLong(1, ids[ThreadLocalRandom.current().nextInt(ids.length)]);
                    s.setString(2, "h" + n);
                    s.executeUpdate();
                }
                return 1;
            };
            Load.Operation update = (c, client, n) -> {
                try (PreparedStatement s = c.prepareStatement("UPDATE plain_users SET password_hash = ? WHERE id = ?")) {
                    s.setString(1, "h" + n);
                    s.setLong(2, ids[ThreadLocalRandom.current().nextInt(ids.length)]);
                    s.executeUpdate();
                }
                return 1;
            };
            double plain = Load.run(db, 1, seconds, update).factsPerSecond();
            double kit = Load.run(db, 1, seconds, change).factsPerSecond();
            out.accept(new Figure("4. password changes", "R=" + r + " / plain UPDATE of one row", conditions(1, 1), kit, plain, "changes/s",
                    r == 3 ? 0.5 : Double.NaN, true));
            if (r == 3) {
                // The physical limit: the fact and its three row updates written by the app in one statement.
                try (Connection c = Jdbc.connect(db)) {
                    exec(c, """
                            CREATE TABLE alt_change (id bigserial, user_id bigint NOT NULL, password_hash text NOT NULL,
                                seq bigserial PRIMARY KEY, recorded_at timestamptz NOT NULL DEFAULT now());
                            CREATE TABLE alt_users_a (LIKE users_2 INCLUDING ALL); INSERT INTO alt_users_a SELECT * FROM users_2;
                            CREATE TABLE alt_users_b (LIKE users_2 INCLUDING ALL); INSERT INTO alt_users_b SELECT * FROM users_2;
                            CREATE TABLE alt_users_c (LIKE users_2 INCLUDING ALL); INSERT INTO alt_users_c SELECT * FROM users_2;
                            """);
                }
                Load.Operation appChange = (c, client, n) -> {
                    try (PreparedStatement s = c.prepareStatement("""
                            WITH f AS (INSERT INTO alt_change (user_id, password_hash) VALUES (?, ?) RETURNING user_id, password_hash, seq),
                                 a AS (UPDATE alt_users_a r SET password_hash = f.password_hash, last_fact_seq = f.seq FROM f WHERE r.id = f.user_id),
                                 b AS (UPDATE alt_users_b r SET password_hash = f.password_hash, last_fact_seq = f.seq FROM f WHERE r.id = f.user_id)
                            UPDATE alt_users_c r SET password_hash = f.password_hash, last_fact_seq = f.seq FROM f WHERE r.id = f.user_id""")) {
                        s.setLong(1, ids[ThreadLocalRandom.current().nextInt(ids.length)]);
                        s.setString(2, "h" + n);
                        s.executeUpdate();
                    }
                    return 1;
                };
                double app = Load.run(db, 1, seconds, appChange).factsPerSecond();
                double kitAgain = Load.run(db, 1, seconds, change).factsPerSecond();
                out.accept(new Figure("4. password changes", "R=3 / app, one statement (CTE)", conditions(1, 1), kitAgain, app, "changes/s",
                        Double.NaN, true));
            }
        }
    }

    /** 5: backfill of a new read version against a set-based INSERT ... SELECT of the same rows. */
    void backfill() throws Exception {
        double first = Double.NaN;
        for (int size : backfillSizes) {
            DatabaseUrl db = databaseWith(1);
            try (Connection c = Jdbc.connect(db)) {
                exec(c, "INSERT INTO user_registered_1 (email, password_hash, username) SELECT 'b' || g || '@bench.example', 'h', 'u' FROM generate_series(1, " + size + ") g");
                exec(c, "VACUUM ANALYZE user_registered_1");
                declareUsers9(c);
                long t = System.nanoTime();
                exec(c, "CALL kit.backfill('users_9')");
                double kit = size / ((System.nanoTime() - t) / 1e9);
                exec(c, "CREATE TABLE copy_9 (LIKE users_9 INCLUDING ALL)");
                t = System.nanoTime();
                exec(c, "INSERT INTO copy_9 (id, email, password_hash, username, last_fact_seq) SELECT id, email, password_hash, username, seq FROM user_registered_1");
                double setBased = size / ((System.nanoTime() - t) / 1e9);
                out.accept(new Figure("5. backfill of a new read version", "backfill / INSERT ... SELECT, " + size + " facts",
                        "batches of 10000, synchronous_commit=" + syncCommit, kit, setBased, "rows/s", 0.8, true));
                // What loading before the indexes would give: the same rows into a bare table, then its indexes.
                exec(c, "CREATE TABLE late_9 (LIKE users_9)");
                t = System.nanoTime();
                exec(c, "INSERT INTO late_9 (id, email, password_hash, username, last_fact_seq) SELECT id, email, password_hash, username, seq FROM user_registered_1");
                exec(c, "ALTER TABLE late_9 ADD PRIMARY KEY (id), ADD UNIQUE (email)");
                double indexedAfter = size / ((System.nanoTime() - t) / 1e9);
                out.accept(new Figure("5. backfill of a new read version", "backfill / INSERT ... SELECT, indexes after, " + size + " facts",
                        "batches of 10000, synchronous_commit=" + syncCommit, kit, indexedAfter, "rows/s", Double.NaN, true));
                if (Double.isNaN(first)) {
                    first = kit;
                } else if (size == backfillSizes.getLast()) {
                    out.accept(new Figure("5. backfill of a new read version", "backfill rate at " + size + " / at " + backfillSizes.getFirst() + " facts",
                            "same run", kit, first, "rows/s", 0.8, true));
                }
            }
            server.dropDatabase(db.database());
        }
    }

    /** 6: a steady writer's latency while a read version is added, and while one is retired. */
    void writerStall() throws Exception {
        DatabaseUrl db = databaseWith(1);
        try (Connection c = Jdbc.connect(db)) {
            exec(c, "INSERT INTO user_registered_1 (email, password_hash, username) SELECT 'w' || g || '@bench.example', 'h', 'u' FROM generate_series(1, 20000) g");
        }
        Load.Operation writer = insert("user_registered_1", false);
        Load.Result baseline = Load.run(db, 4, seconds, writer);
        Load.Result adding = Load.run(db, 4, seconds, writer, () -> sql(db, c -> {
            declareUsers9(c);
            exec(c, "CALL kit.backfill('users_9')");
        }));
        Load.Result retiring = Load.run(db, 4, seconds, writer, () -> sql(db, c -> retire(c, "users_9")));
        String conditions = "4 clients, 1 fact/statement, 20000 facts, synchronous_commit=" + syncCommit;
        out.accept(new Figure("6. writer stall", "p99 insert latency, no migration", conditions, baseline.percentileMillis(0.99), Double.NaN, "ms", Double.NaN, false));
        out.accept(new Figure("6. writer stall", "max insert latency while adding a version", conditions, adding.maxMillis(), Double.NaN, "ms", 100, false));
        out.accept(new Figure("6. writer stall", "p99 insert latency while adding a version", conditions, adding.percentileMillis(0.99), Double.NaN, "ms", Double.NaN, false));
        out.accept(new Figure("6. writer stall", "max insert latency while retiring a version", conditions, retiring.maxMillis(), Double.NaN, "ms", 100, false));
        out.accept(new Figure("6. writer stall", "p99 insert latency while retiring a version", conditions, retiring.percentileMillis(0.99), Double.NaN, "ms", Double.NaN, false));

        // kit verify on a 300,000-row table: one snapshot, no lock beyond a SELECT's.
        DatabaseUrl large = databaseWith(1);
        try (Connection c = Jdbc.connect(large)) {
            exec(c, "INSERT INTO user_registered_1 (email, password_hash, username) SELECT 'v' || g || '@bench.example', 'h', 'u' FROM generate_series(1, 300000) g");
            exec(c, "VACUUM ANALYZE user_registered_1, users_2");
        }
        int[] differences = {-1};
        Load.Result verifying = Load.run(large, 4, seconds, writer, () -> sql(large, c -> differences[0] = Catalog.verify(Catalog.of(c), "users_2", 20).size()));
        if (differences[0] != 0) {
            throw new IllegalStateException("verify found " + differences[0] + " differing rows in users_2 under the benchmark's writers");
        }
        String verifyConditions = "4 clients, 1 fact/statement, 300000 rows, synchronous_commit=" + syncCommit;
        out.accept(new Figure("6. writer stall", "max insert latency while verifying a table", verifyConditions, verifying.maxMillis(), Double.NaN, "ms", 100, false));
        out.accept(new Figure("6. writer stall", "p99 insert latency while verifying a table", verifyConditions, verifying.percentileMillis(0.99), Double.NaN, "ms", Double.NaN, false));
    }

    /** 7: app-v2 over HTTP: registrations, logins and reads; the password hash's cost measured apart. */
    void apps() throws Exception {
        DatabaseUrl db = databaseWith(3);
        AppConfig config = new AppConfig(2, "127.0.0.1", 0, db, "", 16, 1, 65536, "warn");
        try (App app = App.start(config, new kit.app.v2.Main()::stores)) {
            String base = "http://127.0.0.1:" + app.port();
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            for (int i = 0; i < 200; i++) {
                send(http, "POST", base + "/users", "{\"email\": \"app" + i + "@bench.example\", \"password\": \"app-password\", \"username\": \"a\"}", 201);
            }
            long firstId = ids(db)[0];
            record Kind(String name, java.util.function.LongFunction<String[]> request, int status) {
            }
            List<Kind> kinds = List.of(
                    new Kind("registration", n -> new String[] {"POST", "/users", "{\"email\": \"r" + n + "-" + ThreadLocalRandom.current().nextInt() + "@bench.example\", \"password\": \"app-password\", \"username\": \"r\"}"}, 201),
                    new Kind("login", n -> new String[] {"POST", "/sessions", "{\"email\": \"app" + (n % 200) + "@bench.example\", \"password\": \"app-password\"}"}, 200),
                    new Kind("read", n -> new String[] {"GET", "/users/" + (firstId + n % 200), null}, 200));
            for (Kind kind : kinds) {
                Load.Result r = Load.run(db, 8, seconds, (c, client, n) -> {
                    String[] req = kind.request().apply(n * 8 + client);
                    send(http, req[0], base + req[1], req[2], kind.status());
                    return 1;
                });
                out.accept(new Figure("7. app-v2 over HTTP", kind.name() + " requests/s", "8 clients, PBKDF2 cost 1 (hash measured apart)",
                        r.operationsPerSecond(), Double.NaN, "req/s", Double.NaN, true));
                out.accept(new Figure("7. app-v2 over HTTP", kind.name() + " p99", "8 clients", r.percentileMillis(0.99), Double.NaN, "ms", Double.NaN, false));
            }
        }
        Passwords passwords = new Passwords(AppConfig.DEFAULT_HASH_ITERATIONS);
        passwords.hash("warm-up");
        long t = System.nanoTime();
        String hash = passwords.hash("app-password");
        passwords.verify("app-password", hash);
        out.accept(new Figure("7. app-v2 over HTTP", "hash + verify at the default cost (600000)", "one thread",
                (System.nanoTime() - t) / 2e6, Double.NaN, "ms per hash", Double.NaN, false));
    }

    private static void send(HttpClient http, String method, String url, String body, int expected) throws SQLException {
        try {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url))
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
            int status = http.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
            if (status != expected) {
                throw new SQLException(method + " " + url + " answered " + status + " instead of " + expected);
            }
        } catch (java.io.IOException e) {
            throw new SQLException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException(e);
        }
    }

    static void declareUsers9(Connection c) throws SQLException {
        exec(c, """
                CREATE TABLE users_9 (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, password_hash text NOT NULL, username text);
                SELECT kit.create_read_version('users_9', 'user');
                SELECT kit.add_feed('user_registered_0', 'users_9');
                SELECT kit.add_feed('user_registered_1', 'users_9');
                SELECT kit.add_feed('password_changed_2', 'users_9', key_column => 'user_id');
                """);
    }

    private interface SqlWork {
        void run(Connection c) throws SQLException;
    }

    private static void sql(DatabaseUrl url, SqlWork work) {
        try (Connection c = Jdbc.connect(url)) {
            work.run(c);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static long[] ids(DatabaseUrl url) throws SQLException {
        try (Connection c = Jdbc.connect(url); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT id FROM users_2 ORDER BY id")) {
            List<Long> ids = new ArrayList<>();
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
            return ids.stream().mapToLong(Long::longValue).toArray();
        }
    }

    private static void retire(Connection c, String readTable) {
        Catalog.retire(Catalog.of(c), readTable);
    }
}
