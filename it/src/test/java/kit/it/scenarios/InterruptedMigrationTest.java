package kit.it.scenarios;

import kit.app.App;
import kit.app.SchemaGate;
import kit.client.AppRoles;
import kit.client.Catalog;
import kit.client.DatabaseUrl;
import kit.client.Jdbc;
import kit.client.Migrations;
import kit.example.ExampleMigrations;
import kit.it.MigrateMain;
import kit.it.AppVersions;
import kit.it.RunningApp;
import kit.server.EmbeddedServer;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static kit.client.Jdbc.exec;
import static kit.client.Jdbc.number;
import static kit.client.Jdbc.strings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Scenario 3: the process applying a migration, and in another case the
 * server, is killed in the middle of adding version 2. The version's DDL is one
 * transaction: killed there, the schema is still at version 1. Killed during
 * the backfill, version 2 is declared but building, so app-v2 refuses to start
 * and nothing half-built is read; running the migration again completes it.
 * Apps of version 0 and 1 keep serving throughout.
 */
class InterruptedMigrationTest {

    @Test
    void killedDuringTheVersionsDdlTheSchemaStaysAtTheOldVersion() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("1");
        seed(db.url(), 1000);
        try (RunningApp v0 = new RunningApp(0, db); RunningApp v1 = new RunningApp(1, db);
             Connection blocker = db.connect(); Connection observer = db.connect()) {
            blocker.setAutoCommit(false);
            exec(blocker, "LOCK TABLE kit.schema_version IN ACCESS EXCLUSIVE MODE");
            Process migrate = migrate(db.url(), "2", TestDatabases.rolePrefix());
            // The version's first kit call that reads the schema versions (create_write_table, which grants the
            // roles of live versions) waits for the lock, inside the version's one transaction.
            await(() -> number(observer, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%kit.create\\_%'") == 1,
                    "the migration waits inside version 2's DDL");
            migrate.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            assertServing(v0, v1);
            blocker.rollback();
            await(() -> number(observer, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%kit.create\\_%' AND pid <> pg_backend_pid()") == 0,
                    "the killed migration's session ended");

            assertThat(strings(observer, "SELECT version || ':' || state FROM kit.schema_versions ORDER BY version")).containsExactly("0:live", "1:live");
            assertThat(number(observer, "SELECT count(*) FROM pg_class WHERE relname IN ('users_2', 'password_changed_2')")).isZero();
            assertThat(number(observer, "SELECT count(*) FROM flyway_schema_history WHERE version = '2'")).isZero();
            assertServing(v0, v1);
        }
        db.migrations().migrateTo("2");
        assertVersion2CompleteAndRebuilt(db.url());
    }

    @Test
    void killedDuringTheBackfillVersion2StaysBuildingUntilTheMigrationRunsAgain() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("1");
        seed(db.url(), 200_000);
        try (RunningApp v0 = new RunningApp(0, db); RunningApp v1 = new RunningApp(1, db); Connection observer = db.connect()) {
            Process migrate = migrate(db.url(), "2", TestDatabases.rolePrefix());
            await(() -> number(observer, "SELECT coalesce(max(backfilled_to), 0) FROM kit.read_version WHERE read_table = 'users_2'") > 0,
                    "the backfill committed a batch");
            migrate.destroyForcibly().waitFor(10, TimeUnit.SECONDS);

            assertThat(strings(observer, "SELECT version || ':' || state FROM kit.schema_versions ORDER BY version"))
                    .containsExactly("0:live", "1:live", "2:building");
            Throwable refused = catchThrowable(() -> App.start(RunningApp.config(2, db), AppVersions.of(2)::stores));
            assertThat(refused).isInstanceOf(SchemaGate.NotLiveException.class).hasMessageContaining("still building");
            assertServing(v0, v1);
            long done = number(observer, "SELECT backfilled_facts FROM kit.read_version WHERE read_table = 'users_2'");
            System.out.printf("interrupted migration: killed during the backfill after %d of %d facts%n", done, 200_000);
        }
        db.migrations().migrateTo("2");
        assertVersion2CompleteAndRebuilt(db.url());
    }

    @Test
    void theServerKilledDuringTheBackfillLeavesVersion2BuildingAndARerunCompletesIt(@TempDir Path work) throws Exception {
        Path data = work.resolve("pgdata");
        int port = EmbeddedServer.freePort();
        EmbeddedServer server = EmbeddedServer.startKeeping(data, port);
        try {
            server.createDatabase("interrupted", null);
            DatabaseUrl url = server.url().withDatabase("interrupted");
            new Migrations(url, ExampleMigrations.LOCATION, AppRoles.DEFAULT_PREFIX).migrateTo("1");
            seed(url, 200_000);
            Process migrate = migrate(url, "2", AppRoles.DEFAULT_PREFIX);
            try (Connection observer = Jdbc.connect(url)) {
                await(() -> number(observer, "SELECT coalesce(max(backfilled_to), 0) FROM kit.read_version WHERE read_table = 'users_2'") > 0,
                        "the backfill committed a batch");
            }
            server.crash(data);
            server.close();
            migrate.waitFor(30, TimeUnit.SECONDS);
            server = EmbeddedServer.startKeeping(data, port);
            try (Connection c = Jdbc.connect(url)) {
                assertThat(strings(c, "SELECT version || ':' || state FROM kit.schema_versions ORDER BY version"))
                        .containsExactly("0:live", "1:live", "2:building");
            }
            new Migrations(url, ExampleMigrations.LOCATION, AppRoles.DEFAULT_PREFIX).migrateTo("2");
            assertVersion2CompleteAndRebuilt(url);
        } finally {
            server.close();
        }
    }

    static Process migrate(DatabaseUrl url, String target, String rolePrefix) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), MigrateMain.class.getName(), url.jdbc(), target, rolePrefix)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    static void seed(DatabaseUrl url, int users) throws SQLException {
        try (Connection c = Jdbc.connect(url)) {
            exec(c, "INSERT INTO user_registered_0 (email, password_hash) SELECT 'zero' || g || '@x.org', 'h' FROM generate_series(1, " + users / 2 + ") g");
            exec(c, "INSERT INTO user_registered_1 (email, password_hash) SELECT 'one' || g || '@x.org', 'h' FROM generate_series(1, " + users / 2 + ") g");
        }
    }

    static void assertServing(RunningApp v0, RunningApp v1) {
        String email = "serving" + System.nanoTime() + "@x.org";
        assertThat(v1.post("/users", v1.registration(email, "serving-password")).status()).isEqualTo(201);
        assertThat(v0.post("/sessions", Map.of("email", email, "password", "serving-password")).status()).isEqualTo(200);
    }

    static void assertVersion2CompleteAndRebuilt(DatabaseUrl url) throws SQLException {
        try (Connection c = Jdbc.connect(url)) {
            assertThat(strings(c, "SELECT state FROM kit.schema_versions WHERE version = 2")).containsExactly("live");
            assertThat(number(c, "SELECT count(*) FROM users_2")).isEqualTo(number(c, "SELECT count(*) FROM users_1"));
            assertThat(Catalog.verify(Catalog.of(c), "users_2", 50)).as("users_2 equals its rebuild").isEmpty();
        }
    }

    /** A condition that asks the database. */
    interface Condition {
        boolean holds() throws SQLException;
    }

    static void await(Condition condition, String what) throws InterruptedException, SQLException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.holds()) {
            assertThat(System.nanoTime()).as("waiting until %s", what).isLessThan(deadline);
            Thread.sleep(10);
        }
    }
}
