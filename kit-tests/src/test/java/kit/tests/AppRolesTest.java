package kit.tests;

import kit.client.KitError;
import kit.client.Migrations;
import kit.example.ExampleMigrations;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

import java.sql.Connection;

import static kit.client.Jdbc.exec;
import static kit.client.Jdbc.rows;
import static kit.tests.Sql.assertFailsWith;
import static kit.tests.Sql.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Each app version's role may insert into its own write tables, read its own
 * read tables and the catalog, and nothing else; read tables change only
 * through the feeds. Refusals are insufficient_privilege (42501).
 */
class AppRolesTest {

    static final String DENIED = "42501";

    @Test
    void version2sRoleWritesItsFactsAndReadsItsTablesOnly() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (Connection app = db.connectAsAppRole(2)) {
            long id = (Long) value(app, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('r@example.com', 'h', 'r') RETURNING id");
            exec(app, "INSERT INTO password_changed_2 (user_id, password_hash) VALUES (?, 'h2')", id);
            assertThat(value(app, "SELECT password_hash FROM users_2 WHERE id = ?", id)).as("the feed wrote users_2 for it").isEqualTo("h2");
            assertThat(value(app, "SELECT state FROM kit.schema_versions WHERE version = 2")).isEqualTo("live");

            assertFailsWith(DENIED, () -> exec(app, "INSERT INTO user_registered_0 (email, password_hash) VALUES ('old@example.com', 'h')"));
            assertFailsWith(DENIED, () -> exec(app, "INSERT INTO users_2 (id, email, password_hash, last_fact_seq) VALUES (999, 'f@example.com', 'h', 0)"));
            assertFailsWith(DENIED, () -> exec(app, "UPDATE users_2 SET password_hash = 'forged'"));
            assertFailsWith(DENIED, () -> exec(app, "DELETE FROM users_2"));
            assertFailsWith(DENIED, () -> exec(app, "UPDATE user_registered_1 SET email = 'x'"));
            assertFailsWith(DENIED, () -> exec(app, "DELETE FROM password_changed_2"));
            assertFailsWith(DENIED, () -> exec(app, "TRUNCATE user_registered_1"));
            assertFailsWith(DENIED, () -> rows(app, "SELECT * FROM users_1"));
            assertFailsWith(DENIED, () -> rows(app, "SELECT * FROM kit.feed"));
            assertFailsWith(DENIED, () -> exec(app, "INSERT INTO user_registered_1 (email, password_hash, seq) VALUES ('s@example.com', 'h', 1)"));
            assertFailsWith(DENIED, () -> exec(app, "SELECT project_password_changed_2_into_users_2(0, 9223372036854775807)"));
            assertFailsWith(DENIED, () -> exec(app, "SELECT kit.retire_read_version('users_0')"));
            assertFailsWith(DENIED, () -> exec(app, "CALL kit.backfill()"));
            assertFailsWith(DENIED, () -> exec(app, "SELECT setval('kit.user_id_seq', 1)"));
        }
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT count(*) FROM users_2 WHERE password_hash = 'forged'")).isEqualTo(0L);
        }
    }

    @Test
    void eachVersionsRoleReachesItsOwnTables() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            // Every schema version has its role, named by the prefix and the version (later versions too).
            var roles = rows(c, "SELECT s.version, r.role_name FROM kit.schema_version s LEFT JOIN kit.app_role r USING (version) ORDER BY s.version");
            assertThat(roles).extracting(r -> r.get("version")).startsWith(0, 1, 2, 3);
            assertThat(roles).allSatisfy(r -> assertThat(r.get("role_name")).as("the role of schema version %s", r.get("version"))
                    .isEqualTo(TestDatabases.rolePrefix() + r.get("version")));
            assertThat(value(c, "SELECT count(*) FROM kit.app_role")).as("roles of versions that do not exist").isEqualTo((long) roles.size());
        }
        try (Connection v3 = db.connectAsAppRole(3)) {
            long a = (Long) value(v3, "INSERT INTO user_registered_1 (email, password_hash) VALUES ('a@example.com', 'h') RETURNING id");
            exec(v3, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (?, ?, 'hi')", a, a);
            assertThat(value(v3, "SELECT count(*) FROM messages_3")).isEqualTo(1L);
            assertFailsWith(DENIED, () -> exec(v3, "UPDATE messages_3 SET content = 'x'"));
            assertFailsWith(KitError.UNKNOWN_ENTITY, () -> exec(v3, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (?, -1, 'x')", a));
        }
        try (Connection v1 = db.connectAsAppRole(1)) {
            assertFailsWith(DENIED, () -> rows(v1, "SELECT * FROM users_2"));
            assertFailsWith(DENIED, () -> exec(v1, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (1, 1, 'x')"));
        }
    }

    @Test
    void creatingARoleAgainIsHarmless() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (Connection c = db.connect()) {
            exec(c, "SET kit.app_role_prefix = '" + TestDatabases.rolePrefix() + "'");
            exec(c, "SELECT kit.create_app_role(2)");
            assertThat(value(c, "SELECT role_name FROM kit.app_role WHERE version = 2")).isEqualTo(TestDatabases.rolePrefix() + 2);
            assertThat(value(c, "SELECT count(*) FROM kit.app_role")).isEqualTo(3L);
        }
        try (Connection app = db.connectAsAppRole(2)) {
            assertThat(value(app, "SELECT count(*) FROM users_2")).isEqualTo(0L);
        }
    }

    @Test
    void aLaterMigrationWithoutThePrefixSettingKeepsThePrefixTheCatalogRecorded() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("1");
        org.flywaydb.core.Flyway.configure().dataSource(db.url().jdbc(), null, null)
                .locations(Migrations.KIT_LOCATION, ExampleMigrations.LOCATION).target("2").load().migrate();
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT role_name FROM kit.app_role WHERE version = 2")).isEqualTo(TestDatabases.rolePrefix() + 2);
        }
    }

    @Test
    void anAbortedVersionsRoleKeepsNothingOnTheDomainButItsGate() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        String role = TestDatabases.rolePrefix() + 9;
        try (Connection c = db.connect()) {
            exec(c, "CREATE TABLE people_9 (id bigint PRIMARY KEY, email text NOT NULL)");
            exec(c, "SELECT kit.create_read_version('people_9', 'user')");
            exec(c, "SELECT kit.add_feed('user_registered_1', 'people_9')");
            exec(c, "SELECT kit.create_schema_version(9, ARRAY['people_9'])");
            exec(c, "SELECT kit.create_app_role(9)");
            assertThat(value(c, "SELECT has_table_privilege(?, 'public.user_registered_1', 'INSERT')", role)).isEqualTo(false);
            assertThat(value(c, "SELECT has_any_column_privilege(?, 'public.user_registered_1', 'INSERT')", role)).isEqualTo(true);
            exec(c, "SELECT kit.abort_read_version('people_9')");
            assertThat(value(c, "SELECT has_any_column_privilege(?, 'public.user_registered_1', 'INSERT')", role)).isEqualTo(false);
            assertThat(value(c, "SELECT has_sequence_privilege(?, 'kit.user_id_seq', 'USAGE')", role)).isEqualTo(false);
            assertThat(value(c, "SELECT has_function_privilege(?, 'kit.schema_version_state(integer, text)', 'EXECUTE')", role)).isEqualTo(true);
        }
        try (Connection app = db.connectAsAppRole(9)) {
            assertThat(value(app, "SELECT kit.schema_version_state(9)")).isEqualTo("aborted");
            Sql.assertFailsWith("42501", () -> exec(app, "INSERT INTO user_registered_1 (email, password_hash) VALUES ('x@example.com', 'h')"));
        }
    }

    /**
     * Roles are the server's. Under the default prefix a second database refuses a role that a first
     * one granted, so that its apps cannot reach the first one's tables; with a prefix of its own it
     * goes ahead. (The default-named role is left to the server, as the kit always leaves roles.)
     */
    @Test
    void theDefaultPrefixRefusesARoleAnotherDatabaseAlreadyGranted() throws Exception {
        TestDatabase first = kitOnly();
        TestDatabase second = kitOnly();
        try (Connection a = first.connect(); Connection b = second.connect()) {
            assumeTrue((Long) value(a, """
                    SELECT count(*) FROM pg_shdepend s JOIN pg_roles r ON r.oid = s.refobjid
                     WHERE s.deptype = 'a' AND r.rolname = 'kit_app_v0'""") == 0,
                    "kit_app_v0 already has grants in a database of this server");
            exec(a, "SELECT kit.create_app_role(0)");
            var refused = assertFailsWith(KitError.USAGE, () -> exec(b, "SELECT kit.create_app_role(0)"));
            assertThat(refused.getMessage()).contains("kit_app_v0", first.name());
            assertThat(value(b, "SELECT count(*) FROM kit.app_role")).isEqualTo(0L);
            exec(b, "SET kit.app_role_prefix = '" + TestDatabases.rolePrefix() + "'");
            exec(b, "SELECT kit.create_app_role(0)");
            exec(a, "DROP OWNED BY kit_app_v0");
        }
    }

    /**
     * The refusal holds whenever a role would carry the default name: when a migration sets the
     * default prefix explicitly (as a client that always passes one does), and for a database's
     * later roles, not only its first.
     */
    @Test
    void theDefaultPrefixRefusesASharedRoleAlsoWhenSetExplicitlyAndForLaterVersions() throws Exception {
        TestDatabase first = kitOnly();
        TestDatabase second = kitOnly();
        try (Connection a = first.connect(); Connection b = second.connect()) {
            assumeTrue((Long) value(a, """
                    SELECT count(*) FROM pg_shdepend s JOIN pg_roles r ON r.oid = s.refobjid
                     WHERE s.deptype = 'a' AND r.rolname IN ('kit_app_v0', 'kit_app_v1')""") == 0,
                    "kit_app_v0 or kit_app_v1 already has grants in a database of this server");
            exec(a, "SELECT kit.create_app_role(1)");
            exec(b, "SELECT kit.create_app_role(0)");
            var later = assertFailsWith(KitError.USAGE, () -> exec(b, "SELECT kit.create_app_role(1)"));
            assertThat(later.getMessage()).contains("kit_app_v1", first.name());
            exec(b, "SET kit.app_role_prefix = 'kit_app_v'");
            var explicit = assertFailsWith(KitError.USAGE, () -> exec(b, "SELECT kit.create_app_role(1)"));
            assertThat(explicit.getMessage()).contains("kit_app_v1", first.name());
            assertThat(value(b, "SELECT count(*) FROM kit.app_role WHERE version = 1")).isEqualTo(0L);
            exec(a, "DROP OWNED BY kit_app_v1");
            exec(b, "DROP OWNED BY kit_app_v0");
        }
    }

    /** An empty database with the kit installed and no domain. */
    private static TestDatabase kitOnly() {
        TestDatabase db = TestDatabases.empty();
        Flyway.configure().dataSource(db.url().jdbc(), null, null).locations(Migrations.KIT_LOCATION).load().migrate();
        return db;
    }
}

