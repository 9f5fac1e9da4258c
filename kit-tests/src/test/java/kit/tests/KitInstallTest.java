package kit.tests;

import kit.client.AppRoles;
import kit.client.KitError;
import kit.client.KitVersion;
import kit.client.Migrations;
import kit.example.ExampleMigrations;
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
import static kit.tests.Sql.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The kit installs itself before every migrate (Flyway callbacks in
 * classpath:db/kit): on a database without it, before the domain's first
 * step; with the same version installed it regenerates nothing; a newer
 * installed kit is refused.
 */
class KitInstallTest {

    /** The kit's version, the Maven project's (KitVersion reads what the kit's build wrote). */
    static final String THIS_KIT = KitVersion.current();

    /**
     * Every function the kit generated, with the transaction that last wrote it (for those in kit, whose
     * grants the kit script re-revokes on every run, their source instead).
     */
    static final String GENERATED = """
            SELECT p.oid::regprocedure::text AS function,
                   CASE WHEN n.nspname = 'kit' THEN md5(p.prosrc) ELSE p.xmin::text END AS written_by
              FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE (n.nspname = 'public' AND (p.proname LIKE 'feed\\_%' OR p.proname LIKE 'project\\_%'))
                OR (n.nspname = 'kit' AND p.proname LIKE 'assign\\_%\\_id')
             ORDER BY 1""";

    @Test
    void aDatabaseWithoutTheKitGetsItBeforeTheDomainsFirstStep() throws Exception {
        TestDatabase db = TestDatabases.empty();
        assertThat(db.migrations().migrateTo("0")).isEqualTo(1);
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT kit.version()")).isEqualTo(THIS_KIT);
            assertThat(rows(c, "SELECT version, action, from_version FROM kit.installation"))
                    .singleElement().satisfies(r -> assertThat(r).containsEntry("version", THIS_KIT)
                            .containsEntry("action", "install").containsEntry("from_version", null));
            assertThat(Sql.liveReadTables(c)).containsExactly("users_0");
        }
    }

    @Test
    void migratingAgainWithTheSameKitRegeneratesNothing() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (Connection c = db.connect()) {
            var before = rows(c, GENERATED);
            assertThat(before).hasSizeGreaterThan(10);
            db.migrations().migrateTo("2");
            assertThat(rows(c, GENERATED)).as("generated functions, and the transactions that wrote them").isEqualTo(before);
            assertThat(value(c, "SELECT count(*) FROM kit.installation")).isEqualTo(1L);
            db.migrations().migrateAll();
            assertThat(value(c, "SELECT count(*) FROM kit.installation")).isEqualTo(1L);
            assertThat(Sql.liveReadTables(c)).containsExactly("messages_3", "users_2", "users_4");
        }
    }

    @Test
    void aNewerKitInTheDatabaseIsRefusedAndNothingChanges() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (Connection c = db.connect()) {
            exec(c, "CREATE OR REPLACE FUNCTION kit.version() RETURNS text LANGUAGE sql AS $$SELECT '99.0.0'::text$$");
            Throwable refused = catchThrowable(() -> db.migrations().migrateAll());
            assertThat(KitError.of(refused)).as(String.valueOf(refused)).contains(KitError.NEWER_KIT);
            assertThat(refused).hasStackTraceContaining("This database has a newer kit than this one: 99.0.0 (This kit: " + THIS_KIT + ")");
            assertThat(value(c, "SELECT count(*) FROM kit.schema_version WHERE version = 3")).isEqualTo(0L);
            assertThat(value(c, "SELECT count(*) FROM kit.installation")).isEqualTo(1L);
        }
    }

    /** What a schema version consists of, for comparing two ways of reaching it. */
    static final List<String> DOMAIN_AND_CATALOG = List.of(
            // first_fact_seq: the kit's column that 0.4.0 adds to every read table.
            "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND column_name <> 'first_fact_seq' ORDER BY 1, 2",
            "SELECT write_table, id_space, id_sequence FROM kit.write_table ORDER BY 1",
            "SELECT read_table, entity, state, rebuild_of FROM kit.read_version ORDER BY 1",
            "SELECT write_table, read_table, kind, key_column, projection FROM kit.feed ORDER BY 1, 2",
            "SELECT version, read_table FROM kit.schema_version_read ORDER BY 1, 2",
            "SELECT version, retired_at IS NULL AS current FROM kit.schema_version ORDER BY 1",
            "SELECT version, role_name FROM kit.app_role ORDER BY 1");

    @ParameterizedTest(name = "target {0}")
    @ValueSource(strings = {"0", "1", "2"})
    void eachTargetGivesTheSameDomainAndCatalogAsWhenTheKitLivedInV0(String target) throws Exception {
        TestDatabase before = TestDatabases.empty();
        Flyway.configure().dataSource(before.url().jdbc(), null, null).locations("classpath:frozen-kit-0.1.0")
                .jdbcProperties(Map.of("options", AppRoles.prefixOption(TestDatabases.rolePrefix()))).target(target).load().migrate();
        TestDatabase now = TestDatabases.empty();
        now.migrations().migrateTo(target);
        try (Connection b = before.connect(); Connection n = now.connect()) {
            for (String query : DOMAIN_AND_CATALOG) {
                assertThat(rows(n, query)).as(query).isNotEmpty().isEqualTo(rows(b, query));
            }
        }
    }

    @Test
    void aSessionHoldingTheInstallersLockMakesAMigrateGiveUpNamingIt() throws Exception {
        TestDatabase db = TestDatabases.empty();
        try (Connection holder = db.connectAs("lock-holder")) {
            exec(holder, "SELECT pg_advisory_lock(1263094, 0)");
            Throwable failure = catchThrowable(() -> Flyway.configure().dataSource(db.url().jdbc(), null, null)
                    .locations(Migrations.KIT_LOCATION, ExampleMigrations.LOCATION)
                    .jdbcProperties(Map.of("options", "-c kit.lock_wait=1s " + AppRoles.prefixOption(TestDatabases.rolePrefix())))
                    .load().migrate());
            assertThat(KitError.of(failure)).contains(KitError.BUSY);
            assertThat(failure).hasMessageContaining("installer lock").hasMessageContaining("lock-holder");
        }
        db.migrations().migrateTo("0");
    }
}
