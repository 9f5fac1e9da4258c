package kit.tests;

import kit.client.KitError;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import kit.types.State;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static kit.client.Jdbc.exec;
import static kit.client.Jdbc.rows;
import static kit.tests.Sql.assertFailsWith;
import static kit.tests.Sql.value;
import static org.assertj.core.api.Assertions.assertThat;

/** The catalog matches the database, every generated name follows the one rule, and every error code is listed. */
class KitCatalogTest {

    @ParameterizedTest(name = "at schema target {0}")
    @CsvSource({"2, 9", "3, 4"})
    void everyFeedIsNamedByTheRuleAndExistsInTheDatabase(String target, int feedCount) throws Exception {
        TestDatabase db = TestDatabases.migratedTo(target);
        try (Connection c = db.connect()) {
            var feeds = rows(c, """
                    SELECT f.write_table, f.read_table, f.projection, f.trigger_name,
                           kit.object_name('projection', f.write_table, f.read_table) AS expected_projection,
                           kit.object_name('feed', f.write_table) AS expected_trigger,
                           EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = f.write_table::regclass AND t.tgname = f.trigger_name) AS has_trigger,
                           to_regprocedure(format('public.%I(bigint, bigint)', f.projection)) IS NOT NULL AS has_projection
                      FROM kit.feed f""");
            assertThat(feeds).hasSize(feedCount);
            for (var feed : feeds) {
                assertThat(feed.get("projection")).isEqualTo(feed.get("expected_projection"));
                assertThat(feed.get("trigger_name")).isEqualTo(feed.get("expected_trigger"));
                assertThat(feed).containsEntry("has_trigger", true).containsEntry("has_projection", true);
            }
            assertThat(value(c, """
                    SELECT count(*) FROM pg_trigger t WHERE t.tgname LIKE 'feed\\_%'
                       AND NOT EXISTS (SELECT FROM kit.feed f WHERE f.trigger_name = t.tgname)""")).as("feed triggers the catalog does not know").isEqualTo(0L);
            assertThat(value(c, """
                    SELECT count(*) FROM kit.write_table w
                     WHERE (SELECT count(*) FROM pg_trigger t WHERE t.tgrelid = w.write_table::regclass
                              AND t.tgname IN (kit.object_name('append_only', w.write_table), kit.object_name('assign_id', w.write_table))) <> 2
                    """)).as("write tables without their guard and id assigner").isEqualTo(0L);
        }
    }

    @Test
    void theJavaClientKnowsEveryStateTheCatalogAllows() throws Exception {
        try (Connection c = TestDatabases.migrated().connect()) {
            String check = (String) value(c, """
                    SELECT pg_get_constraintdef(oid) FROM pg_constraint
                     WHERE conrelid = 'kit.read_version'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%state%'""");
            Set<String> allowed = new TreeSet<>();
            Matcher label = Pattern.compile("'([a-z]+)'").matcher(check);
            while (label.find()) {
                allowed.add(label.group(1));
            }
            assertThat(allowed).as(check).containsExactlyInAnyOrderElementsOf(
                    Stream.of(State.values()).map(State::label).toList());
            for (var row : rows(c, "SELECT DISTINCT state FROM kit.schema_versions")) {
                assertThat(State.of((String) row.get("state"))).isNotNull();
            }
        }
    }

    @Test
    void everyFeedTriggerAppliesItsFeedsInReadTableOrderSoRacingWritersNeverDeadlock() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (Connection c = db.connect()) {
            var rows = rows(c, """
                    SELECT f.write_table, f.read_table, strpos(pg_get_functiondef(to_regproc('public.' || f.trigger_name)), f.projection) AS at
                      FROM kit.feed f ORDER BY f.write_table, f.read_table""");
            assertThat(rows).hasSize(9);
            for (int i = 1; i < rows.size(); i++) {
                if (rows.get(i).get("write_table").equals(rows.get(i - 1).get("write_table"))) {
                    assertThat((Integer) rows.get(i).get("at")).as("%s after %s", rows.get(i), rows.get(i - 1))
                            .isGreaterThan((Integer) rows.get(i - 1).get("at"));
                }
            }
        }
    }

    @Test
    void everyFeedTriggerAppliesItsFeedsInlineWithNoArrayOfFactsAndNoCallPerFeed() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            assertFeedTriggersAreInline(c);
        }
    }

    /**
     * Every write table's feed trigger applies its live feeds with their SQL over new_rows: no
     * projection function called, no array of facts built (what the write path paid for before 0.3.0).
     */
    static void assertFeedTriggersAreInline(Connection c) throws Exception {
        var triggers = rows(c, """
                SELECT DISTINCT f.trigger_name, pg_get_functiondef(to_regproc('public.' || f.trigger_name)) AS definition
                  FROM kit.feed f JOIN kit.read_version v USING (read_table) WHERE v.state = 'live'""");
        assertThat(triggers).isNotEmpty();
        for (var trigger : triggers) {
            assertThat((String) trigger.get("definition")).as("%s", trigger.get("trigger_name"))
                    .contains("FROM new_rows AS f")
                    .doesNotContain("PERFORM public.project_", "ARRAY(", "unnest(");
        }
    }

    @Test
    void kitFunctionsRefuseBadCallsWithAClearError() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            assertThat(assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.add_feed('no_such_table', 'users_2')")).getMessage())
                    .contains("Not a write table: no_such_table");
            assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.add_feed('user_registered_0', 'users_0')"));
            assertThat(assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.create_read_version('users_2', 'user')")).getMessage())
                    .contains("already exists");
            assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.abort_read_version('users_2')"));
            assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.create_write_table('nothing_here_4', 'user')"));
            assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.object_name('projection', repeat('x', 40), repeat('y', 40))"));
        }
    }

    @Test
    void aLiveReadVersionCannotBeFedOldFacts() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "INSERT INTO user_registered_1 (email, password_hash) VALUES ('x@example.com', 'h')");
            exec(c, "INSERT INTO user_registered_0 (email, password_hash) VALUES ('y@example.com', 'h')");
            exec(c, "CREATE TABLE people_9 (id bigint PRIMARY KEY, email text)");
            exec(c, "SELECT kit.create_read_version('people_9', 'person')");
            exec(c, "SELECT kit.add_feed('user_registered_1', 'people_9')");
            exec(c, "CALL kit.backfill('people_9')");
            assertThat(value(c, "SELECT count(*) FROM people_9")).isEqualTo(1L);
            var failure = assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.add_feed('user_registered_0', 'people_9')"));
            assertThat(failure.getMessage()).contains("only be fed by a new, empty write table");
        }
    }

    @Test
    void everyErrorCodeTheSqlRaisesIsListedInKitErrorAndTheReference() throws Exception {
        Set<String> raised = new TreeSet<>();
        Pattern code = Pattern.compile("'(KT\\d{3})'");
        try (Stream<Path> files = Stream.concat(Files.list(Path.of("../kit/src/main/resources/db/kit")),
                Files.list(Path.of("../db/src/main/resources/db/migration")))) {
            for (Path file : files.toList()) {
                Matcher m = code.matcher(Files.readString(file));
                while (m.find()) {
                    raised.add(m.group(1));
                }
            }
        }
        assertThat(raised).isNotEmpty();
        String reference = Files.readString(Path.of("../docs/reference.md"));
        for (String sqlState : raised) {
            assertThat(KitError.of(sqlState)).as("KitError for %s", sqlState).isPresent();
            assertThat(reference).as("docs/reference.md lists %s", sqlState).contains("`" + sqlState + "`");
        }
        for (KitError error : KitError.values()) {
            assertThat(raised).as("%s is raised somewhere", error).contains(error.sqlState());
        }
    }
}
