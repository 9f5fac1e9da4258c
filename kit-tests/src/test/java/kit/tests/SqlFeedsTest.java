package kit.tests;

import kit.client.KitError;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static kit.client.Jdbc.exec;
import static kit.tests.Sql.assertFailsWith;
import static kit.tests.Sql.value;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The escape hatch: a feed that is the migration's own set-based statement over {{facts}} into
 * {{target}}. The kit applies the same statement live (each statement's facts) and in replay
 * (each batch), so verify and rebuild cover it; one that does not give the same rows both ways,
 * because it reads the clock, is what verify names. A statement that does not compile, or names
 * anything but its facts and its target, is refused when declared and nothing is made.
 */
class SqlFeedsTest {

    private static final String PER_SENDER = """
            INSERT INTO {{target}} AS r (id, messages, longest, last_fact_seq, first_fact_seq)
            SELECT f.src_id, count(*), max(length(f.content)), max(f.seq), min(f.seq) FROM {{facts}} AS f GROUP BY f.src_id
            ON CONFLICT (id) DO UPDATE SET messages = r.messages + excluded.messages, longest = greatest(r.longest, excluded.longest),
                                           last_fact_seq = greatest(r.last_fact_seq, excluded.last_fact_seq)""";

    private static long user(Connection c, String email) throws Exception {
        return (Long) value(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES (?, 'h', ?) RETURNING id", email, email);
    }

    @Test
    void aStatementOfTheMigrationsOwnAppliesLiveAsInAReplay() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            long ann = user(c, "ann@x.org");
            long bob = user(c, "bob@x.org");
            exec(c, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (?, ?, 'hi'), (?, ?, 'hello'), (?, ?, 'x')", ann, bob, ann, bob, bob, ann);
            exec(c, "CREATE TABLE senders_9 (id bigint PRIMARY KEY, messages bigint NOT NULL, longest bigint NOT NULL)");
            exec(c, "SELECT kit.create_read_version('senders_9', 'user')");
            exec(c, "SELECT kit.add_feed('message_sent_3', 'senders_9', kind => 'sql', statement => ?)", PER_SENDER);
            exec(c, "SELECT kit.create_schema_version(9, ARRAY['senders_9'])");
            exec(c, "CALL kit.backfill()");
            exec(c, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (?, ?, 'a longer one'), (?, ?, 'y')", ann, bob, bob, ann);
            String rows = "SELECT string_agg(messages || ' ' || longest, ', ' ORDER BY id) FROM senders_9";
            assertThat(value(c, rows)).isEqualTo("3 12, 2 1");
            assertThat(Sql.verify(c, "senders_9")).isEmpty();
            exec(c, "CALL kit.rebuild('senders_9')");
            assertThat(value(c, rows)).isEqualTo("3 12, 2 1");
            assertThat(DriftTest.drift(c)).isEmpty();
        }
    }

    /** The README's sql feed, a count per sender, runs as written, live and in a replay. */
    @Test
    void theReadmesSqlFeedRunsAsWritten() throws Exception {
        Matcher example = Pattern.compile("a count per sender \\(`(senders_5 \\([^`]*\\))`\\):\\n\\n((?: {4}.*\\n)+)")
                .matcher(Files.readString(Path.of("../README.md")));
        assertThat(example.find()).as("README has the sql feed's example").isTrue();
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            long ann = user(c, "ann@x.org");
            long bob = user(c, "bob@x.org");
            exec(c, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (?, ?, 'before')", bob, ann);
            exec(c, "CREATE TABLE " + example.group(1));
            exec(c, "SELECT kit.create_read_version('senders_5', 'user')");
            exec(c, example.group(2));
            exec(c, "CALL kit.backfill()");
            exec(c, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (?, ?, 'a'), (?, ?, 'b'), (?, ?, 'c')", ann, bob, ann, bob, bob, ann);
            assertThat(value(c, "SELECT string_agg(messages::text, ' ' ORDER BY id) FROM senders_5")).isEqualTo("2 2");
            assertThat(Sql.verify(c, "senders_5")).isEmpty();
        }
    }

    @Test
    void aStatementThatReadsTheClockIsNamedByVerify() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            long ann = user(c, "ann@x.org");
            exec(c, "CREATE TABLE seen_9 (id bigint PRIMARY KEY, seen_at text NOT NULL)");
            exec(c, "SELECT kit.create_read_version('seen_9', 'user')");
            exec(c, "SELECT kit.add_feed('user_registered_1', 'seen_9', kind => 'sql', statement => "
                    + "'INSERT INTO {{target}} (id, seen_at, last_fact_seq, first_fact_seq) SELECT f.id, clock_timestamp()::text, f.seq, f.seq FROM {{facts}} AS f')");
            exec(c, "CALL kit.backfill()");
            user(c, "bob@x.org");
            assertThat(value(c, "SELECT count(*) FROM seen_9")).isEqualTo(2L);
            assertThat(Sql.verify(c, "seen_9")).as("a replay writes other times than the live path did")
                    .extracting(r -> String.valueOf(r.get("difference"))).contains("only in live", "only in rebuild");
            assertThat(ann).isPositive();
        }
    }

    /** A fact the statement's read table refuses (a CHECK here) fails the writer's statement whole: no fact, no row. */
    @Test
    void aFactItsStatementRefusesLeavesNothing() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            long ann = user(c, "ann@x.org");
            long bob = user(c, "bob@x.org");
            exec(c, "CREATE TABLE senders_9 (id bigint PRIMARY KEY, messages bigint NOT NULL, longest bigint NOT NULL CHECK (longest < 10))");
            exec(c, "SELECT kit.create_read_version('senders_9', 'user')");
            exec(c, "SELECT kit.add_feed('message_sent_3', 'senders_9', kind => 'sql', statement => ?)", PER_SENDER);
            exec(c, "CALL kit.backfill()");
            exec(c, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (?, ?, 'hi')", ann, bob);
            var refused = Sql.assertFailsWith("23514", () -> exec(c,
                    "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (?, ?, 'ok'), (?, ?, 'far too long')", bob, ann, ann, bob));
            assertThat(((org.postgresql.util.PSQLException) refused).getServerErrorMessage().getTable()).isEqualTo("senders_9");
            assertThat(value(c, "SELECT count(*) FROM message_sent_3")).isEqualTo(1L);
            assertThat(value(c, "SELECT string_agg(id || ' ' || messages, ', ' ORDER BY id) FROM senders_9")).isEqualTo(ann + " 1");
            assertThat(Sql.verify(c, "senders_9")).isEmpty();
        }
    }

    @Test
    void aStatementThatDoesNotCompileOrNamesMoreIsRefused() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "CREATE TABLE bad_9 (id bigint PRIMARY KEY, n bigint NOT NULL)");
            exec(c, "SELECT kit.create_read_version('bad_9', 'user')");
            for (String[] call : new String[][]{
                    {"statement => 'INSERT INTO {{target}} (id, n, last_fact_seq) SELECT f.nope, 1, f.seq FROM {{facts}} AS f'",
                            "does not compile as one statement: column f.nope does not exist"},
                    {"statement => 'INSERT INTO {{other}} SELECT 1'", "names only {{facts}} and {{target}}"},
                    {"statement => 'INSERT INTO {{target}} (id, n) SELECT f.id, 1 FROM {{facts}} AS f'", "sets last_fact_seq"},
                    {"statement => 'SELECT f.id FROM {{facts}} AS f, {{target}} AS r WHERE f.id = r.id AND r.last_fact_seq = 0'",
                            "is not a statement that writes: it is one INSERT, UPDATE, DELETE or MERGE"},
                    {"statement => 'WITH x AS (SELECT 1) SELECT last_fact_seq FROM {{target}}, {{facts}} AS f'", "writes nothing at its top"},
                    // A feed changes its own read table: not another, not facts, not in a WITH either.
                    {"statement => 'UPDATE public.users_4 AS u SET password_hash = ''x'', last_fact_seq = u.last_fact_seq"
                            + " FROM {{facts}} AS f, {{target}} AS t WHERE false'", "writes public.users_4, which is not its target bad_9"},
                    {"statement => 'WITH gone AS (DELETE FROM public.users_4 RETURNING id) INSERT INTO {{target}} (id, n, last_fact_seq)"
                            + " SELECT f.id, (SELECT count(*) FROM gone), f.seq FROM {{facts}} AS f'", "writes public.users_4, which is not its target"},
                    {"statement => 'UPDATE {{target}} AS r SET n = 0, last_fact_seq = r.last_fact_seq'", "names no {{facts}} or no {{target}}"},
                    {"statement => 'INSERT INTO {{target}} (id, n, last_fact_seq) SELECT f.id, 1, f.seq FROM {{facts}} AS f /* open'", "unterminated"},
                    {"kind => 'sql'", "A sql feed, and only a sql feed, has a statement"},
                    // Its facts are the statement's own choice: a filter would be put in where {{facts}} stands.
                    {"filter => 'true', statement => 'INSERT INTO {{target}} (id, n, last_fact_seq) SELECT f.id, 1, f.seq FROM {{facts}} AS f'",
                            "has no filter"},
                    // PL/pgSQL's EXECUTE runs the string it is given, which EXPLAIN EXECUTE would not show.
                    {"statement => 'EXECUTE format(''INSERT INTO public.users_4 ...'', ''{{facts}}'', ''{{target}}'', ''last_fact_seq'')'",
                            "is not a statement that writes"},
                    {"statement => 'INSERT INTO {{target}} (id, n, last_fact_seq) SELECT f.id, 1, f.seq FROM {{facts}} AS f WHERE ''{{facts}}'' <> '''''",
                            "holds {{ in a string or a quoted name"},
                    {"kind => 'insert', statement => 'SELECT 1 FROM {{facts}} AS f'", "A sql feed, and only a sql feed, has a statement"}}) {
                var refused = assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.add_feed('user_registered_1', 'bad_9', " + call[0] + ")"));
                assertThat(refused.getMessage()).as(call[0]).contains(call[1]);
            }
            assertThat(value(c, "SELECT count(*) FROM kit.feed WHERE read_table = 'bad_9'")).isEqualTo(0L);
            assertThat(value(c, "SELECT count(*) FROM users_4 WHERE password_hash = 'x'")).isEqualTo(0L);
        }
    }

    /** The tables a statement writes are told apart by schema and name, not by a kit name a dotted table name can copy. */
    @Test
    void aTableWhoseNameLooksLikeTheTargetsKitNameIsAnotherTable() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "CREATE SCHEMA dots");
            exec(c, "CREATE TABLE dots.said_9 (id bigint, user_id bigint NOT NULL)");
            exec(c, "SELECT kit.create_write_table('dots.said_9', 'said9')");
            exec(c, "CREATE TABLE dots.heard_9 (id bigint PRIMARY KEY, n bigint NOT NULL)");
            exec(c, "SELECT kit.create_read_version('dots.heard_9', 'said9')");
            exec(c, "CREATE TABLE public.\"dots.heard_9\" (x text)");
            var refused = assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.add_feed('dots.said_9', 'dots.heard_9', statement => "
                    + "'WITH side AS (INSERT INTO public.\"dots.heard_9\" SELECT ''x'' FROM {{facts}} AS f RETURNING 1)"
                    + " INSERT INTO {{target}} (id, n, last_fact_seq) SELECT f.id, (SELECT count(*) FROM side), f.seq FROM {{facts}} AS f')"));
            assertThat(refused.getMessage()).contains("writes public.\"dots.heard_9\", which is not its target dots.heard_9");
        }
    }

    /**
     * A statement is one statement: a second one after a ';' would run as the kit's owner, at the
     * declaration and on every write. Refused when declared, before anything runs; and the trial run
     * that checks a statement compiles leaves nothing behind either.
     */
    @Test
    void aStatementHidesNoOtherAndItsTrialRunLeavesNothing() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            long ann = user(c, "ann@x.org");
            exec(c, "CREATE TABLE bad_9 (id bigint PRIMARY KEY, n bigint NOT NULL)");
            exec(c, "SELECT kit.create_read_version('bad_9', 'user')");
            var refused = assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.add_feed('user_registered_1', 'bad_9', statement => "
                    + "'INSERT INTO {{target}} (id, n, last_fact_seq) SELECT f.id, 1, f.seq FROM {{facts}} AS f; DELETE FROM public.users_4')"));
            assertThat(refused.getMessage()).contains("holds a ;");
            assertThat(value(c, "SELECT count(*) FROM users_4")).as("the second statement never ran").isEqualTo(1L);
            // A trailing ';' is only the end of the one statement.
            exec(c, "SELECT kit.add_feed('user_registered_1', 'bad_9', statement => "
                    + "'INSERT INTO {{target}} (id, n, last_fact_seq) SELECT f.id, 1, f.seq FROM {{facts}} AS f ; ')");
            exec(c, "CALL kit.backfill()");
            assertThat(value(c, "SELECT string_agg(id || ' ' || n, ', ') FROM bad_9")).isEqualTo(ann + " 1");
            // A statement that touches its target's rows whatever the facts: the trial run at the
            // declaration (over no facts) is rolled back, so the rows a live read table has stay.
            exec(c, "CREATE TABLE nudged_9 (id bigint, user_id bigint NOT NULL)");
            exec(c, "SELECT kit.create_write_table('nudged_9', 'nudge9')");
            exec(c, "SELECT kit.add_feed('nudged_9', 'bad_9', statement => "
                    + "'UPDATE {{target}} AS r SET n = r.n + 1 + (SELECT count(*) FROM {{facts}} AS f), last_fact_seq = r.last_fact_seq')");
            assertThat(value(c, "SELECT string_agg(id || ' ' || n, ', ') FROM bad_9")).isEqualTo(ann + " 1");
        }
    }
}
