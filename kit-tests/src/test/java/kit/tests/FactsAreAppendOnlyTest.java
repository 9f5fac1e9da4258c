package kit.tests;

import kit.client.KitError;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.sql.Connection;

import static kit.client.Jdbc.exec;
import static kit.tests.Sql.assertFailsWith;
import static kit.tests.Sql.count;
import static kit.tests.Sql.value;
import static org.assertj.core.api.Assertions.assertThat;

/** UPDATE, DELETE and TRUNCATE on any write table fail with the kit's error, even for the table's owner. */
class FactsAreAppendOnlyTest {

    static TestDatabase db;

    @BeforeAll
    static void writeOneFactOfEachKind() throws Exception {
        db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "INSERT INTO user_registered_0 (email, password_hash) VALUES ('a@example.com', 'h')");
            exec(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('b@example.com', 'h', 'b')");
            exec(c, "INSERT INTO password_changed_2 (user_id, password_hash) SELECT id, 'h2' FROM users_2 LIMIT 1");
            exec(c, "INSERT INTO message_sent_3 (src_id, dst_id, content) SELECT min(id), max(id), 'hi' FROM users_2");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"user_registered_0", "user_registered_1", "password_changed_2", "message_sent_3"})
    void updateDeleteAndTruncateFailForTheOwner(String writeTable) throws Exception {
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT pg_get_userbyid(relowner) = current_user FROM pg_class WHERE oid = ?::regclass", writeTable))
                    .as("the test runs as the table's owner").isEqualTo(true);
            long before = count(c, writeTable);

            var update = assertFailsWith(KitError.APPEND_ONLY, () -> exec(c, "UPDATE " + writeTable + " SET id = id"));
            assertThat(update.getMessage()).contains("Facts are append-only: UPDATE", writeTable);
            assertFailsWith(KitError.APPEND_ONLY, () -> exec(c, "DELETE FROM " + writeTable));
            assertFailsWith(KitError.APPEND_ONLY, () -> exec(c, "TRUNCATE " + writeTable));
            assertFailsWith(KitError.APPEND_ONLY, () -> exec(c, "DELETE FROM " + writeTable + " WHERE false"));

            assertThat(count(c, writeTable)).isEqualTo(before).isPositive();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"user_registered_0", "password_changed_2"})
    void theGuardHoldsInReplicaMode(String writeTable) throws Exception {
        try (Connection c = db.connect()) {
            exec(c, "SET session_replication_role = replica");
            assertFailsWith(KitError.APPEND_ONLY, () -> exec(c, "DELETE FROM " + writeTable));
        }
    }
}
