package kit.tests;

import kit.client.KitError;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.util.List;

import static kit.client.Jdbc.exec;
import static kit.client.Jdbc.rows;
import static kit.tests.Sql.assertFailsWith;
import static kit.tests.Sql.value;
import static kit.tests.Sql.verify;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A read table is derived data: dropping its rows and replaying the facts
 * gives exactly the live table, because the live trigger and the rebuild come
 * from the same template. Verify checks that as of one snapshot, beside
 * writers, through the code the kit would generate now.
 */
class ReadTablesAreDerivedTest {

    @Test
    void aRebuildFromFactsEqualsTheLiveTable() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            seed(c);
            for (String table : List.of("users_2", "messages_3")) {
                String before = (String) value(c, "SELECT jsonb_agg(r ORDER BY id)::text FROM " + table + " r");
                assertThat(verify(c, table)).isEmpty();
                exec(c, "CALL kit.rebuild(?)", table);
                assertThat(value(c, "SELECT jsonb_agg(r ORDER BY id)::text FROM " + table + " r")).as(table).isEqualTo(before);
            }
        }
    }

    @Test
    void verifyFindsATamperedRowAndRebuildRepairsIt() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            seed(c);
            long id = (Long) value(c, "SELECT min(id) FROM users_2");
            exec(c, "UPDATE users_2 SET password_hash = 'forged' WHERE id = ?", id);
            exec(c, "DELETE FROM messages_3 WHERE id = (SELECT min(id) FROM messages_3)");

            var userDiff = verify(c, "users_2");
            assertThat(userDiff).extracting(r -> r.get("difference")).containsExactlyInAnyOrder("only in live", "only in rebuild");
            assertThat(userDiff.toString()).contains("forged");
            assertThat(verify(c, "messages_3")).singleElement()
                    .satisfies(r -> assertThat(r.get("difference")).isEqualTo("only in rebuild"));
            assertThat(value(c, "SELECT password_hash FROM users_2 WHERE id = ?", id)).as("verify leaves the table as it was").isEqualTo("forged");

            exec(c, "CALL kit.rebuild('users_2')");
            exec(c, "CALL kit.rebuild('messages_3')");
            assertThat(verify(c, "users_2")).isEmpty();
            assertThat(verify(c, "messages_3")).isEmpty();
            assertThat(value(c, "SELECT password_hash FROM users_2 WHERE id = ?", id)).isNotEqualTo("forged");
        }
    }

    @Test
    void verifyAndRebuildRefuseATableThatIsNotALiveReadVersion() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            assertFailsWith(KitError.USAGE, () -> rows(c, "SELECT * FROM kit.verify_read_table('users_0')"));
            assertFailsWith(KitError.USAGE, () -> exec(c, "CALL kit.rebuild('user_registered_0')"));
        }
    }

    @Test
    void verifyNeitherWaitsForAnOpenWriterNorHoldsWritersUp() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect(); Connection writer = db.connect(); Connection verifier = db.connect()) {
            seed(c);
            writer.setAutoCommit(false);
            exec(writer, "INSERT INTO user_registered_1 (email, password_hash) VALUES ('open@example.com', 'h')");

            verifier.setAutoCommit(false);
            verifier.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            exec(verifier, "SET LOCAL statement_timeout = '5s'");
            assertThat(rows(verifier, "SELECT * FROM kit.verify_read_table('users_2')")).as("verify beside an open writer").isEmpty();
            writer.commit();

            exec(c, "SET lock_timeout = '500ms'");
            exec(c, "INSERT INTO user_registered_1 (email, password_hash) VALUES ('during@example.com', 'h')");
            exec(c, "INSERT INTO password_changed_2 (user_id, password_hash) SELECT min(id), 'during' FROM users_2");
            assertThat(value(c, """
                    SELECT string_agg(DISTINCT l.mode, ', ') FROM pg_locks l
                     WHERE l.pid = ? AND l.relation IN ('users_2'::regclass, 'user_registered_1'::regclass)""",
                    value(verifier, "SELECT pg_backend_pid()"))).as("the locks verify holds on the live and write tables").isEqualTo("AccessShareLock");
            verifier.commit();
            assertThat(verify(c, "users_2")).isEmpty();
        }
    }

    @Test
    void verifyLeavesTheLiveTableUntouched() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            seed(c);
            exec(c, "INSERT INTO user_registered_1 (email, password_hash) SELECT 'v' || g || '@example.com', 'h' FROM generate_series(1, 3000) g");
            exec(c, "VACUUM users_2");
            Object size = value(c, "SELECT pg_relation_size('users_2')");
            Object tuples = value(c, "SELECT string_agg(ctid::text || xmin::text || xmax::text, ',' ORDER BY id) FROM users_2");
            assertThat(verify(c, "users_2")).isEmpty();
            assertThat(value(c, "SELECT pg_relation_size('users_2')")).as("no row written, no dead tuple left").isEqualTo(size);
            assertThat(value(c, "SELECT string_agg(ctid::text || xmin::text || xmax::text, ',' ORDER BY id) FROM users_2"))
                    .as("no row deleted, not even in a rolled-back subtransaction").isEqualTo(tuples);
        }
    }

    @Test
    void verifyReplaysTheProjectionsTheKitWouldGenerateNotTheInstalledOnes() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            seed(c);
            exec(c, "CREATE OR REPLACE FUNCTION public.project_password_changed_2_into_users_2(from_seq bigint, to_seq bigint) "
                    + "RETURNS void LANGUAGE sql AS 'SELECT'");
            assertThat(verify(c, "users_2")).as("a projection that does nothing cannot make a right table look wrong").isEmpty();

            exec(c, "UPDATE users_2 SET password_hash = 'stale' WHERE id = (SELECT max(user_id) FROM password_changed_2)");
            assertThat(verify(c, "users_2")).as("nor vouch for a wrong one").isNotEmpty();
        }
    }

    @Test
    void verifyOutsideOneSnapshotIsRefusedWithAHint() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            var refused = assertFailsWith(KitError.USAGE, () -> rows(c, "SELECT * FROM kit.verify_read_table('users_2')"));
            assertThat(refused.getMessage()).contains("REPEATABLE READ", "users_2");
        }
    }

    @Test
    void aRebuildKeepsGrantsAndCommentsAndRefusesUpFrontWhatItCannotKeep() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        String reporting = TestDatabases.rolePrefix() + "reporting";
        try (Connection c = db.connect()) {
            seed(c);
            exec(c, "DROP ROLE IF EXISTS " + reporting);
            exec(c, "CREATE ROLE " + reporting);
            exec(c, "GRANT SELECT ON users_2 TO " + reporting);
            exec(c, "COMMENT ON TABLE users_2 IS 'Users as of version 2'");
            exec(c, "CALL kit.rebuild('users_2')");
            assertThat(value(c, "SELECT has_table_privilege(?, 'users_2', 'SELECT')", reporting)).as("a grant to another role").isEqualTo(true);
            assertThat(value(c, "SELECT obj_description('users_2'::regclass, 'pg_class')")).isEqualTo("Users as of version 2");

            exec(c, "CREATE VIEW message_counts AS SELECT src_id, count(*) FROM messages_3 GROUP BY src_id");
            var refused = assertFailsWith(KitError.USAGE, () -> exec(c, "CALL kit.rebuild('messages_3')"));
            assertThat(refused.getMessage()).contains("message_counts");
            assertThat(value(c, "SELECT count(*) FROM kit.read_version WHERE read_table LIKE 'messages_3%'")).as("no shadow left behind").isEqualTo(1L);
            assertThat(value(c, "SELECT to_regclass('messages_3__rebuild') IS NULL")).isEqualTo(true);
            exec(c, "CALL kit.backfill()");
            exec(c, "DROP VIEW message_counts");
            exec(c, "REVOKE ALL ON users_2 FROM " + reporting);
            exec(c, "DROP ROLE " + reporting);
        }
    }

    static void seed(Connection c) throws Exception {
        exec(c, "INSERT INTO user_registered_0 (email, password_hash) SELECT 'z' || g || '@example.com', 'h' FROM generate_series(1, 200) g");
        exec(c, "INSERT INTO user_registered_1 (email, password_hash, username) SELECT 'o' || g || '@example.com', 'h', 'o' || g FROM generate_series(1, 200) g");
        exec(c, "INSERT INTO password_changed_2 (user_id, password_hash) SELECT id, 'p' || id FROM users_2 WHERE id % 3 = 0");
        exec(c, "INSERT INTO password_changed_2 (user_id, password_hash) SELECT id, 'q' || id FROM users_2 WHERE id % 6 = 0");
        exec(c, "INSERT INTO message_sent_3 (src_id, dst_id, content) SELECT a.id, b.id, 'm' FROM users_2 a, users_2 b WHERE a.id % 50 = 0 AND b.id % 40 = 0");
    }
}
