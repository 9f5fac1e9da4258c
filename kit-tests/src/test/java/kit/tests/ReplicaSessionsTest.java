package kit.tests;

import kit.client.KitError;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.util.List;
import java.util.Map;

import static kit.client.Jdbc.exec;
import static kit.client.Jdbc.rows;
import static kit.tests.DriftTest.drift;
import static kit.tests.Sql.assertFailsWith;
import static kit.tests.Sql.value;
import static kit.tests.Sql.verify;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Facts written under session_replication_role = replica (a tool that sets it, a restore, a
 * logical-replication subscriber) keep every rule: the kit's triggers fire ALWAYS, so their ids are
 * claimed and they reach the read tables; and a subscriber that takes the origin's facts and read tables
 * keeps its sequences ahead of them, so that after a failover its first write works.
 */
class ReplicaSessionsTest {

    @Test
    void factsWrittenInAReplicaSessionAreProjectedAndTheirIdsClaimed() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "SET session_replication_role = replica");
            long id = (Long) value(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('r@example.com', 'h', 'r') RETURNING id");
            exec(c, "INSERT INTO user_registered_1 VALUES (31, 'e@example.com', 'h', 'e')");
            exec(c, "INSERT INTO password_changed_2 (user_id, password_hash) VALUES (?, 'h2')", id);
            assertFailsWith(KitError.DUPLICATE_ID, () -> exec(c, "INSERT INTO user_registered_0 VALUES (31, 'again@example.com', 'h')"));
            assertFailsWith(KitError.APPEND_ONLY, () -> exec(c, "DELETE FROM user_registered_1"));
            exec(c, "RESET session_replication_role");
            assertThat(value(c, "SELECT password_hash FROM users_2 WHERE id = ?", id)).isEqualTo("h2");
            assertThat(value(c, "SELECT count(*) FROM users_2")).isEqualTo(2L);
            assertThat(verify(c, "users_2")).isEmpty();
            assertThat(drift(c)).isEmpty();
        }
    }

    @Test
    void aLogicalSubscriberOfFactsAndReadTablesStaysEqualAndWritesAfterAFailover() throws Exception {
        TestDatabase origin = TestDatabases.migrated();
        TestDatabase subscriber = TestDatabases.migrated();
        String slot = origin.name() + "_slot";
        try (Connection o = origin.connect(); Connection s = subscriber.connect()) {
            assumeTrue("logical".equals(value(o, "SHOW wal_level")),
                    "this server has wal_level = " + value(o, "SHOW wal_level") + ": a logical subscription cannot be tried here");
            exec(o, "CREATE PUBLICATION kit_facts FOR TABLE user_registered_0, user_registered_1, password_changed_2, message_sent_3, user_deleted_4, users_2, messages_3, users_4");
            exec(o, "SELECT pg_create_logical_replication_slot(?, 'pgoutput')", slot);
            String user = (String) value(o, "SELECT current_user");
            String[] hostPort = origin.url().hostAndPort().split(":");
            // A slot made beforehand: a subscription to a database of its own server cannot create one itself.
            exec(s, String.format("CREATE SUBSCRIPTION kit_facts CONNECTION 'host=%s port=%s dbname=%s user=%s' PUBLICATION kit_facts"
                    + " WITH (create_slot = false, slot_name = '%s', copy_data = false)", hostPort[0], hostPort[1], origin.name(), user, slot));
            try {
                long a;
                try (Connection app = origin.connectAsAppRole(3)) {
                    a = (Long) value(app, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('a@example.com', 'h', 'a') RETURNING id");
                    exec(app, "INSERT INTO user_registered_1 VALUES (55, 'b@example.com', 'h', 'b')");
                    exec(app, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (?, 55, 'hi')", a);
                }
                try (Connection app = origin.connectAsAppRole(2)) {
                    exec(app, "INSERT INTO password_changed_2 (user_id, password_hash) VALUES (?, 'h2')", a);
                }
                awaitEqual(o, s, "SELECT id, email, password_hash, last_fact_seq FROM users_2 ORDER BY id");
                awaitEqual(o, s, "SELECT * FROM messages_3 ORDER BY id");
                assertThat(verify(s, "users_2")).as("the subscriber's read table against its replicated facts").isEmpty();
                assertThat(drift(s)).isEmpty();
                assertThat((Long) value(s, "SELECT last_value FROM kit.fact_seq"))
                        .isGreaterThanOrEqualTo((Long) value(o, "SELECT max(seq) FROM password_changed_2"));
                assertThat(value(s, "SELECT count(*) FROM kit.explicit_id WHERE id = 55")).isEqualTo(1L);

                // A forget on the primary: its redaction of the facts and the read rows it projects again
                // replicate; the subscriber's guard, a statement trigger, does not fire in the apply worker.
                try (Connection app = origin.connectAsAppRole(4)) {
                    exec(app, "SELECT kit.forget('user', ?, 'public')", a);
                }
                awaitEqual(o, s, "SELECT id, email, username FROM user_registered_1 ORDER BY id");
                awaitEqual(o, s, "SELECT id, email, password_hash, last_fact_seq FROM users_2 ORDER BY id");
                awaitEqual(o, s, "SELECT * FROM users_4 ORDER BY id");
                assertThat(value(s, "SELECT email FROM users_2 WHERE id = ?", a)).isEqualTo("forgotten-" + a + "@invalid");
                assertThat(value(s, "SELECT count(*) FROM user_registered_1 WHERE email = 'a@example.com'")).as("redacted there too").isEqualTo(0L);
                assertThat(verify(s, "users_2")).isEmpty();
                assertThat(verify(s, "users_4")).isEmpty();
                assertThat(drift(s)).isEmpty();

                // A subscription of the facts without their read tables is named by drift.
                exec(o, "ALTER PUBLICATION kit_facts DROP TABLE users_2");
                exec(s, "ALTER SUBSCRIPTION kit_facts REFRESH PUBLICATION WITH (copy_data = false)");
                assertThat(drift(s)).contains("subscription kit_facts: replicates write table user_registered_1 but not read table users_2:"
                        + " the apply worker fires no statement trigger, so these facts reach no read table here (add the read table to the publication)");
            } finally {
                exec(s, "ALTER SUBSCRIPTION kit_facts DISABLE");
                exec(s, "ALTER SUBSCRIPTION kit_facts SET (slot_name = NONE)");
                exec(s, "DROP SUBSCRIPTION kit_facts");
                awaitInactive(o, slot);
                exec(o, "SELECT pg_drop_replication_slot(?)", slot);
                exec(o, "DROP PUBLICATION kit_facts");
            }
        }
        // The failover: the subscriber takes writes, with ids and seqs past every replicated one.
        try (Connection app = subscriber.connectAsAppRole(3)) {
            exec(app, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('c@example.com', 'h', 'c')");
            assertFailsWith(KitError.DUPLICATE_ID, () -> exec(app, "INSERT INTO user_registered_1 VALUES (55, 'd@example.com', 'h', 'd')"));
            assertThat(value(app, "SELECT count(*) FROM users_2")).isEqualTo(3L);
        }
        try (Connection s = subscriber.connect()) {
            assertThat(verify(s, "users_2")).isEmpty();
        }
    }

    /** Waits (at most 30 s) until the query answers the same on both databases. */
    private static void awaitEqual(Connection origin, Connection subscriber, String query) throws Exception {
        List<Map<String, Object>> expected = rows(origin, query);
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!rows(subscriber, query).equals(expected)) {
            assertThat(System.nanoTime()).as("the subscriber still differs after 30 s: %s", query).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    /** The walsender of a dropped subscription lets go of its slot a moment later: waits for that, at most 10 s. */
    private static void awaitInactive(Connection c, String slot) throws Exception {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (Boolean.TRUE.equals(value(c, "SELECT active FROM pg_replication_slots WHERE slot_name = ?", slot))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("replication slot " + slot + " is still in use by its walsender after 10 s");
            }
            Thread.sleep(50);
        }
    }
}
