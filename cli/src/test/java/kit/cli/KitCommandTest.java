package kit.cli;

import kit.client.KitVersion;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The operator's kit command against a real database: what it prints and the exit status it gives. */
class KitCommandTest {

    record Result(int status, String out, String err) {
    }

    static Result kit(TestDatabase db, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = new Kit(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8))
                .run(args, Map.of("KIT_DB_URL", db.url().jdbc()));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static void sql(TestDatabase db, String... statements) throws Exception {
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            for (String statement : statements) {
                s.execute(statement);
            }
        }
    }

    @Test
    void statusShowsVersionsReadTablesFeedsAndConnectedApps() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (Connection app = db.connectAsAppRole(1)) {
            Result r = kit(db, "status");
            assertThat(r.status()).isZero();
            assertThat(r.out()).contains("Schema versions", "users_2", "live", "Feeds", "project_password_changed_2_into_users_1",
                    "Connected clients", "Replication", "the kit's triggers fire ALWAYS")
                    .containsPattern("\\n +public +1 +\\d+ +app-v1 +\\w+ +[0-9.:]+ +[0-9-]+ [0-9:]+ +registered\\n");
            sql(db, "CREATE PUBLICATION kit_facts FOR TABLE user_registered_1, users_2");
            assertThat(kit(db, "status").out()).contains("publishes kit_facts: 2 kit tables");
        }
    }

    @Test
    void statusShowsWhatAFeedComputes() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        String out = kit(db, "status").out();
        assertThat(out).containsPattern("user_registered_1 +users_4 +insert +project_user_registered_1_into_users_4 +"
                + "email = lower\\(f.email\\), username = coalesce\\(f.username, split_part\\(f.email, '@', 1\\)\\)\\n");
        assertThat(out).containsPattern("message_sent_3 +users_4 +accumulate by src_id +\\S+ +message_count = 1\\n");
    }

    /** A change a table's capture missed: verify names it and what records it, kit.recapture does. */
    @Test
    void verifyComparesATableUnderCaptureWithItsReadVersion() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        sql(db, "CREATE TABLE customers (customer_id bigint PRIMARY KEY, email text NOT NULL)",
                "INSERT INTO customers SELECT g, 'c' || g || '@x.org' FROM generate_series(1, 50) g",
                "SELECT kit.baseline('customers', schema_version => 90)", "CALL kit.backfill()");
        assertThat(kit(db, "verify", "customers_90").status()).isZero();
        sql(db, "ALTER TABLE customers DISABLE TRIGGER capture_customers", "UPDATE customers SET email = 'missed@x.org' WHERE customer_id = 7",
                "ALTER TABLE customers ENABLE ALWAYS TRIGGER capture_customers");

        Result verify = kit(db, "verify", "customers_90");
        assertThat(verify.status()).as(verify.out() + verify.err()).isEqualTo(1);
        assertThat(verify.out()).contains("DIFF  customers_90: 1 row differs from the table under capture", "only in the captured table",
                "missed@x.org", "not in the captured table", "SELECT kit.recapture('customers')");
        JsonNode check = KitOutputFormatsTest.json(kit(db, "verify", "customers_90", "--format", "json")).at("/tables/0");
        assertThat(check.get("uncaptured_rows").asInt()).as("one id, listed as each side has it").isEqualTo(1);

        sql(db, "SELECT kit.recapture('customers')");
        assertThat(kit(db, "verify", "customers_90").status()).isZero();
    }

    @Test
    void verifyFindsATamperedRowAndRebuildRepairsItWhileWritersGoOn() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        sql(db, "INSERT INTO user_registered_1 (email, password_hash) SELECT 'u' || g || '@x.org', 'h' FROM generate_series(1, 3000) g",
                "UPDATE users_2 SET email = 'tampered@x.org' WHERE id = (SELECT min(id) FROM users_2)");

        Result verify = kit(db, "verify");
        assertThat(verify.status()).isEqualTo(1);
        assertThat(verify.out()).contains("DIFF  users_2", "tampered@x.org", "only in rebuild", "ok    messages_3");
        assertThat(verify.out()).as("one row, listed as live has it and as a replay gives it")
                .contains("DIFF  users_2: 1 row differs from a rebuild from its facts (1 with other values)");

        Result rebuild = kit(db, "rebuild", "users_2", "--batch-size", "500");
        assertThat(rebuild.status()).as(rebuild.err()).isZero();
        assertThat(rebuild.out()).contains("Backfilling users_2__rebuild", "swapped in");

        Result after = kit(db, "verify", "users_2");
        assertThat(after.status()).isZero();
        try (Connection app = db.connectAsAppRole(2); Statement s = app.createStatement()) {
            s.execute("INSERT INTO user_registered_1 (email, password_hash) VALUES ('after@x.org', 'h')");
            var rs = s.executeQuery("SELECT count(*) FROM users_2 WHERE email IN ('after@x.org', 'tampered@x.org')");
            rs.next();
            assertThat(rs.getLong(1)).as("the app role still reads the swapped-in table, fed as before").isEqualTo(1);
        }
    }

    @Test
    void retireDryRunSaysWhatWouldGoAndRetireRefusesWhileOldAppsAreConnected() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (Connection old = db.connectAsAppRole(0)) {
            String pid;
            try (Statement s = old.createStatement(); var rs = s.executeQuery("SELECT pg_backend_pid()")) {
                rs.next();
                pid = rs.getString(1);
            }
            Result dry = kit(db, "retire", "users_0", "--dry-run");
            assertThat(dry.status()).as("a dry run that finds blockers").isEqualTo(1);
            assertThat(dry.out()).contains("would", "retire schema versions: 0", "blocked by connected clients: pid " + pid + " (application 'app-v0'");
            Result refused = kit(db, "retire", "users_0");
            assertThat(refused.status()).isEqualTo(3);
            assertThat(refused.err()).contains("KT005", "app-v0").contains("hint: Stop those clients");
            Result retired = kit(db, "retire", "users_0", "--ignore-session", pid);
            assertThat(retired.status()).as("the operator vouches for the session: " + retired.err()).isZero();
        }
        assertThat(kit(db, "status").out()).containsPattern("users_0 +user +retired");
    }

    @Test
    void backfillCompletesABuildingVersionAndAbortDropsOne() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        sql(db, "INSERT INTO user_registered_0 (email, password_hash) SELECT 'u' || g || '@x.org', 'h' FROM generate_series(1, 2000) g",
                "CREATE TABLE people_8 (id bigint PRIMARY KEY, email text)",
                "SELECT kit.create_read_version('people_8', 'person')",
                "SELECT kit.add_feed('user_registered_0', 'people_8')",
                "CREATE TABLE people_9 (id bigint PRIMARY KEY, email text)",
                "SELECT kit.create_read_version('people_9', 'person')",
                "SELECT kit.add_feed('user_registered_0', 'people_9')");
        assertThat(kit(db, "status").out()).contains("0 facts applied, 2000 to go");
        Result aborted = kit(db, "abort", "people_9");
        assertThat(aborted.status()).isZero();
        Result backfill = kit(db, "backfill", "--batch-size", "300");
        assertThat(backfill.status()).as(backfill.err()).isZero();
        assertThat(backfill.out()).contains("Backfilling people_8", "2000 of about 2000 facts", "people_8 is complete").doesNotContain("people_9");
        assertThat(kit(db, "verify", "people_8").status()).isZero();
        assertThat(kit(db, "backfill").out()).contains("Nothing to backfill");
    }

    @Test
    void statusStillWorksAfterAnAbort() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        sql(db, "CREATE TABLE people_9 (id bigint PRIMARY KEY, email text)",
                "SELECT kit.create_read_version('people_9', 'person')",
                "SELECT kit.add_feed('user_registered_0', 'people_9')");
        assertThat(kit(db, "abort", "people_9").status()).isZero();
        Result status = kit(db, "status");
        assertThat(status.status()).as(status.err()).isZero();
        assertThat(status.out()).containsPattern("people_9 +person +aborted");

        sql(db, "SELECT kit.begin_rebuild('users_2')");
        Result halfRebuilt = kit(db, "status");
        assertThat(halfRebuilt.status()).as(halfRebuilt.err()).isZero();
        assertThat(halfRebuilt.out()).containsPattern("users_2__rebuild +user +building \\(rebuild of users_2\\)");
    }

    @Test
    void backfillSaysWhatItWaitsForWhileAWriterStaysOpen() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        sql(db, "CREATE TABLE people_9 (id bigint PRIMARY KEY, email text)",
                "SELECT kit.create_read_version('people_9', 'person')",
                "SELECT kit.add_feed('user_registered_0', 'people_9')");
        try (Connection writer = db.connectAs("slow-writer")) {
            writer.setAutoCommit(false);
            try (Statement s = writer.createStatement()) {
                s.execute("INSERT INTO user_registered_0 (email, password_hash) VALUES ('slow@x.org', 'h')");
            }
            Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(2500);
                    writer.commit();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Result backfill = kit(db, "backfill");
            assertThat(backfill.status()).as(backfill.err()).isZero();
            assertThat(backfill.out()).contains("waits for a transaction that writes to its write tables", "slow-writer", "people_9 is complete");
        }
    }

    @Test
    void aFailedBackfillShowsInStatusWithItsWayOutAndTheOtherVersionsGoOn() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        sql(db, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('a@x.org', 'h', 'same'), ('b@x.org', 'h', 'same')",
                "CREATE TABLE people_8 (id bigint PRIMARY KEY, username text UNIQUE)",
                "SELECT kit.create_read_version('people_8', 'person')",
                "SELECT kit.add_feed('user_registered_1', 'people_8')",
                "CREATE TABLE people_9 (id bigint PRIMARY KEY, email text)",
                "SELECT kit.create_read_version('people_9', 'person')",
                "SELECT kit.add_feed('user_registered_1', 'people_9')");
        Result backfill = kit(db, "backfill");
        assertThat(backfill.status()).isEqualTo(3);
        assertThat(backfill.out()).contains("people_8 FAILED", "people_9 is complete");
        assertThat(backfill.err()).contains("KT003", "Duplicate person username: same", "kit abort people_8");

        Result status = kit(db, "status");
        assertThat(status.status()).as("status with a failed backfill").isEqualTo(1);
        assertThat(status.out()).containsPattern("people_8 +person +building").contains("FAILED", "KT003: Duplicate person username: same")
                .contains("FAILED backfill of people_8");
        assertThat(kit(db, "abort", "people_8").status()).isZero();
        assertThat(kit(db, "backfill").status()).isZero();
    }

    @Test
    void statusAndVerifyReportDriftAndRepairRestoresIt() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        assertThat(kit(db, "status").out()).contains("ok    no drift");
        sql(db, "ALTER TABLE password_changed_2 DISABLE TRIGGER feed_password_changed_2");

        Result status = kit(db, "status");
        assertThat(status.status()).isEqualTo(1);
        assertThat(status.out()).contains("DRIFT 1", "feed_password_changed_2 on password_changed_2", "disabled", "kit repair");
        Result verify = kit(db, "verify");
        assertThat(verify.status()).isEqualTo(1);
        assertThat(verify.out()).contains("DRIFT 1", "ok    users_2 equals a rebuild from its facts");

        Result repair = kit(db, "repair");
        assertThat(repair.status()).as(repair.err()).isZero();
        assertThat(repair.out()).contains("ok    no drift", "kit verify, then kit rebuild");
        assertThat(kit(db, "verify").status()).isZero();
    }

    @Test
    void verifyReportsASecurityDefinerFunctionWithoutAPinnedSearchPath() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        Result clean = kit(db, "verify");
        assertThat(clean.status()).as(clean.err()).isZero();
        assertThat(clean.out()).contains("ok    no writer can make its code run with another role's rights");
        sql(db, "CREATE FUNCTION public.careless() RETURNS void LANGUAGE sql SECURITY DEFINER AS 'SELECT'");
        Result unsafe = kit(db, "verify");
        assertThat(unsafe.status()).isEqualTo(1);
        assertThat(unsafe.out()).contains("UNSAFE 1", "public.careless()", "without a pinned search_path", "SET search_path = pg_catalog, pg_temp");
    }

    /** The kit leaves the domain's schemas as it found them; a schema every role may create in is a finding, with its fix. */
    @Test
    void statusReportsADomainSchemaEveryRoleMayCreateInWithTheStatementThatFixesIt() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        sql(db, "GRANT CREATE ON SCHEMA public TO PUBLIC");
        db.migrations().migrateAll();
        Result status = kit(db, "status");
        assertThat(status.status()).as("a migrate takes nothing back that the adopter granted").isEqualTo(1);
        assertThat(status.out()).contains("UNSAFE 1", "schema public", "PUBLIC may create objects in it", "REVOKE CREATE ON SCHEMA public FROM PUBLIC;");
        sql(db, "REVOKE CREATE ON SCHEMA public FROM PUBLIC");
        assertThat(kit(db, "status").status()).isZero();
        // A writer by role: the app role itself, or a login that inherits it.
        String member = TestDatabases.runRole("schema_writer");
        sql(db, "CREATE ROLE " + member + " IN ROLE " + TestDatabases.rolePrefix() + "2", "GRANT CREATE ON SCHEMA public TO " + member);
        Result writer = kit(db, "verify");
        assertThat(writer.status()).isEqualTo(1);
        assertThat(writer.out()).contains("REVOKE CREATE ON SCHEMA public FROM " + member + ";");
        sql(db, "REVOKE CREATE ON SCHEMA public FROM " + member);
        assertThat(kit(db, "verify").status()).isZero();
    }

    @Test
    void everyCommandHasItsOwnHelp() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("0");
        for (String command : new String[] {"status", "verify", "drift", "repair", "rebuild", "backfill", "retire", "abort"}) {
            Result help = kit(db, command, "--help");
            assertThat(help.status()).as(command).isZero();
            assertThat(help.out()).as(command).contains("Usage: kit " + command, "--db-url");
        }
        assertThat(kit(db, "retire", "--help").out()).contains("--dry-run", "READ_TABLE");
        assertThat(kit(db, "verify", "--help").out()).contains("--max-rows", "--format");
        assertThat(kit(db, "status", "--help").out()).contains("--format", "mermaid", "--exact");
        assertThat(kit(db, "help", "backfill").out()).contains("--batch-size");
        Result version = kit(db, "--version");
        assertThat(version.status()).isZero();
        // One number: the command's, the kit's jar's and the one the kit installed in the database.
        assertThat(version.out().strip()).isEqualTo("kit " + KitVersion.current());
        try (var c = db.connect(); var s = c.createStatement(); var r = s.executeQuery("SELECT kit.version()")) {
            r.next();
            assertThat(r.getString(1)).isEqualTo(KitVersion.current());
        }
    }

    @Test
    void badUsageGetsExitStatus2AndAClearLine() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("0");
        assertThat(kit(db, "frobnicate").status()).isEqualTo(2);
        Result noTable = kit(db, "rebuild");
        assertThat(noTable.status()).isEqualTo(2);
        assertThat(noTable.err()).contains("Missing required parameter: 'READ_TABLE'");
        assertThat(kit(db, "verify", "--max-rows", "zero").status()).isEqualTo(2);
        Result zero = kit(db, "backfill", "--batch-size", "0");
        assertThat(zero.status()).isEqualTo(2);
        assertThat(zero.err()).contains("--batch-size needs a positive whole number");
        assertThat(kit(db).status()).as("no command: the usage, as bad usage").isEqualTo(2);
        Result loud = kit(db, "--log-level", "loud", "status");
        assertThat(loud.status()).isEqualTo(2);
        assertThat(loud.err()).contains("log level must be one of trace, debug, info, warn, error, off (got loud)");
        Result help = kit(db, "help");
        assertThat(help.status()).isZero();
        assertThat(help.out()).contains("Usage: kit", "status", "verify", "drift", "repair", "rebuild", "backfill", "retire", "abort", "--db-url", "Exit status");
        assertThat(kit(db, "--help").out()).isEqualTo(help.out());
        for (String[] command : new String[][] {{"verify", "nope_1"}, {"rebuild", "nope_1"}, {"retire", "nope_1"},
                {"abort", "nope_1"}, {"backfill", "nope_1"}}) {
            Result unknownTable = kit(db, command);
            assertThat(unknownTable.status()).as("kit %s", String.join(" ", command)).isEqualTo(2);
            assertThat(unknownTable.err()).as("kit %s", String.join(" ", command))
                    .contains("kit: nope_1 is not a read version of this database (kit status lists them)");
        }
        Result live = kit(db, "backfill", "users_0");
        assertThat(live.status()).isEqualTo(2);
        assertThat(live.err()).contains("kit: users_0 is live: kit backfill works on building read versions");
        assertThat(kit(db, "abort", "users_0").err()).contains("users_0 is live: kit abort works on building read versions");
    }

    @Test
    void aViewOverAReadTableBlocksRetireBeforeItPrintsAPlan() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        sql(db, "CREATE SCHEMA mine", "CREATE VIEW mine.u0 AS SELECT id FROM public.users_0");
        Result dry = kit(db, "retire", "users_0", "--dry-run");
        assertThat(dry.status()).isEqualTo(1);
        assertThat(dry.out()).contains("blocked by objects that depend on its table: view mine.u0");
        Result refused = kit(db, "retire", "users_0");
        assertThat(refused.status()).isEqualTo(3);
        assertThat(refused.err()).contains("KT006", "mine.u0");
        assertThat(refused.out()).doesNotContain("Retiring users_0");
    }

    @Test
    void repairSaysWhatItCannotRestoreAndExits1() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("3");  // users_2 the only read version of users
        sql(db, "ALTER TABLE users_2 DROP CONSTRAINT users_2_email_key",
                "INSERT INTO user_registered_1 (email, password_hash) VALUES ('twice@x.org', 'h'), ('twice@x.org', 'h')");
        Result status = kit(db, "status");
        assertThat(status.status()).isEqualTo(1);
        assertThat(status.out()).contains("users_2", "lost its rule constraint UNIQUE (email)");
        Result repair = kit(db, "repair");
        assertThat(repair.status()).isEqualTo(1);
        assertThat(repair.out()).contains("NOT RESTORED", "UNIQUE (email)", "its rows break it");
        Result verify = kit(db, "verify", "users_2");
        assertThat(verify.status()).isEqualTo(1);
        assertThat(verify.out()).contains("fact breaks a rule", "user_registered_1 seq").doesNotContain("repair it with: kit rebuild");
    }

    @Test
    void backfillProgressAfterAResumeCountsOnlyThisRunsFacts() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        sql(db, "INSERT INTO user_registered_0 (email, password_hash) SELECT 'u' || g || '@x.org', 'h' FROM generate_series(1, 3000) g",
                "CREATE TABLE people_9 (id bigint PRIMARY KEY, email text)",
                "SELECT kit.create_read_version('people_9', 'person')",
                "SELECT kit.add_feed('user_registered_0', 'people_9')",
                // a run that stopped after its first batch
                "SELECT kit.backfill_step('people_9', 1000)");
        Result backfill = kit(db, "backfill", "--batch-size", "500");
        assertThat(backfill.status()).as(backfill.err()).isZero();
        assertThat(backfill.out()).contains("about 2000 facts to apply", "2000 of about 2000 facts (100%)").doesNotContain("3000 of");
    }

    @Test
    void statusOnADatabaseWithAnOlderKitSaysSoAndExits1() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        assertThat(kit(db, "status").out()).containsPattern("Kit [0-9.]+ \\(the database's and this command's\\)");
        sql(db, "CREATE OR REPLACE FUNCTION kit.version() RETURNS text LANGUAGE sql AS $$SELECT '0.3.0'::text$$");
        Result status = kit(db, "status");
        assertThat(status.status()).isEqualTo(1);
        assertThat(status.out()).contains("the database has kit 0.3.0, this command is kit", "flyway:migrate");
    }

    @Test
    void everyCommandOnADatabaseWithoutTheKitSaysSoAndHowToInstallIt() {
        TestDatabase db = TestDatabases.empty();
        for (String[] command : new String[][] {{"status"}, {"verify"}, {"verify", "users_2"}, {"repair"}, {"rebuild", "users_2"},
                {"backfill"}, {"backfill", "users_2"}, {"retire", "users_0"}, {"retire", "users_0", "--dry-run"}, {"abort", "users_2"}}) {
            String name = "kit " + String.join(" ", command);
            Result result = kit(db, command);
            assertThat(result.status()).as("%s exit status", name).isEqualTo(1);
            assertThat(result.out()).as(name).contains("NO KIT", "has no kit installed", "flyway:migrate", "classpath:db/kit");
            assertThat(result.err()).as(name).doesNotContain("SQLSTATE");
        }
        assertThat(kit(db, "--help").out()).as("kit --help's exit status 1").contains("the database has no kit");
    }

    @Test
    void aDatabaseThatCannotBeReachedExits3AsKitHelpSaysWithTheUrlToCheck() {
        TestDatabase db = TestDatabases.empty();
        String help = kit(db, "--help").out();
        String refusedPort = "jdbc:postgresql://127.0.0.1:1/nowhere?user=postgres&password=secret";
        String noDatabase = db.url().withDatabase("no_such_database_here").jdbc();
        for (String url : new String[] {refusedPort, noDatabase}) {
            Result result = kit(db, "status", "--db-url", url);
            assertThat(result.status()).as(url).isEqualTo(3);
            assertThat(result.err()).as(url).contains("(SQLSTATE ", "hint: could not connect to jdbc:postgresql://", "check --db-url or KIT_DB_URL")
                    .doesNotContain("secret");
        }
        assertThat(help).contains("3  the database refused, or could not be reached");
    }

    @Test
    void rebuildOfARetiredVersionSaysItsTableIsGoneAndHowToReadItAgain() {
        TestDatabase db = TestDatabases.migratedTo("2.1");
        Result rebuild = kit(db, "rebuild", "users_0");
        assertThat(rebuild.status()).isEqualTo(2);
        assertThat(rebuild.err()).contains("users_0 is retired: its table and feeds are gone",
                "create a new read version", "kit.create_read_version");
    }

    @Test
    void aMistypedCommandGetsASuggestion() {
        TestDatabase db = TestDatabases.empty();
        Result typo = kit(db, "stauts");
        assertThat(typo.status()).isEqualTo(2);
        assertThat(typo.err()).contains("Unmatched argument at index 0: 'stauts'", "Did you mean", "status");
        Result option = kit(db, "verify", "--max-row", "3");
        assertThat(option.status()).isEqualTo(2);
        assertThat(option.err()).contains("--max-rows");
    }
}
