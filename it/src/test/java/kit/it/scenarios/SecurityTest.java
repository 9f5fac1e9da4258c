package kit.it.scenarios;

import kit.app.App;
import kit.app.SchemaGate;
import kit.client.KitError;
import kit.it.AppVersions;
import kit.it.RunningApp;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Scenario 6: a changed password stops working on every running version; no
 * app's database connection can change or delete a fact; a retired version's
 * app cannot start.
 */
class SecurityTest {

    @Test
    void afterAPasswordChangeTheOldPasswordIsRefusedByEveryRunningVersion() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (RunningApp v0 = new RunningApp(0, db); RunningApp v1 = new RunningApp(1, db); RunningApp v2 = new RunningApp(2, db)) {
            long[] users = {v0.register("zero@example.com", "first-password"), v1.register("one@example.com", "first-password"),
                    v2.register("two@example.com", "first-password")};
            String[] emails = {"zero@example.com", "one@example.com", "two@example.com"};
            for (long user : users) {
                assertThat(v2.put("/users/" + user + "/password", Map.of("password", "second-password")).status()).isEqualTo(204);
            }
            for (RunningApp app : List.of(v0, v1, v2)) {
                for (String email : emails) {
                    assertThat(app.post("/sessions", Map.of("email", email, "password", "first-password")).status())
                            .as("old password of %s on app-v%d", email, app.version).isEqualTo(401);
                    assertThat(app.post("/sessions", Map.of("email", email, "password", "second-password")).status())
                            .as("new password of %s on app-v%d", email, app.version).isEqualTo(200);
                }
            }
        }
    }

    @Test
    void noAppsDatabaseConnectionCanChangeOrDeleteAFact() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection owner = db.connect(); Statement s = owner.createStatement()) {
            s.execute("INSERT INTO user_registered_0 (email, password_hash) VALUES ('f@example.com', 'h')");
        }
        List<String> writeTables = writeTables(db);
        assertThat(writeTables).as("the kit's write tables").contains("user_registered_0", "message_sent_3");
        int refusals = 0;
        for (int version : AppVersions.all()) {
            try (Connection app = db.connectAsAppRole(version)) {
                for (String table : writeTables) {
                    for (String statement : List.of("UPDATE " + table + " SET id = id", "DELETE FROM " + table, "TRUNCATE " + table)) {
                        Throwable refused = catchThrowable(() -> {
                            try (Statement s = app.createStatement()) {
                                s.execute(statement);
                            }
                        });
                        assertThat(refused).as("app-v%d: %s", version, statement).isInstanceOf(SQLException.class);
                        assertThat(((SQLException) refused).getSQLState()).as("app-v%d: %s", version, statement).isEqualTo("42501");
                        refusals++;
                    }
                }
            }
        }
        try (Connection owner = db.connect(); Statement s = owner.createStatement()) {
            Throwable guard = catchThrowable(() -> s.execute("DELETE FROM user_registered_0"));
            assertThat(KitError.of(guard)).as("even the owner meets the append-only guard").contains(KitError.APPEND_ONLY);
            var rs = s.executeQuery("SELECT count(*) FROM user_registered_0");
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(1);
        }
        System.out.printf("security: %d UPDATE/DELETE/TRUNCATE attempts through the %d app roles, all refused (42501)%n",
                refusals, AppVersions.all().size());
    }

    private static List<String> writeTables(TestDatabase db) throws SQLException {
        List<String> tables = new ArrayList<>();
        try (Connection c = db.connect(); Statement s = c.createStatement();
             var rs = s.executeQuery("SELECT write_table FROM kit.write_table ORDER BY write_table")) {
            while (rs.next()) {
                tables.add(rs.getString(1));
            }
        }
        return tables;
    }

    @Test
    void aRetiredVersionsAppCannotStart() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        List<Integer> retired = AppVersions.all().stream().filter(v -> AppVersions.liveTarget(v) != null).toList();
        assertThat(retired).as("versions a tidy-up retired").contains(0, 1);
        for (int version : retired) {
            Throwable refused = catchThrowable(() -> App.start(RunningApp.config(version, db), AppVersions.of(version)::stores));
            assertThat(refused).isInstanceOf(SchemaGate.NotLiveException.class)
                    .hasMessageContaining("schema version " + version + " is retired");
        }
    }
}
