package kit.tests;

import kit.client.KitError;
import kit.client.Migrations;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static kit.client.Jdbc.exec;
import static kit.client.Jdbc.rows;
import static kit.client.Jdbc.strings;
import static kit.tests.Sql.assertFailsWith;
import static kit.tests.Sql.value;
import static kit.tests.Sql.verify;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * An existing table with rows comes under the kit online (kit.baseline): its rows become facts,
 * every change the old app makes to it meanwhile becomes a fact too, and read version 0 equals the
 * table row for row (here in a domain of its own, crm); the tidy-up (kit.end_capture) leaves it read-only or drops it. Tables the kit
 * cannot take are refused with KT006, and nothing is made.
 */
class BaselineTest {

    static final int ROWS = 200_000;

    private static void customers(Connection c, int rows) throws SQLException {
        exec(c, "CREATE SCHEMA crm");
        exec(c, """
                CREATE TABLE crm.customers (
                    customer_id bigserial PRIMARY KEY,
                    email       text NOT NULL UNIQUE,
                    name        text,
                    since       date NOT NULL DEFAULT DATE '2020-01-01',
                    CHECK (email LIKE '%@%'))""");
        exec(c, "INSERT INTO crm.customers (email, name) SELECT 'c' || g || '@example.org', 'customer ' || g FROM generate_series(1, ?) g", rows);
    }

    /** Rows of the old table that its read version does not have as they are, and the other way round. */
    private static long differences(Connection c) throws SQLException {
        return (Long) value(c, """
                SELECT (SELECT count(*) FROM (SELECT customer_id, email, name, since FROM crm.customers
                                              EXCEPT SELECT id, email, name, since FROM crm.customers_0) a)
                     + (SELECT count(*) FROM (SELECT id, email, name, since FROM crm.customers_0
                                              EXCEPT SELECT customer_id, email, name, since FROM crm.customers) b)""");
    }

    /**
     * The test: 200,000 rows with a unique column, and writers inserting, updating and
     * deleting through the old table while the migration brings it under the kit and the backfill
     * copies it. At the end version 0 equals the old table row for row, verify passes, and a rebuild
     * gives the same table.
     */
    @Test
    void aTableUnderLiveWritesComesUnderTheKitRowForRow() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            customers(c, ROWS);
        }
        try (var writers = new BackgroundWriters(4, db::connect, (c, writer, n) -> {
            // An app's pace, not a benchmark's: 3 inserts, 6 updates and a delete in every 10 writes.
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            long id = ThreadLocalRandom.current().nextLong(1, ROWS + 1);
            switch (n % 10) {
                case 0, 4, 7 -> exec(c, "INSERT INTO crm.customers (email, name) VALUES (?, 'new')", "w" + writer + "-" + n + "@example.org");
                case 9 -> exec(c, "DELETE FROM crm.customers WHERE customer_id = ?", id);
                default -> exec(c, "UPDATE crm.customers SET email = ?, name = 'changed' WHERE customer_id = ?",
                        "u" + writer + "-" + n + "@example.org", id);
            }
        })) {
            writers.awaitWrites(200);
            try (Connection c = db.connect()) {
                c.setAutoCommit(false);
                exec(c, "SELECT kit.baseline('crm.customers')");
                c.commit();
                c.setAutoCommit(true);
                int before = writers.written();
                long started = System.nanoTime();
                exec(c, "CALL kit.backfill()");
                System.out.printf("BaselineTest: %d rows copied and made live in %d ms beside %d writes%n", ROWS,
                        (System.nanoTime() - started) / 1_000_000, writers.written() - before);
                assertThat(writers.written()).as("writes during the copy and the backfill").isGreaterThan(before);
                int beforeVerify = writers.written();
                assertThat(verify(c, "crm.customers_0")).as("verify while the writers go on: the table, its facts and its read version"
                        + " as of one snapshot").isEmpty();
                writers.awaitWrites(Math.max(writers.written(), beforeVerify + 1) + 200);
            }
            assertThat(writers.stop()).as("writes that failed").isEmpty();
        }
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT state FROM kit.read_version WHERE read_table = 'crm.customers_0'")).isEqualTo("live");
            assertThat(rows(c, "SELECT state, rows_copied <= ? AS bounded FROM kit.baseline_table", ROWS))
                    .containsExactly(Map.of("state", "capturing", "bounded", true));
            assertThat(value(c, "SELECT count(*) FROM crm.customers_0")).isEqualTo(value(c, "SELECT count(*) FROM crm.customers"));
            assertThat(differences(c)).as("rows that differ between crm.customers and crm.customers_0").isZero();
            assertThat(verify(c, "crm.customers_0")).isEmpty();
            assertThat(rows(c, "SELECT * FROM kit.drift()")).isEmpty();
            var live = rows(c, "SELECT id, email, name, since FROM crm.customers_0 ORDER BY id");
            exec(c, "CALL kit.rebuild('crm.customers_0')");
            assertThat(rows(c, "SELECT id, email, name, since FROM crm.customers_0 ORDER BY id")).as("crm.customers_0 rebuilt").isEqualTo(live);
        }
    }

    /** The old app moves to facts; the tidy-up ends the capture and leaves the table read-only, or drops it. */
    @Test
    void afterTheMoveTheTidyUpEndsTheCapture() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            customers(c, 1000);
            exec(c, "SELECT kit.baseline('crm.customers')");
            var early = assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.end_capture('crm.customers')"));
            assertThat(early.getMessage()).contains("its copy is not done");
            var notYet = assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.finish_backfill('crm.customers_0')"));
            assertThat(notYet.getMessage()).contains("the rows of crm.customers are still being copied");
            exec(c, "CALL kit.backfill()");
            assertThat(differences(c)).isZero();

            // The app writes facts now: a new customer, a change, a removal.
            exec(c, "INSERT INTO crm.customers_recorded_0 (row_id, email, name, since) VALUES (nextval('crm.customers_customer_id_seq'), 'fact@example.org', 'f', DATE '2026-12-04')");
            exec(c, "INSERT INTO crm.customers_recorded_0 (row_id, email, name, since) VALUES (7, 'seven@example.org', 'seven', DATE '2020-01-01')");
            exec(c, "INSERT INTO crm.customers_removed_0 (row_id) VALUES (8)");
            assertThat(value(c, "SELECT email FROM crm.customers_0 WHERE id = 7")).isEqualTo("seven@example.org");
            assertThat(value(c, "SELECT count(*) FROM crm.customers_0 WHERE id = 8")).isEqualTo(0L);
            assertThat(value(c, "SELECT count(*) FROM crm.customers_0")).isEqualTo(1000L);

            exec(c, "SELECT kit.end_capture('crm.customers')");
            var readOnly = assertFailsWith(KitError.APPEND_ONLY, () -> exec(c, "UPDATE crm.customers SET name = 'x' WHERE customer_id = 1"));
            assertThat(readOnly.getMessage()).contains("crm.customers is read-only");
            assertFailsWith(KitError.APPEND_ONLY, () -> exec(c, "TRUNCATE crm.customers"));
            assertThat(value(c, "SELECT state FROM kit.baseline_table")).isEqualTo("ended");
            assertThat(value(c, "SELECT count(*) FROM pg_proc WHERE proname = 'capture_customers'")).isEqualTo(0L);
            assertThat(verify(c, "crm.customers_0")).isEmpty();
            assertThat(rows(c, "SELECT * FROM kit.drift()")).isEmpty();
        }
        TestDatabase dropped = TestDatabases.migrated();
        try (Connection c = dropped.connect()) {
            customers(c, 10);
            exec(c, "SELECT kit.baseline('crm.customers')");
            exec(c, "CALL kit.backfill()");
            exec(c, "SELECT kit.end_capture('crm.customers', drop_table => true)");
            assertThat(value(c, "SELECT to_regclass('crm.customers') IS NULL")).isEqualTo(true);
            assertThat(value(c, "SELECT nextval('crm.customers_customer_id_seq')")).as("the apps' next key").isEqualTo(11L);
            assertThat(value(c, "SELECT count(*) FROM crm.customers_0")).isEqualTo(10L);
        }
    }

    /**
     * README's "Bringing an existing table under the kit", as written: its two migrations, in a
     * directory of their own beside the kit, on a database that has only the app's table.
     */
    @Test
    void theReadmeRecipeRunsAsWritten(@TempDir Path migrations) throws Exception {
        String readme = Files.readString(Path.of("../README.md"));
        for (String name : List.of("V1__bring_customers_under_the_kit.sql", "V1_1__end_the_capture_of_customers.sql")) {
            Matcher block = Pattern.compile("```sql\\n(-- " + Pattern.quote(name) + "\\n.*?)```", Pattern.DOTALL).matcher(readme);
            assertThat(block.find()).as("README has %s", name).isTrue();
            // This run's role prefix, as -c kit.app_role_prefix=... gives it.
            Files.writeString(migrations.resolve(name), block.group(1).replace("kit_app_v0", TestDatabases.rolePrefix() + 0));
        }
        TestDatabase db = TestDatabases.empty();
        try (Connection c = db.connect()) {
            exec(c, """
                    CREATE TABLE customers (customer_id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text,
                                            since date NOT NULL DEFAULT DATE '2020-01-01')""");
            exec(c, "INSERT INTO customers (email, name) SELECT 'c' || g || '@example.org', 'customer ' || g FROM generate_series(1, 3000) g");
        }
        // As README's -Dflyway.baselineOnMigrate=true -Dflyway.baselineVersion=0 give it: the schema is not empty.
        var steps = new Migrations(db.url(), "filesystem:" + migrations, TestDatabases.rolePrefix());
        assertThat(steps.configure("1").baselineOnMigrate(true).baselineVersion("0").load().migrate().migrationsExecuted).isEqualTo(1);
        try (Connection c = db.connect()) {
            assertThat(rows(c, "SELECT version, state FROM kit.schema_versions")).containsExactly(Map.of("version", 0, "state", "live"));
            exec(c, "UPDATE customers SET name = 'captured' WHERE customer_id = 1");
            assertThat(value(c, """
                    SELECT count(*) FROM (SELECT * FROM customers EXCEPT SELECT id, email, name, since FROM customers_0) a"""))
                    .as("README's comparison").isEqualTo(0L);
            assertThat(value(c, "SELECT count(*) FROM customers_0")).isEqualTo(3000L);
        }
        try (Connection app = db.connectAsAppRole(0)) {
            exec(app, "INSERT INTO customers_recorded_0 (row_id, email, name, since) "
                    + "VALUES (nextval('customers_customer_id_seq'), 'new@example.org', 'n', DATE '2026-12-04')");
            exec(app, "INSERT INTO customers_removed_0 (row_id) VALUES (2)");
            assertThat(value(app, "SELECT count(*) FROM customers_0")).isEqualTo(3000L);
        }
        assertThat(steps.configure(null).baselineOnMigrate(true).baselineVersion("0").load().migrate().migrationsExecuted).isEqualTo(1);
        try (Connection c = db.connect()) {
            assertFailsWith(KitError.APPEND_ONLY, () -> exec(c, "DELETE FROM customers"));
            assertThat(value(c, "SELECT state FROM kit.baseline_table")).isEqualTo("ended");
        }
    }

    /** A customer of a table brought under the kit can be forgotten: facts and read row, not the old table. */
    @Test
    void aCustomerOfABaselinedTableCanBeForgotten() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            customers(c, 100);
            exec(c, "SELECT kit.baseline('crm.customers')");
            exec(c, "CALL kit.backfill()");
            exec(c, "UPDATE crm.customers SET email = 'c7-new@example.org' WHERE customer_id = 7");
            exec(c, "SELECT kit.declare_personal_data('crm.customers_recorded_0', "
                    + "'{\"email\": \"''forgotten-'' || f.row_id || ''@invalid''\", \"name\": \"NULL\"}', entity => 'customers', entity_column => 'row_id')");
            // While the old table is captured, its next write would record the person again.
            var captured = assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.forget('customers', 7, 'crm')"));
            assertThat(captured.getMessage()).contains("while crm.customers is still captured");
            exec(c, "SELECT kit.end_capture('crm.customers')");
            assertThat(rows(c, "SELECT facts_redacted, rows_reprojected FROM kit.forget('customers', 7, 'crm')"))
                    .containsExactly(Map.of("facts_redacted", 2L, "rows_reprojected", 1L));
            assertThat(value(c, "SELECT email FROM crm.customers_0 WHERE id = 7")).isEqualTo("forgotten-7@invalid");
            assertThat(value(c, "SELECT name IS NULL FROM crm.customers_0 WHERE id = 7")).isEqualTo(true);
            assertThat(value(c, "SELECT email FROM crm.customers WHERE customer_id = 7"))
                    .as("the old table, kept read-only, is not the kit's: dropped at the tidy-up, or erased by its owner").isEqualTo("c7-new@example.org");
            assertThat(value(c, "SELECT count(*) FROM crm.customers_recorded_0 WHERE email IN ('c7@example.org', 'c7-new@example.org')")).isEqualTo(0L);
            assertThat(verify(c, "crm.customers_0")).isEmpty();
        }
    }

    /**
     * The capture is the kit's, so drift names what would lose changes (a trigger gone or disabled, a
     * column the capture does not record) and repair puts the capture back; a baseline whose read
     * version was aborted gives the table back to its app as it was.
     */
    @Test
    void driftSeesTheCaptureAndAnAbortedBaselineLetsGo() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            customers(c, 100);
            exec(c, "SELECT kit.baseline('crm.customers')");
            exec(c, "CALL kit.backfill()");
            exec(c, "DROP TRIGGER capture_customers ON crm.customers");
            exec(c, "ALTER TABLE crm.customers DISABLE TRIGGER no_truncate_customers");
            assertThat(strings(c, "SELECT object || ': ' || problem FROM kit.drift()")).containsExactlyInAnyOrder(
                    "trigger capture_customers on crm.customers: missing: changes to the table are not captured, and its read version misses them",
                    "trigger no_truncate_customers on crm.customers: not enabled ALWAYS: some changes to the table are not captured");
            exec(c, "CALL kit.repair()");
            assertThat(rows(c, "SELECT * FROM kit.drift()")).isEmpty();
            exec(c, "UPDATE crm.customers SET name = 'after the repair' WHERE customer_id = 1");
            assertThat(differences(c)).isZero();
            exec(c, "ALTER TABLE crm.customers ADD COLUMN notes text");
            assertThat(strings(c, "SELECT problem FROM kit.drift()")).singleElement().asString().startsWith("has columns its capture does not record (notes)");
        }
        TestDatabase aborted = TestDatabases.migrated();
        try (Connection c = aborted.connect()) {
            customers(c, 10);
            exec(c, "SELECT kit.baseline('crm.customers')");
            exec(c, "SELECT kit.abort_read_version('crm.customers_0')");
            exec(c, "SELECT kit.end_capture('crm.customers')");
            exec(c, "TRUNCATE crm.customers");
            assertThat(value(c, "SELECT count(*) FROM kit.baseline_table")).isEqualTo(0L);
            assertThat(value(c, "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'crm.customers'::regclass")).isEqualTo(0L);
            exec(c, "SELECT kit.baseline('crm.customers', schema_version => 1)");
            exec(c, "CALL kit.backfill()");
            assertThat(value(c, "SELECT state FROM kit.read_version WHERE read_table = 'crm.customers_1'")).isEqualTo("live");
        }
    }

    /**
     * While the capture runs, verify compares the table with its read version as of one snapshot: a
     * change the capture missed (its trigger disabled for a while, then enabled again, so drift sees
     * nothing now) is named row by row; kit.recapture records those rows as facts, and the two are
     * equal again.
     */
    @Test
    void verifyNamesAChangeTheCaptureMissedAndRecaptureRecordsIt() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            customers(c, 100);
            exec(c, "SELECT kit.baseline('crm.customers')");
            assertThat(assertFailsWith(KitError.USAGE, () -> rows(c, "SELECT * FROM kit.uncaptured_rows('crm.customers')")).getMessage())
                    .as("not compared before the copy is done").contains("its copy is not done");
            assertThat(assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.recapture('crm.customers')")).getMessage())
                    .contains("Cannot recapture crm.customers: its copy is not done");
            assertThat(assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.recapture(NULL)")).getMessage())
                    .contains("Name the table to recapture");
            exec(c, "CALL kit.backfill()");
            assertThat(verify(c, "crm.customers_0")).isEmpty();

            exec(c, "ALTER TABLE crm.customers DISABLE TRIGGER capture_customers");
            exec(c, "UPDATE crm.customers SET name = 'unseen' WHERE customer_id = 1");
            exec(c, "DELETE FROM crm.customers WHERE customer_id = 2");
            exec(c, "INSERT INTO crm.customers (customer_id, email, name) VALUES (1000, 'new@example.org', 'new')");
            exec(c, "ALTER TABLE crm.customers ENABLE ALWAYS TRIGGER capture_customers");
            assertThat(rows(c, "SELECT * FROM kit.drift()")).as("the capture is back: nothing to see there now").isEmpty();

            List<String> found = verify(c, "crm.customers_0").stream().map(r -> {
                Matcher id = Pattern.compile("\"id\": (\\d+)").matcher(r.get("row_data").toString());
                return r.get("difference") + " " + (id.find() ? id.group(1) : r.get("row_data"));
            }).toList();
            assertThat(found).containsExactlyInAnyOrder("only in the captured table 1", "only in the captured table 1000",
                    "not in the captured table 1", "not in the captured table 2");
            assertThat(differences(c)).isEqualTo(4L);

            assertThat(rows(c, "SELECT * FROM kit.recapture('crm.customers')"))
                    .containsExactly(Map.of("recorded", 2L, "removed", 1L));
            assertThat(differences(c)).isZero();
            assertThat(verify(c, "crm.customers_0")).isEmpty();
            assertThat(rows(c, "SELECT * FROM kit.recapture('crm.customers')")).as("nothing left to record")
                    .containsExactly(Map.of("recorded", 0L, "removed", 0L));
        }
    }

    /**
     * A copy that fails (here a rule added to the recorded table that a row breaks) is shown as its
     * read version's failed backfill, as kit status reports one, rather than as a version waiting;
     * once the cause is gone the next backfill goes on and clears it.
     */
    @Test
    void aCopyThatFailsIsShownAsAFailedBackfill() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            customers(c, 50);
            exec(c, "UPDATE crm.customers SET name = 'boom' WHERE customer_id = 20");
            exec(c, "SELECT kit.baseline('crm.customers')");
            exec(c, "ALTER TABLE crm.customers_recorded_0 ADD CONSTRAINT no_boom CHECK (name IS DISTINCT FROM 'boom')");
            var failed = assertFailsWith("23514", () -> exec(c, "CALL kit.backfill()"));
            assertThat(failed.getMessage()).contains("The copy of crm.customers failed");
            assertThat((String) value(c, "SELECT backfill_error FROM kit.read_version WHERE read_table = 'crm.customers_0'"))
                    .startsWith("23514: The copy of crm.customers failed").contains("no_boom");
            assertThat(value(c, "SELECT state FROM kit.baseline_table")).isEqualTo("copying");

            exec(c, "ALTER TABLE crm.customers_recorded_0 DROP CONSTRAINT no_boom");
            exec(c, "CALL kit.backfill()");
            assertThat(value(c, "SELECT state || ' ' || coalesce(backfill_error, 'no error') FROM kit.read_version"
                    + " WHERE read_table = 'crm.customers_0'")).isEqualTo("live no error");
            assertThat(differences(c)).isZero();
        }
    }

    /** A copy stopped halfway (a crash) goes on where it stopped at the next backfill, batch by batch. */
    @Test
    void aStoppedCopyResumesWhereItStopped() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            customers(c, 5000);
            exec(c, "SELECT kit.baseline('crm.customers')");
            for (int batch = 0; batch < 3; batch++) {
                assertThat(rows(c, "SELECT copied, state FROM kit.baseline_step('crm.customers', 1000)"))
                        .containsExactly(Map.of("copied", 1000L, "state", "copying"));
            }
            exec(c, "UPDATE crm.customers SET name = 'changed after 3000 were copied' WHERE customer_id IN (10, 4000)");
            assertThat(value(c, "SELECT copied_to FROM kit.baseline_table")).isEqualTo(3000L);
            exec(c, "CALL kit.backfill()");
            assertThat(rows(c, "SELECT state, rows_copied FROM kit.baseline_table")).containsExactly(Map.of("state", "capturing", "rows_copied", 5000L));
            assertThat(value(c, "SELECT count(*) FROM crm.customers_recorded_0")).as("5000 copied, 2 captured").isEqualTo(5002L);
            assertThat(differences(c)).isZero();
        }
    }

    @Test
    void tablesTheKitCannotTakeAreRefusedAndNothingIsMade() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "CREATE TABLE no_key (n bigint)");
            exec(c, "CREATE TABLE two_keys (a bigint, b bigint, PRIMARY KEY (a, b))");
            exec(c, "CREATE TABLE text_key (code text PRIMARY KEY)");
            exec(c, "CREATE TABLE computed (n bigint PRIMARY KEY, twice bigint GENERATED ALWAYS AS (n * 2) STORED)");
            exec(c, "CREATE TABLE referenced (n bigint PRIMARY KEY)");
            exec(c, "CREATE TABLE referring (n bigint PRIMARY KEY, r bigint REFERENCES referenced)");
            exec(c, "CREATE TABLE parted (n bigint PRIMARY KEY) PARTITION BY RANGE (n)");
            exec(c, "CREATE TABLE parent (n bigint PRIMARY KEY)");
            exec(c, "CREATE TABLE child (m bigint) INHERITS (parent)");
            exec(c, "CREATE TABLE clashing (n bigint PRIMARY KEY, seq bigint)");
            exec(c, "CREATE TABLE taken (n bigint PRIMARY KEY)");
            exec(c, "CREATE TABLE taken_0 (n bigint)");
            exec(c, "CREATE TABLE fresh (n bigint PRIMARY KEY)");
            exec(c, "CREATE TABLE unchecked (n bigint PRIMARY KEY, m bigint)");
            exec(c, "INSERT INTO unchecked VALUES (1, -1)");
            exec(c, "ALTER TABLE unchecked ADD CONSTRAINT m_positive CHECK (m > 0) NOT VALID");
            exec(c, "CREATE TABLE keyed_rule (n bigint PRIMARY KEY CHECK (n > 0), tier int)");
            long writeTables = (Long) value(c, "SELECT count(*) FROM kit.write_table");
            long tables = (Long) value(c, "SELECT count(*) FROM pg_class WHERE relkind IN ('r', 'p')");
            Map<String, String> refusals = Map.ofEntries(
                    Map.entry("no_key", "it has no primary key"),
                    Map.entry("two_keys", "its primary key is not one integer column"),
                    Map.entry("text_key", "its primary key is not one integer column"),
                    Map.entry("computed", "it has generated columns (twice)"),
                    Map.entry("referenced", "foreign keys point at it (public.referring.referring_r_fkey)"),
                    Map.entry("parted", "it is partitioned"),
                    Map.entry("parent", "it inherits or is inherited from"),
                    Map.entry("clashing", "it has a column the kit names its own (seq)"),
                    Map.entry("taken", "taken_0 exists already"),
                    Map.entry("users_4", "it is a table of the kit's"),
                    Map.entry("fresh", "as schema version 0: domain public has that version already"),
                    Map.entry("unchecked", "it has constraints not validated (m_positive)"),
                    Map.entry("keyed_rule", "rules name its key column, which its read version calls id (keyed_rule_n_check)"),
                    Map.entry("nowhere", "nowhere"));
            for (var refusal : refusals.entrySet()) {
                var failure = assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.baseline(?)", refusal.getKey()));
                assertThat(failure.getMessage()).as(refusal.getKey()).contains(refusal.getValue());
            }
            assertThat(value(c, "SELECT count(*) FROM kit.write_table")).isEqualTo(writeTables);
            assertThat(value(c, "SELECT count(*) FROM pg_class WHERE relkind IN ('r', 'p')")).isEqualTo(tables);
            assertThat(strings(c, "SELECT tgname FROM pg_trigger WHERE tgname LIKE 'capture%'")).isEmpty();

            exec(c, "SELECT kit.baseline('referring', schema_version => 7)");
            var twice = assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.baseline('referring', schema_version => 8)"));
            assertThat(twice.getMessage()).contains("it is under the kit already");
            assertThat(strings(c, "SELECT read_table FROM kit.baseline_table")).isEqualTo(List.of("referring_7"));
        }
    }
}
