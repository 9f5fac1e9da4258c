package kit.tests;

import kit.client.Jdbc;
import kit.client.KitError;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static kit.client.Jdbc.exec;
import static kit.client.Jdbc.rows;
import static kit.client.Jdbc.strings;
import static kit.tests.Sql.assertFailsWith;
import static kit.tests.Sql.value;
import static kit.tests.Sql.verify;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Forgetting a person (kit.forget), the one sanctioned change of facts: the personal columns the
 * example's step 4.1 declares are redacted in every fact about the user, in every write table
 * (those keyed through user_id and src_id included), the user's read rows are projected again,
 * the catalog records it without a value, and verify, drift and a rebuild stay clean. Every other
 * change of a fact is still refused, and only the forget role may forget.
 */
class ForgetTest {

    static final String DENIED = "42501";

    /** Ann (v0 and v1 registrations' tables, a password change, a message) and Bob, who stays. */
    private static long[] annAndBob(Connection c) throws SQLException {
        long ann = (Long) value(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('Ann@Example.org', 'h1', 'ann') RETURNING id");
        long bob = (Long) value(c, "INSERT INTO user_registered_0 (email, password_hash) VALUES ('bob@example.org', 'h2') RETURNING id");
        exec(c, "INSERT INTO password_changed_2 (user_id, password_hash) VALUES (?, 'ann-new-hash')", ann);
        exec(c, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (?, ?, 'ann''s secret'), (?, ?, 'bob''s reply')", ann, bob, bob, ann);
        return new long[] {ann, bob};
    }

    /** A map of the given key, value, key, value, ... in their order. */
    private static Map<String, String> pairs(String... keysAndValues) {
        Map<String, String> map = new java.util.LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }

    /** The tables of public and kit whose rows, as text, contain {@code needle} (case-insensitive). */
    static List<String> tablesHolding(Connection c, String needle) throws SQLException {
        return strings(c, """
                SELECT c.oid::regclass::text FROM pg_class c
                 WHERE c.relkind = 'r' AND c.relnamespace IN ('public'::regnamespace, 'kit'::regnamespace)
                   AND (xpath('/row/n/text()', query_to_xml(format(
                           'SELECT count(*) AS n FROM %s AS t WHERE strpos(lower(t::text), %L) > 0', c.oid::regclass, lower(?)),
                           false, true, '')))[1]::text::int > 0
                 ORDER BY 1""", needle);
    }

    @Test
    void everyFactAndReadRowAboutThePersonIsRedactedAndTheForgetRecorded() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            long[] users = annAndBob(c);
            long ann = users[0];
            long bob = users[1];
            var before = rows(c, "SELECT * FROM users_4 WHERE id = ?", bob);

            var result = rows(c, "SELECT * FROM kit.forget('user', ?)", ann);
            assertThat(result.getFirst().get("facts_redacted")).as("registration, password change, message").isEqualTo(3L);
            assertThat((Long) result.getFirst().get("rows_reprojected")).isPositive();

            assertThat(tablesHolding(c, "ann@example.org")).as("tables that hold Ann's email").isEmpty();
            assertThat(tablesHolding(c, "ann-new-hash")).isEmpty();
            assertThat(tablesHolding(c, "ann's secret")).isEmpty();
            assertThat(tablesHolding(c, "bob's reply")).as("Bob's message is Bob's").contains("message_sent_3", "messages_3");
            assertThat(value(c, "SELECT email FROM user_registered_1 WHERE id = ?", ann)).isEqualTo("forgotten-" + ann + "@invalid");
            assertThat(value(c, "SELECT password_hash FROM password_changed_2 WHERE user_id = ?", ann)).isEqualTo("!");
            assertThat(rows(c, "SELECT email, password_hash, username, message_count FROM users_4 WHERE id = ?", ann))
                    .containsExactly(Map.of("email", "forgotten-" + ann + "@invalid", "password_hash", "!",
                            "username", "forgotten-" + ann, "message_count", 1L));
            assertThat(value(c, "SELECT email FROM users_2 WHERE id = ?", ann)).isEqualTo("forgotten-" + ann + "@invalid");
            assertThat(rows(c, "SELECT * FROM users_4 WHERE id = ?", bob)).as("Bob's row").isEqualTo(before);

            var record = rows(c, "SELECT * FROM kit.forgotten");
            assertThat(record).hasSize(1);
            assertThat(record.getFirst()).containsEntry("domain", "public").containsEntry("entity", "user").containsEntry("id", ann)
                    .containsEntry("forgotten_by", value(c, "SELECT session_user::text")).containsEntry("facts_redacted", 3L)
                    .containsEntry("redacting", null);

            for (String table : Sql.liveReadTables(c)) {
                assertThat(verify(c, table)).as("verify of %s", table).isEmpty();
            }
            assertThat(rows(c, "SELECT * FROM kit.drift()")).isEmpty();
            var users4 = rows(c, "SELECT * FROM users_4 ORDER BY id");
            Sql.rebuildOneFactPerBatch(c, "users_4");
            assertThat(rows(c, "SELECT * FROM users_4 ORDER BY id")).as("users_4 rebuilt from the redacted facts").isEqualTo(users4);

            // Facts about her written later still reach her row; forgetting again redacts them too.
            exec(c, "INSERT INTO password_changed_2 (user_id, password_hash) VALUES (?, 'later-hash')", ann);
            exec(c, "SELECT kit.forget('user', ?)", ann);
            assertThat(tablesHolding(c, "later-hash")).isEmpty();
            assertThat(value(c, "SELECT count(*) FROM kit.forgotten")).isEqualTo(2L);
        }
    }

    @Test
    void theGuardStillRefusesEveryOtherChangeOfAFact() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            long ann = annAndBob(c)[0];
            assertThat(value(c, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).as("the test runs as a superuser").isEqualTo(true);
            assertFailsWith(KitError.APPEND_ONLY, () -> exec(c, "UPDATE user_registered_1 SET email = 'x@example.org' WHERE id = ?", ann));
            assertFailsWith(KitError.APPEND_ONLY, () -> exec(c, "DELETE FROM password_changed_2 WHERE user_id = ?", ann));

            // In the transaction of a forget too, before and after it.
            c.setAutoCommit(false);
            exec(c, "SELECT kit.forget('user', ?)", ann);
            assertFailsWith(KitError.APPEND_ONLY, () -> exec(c, "UPDATE user_registered_1 SET email = 'x@example.org' WHERE id = ?", ann));
            c.rollback();
            exec(c, "SELECT kit.forget('user', ?)", ann);
            exec(c, "SAVEPOINT s");
            assertFailsWith(KitError.APPEND_ONLY, () -> exec(c, "UPDATE message_sent_3 SET content = 'forged'"));
            exec(c, "ROLLBACK TO SAVEPOINT s");
            c.commit();
            c.setAutoCommit(true);
            assertThat(value(c, "SELECT count(*) FROM message_sent_3 WHERE content = 'forged'")).isEqualTo(0L);
            assertThat(value(c, "SELECT count(*) FROM kit.forgotten")).as("the rolled back forget left no record").isEqualTo(1L);
        }
    }

    @Test
    void onlyTheForgetRoleMayForget() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        long ann;
        try (Connection c = db.connect()) {
            ann = annAndBob(c)[0];
        }
        try (Connection v3 = db.connectAsAppRole(3)) {
            assertFailsWith(DENIED, () -> exec(v3, "SELECT kit.forget('user', ?)", ann));
            assertFailsWith(DENIED, () -> exec(v3, "UPDATE user_registered_1 SET email = 'x'"));
        }
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT count(*) FROM kit.forgotten")).isEqualTo(0L);
            assertThat(value(c, "SELECT email FROM user_registered_1 WHERE id = ?", ann)).isEqualTo("Ann@Example.org");
        }
        try (Connection v4 = db.connectAsAppRole(4)) {
            assertFailsWith(DENIED, () -> exec(v4, "UPDATE user_registered_1 SET email = 'x'"));
            assertFailsWith(DENIED, () -> rows(v4, "SELECT * FROM kit.forgotten"));
            exec(v4, "SELECT kit.forget('user', ?)", ann);
        }
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT forgotten_by FROM kit.forgotten")).isEqualTo(value(c, "SELECT session_user::text"));
            assertThat(rows(c, "SELECT * FROM kit.drift()")).as("version 4 was granted forget by step 4.1").isEmpty();

            // Granted by hand to version 3's role: drift, which repair takes back. (Not through the
            // forget role: its membership is the server's, and reaches every test database.)
            String v3 = TestDatabases.rolePrefix() + 3;
            exec(c, "GRANT EXECUTE ON FUNCTION kit.forget(text, bigint, text) TO " + v3);
            assertThat(strings(c, "SELECT object || ' ' || problem FROM kit.drift()"))
                    .containsExactly("role " + v3 + " can run kit.forget(text,bigint,text) (app roles run kit code only through its triggers, the start-up gate and kit.register_client)");
            exec(c, "CALL kit.repair()");
            assertThat(rows(c, "SELECT * FROM kit.drift()")).isEmpty();
        }
        try (Connection v3 = db.connectAsAppRole(3)) {
            assertFailsWith(DENIED, () -> exec(v3, "SELECT kit.forget('user', ?)", ann));
        }
        // A person's role: refused until it is a member of the forget role.
        String operator = "kit_forget_test_" + ProcessHandle.current().pid() + "_" + System.nanoTime();
        try (Connection c = db.connect()) {
            exec(c, "CREATE ROLE " + operator + " NOLOGIN");
            try {
                exec(c, "SET ROLE " + operator);
                assertFailsWith(DENIED, () -> exec(c, "SELECT kit.forget('user', ?)", ann));
                exec(c, "RESET ROLE");
                exec(c, "GRANT " + value(c, "SELECT kit.forget_role_name()") + " TO " + operator);
                exec(c, "SET ROLE " + operator);
                exec(c, "SELECT kit.forget('user', ?)", ann);
                exec(c, "RESET ROLE");
                assertThat(value(c, "SELECT count(*) FROM kit.forgotten")).isEqualTo(2L);
            } finally {
                exec(c, "RESET ROLE");
                exec(c, "DROP ROLE " + operator);
            }
        }
    }

    /** A version whose schema version is aborted loses its forget grant with its other grants. */
    @Test
    void anAbortedVersionLosesItsForgetGrant() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        String role = TestDatabases.rolePrefix() + 9;
        try (Connection c = db.connect()) {
            exec(c, "CREATE TABLE nicknames_9 (id bigint PRIMARY KEY, nickname text)");
            exec(c, "SELECT kit.create_read_version('nicknames_9', 'user')");
            exec(c, "SELECT kit.add_feed('user_registered_1', 'nicknames_9', columns => '{\"nickname\": \"f.username\"}')");
            exec(c, "SELECT kit.create_schema_version(9, ARRAY['nicknames_9'])");
            exec(c, "SELECT kit.create_app_role(9)");
            exec(c, "SELECT kit.grant_forget(9)");
            String canForget = "SELECT has_function_privilege('" + role + "', 'kit.forget(text, bigint, text)', 'EXECUTE')";
            assertThat(value(c, canForget)).isEqualTo(true);
            exec(c, "SELECT kit.abort_read_version('nicknames_9')");
            assertThat(value(c, canForget)).as("after the abort").isEqualTo(false);
            assertThat(rows(c, "SELECT * FROM kit.drift()")).isEmpty();
        }
    }

    @Test
    void badDeclarationsAndCallsAreRefusedAndChangeNothing() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            long[] users = annAndBob(c);
            String declared = strings(c, "SELECT format('%s', array_agg(p ORDER BY p::text)) FROM kit.personal_column p").toString();
            Map<String, String> refusals = pairs(
                    "SELECT kit.declare_personal_data('users_4', '{\"email\": \"''x''\"}')", "Not a write table: users_4",
                    "SELECT kit.declare_personal_data('user_deleted_4', '{\"user_id\": \"0\"}', entity => 'nobody', entity_column => 'user_id')",
                    "No such entity (id space): nobody",
                    "SELECT kit.declare_personal_data('password_changed_2', '{\"password_hash\": \"''!''\"}', entity => 'user')",
                    "The id of password_changed_2 is a password_change id, not a user id",
                    "SELECT kit.declare_personal_data('password_changed_2', '{\"user_id\": \"0\"}', entity => 'user', entity_column => 'user_id')",
                    "the entity's id or a feed's key, redacted by an expression in a string: user_id",
                    "SELECT kit.declare_personal_data('user_registered_1', '{\"email\": \"f.nope\"}')",
                    "Cannot redact column email of user_registered_1 with f.nope",
                    "SELECT kit.declare_personal_data('user_registered_1', '{\"email\": \"''x''); DROP TABLE users_4; --\"}')",
                    "The redaction of column email of user_registered_1",
                    "SELECT kit.declare_personal_data('user_registered_1', '[]')", "Personal data is a JSON object of column: redaction",
                    "SELECT kit.forget('nobody', 1)", "No personal data is declared about nobody",
                    "SELECT kit.forget('user', NULL)", "kit.forget needs an entity and an id",
                    "SELECT kit.declare_personal_data('password_changed_2', '{\"password_hash\": \"''!''\"}', entity => 'password_change')",
                    "password_changed_2 holds personal data about user, by its column user_id, not about password_change by id",
                    "SELECT kit.declare_personal_data('message_sent_3', '{\"content\": \"''''\"}', entity => 'user', entity_column => 'dst_id')",
                    "message_sent_3 holds personal data about user, by its column src_id, not about user by dst_id",
                    "SELECT kit.declare_personal_data('password_changed_2', '{\"password_hash\": \"NULL\"}', entity => 'user', entity_column => 'user_id')",
                    "Column password_hash of password_changed_2 is NOT NULL: its redaction cannot be NULL");
            for (var refusal : refusals.entrySet()) {
                Throwable failure = catchThrowable(() -> exec(c, refusal.getKey()));
                assertThat(failure).as(refusal.getKey()).isInstanceOf(SQLException.class);
                assertThat(((SQLException) failure).getSQLState()).as(failure.getMessage()).isEqualTo("KT006");
                assertThat(failure.getMessage()).as(refusal.getKey()).contains(refusal.getValue());
            }
            assertThat(value(c, "SELECT to_regclass('users_4') IS NOT NULL")).isEqualTo(true);
            assertThat(strings(c, "SELECT format('%s', array_agg(p ORDER BY p::text)) FROM kit.personal_column p").toString()).isEqualTo(declared);

            // A redaction that breaks a read table's rule: the forget is refused whole.
            exec(c, "SELECT kit.declare_personal_data('user_registered_1', '{\"email\": \"''gone@invalid''\"}')");
            exec(c, "SELECT kit.declare_personal_data('user_registered_0', '{\"email\": \"''gone@invalid''\"}')");
            exec(c, "SELECT kit.forget('user', ?)", users[0]);
            var broken = assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.forget('user', ?)", users[1]));
            assertThat(broken.getMessage()).contains("Forgetting user " + users[1] + " breaks a rule", "duplicate key");
            assertThat(value(c, "SELECT email FROM user_registered_0 WHERE id = ?", users[1])).isEqualTo("bob@example.org");
            assertThat(value(c, "SELECT count(*) FROM kit.forgotten")).isEqualTo(1L);

            // An id that no fact with personal data names: refused, nothing recorded.
            var unknown = assertFailsWith(KitError.UNKNOWN_ENTITY, () -> exec(c, "SELECT kit.forget('user', 424242)"));
            assertThat(unknown.getMessage()).contains("Unknown user: 424242");
            assertThat(value(c, "SELECT count(*) FROM kit.forgotten")).isEqualTo(1L);
        }
    }

    /**
     * A read table that a sql feed fills from facts with personal data: the kit cannot tell which
     * of its rows a fact made, so a forget projects it again whole, and it stays equal to a replay.
     */
    @Test
    void aReadTableASqlFeedFillsIsProjectedAgainWhole() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            long[] users = annAndBob(c);
            exec(c, "CREATE TABLE senders_9 (id bigint PRIMARY KEY, messages bigint NOT NULL, longest text NOT NULL)");
            exec(c, "SELECT kit.create_read_version('senders_9', 'user')");
            exec(c, "SELECT kit.add_feed('message_sent_3', 'senders_9', kind => 'sql', statement => ?)", """
                    INSERT INTO {{target}} AS r (id, messages, longest, last_fact_seq, first_fact_seq)
                    SELECT f.src_id, count(*), max(f.content), max(f.seq), min(f.seq) FROM {{facts}} AS f GROUP BY f.src_id
                    ON CONFLICT (id) DO UPDATE SET messages = r.messages + excluded.messages,
                                                   longest = greatest(r.longest, excluded.longest), last_fact_seq = excluded.last_fact_seq""");
            exec(c, "SELECT kit.create_schema_version(9, ARRAY['senders_9'])");
            exec(c, "CALL kit.backfill()");
            assertThat(tablesHolding(c, "ann's secret")).contains("senders_9");
            var result = rows(c, "SELECT * FROM kit.forget('user', ?)", users[0]);
            assertThat((Long) result.getFirst().get("rows_reprojected")).as("senders_9's two rows among them").isGreaterThanOrEqualTo(2L);
            assertThat(tablesHolding(c, "ann's secret")).isEmpty();
            assertThat(rows(c, "SELECT id, messages, longest FROM senders_9 ORDER BY id"))
                    .containsExactly(Map.of("id", users[0], "messages", 1L, "longest", "(forgotten)"),
                                     Map.of("id", users[1], "messages", 1L, "longest", "bob's reply"));
            assertThat(verify(c, "senders_9")).isEmpty();
            assertThat(rows(c, "SELECT * FROM kit.drift()")).isEmpty();
        }
    }

    /**
     * A read version that is building (here users_4's online rebuild, part of the way through its
     * backfill): the rows it has are projected again up to where its backfill is, and its backfill
     * takes the rest from the redacted facts.
     */
    @Test
    void aBuildingVersionGetsItsRowsRedactedAndTheRestFromItsBackfill() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            long ann = annAndBob(c)[0];
            exec(c, "SELECT kit.begin_rebuild('users_4')");
            var step = rows(c, "SELECT applied, state FROM kit.backfill_step('users_4__rebuild', 2)");
            assertThat(step).containsExactly(Map.of("applied", 2L, "state", "building"));
            assertThat(tablesHolding(c, "ann@example.org")).as("Ann's registration is backfilled").contains("users_4__rebuild");

            exec(c, "SELECT kit.forget('user', ?)", ann);
            assertThat(tablesHolding(c, "ann@example.org")).isEmpty();
            assertThat(value(c, "SELECT email FROM users_4__rebuild WHERE id = ?", ann)).isEqualTo("forgotten-" + ann + "@invalid");

            exec(c, "CALL kit.backfill()");
            assertThat(value(c, "SELECT state FROM kit.read_version WHERE read_table = 'users_4'")).isEqualTo("live");
            assertThat(tablesHolding(c, "ann@example.org")).isEmpty();
            assertThat(tablesHolding(c, "ann-new-hash")).isEmpty();
            assertThat(value(c, "SELECT password_hash || ' ' || message_count FROM users_4 WHERE id = ?", ann)).isEqualTo("! 1");
            assertThat(verify(c, "users_4")).isEmpty();
            assertThat(rows(c, "SELECT * FROM kit.drift()")).isEmpty();
        }
    }

    /** Forgets that run at once, beside writers, queue behind each other: none deadlocks, none is lost. */
    @Test
    void forgetsAtOnceQueueAndNoneDeadlocks() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        List<Long> people = new ArrayList<>();
        try (Connection c = db.connect()) {
            for (int i = 0; i < 40; i++) {
                long id = (Long) value(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES (?, 'h', 'u') RETURNING id",
                        "p" + i + "@example.org");
                exec(c, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (?, ?, 'secret of p" + i + "')", id, id);
                people.add(id);
            }
        }
        AtomicInteger next = new AtomicInteger();
        try (var forgetters = new BackgroundWriters(3, db::connect, (c, writer, n) -> {
                 int i = next.getAndIncrement();
                 if (i < people.size()) {
                     exec(c, "SELECT kit.forget('user', ?)", people.get(i));
                 }
             });
             var writers = new BackgroundWriters(2, db::connect, (c, writer, n) ->
                     exec(c, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (?, ?, 'hello')",
                             people.get(n % people.size()), people.get((n + 1) % people.size())))) {
            forgetters.awaitWrites(people.size());
            assertThat(forgetters.stop()).as("forgets that failed").isEmpty();
            assertThat(writers.stop()).as("writes that failed").isEmpty();
        }
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT count(DISTINCT id) FROM kit.forgotten")).isEqualTo((long) people.size());
            assertThat(value(c, "SELECT count(*) FROM message_sent_3 WHERE content LIKE 'secret of%'")).isEqualTo(0L);
            for (String table : Sql.liveReadTables(c)) {
                assertThat(verify(c, table)).as("verify of %s", table).isEmpty();
            }
        }
    }

    /**
     * What an operator does to make a forget complete on this server, as README's "Forgetting a
     * person" writes it: forget, then VACUUM the tables it touched. Then no table's rows hold the email, and a dump of the
     * database (COPY of every table, as pg_dump takes its data; and pg_dump itself where a pg_dump of
     * the server's major version or later is installed) does not contain it.
     */
    @Test
    void afterAVacuumNoDumpHoldsTheEmail() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            long ann = annAndBob(c)[0];
            Matcher recipe = Pattern.compile("```sql\\n-- Forget user 42, then VACUUM what it touched\\n(.*?)```", Pattern.DOTALL)
                    .matcher(Files.readString(Path.of("../README.md")));
            assertThat(recipe.find()).as("README has the recipe of a forget").isTrue();
            for (String statement : recipe.group(1).split(";\\s*")) {
                if (!statement.isBlank()) {
                    exec(c, statement.replace("'user', 42", "'user', " + ann));
                }
            }
            StringWriter dump = new StringWriter();
            var copy = c.unwrap(PGConnection.class).getCopyAPI();
            for (String table : strings(c, """
                    SELECT c.oid::regclass::text FROM pg_class c
                     WHERE c.relkind = 'r' AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
                     ORDER BY 1""")) {
                copy.copyOut("COPY " + table + " TO STDOUT", new java.io.Writer() {
                    @Override
                    public void write(char[] buffer, int offset, int length) {
                        dump.write(buffer, offset, length);
                    }

                    @Override
                    public void flush() {
                    }

                    @Override
                    public void close() {
                    }
                });
            }
            assertThat(dump.toString()).contains("bob@example.org", "forgotten-" + ann + "@invalid")
                    .doesNotContainIgnoringCase("ann@example.org").doesNotContain("ann's secret", "ann-new-hash");

            int major = ((Number) value(c, "SELECT current_setting('server_version_num')::int / 10000")).intValue();
            Path pgDump = pgDump(major);
            if (pgDump == null) {
                System.out.println("ForgetTest: no pg_dump " + major + " or later under /usr/lib/postgresql: the dump was checked through COPY only");
                return;
            }
            var url = db.url();
            String libpq = "postgresql://" + url.hostAndPort() + "/" + url.database() + "?" + String.join("&",
                    java.util.Arrays.stream(url.query().split("&")).filter(q -> q.startsWith("user=") || q.startsWith("password=")).toList());
            Process p = new ProcessBuilder(pgDump.toString(), "--dbname", libpq)
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(out.length() > 500 ? out.substring(0, 500) : out).isZero();
            assertThat(out).contains("bob@example.org").doesNotContainIgnoringCase("ann@example.org").doesNotContain("ann's secret");
        }
    }

    private static Path pgDump(int major) throws Exception {
        Path root = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(root)) {
            return null;
        }
        try (var versions = Files.list(root)) {
            return versions.filter(v -> v.getFileName().toString().matches("\\d+") && Integer.parseInt(v.getFileName().toString()) >= major)
                    .map(v -> v.resolve("bin/pg_dump")).filter(Files::isExecutable).findFirst().orElse(null);
        }
    }
}
