package kit.tests;

import kit.client.KitError;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.util.List;

import static kit.client.Jdbc.exec;
import static kit.client.Jdbc.strings;
import static kit.tests.Sql.assertFailsWith;
import static kit.tests.Sql.value;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Feeds that compute read columns from the fact (columns => {column: expression over f}) and take
 * only the facts a filter selects. The same template runs live and in replay: the rows written
 * live equal a rebuild's, a multi-row insert whose facts the filter partly drops names no fact as
 * rejected, and every expression and filter is checked when declared, alone, so that a refusal
 * (KT006) names it and nothing is made.
 */
class FeedExpressionsTest {

    private static final String LOWER_EMAIL = "\"email\": \"lower(f.email)\"";

    private static void usersAndAdmins(Connection c) throws Exception {
        exec(c, "CREATE TABLE users_9 (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, username text NOT NULL, password_hash text NOT NULL)");
        exec(c, "SELECT kit.create_read_version('users_9', 'user')");
        exec(c, "SELECT kit.add_feed('user_registered_0', 'users_9', columns => '{" + LOWER_EMAIL
                + ", \"username\": \"split_part(f.email, ''@'', 1)\"}')");
        exec(c, "SELECT kit.add_feed('user_registered_1', 'users_9', columns => '{" + LOWER_EMAIL
                + ", \"username\": \"coalesce(f.username, split_part(f.email, ''@'', 1))\"}')");
        exec(c, "SELECT kit.add_feed('password_changed_2', 'users_9', key_column => 'user_id',"
                + " columns => '{\"password_hash\": \"upper(f.password_hash)\"}')");
        exec(c, "CREATE TABLE admins_9 (id bigint PRIMARY KEY, email text NOT NULL UNIQUE)");
        exec(c, "SELECT kit.create_read_version('admins_9', 'user')");
        exec(c, "SELECT kit.add_feed('user_registered_1', 'admins_9', filter => 'f.email LIKE ''%@admin.example''')");
    }

    @Test
    void computedColumnsAndFiltersApplyLiveAsAReplayDoes() throws Exception {
        // Before version 4, whose users_4 keeps emails lower-cased too and would refuse ANN@X.ORG first.
        TestDatabase db = TestDatabases.migratedTo("3");
        try (Connection c = db.connect()) {
            exec(c, "INSERT INTO user_registered_0 (email, password_hash) VALUES ('Old@Example.org', 'h0')");
            exec(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('Mid@Admin.example', 'h1', NULL)");
            usersAndAdmins(c);
            exec(c, "CALL kit.backfill()");
            exec(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES"
                    + " ('Ann@x.org', 'h', NULL), ('bob@admin.example', 'h', 'bobby'), ('cy@admin.example', 'h', NULL)");
            long ann = (Long) value(c, "SELECT id FROM users_9 WHERE email = 'ann@x.org'");
            exec(c, "INSERT INTO password_changed_2 (user_id, password_hash) VALUES (?, 'new')", ann);

            assertThat(strings(c, "SELECT email || ' ' || username || ' ' || password_hash FROM users_9 ORDER BY id"))
                    .containsExactly("old@example.org Old h0", "mid@admin.example Mid h1", "ann@x.org Ann NEW",
                            "bob@admin.example bobby h", "cy@admin.example cy h");
            assertThat(strings(c, "SELECT email FROM admins_9 ORDER BY id"))
                    .as("the filter takes these facts only, live and in the backfill (Mid@Admin.example is not lower case)")
                    .containsExactly("bob@admin.example", "cy@admin.example");
            for (String table : List.of("users_9", "admins_9")) {
                assertThat(Sql.verify(c, table)).as("%s against a replay", table).isEmpty();
            }
            exec(c, "CALL kit.rebuild('users_9')");
            assertThat(value(c, "SELECT password_hash FROM users_9 WHERE id = ?", ann)).isEqualTo("NEW");
            assertThat(DriftTest.drift(c)).isEmpty();

            var duplicate = assertFailsWith(KitError.DUPLICATE_VALUE,
                    () -> exec(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('ANN@X.ORG', 'h', 'x')"));
            assertThat(duplicate.getMessage()).as("the computed value is the one a unique rule refuses, named with its column")
                    .contains("Duplicate user email: ann@x.org", "users_9");
            assertThat(((org.postgresql.util.PSQLException) duplicate).getServerErrorMessage().getColumn()).isEqualTo("email");
        }
    }

    /**
     * A writer's session settings change nothing a feed computes: the code that applies facts pins
     * them (UTC, ISO dates, intervals and a float's digits as PostgreSQL's defaults), live as in a replay, so a writer far away in another
     * TimeZone writes the rows verify's replay gives.
     */
    @Test
    void aWritersSessionSettingsChangeNothingAFeedComputes() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect(); Connection writer = db.connect()) {
            exec(c, "CREATE TABLE stamps_9 (id bigint PRIMARY KEY, at text NOT NULL, third text NOT NULL, span text NOT NULL)");
            exec(c, "SELECT kit.create_read_version('stamps_9', 'user')");
            exec(c, "SELECT kit.add_feed('user_registered_1', 'stamps_9',"
                    + " columns => '{\"at\": \"f.recorded_at::text\", \"third\": \"(1 / 3.0)::float8::text\","
                    + " \"span\": \"(interval ''1 day 2 hours'')::text\"}')");
            exec(c, "CALL kit.backfill()");
            exec(writer, "SET TimeZone = 'Pacific/Kiritimati'");
            exec(writer, "SET IntervalStyle = 'iso_8601'");
            exec(writer, "SET extra_float_digits = -3");
            exec(writer, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('far@x.org', 'h', 'far')");
            assertThat((String) value(c, "SELECT at FROM stamps_9")).as("in UTC, ISO").matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:.*\\+00");
            assertThat(value(c, "SELECT third || ' ' || span FROM stamps_9")).isEqualTo("0.3333333333333333 1 day 02:00:00");
            assertThat(Sql.verify(c, "stamps_9")).isEmpty();
        }
    }

    @Test
    void everyExpressionAndFilterIsCheckedWhenDeclaredAndARefusalMakesNothing() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "CREATE TABLE people_9 (id bigint PRIMARY KEY, email text NOT NULL, age bigint, full_name text GENERATED ALWAYS AS (email) STORED)");
            exec(c, "SELECT kit.create_read_version('people_9', 'user')");
            for (String[] call : new String[][]{
                    {"columns => '{\"email\": \"lower(f.emial)\"}'", "cannot compute column email from lower(f.emial): column f.emial does not exist"},
                    {"columns => '{\"age\": \"f.email\"}'", "cannot compute column age from f.email: column \"age\" is of type bigint but expression is of type text"},
                    {"columns => '{\"nickname\": \"f.email\"}'", "A feed computes only columns of its read table, each from an expression in a string: nickname"},
                    {"columns => '{\"id\": \"1\"}'", "A feed computes only columns of its read table, each from an expression in a string: id"},
                    {"columns => '{\"full_name\": \"f.email\"}'", "each from an expression in a string: full_name"},
                    {"columns => '{\"email\": 42}'", "each from an expression in a string: email"},
                    {"columns => '[\"email\"]'", "A feed's columns are a JSON object of column: expression"},
                    {"filter => 'f.email'", "cannot take its filter f.email: argument of WHERE must be type boolean"},
                    {"filter => 'f.nope = 1'", "cannot take its filter f.nope = 1: column f.nope does not exist"}}) {
                var refused = assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.add_feed('user_registered_1', 'people_9', " + call[0] + ")"));
                assertThat(refused.getMessage()).as(call[0]).contains(call[1]);
            }
            assertThat(value(c, "SELECT count(*) FROM kit.feed WHERE read_table = 'people_9'")).isEqualTo(0L);
            assertThat(value(c, "SELECT to_regprocedure('project_user_registered_1_into_people_9(bigint, bigint)') IS NULL")).isEqualTo(true);
            // An expression or filter is one expression: the kit puts it in parentheses in the code it
            // generates, and text that closes them, ends the statement or opens a comment or a quote
            // would write code of its own there.
            for (String[] call : new String[][]{
                    {"f.email = 'x'", "true) OR (true", "its parentheses do not balance"},
                    {"f.email), age = (1", "true", "its parentheses do not balance"},
                    {"f.email", "true; DELETE FROM users_1", "holds a ;"},
                    {"f.email", "true -- all", "holds a comment"},
                    {"f.email /* x */", "true", "holds a comment"},
                    {"'open", "true", "unterminated"},
                    {"$body$ x $body$", "true", "$body$"},
                    {"f.email || '$block$'", "true", "$block$"},
                    {" ", "true", "is empty"},
                    {"f.email", "", "is empty"},
                    // A name may go on with any letter outside ASCII, and then with $ or e: no quote starts there.
                    {"f.€$a$) WHERE false; CREATE TABLE public.smuggled (); SELECT (f.€$a$", "true", "holds a ;"},
                    {"f.email", "€e'\\' ); CREATE TABLE public.smuggled (); --'", "holds a comment"},
                    // Whether a backslash escapes in '...' is the writer's session's choice: E'...' says it.
                    {"replace(f.email, '\\', '/')", "true", "holds a backslash in a standard string"}}) {
                var refused = assertFailsWith(KitError.USAGE, () -> exec(c,
                        "SELECT kit.add_feed('user_registered_1', 'people_9', columns => jsonb_build_object('email', ?::text), filter => ?)", call[0], call[1]));
                assertThat(refused.getMessage()).as(call[0] + " where " + call[1]).contains(call[2]);
            }
            assertThat(value(c, "SELECT count(*) FROM kit.feed WHERE read_table = 'people_9'")).isEqualTo(0L);
            assertThat(value(c, "SELECT to_regclass('public.smuggled') IS NULL")).as("no check ran the second statement").isEqualTo(true);
            // What only looks like such text, inside a literal or a quoted name, is the expression's own.
            exec(c, "SELECT kit.add_feed('user_registered_1', 'people_9', columns => jsonb_build_object('email', ?::text), filter => ?)",
                    """
                    f."email" || E' \\' ;' || $x$ ) $x$""",
                    "f.email <> ');) -- /*' AND f.username IS DISTINCT FROM '$y$' AND f.email <> E'a'\n'\\n'");
            exec(c, "SELECT kit.drop_feeds('people_9')");
            // An expression may fill a NOT NULL column the fact does not have.
            exec(c, "SELECT kit.add_feed('user_registered_0', 'people_9', columns => '{\"age\": \"length(f.email)\"}')");
        }
    }
}
