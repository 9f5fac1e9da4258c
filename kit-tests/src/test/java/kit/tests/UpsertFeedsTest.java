package kit.tests;

import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.sql.Connection;

import static kit.client.Jdbc.exec;
import static kit.tests.Sql.value;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Upsert feeds: the first fact about a key makes the read row, later ones set its columns; several
 * facts about one key in one statement end as the newest of them, with the first as the row's
 * first_fact_seq; live and replay agree (verify, rebuild, one fact per batch).
 */
class UpsertFeedsTest {

    @Test
    void theFirstFactAboutAKeyMakesTheRowAndLaterOnesSetIt() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "CREATE TABLE profile_set_9 (id bigint, user_id bigint NOT NULL, display_name text NOT NULL, bio text)");
            exec(c, "SELECT kit.create_write_table('profile_set_9', 'profile_change9')");
            exec(c, "CREATE TABLE profiles_9 (id bigint PRIMARY KEY, display_name text NOT NULL, bio text, shout text)");
            exec(c, "SELECT kit.create_read_version('profiles_9', 'profile')");
            exec(c, "SELECT kit.add_feed('profile_set_9', 'profiles_9', key_column => 'user_id', kind => 'upsert',"
                    + " columns => '{\"shout\": \"upper(f.display_name)\"}')");
            exec(c, "INSERT INTO profile_set_9 (user_id, display_name) VALUES (1, 'Ann')");
            exec(c, "SELECT kit.create_schema_version(9, ARRAY['profiles_9'])");
            exec(c, "CALL kit.backfill()");
            exec(c, "INSERT INTO profile_set_9 (user_id, display_name, bio) VALUES (1, 'Annie', 'hi')");
            exec(c, "INSERT INTO profile_set_9 (user_id, display_name) VALUES (2, 'Bo'), (2, 'Bob'), (3, 'Cy')");
            String rows = "SELECT string_agg(id || ' ' || display_name || ' ' || coalesce(bio, '-') || ' ' || shout, ', ' ORDER BY id) FROM profiles_9";
            assertThat(value(c, rows)).isEqualTo("1 Annie hi ANNIE, 2 Bob - BOB, 3 Cy - CY");
            assertThat(value(c, "SELECT first_fact_seq < last_fact_seq FROM profiles_9 WHERE id = 2"))
                    .as("the row was made by the first of the statement's facts about it").isEqualTo(true);
            assertThat(Sql.verify(c, "profiles_9")).isEmpty();
            exec(c, "CALL kit.rebuild('profiles_9')");
            assertThat(value(c, rows)).isEqualTo("1 Annie hi ANNIE, 2 Bob - BOB, 3 Cy - CY");
            Sql.rebuildOneFactPerBatch(c, "profiles_9");
            assertThat(value(c, rows)).as("one fact per batch").isEqualTo("1 Annie hi ANNIE, 2 Bob - BOB, 3 Cy - CY");
            assertThat(DriftTest.drift(c)).isEmpty();
        }
    }

    private static TestDatabase profiles() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "CREATE TABLE profile_set_9 (id bigint, user_id bigint NOT NULL, display_name text NOT NULL)");
            exec(c, "SELECT kit.create_write_table('profile_set_9', 'profile_change9')");
            exec(c, "CREATE TABLE profiles_9 (id bigint PRIMARY KEY, display_name text NOT NULL UNIQUE)");
            exec(c, "SELECT kit.create_read_version('profiles_9', 'profile')");
            exec(c, "SELECT kit.add_feed('profile_set_9', 'profiles_9', key_column => 'user_id', kind => 'upsert')");
            exec(c, "CALL kit.backfill()");
            exec(c, "INSERT INTO profile_set_9 (user_id, display_name) VALUES (1, 'Ann'), (2, 'Bo')");
        }
        return db;
    }

    /** A unique rule of another column refuses with PostgreSQL's own unique_violation, naming table and constraint; nothing remains. */
    @Test
    void aFactThatBreaksAUniqueRuleIsRefusedWithItsConstraintNamedAndLeavesNothing() throws Exception {
        TestDatabase db = profiles();
        try (Connection c = db.connect()) {
            var refused = Sql.assertFailsWith("23505", () -> exec(c, "INSERT INTO profile_set_9 (user_id, display_name) VALUES (3, 'Cy'), (1, 'Bo')"));
            var fields = ((org.postgresql.util.PSQLException) refused).getServerErrorMessage();
            assertThat(fields.getTable()).isEqualTo("profiles_9");
            assertThat(fields.getConstraint()).isEqualTo("profiles_9_display_name_key");
            assertThat(value(c, "SELECT count(*) FROM profile_set_9")).isEqualTo(2L);
            assertThat(value(c, "SELECT string_agg(id || ' ' || display_name, ', ' ORDER BY id) FROM profiles_9")).isEqualTo("1 Ann, 2 Bo");
        }
    }

    /**
     * Two writers make one key's row: the fact with the later seq commits first and makes it. In seq
     * order the earlier fact made it, so the row's first fact would differ: the earlier one is
     * refused (serialization_failure), and written again it sets the row.
     */
    @Test
    void anEarlierFactWhoseRowALaterFactMadeFirstIsRefusedToBeWrittenAgain() throws Exception {
        TestDatabase db = profiles();
        Throwable refused = Races.earlyCommitsLast(db, """
                INSERT INTO profile_set_9 (user_id, display_name)
                SELECT g + 6, 'early-' || g FROM generate_series(1, 2) AS g WHERE g = 1 OR {gate}
                """, "INSERT INTO profile_set_9 (user_id, display_name) VALUES (7, 'late')");
        assertThat(refused).isInstanceOf(java.sql.SQLException.class);
        assertThat(((java.sql.SQLException) refused).getSQLState()).as(refused.getMessage()).isEqualTo("40001");
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT display_name FROM profiles_9 WHERE id = 7")).isEqualTo("late");
            assertThat(Sql.verify(c, "profiles_9")).isEmpty();
            exec(c, "INSERT INTO profile_set_9 (user_id, display_name) VALUES (7, 'early-1')");
            assertThat(value(c, "SELECT display_name FROM profiles_9 WHERE id = 7")).isEqualTo("early-1");
            assertThat(Sql.verify(c, "profiles_9")).isEmpty();
        }
    }
}
