package kit.tests;

import kit.client.Jdbc;
import kit.client.KitError;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.flywaydb.core.api.FlywayException;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;

import java.sql.Connection;

import static kit.client.Jdbc.exec;
import static kit.client.Jdbc.rows;
import static kit.tests.Sql.assertFailsWith;
import static kit.tests.Sql.count;
import static kit.tests.Sql.liveReadTables;
import static kit.tests.Sql.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Retiring a read version drops its table and feeds and retires the schema
 * versions that read it; it refuses while an app of such a version is
 * connected, so the migration fails cleanly instead of breaking a server.
 */
class TidyUpTest {

    @Test
    void theTidyUpRefusesWhileAnOldAppIsConnectedAndSucceedsOnceItIsGone() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (Connection c = db.connect()) {
            exec(c, "INSERT INTO user_registered_0 (email, password_hash) VALUES ('old@example.com', 'h')");
        }
        try (Connection oldServer = db.connectAsAppRole(1); Connection newServer = db.connectAsAppRole(2)) {
            Throwable failure = catchThrowable(() -> db.migrations().migrateTo("2.1"));
            assertThat(failure).isInstanceOf(FlywayException.class);
            assertThat(KitError.of(failure)).contains(KitError.IN_USE);
            assertThat(failure).hasMessageContaining("app-v1");
            try (Connection c = db.connect()) {
                assertThat(liveReadTables(c)).as("nothing of the tidy-up remains").containsExactly("users_0", "users_1", "users_2");
                assertThat(value(c, "SELECT count(*) FROM kit.schema_versions WHERE state = 'retired'")).isEqualTo(0L);
            }
            assertThat(value(oldServer, "SELECT count(*) FROM users_1")).as("the old server still reads").isEqualTo(1L);
        }

        try (Connection newServer = db.connectAsAppRole(2)) {
            assertThat(db.migrations().migrateTo("2.1")).isEqualTo(1);
        }
        try (Connection c = db.connect()) {
            assertThat(liveReadTables(c)).containsExactly("users_2");
            assertThat(rows(c, "SELECT version, state FROM kit.schema_versions ORDER BY version"))
                    .extracting(r -> r.get("version") + ":" + r.get("state")).containsExactly("0:retired", "1:retired", "2:live");
            assertThat(value(c, "SELECT state FROM kit.read_version WHERE read_table = 'users_0'")).isEqualTo("retired");
            assertThat(value(c, "SELECT count(*) FROM kit.feed WHERE read_table IN ('users_0', 'users_1')")).isEqualTo(0L);
            assertThat(value(c, "SELECT count(*) FROM pg_trigger WHERE tgname ~ '__users_[01]$'")).as("feed triggers").isEqualTo(0L);
            assertThat(value(c, "SELECT count(*) FROM pg_proc WHERE proname ~ '_users_[01]$'")).as("feed and projection functions").isEqualTo(0L);
            assertThat(count(c, "user_registered_0")).as("facts stay").isEqualTo(1);
            exec(c, "INSERT INTO user_registered_0 (email, password_hash) VALUES ('after@example.com', 'h')");
            assertThat(count(c, "users_2")).isEqualTo(2);
        }
    }

    @Test
    void aConnectedVersion0AppAlsoBlocksTheTidyUp() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (Connection oldServer = db.connectAsAppRole(0)) {
            assertThat(KitError.of(catchThrowable(() -> db.migrations().migrateTo("2.1")))).contains(KitError.IN_USE);
        }
    }

    @Test
    void aReadVersionThatAnotherLiveVersionReferencesCannotBeRetired() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            var failure = assertFailsWith(KitError.IN_USE, () -> exec(c, "SELECT kit.retire_read_version('users_2')"));
            assertThat(failure.getMessage()).contains("referenced by messages_3");
            exec(c, "SELECT kit.retire_read_version('users_0')");  // retired already: nothing to do
            assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.retire_read_version('no_such_table')"));
            assertThat(liveReadTables(c)).containsExactly("messages_3", "users_2", "users_4");
        }
    }

    /**
     * A client is seen by its role, not by its name: an analyst's psql session, logged in as a member
     * of version 0's role, keeps users_0 from being dropped under it, and the refusal names it.
     */
    @Test
    void aSessionOfAMemberOfAnOldVersionsRoleBlocksTheTidyUpWhateverItsApplicationName() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        String analyst = TestDatabases.runRole("analyst");
        try (Connection c = db.connect()) {
            exec(c, "CREATE ROLE " + analyst + " LOGIN IN ROLE " + TestDatabases.rolePrefix() + "0");
        }
        try (Connection psql = Jdbc.connect(db.url().with("user", analyst).with("ApplicationName", "psql").jdbc())) {
            assertThat(value(psql, "SELECT count(*) FROM users_0")).isEqualTo(0L);
            Object started = value(psql, "SELECT to_char(backend_start, 'YYYY-MM-DD HH24:MI:SS') FROM pg_stat_activity WHERE pid = pg_backend_pid()");
            int pid = ((Number) value(psql, "SELECT pg_backend_pid()")).intValue();

            Throwable failure = catchThrowable(() -> db.migrations().migrateTo("2.1"));
            assertThat(KitError.of(failure)).contains(KitError.IN_USE);
            assertThat(failure).hasMessageContaining("pid " + pid).hasMessageContaining("application 'psql'")
                    .hasMessageContaining("role " + analyst).hasMessageContaining("from 127.0.0.1")
                    .hasMessageContaining("since " + started).hasMessageContaining("a member of version 0");
            try (Connection c = db.connect()) {
                assertThat(rows(c, "SELECT version, application_name, role_name, seen_by FROM kit.clients()"))
                        .extracting(r -> r.get("version") + " " + r.get("application_name") + " " + r.get("role_name") + " " + r.get("seen_by"))
                        .containsExactly("0 psql " + analyst + " member");
                assertThat(liveReadTables(c)).as("nothing of the tidy-up happened").contains("users_0", "users_1");
            }
            assertThat(value(psql, "SELECT count(*) FROM users_0")).as("the analyst still reads").isEqualTo(0L);
        }
        assertThat(db.migrations().migrateTo("2.1")).as("once the session is gone").isEqualTo(1);
    }

    /**
     * A session that logs in as a superuser and acts as an app role through SET ROLE cannot be seen
     * from outside; registered (as the example's apps register every pooled connection), it blocks.
     */
    @Test
    void aSuperuserSessionCountsOnlyWhenItRegistersAndTheOperatorMayIgnoreANamedSession() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (Connection unregistered = db.connectAs("app-v0")) {
            exec(unregistered, "SET ROLE " + TestDatabases.rolePrefix() + "0");
            try (Connection c = db.connect()) {
                assertThat(value(c, "SELECT count(*) FROM kit.clients()")).as("a superuser login is an operator's").isEqualTo(0L);
            }
        }
        try (Connection registered = db.connectAsAppRole(0); Connection c = db.connect()) {
            int pid = ((Number) value(registered, "SELECT pg_backend_pid()")).intValue();
            assertThat(rows(c, "SELECT version, pid, seen_by FROM kit.clients()"))
                    .extracting(r -> r.get("version") + " " + r.get("pid") + " " + r.get("seen_by")).containsExactly("0 " + pid + " registered");
            var refused = assertFailsWith(KitError.IN_USE, () -> exec(c, "SELECT kit.retire_read_version('users_0')"));
            assertThat(refused.getMessage()).contains("pid " + pid, "registered as a client of version 0");
            assertThat(((PSQLException) refused).getServerErrorMessage().getHint()).contains("pg_terminate_backend", "--ignore-session");

            exec(c, "SELECT kit.retire_read_version('users_0', ignore_sessions => ARRAY[" + pid + "])");
            assertThat(liveReadTables(c)).doesNotContain("users_0");
        }
    }

    @Test
    void onlyALoginThatMayActAsTheRoleCanRegisterForItsVersion() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("1");
        String stranger = TestDatabases.runRole("stranger");
        try (Connection c = db.connect()) {
            exec(c, "CREATE ROLE " + stranger + " LOGIN IN ROLE " + TestDatabases.rolePrefix() + "1");
            assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.register_client(7)"));
        }
        try (Connection s = Jdbc.connect(db.url().with("user", stranger).jdbc())) {
            exec(s, "SELECT kit.register_client(1)");
            assertFailsWith("42501", () -> exec(s, "SELECT kit.register_client(0)"));
        }
    }

    @Test
    void aViewOverAReadTableBlocksRetirementUpFrontAndTheDryRunListsIt() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (Connection c = db.connect()) {
            exec(c, "CREATE SCHEMA mine");
            exec(c, "CREATE VIEW mine.u0 AS SELECT id FROM public.users_0");
            assertThat(value(c, "SELECT dependents FROM kit.retirement_plan('users_0')")).isEqualTo("view mine.u0");
            var refused = Sql.assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.retire_read_version('users_0')"));
            assertThat(refused.getMessage()).contains("mine.u0");
            assertThat(liveReadTables(c)).contains("users_0");
        }
    }

    @Test
    void aLoginHoldingTheKitsAdvisoryLockMakesTheGateAndRetirementGiveUpNamingIt() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (Connection holder = db.connectAs("lock-holder"); Connection app = db.connectAsAppRole(2)) {
            exec(holder, "SELECT pg_advisory_lock(1263094, 1)");
            exec(app, "SET kit.lock_wait = '300ms'");
            var refused = Sql.assertFailsWith(KitError.BUSY, () -> exec(app, "SELECT kit.schema_version_state(2)"));
            assertThat(refused.getMessage()).contains("lock-holder").contains("read the schema version's state");
            try (Connection c = db.connect()) {
                exec(c, "SET kit.lock_wait = '300ms'");
                var busy = Sql.assertFailsWith(KitError.BUSY, () -> exec(c, "SELECT kit.retire_read_version('users_0')"));
                assertThat(busy.getMessage()).contains("lock-holder");
            }
        }
    }

    @Test
    void aVersionRetiredAheadOfItsTidyUpMigrationLetsTheMigrationPass() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (Connection c = db.connect()) {
            exec(c, "SELECT kit.retire_read_version('users_0')");
        }
        db.migrations().migrateAll();
        try (Connection c = db.connect()) {
            assertThat(liveReadTables(c)).containsExactly("messages_3", "users_2", "users_4");
        }
    }
}

