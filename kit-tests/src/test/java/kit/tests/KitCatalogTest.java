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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
                    SELECT f.write_table, f.read_table, f.projection,
                           kit.object_name('projection', f.write_table, f.read_table) AS expected_projection,
                           EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = f.write_table::regclass
                                      AND t.tgname = kit.object_name('feed', f.write_table)) AS has_trigger,
                           to_regprocedure(format('public.%I(bigint, bigint)', f.projection)) IS NOT NULL AS has_projection
                      FROM kit.feed f""");
            assertThat(feeds).hasSize(feedCount);
            for (var feed : feeds) {
                assertThat(feed.get("projection")).isEqualTo(feed.get("expected_projection"));
                assertThat(feed).containsEntry("has_trigger", true).containsEntry("has_projection", true);
            }
            assertThat(value(c, """
                    SELECT count(*) FROM pg_trigger t WHERE t.tgname LIKE 'feed\\_%'
                       AND NOT EXISTS (SELECT FROM kit.feed f WHERE kit.object_name('feed', f.write_table) = t.tgname)""")).as("feed triggers the catalog does not know").isEqualTo(0L);
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

    /**
     * Two writers racing one email through user_registered_0 and user_registered_1 wait on the read
     * tables' unique indexes in one order, and never deadlock: every feed trigger applies its feeds in
     * read-table name order, the same for every write table. Seen by statement triggers on the read
     * tables that log the order in which each fact reaches them.
     */
    @Test
    void everyFeedTriggerAppliesItsFeedsInReadTableOrderSoRacingWritersNeverDeadlock() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (Connection c = db.connect()) {
            exec(c, """
                    CREATE TABLE public.feed_order (n bigserial PRIMARY KEY, read_table text NOT NULL);
                    CREATE FUNCTION public.log_feed_order() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        INSERT INTO public.feed_order (read_table) VALUES (TG_TABLE_NAME);
                        RETURN NULL;
                    END
                    $$;
                    DO $$
                    DECLARE
                        _read text;
                    BEGIN
                        FOR _read IN SELECT v.read_table FROM kit.read_version v WHERE v.state = 'live' LOOP
                            EXECUTE format('CREATE TRIGGER log_feed_order BEFORE INSERT OR UPDATE ON public.%I
                                            FOR EACH STATEMENT EXECUTE FUNCTION public.log_feed_order()', _read);
                        END LOOP;
                    END
                    $$""");
            long user = (Long) value(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('order@example.com', 'h', 'order') RETURNING id");
            Map<String, String> facts = new LinkedHashMap<>();
            facts.put("user_registered_0", "INSERT INTO user_registered_0 (email, password_hash) VALUES ('order0@example.com', 'h')");
            facts.put("user_registered_1", "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('order1@example.com', 'h', 'order1')");
            facts.put("password_changed_2", "INSERT INTO password_changed_2 (user_id, password_hash) VALUES (" + user + ", 'h2')");
            for (var fact : facts.entrySet()) {
                exec(c, "TRUNCATE public.feed_order");
                exec(c, fact.getValue());
                List<Object> applied = rows(c, "SELECT read_table FROM public.feed_order ORDER BY n").stream().map(r -> r.get("read_table")).toList();
                List<Object> fed = rows(c, """
                        SELECT f.read_table FROM kit.feed f JOIN kit.read_version v USING (read_table)
                         WHERE f.write_table = ? AND v.state = 'live' ORDER BY f.read_table""", fact.getKey())
                        .stream().map(r -> r.get("read_table")).toList();
                assertThat(fed).as("live read versions fed by %s", fact.getKey()).hasSize(3);
                assertThat(applied).as("the order in which a fact of %s reached the read tables", fact.getKey()).isEqualTo(fed);
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
     * Every write table's feed trigger is what this kit generates (its text, read in
     * docs/generated/, applies its live feeds with their SQL over new_rows: what the write path paid
     * for before 0.3.0, an array of facts and a projection call per feed, is gone), and it calls no
     * projection function: with them all dropped, a fact still reaches every read table it feeds.
     */
    static void assertFeedTriggersAreInline(Connection c) throws Exception {
        assertThat(rows(c, """
                SELECT g.function_name FROM kit.write_table w CROSS JOIN LATERAL kit.feed_trigger_sql(w.write_table) g
                 WHERE g.body IS NOT NULL
                   AND g.body IS DISTINCT FROM (SELECT p.prosrc FROM pg_proc p WHERE p.oid = to_regprocedure(g.function_name))"""))
                .as("feed triggers that differ from what the kit generates").isEmpty();
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            exec(c, """
                    DO $$
                    DECLARE
                        _projection regprocedure;
                    BEGIN
                        FOR _projection IN SELECT p.oid FROM pg_proc p
                                            WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'project\\_%' LOOP
                            EXECUTE format('DROP FUNCTION %s', _projection);
                        END LOOP;
                    END
                    $$""");
            long id = (Long) value(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('inline@example.com', 'h', 'inline') RETURNING id");
            var fed = rows(c, """
                    SELECT f.read_table FROM kit.feed f JOIN kit.read_version v USING (read_table)
                     WHERE f.write_table = 'user_registered_1' AND f.kind = 'insert' AND v.state = 'live'""");
            assertThat(fed).isNotEmpty();
            for (var read : fed) {
                assertThat(value(c, "SELECT count(*) FROM " + read.get("read_table") + " WHERE id = ?", id))
                        .as("the fact in %s, with no projection function left", read.get("read_table")).isEqualTo(1L);
            }
        } finally {
            c.rollback();
            c.setAutoCommit(autoCommit);
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
