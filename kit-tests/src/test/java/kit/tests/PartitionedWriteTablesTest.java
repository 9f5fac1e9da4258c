package kit.tests;

import kit.client.Jdbc;
import kit.client.KitError;
import kit.client.Migrations;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.List;

import static kit.client.Jdbc.exec;
import static kit.client.Jdbc.strings;
import static kit.tests.Sql.assertFailsWith;
import static kit.tests.Sql.count;
import static kit.tests.Sql.value;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Write tables partitioned by seq range: created PARTITION BY RANGE (seq), their partitions made
 * ahead by kit.add_partitions (and a default partition), the feeds, the id triggers and the guard
 * work on them as on a plain write table, a partition included; a rolling upgrade backfills a new
 * read version from facts across partitions; drift sees each partition's triggers; a detached
 * partition's facts are out of view, and backfill, rebuild and verify refuse until it is back.
 * Each test migrates its own database's domain parts (classpath:partitioned-domain, ten seqs a
 * partition) to version 0 through Flyway, as an app's build would, the kit's callbacks included.
 */
class PartitionedWriteTablesTest {

    private static final String USERS_0 = "SELECT string_agg(id || ' ' || email, ', ' ORDER BY id) FROM parts.users_0";

    static final String LOCATION = "classpath:partitioned-domain";

    /** The domain parts's migrations (kit-tests/src/test/resources/partitioned-domain), in schema parts. */
    static Migrations parts(TestDatabase db) {
        return new Migrations(db.url(), LOCATION, TestDatabases.runRole("parts_v")).inDomain("parts");
    }

    /** Version 0 of the domain parts: user_registered_0 partitioned by seq, read by users_0, live. */
    private static void version0(TestDatabase db) {
        parts(db).migrateTo("0");
    }

    private static void register(Connection c, String prefix, int n) throws Exception {
        exec(c, "INSERT INTO parts.user_registered_0 (email, password_hash)"
                + " SELECT '" + prefix + "' || g || '@example.com', 'h' FROM generate_series(1, " + n + ") g");
    }

    private static List<String> partitionsHoldingFacts(Connection c) throws Exception {
        return strings(c, "SELECT DISTINCT tableoid::regclass::text FROM parts.user_registered_0 ORDER BY 1");
    }

    @Test
    void theKitMakesPartitionsAheadAndADefaultOne() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        version0(db);
        try (Connection c = db.connect()) {
            long from = (long) value(c, "SELECT partitioned_from FROM kit.write_table WHERE write_table = 'parts.user_registered_0'");
            assertThat(from % 10).isZero();
            assertThat(strings(c, "SELECT partition_name || ' ' || coalesce(from_seq - " + from + " || '-' || to_seq - " + from + ", 'default')"
                    + " FROM kit.write_table_partitions('parts.user_registered_0')"))
                    .as("the partition of the sequence's position, two ahead, and the default")
                    .startsWith("parts.user_registered_0_p" + from / 10 + " 0-10")
                    .endsWith("parts.user_registered_0_default default")
                    .hasSizeGreaterThanOrEqualTo(4);
            assertThat(value(c, "SELECT count(*) FROM kit.add_partitions('parts.user_registered_0')"))
                    .as("nothing to add while the sequence has not moved").isEqualTo(0L);

            // Nobody ran add_partitions: facts beyond the partitions go to the default one, and move out of it later.
            register(c, "a", 45);
            String inDefault = "SELECT count(*) FROM parts.user_registered_0_default";
            assertThat(value(c, inDefault)).isNotEqualTo(0L);
            try (Connection reader = db.connect()) {
                reader.setAutoCommit(false);
                exec(reader, "LOCK TABLE parts.user_registered_0 IN ACCESS SHARE MODE");
                parts(db).migrateTo("0");  // a migrate does not fail when the table is too busy for the lock: it warns
                assertThat(value(c, inDefault)).isNotEqualTo(0L);
                reader.rollback();
            }
            assertThat(strings(c, "SELECT * FROM kit.add_partitions('parts.user_registered_0', ahead => 1)")).isNotEmpty();
            assertThat(value(c, "SELECT count(*) FROM parts.user_registered_0_default")).as("moved to their partitions").isEqualTo(0L);
            assertThat(count(c, "parts.user_registered_0")).isEqualTo(45);
            assertThat(count(c, "parts.users_0")).isEqualTo(45);
            assertThat(Sql.verify(c, "parts.users_0")).isEmpty();
            assertThat(value(c, "SELECT max(to_seq) > (SELECT last_value FROM kit.fact_seq) + 10"
                    + " FROM kit.write_table_partitions('parts.user_registered_0')")).as("one partition ahead").isEqualTo(true);
            assertThat(DriftTest.drift(c)).isEmpty();
        }
    }

    @Test
    void oneStatementFeedsOnceAcrossPartitionsAndIdsAreGivenAndTaken() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        version0(db);
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            exec(c, "SET LOCAL track_functions = 'pl'");
            register(c, "a", 25);
            assertThat(value(c, "SELECT pg_stat_get_xact_function_calls('parts.feed_user_registered_0'::regproc)"))
                    .as("the feed trigger on the partitioned table fires once for the statement").isEqualTo(1L);
            c.commit();
            c.setAutoCommit(true);
            assertThat(partitionsHoldingFacts(c)).as("the statement's facts lie in several partitions").hasSizeGreaterThanOrEqualTo(3);
            assertThat(count(c, "parts.users_0")).as("and it saw every one").isEqualTo(25);
            assertThat(value(c, "SELECT min(id) >= 1000000000 FROM parts.users_0")).as("ids from the id space's sequence").isEqualTo(true);

            exec(c, "INSERT INTO parts.user_registered_0 (id, email, password_hash) VALUES (7, 'chosen@example.com', 'h')");
            assertThat(value(c, "SELECT email FROM parts.users_0 WHERE id = 7")).isEqualTo("chosen@example.com");
            var duplicate = assertFailsWith(KitError.DUPLICATE_ID,
                    () -> exec(c, "INSERT INTO parts.user_registered_0 (id, email, password_hash) VALUES (7, 'again@example.com', 'h')"));
            assertThat(duplicate.getMessage()).as("named by the write table, not the partition").contains("Write table: parts.user_registered_0");
            assertThat(count(c, "parts.users_0")).isEqualTo(26);
        }
    }

    @Test
    void theGuardHoldsOnTheTableAndOnEachPartition() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        version0(db);
        try (Connection c = db.connect()) {
            register(c, "a", 15);
            String partition = partitionsHoldingFacts(c).get(0);
            for (String table : List.of("parts.user_registered_0", partition, "parts.user_registered_0_default")) {
                assertFailsWith(KitError.APPEND_ONLY, () -> exec(c, "UPDATE " + table + " SET email = 'x'"));
                assertFailsWith(KitError.APPEND_ONLY, () -> exec(c, "DELETE FROM " + table));
                assertFailsWith(KitError.APPEND_ONLY, () -> exec(c, "TRUNCATE " + table));
            }
            var direct = assertFailsWith(KitError.APPEND_ONLY,
                    () -> exec(c, "INSERT INTO parts.user_registered_0_default (email, password_hash) VALUES ('d@example.com', 'h')"));
            assertThat(direct.getMessage()).as("a fact written to a partition would reach no read table")
                    .contains("not to one of its partitions");
            exec(c, "SET session_replication_role = replica");
            assertFailsWith(KitError.APPEND_ONLY, () -> exec(c, "DELETE FROM " + partition));
            exec(c, "RESET session_replication_role");
            assertThat(count(c, "parts.user_registered_0")).isEqualTo(15);
            assertThat(strings(c, "SELECT DISTINCT t.tgenabled::text FROM pg_trigger t JOIN pg_inherits i ON i.inhrelid = t.tgrelid"
                    + " WHERE i.inhparent = 'parts.user_registered_0'::regclass AND NOT t.tgisinternal"))
                    .as("every kit trigger on every partition fires ALWAYS").containsExactly("A");
        }
    }

    @Test
    void driftSeesEachPartitionsTriggersAndRepairRestoresThem() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        version0(db);
        try (Connection c = db.connect()) {
            register(c, "a", 5);
            assertThat(DriftTest.drift(c)).as("no false finding on a partitioned table or its partitions").isEmpty();

            exec(c, "ALTER TABLE parts.user_registered_0_default DISABLE TRIGGER assign_id_user_registered_0");
            exec(c, "DROP TRIGGER append_only_user_registered_0_default ON parts.user_registered_0_default");
            exec(c, "CREATE TABLE parts.by_hand (LIKE parts.user_registered_0)");
            long high = (long) value(c, "SELECT max(to_seq) FROM kit.write_table_partitions('parts.user_registered_0')");
            exec(c, "ALTER TABLE parts.user_registered_0 ATTACH PARTITION parts.by_hand FOR VALUES FROM (" + high + ") TO (" + (high + 10) + ")");
            assertThat(DriftTest.drift(c)).containsExactlyInAnyOrder(
                    "trigger append_only_user_registered_0_default on parts.user_registered_0_default: missing",
                    "trigger assign_id_user_registered_0 on parts.user_registered_0_default: disabled",
                    "trigger append_only_by_hand on parts.by_hand: missing");

            exec(c, "CALL kit.repair()");
            assertThat(DriftTest.drift(c)).isEmpty();
            assertFailsWith(KitError.APPEND_ONLY, () -> exec(c, "DELETE FROM parts.by_hand"));

            exec(c, "CREATE FUNCTION parts.noop() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$");
            exec(c, "CREATE TRIGGER somebodys BEFORE INSERT ON parts.by_hand FOR EACH ROW EXECUTE FUNCTION parts.noop()");
            exec(c, "CREATE TRIGGER on_every_partition BEFORE INSERT ON parts.user_registered_0 FOR EACH ROW EXECUTE FUNCTION parts.noop()");
            assertThat(DriftTest.drift(c)).as("named once where it was created, not once per partition").containsExactlyInAnyOrder(
                    "trigger somebodys on parts.by_hand: not created by the kit",
                    "trigger on_every_partition on parts.user_registered_0: not created by the kit");
            exec(c, "DROP TRIGGER somebodys ON parts.by_hand");
            exec(c, "DROP TRIGGER on_every_partition ON parts.user_registered_0");
            assertThat(DriftTest.drift(c)).isEmpty();
            register(c, "b", 5);
            assertThat(count(c, "parts.users_0")).isEqualTo(10);
            assertThat(Sql.verify(c, "parts.users_0")).isEmpty();
        }
    }

    @Test
    void aDetachedPartitionsFactsAreOutOfViewAndBackfillRebuildAndVerifyRefuse() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        version0(db);
        try (Connection c = db.connect()) {
            register(c, "a", 25);
            String oldest = partitionsHoldingFacts(c).get(0);
            long inOldest = count(c, oldest);
            exec(c, "ALTER TABLE parts.user_registered_0 DETACH PARTITION " + oldest);
            assertThat(count(c, "parts.user_registered_0")).isEqualTo(25 - inOldest);
            assertThat(value(c, "SELECT kit.missing_partitions('parts.user_registered_0')")).isNotNull();
            assertThat(DriftTest.drift(c)).as("detaching is the operator's to do: no drift").isEmpty();

            var verify = assertFailsWith(KitError.USAGE, () -> Sql.verify(c, "parts.users_0"));
            assertThat(verify.getMessage()).contains("Cannot verify parts.users_0", "no partition for seqs");
            var rebuild = assertFailsWith(KitError.USAGE, () -> exec(c, "CALL kit.rebuild('parts.users_0')"));
            assertThat(rebuild.getMessage()).contains("Cannot rebuild parts.users_0");
            exec(c, "CREATE TABLE parts.users_1 (id bigint PRIMARY KEY, email text NOT NULL)");
            exec(c, "SELECT kit.create_read_version('parts.users_1', 'user')");
            exec(c, "SELECT kit.add_feed('parts.user_registered_0', 'parts.users_1')");
            var backfill = assertFailsWith(KitError.USAGE, () -> exec(c, "CALL kit.backfill()"));
            assertThat(backfill.getMessage()).contains("Cannot backfill parts.users_1");
            assertThat(value(c, "SELECT state FROM kit.read_version WHERE read_table = 'parts.users_1'")).isEqualTo("building");
            assertThat((String) value(c, "SELECT backfill_error FROM kit.read_version WHERE read_table = 'parts.users_1'"))
                    .as("kit status shows the failed backfill").contains("no partition for seqs");

            register(c, "b", 3);
            assertThat(count(c, "parts.users_0")).as("writes and live feeds go on").isEqualTo(28);

            exec(c, "ALTER TABLE parts.user_registered_0 ATTACH PARTITION " + oldest + " FOR VALUES FROM ("
                    + value(c, "SELECT min(seq) / 10 * 10 FROM " + oldest) + ") TO (" + value(c, "SELECT min(seq) / 10 * 10 + 10 FROM " + oldest) + ")");
            exec(c, "CALL kit.backfill()");
            assertThat(count(c, "parts.users_1")).as("back in view: every fact").isEqualTo(28);
            assertThat(Sql.verify(c, "parts.users_0")).isEmpty();
            assertThat(Sql.verify(c, "parts.users_1")).isEmpty();
            assertThat(DriftTest.drift(c)).isEmpty();
        }
    }

    @Test
    void aRollingUpgradeBackfillsANewReadVersionFromThePartitionsAndRetiresTheOld() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        version0(db);
        try (Connection c = db.connect()) {
            register(c, "a", 20);
            register(c, "b", 17);
            assertThat(partitionsHoldingFacts(c)).as("past the partitions made: the default one took the last")
                    .hasSizeGreaterThanOrEqualTo(4).contains("parts.user_registered_0_default");
        }

        // Version 1: a new read version of the same facts; the migrate adds partitions, then backfills.
        parts(db).migrateTo("1");
        try (Connection c = db.connect()) {
            assertThat(partitionsHoldingFacts(c)).as("every migrate adds partitions, out of the default one")
                    .doesNotContain("parts.user_registered_0_default");
            assertThat(value(c, "SELECT max(to_seq) > (SELECT last_value FROM kit.fact_seq) + 10"
                    + " FROM kit.write_table_partitions('parts.user_registered_0')")).as("and ahead").isEqualTo(true);
            assertThat(value(c, "SELECT state FROM kit.read_version WHERE read_table = 'parts.users_1'")).isEqualTo("live");
            assertThat(count(c, "parts.users_1")).isEqualTo(37);
            assertThat(value(c, "SELECT string_agg(id || ' ' || email, ', ' ORDER BY id) FROM parts.users_1")).isEqualTo(value(c, USERS_0));
            assertThat(value(c, "SELECT string_agg(DISTINCT email_domain, ', ') FROM parts.users_1")).isEqualTo("example.com");
            assertThat(Sql.verify(c, "parts.users_0")).isEmpty();
            assertThat(Sql.verify(c, "parts.users_1")).isEmpty();

            register(c, "d", 12);
            assertThat(count(c, "parts.users_0")).isEqualTo(49);
            assertThat(count(c, "parts.users_1")).isEqualTo(49);
        }

        // The tidy-up: the old read version goes, the facts and the new version stay.
        parts(db).migrateTo("2");
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT to_regclass('parts.users_0') IS NULL")).isEqualTo(true);
            assertThat(strings(c, "SELECT version || ' ' || state FROM kit.schema_versions WHERE domain = 'parts' ORDER BY version"))
                    .containsExactly("0 retired", "1 live");
            register(c, "e", 3);
            assertThat(count(c, "parts.users_1")).isEqualTo(52);
            exec(c, "CALL kit.rebuild('parts.users_1')");
            assertThat(Sql.verify(c, "parts.users_1")).isEmpty();
            assertThat(count(c, "parts.users_1")).isEqualTo(52);
            assertThat(DriftTest.drift(c)).isEmpty();
            assertThat(Jdbc.rows(c, "SELECT * FROM kit.check_security()")).isEmpty();
        }
    }

    @Test
    void anAppRoleWritesTheTableNotItsPartitionsAndAForgetRedactsThroughTheTable() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        version0(db);
        try (Connection c = db.connect()) {
            String role = (String) value(c, "SELECT role_name FROM kit.app_role WHERE domain = 'parts' AND version = 0");
            exec(c, "SET ROLE \"" + role + "\"");
            long ann = (Long) value(c, "INSERT INTO parts.user_registered_0 (email, password_hash) VALUES ('ann@example.com', 'h') RETURNING id");
            assertFailsWith("42501",
                    () -> exec(c, "INSERT INTO parts.user_registered_0_default (email, password_hash) VALUES ('x@example.com', 'h')"));
            exec(c, "RESET ROLE");
            register(c, "a", 25);
            assertThat(partitionsHoldingFacts(c)).hasSizeGreaterThanOrEqualTo(3);
            assertThat(DriftTest.drift(c)).isEmpty();
            assertThat(Jdbc.rows(c, "SELECT * FROM kit.check_security()")).isEmpty();

            exec(c, "SELECT kit.declare_personal_data('parts.user_registered_0', '{\"email\": \"''forgotten-'' || f.id || ''@invalid''\"}')");
            exec(c, "SELECT kit.forget('user', ?, domain => 'parts')", ann);
            assertThat(value(c, "SELECT count(*) FROM parts.user_registered_0 WHERE email = 'ann@example.com'"))
                    .as("redacted in its partition, through the table's guard").isEqualTo(0L);
            assertThat(count(c, "parts.user_registered_0")).isEqualTo(26);
            assertThat(value(c, "SELECT email FROM parts.users_0 WHERE id = ?", ann)).isEqualTo("forgotten-" + ann + "@invalid");
            assertThat(Sql.verify(c, "parts.users_0")).isEmpty();
        }
    }

    /**
     * kit.baseline with partition_size: an existing table's recorded and removed write tables are
     * partitioned by seq. Its copy goes through the default partition and out of it into partitions
     * made as the copy goes; the captured changes, the read version, verify, rebuild, drift and the
     * tidy-up (kit.end_capture) work as on plain write tables.
     */
    @Test
    void aTableBroughtUnderTheKitHasItsFactsInPartitions() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "CREATE SCHEMA crm");
            exec(c, "CREATE TABLE crm.customers (customer_id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text)");
            exec(c, "INSERT INTO crm.customers (email, name) SELECT 'c' || g || '@example.org', 'customer ' || g FROM generate_series(1, 250) g");
            var refused = assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.baseline('crm.customers', partition_size => 0)"));
            assertThat(refused.getMessage()).contains("partition_size must be positive");
            assertThat(value(c, "SELECT count(*) FROM kit.write_table WHERE domain = 'crm'")).as("nothing made").isEqualTo(0L);

            exec(c, "SELECT kit.baseline('crm.customers', partition_size => 10)");
            assertThat(strings(c, "SELECT write_table || ' ' || partition_size FROM kit.write_table WHERE domain = 'crm' ORDER BY 1"))
                    .containsExactly("crm.customers_recorded_0 10", "crm.customers_removed_0 10");
            assertThat(strings(c, "SELECT relname FROM pg_class WHERE relname IN ('customers_recorded_0_default', 'customers_removed_0_default') ORDER BY 1"))
                    .as("each made partitioned, with a default partition").hasSize(2);
            exec(c, "UPDATE crm.customers SET name = 'captured' WHERE customer_id = 3");
            exec(c, "CALL kit.backfill(batch_size => 100)");
            assertThat(value(c, "SELECT count(*) FROM crm.customers_recorded_0_default"))
                    .as("the copy's facts moved out of the default partition as the copy ended").isEqualTo(0L);
            assertThat(value(c, "SELECT count(DISTINCT tableoid) FROM crm.customers_recorded_0"))
                    .as("251 facts, ten a partition").isEqualTo(26L);

            exec(c, "INSERT INTO crm.customers (email, name) VALUES ('new@example.org', 'new')");
            exec(c, "DELETE FROM crm.customers WHERE customer_id = 5");
            assertThat(value(c, "SELECT state FROM kit.read_version WHERE read_table = 'crm.customers_0'")).isEqualTo("live");
            String differences = """
                    SELECT count(*) FROM ((SELECT * FROM crm.customers EXCEPT SELECT id, email, name FROM crm.customers_0)
                                          UNION ALL (SELECT id, email, name FROM crm.customers_0 EXCEPT SELECT * FROM crm.customers)) d""";
            assertThat(value(c, differences)).isEqualTo(0L);
            assertThat(value(c, "SELECT name FROM crm.customers_0 WHERE id = 3")).isEqualTo("captured");
            assertThat(count(c, "crm.customers_removed_0")).isEqualTo(1);
            assertThat(Sql.verify(c, "crm.customers_0")).isEmpty();
            exec(c, "CALL kit.rebuild('crm.customers_0')");
            assertThat(value(c, differences)).as("rebuilt from the partitions").isEqualTo(0L);
            assertThat(DriftTest.drift(c)).isEmpty();

            exec(c, "SELECT kit.end_capture('crm.customers')");
            exec(c, "INSERT INTO crm.customers_recorded_0 (row_id, email, name) VALUES (7, 'seven@example.org', 'seven')");
            assertThat(value(c, "SELECT email FROM crm.customers_0 WHERE id = 7")).isEqualTo("seven@example.org");
            assertFailsWith(KitError.APPEND_ONLY, () -> exec(c, "DELETE FROM crm.customers_recorded_0_default"));
            assertThat(Sql.verify(c, "crm.customers_0")).isEmpty();
            assertThat(DriftTest.drift(c)).isEmpty();
        }
    }

    /**
     * The newest partitions detached, facts among them: the kit made them once (partitioned_to), so
     * their seqs are a hole as any other, and rebuild and verify refuse rather than lose those facts;
     * add_partitions never makes them anew empty. kit.attach_partition puts them back with the fact
     * the default partition took in their seqs meanwhile; a look-alike holding a seq the fact
     * sequence has not given stays out; a table in the way of the default partition does not stop repair.
     */
    @Test
    void detachingTheNewestPartitionsLeavesAHoleTooAndTheyGoBackWithTheirFacts() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        version0(db);
        try (Connection c = db.connect()) {
            register(c, "a", 25);
            exec(c, "SELECT kit.add_partitions('parts.user_registered_0')");
            String newest = (String) value(c, "SELECT tableoid::regclass::text FROM parts.user_registered_0 ORDER BY seq DESC LIMIT 1");
            List<String> detached = strings(c, "SELECT partition::text FROM kit.write_table_partitions('parts.user_registered_0')"
                    + " WHERE from_seq >= (SELECT from_seq FROM kit.write_table_partitions('parts.user_registered_0') WHERE partition::text = ?)"
                    + " ORDER BY from_seq", newest);
            for (String partition : detached) {
                exec(c, "ALTER TABLE parts.user_registered_0 DETACH PARTITION " + partition);
            }
            assertThat(value(c, "SELECT kit.missing_partitions('parts.user_registered_0')")).as("the newest partitions, gone").isNotNull();
            var rebuild = assertFailsWith(KitError.USAGE, () -> exec(c, "CALL kit.rebuild('parts.users_0')"));
            assertThat(rebuild.getMessage()).contains("no partition for seqs");
            assertThat(strings(c, "SELECT * FROM kit.add_partitions('parts.user_registered_0')")).as("no partition made anew in the hole")
                    .doesNotContainAnyElementsOf(detached);
            register(c, "b", 1);
            assertThat(value(c, "SELECT count(*) FROM parts.user_registered_0_default")).as("the new fact, in the hole's seqs").isEqualTo(1L);

            // A look-alike with a seq the sequence has not given is refused; the real ones go back, with the new fact.
            exec(c, "CREATE TABLE parts.look_alike (LIKE parts.user_registered_0)");
            exec(c, "INSERT INTO parts.look_alike (id, email, password_hash, seq, recorded_at) VALUES (1, 'forged@example.com', 'h',"
                    + " (SELECT last_value + 5 FROM kit.fact_seq), now())");
            var forged = assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.attach_partition('parts.user_registered_0', 'parts.look_alike')"));
            assertThat(forged.getMessage()).contains("Cannot attach parts.look_alike", "which the fact sequence has not given");
            for (String partition : detached) {
                exec(c, "SELECT kit.attach_partition('parts.user_registered_0', ?)", partition);
            }
            assertThat(value(c, "SELECT count(*) FROM parts.user_registered_0_default")).as("moved in").isEqualTo(0L);
            assertThat(value(c, "SELECT kit.missing_partitions('parts.user_registered_0')")).isNull();
            assertThat(count(c, "parts.user_registered_0")).isEqualTo(26);
            assertThat(Sql.verify(c, "parts.users_0")).isEmpty();
            assertThat(DriftTest.drift(c)).isEmpty();

            // The default partition detached and a table of the wrong shape in its place: repair says so and repairs the rest.
            exec(c, "ALTER TABLE parts.user_registered_0 DETACH PARTITION parts.user_registered_0_default");
            exec(c, "ALTER TABLE parts.user_registered_0_default RENAME TO old_default");
            exec(c, "CREATE TABLE parts.user_registered_0_default (x int)");
            exec(c, "ALTER TABLE parts.user_registered_0 DISABLE TRIGGER feed_user_registered_0");
            exec(c, "CALL kit.repair()");
            assertThat(value(c, "SELECT tgenabled FROM pg_trigger WHERE tgname = 'feed_user_registered_0' AND tgrelid = 'parts.user_registered_0'::regclass")).as("repaired still").hasToString("A");
            assertThat(DriftTest.drift(c)).singleElement().asString().contains("has no default partition");
            exec(c, "DROP TABLE parts.user_registered_0_default");
            exec(c, "ALTER TABLE parts.old_default RENAME TO user_registered_0_default");
            exec(c, "CALL kit.repair()");
            assertThat(DriftTest.drift(c)).isEmpty();
        }
    }

    /**
     * README's case: a table in public, named without its schema, brought under the kit with
     * partitioned write tables through a migrate (the afterMigrate callback's backfill keeps the
     * partitions ahead of the copy): every fact ends in a partition of its range.
     */
    @Test
    void aPublicTableBroughtUnderTheKitByAMigrateHasItsFactsInPartitions(@TempDir Path migrations) throws Exception {
        TestDatabase db = TestDatabases.empty();
        try (Connection c = db.connect()) {
            exec(c, "CREATE TABLE tags (tag_id bigserial PRIMARY KEY, label text NOT NULL)");
            exec(c, "INSERT INTO tags (label) SELECT 'tag ' || g FROM generate_series(1, 300) g");
        }
        Files.writeString(migrations.resolve("V1__bring_tags_under_the_kit.sql"), "SELECT kit.baseline('tags', partition_size => 100);\n");
        new Migrations(db.url(), "filesystem:" + migrations, TestDatabases.rolePrefix()).configure(null)
                .baselineOnMigrate(true).baselineVersion("0").load().migrate();
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT state FROM kit.read_version WHERE read_table = 'tags_0'")).isEqualTo("live");
            assertThat(value(c, "SELECT count(*) FROM tags_recorded_0_default")).as("out of the default partition").isEqualTo(0L);
            for (String table : List.of("tags_recorded_0", "tags_removed_0")) {
                assertThat(value(c, "SELECT max(to_seq) > (SELECT last_value FROM kit.fact_seq) FROM kit.write_table_partitions(?)", table))
                        .as("%s: partitions ahead of the copy's facts", table).isEqualTo(true);
            }
            assertThat(value(c, "SELECT count(DISTINCT tableoid) >= 3 FROM tags_recorded_0")).isEqualTo(true);
            assertThat(count(c, "tags_0")).isEqualTo(300);
            assertThat(Sql.verify(c, "tags_0")).isEmpty();
            assertThat(DriftTest.drift(c)).isEmpty();

            // A default partition detached by hand: drift names it, and repair attaches it back.
            exec(c, "ALTER TABLE tags_removed_0 DETACH PARTITION tags_removed_0_default");
            assertThat(DriftTest.drift(c)).singleElement().asString().contains("has no default partition");
            exec(c, "CALL kit.repair()");
            assertThat(DriftTest.drift(c)).isEmpty();
            assertThat(value(c, "SELECT partition FROM kit.write_table_partitions('tags_removed_0') WHERE from_seq IS NULL"))
                    .hasToString("tags_removed_0_default");
            // The highest partition detached: a hole, which the next kit.add_partitions leaves; kit.attach_partition closes it.
            String highest = (String) value(c, "SELECT partition_name FROM kit.write_table_partitions('tags_recorded_0') WHERE from_seq IS NOT NULL"
                    + " ORDER BY from_seq DESC LIMIT 1");
            exec(c, "ALTER TABLE tags_recorded_0 DETACH PARTITION " + highest);
            exec(c, "SELECT kit.add_partitions('tags_recorded_0')");
            assertThat(value(c, "SELECT kit.missing_partitions('tags_recorded_0')")).isNotNull();
            exec(c, "SELECT kit.attach_partition('tags_recorded_0', ?)", highest);
            assertThat(value(c, "SELECT kit.missing_partitions('tags_recorded_0')")).isNull();
            assertThat(DriftTest.drift(c)).isEmpty();
        }
    }

    @Test
    void declarationMistakesAreRefusedAndNothingIsMade() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "CREATE SCHEMA parts");
            exec(c, "CREATE TABLE parts.plain_0 (id bigint, note text)");
            exec(c, "CREATE TABLE parts.by_id_0 (id bigint, note text, seq bigint, recorded_at timestamptz) PARTITION BY RANGE (id)");
            exec(c, "CREATE TABLE parts.no_time_0 (id bigint, note text, seq bigint) PARTITION BY RANGE (seq)");
            exec(c, "CREATE TABLE parts.with_parts_0 (id bigint, note text, seq bigint, recorded_at timestamptz) PARTITION BY RANGE (seq)");
            exec(c, "CREATE TABLE parts.with_parts_0_a PARTITION OF parts.with_parts_0 FOR VALUES FROM (0) TO (100)");
            for (String call : List.of(
                    "SELECT kit.create_write_table('parts.plain_0', 'note', partition_size => 10)",
                    "SELECT kit.create_write_table('parts.by_id_0', 'note')",
                    "SELECT kit.create_write_table('parts.no_time_0', 'note')",
                    "SELECT kit.create_write_table('parts.with_parts_0', 'note')")) {
                assertFailsWith(KitError.USAGE, () -> exec(c, call));
            }
            assertThat(value(c, "SELECT count(*) FROM kit.write_table WHERE domain = 'parts'")).isEqualTo(0L);
            assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.add_partitions('parts.plain_0')"));
            var baseline = assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.baseline('parts.with_parts_0')"));
            assertThat(baseline.getMessage()).as("a partitioned table is not brought under the kit as it is").contains("partitioned");
        }
    }
}
