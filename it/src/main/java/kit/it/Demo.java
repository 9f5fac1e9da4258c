package kit.it;

import kit.db.CatalogReport;
import kit.db.DatabaseUrl;
import kit.db.Migrations;
import kit.db.PostgresServer;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

/**
 * The main job: starts PostgreSQL (embedded, or {@code KIT_DB_URL}), applies
 * the kit's migrations one step at a time, runs the design's example statements
 * at their versions, checks what every read version shows, and prints the
 * catalog. Exits non-zero when a check fails.
 */
public final class Demo {

    static final String FOO = "959c9f50aef1bc129a0e16564319a1b36515d570513079b6c73c72a5709abdce";
    static final String BAR = "57846ba7f6f13c0454ebec6c9b31c7f52fe72afb606a8ba336170168ca0c408f";
    static final String BAR_CHANGED = "8aa64c9ca202961c0f6bcd34c45f95c9e0cf5555cbcacfd7f87163dad7b60d2f";

    private final Checks checks = new Checks();

    public static void main(String[] args) throws Exception {
        if (args.length > 0) {
            System.out.println("""
                    Usage: ./run demo

                    Starts an embedded PostgreSQL (or uses the server in KIT_DB_URL, where it
                    creates a fresh database kit_demo_<time>), applies the kit's migrations step
                    by step, runs the design's example statements and prints the catalog.
                    Exits 0 when every check passed, 1 otherwise.""");
            System.exit(args[0].matches("-h|--help") ? 0 : 2);
        }
        System.exit(new Demo().run() ? 0 : 1);
    }

    boolean run() throws Exception {
        long started = System.nanoTime();
        System.out.println("cqrs-kit demo: the schema kit, step by step, on a real PostgreSQL");
        System.out.print("Starting PostgreSQL ... ");
        try (PostgresServer server = PostgresServer.fromEnvironment()) {
            System.out.println(server.describe() + " (" + millis(started) + " ms)");
            String name = "kit_demo_" + System.currentTimeMillis();
            server.createDatabase(name, null);
            try {
                tour(server.url().withDatabase(name));
            } finally {
                server.dropDatabase(name);
            }
        }
        System.out.printf("%nDemo checks: %s (%.1f s)%n", checks.summary(), (System.nanoTime() - started) / 1e9);
        checks.failures().forEach(f -> System.out.println("  failed: " + f));
        return checks.allPassed();
    }

    private void tour(DatabaseUrl url) throws Exception {
        Migrations migrations = new Migrations(url);
        List<String> steps = migrations.describeSteps();
        List<String> versions = migrations.steps();
        for (int i = 0; i < versions.size(); i++) {
            String version = versions.get(i);
            long t = System.nanoTime();
            migrations.migrateTo(version);
            System.out.printf("%nStep %s: applied in %d ms%n", steps.get(i), millis(t));
            try (Connection c = DriverManager.getConnection(url.jdbc())) {
                afterStep(version, c);
            }
        }
        try (Connection c = DriverManager.getConnection(url.jdbc())) {
            System.out.println();
            System.out.print(CatalogReport.render(c));
            System.out.println();
            System.out.println("Every live read table against a rebuild from the facts:");
            for (String table : strings(c, "SELECT read_table FROM kit.read_version WHERE state = 'live' ORDER BY read_table")) {
                long differences = number(c, "SELECT count(*) FROM kit.verify_read_table('" + table + "')");
                checks.check(differences == 0, table + " equals its rebuild (" + differences + " differing rows)");
            }
        }
    }

    private void afterStep(String version, Connection c) throws SQLException {
        switch (version) {
            case "0" -> {
                run(c, "INSERT INTO user_registered_0 VALUES (0, 'foo@example.com', '" + FOO + "')");
                checks.check(hash(c, "users_0", 0).equals(FOO), "users_0 shows foo, registered through version 0");
            }
            case "1" -> {
                checks.check(number(c, "SELECT count(*) FROM users_1") == 1, "users_1 was backfilled with foo when it was created");
                run(c, "INSERT INTO user_registered_1 VALUES (1, 'bar@example.com', '" + BAR + "')");
                checks.check(hash(c, "users_0", 1).equals(BAR), "users_0 shows bar, registered through version 1 (old servers see new users)");
                checks.check(hash(c, "users_1", 1).equals(BAR), "users_1 shows bar");
            }
            case "2" -> {
                run(c, "INSERT INTO password_changed_2 VALUES (0, 1, '" + BAR_CHANGED + "')");
                for (String users : List.of("users_0", "users_1", "users_2")) {
                    checks.check(hash(c, users, 1).equals(BAR_CHANGED), users + " has bar's new password hash (the old one no longer works anywhere)");
                }
            }
            case "2.1" -> {
                checks.check(strings(c, "SELECT version::text FROM kit.schema_versions WHERE state = 'retired' ORDER BY 1").equals(List.of("0", "1")),
                        "schema versions 0 and 1 are retired, users_0 and users_1 dropped");
                checks.check(number(c, "SELECT count(*) FROM user_registered_0") == 1, "their facts are kept");
            }
            case "3" -> {
                run(c, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (0, 1, 'hello bar')");
                checks.check(number(c, "SELECT count(*) FROM messages_3 WHERE dst_id = 1") == 1, "messages_3 shows foo's message to bar");
                try {
                    run(c, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (0, 42, 'anyone?')");
                    checks.check(false, "a message to an unknown user is refused");
                } catch (SQLException e) {
                    System.out.println("    refused: " + e.getMessage().lines().findFirst().orElse(""));
                    checks.check("KT004".equals(e.getSQLState()), "a message to an unknown user is refused with KT004");
                }
            }
            default -> System.out.println("    (no example statements for this step)");
        }
    }

    private static void run(Connection c, String sql) throws SQLException {
        System.out.println("    " + (sql.length() > 110 ? sql.substring(0, 107) + "..." : sql));
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static String hash(Connection c, String users, long id) throws SQLException {
        List<String> hashes = strings(c, "SELECT password_hash FROM " + users + " WHERE id = " + id);
        return hashes.isEmpty() ? "(no row)" : hashes.getFirst();
    }

    private static long number(Connection c, String sql) throws SQLException {
        return Long.parseLong(strings(c, sql).getFirst());
    }

    private static List<String> strings(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            var values = new java.util.ArrayList<String>();
            while (rs.next()) {
                values.add(rs.getString(1));
            }
            return values;
        }
    }

    private static long millis(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos).toMillis();
    }
}
