package kit.tests;

import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.sql.Connection;

import static kit.client.Jdbc.exec;
import static kit.client.Jdbc.rows;
import static org.assertj.core.api.Assertions.assertThat;

/** The three statements of the design's write-up run verbatim at their versions, with the effect described. */
class ExampleStatementsTest {

    static final String FOO_HASH = "959c9f50aef1bc129a0e16564319a1b36515d570513079b6c73c72a5709abdce";
    static final String BAR_HASH = "57846ba7f6f13c0454ebec6c9b31c7f52fe72afb606a8ba336170168ca0c408f";
    static final String BAR_NEW_HASH = "8aa64c9ca202961c0f6bcd34c45f95c9e0cf5555cbcacfd7f87163dad7b60d2f";

    @Test
    void exampleStatementsRunVerbatimAtTheirVersions() throws Exception {
        TestDatabase db = TestDatabases.empty();
        db.migrations().migrateTo("0");
        try (Connection c = db.connect()) {
            exec(c, "INSERT INTO user_registered_0 VALUES (0, 'foo@example.com', '" + FOO_HASH + "')");
            assertThat(rows(c, "SELECT id, email, password_hash FROM users_0"))
                    .containsExactly(user(0, "foo@example.com", FOO_HASH));
        }
        db.migrations().migrateTo("1");
        try (Connection c = db.connect()) {
            exec(c, "INSERT INTO user_registered_1 VALUES (1, 'bar@example.com', '" + BAR_HASH + "')");
            assertThat(rows(c, "SELECT id, email, password_hash FROM users_0 ORDER BY id"))
                    .containsExactly(user(0, "foo@example.com", FOO_HASH), user(1, "bar@example.com", BAR_HASH));
            assertThat(rows(c, "SELECT id, email, password_hash FROM users_1 ORDER BY id"))
                    .containsExactly(user(0, "foo@example.com", FOO_HASH), user(1, "bar@example.com", BAR_HASH));
        }
        db.migrations().migrateTo("2");
        try (Connection c = db.connect()) {
            exec(c, "INSERT INTO password_changed_2 VALUES (0, 1, '" + BAR_NEW_HASH + "')");
            for (String users : new String[] {"users_0", "users_1", "users_2"}) {
                assertThat(rows(c, "SELECT id, email, password_hash FROM " + users + " ORDER BY id"))
                        .as(users)
                        .containsExactly(user(0, "foo@example.com", FOO_HASH), user(1, "bar@example.com", BAR_NEW_HASH));
            }
        }
    }

    static java.util.Map<String, Object> user(long id, String email, String hash) {
        var row = new java.util.LinkedHashMap<String, Object>();
        row.put("id", id);
        row.put("email", email);
        row.put("password_hash", hash);
        return row;
    }
}
