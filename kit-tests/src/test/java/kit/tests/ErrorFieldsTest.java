package kit.tests;

import kit.client.KitError;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

import java.sql.Connection;
import java.sql.SQLException;

import static kit.client.Jdbc.exec;
import static kit.tests.Sql.assertFailsWith;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The kit's errors carry PostgreSQL's error fields (schema, table, column,
 * constraint, detail), so that clients act on them and never on the message's
 * words.
 */
class ErrorFieldsTest {

    static ServerErrorMessage fields(SQLException failure) {
        if (!(failure instanceof PSQLException p)) {
            throw new AssertionError("not a PostgreSQL error: " + failure);
        }
        return p.getServerErrorMessage();
    }

    @Test
    void everyErrorAboutAFactNamesItsTableAndColumn() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "INSERT INTO user_registered_1 (id, email, password_hash) VALUES (7, 'taken@example.com', 'h')");

            var email = fields(assertFailsWith(KitError.DUPLICATE_VALUE,
                    () -> exec(c, "INSERT INTO user_registered_1 (email, password_hash) VALUES ('taken@example.com', 'h')")));
            assertThat(email.getSchema()).isEqualTo("public");
            assertThat(email.getTable()).isEqualTo("users_2");
            assertThat(email.getColumn()).isEqualTo("email");
            assertThat(email.getConstraint()).isEqualTo("users_2_email_key");
            assertThat(email.getDetail()).contains("Fact: user_registered_1 seq", "Taken by fact seq:");

            var id = fields(assertFailsWith(KitError.DUPLICATE_ID,
                    () -> exec(c, "INSERT INTO user_registered_0 (id, email, password_hash) VALUES (7, 'other@example.com', 'h')")));
            assertThat(id.getTable()).isEqualTo("user_registered_0");
            assertThat(id.getColumn()).isEqualTo("id");

            var unknown = fields(assertFailsWith(KitError.UNKNOWN_ENTITY,
                    () -> exec(c, "INSERT INTO password_changed_2 (user_id, password_hash) VALUES (424242, 'h')")));
            assertThat(unknown.getTable()).isEqualTo("password_changed_2");
            assertThat(unknown.getColumn()).isEqualTo("user_id");

            var appendOnly = fields(assertFailsWith(KitError.APPEND_ONLY, () -> exec(c, "DELETE FROM user_registered_1")));
            assertThat(appendOnly.getTable()).isEqualTo("user_registered_1");
        }
    }
}
