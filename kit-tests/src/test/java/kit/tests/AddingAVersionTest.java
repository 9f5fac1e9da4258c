package kit.tests;

import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static kit.client.Jdbc.exec;
import static kit.tests.Sql.value;
import static kit.tests.Sql.verify;
import static org.assertj.core.api.Assertions.assertThat;

/** The README's "Adding a version" example runs as written on a fully migrated database with facts. */
class AddingAVersionTest {

    @Test
    void theReadmeVersion4ExampleAddsABackfilledLiveVersion() throws Exception {
        Matcher block = Pattern.compile("```sql\\n(-- V4__.*?)```", Pattern.DOTALL).matcher(Files.readString(Path.of("../README.md")));
        assertThat(block.find()).as("README has the V4 example").isTrue();

        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            long id = (Long) value(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('four@example.com', 'h', 'four') RETURNING id");
            exec(c, "INSERT INTO password_changed_2 (user_id, password_hash) VALUES (?, 'h2')", id);

            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute(block.group(1));
            }
            c.commit();
            c.setAutoCommit(true);
            assertThat(value(c, "SELECT state FROM kit.schema_versions WHERE version = 4")).isEqualTo("building");
            exec(c, "CALL kit.backfill()");

            assertThat(value(c, "SELECT password_hash FROM users_4 WHERE id = ?", id)).as("backfilled with the change").isEqualTo("h2");
            exec(c, "INSERT INTO display_name_set_4 (user_id, display_name) VALUES (?, 'Four')", id);
            assertThat(value(c, "SELECT display_name FROM users_4 WHERE id = ?", id)).isEqualTo("Four");
            assertThat(value(c, "SELECT state FROM kit.schema_versions WHERE version = 4")).isEqualTo("live");
            assertThat(verify(c, "users_4")).isEmpty();
        }
    }
}
