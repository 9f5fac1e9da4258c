package kit.tests;

import kit.client.KitError;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.sql.Connection;

import static kit.client.Jdbc.exec;
import static kit.tests.Sql.assertFailsWith;
import static kit.tests.Sql.value;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The example's version 4 (V4__add_users_4.sql), on history written before it and facts after:
 * users_4 keeps the email lower-cased, a username for every user (derived from the email for
 * those who registered without one) and the number of messages each user sent; a deletion
 * removes the user from every live read version of users, after which a message from or to them
 * is refused and their email is free again. Backfilled, live and rebuilt alike.
 */
class ExampleVersion4Test {

    private static final String USERS_4 = "SELECT string_agg(id || ' ' || email || ' ' || username || ' ' || message_count, ', ' ORDER BY id) FROM users_4";

    @Test
    void version4ComputesCountsAndDeletesAcrossVersions() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("3");
        try (Connection c = db.connect()) {
            exec(c, "INSERT INTO user_registered_0 (id, email, password_hash) VALUES (1, 'Ann.Lee@Example.org', 'h')");
            exec(c, "INSERT INTO user_registered_1 (id, email, password_hash, username) VALUES (2, 'bo@example.org', 'h', 'bobo'), (3, 'cy@example.org', 'h', NULL)");
            exec(c, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (1, 2, 'a'), (1, 3, 'b'), (2, 1, 'c')");
        }
        db.migrations().migrateAll();
        try (Connection c = db.connect()) {
            assertThat(value(c, USERS_4)).as("backfilled")
                    .isEqualTo("1 ann.lee@example.org Ann.Lee 2, 2 bo@example.org bobo 1, 3 cy@example.org cy 0");
            exec(c, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (3, 1, 'd'), (3, 2, 'e'), (1, 3, 'f')");
            exec(c, "INSERT INTO user_deleted_4 (user_id) VALUES (2)");
            assertThat(value(c, USERS_4)).isEqualTo("1 ann.lee@example.org Ann.Lee 3, 3 cy@example.org cy 2");
            assertThat(value(c, "SELECT count(*) FROM users_2 WHERE id = 2")).as("gone from every live version of users").isEqualTo(0L);
            assertThat(value(c, "SELECT count(*) FROM message_sent_3 WHERE src_id = 3")).isEqualTo(2L);

            assertFailsWith(KitError.UNKNOWN_ENTITY, () -> exec(c, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (1, 2, 'to a deleted user')"));
            assertFailsWith(KitError.UNKNOWN_ENTITY, () -> exec(c, "INSERT INTO user_deleted_4 (user_id) VALUES (2)"));
            assertFailsWith(KitError.UNKNOWN_ENTITY, () -> exec(c, "INSERT INTO password_changed_2 (user_id, password_hash) VALUES (2, 'x')"));
            exec(c, "INSERT INTO user_registered_1 (id, email, password_hash, username) VALUES (4, 'bo@example.org', 'h', 'bo2')");
            assertThat(value(c, "SELECT username FROM users_4 WHERE email = 'bo@example.org'")).as("the email is free again").isEqualTo("bo2");

            for (String table : Sql.liveReadTables(c)) {
                assertThat(Sql.verify(c, table)).as("%s against a replay", table).isEmpty();
            }
            String live = (String) value(c, USERS_4);
            exec(c, "CALL kit.rebuild('users_4')");
            assertThat(value(c, USERS_4)).isEqualTo(live);
            Sql.rebuildOneFactPerBatch(c, "users_2");
            assertThat(value(c, "SELECT string_agg(id::text, ',' ORDER BY id) FROM users_2")).isEqualTo("1,3,4");
            assertThat(DriftTest.drift(c)).isEmpty();
        }
    }
}
