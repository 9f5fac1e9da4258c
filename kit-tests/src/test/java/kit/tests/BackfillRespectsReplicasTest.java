package kit.tests;

import kit.client.DatabaseUrl;
import kit.client.Jdbc;
import kit.client.KitError;
import kit.server.ReplicatedServer;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static kit.client.Jdbc.exec;
import static kit.tests.Sql.assertFailsWith;
import static kit.tests.Sql.count;
import static kit.tests.Sql.value;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A backfill lets the physical replicas keep up with it: after each committed batch it pauses while a
 * replica replays more than {@code kit.replica_lag_limit} behind, says so in a NOTICE naming the
 * replica, holds no transaction meanwhile, and gives up after {@code kit.replica_lag_wait} with KT007,
 * resumable; a replica that keeps up costs it nothing. On a primary with a real streaming replica of
 * its own ({@link ReplicatedServer}), whatever server the other tests run on; skipped where one cannot
 * be started.
 */
class BackfillRespectsReplicasTest {

    private static final String DATABASE = "kit_replicated";
    /** Facts that feed each new read version: 16 batches of 500. */
    private static final int USERS = 6000;
    private static final int BATCH = 500;
    /** Less than one batch writes to the WAL (about 100 kB), so that a paused replica is over it after a batch or two. */
    private static final String SMALL_LIMIT = "64kB";

    private static ReplicatedServer servers;
    private static DatabaseUrl db;

    @BeforeAll
    static void startAPrimaryWithAReplica() throws SQLException {
        try {
            servers = ReplicatedServer.start();
        } catch (RuntimeException e) {
            Assumptions.abort("No primary with a streaming replica can be started here: " + e.getMessage());
        }
        // The replica reports its replay position every second, not every 10: the primary soon sees it caught up.
        try (Connection r = Jdbc.connect(servers.replicaUrl())) {
            exec(r, "ALTER SYSTEM SET wal_receiver_status_interval = '1s'");
            exec(r, "SELECT pg_reload_conf()");
        }
        servers.createDatabase(DATABASE, null);
        db = servers.url().withDatabase(DATABASE);
        TestDatabases.migrations(db).migrateTo("2");
        try (Connection c = Jdbc.connect(db)) {
            OnlineVersionAddTest.seed(c, USERS);
        }
        servers.awaitReplay(Duration.ofSeconds(30));
    }

    @AfterAll
    static void stopThem() {
        if (servers != null) {
            servers.close();
        }
    }

    /** A test that fails half-way leaves no paused replica to the next. */
    @AfterEach
    void resumeReplay() throws SQLException {
        try (Connection r = Jdbc.connect(servers.replicaUrl())) {
            exec(r, "SELECT pg_wal_replay_resume()");
        }
    }

    private static void pauseReplay() throws SQLException {
        try (Connection r = Jdbc.connect(servers.replicaUrl())) {
            exec(r, "SELECT pg_wal_replay_pause()");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!"paused".equals(value(r, "SELECT pg_get_wal_replay_pause_state()")) && System.nanoTime() < deadline) {
                sleep(10);
            }
        }
    }

    /** A new building read version like users_2, fed by its write tables' facts (USERS registrations and the password changes). */
    private static void declare(Connection c, String table) throws SQLException {
        c.setAutoCommit(false);
        exec(c, "CREATE TABLE " + table + " (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, password_hash text NOT NULL, username text)");
        exec(c, "SELECT kit.create_read_version(?, 'user')", table);
        exec(c, "SELECT kit.add_feed('user_registered_0', ?)", table);
        exec(c, "SELECT kit.add_feed('user_registered_1', ?)", table);
        exec(c, "SELECT kit.add_feed('password_changed_2', ?, key_column => 'user_id')", table);
        c.commit();
        c.setAutoCommit(true);
    }

    private static String state(Connection c, String table) throws SQLException {
        return (String) value(c, "SELECT state FROM kit.read_version WHERE read_table = ?", table);
    }

    /** The NOTICEs the statement got so far, each as "SQLSTATE message". */
    private static List<String> notices(Statement s) throws SQLException {
        List<String> notices = new ArrayList<>();
        for (SQLWarning w = s.getWarnings(); w != null; w = w.getNextWarning()) {
            notices.add(w.getSQLState() + " " + w.getMessage());
        }
        return notices;
    }

    private static String awaitNotice(Statement s, Predicate<String> wanted, CompletableFuture<?> call) throws SQLException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline && !call.isDone()) {
            for (String notice : notices(s)) {
                if (wanted.test(notice)) {
                    return notice;
                }
            }
            sleep(20);
        }
        throw new AssertionError("No such notice in 20 s (call done: " + call.isDone() + "); got: " + notices(s));
    }

    private static CompletableFuture<Void> callAsync(Statement s, String sql) {
        return CompletableFuture.runAsync(() -> {
            try {
                s.execute(sql);
            } catch (SQLException e) {
                throw new CompletionException(e);
            }
        });
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aBackfillPausesWhileTheReplicaIsBehindAndGoesOnWhenItCatchesUp() throws Exception {
        try (Connection c = Jdbc.connect(db); Connection backfiller = Jdbc.connect(db); Statement call = backfiller.createStatement()) {
            declare(c, "users_7");
            long pid = (Integer) value(backfiller, "SELECT pg_backend_pid()");
            exec(backfiller, "SET kit.replica_lag_limit = '" + SMALL_LIMIT + "'");
            pauseReplay();

            CompletableFuture<Void> backfill = callAsync(call, "CALL kit.backfill('users_7', " + BATCH + ")");
            String pause = awaitNotice(call, n -> n.contains("pauses"), backfill);
            assertThat(pause).as("the notice of the pause: the wait's code, the replica, its lag and the bound")
                    .startsWith(KitError.BUSY.sqlState() + " kit: backfill of users_7 pauses: replica " + ReplicatedServer.REPLICA_NAME + " (127.0.0.1) is ")
                    .contains(" behind (limit kit.replica_lag_limit = " + SMALL_LIMIT + "); gives up after 00:10:00");
            sleep(2000);
            assertThat(backfill).as("the backfill while the replica's replay is paused").isNotDone();
            assertThat(state(c, "users_7")).isEqualTo("building");
            assertThat((Long) value(c, "SELECT backfilled_facts FROM kit.read_version WHERE read_table = 'users_7'"))
                    .as("facts applied before the pause, in committed batches").isPositive().isLessThan(count(c, "users_2"));
            // It waits between transactions: none of its own lasts longer than a look at the replicas, and none holds an xid.
            for (int i = 0; i < 5; i++) {
                assertThat((Boolean) value(c, """
                        SELECT backend_xid IS NULL AND clock_timestamp() - xact_start < interval '1 second'
                          FROM pg_stat_activity WHERE pid = ?""", (int) pid))
                        .as("the paused backfill's session holds no transaction open").isTrue();
                sleep(200);
            }
            assertThat(notices(call).stream().filter(n -> n.contains("pauses")).count())
                    .as("pause notices in about 3 s: at most one every 2 s").isBetween(1L, 3L);

            resumeReplay();
            backfill.get(30, TimeUnit.SECONDS);
            assertThat(state(c, "users_7")).isEqualTo("live");
            assertThat(count(c, "users_7")).isEqualTo(count(c, "users_2"));
            assertThat(Sql.verify(c, "users_7")).as("users_7 against a replay of its facts").isEmpty();
        }
    }

    @Test
    void aReplicaThatStaysBehindMakesTheBackfillGiveUpNamingItAndTheBackfillResumesLater() throws Exception {
        try (Connection c = Jdbc.connect(db)) {
            declare(c, "users_8");
            exec(c, "SET kit.replica_lag_limit = '" + SMALL_LIMIT + "'");
            exec(c, "SET kit.replica_lag_wait = '2s'");
            pauseReplay();

            long started = System.nanoTime();
            SQLException gaveUp = assertFailsWith(KitError.BUSY, () -> exec(c, "CALL kit.backfill('users_8', " + BATCH + ")"));
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("time to give up").isLessThan(Duration.ofSeconds(15));
            assertThat(gaveUp.getMessage())
                    .contains("Backfill of users_8 gave up waiting for replica " + ReplicatedServer.REPLICA_NAME + " (127.0.0.1) to replay (Behind by: ")
                    .contains("Limit: kit.replica_lag_limit = " + SMALL_LIMIT + ", Waited: 00:00:0");
            assertThat(((PSQLException) gaveUp).getServerErrorMessage().getHint()).contains("it resumes where it stopped");
            assertThat(state(c, "users_8")).as("resumable: still building").isEqualTo("building");
            assertThat((String) value(c, "SELECT backfill_error FROM kit.read_version WHERE read_table = 'users_8'"))
                    .as("what kit status shows").startsWith("KT007: Backfill of users_8 gave up waiting for replica");
            long applied = (Long) value(c, "SELECT backfilled_facts FROM kit.read_version WHERE read_table = 'users_8'");
            assertThat(applied).as("committed batches before it gave up").isPositive();

            resumeReplay();
            servers.awaitReplay(Duration.ofSeconds(30));
            exec(c, "CALL kit.backfill('users_8', " + BATCH + ")");
            assertThat(state(c, "users_8")).isEqualTo("live");
            assertThat(count(c, "users_8")).isEqualTo(count(c, "users_2"));
            assertThat(Sql.verify(c, "users_8")).as("users_8 against a replay of its facts").isEmpty();
            assertThat(value(c, "SELECT backfill_error FROM kit.read_version WHERE read_table = 'users_8'")).isNull();
        }
    }

    @Test
    void aReplicaThatKeepsUpNeverPausesTheBackfill() throws Exception {
        String limit = "1MB";
        try (Connection c = Jdbc.connect(db); Statement call = c.createStatement()) {
            declare(c, "users_9");
            exec(c, "SET kit.replica_lag_limit = '" + limit + "'");
            String before = (String) value(c, "SELECT pg_current_wal_lsn()::text");
            call.execute("CALL kit.backfill('users_9', " + BATCH + ")");
            assertThat(state(c, "users_9")).isEqualTo("live");
            assertThat(notices(call)).as("notices of a backfill that a replica keeps up with")
                    .noneMatch(n -> n.contains("pauses")).anyMatch(n -> n.contains("users_9 is live"));
            assertThat((Long) value(c, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), ?::pg_lsn)::bigint - pg_size_bytes(?)", before, limit))
                    .as("WAL the backfill wrote beyond the limit: a replica that replayed none of it would have paused it").isPositive();
        }
    }

    @Test
    void aLoginThatCannotSeeTheReplicasLagIsToldOnceAndNotHeldUp() throws Exception {
        try (Connection c = Jdbc.connect(db); Statement s = c.createStatement()) {
            exec(c, "CREATE ROLE kit_lag_blind");
            exec(c, "GRANT USAGE ON SCHEMA kit TO kit_lag_blind");
            exec(c, "GRANT EXECUTE ON PROCEDURE kit.await_replicas(text, timestamptz, text[]) TO kit_lag_blind");
            exec(c, "GRANT EXECUTE ON FUNCTION kit.replica_lag(), kit.replica_lag_settings(), kit.usage_error(text, text) TO kit_lag_blind");
            exec(c, "SET kit.replica_lag_limit = '" + SMALL_LIMIT + "'");
            pauseReplay();
            exec(c, "CREATE TABLE wal_of_a_batch AS SELECT g, repeat('x', 100) AS x FROM generate_series(1, 5000) g");
            exec(c, "SET ROLE kit_lag_blind");
            assertThat(Jdbc.rows(c, "SELECT * FROM kit.replica_lag()")).as("the replica as this login sees it")
                    .singleElement().satisfies(r -> {
                        assertThat(r.get("replica")).isEqualTo(ReplicatedServer.REPLICA_NAME);
                        assertThat(r.get("lag")).isNull();
                        assertThat(r.get("seen")).isEqualTo(false);
                    });
            long started = System.nanoTime();
            s.execute("CALL kit.await_replicas('backfill of users_6', now(), NULL)");
            assertThat(notices(s)).as("notices of a wait of a login that cannot see the lag").singleElement().asString()
                    .contains("the backfill of users_6 does not wait for replica " + ReplicatedServer.REPLICA_NAME + ": this login (kit_lag_blind) may not see");
            s.execute("CALL kit.await_replicas('backfill of users_6', now(), NULL)");
            assertThat(notices(s)).as("notices of the session's second wait: told once").isEmpty();
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("time both waits took").isLessThan(Duration.ofSeconds(2));
            exec(c, "RESET ROLE");
            exec(c, "GRANT pg_read_all_stats TO kit_lag_blind");
            exec(c, "SET ROLE kit_lag_blind");
            assertThat((Boolean) value(c, "SELECT seen AND lag > pg_size_bytes(?) FROM kit.replica_lag()", SMALL_LIMIT))
                    .as("with pg_read_all_stats it sees the lag").isTrue();
            exec(c, "RESET ROLE");
        }
    }

    @Test
    void aBaselinesCopyPausesLikeABackfill() throws Exception {
        try (Connection c = Jdbc.connect(db)) {
            exec(c, "CREATE SCHEMA crm");
            exec(c, "CREATE TABLE crm.customers (customer_id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text)");
            exec(c, "INSERT INTO crm.customers (email, name) SELECT 'c' || g || '@example.org', 'customer ' || g FROM generate_series(1, 5000) g");
            exec(c, "SELECT kit.baseline('crm.customers')");
            exec(c, "SET kit.replica_lag_limit = '" + SMALL_LIMIT + "'");
            exec(c, "SET kit.replica_lag_wait = '2s'");
            servers.awaitReplay(Duration.ofSeconds(30));
            pauseReplay();
            SQLException gaveUp = assertFailsWith(KitError.BUSY, () -> exec(c, "CALL kit.backfill()"));
            assertThat(gaveUp.getMessage()).contains("Copy of crm.customers gave up waiting for replica " + ReplicatedServer.REPLICA_NAME);
            assertThat((String) value(c, "SELECT state FROM kit.baseline_table")).isEqualTo("copying");

            resumeReplay();
            servers.awaitReplay(Duration.ofSeconds(30));
            exec(c, "CALL kit.backfill()");
            assertThat(state(c, "crm.customers_0")).isEqualTo("live");
            assertThat(count(c, "crm.customers_0")).isEqualTo(5000);
        }
    }
}
