package kit.tests;

import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.util.List;
import java.util.Map;

import static kit.client.Jdbc.exec;
import static kit.client.Jdbc.rows;
import static kit.tests.Sql.count;
import static kit.tests.Sql.liveReadTables;
import static kit.tests.Sql.value;
import static kit.tests.Sql.verify;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Migrate to a version, write facts through that version's tables, migrate
 * further, check every read table: new read versions are backfilled from every
 * earlier fact before their migration commits, and every live table equals a
 * rebuild at every step.
 */
class MigrationStepsTest {

    /** The shipped steps, in order; a later version's steps come after them, and none of these ever changes. */
    @Test
    void theKitShipsItsStepsInOrder() {
        assertThat(TestDatabases.empty().migrations().steps()).startsWith("0", "1", "2", "2.1", "3");
    }

    @Test
    void eachTargetGivesExactlyThatSchemaVersion() throws Exception {
        Map<String, List<String>> expected = Map.of(
                "0", List.of("0:live"),
                "1", List.of("0:live", "1:live"),
                "2", List.of("0:live", "1:live", "2:live"),
                "2.1", List.of("0:retired", "1:retired", "2:live"),
                "3", List.of("0:retired", "1:retired", "2:live", "3:live"));
        for (var target : expected.entrySet()) {
            TestDatabase db = TestDatabases.empty();
            db.migrations().migrateTo(target.getKey());
            try (Connection c = db.connect()) {
                assertThat(rows(c, "SELECT version || ':' || state AS v FROM kit.schema_versions ORDER BY version")
                        .stream().map(r -> r.get("v")).toList())
                        .as("schema versions at target %s", target.getKey())
                        .isEqualTo(target.getValue());
            }
        }
    }

    @Test
    void factsWrittenAtEachStepReachEveryLaterReadVersion() throws Exception {
        TestDatabase db = TestDatabases.empty();
        var m = db.migrations();

        m.migrateTo("0");
        try (Connection c = db.connect()) {
            for (int i = 0; i < 50; i++) {
                exec(c, "INSERT INTO user_registered_0 (email, password_hash) VALUES (?, ?)", "zero" + i + "@example.com", "h0-" + i);
            }
            assertEveryLiveTableEqualsItsRebuild(c);
        }

        m.migrateTo("1");
        try (Connection c = db.connect()) {
            assertThat(count(c, "users_1")).as("users_1 backfilled from version 0 facts").isEqualTo(50);
            assertThat(value(c, "SELECT count(*) FROM users_1 WHERE username IS NULL")).isEqualTo(50L);
            for (int i = 0; i < 30; i++) {
                exec(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES (?, ?, ?)",
                        "one" + i + "@example.com", "h1-" + i, "one" + i);
            }
            assertThat(count(c, "users_0")).isEqualTo(80);
            assertEveryLiveTableEqualsItsRebuild(c);
        }

        m.migrateTo("2");
        try (Connection c = db.connect()) {
            assertThat(count(c, "users_2")).as("users_2 backfilled from version 0 and 1 facts").isEqualTo(80);
            assertThat(value(c, "SELECT count(*) FROM users_2 WHERE username IS NOT NULL")).isEqualTo(30L);
            exec(c, "INSERT INTO password_changed_2 (user_id, password_hash) SELECT id, 'changed' FROM users_2 WHERE id % 2 = 0");
            long changed = (Long) value(c, "SELECT count(*) FROM password_changed_2");
            for (String users : List.of("users_0", "users_1", "users_2")) {
                assertThat(value(c, "SELECT count(*) FROM " + users + " WHERE password_hash = 'changed'")).as(users).isEqualTo(changed);
            }
            assertEveryLiveTableEqualsItsRebuild(c);
        }

        m.migrateTo("2.1");
        try (Connection c = db.connect()) {
            assertThat(liveReadTables(c)).containsExactly("users_2");
            assertThat(value(c, "SELECT to_regclass('users_0') IS NULL AND to_regclass('users_1') IS NULL")).isEqualTo(true);
            assertThat(count(c, "user_registered_0") + count(c, "user_registered_1")).as("facts are kept").isEqualTo(80);
        }

        m.migrateTo("3");
        try (Connection c = db.connect()) {
            exec(c, "INSERT INTO message_sent_3 (src_id, dst_id, content) SELECT a.id, b.id, 'hi' FROM users_2 a, users_2 b LIMIT 100");
            assertThat(count(c, "messages_3")).isEqualTo(100);
            assertThat(liveReadTables(c)).containsExactly("messages_3", "users_2");
            assertEveryLiveTableEqualsItsRebuild(c);
        }
    }

    @Test
    void aPasswordChangeBackfilledIntoANewVersionWinsOverTheRegistration() throws Exception {
        // users_2 does not exist yet when this test writes version 2 facts, so
        // the backfill must apply registrations before the changes.
        TestDatabase db = TestDatabases.empty();
        db.migrations().migrateTo("2.1");
        try (Connection c = db.connect()) {
            long id = (Long) value(c, "INSERT INTO user_registered_0 (email, password_hash) VALUES ('p@example.com', 'first') RETURNING id");
            exec(c, "INSERT INTO password_changed_2 (user_id, password_hash) VALUES (?, 'second')", id);
            exec(c, "INSERT INTO password_changed_2 (user_id, password_hash) VALUES (?, 'third')", id);
            exec(c, "CALL kit.rebuild('users_2')");
            assertThat(value(c, "SELECT password_hash FROM users_2 WHERE id = ?", id)).isEqualTo("third");
        }
    }

    static void assertEveryLiveTableEqualsItsRebuild(Connection c) throws Exception {
        for (String table : liveReadTables(c)) {
            assertThat(verify(c, table)).as("differences between %s and its rebuild", table).isEmpty();
        }
    }
}
