package kit.tests;

import kit.client.AppRoles;
import kit.client.KitError;
import kit.client.Migrations;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.sql.Connection;
import java.util.List;
import java.util.Map;

import static kit.client.Jdbc.exec;
import static kit.client.Jdbc.rows;
import static kit.tests.Sql.assertFailsWith;
import static kit.tests.Sql.count;
import static kit.tests.Sql.value;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A database made with an older kit upgrades in place at its next migrate:
 * here the frozen 0.1.0 kit (welded into the example's V0, before the
 * security fix), with facts, live read versions and a building one, while
 * writers write. Afterwards every read table equals a rebuild, no generated
 * code of the old kit is left, and the security rule holds.
 */
class KitUpgradeTest {

    @Test
    void aDatabaseOfKit010UpgradesInPlaceWhileWritersWrite() throws Exception {
        TestDatabase db = TestDatabases.empty();
        Flyway.configure().dataSource(db.url().jdbc(), null, null)
                .locations("classpath:frozen-kit-0.1.0")
                .jdbcProperties(Map.of("options", AppRoles.prefixOption(TestDatabases.rolePrefix())))
                .load().migrate();
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT to_regprocedure('kit.version()') IS NULL")).as("the old kit has no version").isEqualTo(true);
            assertThat(value(c, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'feed\\_%\\_\\_users\\_%'"))
                    .as("the old kit's per-feed triggers").isEqualTo(9L);
            exec(c, "INSERT INTO user_registered_0 VALUES (0, 'foo@example.com', 'h0')");
            exec(c, "INSERT INTO user_registered_1 VALUES (1, 'bar@example.com', 'h1', 'bar')");
            exec(c, "INSERT INTO password_changed_2 VALUES (0, 1, 'h2')");
            exec(c, """
                    INSERT INTO user_registered_1 (email, password_hash, username)
                    SELECT 'old' || g || '@example.com', 'h', 'old' || g FROM generate_series(1, 500) g""");
            // A version still building when the upgrade comes.
            exec(c, "CREATE TABLE people_9 (id bigint PRIMARY KEY, email text NOT NULL, password_hash text NOT NULL)");
            exec(c, "SELECT kit.create_read_version('people_9', 'user')");
            exec(c, "SELECT kit.add_feed('user_registered_0', 'people_9')");
            exec(c, "SELECT kit.add_feed('user_registered_1', 'people_9')");
            exec(c, "SELECT kit.add_feed('password_changed_2', 'people_9', 'user_id')");
        }

        Migrations migrations = db.migrations();
        int written;
        try (BackgroundWriters writers = new BackgroundWriters(3, () -> db.connectAsAppRole(2), (app, writer, n) -> {
            long id = (Long) value(app, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES (?, 'h', ?) RETURNING id",
                    "w" + writer + "." + n + "@upgrade.example", "w" + writer + "." + n);
            exec(app, "INSERT INTO password_changed_2 (user_id, password_hash) VALUES (?, 'changed')", id);
        })) {
            Thread.sleep(300);
            long started = System.nanoTime();
            int before = writers.written();
            migrations.repair();
            migrations.migrateTo("2");
            int during = writers.written() - before;
            long tookMs = (System.nanoTime() - started) / 1_000_000;
            Thread.sleep(300);
            List<String> failures = writers.stop();
            written = writers.written();
            System.out.printf("kit upgrade 0.1.0 -> %s: %d ms, %d registrations + password changes by 3 writers during it, %d in all, %d failed%n",
                    KitInstallTest.THIS_KIT, tookMs, during, written, failures.size());
            assertThat(failures).as("writes that failed during the upgrade").isEmpty();
        }
        assertThat(written).isPositive();
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT kit.version()")).isEqualTo(KitInstallTest.THIS_KIT);
            assertThat(rows(c, "SELECT action, from_version FROM kit.installation"))
                    .singleElement().satisfies(r -> assertThat(r).containsEntry("action", "upgrade").containsEntry("from_version", "0.1.0"));
            assertThat(Sql.liveReadTables(c)).containsExactly("people_9", "users_0", "users_1", "users_2");
            for (String table : Sql.liveReadTables(c)) {
                assertThat(Sql.verify(c, table)).as("%s against a rebuild", table).isEmpty();
            }
            assertThat(value(c, "SELECT count(*) FROM users_2")).isEqualTo(502L + written);
            assertThat(value(c, "SELECT count(*) FROM users_0 WHERE password_hash = 'changed'")).isEqualTo((long) written);
            assertThat(value(c, """
                    SELECT count(*) FROM pg_trigger t
                     WHERE t.tgname LIKE 'advance\\_ids\\_%' OR t.tgname LIKE 'feed\\_%\\_\\_%'""")).as("old kit triggers left").isEqualTo(0L);
            assertThat(value(c, "SELECT count(*) FROM pg_proc WHERE proname IN ('advance_id_sequence', 'advance_id_sequence_past', 'next_id', 'create_feed_trigger')"))
                    .isEqualTo(0L);
            assertThat(rows(c, "SELECT * FROM kit.check_security()")).isEmpty();
            KitCatalogTest.assertFeedTriggersAreInline(c);
            // Old ids stay taken; new ones come from the sequence's new range.
            assertFailsWith(KitError.DUPLICATE_ID, () -> exec(c, "INSERT INTO user_registered_0 VALUES (1, 'again@example.com', 'h')"));
            assertFailsWith(KitError.DUPLICATE_ID, () -> exec(c, "INSERT INTO password_changed_2 VALUES (0, 1, 'h3')"));
            assertThat((Long) value(c, "INSERT INTO user_registered_0 (email, password_hash) VALUES ('new@example.com', 'h') RETURNING id"))
                    .isGreaterThanOrEqualTo(1_000_000_000L);
            assertThat(count(c, "people_9")).isEqualTo(count(c, "users_2"));
        }
        migrations.migrateAll();
        WritingAFactGrantsNothingElseTest.aWriterThatShadowsBuiltInsGainsNothing(db, "upgraded_intruder");
    }

    /**
     * A database of a released kit (0.3.0; 0.4.0, whose generators returned text and whose
     * kit.feed had trigger_name; 0.5.0, which read a write table's version from its name; 0.6.0,
     * whose catalog kept every table in public and numbered versions once per database; 0.7.0,
     * whose feeds had no race checks) that
     * has run the tidy-up (users_0 and users_1 retired, their tables dropped) and aborted a
     * version upgrades in place: the upgrade grants nothing on tables that are gone, records
     * the fact and version each write table's name implied, regenerates every generated
     * function as this kit writes it (no drift), records the new version, and leaves writes
     * and verify working.
     */
    @ParameterizedTest(name = "from {0}")
    @ValueSource(strings = {"0.3.0", "0.4.0", "0.5.0", "0.6.0", "0.7.0", "0.8.0", "0.9.0"})
    void aDatabaseOfAReleasedKitAfterATidyUpAndAnAbortUpgradesInPlace(String released) throws Exception {
        TestDatabase db = TestDatabases.empty();
        // Every step the released kit can run (version 4 needs this kit's feeds): the upgrade applies the rest.
        db.migrateWithKit("classpath:frozen-kit-" + released, "3");
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT kit.version()")).isEqualTo(released);
            assertThat(rows(c, "SELECT read_table FROM kit.read_version WHERE state = 'retired' ORDER BY 1"))
                    .extracting(r -> r.get("read_table")).containsExactly("users_0", "users_1");
            exec(c, "INSERT INTO user_registered_1 VALUES (1, 'bar@example.com', 'h1', 'bar')");
            exec(c, "CREATE TABLE people_9 (id bigint PRIMARY KEY, email text NOT NULL)");
            exec(c, "SELECT kit.create_read_version('people_9', 'user')");
            exec(c, "SELECT kit.add_feed('user_registered_1', 'people_9')");
            exec(c, "SELECT kit.create_schema_version(9, ARRAY['people_9'])");
            exec(c, "SELECT kit.create_app_role(9)");
            exec(c, "SELECT kit.abort_read_version('people_9')");
        }

        Map<String, List<Map<String, Object>>> before = new java.util.TreeMap<>();
        try (Connection c = db.connect()) {
            for (String table : List.of("user_registered_0", "user_registered_1", "password_changed_2", "message_sent_3")) {
                before.put(table, rows(c, "SELECT * FROM " + table + " ORDER BY 1"));
            }
        }

        db.migrations().migrateAll();

        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT kit.version()")).isEqualTo(KitInstallTest.THIS_KIT);
            assertThat(rows(c, "SELECT write_table, fact, schema_version FROM kit.write_table ORDER BY schema_version"))
                    .extracting(r -> r.get("write_table") + " " + r.get("fact") + " " + r.get("schema_version"))
                    .containsExactly("user_registered_0 user_registered 0", "user_registered_1 user_registered 1",
                            "password_changed_2 password_changed 2", "message_sent_3 message_sent 3", "user_deleted_4 user_deleted 4");
            for (var table : before.entrySet()) {
                assertThat(rows(c, "SELECT * FROM " + table.getKey() + " ORDER BY 1")).as("the facts of %s are as they were", table.getKey())
                        .isEqualTo(table.getValue());
            }
            assertThat(rows(c, "SELECT DISTINCT domain FROM kit.write_table UNION SELECT domain FROM kit.read_version"
                    + " UNION SELECT domain FROM kit.schema_versions UNION SELECT domain FROM kit.app_role"))
                    .as("every entry of a kit before 0.7.0 is in public").extracting(r -> r.get("domain")).containsExactly("public");
            assertThat(rows(c, "SELECT version || ' ' || state AS v FROM kit.schema_versions ORDER BY version"))
                    .as("the schema versions, keyed by domain and version now, keep their states")
                    .extracting(r -> r.get("v")).containsExactly("0 retired", "1 retired", "2 live", "3 live", "4 live", "9 aborted");
            assertThat(value(c, "SELECT kit.schema_version_state(3)")).isEqualTo("live");
            assertThat(rows(c, "SELECT action, from_version FROM kit.installation WHERE action = 'upgrade'"))
                    .singleElement().satisfies(r -> assertThat(r).containsEntry("from_version", released));
            assertThat(rows(c, "SELECT * FROM kit.drift()")).isEmpty();
            assertThat(value(c, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'kit.feed'::regclass"
                    + " AND attname = 'trigger_name' AND NOT attisdropped")).as("kit.feed.trigger_name").isEqualTo(0L);
            for (String table : Sql.liveReadTables(c)) {
                assertThat(Sql.verify(c, table)).as("%s against a rebuild", table).isEmpty();
            }
        }
        try (Connection app = db.connectAsAppRole(3)) {
            exec(app, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('new@example.com', 'h', 'new')");
            assertThat(value(app, "SELECT count(*) FROM users_2")).isEqualTo(2L);
        }
    }

    /**
     * README, "Upgrading the kit": {@code flyway:migrate -Dflyway.target=current} upgrades the kit
     * (the beforeMigrate callbacks run whatever the target) and applies no step of the domain,
     * not even a pending tidy-up.
     */
    @Test
    void targetCurrentUpgradesTheKitAndAppliesNoPendingStep() throws Exception {
        TestDatabase db = TestDatabases.empty();
        db.migrateWithKit("classpath:frozen-kit-0.4.0", "2");

        int applied = db.migrations().migrateTo("current");

        assertThat(applied).as("steps applied").isZero();
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT kit.version()")).isEqualTo(KitInstallTest.THIS_KIT);
            assertThat(rows(c, "SELECT version FROM flyway_schema_history WHERE version IS NOT NULL ORDER BY installed_rank"))
                    .extracting(r -> r.get("version")).containsExactly("0", "1", "2");
            assertThat(rows(c, "SELECT version, state FROM kit.schema_versions ORDER BY version"))
                    .extracting(r -> r.get("version") + " " + r.get("state")).containsExactly("0 live", "1 live", "2 live");
            assertThat(rows(c, "SELECT * FROM kit.drift()")).isEmpty();
        }
    }
}
