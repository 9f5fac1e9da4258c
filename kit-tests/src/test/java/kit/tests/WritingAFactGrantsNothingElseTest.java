package kit.tests;

import kit.client.KitError;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static kit.client.Jdbc.exec;
import static kit.client.Jdbc.rows;
import static kit.tests.Sql.value;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Writing a fact grants nothing else: the feeds run as the kit's owner, so a
 * role that may insert facts and owns a schema must not get its own functions
 * or operators run there by putting that schema first on its search_path
 * (the CVE-2018-1058 class of attack).
 */
class WritingAFactGrantsNothingElseTest {

    /** Every shadow reports the role it runs as in a NOTICE, and tries to make the intruder a superuser. */
    static String shadows(String intruder) {
        return """
                CREATE FUNCTION mine.note(what text) RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog AS $f$
                BEGIN
                    RAISE NOTICE 'shadow % ran as %', what, current_user;
                    IF current_user <> 'INTRUDER' THEN
                        BEGIN
                            EXECUTE 'ALTER ROLE INTRUDER SUPERUSER';
                        EXCEPTION WHEN OTHERS THEN NULL;
                        END;
                    END IF;
                END $f$;
                CREATE FUNCTION mine.cardinality(anyarray) RETURNS integer LANGUAGE plpgsql AS $f$
                BEGIN PERFORM mine.note('cardinality'); RETURN pg_catalog.cardinality($1); END $f$;
                CREATE FUNCTION mine.unnest(anyarray) RETURNS SETOF anyelement LANGUAGE plpgsql AS $f$
                BEGIN PERFORM mine.note('unnest'); RETURN QUERY SELECT * FROM pg_catalog.unnest($1); END $f$;
                CREATE FUNCTION mine.to_jsonb(anyelement) RETURNS jsonb LANGUAGE plpgsql AS $f$
                BEGIN PERFORM mine.note('to_jsonb'); RETURN pg_catalog.to_jsonb($1); END $f$;
                CREATE FUNCTION mine.now() RETURNS timestamptz LANGUAGE plpgsql AS $f$
                BEGIN PERFORM mine.note('now'); RETURN pg_catalog.now(); END $f$;
                CREATE FUNCTION mine.nextval(regclass) RETURNS bigint LANGUAGE plpgsql AS $f$
                BEGIN PERFORM mine.note('nextval'); RETURN pg_catalog.nextval($1); END $f$;
                CREATE FUNCTION mine.currval(regclass) RETURNS bigint LANGUAGE plpgsql AS $f$
                BEGIN PERFORM mine.note('currval'); RETURN pg_catalog.currval($1); END $f$;
                CREATE FUNCTION mine.pg_sequence_last_value(regclass) RETURNS bigint LANGUAGE plpgsql AS $f$
                BEGIN PERFORM mine.note('pg_sequence_last_value'); RETURN pg_catalog.pg_sequence_last_value($1); END $f$;
                CREATE FUNCTION mine.format(text, text) RETURNS text LANGUAGE plpgsql AS $f$
                BEGIN PERFORM mine.note('format'); RETURN pg_catalog.format($1, $2); END $f$;
                CREATE FUNCTION mine.array_length(anyarray, integer) RETURNS integer LANGUAGE plpgsql AS $f$
                BEGIN PERFORM mine.note('array_length'); RETURN pg_catalog.array_length($1, $2); END $f$;
                CREATE FUNCTION mine.larger(bigint, bigint) RETURNS bigint LANGUAGE plpgsql AS $f$
                BEGIN PERFORM mine.note('max'); RETURN pg_catalog.int8larger($1, $2); END $f$;
                CREATE AGGREGATE mine.max(bigint) (SFUNC = mine.larger, STYPE = bigint);
                CREATE FUNCTION mine.count() RETURNS bigint LANGUAGE plpgsql AS $f$
                BEGIN PERFORM mine.note('count'); RETURN 0; END $f$;
                """.replace("INTRUDER", intruder)
                + operator("=", "bigint", "int8eq", "boolean")
                + operator("<>", "bigint", "int8ne", "boolean")
                + operator("<", "bigint", "int8lt", "boolean")
                + operator("<=", "bigint", "int8le", "boolean")
                + operator(">", "bigint", "int8gt", "boolean")
                + operator(">=", "bigint", "int8ge", "boolean")
                + operator("+", "bigint", "int8pl", "bigint")
                + operator("=", "text", "texteq", "boolean")
                + operator("<>", "text", "textne", "boolean")
                + operator("||", "text", "textcat", "text");
    }

    private static String operator(String symbol, String type, String builtin, String returns) {
        String function = "mine.op_" + builtin;
        return """
                CREATE FUNCTION %1$s(%2$s, %2$s) RETURNS %4$s LANGUAGE plpgsql AS $f$
                BEGIN PERFORM mine.note('operator %5$s(%2$s, %2$s)'); RETURN pg_catalog.%3$s($1, $2); END $f$;
                CREATE OPERATOR mine.%5$s (LEFTARG = %2$s, RIGHTARG = %2$s, FUNCTION = %1$s);
                """.formatted(function, type, builtin, returns, symbol);
    }

    @Test
    void aWriterThatShadowsBuiltInsNeverRunsItsCodeAsAnotherRoleNorGainsAPrivilege() throws Exception {
        aWriterThatShadowsBuiltInsGainsNothing(TestDatabases.migrated(), "intruder");
    }

    /**
     * The kit no longer takes CREATE on public from PUBLIC behind the adopter's back (older servers'
     * default): the same attack with the shadows planted in public itself, where the read and write
     * tables are, gains nothing either, because no code of the kit resolves a name through public.
     */
    @Test
    void aWriterThatMayCreateInPublicGainsNothingEither() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection owner = db.connect()) {
            exec(owner, "GRANT CREATE ON SCHEMA public TO PUBLIC");
            db.migrations().migrateAll();
            assertThat(value(owner, "SELECT has_schema_privilege('public', 'public', 'CREATE')"))
                    .as("a migrate leaves the adopter's schema as it was").isEqualTo(true);
            assertThat(rows(owner, "SELECT object, hint FROM kit.check_security()"))
                    .extracting(r -> r.get("object") + ": " + r.get("hint"))
                    .containsExactly("schema public: REVOKE CREATE ON SCHEMA public FROM PUBLIC;");
        }
        aWriterThatShadowsBuiltInsGainsNothing(db, "public_intruder", "public");
    }

    /**
     * The attack, on any database at the last schema version: a login that is a member of every app role
     * and owns a schema of shadows writes to every write table; none of its code may run as another role.
     * Its explicit ids are from 700000000 on, so that a database with history can take it too.
     */
    static void aWriterThatShadowsBuiltInsGainsNothing(TestDatabase db, String name) throws Exception {
        aWriterThatShadowsBuiltInsGainsNothing(db, name, null);
    }

    /** The attack with the shadows in {@code shadowSchema}: a schema of the intruder's own when null. */
    static void aWriterThatShadowsBuiltInsGainsNothing(TestDatabase db, String name, String shadowSchema) throws Exception {
        String schema = shadowSchema == null ? "mine" : shadowSchema;
        String intruder = TestDatabases.runRole(name);
        long users;
        long messages;
        try (Connection owner = db.connect()) {
            users = Sql.count(owner, "users_2");
            messages = Sql.count(owner, "messages_3");
            exec(owner, "CREATE ROLE " + intruder + " LOGIN");
            for (var row : rows(owner, "SELECT version FROM kit.schema_version ORDER BY version")) {
                exec(owner, "GRANT " + TestDatabases.rolePrefix() + row.get("version") + " TO " + intruder);
            }
            if (shadowSchema == null) {
                exec(owner, "CREATE SCHEMA mine AUTHORIZATION " + intruder);
            }
            // A table of the intruder's app brought under the kit: its writes run the kit's capture.
            exec(owner, "CREATE TABLE intruded (n bigint PRIMARY KEY, v text NOT NULL)");
            exec(owner, "INSERT INTO intruded VALUES (1, 'one'), (2, 'two')");
            exec(owner, "SELECT kit.baseline('intruded', schema_version => 90)");
            exec(owner, "CALL kit.backfill()");
            exec(owner, "GRANT SELECT, INSERT, UPDATE, DELETE ON intruded TO " + intruder);
        }
        List<String> notices = new ArrayList<>();
        try (Connection c = db.connect()) {
            exec(c, "SET SESSION AUTHORIZATION " + intruder);
            for (String statement : shadows(intruder).replace("mine.", schema + ".").split("(?<=;)\\s*\\n(?=CREATE)")) {
                exec(c, statement);
            }
            exec(c, "SET search_path = " + schema + ", pg_catalog, public");
            assertThat(value(c, "SELECT cardinality(ARRAY[1, 2])")).as("the shadows are in place").isEqualTo(2);
            notices.clear();

            // Every write table, with and without ids, as each version's role.
            collect(notices, c, "SET ROLE " + TestDatabases.rolePrefix() + 0);
            collect(notices, c, "INSERT INTO user_registered_0 VALUES (700000005, 'five@example.com', 'h')");
            collect(notices, c, "INSERT INTO user_registered_0 (email, password_hash) VALUES ('a@example.com', 'h'), ('b@example.com', 'h')");
            collect(notices, c, "SET ROLE " + TestDatabases.rolePrefix() + 1);
            collect(notices, c, "INSERT INTO user_registered_1 VALUES (700000006, 'six@example.com', 'h', 'six')");
            collect(notices, c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('c@example.com', 'h', 'c')");
            collect(notices, c, "SET ROLE " + TestDatabases.rolePrefix() + 2);
            collect(notices, c, "INSERT INTO password_changed_2 VALUES (700000007, 700000005, 'h2')");
            collect(notices, c, "INSERT INTO password_changed_2 (user_id, password_hash) VALUES (700000006, 'h3'), (700000005, 'h4')");
            collect(notices, c, "SET ROLE " + TestDatabases.rolePrefix() + 3);
            collect(notices, c, "INSERT INTO message_sent_3 VALUES (700000008, 700000005, 700000006, 'hi')");
            collect(notices, c, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (700000006, 700000005, 'hello'), (700000005, 700000005, 'me')");
            // Refused facts run the kit's error paths as the owner too.
            collect(notices, c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('c@example.com', 'h', 'again')");
            collect(notices, c, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (700000005, 424242424242, 'nobody')");
            collect(notices, c, "INSERT INTO user_registered_1 VALUES (700000006, 'other@example.com', 'h', 'other')");
            // A forget, as version 4, which step 4.1 lets forget (SECURITY DEFINER, as the owner).
            collect(notices, c, "SET ROLE " + TestDatabases.rolePrefix() + 4);
            collect(notices, c, "SELECT kit.forget('user', 700000006, 'public')");
            // An app's registration and its end (SECURITY DEFINER, as the owner).
            collect(notices, c, "SELECT kit.register_app(4, 'public', 'intruder-1', 'the primary')");
            collect(notices, c, "SELECT kit.unregister_app('intruder-1')");
            collect(notices, c, "RESET ROLE");
            // Writes to a table under capture (its capture function is SECURITY DEFINER too).
            collect(notices, c, "INSERT INTO intruded VALUES (3, 'three')");
            collect(notices, c, "UPDATE intruded SET v = 'one again' WHERE n = 1");
            collect(notices, c, "DELETE FROM intruded WHERE n = 2");
            // The intruder's own calls do reach its shadows, and their notices are collected.
            collect(notices, c, "SELECT now()");
        }
        assertThat(notices).as("roles the shadows ran as").contains("shadow now ran as " + intruder)
                .allSatisfy(n -> assertThat(n).endsWith(" ran as " + intruder));
        try (Connection c = db.connect()) {
            assertThat(rows(c, "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = ?", intruder))
                    .singleElement().satisfies(r -> assertThat(r.values()).containsOnly(false));
            assertThat(value(c, """
                    SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
                     WHERE m.member = ?::regrole AND r.rolname NOT LIKE ?""", intruder, TestDatabases.rolePrefix() + "%"))
                    .as("roles granted to the intruder other than the app roles").isEqualTo(0L);
            assertThat(value(c, "SELECT count(*) FROM users_2")).as("the good facts were written").isEqualTo(users + 5);
            assertThat(value(c, "SELECT password_hash FROM users_2 WHERE id = 700000005")).isEqualTo("h4");
            assertThat(value(c, "SELECT count(*) FROM messages_3")).isEqualTo(messages + 3);
            assertThat(Sql.verify(c, "users_2")).isEmpty();
            assertThat(Sql.verify(c, "messages_3")).isEmpty();
            assertThat(value(c, "SELECT email FROM users_2 WHERE id = 700000006")).as("forgotten").isEqualTo("forgotten-700000006@invalid");
            assertThat(rows(c, "SELECT id, v FROM intruded_90 ORDER BY id"))
                    .as("the capture wrote what the intruder did").isEqualTo(rows(c, "SELECT n AS id, v FROM intruded ORDER BY n"));
            assertThat(Sql.verify(c, "intruded_90")).isEmpty();
            assertThat(value(c, "SELECT count(*) FROM kit.app_instance WHERE instance = 'intruder-1'"))
                    .as("registered, then unregistered").isEqualTo(0L);
            if (shadowSchema == null) {
                exec(c, "DROP SCHEMA mine CASCADE");
            }
            exec(c, "DROP OWNED BY " + intruder);
        }
    }

    @Test
    void aWriteWithAnEmptySearchPathWorks() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connectAsAppRole(3)) {
            exec(c, "SET search_path = ''");
            long a = (Long) value(c, "INSERT INTO public.user_registered_1 (email, password_hash, username) VALUES ('a@example.com', 'h', 'a') RETURNING id");
            exec(c, "INSERT INTO public.user_registered_1 VALUES (3, 'b@example.com', 'h', 'b')");
            exec(c, "INSERT INTO public.message_sent_3 (src_id, dst_id, content) VALUES ($1, 3, 'hi')".replace("$1", Long.toString(a)));
            assertThat(value(c, "SELECT count(*) FROM public.users_2")).isEqualTo(2L);
            assertThat(value(c, "SELECT count(*) FROM public.messages_3")).isEqualTo(1L);
        }
        try (Connection c = db.connectAsAppRole(2)) {
            exec(c, "SET search_path = ''");
            exec(c, "INSERT INTO public.password_changed_2 (user_id, password_hash) VALUES (3, 'h2')");
            exec(c, "INSERT INTO public.user_registered_1 (email, password_hash) VALUES ('c@example.com', 'h')");
            assertThat(value(c, "SELECT password_hash FROM public.users_2 WHERE id = 3")).isEqualTo("h2");
        }
        try (Connection c = db.connectAsAppRole(0)) {
            exec(c, "SET search_path = ''");
            exec(c, "INSERT INTO public.user_registered_0 (email, password_hash) VALUES ('d@example.com', 'h')");
        }
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT count(*) FROM users_2")).isEqualTo(4L);
        }
    }

    @Test
    void everySecurityDefinerFunctionInTheKitsReachPinsItsSearchPath() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            assertThat(rows(c, "SELECT * FROM kit.check_security()")).isEmpty();
            // A definer function without a pinned path in public is reported, and so is one whose path a writer can change.
            exec(c, "CREATE FUNCTION public.careless() RETURNS void LANGUAGE sql SECURITY DEFINER AS 'SELECT'");
            exec(c, "CREATE SCHEMA open_to_all");
            exec(c, "GRANT CREATE ON SCHEMA open_to_all TO PUBLIC");
            exec(c, "CREATE FUNCTION kit.loose() RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = open_to_all, pg_catalog AS 'SELECT'");
            assertThat(rows(c, "SELECT object, problem FROM kit.check_security() ORDER BY 1"))
                    .extracting(r -> r.get("object") + ": " + r.get("problem"))
                    .containsExactly("kit.loose(): SECURITY DEFINER whose search_path names schema open_to_all, in which PUBLIC may create objects",
                            "public.careless(): SECURITY DEFINER without a pinned search_path");
        }
    }

    /** Runs a statement, keeping its NOTICEs whether it succeeds or fails. */
    private static void collect(List<String> notices, Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            try {
                s.execute(sql);
            } catch (SQLException refused) {
                assertThat(refused.getSQLState()).as("%s: %s", sql, refused.getMessage()).startsWith("KT");
            }
            for (SQLWarning w = s.getWarnings(); w != null; w = w.getNextWarning()) {
                notices.add(w.getMessage());
            }
        }
    }

    @Test
    void anAppRoleRunsNoKitFunctionButTheGateSoItCannotClaimIdsOfOtherTables() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection app = db.connectAsAppRole(2)) {
            Sql.assertFailsWith("42501", () -> exec(app, "SELECT kit.claim_explicit_id('message', 'message_sent_3', 78)"));
            Sql.assertFailsWith("42501", () -> exec(app, "SELECT kit.claim_explicit_id('message', 'no_such_table', 78)"));
            assertThat(value(app, "SELECT kit.schema_version_state(2)")).isEqualTo("live");
            // Its own explicit ids still work, through the id claimer that runs as the kit's owner.
            exec(app, "INSERT INTO user_registered_1 VALUES (77, 'x@example.com', 'h', 'x')");
            exec(app, "INSERT INTO password_changed_2 VALUES (78, 77, 'h2')");
        }
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT count(*) FROM kit.explicit_id WHERE id = 78")).isEqualTo(1L);
            Sql.assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.claim_explicit_id('message', 'no_such_table', 79)"));
            assertThat(value(c, "SELECT count(*) FROM kit.explicit_id WHERE id = 79")).isEqualTo(0L);
        }
    }
}
