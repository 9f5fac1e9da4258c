package kit.tests;

import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.util.List;

import static kit.client.Jdbc.exec;
import static kit.client.Jdbc.rows;
import static kit.tests.Sql.value;
import static kit.tests.Sql.verify;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Drift: the database no longer holds what the kit generated. kit.drift()
 * names each case before a fact is lost, and kit.repair() restores what the
 * kit generated from its catalog, leaving alone what somebody else added.
 */
class DriftTest {

    static List<String> drift(Connection c) throws Exception {
        return rows(c, "SELECT object || ': ' || problem AS drift FROM kit.drift()").stream()
                .map(r -> (String) r.get("drift")).toList();
    }

    @Test
    void aFreshlyMigratedDatabaseHasNoDrift() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            assertThat(drift(c)).isEmpty();
        }
    }

    /**
     * The code the kit generates does not depend on how the planner reads the catalog: with index
     * scans forced (as after an ANALYZE that favours them), message_sent_3's feed trigger, whose two
     * reference checks came in the order a scan of kit.read_reference returned them, was "drift".
     */
    @Test
    void noDriftWhateverPlanTheCatalogIsReadWith() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            for (String plan : List.of("SET enable_seqscan = off", "SET enable_indexscan = off; SET enable_bitmapscan = off")) {
                exec(c, "RESET ALL");
                exec(c, plan);
                assertThat(rows(c, "SELECT * FROM kit.drift()")).as(plan).isEmpty();
            }
        }
    }

    @Test
    void everyKindOfDriftIsNamedAndRepairRestoresWhatTheKitGenerated() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        String appRole = TestDatabases.rolePrefix() + 2;
        try (Connection c = db.connect()) {
            exec(c, "INSERT INTO user_registered_1 (email, password_hash) VALUES ('before@example.com', 'h')");
            exec(c, "ALTER TABLE user_registered_1 DISABLE TRIGGER feed_user_registered_1");
            exec(c, "INSERT INTO user_registered_1 (email, password_hash) VALUES ('during@example.com', 'h')");
            exec(c, "DROP TRIGGER feed_password_changed_2 ON password_changed_2");
            exec(c, "ALTER TABLE user_registered_0 ENABLE TRIGGER append_only_user_registered_0");
            exec(c, "CREATE OR REPLACE FUNCTION public.project_password_changed_2_into_users_2(from_seq bigint, to_seq bigint) "
                    + "RETURNS void LANGUAGE sql AS 'SELECT'");
            exec(c, "CREATE OR REPLACE FUNCTION public.feed_message_sent_3() RETURNS trigger LANGUAGE plpgsql "
                    + "SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS 'BEGIN RETURN NULL; END'");
            exec(c, "CREATE FUNCTION public.audit() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END'");
            exec(c, "CREATE TRIGGER audit AFTER INSERT ON users_2 FOR EACH ROW EXECUTE FUNCTION public.audit()");
            exec(c, "REVOKE SELECT ON users_2 FROM " + appRole);

            assertThat(drift(c)).containsExactlyInAnyOrder(
                    "trigger feed_user_registered_1 on user_registered_1: disabled",
                    "trigger feed_password_changed_2 on password_changed_2: missing",
                    "trigger append_only_user_registered_0 on user_registered_0: enabled ORIGIN, not ALWAYS: writes under session_replication_role = replica bypass it",
                    "function public.project_password_changed_2_into_users_2(bigint, bigint): differs from what the kit generates",
                    "function public.feed_message_sent_3(): differs from what the kit generates",
                    "trigger audit on users_2: not created by the kit",
                    "role " + appRole + ": cannot SELECT users_2");

            exec(c, "CALL kit.repair()");
            assertThat(drift(c)).as("what somebody else added is named, never dropped")
                    .containsExactly("trigger audit on users_2: not created by the kit");
            exec(c, "INSERT INTO user_registered_1 (email, password_hash) VALUES ('after@example.com', 'h')");
            assertThat(value(c, "SELECT count(*) FROM users_2 WHERE email = 'after@example.com'")).as("the feed runs again").isEqualTo(1L);
            assertThat(verify(c, "users_2")).as("a fact written while the feed was off is missing until a rebuild")
                    .extracting(r -> r.get("difference")).containsExactly("only in rebuild");
            exec(c, "CALL kit.rebuild('users_2')");
            assertThat(verify(c, "users_2")).isEmpty();
        }
        try (Connection app = db.connectAsAppRole(2)) {
            assertThat(rows(app, "SELECT count(*) AS n FROM users_2")).extracting(r -> r.get("n")).containsExactly(3L);
        }
    }

    @Test
    void droppingAFeedTriggerIsDriftBeforeAnyFactIsLost() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "DROP TRIGGER feed_user_registered_1 ON user_registered_1");
            assertThat(drift(c)).containsExactly("trigger feed_user_registered_1 on user_registered_1: missing");
            assertThat(rows(c, "SELECT count(*) AS n FROM user_registered_1")).extracting(r -> r.get("n")).containsExactly(0L);
            exec(c, "CALL kit.repair()");
            assertThat(drift(c)).isEmpty();
            exec(c, "INSERT INTO user_registered_1 (email, password_hash) VALUES ('x@example.com', 'h')");
            assertThat(verify(c, "users_2")).isEmpty();
        }
    }
}
