package kit.cli;

import kit.client.KitVersion;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;

import static kit.cli.KitCommandTest.kit;
import static kit.cli.KitCommandTest.sql;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --format json} and {@code --format mermaid} against a real database: the documented fields
 * (docs/reference.md, "The kit command's JSON") are there, and the exit status is the text mode's,
 * on a healthy database and on a damaged one.
 */
class KitOutputFormatsTest {

    static JsonNode json(KitCommandTest.Result result) {
        assertThat(result.err()).as("stderr").isEmpty();
        return Json.MAPPER.readTree(result.out());
    }

    private static List<String> names(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.propertyNames().forEach(names::add);
        return names;
    }

    @Test
    void statusAsJsonHasEveryDocumentedField() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        sql(db, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('a@x.org', 'h', 'a')");
        try (Connection app = db.connectAsAppRole(1)) {
            KitCommandTest.Result r = kit(db, "status", "--format", "json");
            assertThat(r.status()).isZero();
            JsonNode status = json(r);
            assertThat(names(status)).containsExactly("format_version", "command", "database", "kit_installed", "kit",
                    "rows_estimated_from", "schema_versions", "read_versions", "write_tables", "clients", "registered_apps", "replication",
                    "failed_backfills", "drift", "security", "exit_status");
            assertThat(status.get("format_version").asInt()).isEqualTo(1);
            assertThat(status.get("exit_status").asInt()).isZero();
            assertThat(names(status.get("kit"))).containsExactly("database", "command", "same", "warning");
            assertThat(status.at("/kit/command").asString()).isEqualTo(KitVersion.current());
            assertThat(status.at("/kit/same").asBoolean()).isTrue();
            assertThat(status.at("/schema_versions/2/version").asInt()).isEqualTo(2);
            assertThat(status.at("/schema_versions/2/state").asString()).isEqualTo("live");
            assertThat(status.at("/schema_versions/2/read_tables/0").asString()).isEqualTo("users_2");

            JsonNode users2 = status.get("read_versions").valueStream().filter(v -> v.get("table").asString().equals("users_2"))
                    .findFirst().orElseThrow();
            assertThat(names(users2)).containsExactly("table", "entity", "state", "rebuild_of", "rows", "rows_estimated",
                    "table_missing", "backfill", "created_at", "live_at", "retired_at", "feeds");
            assertThat(users2.get("rows").asLong()).isEqualTo(1);
            assertThat(users2.get("rows_estimated").asBoolean()).isFalse();
            assertThat(names(users2.at("/feeds/0"))).containsExactly("write_table", "kind", "key_column", "projection", "columns", "filter", "statement");
            assertThat(users2.get("feeds").valueStream().map(f -> f.get("write_table").asString() + " " + f.get("kind").asString()))
                    .contains("user_registered_1 insert", "password_changed_2 update");

            JsonNode write = status.at("/write_tables/1");
            assertThat(names(write)).containsExactly("table", "fact", "schema_version", "id_space", "rows", "rows_estimated", "table_missing", "feeds",
                    "partitions");
            assertThat(write.get("partitions").isNull()).as("a plain write table").isTrue();
            assertThat(write.get("fact").asString() + " " + write.get("schema_version").asInt()).isEqualTo("user_registered 1");
            assertThat(write.get("table").asString()).isEqualTo("user_registered_1");
            assertThat(write.get("rows").asLong()).isEqualTo(1);

            JsonNode client = status.at("/clients/0");
            assertThat(names(client)).containsExactly("version", "pid", "application_name", "role_name", "client_addr",
                    "backend_start", "seen_by", "domain");
            assertThat(client.get("version").asInt()).isEqualTo(1);
            assertThat(client.get("application_name").asString()).isEqualTo("app-v1");
            assertThat(names(status.get("replication"))).containsExactly("subscriptions", "publications", "streaming_replicas", "error");
            assertThat(status.get("drift").isArray()).isTrue();
            assertThat(status.get("failed_backfills").isEmpty()).isTrue();
        }
    }

    @Test
    void statusAsJsonShowsWhatAFeedComputesAndWhichFactsItTakes() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        sql(db, "CREATE TABLE admins_9 (id bigint PRIMARY KEY, email text NOT NULL, domain text NOT NULL)",
                "SELECT kit.create_read_version('admins_9', 'user')",
                "SELECT kit.add_feed('user_registered_1', 'admins_9', columns => '{\"domain\": \"split_part(f.email, ''@'', 2)\"}',"
                        + " filter => 'f.email LIKE ''%@example.com''')");
        JsonNode status = json(kit(db, "status", "--format", "json"));
        JsonNode feed = status.get("read_versions").valueStream().filter(v -> v.get("table").asString().equals("admins_9"))
                .findFirst().orElseThrow().at("/feeds/0");
        assertThat(feed.at("/columns/domain").asString()).isEqualTo("split_part(f.email, '@', 2)");
        assertThat(feed.get("filter").asString()).isEqualTo("f.email LIKE '%@example.com'");
        assertThat(feed.get("statement").isNull()).isTrue();
    }

    @Test
    void verifyAndDriftAsJsonExitAsTheTextDoesOnAHealthyAndADamagedDatabase() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        sql(db, "INSERT INTO user_registered_1 (email, password_hash) VALUES ('a@x.org', 'h'), ('b@x.org', 'h'), ('c@x.org', 'h')");
        for (String command : new String[] {"status", "verify", "drift"}) {
            assertThat(kit(db, command, "--format", "json").status()).as("kit %s --format json, healthy", command)
                    .isEqualTo(kit(db, command).status()).isZero();
        }
        JsonNode healthy = json(kit(db, "verify", "--format", "json"));
        assertThat(names(healthy)).containsExactly("format_version", "command", "database", "drift", "tables", "security", "exit_status");
        assertThat(healthy.get("tables").valueStream().map(t -> t.get("table").asString())).containsExactly("messages_3", "users_2", "users_4");
        assertThat(names(healthy.at("/tables/0"))).containsExactly("table", "ok", "missing_rows", "extra_rows", "differing_rows",
                "broken_facts", "replay_fails", "uncaptured_rows", "captured_table", "truncated", "rows", "hint");

        // A read row deleted by hand, another changed: one missing, one differing.
        sql(db, "DELETE FROM users_2 WHERE email = 'a@x.org'", "UPDATE users_2 SET username = 'changed' WHERE email = 'b@x.org'");
        KitCommandTest.Result text = kit(db, "verify");
        KitCommandTest.Result asJson = kit(db, "verify", "--format", "json");
        assertThat(asJson.status()).isEqualTo(text.status()).isEqualTo(1);
        JsonNode users2 = json(asJson).at("/tables/1");
        assertThat(users2.get("table").asString()).isEqualTo("users_2");
        assertThat(users2.get("ok").asBoolean()).isFalse();
        assertThat(users2.get("missing_rows").asInt()).isEqualTo(1);
        assertThat(users2.get("extra_rows").asInt()).isZero();
        assertThat(users2.get("differing_rows").asInt()).isEqualTo(1);
        assertThat(users2.get("hint").asString()).startsWith("repair it with: kit rebuild users_2 (if it differs again after");
        assertThat(users2.at("/rows/0/row/email").isString()).isTrue();
        assertThat(json(asJson).at("/tables/0/ok").asBoolean()).as("messages_3").isTrue();

        sql(db, "ALTER TABLE password_changed_2 DISABLE TRIGGER feed_password_changed_2");
        KitCommandTest.Result driftText = kit(db, "drift");
        assertThat(driftText.status()).isEqualTo(1);
        assertThat(driftText.out()).contains("DRIFT 1", "trigger feed_password_changed_2 on password_changed_2", "disabled");
        KitCommandTest.Result drift = kit(db, "drift", "--format", "json");
        assertThat(drift.status()).isEqualTo(1);
        JsonNode findings = json(drift);
        assertThat(names(findings)).containsExactly("format_version", "command", "database", "findings", "exit_status");
        assertThat(names(findings.at("/findings/0"))).containsExactly("kind", "object", "detail", "hint", "repairable");
        assertThat(findings.at("/findings/0/kind").asString()).isEqualTo("trigger");
        assertThat(findings.at("/findings/0/object").asString()).isEqualTo("feed_password_changed_2 on password_changed_2");
        assertThat(findings.at("/findings/0/detail").asString()).isEqualTo("disabled");
        assertThat(findings.at("/findings/0/hint").asString()).contains("kit repair");
        assertThat(findings.at("/findings/0/repairable").asBoolean()).isTrue();
        KitCommandTest.Result status = kit(db, "status", "--format", "json");
        assertThat(status.status()).isEqualTo(kit(db, "status").status()).isEqualTo(1);
        assertThat(json(status).at("/drift/0/kind").asString()).isEqualTo("trigger");
        assertThat(json(status).get("exit_status").asInt()).isEqualTo(1);

        sql(db, "CREATE FUNCTION mine() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END'",
                "CREATE TRIGGER mine AFTER INSERT ON users_2 FOR EACH ROW EXECUTE FUNCTION mine()");
        JsonNode foreign = json(kit(db, "drift", "--format", "json"));
        assertThat(foreign.get("findings").valueStream().filter(f -> f.get("object").asString().equals("mine on users_2")))
                .singleElement().satisfies(f -> assertThat(f.get("repairable").asBoolean()).as("a trigger the kit did not create").isFalse());
        sql(db, "DROP TABLE messages_3");
        JsonNode missing = json(kit(db, "drift", "--format", "json"));
        assertThat(missing.get("findings").valueStream().filter(f -> f.get("object").asString().equals("messages_3")))
                .singleElement().satisfies(f -> {
                    assertThat(f.get("kind").asString()).isEqualTo("table");
                    assertThat(f.get("repairable").asBoolean()).isFalse();
                });
        JsonNode gone = json(kit(db, "status", "--format", "json")).get("read_versions").valueStream()
                .filter(v -> v.get("table").asString().equals("messages_3")).findFirst().orElseThrow();
        assertThat(gone.get("table_missing").asBoolean()).isTrue();
        assertThat(gone.get("rows").isNull()).isTrue();
    }

    @Test
    void verifyShowsADifferingRowsNumbersAsTheDatabaseHasThem() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        sql(db, "INSERT INTO user_registered_0 (email, password_hash) VALUES ('a@x.org', 'h')",
                "CREATE TABLE people_8 (id bigint PRIMARY KEY, email text, score numeric NOT NULL DEFAULT 1.10000000000000000001)",
                "SELECT kit.create_read_version('people_8', 'person')",
                "SELECT kit.add_feed('user_registered_0', 'people_8')");
        assertThat(kit(db, "backfill").status()).isZero();
        sql(db, "UPDATE people_8 SET email = 'changed@x.org'");
        KitCommandTest.Result text = kit(db, "verify", "people_8");
        assertThat(text.out()).contains("\"score\":1.10000000000000000001").doesNotContain("\"score\":1.1,");
        KitCommandTest.Result asJson = kit(db, "verify", "people_8", "--format", "json");
        assertThat(asJson.out()).contains("\"score\": 1.10000000000000000001");
        assertThat(json(asJson).at("/tables/0/differing_rows").asInt()).isEqualTo(1);
    }

    @Test
    void statusEstimatesTheRowsOfATableThePlannerExpectsToBeBigUnlessExact() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        // Three facts, and statistics that say two million rows a page: the planner's estimate, cheaply.
        sql(db, "INSERT INTO user_registered_1 (email, password_hash) VALUES ('a@x.org', 'h'), ('b@x.org', 'h'), ('c@x.org', 'h')",
                "ANALYZE user_registered_1",
                "UPDATE pg_class SET reltuples = 2000000, relpages = 1 WHERE oid = 'user_registered_1'::regclass");
        JsonNode estimated = json(kit(db, "status", "--format", "json")).at("/write_tables/1");
        assertThat(estimated.get("table").asString()).isEqualTo("user_registered_1");
        assertThat(estimated.get("rows_estimated").asBoolean()).isTrue();
        assertThat(estimated.get("rows").asLong()).isGreaterThanOrEqualTo(RowCount.ESTIMATE_FROM);
        assertThat(kit(db, "status").out()).containsPattern("user_registered_1 +write +about [0-9]+ \\(estimate\\)")
                .contains("--exact counts them");

        JsonNode exact = json(kit(db, "status", "--format", "json", "--exact"));
        assertThat(exact.get("rows_estimated_from").isNull()).isTrue();
        assertThat(exact.at("/write_tables/1/rows").asLong()).isEqualTo(3);
        assertThat(exact.at("/write_tables/1/rows_estimated").asBoolean()).isFalse();
        assertThat(kit(db, "status", "--exact").out()).containsPattern("user_registered_1 +write +3\n");
    }

    @Test
    void retireDryRunAsJsonSaysWhatWouldGoAndWhatBlocksIt() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (Connection old = db.connectAsAppRole(0)) {
            KitCommandTest.Result r = kit(db, "retire", "users_0", "--dry-run", "--format", "json");
            assertThat(r.status()).isEqualTo(kit(db, "retire", "users_0", "--dry-run").status()).isEqualTo(1);
            JsonNode plan = json(r);
            assertThat(names(plan)).containsExactly("format_version", "command", "database", "read_table", "domain", "dry_run",
                    "schema_versions", "feeds", "clients", "registered_apps", "referrers", "dependents", "would_retire", "retired", "exit_status");
            assertThat(plan.get("read_table").asString()).isEqualTo("users_0");
            assertThat(plan.get("schema_versions").valueStream().map(JsonNode::asInt)).containsExactly(0);
            assertThat(plan.get("feeds").valueStream().map(f -> f.get("write_table").asString()))
                    .contains("user_registered_0", "user_registered_1", "password_changed_2");
            assertThat(plan.at("/clients/0/application_name").asString()).isEqualTo("app-v0");
            assertThat(plan.get("would_retire").asBoolean()).isFalse();
            assertThat(plan.get("retired").asBoolean()).isFalse();

            // Refused for real: exit 3, and a script still reads a document saying why.
            KitCommandTest.Result refused = kit(db, "retire", "users_0", "--format", "json");
            assertThat(refused.status()).isEqualTo(3);
            assertThat(refused.err()).as("the message on stderr, as in text").contains("KT005").contains("hint: ");
            JsonNode refusal = Json.MAPPER.readTree(refused.out());
            assertThat(names(refusal)).containsExactly("format_version", "command", "database", "error", "exit_status");
            assertThat(refusal.at("/error/sqlstate").asString()).isEqualTo("KT005");
            assertThat(refusal.at("/error/message").asString()).contains("still in use by connected clients of schema version 0");
            assertThat(refusal.at("/error/hint").asString()).contains("--ignore-session");
            assertThat(refusal.get("exit_status").asInt()).isEqualTo(3);
        }
        KitCommandTest.Result free = kit(db, "retire", "users_0", "--dry-run", "--format", "json");
        assertThat(free.status()).isZero();
        assertThat(json(free).get("would_retire").asBoolean()).isTrue();
        assertThat(json(free).get("clients").isEmpty()).isTrue();
        KitCommandTest.Result retired = kit(db, "retire", "users_0", "--format", "json");
        assertThat(retired.status()).as(retired.err()).isZero();
        assertThat(json(retired).get("retired").asBoolean()).isTrue();
        assertThat(json(kit(db, "status", "--format", "json")).at("/read_versions/0/state").asString()).isEqualTo("retired");
    }

    @Test
    void mermaidDrawsEveryFeedOfTheExampleAndWhichReadVersionsServeWhichSchemaVersions() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        KitCommandTest.Result r = kit(db, "status", "--format", "mermaid");
        assertThat(r.status()).as(r.err()).isZero();
        String graph = r.out();
        assertThat(graph).startsWith("flowchart LR\n");
        JsonNode status = json(kit(db, "status", "--format", "json"));
        List<String> nodes = graph.lines().filter(l -> l.matches(" +[wrs][0-9]+\\[.*")).toList();
        int feeds = 0;
        for (JsonNode read : status.get("read_versions")) {
            String readNode = node(nodes, read.get("table").asString() + "<br/>" + read.get("state").asString());
            for (JsonNode feed : read.get("feeds")) {
                String writeNode = node(nodes, feed.get("write_table").asString());
                assertThat(graph).as("%s -> %s", feed.get("write_table"), read.get("table"))
                        .containsPattern("\n  " + writeNode + " -->\\|" + feed.get("kind").asString() + "[^|]*\\| " + readNode + "\n");
                feeds++;
            }
        }
        assertThat(feeds).as("feeds of the example at its latest version").isEqualTo(10);
        assertThat(graph).contains("users_2<br/>live", "users_0<br/>retired", "version 3<br/>live", "version 0<br/>retired")
                .containsPattern("\n  " + node(nodes, "users_4<br/>live") + " --> " + node(nodes, "version 4<br/>live") + "\n")
                .containsPattern("\n  " + node(nodes, "users_2<br/>live") + " --> " + node(nodes, "version 3<br/>live") + "\n")
                .containsPattern("\n  " + node(nodes, "messages_3<br/>live") + " --> " + node(nodes, "version 3<br/>live") + "\n")
                .containsPattern("\n  " + node(nodes, "users_0<br/>retired") + " -.-> " + node(nodes, "version 0<br/>retired") + "\n");
    }

    /** The id of the graph's node labelled {@code label}. */
    private static String node(List<String> nodes, String label) {
        return nodes.stream().filter(l -> l.endsWith("[\"" + label + "\"]")).map(l -> l.strip().substring(0, l.strip().indexOf('[')))
                .findFirst().orElseThrow(() -> new AssertionError("no node " + label + " in " + nodes));
    }

    @Test
    void statusWarnsInTextAndJsonWhenTheDatabasesKitIsNotTheCommands() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        sql(db, "CREATE OR REPLACE FUNCTION kit.version() RETURNS text LANGUAGE sql AS $$SELECT '0.3.0'::text$$");
        KitCommandTest.Result text = kit(db, "status");
        assertThat(text.status()).isEqualTo(1);
        assertThat(text.out()).contains("KIT   the database has kit 0.3.0, this command is kit " + KitVersion.current());
        KitCommandTest.Result asJson = kit(db, "status", "--format", "json");
        assertThat(asJson.status()).isEqualTo(1);
        JsonNode kit = json(asJson).get("kit");
        assertThat(kit.get("database").asString()).isEqualTo("0.3.0");
        assertThat(kit.get("command").asString()).isEqualTo(KitVersion.current());
        assertThat(kit.get("same").asBoolean()).isFalse();
        assertThat(kit.get("warning").asString()).contains("the database has kit 0.3.0", "flyway:migrate");
    }

    @Test
    void anUnknownFormatIsAUsageError() {
        TestDatabase db = TestDatabases.migratedTo("0");
        KitCommandTest.Result xml = kit(db, "status", "--format", "xml");
        assertThat(xml.status()).isEqualTo(2);
        assertThat(xml.err()).contains("kit: --format must be one of text, json, mermaid (got xml)");
        assertThat(xml.out()).isEmpty();
        KitCommandTest.Result graph = kit(db, "verify", "--format", "mermaid");
        assertThat(graph.status()).isEqualTo(2);
        assertThat(graph.err()).contains("kit: --format must be one of text, json (got mermaid)");
        assertThat(kit(db, "drift", "--format", "yaml").status()).isEqualTo(2);
        assertThat(kit(db, "retire", "users_0", "--dry-run", "--format", "csv").status()).isEqualTo(2);
    }

    @Test
    void onADatabaseWithoutTheKitJsonSaysSoAndExits1() {
        TestDatabase db = TestDatabases.empty();
        for (String command : new String[] {"status", "verify", "drift"}) {
            KitCommandTest.Result r = kit(db, command, "--format", "json");
            assertThat(r.status()).as(command).isEqualTo(1);
            JsonNode none = json(r);
            assertThat(none.get("kit_installed").asBoolean()).isFalse();
            assertThat(none.get("command").asString()).isEqualTo(command);
            assertThat(none.get("exit_status").asInt()).isEqualTo(1);
        }
        KitCommandTest.Result graph = kit(db, "status", "--format", "mermaid");
        assertThat(graph.status()).isEqualTo(1);
        assertThat(graph.out()).isEmpty();
        assertThat(graph.err()).contains("has no kit installed");
    }

    /**
     * Before its upgrade, a database of an earlier kit (0.7.0, the previous one; 0.6.0, whose catalog
     * had no domains; both frozen in kit-tests) is reported with what that kit has, and the kits'
     * versions differ (exit 1): no command stops at a column or function that only the newer kit has.
     */
    @ParameterizedTest(name = "kit {0}")
    @ValueSource(strings = {"0.6.0", "0.7.0", "0.8.0", "0.9.0"})
    void statusVerifyAndTheGraphReportADatabaseOfAnEarlierKit(String earlier) throws Exception {
        TestDatabase db = TestDatabases.empty();
        db.migrateWithKit("filesystem:../kit-tests/src/test/resources/frozen-kit-" + earlier, "3");  // version 4 needs this kit
        for (String format : List.of("text", "json", "mermaid")) {
            KitCommandTest.Result status = kit(db, "status", "--format", format);
            assertThat(status.status()).as("status --format %s: %s", format, status.err()).isEqualTo(1);
        }
        assertThat(kit(db, "status").out()).contains(earlier);
        JsonNode status = json(kit(db, "status", "--format", "json"));
        assertThat(status.at("/kit/database").asString()).isEqualTo(earlier);
        assertThat(status.at("/schema_versions/0/domain").asString()).as("the example is in public")
                .isEqualTo("public");
        KitCommandTest.Result verify = kit(db, "verify");
        assertThat(verify.status()).as(verify.err()).isZero();
        assertThat(kit(db, "drift").status()).isZero();
    }
}
