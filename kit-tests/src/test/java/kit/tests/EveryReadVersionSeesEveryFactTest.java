package kit.tests;

import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.sql.Connection;

import static kit.client.Jdbc.exec;
import static kit.client.Jdbc.rows;
import static kit.tests.Sql.value;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * During a rolling upgrade old servers must see new servers' writes: every live
 * read version gets every fact it can represent, and a password change reaches
 * every read version that stores a password.
 */
class EveryReadVersionSeesEveryFactTest {

    @Test
    void aUserRegisteredThroughVersion1AppearsInUsers0WithoutUsername() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (Connection c = db.connect()) {
            long id = (Long) value(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('v1@example.com', 'h1', 'vee') RETURNING id");
            assertThat(rows(c, "SELECT email, password_hash FROM users_0 WHERE id = ?", id))
                    .singleElement().satisfies(r -> assertThat(r).containsEntry("email", "v1@example.com").containsEntry("password_hash", "h1"));
            assertThat(value(c, "SELECT username FROM users_1 WHERE id = ?", id)).isEqualTo("vee");
            assertThat(value(c, "SELECT username FROM users_2 WHERE id = ?", id)).isEqualTo("vee");
        }
    }

    @Test
    void aUserRegisteredThroughVersion0AppearsInNewerVersionsWithoutUsername() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (Connection c = db.connect()) {
            long id = (Long) value(c, "INSERT INTO user_registered_0 (email, password_hash) VALUES ('v0@example.com', 'h0') RETURNING id");
            for (String users : new String[] {"users_1", "users_2"}) {
                assertThat(rows(c, "SELECT email, username FROM " + users + " WHERE id = ?", id)).as(users)
                        .singleElement().satisfies(r -> assertThat(r).containsEntry("email", "v0@example.com").containsEntry("username", null));
            }
        }
    }

    @Test
    void aPasswordChangeReachesEveryReadVersionThatStoresAPassword() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (Connection c = db.connect()) {
            long v0 = (Long) value(c, "INSERT INTO user_registered_0 (email, password_hash) VALUES ('a@example.com', 'old-a') RETURNING id");
            long v1 = (Long) value(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('b@example.com', 'old-b', 'b') RETURNING id");
            exec(c, "INSERT INTO password_changed_2 (user_id, password_hash) VALUES (?, 'new-a'), (?, 'new-b')", v0, v1);
            for (String users : new String[] {"users_0", "users_1", "users_2"}) {
                assertThat(value(c, "SELECT password_hash FROM " + users + " WHERE id = ?", v0)).as(users).isEqualTo("new-a");
                assertThat(value(c, "SELECT password_hash FROM " + users + " WHERE id = ?", v1)).as(users).isEqualTo("new-b");
                assertThat(value(c, "SELECT count(*) FROM " + users + " WHERE password_hash LIKE 'old-%'")).as(users).isEqualTo(0L);
            }
        }
    }

    @Test
    void afterTheTidyUpOldFactsStillReachTheLiveVersion() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            long id = (Long) value(c, "INSERT INTO user_registered_0 (email, password_hash) VALUES ('late@example.com', 'h') RETURNING id");
            assertThat(value(c, "SELECT email FROM users_2 WHERE id = ?", id)).isEqualTo("late@example.com");
        }
    }
}
