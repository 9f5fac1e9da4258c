package kit.tests;

import kit.client.KitError;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.stream.Stream;

import static kit.client.Jdbc.exec;
import static kit.tests.DriftTest.drift;
import static kit.tests.Sql.assertFailsWith;
import static kit.tests.Sql.value;
import static kit.tests.Sql.verify;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A health check is a promise: every kind of damage an operator or a tool can do to what the kit
 * generated and recorded is named by kit.drift() (so kit status exits non-zero), and kit.repair()
 * restores it, or names what it cannot restore, and never leaves writes broken. Each case damages a
 * database at the last schema version, checks what drift says, repairs, checks what is left, then writes
 * through every version's role.
 */
class DamageAndRepairTest {

    /** What the code that applies facts pins beside its search_path (kit.fact_settings()). */
    private static final String FACT_SETTINGS =
            "DateStyle=ISO, MDY; IntervalStyle=postgres; TimeZone=UTC; extra_float_digits=1; standard_conforming_strings=on; transform_null_equals=off";

    /** One kind of damage: the statements that do it (ROLE stands for an app role prefix), what drift says before and after repair. */
    record Damage(String name, List<String> statements, List<String> drift, List<String> afterRepair) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Damage> damages() {
        String denied = " (app roles run kit code only through its triggers, the start-up gate and kit.register_client)";
        return Stream.of(
                new Damage("a dropped UNIQUE rule", List.of("ALTER TABLE users_2 DROP CONSTRAINT users_2_email_key"),
                        List.of("table users_2: lost its rule constraint UNIQUE (email) (it had it when it went live)"), List.of()),
                new Damage("a dropped PRIMARY KEY", List.of("ALTER TABLE messages_3 DROP CONSTRAINT messages_3_pkey"),
                        List.of("table messages_3: lost its rule constraint PRIMARY KEY (id) (it had it when it went live)"), List.of()),
                new Damage("a dropped NOT NULL", List.of("ALTER TABLE users_2 ALTER COLUMN password_hash DROP NOT NULL"),
                        List.of("table users_2: lost its rule not null password_hash (it had it when it went live)"), List.of()),
                new Damage("a feed trigger's search_path reset", List.of("ALTER FUNCTION public.feed_user_registered_1() RESET search_path"),
                        List.of("function public.feed_user_registered_1(): settings " + FACT_SETTINGS
                                + ", where the kit sets search_path=pg_catalog, pg_temp; " + FACT_SETTINGS), List.of()),
                new Damage("a feed trigger's TimeZone reset", List.of("ALTER FUNCTION public.feed_user_registered_1() RESET \"TimeZone\""),
                        List.of("function public.feed_user_registered_1(): settings search_path=pg_catalog, pg_temp; " + FACT_SETTINGS.replace("TimeZone=UTC; ", "")
                                + ", where the kit sets search_path=pg_catalog, pg_temp; " + FACT_SETTINGS), List.of()),
                new Damage("an id claimer made SECURITY INVOKER", List.of("ALTER FUNCTION kit.accept_user_id() SECURITY INVOKER"),
                        List.of("function kit.accept_user_id(): not SECURITY DEFINER"), List.of()),
                new Damage("a projection no longer STRICT", List.of("ALTER FUNCTION public.project_message_sent_3_into_messages_3(bigint, bigint) CALLED ON NULL INPUT"),
                        List.of("function public.project_message_sent_3_into_messages_3(bigint, bigint): not STRICT"), List.of()),
                new Damage("revoked sequence grants",
                        List.of("REVOKE USAGE ON SEQUENCE kit.user_id_seq FROM ROLE3", "REVOKE USAGE ON SEQUENCE kit.fact_seq FROM ROLE2"),
                        List.of("role ROLE3: cannot USAGE kit.user_id_seq", "role ROLE2: cannot USAGE kit.fact_seq"), List.of()),
                new Damage("a revoked start-up gate", List.of("REVOKE EXECUTE ON FUNCTION kit.schema_version_state(integer, text) FROM ROLE3"),
                        List.of("role ROLE3: cannot EXECUTE kit.schema_version_state(integer,text)"), List.of()),
                // An app that cannot register is invisible to retirement: a tidy-up could drop its table.
                new Damage("a revoked client registration", List.of("REVOKE EXECUTE ON FUNCTION kit.register_client(integer, text) FROM ROLE3"),
                        List.of("role ROLE3: cannot EXECUTE kit.register_client(integer,text)"), List.of()),
                new Damage("a kit function granted to an app role", List.of("GRANT EXECUTE ON FUNCTION kit.claim_explicit_id(text, text, bigint) TO ROLE2"),
                        List.of("role ROLE2: can run kit.claim_explicit_id(text,text,bigint)" + denied), List.of()),
                new Damage("triggers enabled only for replica sessions",
                        List.of("ALTER TABLE user_registered_1 ENABLE REPLICA TRIGGER feed_user_registered_1",
                                "ALTER TABLE user_registered_1 ENABLE REPLICA TRIGGER accept_id_user_registered_1"),
                        List.of("trigger accept_id_user_registered_1 on user_registered_1: enabled only for replica sessions (ENABLE REPLICA): ordinary writes bypass it",
                                "trigger feed_user_registered_1 on user_registered_1: enabled only for replica sessions (ENABLE REPLICA): ordinary writes bypass it"),
                        List.of()),
                new Damage("an id assigner enabled ORIGIN", List.of("ALTER TABLE message_sent_3 ENABLE TRIGGER assign_id_message_sent_3"),
                        List.of("trigger assign_id_message_sent_3 on message_sent_3: enabled ORIGIN, not ALWAYS: writes under session_replication_role = replica bypass it"),
                        List.of()),
                new Damage("a column the facts lack, NOT NULL with a DEFAULT", List.of("ALTER TABLE users_2 ADD COLUMN tier text NOT NULL DEFAULT 'free'"),
                        List.of(), List.of()),
                new Damage("a generated column", List.of("ALTER TABLE users_2 ADD COLUMN domain text GENERATED ALWAYS AS (split_part(email, '@', 2)) STORED"),
                        List.of(), List.of()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("damages")
    void everyDamageIsNamedAndRepairRestoresItAndLeavesWritesWorking(Damage damage) throws Exception {
        TestDatabase db = TestDatabases.migrated();
        String prefix = TestDatabases.rolePrefix();
        try (Connection c = db.connect()) {
            for (String statement : damage.statements()) {
                exec(c, statement.replace("ROLE", prefix));
            }
            assertThat(drift(c)).as("drift after %s", damage).containsExactlyInAnyOrderElementsOf(
                    damage.drift().stream().map(d -> d.replace("ROLE", prefix)).toList());
            exec(c, "CALL kit.repair()");
            assertThat(drift(c)).as("drift after repairing %s", damage).containsExactlyInAnyOrderElementsOf(damage.afterRepair());
        }
        writesWorkThroughEveryLiveVersion(db);
        try (Connection c = db.connect()) {
            assertThat(verify(c, "users_2")).isEmpty();
            assertThat(verify(c, "messages_3")).isEmpty();
        }
    }

    @Test
    void aRenamedReadTableIsNamedWithoutAnErrorAndRepairKeepsTheOtherFeedsWriting() throws Exception {
        // Version 3: users_2 is the only read version of users (users_4 would take the same facts).
        TestDatabase db = TestDatabases.migratedTo("3");
        try (Connection c = db.connect()) {
            exec(c, "ALTER TABLE users_2 RENAME TO users_2_old");
            String unneeded = ": feeds only read tables that are missing: the kit generates none now";
            assertThat(drift(c)).containsExactlyInAnyOrder(
                    "table users_2: missing (a live read version): renamed or dropped; its feeds are left out of the write tables' triggers until it is back",
                    "function public.feed_user_registered_0()" + unneeded,
                    "function public.feed_user_registered_1()" + unneeded,
                    "function public.feed_password_changed_2()" + unneeded);
            exec(c, "CALL kit.repair()");
            assertThat(drift(c)).containsExactly(
                    "table users_2: missing (a live read version): renamed or dropped; its feeds are left out of the write tables' triggers until it is back");
        }
        long id;
        try (Connection app = db.connectAsAppRole(3)) {
            id = (Long) value(app, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('during@example.com', 'h', 'd') RETURNING id");
            assertFailsWith("42P01", () -> exec(app, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (?, ?, 'hi')", id, id));
        }
        try (Connection app = db.connectAsAppRole(2)) {
            exec(app, "INSERT INTO password_changed_2 (user_id, password_hash) VALUES (?, 'h2')", id);
        }
        try (Connection c = db.connect()) {
            exec(c, "ALTER TABLE users_2_old RENAME TO users_2");
            assertThat(drift(c)).contains("trigger feed_user_registered_1 on user_registered_1: missing");
            exec(c, "CALL kit.repair()");
            assertThat(drift(c)).isEmpty();
            assertThat(verify(c, "users_2")).as("the facts written while it was gone").extracting(r -> r.get("difference"))
                    .containsExactly("only in rebuild");
            exec(c, "CALL kit.rebuild('users_2')");
            assertThat(verify(c, "users_2")).isEmpty();
        }
        writesWorkThroughEveryLiveVersion(db);
    }

    @Test
    void aDroppedRuleThatFactsBreakIsNamedByRepairVerifyAndRebuild() throws Exception {
        // Version 3: users_2 is the only read version of users (users_4 would take the same facts).
        TestDatabase db = TestDatabases.migratedTo("3");
        try (Connection c = db.connect()) {
            exec(c, "ALTER TABLE users_2 DROP CONSTRAINT users_2_email_key");
            exec(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('twice@example.com', 'h', 'one')");
            long second = (Long) value(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('twice@example.com', 'h', 'two') RETURNING seq");
            exec(c, "CALL kit.repair()");
            assertThat(drift(c)).containsExactly("table users_2: lost its rule constraint UNIQUE (email) (it had it when it went live)");
            assertThat(verify(c, "users_2")).filteredOn(r -> r.get("difference").equals("fact breaks a rule"))
                    .extracting(r -> r.get("row_data").toString())
                    .singleElement().asString().contains("\"fact\": \"user_registered_1 seq " + second + "\"");
            SQLException refused = assertFailsWith(KitError.DUPLICATE_VALUE, () -> exec(c, "CALL kit.rebuild('users_2')"));
            assertThat(refused.getMessage()).contains("user_registered_1 seq " + second)
                    .contains("The rebuild was dropped: users_2 is unchanged").doesNotContain("kit abort");
            assertThat(value(c, "SELECT count(*) FROM kit.read_version WHERE read_table = 'users_2__rebuild'")).isEqualTo(0L);
        }
        writesWorkThroughEveryLiveVersion(db);
    }

    @Test
    void duplicateIdsWrittenWithTheTriggersOffAreNamedByVerifyAndRebuild() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "ALTER TABLE user_registered_1 DISABLE TRIGGER ALL");
            exec(c, "INSERT INTO user_registered_1 VALUES (31, 'a@example.com', 'h', 'a')");
            long second = (Long) value(c, "INSERT INTO user_registered_1 VALUES (31, 'b@example.com', 'h', 'b') RETURNING seq");
            exec(c, "ALTER TABLE user_registered_1 ENABLE TRIGGER ALL");
            exec(c, "CALL kit.repair()");
            assertThat(verify(c, "users_2")).extracting(r -> r.get("difference").toString())
                    .contains("fact breaks a rule", "only in rebuild");
            SQLException refused = assertFailsWith(KitError.DUPLICATE_ID, () -> exec(c, "CALL kit.rebuild('users_2')"));
            assertThat(refused.getMessage()).contains("user_registered_1 seq " + second);
            assertThat(((org.postgresql.util.PSQLException) refused).getServerErrorMessage().getHint()).contains("kit verify users_2").doesNotContain("kit abort");
        }
    }

    /** A registration with and without an id, a password change and a message, each through the version that writes it. */
    static void writesWorkThroughEveryLiveVersion(TestDatabase db) throws SQLException {
        long a;
        long b;
        try (Connection app = db.connectAsAppRole(3)) {
            a = (Long) value(app, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('w1@example.com', 'h', 'w1') RETURNING id");
            b = (Long) value(app, "INSERT INTO user_registered_1 VALUES (4242, 'w2@example.com', 'h', 'w2') RETURNING id");
            exec(app, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (?, ?, 'hi')", a, b);
            assertThat(value(app, "SELECT count(*) FROM users_2 WHERE id IN (?, ?)", a, b)).isEqualTo(2L);
        }
        try (Connection app = db.connectAsAppRole(2)) {
            exec(app, "INSERT INTO password_changed_2 (user_id, password_hash) VALUES (?, 'changed')", a);
            assertThat(value(app, "SELECT password_hash FROM users_2 WHERE id = ?", a)).isEqualTo("changed");
        }
    }

    @Test
    void aDroppedReadColumnIsNamedAndRepairPutsItBackForARebuildToFill() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('ann@example.com', 'h', 'ann')");
            exec(c, "ALTER TABLE users_2 DROP COLUMN username");
            assertThat(drift(c)).contains("table users_2: lost its rule column username text (it had it when it went live)");
            exec(c, "CALL kit.repair()");
            assertThat(drift(c)).isEmpty();
            assertThat(value(c, "SELECT username FROM users_2 WHERE email = 'ann@example.com'")).as("put back empty").isNull();
            exec(c, "CALL kit.rebuild('users_2')");
            assertThat(value(c, "SELECT username FROM users_2 WHERE email = 'ann@example.com'")).isEqualTo("ann");
            assertThat(verify(c, "users_2")).isEmpty();
        }
        writesWorkThroughEveryLiveVersion(db);
    }

    @Test
    void damageNoRepairCanUndoIsNamedByDriftAndByRepair() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "ALTER TABLE users_2 ADD COLUMN flags int NOT NULL DEFAULT 0");
            exec(c, "ALTER TABLE users_2 ALTER COLUMN flags DROP DEFAULT");
            exec(c, "ALTER TABLE message_sent_3 DROP COLUMN content");
            List<String> unrepairable = List.of(
                    "table users_2: has NOT NULL columns without a DEFAULT that facts of user_registered_0 lack (Columns: flags):"
                            + " every such fact is refused; give them a DEFAULT or drop NOT NULL",
                    "table users_2: has NOT NULL columns without a DEFAULT that facts of user_registered_1 lack (Columns: flags):"
                            + " every such fact is refused; give them a DEFAULT or drop NOT NULL",
                    "table message_sent_3: lost its fact column content text (it had it when it was created): its values are gone;"
                            + " restore them from a backup",
                    "table messages_3: has NOT NULL columns without a DEFAULT that facts of message_sent_3 lack (Columns: content):"
                            + " every such fact is refused; give them a DEFAULT or drop NOT NULL");
            assertThat(drift(c)).containsAll(unrepairable);
            List<String> warnings = new java.util.ArrayList<>();
            try (var call = c.createStatement()) {
                call.execute("CALL kit.repair()");
                for (var w = call.getWarnings(); w != null; w = w.getNextWarning()) {
                    warnings.add(w.getMessage());
                }
            }
            assertThat(warnings).filteredOn(w -> w.startsWith("kit: repair cannot restore")).hasSize(4);
            assertThat(drift(c)).containsAll(unrepairable);
            exec(c, "ALTER TABLE users_2 ALTER COLUMN flags SET DEFAULT 0");
            assertThat(drift(c)).containsExactlyInAnyOrder(unrepairable.get(2), unrepairable.get(3));
        }
    }

    @Test
    void privilegesBeyondTheKitsAreNamedAndRepairTakesThemBack() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        String v0 = TestDatabases.rolePrefix() + 0;
        String v3 = TestDatabases.rolePrefix() + 3;
        try (Connection c = db.connect()) {
            exec(c, "GRANT UPDATE, DELETE ON users_2 TO " + v3);
            exec(c, "GRANT INSERT ON messages_3 TO PUBLIC");
            exec(c, "GRANT " + v3 + " TO " + v0);
            assertThat(drift(c)).contains(
                    "role " + v3 + ": can UPDATE users_2 (app roles only read read tables)",
                    "role " + v3 + ": can DELETE users_2 (app roles only read read tables)",
                    "role " + v0 + ": can INSERT messages_3 (app roles only read read tables)",
                    "role " + v0 + ": is a member of " + v3 + " (each version's role reaches its own tables only)");
            exec(c, "CALL kit.repair()");
            assertThat(drift(c)).isEmpty();
        }
        try (Connection app = db.connectAsAppRole(3)) {
            assertFailsWith("42501", () -> exec(app, "UPDATE users_2 SET email = 'evil@example.com'"));
            assertFailsWith("42501", () -> exec(app, "INSERT INTO messages_3 (id, src_id, dst_id, content, last_fact_seq) VALUES (1, 1, 1, 'forged', 1)"));
        }
        writesWorkThroughEveryLiveVersion(db);
    }

    @Test
    void aRenamedWriteTableIsNamedWithoutAnErrorAndTheOtherWriteTablesGoOn() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "ALTER TABLE message_sent_3 RENAME TO message_sent_3_old");
            assertThat(drift(c)).contains("table message_sent_3: missing (a write table in the catalog)");
            exec(c, "CALL kit.repair()");
            assertThat(drift(c)).contains("table message_sent_3: missing (a write table in the catalog)");
            exec(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('still@example.com', 'h', 's')");
            assertThat(verify(c, "users_2")).isEmpty();
            exec(c, "ALTER TABLE message_sent_3_old RENAME TO message_sent_3");
            exec(c, "CALL kit.repair()");
            assertThat(drift(c)).isEmpty();
        }
        writesWorkThroughEveryLiveVersion(db);
    }

    @Test
    void aFactAboutNobodyWrittenWhileItsFeedWasOffIsNamedByVerify() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "ALTER TABLE message_sent_3 DISABLE TRIGGER feed_message_sent_3");
            long seq = (Long) value(c, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (1, 2, 'to nobody') RETURNING seq");
            exec(c, "ALTER TABLE password_changed_2 DISABLE TRIGGER feed_password_changed_2");
            long change = (Long) value(c, "INSERT INTO password_changed_2 (user_id, password_hash) VALUES (3, 'h') RETURNING seq");
            exec(c, "CALL kit.repair()");
            assertThat(verify(c, "messages_3")).filteredOn(r -> r.get("difference").equals("fact breaks a rule"))
                    .extracting(r -> r.get("row_data").toString()).hasSize(2)
                    .allSatisfy(d -> assertThat(d).contains("\"fact\": \"message_sent_3 seq " + seq + "\""))
                    .anySatisfy(d -> assertThat(d).contains("src_id names no row of users_2 made before it"))
                    .anySatisfy(d -> assertThat(d).contains("dst_id names no row of users_2 made before it"));
            assertThat(verify(c, "users_2")).extracting(r -> r.get("row_data").toString())
                    .singleElement().asString().contains("password_changed_2 seq " + change, "user_id names no row of users_2");
        }
    }
}

