package kit.tests;

import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static kit.client.Jdbc.exec;
import static kit.tests.Sql.value;
import static kit.tests.Sql.verify;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's "Adding a version" example runs as written, with facts, on a database of its own
 * migrated to the last step before the version it adds (V5: every step of version 4 and before),
 * so that the example stays true when the project ships a real version of that number.
 */
class AddingAVersionTest {

    @Test
    void theReadmesExampleVersionAddsABackfilledLiveVersion() throws Exception {
        String readme = Files.readString(Path.of("../README.md"));
        Matcher block = Pattern.compile("```sql\\n(-- V(\\d+)__.*?)```", Pattern.DOTALL)
                .matcher(readme.substring(readme.indexOf("\n## Adding a version\n")));
        assertThat(block.find()).as("README has the example of adding a version").isTrue();
        int version = Integer.parseInt(block.group(2));
        String users = "users_" + version;

        TestDatabase db = TestDatabases.migratedTo(lastStepBefore(version));
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT count(*) FROM kit.schema_version WHERE version >= ?", version))
                    .as("the example's version %d is not there yet", version).isEqualTo(0L);
            long id = (Long) value(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('Four@Example.com', 'h', NULL) RETURNING id");
            exec(c, "INSERT INTO password_changed_2 (user_id, password_hash) VALUES (?, 'h2')", id);
            exec(c, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (?, ?, 'before')", id, id);

            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute(block.group(1));
            }
            c.commit();
            c.setAutoCommit(true);
            assertThat(value(c, "SELECT state FROM kit.schema_versions WHERE version = ?", version)).isEqualTo("building");
            exec(c, "CALL kit.backfill()");

            assertThat(value(c, "SELECT password_hash FROM " + users + " WHERE id = ?", id)).as("backfilled with the change").isEqualTo("h2");
            exec(c, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (?, ?, 'after')", id, id);
            assertThat(value(c, "SELECT email || ' ' || username || ' ' || message_count FROM " + users + " WHERE id = ?", id))
                    .as("what version 4 computes, kept").isEqualTo("four@example.com Four 2");
            exec(c, "INSERT INTO display_name_set_" + version + " (user_id, display_name) VALUES (?, 'Four')", id);
            assertThat(value(c, "SELECT display_name FROM " + users + " WHERE id = ?", id)).isEqualTo("Four");
            assertThat(value(c, "SELECT state FROM kit.schema_versions WHERE version = ?", version)).isEqualTo("live");
            assertThat(verify(c, users)).isEmpty();
        }
    }

    /** The newest shipped step of a version below {@code version} ("4" for 5, and "4.1" once there is one). */
    static String lastStepBefore(int version) {
        List<String> steps = TestDatabases.empty().migrations().steps();
        return steps.stream().filter(s -> Integer.parseInt(s.split("\\.")[0]) < version).reduce((a, b) -> b)
                .orElseThrow(() -> new AssertionError("No shipped step before version " + version + " in " + steps));
    }
}
