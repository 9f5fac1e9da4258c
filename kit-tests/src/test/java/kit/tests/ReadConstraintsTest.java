package kit.tests;

import kit.client.KitError;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.sql.Connection;

import static kit.client.Jdbc.exec;
import static kit.tests.Sql.assertFailsWith;
import static kit.tests.Sql.count;
import static kit.tests.Sql.value;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A fact a read table's rules reject fails with the kit's SQLSTATE and a message
 * naming the fact, and nothing of its transaction remains: not the fact, not
 * other facts written before it, not their read rows.
 */
class ReadConstraintsTest {

    @Test
    void passwordChangeForUnknownUserRollsBackWholeTransaction() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            exec(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('in-tx@example.com', 'h', 'tx')");
            var failure = assertFailsWith(KitError.UNKNOWN_ENTITY,
                    () -> exec(c, "INSERT INTO password_changed_2 (user_id, password_hash) VALUES (424242, 'h2')"));
            assertThat(failure.getMessage()).contains("Unknown user: 424242", "password_changed_2", "user_id");
            c.rollback();
            c.setAutoCommit(true);
            assertThat(count(c, "user_registered_1")).isZero();
            assertThat(count(c, "password_changed_2")).isZero();
            assertThat(count(c, "users_2")).isZero();
        }
    }

    @Test
    void oneBadFactInAMultiRowInsertLeavesNothing() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            long id = (Long) value(c, "INSERT INTO user_registered_1 (email, password_hash) VALUES ('a@example.com', 'h') RETURNING id");
            assertFailsWith(KitError.UNKNOWN_ENTITY, () -> exec(c,
                    "INSERT INTO password_changed_2 (user_id, password_hash) VALUES (?, 'good'), (-5, 'bad')", id));
            assertThat(count(c, "password_changed_2")).isZero();
            assertThat(value(c, "SELECT password_hash FROM users_2 WHERE id = ?", id)).isEqualTo("h");
        }
    }

    @Test
    void messageFromOrToUnknownUserIsRefused() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            long known = (Long) value(c, "INSERT INTO user_registered_1 (email, password_hash) VALUES ('k@example.com', 'h') RETURNING id");
            var to = assertFailsWith(KitError.UNKNOWN_ENTITY, () -> exec(c,
                    "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (?, 999999, 'hello?')", known));
            assertThat(to.getMessage()).contains("Unknown user: 999999", "dst_id", "message_sent_3");
            var from = assertFailsWith(KitError.UNKNOWN_ENTITY, () -> exec(c,
                    "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (888888, ?, 'boo')", known));
            assertThat(from.getMessage()).contains("Unknown user: 888888", "src_id");
            assertThat(count(c, "message_sent_3")).isZero();
            assertThat(count(c, "messages_3")).isZero();

            exec(c, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (?, ?, 'note to self')", known, known);
            assertThat(count(c, "messages_3")).isEqualTo(1);
        }
    }

    @Test
    void duplicateMessageIdIsRefused() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            long u = (Long) value(c, "INSERT INTO user_registered_1 (email, password_hash) VALUES ('m@example.com', 'h') RETURNING id");
            exec(c, "INSERT INTO message_sent_3 (id, src_id, dst_id, content) VALUES (5, ?, ?, 'one')", u, u);
            assertFailsWith(KitError.DUPLICATE_ID, () -> exec(c,
                    "INSERT INTO message_sent_3 (id, src_id, dst_id, content) VALUES (5, ?, ?, 'two')", u, u));
            assertThat(value(c, "SELECT content FROM messages_3 WHERE id = 5")).isEqualTo("one");
        }
    }
}
