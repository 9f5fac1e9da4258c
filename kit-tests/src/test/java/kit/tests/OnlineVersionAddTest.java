package kit.tests;

import kit.client.KitError;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static kit.client.Jdbc.exec;
import static kit.tests.Sql.assertFailsWith;
import static kit.tests.Sql.count;
import static kit.tests.Sql.value;
import static kit.tests.Sql.verify;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A new read version is created building and backfilled in batches, each its
 * own transaction, while writers go on; it goes live under a short lock. Every
 * fact lands exactly once, a killed backfill resumes to the same result, and
 * a building version can be aborted.
 */
class OnlineVersionAddTest {

    /** Declares users_9, shaped like users_2 and fed like it, in one short transaction (no backfill yet). */
    static void declareUsers9(Connection c) throws SQLException {
        c.setAutoCommit(false);
        exec(c, "CREATE TABLE users_9 (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, password_hash text NOT NULL, username text)");
        exec(c, "SELECT kit.create_read_version('users_9', 'user')");
        exec(c, "SELECT kit.add_feed('user_registered_0', 'users_9')");
        exec(c, "SELECT kit.add_feed('user_registered_1', 'users_9')");
        exec(c, "SELECT kit.add_feed('password_changed_2', 'users_9', key_column => 'user_id')");
        c.commit();
        c.setAutoCommit(true);
    }

    static void seed(Connection c, int users) throws SQLException {
        exec(c, "INSERT INTO user_registered_0 (email, password_hash) SELECT 'a' || g || '@example.com', 'h' FROM generate_series(1, ?) g", users / 2);
        exec(c, "INSERT INTO user_registered_1 (email, password_hash, username) SELECT 'b' || g || '@example.com', 'h', 'b' || g FROM generate_series(1, ?) g", users / 2);
        exec(c, "INSERT INTO password_changed_2 (user_id, password_hash) SELECT id, 'p' || id FROM users_2 WHERE id % 3 = 0");
    }

    static String contents(Connection c, String table) throws SQLException {
        return (String) value(c, "SELECT md5(coalesce(string_agg(format('%s|%s|%s|%s|%s', id, email, password_hash, username, last_fact_seq), ',' ORDER BY id), '')) FROM " + table);
    }

    @Test
    void addingAVersionWhileSeveralAppVersionsWriteAppliesEveryFactExactlyOnce() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (Connection c = db.connect()) {
            seed(c, 4000);
        }
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicLong written = new AtomicLong();
        List<CompletableFuture<Void>> writers = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            int writer = w;
            writers.add(CompletableFuture.runAsync(() -> {
                try (Connection c = db.connectAs("app-v" + writer % 3)) {
                    for (int i = 0; writing.get(); i++) {
                        switch (i % 3) {
                            case 0 -> exec(c, "INSERT INTO user_registered_0 (email, password_hash) VALUES (?, 'h')", "w" + writer + "-" + i + "@x.org");
                            case 1 -> exec(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES (?, 'h', 'u')", "w" + writer + "-" + i + "@x.org");
                            default -> exec(c, "INSERT INTO password_changed_2 (user_id, password_hash) SELECT id, ? FROM users_2 ORDER BY random() LIMIT 1", "w" + i);
                        }
                        written.incrementAndGet();
                    }
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        try (Connection c = db.connect()) {
            Thread.sleep(200);
            declareUsers9(c);
            assertThat(value(c, "SELECT state FROM kit.read_version WHERE read_table = 'users_9'")).isEqualTo("building");
            exec(c, "CALL kit.backfill('users_9', 250)");
            assertThat(value(c, "SELECT state FROM kit.read_version WHERE read_table = 'users_9'")).isEqualTo("live");
            long during = written.get();
            Thread.sleep(300);
            writing.set(false);
            CompletableFuture.allOf(writers.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            assertThat(written.get()).as("facts written while the version was added and after").isGreaterThan(during).isGreaterThan(100);
            assertThat(count(c, "users_9")).isEqualTo(count(c, "users_2"));
            assertThat(contents(c, "users_9")).as("users_9 holds exactly what users_2 holds").isEqualTo(contents(c, "users_2"));
            assertThat(verify(c, "users_9")).isEmpty();
        }
    }

    @Test
    void aKilledBackfillResumesToTheSameResultAsAnUninterruptedOne() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (Connection c = db.connect()) {
            seed(c, 20_000);
            declareUsers9(c);
        }
        try (Connection backfiller = db.connect(); Connection observer = db.connect()) {
            int pid = (Integer) value(backfiller, "SELECT pg_backend_pid()");
            CompletableFuture<Void> run = CompletableFuture.runAsync(() -> {
                try {
                    exec(backfiller, "CALL kit.backfill('users_9', 500)");
                } catch (SQLException expected) {
                    // terminated below
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while ((Long) value(observer, "SELECT backfilled_to FROM kit.read_version WHERE read_table = 'users_9'") == 0L) {
                assertThat(System.nanoTime()).as("the backfill made progress").isLessThan(deadline);
                Thread.sleep(5);
            }
            exec(observer, "SELECT pg_terminate_backend(?)", pid);
            run.get(30, TimeUnit.SECONDS);
            assertThat(value(observer, "SELECT state FROM kit.read_version WHERE read_table = 'users_9'")).isEqualTo("building");
            long done = (Long) value(observer, "SELECT backfilled_facts FROM kit.read_version WHERE read_table = 'users_9'");
            assertThat(done).as("killed half-way").isPositive().isLessThan(20_000);
            assertThat(count(observer, "users_9")).as("rows of committed batches stay").isPositive();
        }
        try (Connection c = db.connect()) {
            exec(c, "CALL kit.backfill()");
            assertThat(value(c, "SELECT state FROM kit.read_version WHERE read_table = 'users_9'")).isEqualTo("live");
            assertThat(value(c, "SELECT backfilled_facts FROM kit.read_version WHERE read_table = 'users_9'"))
                    .as("every fact applied once across both runs").isEqualTo(value(c,
                            "SELECT (SELECT count(*) FROM user_registered_0) + (SELECT count(*) FROM user_registered_1) + (SELECT count(*) FROM password_changed_2)"));
            assertThat(contents(c, "users_9")).as("same as the uninterrupted users_2").isEqualTo(contents(c, "users_2"));
            assertThat(verify(c, "users_9")).isEmpty();
        }
    }

    @Test
    void theBackfillWaitsForAnOpenWriterInsteadOfMissingItsFact() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (Connection c = db.connect()) {
            seed(c, 100);
            declareUsers9(c);
        }
        try (Connection writer = db.connect(); Connection backfiller = db.connect()) {
            writer.setAutoCommit(false);
            exec(writer, "INSERT INTO user_registered_1 (email, password_hash) VALUES ('slow@example.com', 'h')");
            CompletableFuture<Void> backfill = CompletableFuture.runAsync(() -> {
                try {
                    exec(backfiller, "CALL kit.backfill('users_9')");
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(500);
            assertThat(backfill).as("waits for the open writer").isNotDone();
            writer.commit();
            backfill.get(30, TimeUnit.SECONDS);
        }
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT count(*) FROM users_9 WHERE email = 'slow@example.com'")).isEqualTo(1L);
            assertThat(contents(c, "users_9")).isEqualTo(contents(c, "users_2"));
        }
    }

    @Test
    void aWriterThatStaysOpenMakesTheBackfillGiveUpWithKT007() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (Connection c = db.connect()) {
            declareUsers9(c);
        }
        try (Connection writer = db.connectAs("stuck-writer"); Connection c = db.connect()) {
            writer.setAutoCommit(false);
            exec(writer, "INSERT INTO user_registered_0 (email, password_hash) VALUES ('stuck@example.com', 'h')");
            Thread.sleep(1500);
            try (Statement s = c.createStatement()) {
                var failure = assertFailsWith(KitError.BUSY, () -> s.execute("SELECT kit.safe_watermark('users_9', '1.2 seconds')"));
                assertThat(failure.getMessage()).contains("stuck-writer");
                assertThat(failure.getMessage()).as("the writer's age when the wait gave up, 2.7 s, not when it began")
                        .containsPattern("Open for: 00:00:0[2-9]");
                String notice = s.getWarnings() == null ? null : s.getWarnings().getMessage();
                assertThat(notice).as("a NOTICE while waiting").contains("waits for a transaction", "stuck-writer", "gives up after");
            }
            writer.rollback();
        }
    }

    @Test
    void abortingABuildingVersionDropsItAndLeavesEverythingElse() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            seed(c, 200);
            declareUsers9(c);
            String before = contents(c, "users_2");
            exec(c, "SELECT kit.abort_read_version('users_9')");
            assertThat(value(c, "SELECT to_regclass('users_9') IS NULL")).isEqualTo(true);
            assertThat(value(c, "SELECT state FROM kit.read_version WHERE read_table = 'users_9'")).isEqualTo("aborted");
            assertThat(value(c, "SELECT count(*) FROM kit.feed WHERE read_table = 'users_9'")).isEqualTo(0L);
            assertThat(value(c, "SELECT count(*) FROM pg_proc WHERE proname LIKE '%users_9%'")).isEqualTo(0L);
            assertThat(contents(c, "users_2")).isEqualTo(before);
            exec(c, "INSERT INTO user_registered_1 (email, password_hash) VALUES ('after@example.com', 'h')");
            assertThat(value(c, "SELECT count(*) FROM users_2 WHERE email = 'after@example.com'")).isEqualTo(1L);
            assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.abort_read_version('users_2')"));
        }
    }

    /**
     * A history that breaks a new version's unique rule fails its backfill with
     * KT003 naming both facts, whether they fall in one batch, in two committed
     * batches, or in two batches of one replay; the failing batch leaves nothing.
     */
    @Test
    void aBackfillWhoseHistoryBreaksAUniqueRuleNamesBothFactsInOrAcrossBatches() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (Connection c = db.connect()) {
            exec(c, """
                    INSERT INTO user_registered_1 (email, password_hash, username)
                    SELECT 'u' || g || '@example.com', 'h', 'u' || CASE WHEN g = 50 THEN 3 ELSE g END FROM generate_series(1, 60) g""");
            long first = (Long) value(c, "SELECT seq FROM user_registered_1 WHERE email = 'u3@example.com'");
            long second = (Long) value(c, "SELECT seq FROM user_registered_1 WHERE email = 'u50@example.com'");
            for (int batchSize : new int[] {1000, 20}) {
                String table = batchSize == 20 ? "users_9" : "users_8";
                String named = "Duplicate user username: u3 (Fact: user_registered_1 seq " + second
                        + ", Read table: " + table + ", Taken by fact seq: " + first + ")";
                exec(c, "CREATE TABLE " + table + " (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, password_hash text NOT NULL, username text UNIQUE)");
                exec(c, "SELECT kit.create_read_version(?, 'user')", table);
                exec(c, "SELECT kit.add_feed('user_registered_1', ?)", table);

                var inOneReplay = assertFailsWith(KitError.DUPLICATE_VALUE,
                        () -> value(c, "SELECT kit.replay_facts(?, 0, ?, ?)", table, second + 5, batchSize));
                assertThat(inOneReplay.getMessage()).as("one replay, batches of " + batchSize).contains(named);
                assertThat(value(c, "SELECT count(*) FROM " + table)).isEqualTo(0L);

                var backfill = assertFailsWith(KitError.DUPLICATE_VALUE, () -> exec(c, "CALL kit.backfill(?, ?)", table, batchSize));
                assertThat(backfill.getMessage()).as("backfill, batches of " + batchSize).contains(named);
                assertThat(value(c, "SELECT state FROM kit.read_version WHERE read_table = ?", table)).isEqualTo("building");
                long backfilledTo = (Long) value(c, "SELECT backfilled_to FROM kit.read_version WHERE read_table = ?", table);
                assertThat(backfilledTo).as("the failing batch is not recorded").isLessThan(second);
                assertThat(value(c, "SELECT count(*) FROM " + table + " WHERE last_fact_seq > ?", backfilledTo))
                        .as("the failing batch left no rows").isEqualTo(0L);
                assertThat(value(c, "SELECT count(*) FROM " + table)).isEqualTo(value(c,
                        "SELECT count(*) FROM user_registered_1 WHERE seq <= ?", backfilledTo));
            }
        }
    }

    /**
     * A building version whose history breaks its own rule does not hold the
     * others up: the backfill records its error, completes the rest, then fails
     * with a hint that says how to get out; after the abort it runs clean.
     */
    @Test
    void aFailedBackfillIsRecordedAndTheOtherBuildingVersionsGoOn() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (Connection c = db.connect()) {
            exec(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('a@example.com', 'h', 'same'), ('b@example.com', 'h', 'same')");
            exec(c, "CREATE TABLE users_8 (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, password_hash text NOT NULL, username text UNIQUE)");
            exec(c, "SELECT kit.create_read_version('users_8', 'user')");
            exec(c, "SELECT kit.add_feed('user_registered_1', 'users_8')");
            declareUsers9(c);

            var failure = assertFailsWith(KitError.DUPLICATE_VALUE, () -> exec(c, "CALL kit.backfill()"));
            assertThat(failure.getMessage()).contains("Duplicate user username: same", "users_8");
            assertThat(failure.getMessage()).as("the way out").contains("kit abort users_8");
            assertThat(value(c, "SELECT state FROM kit.read_version WHERE read_table = 'users_9'")).as("the next version went on").isEqualTo("live");
            assertThat(contents(c, "users_9")).isEqualTo(contents(c, "users_2"));
            assertThat((String) value(c, "SELECT backfill_error FROM kit.read_version WHERE read_table = 'users_8'"))
                    .startsWith("KT003: Duplicate user username: same");

            exec(c, "SELECT kit.abort_read_version('users_8')");
            exec(c, "CALL kit.backfill()");
        }
    }

    @Test
    void theBackfillWaitsForAPreparedTransactionsFactInsteadOfMissingIt() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            assumeTrue(((Number) value(c, "SELECT current_setting('max_prepared_transactions')::int")).intValue() > 0,
                    "this server has max_prepared_transactions = 0: PREPARE TRANSACTION cannot be tried here");
            exec(c, "BEGIN");
            exec(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('prepared@example.com', 'h', 'p')");
            exec(c, "PREPARE TRANSACTION 'kit_test_p1'");
            try {
                declareUsers9(c);
                var backfill = CompletableFuture.runAsync(() -> {
                    try (Connection b = db.connect()) {
                        exec(b, "CALL kit.backfill('users_9')");
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                Thread.sleep(1500);
                assertThat(backfill).as("the backfill waits for the prepared transaction").isNotDone();
                exec(c, "COMMIT PREPARED 'kit_test_p1'");
                backfill.get(30, TimeUnit.SECONDS);
            } finally {
                if ((Long) value(c, "SELECT count(*) FROM pg_prepared_xacts WHERE gid = 'kit_test_p1'") > 0) {
                    exec(c, "ROLLBACK PREPARED 'kit_test_p1'");
                }
            }
            assertThat(value(c, "SELECT count(*) FROM users_9 WHERE email = 'prepared@example.com'")).isEqualTo(1L);
            assertThat(Sql.verify(c, "users_9")).isEmpty();
        }
    }
}
