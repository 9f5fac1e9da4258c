package kit.it;

import kit.app.App;
import kit.app.SchemaGate;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.Test;

import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** App versions side by side on one database, and the start-up gate. */
class RollingUpgradeTest {

    @Test
    void usersAndPasswordChangesCrossVersionsBothWays() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (RunningApp v0 = new RunningApp(0, db); RunningApp v1 = new RunningApp(1, db); RunningApp v2 = new RunningApp(2, db)) {
            long fromV1 = v1.register("new@example.com", "new-password");
            assertThat(v0.post("/sessions", Map.of("email", "new@example.com", "password", "new-password")).status())
                    .as("a v1 user logs in on v0").isEqualTo(200);
            assertThat(v0.get("/users/" + fromV1).status()).isEqualTo(200);
            long fromV0 = v0.register("old@example.com", "old-password");
            assertThat(v1.get("/users/" + fromV0).json().get("username").isNull()).as("v0 users have no username").isTrue();
            assertThat(v2.post("/sessions", Map.of("email", "old@example.com", "password", "old-password")).status()).isEqualTo(200);

            assertThat(v2.put("/users/" + fromV0 + "/password", Map.of("password", "changed-password")).status()).isEqualTo(204);
            for (RunningApp app : new RunningApp[] {v0, v1, v2}) {
                assertThat(app.post("/sessions", Map.of("email", "old@example.com", "password", "old-password")).status())
                        .as("old password on app-v%d", app.version).isEqualTo(401);
                assertThat(app.post("/sessions", Map.of("email", "old@example.com", "password", "changed-password")).status())
                        .as("new password on app-v%d", app.version).isEqualTo(200);
            }
        }
    }

    /**
     * A deletion through the newest version removes the user from every live read version of users,
     * so no running server of any version lets them log in, shows them or takes a message for them.
     */
    @Test
    void aUserDeletedThroughTheNewestVersionIsGoneFromEveryRunningVersion() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        int deleter = AppVersions.withDeletions().getLast();
        List<RunningApp> apps = new ArrayList<>();
        try {
            for (int version : AppVersions.liveAtTheEnd()) {
                apps.add(new RunningApp(version, db));
            }
            assertThat(apps).extracting(a -> a.version).as("versions live at the end").contains(2, 3, 4);
            RunningApp first = apps.getFirst();
            RunningApp through = apps.stream().filter(a -> a.version == deleter).findFirst().orElseThrow();
            long leaver = first.register("leaver@example.com", "leaver-password");
            long friend = first.register("friend@example.com", "friend-password");
            for (RunningApp app : apps) {
                assertThat(app.post("/sessions", Map.of("email", "leaver@example.com", "password", "leaver-password")).status())
                        .as("before: log-in on app-v%d", app.version).isEqualTo(200);
            }

            assertThat(through.delete("/users/" + leaver).status()).isEqualTo(204);
            for (RunningApp app : apps) {
                Http.Result login = app.post("/sessions", Map.of("email", "leaver@example.com", "password", "leaver-password"));
                assertThat(login.status()).as("after: log-in on app-v%d", app.version).isEqualTo(401);
                assertThat(login.json().get("error").asString()).isEqualTo("invalid_credentials");
                assertThat(app.get("/users/" + leaver).status()).as("after: read on app-v%d", app.version).isEqualTo(404);
                assertThat(app.get("/users/" + friend).status()).as("the friend on app-v%d", app.version).isEqualTo(200);
                if (AppVersions.features(app.version).messages().isPresent()) {
                    Http.Result message = app.post("/messages", Map.of("src_id", friend, "dst_id", leaver, "content", "are you there?"));
                    assertThat(message.status()).as("a message to the deleted user on app-v%d", app.version).isEqualTo(404);
                    assertThat(message.json().get("error").asString()).isEqualTo("unknown_user");
                }
            }
            Http.Result again = through.delete("/users/" + leaver);
            assertThat(again.status()).as("a second deletion").isEqualTo(404);
            assertThat(again.json().get("error").asString()).isEqualTo("unknown_user");
        } finally {
            apps.forEach(RunningApp::close);
        }
    }

    /** users_4's message_count is every message the user sent, through any version that sends them. */
    @Test
    void theMessageCountCountsTheMessagesSentThroughEveryVersion() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        int counter = AppVersions.withMessageCounts().getLast();
        try (RunningApp v3 = new RunningApp(3, db); RunningApp reader = new RunningApp(counter, db)) {
            long ann = v3.register("ann@example.com", "ann-password");
            long bob = reader.register("bob@example.com", "bob-password");
            long quiet = v3.register("quiet@example.com", "quiet-password");
            for (int i = 0; i < 3; i++) {
                assertThat(v3.post("/messages", Map.of("src_id", ann, "dst_id", bob, "content", "v3 #" + i)).status()).isEqualTo(201);
            }
            for (int i = 0; i < 2; i++) {
                assertThat(reader.post("/messages", Map.of("src_id", ann, "dst_id", quiet, "content", "v" + counter + " #" + i)).status()).isEqualTo(201);
            }
            assertThat(v3.post("/messages", Map.of("src_id", bob, "dst_id", ann, "content", "hi ann")).status()).isEqualTo(201);
            assertThat(v3.post("/messages", Map.of("src_id", ann, "dst_id", 424242, "content", "refused")).status())
                    .as("a refused message counts for nothing").isEqualTo(404);

            assertThat(reader.get("/users/" + ann).json().get("message_count").asLong()).isEqualTo(5);
            assertThat(reader.get("/users/" + bob).json().get("message_count").asLong()).isEqualTo(1);
            assertThat(reader.get("/users/" + quiet).json().get("message_count").asLong()).as("received messages do not count").isZero();
            assertThat(reader.post("/sessions", Map.of("email", "ann@example.com", "password", "ann-password")).json()
                    .get("message_count").asLong()).as("the logged-in user, as read").isEqualTo(5);
            assertThat(v3.get("/users/" + ann).json().has("message_count")).as("app-v3 answers as before").isFalse();
        }
    }

    @Test
    void theExampleHashFormStillVerifies() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        String legacy = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest("old-school-pw".getBytes()));
        try (Connection c = db.connect(); PreparedStatement s = c.prepareStatement(
                "INSERT INTO user_registered_0 (email, password_hash) VALUES ('legacy@example.com', ?)")) {
            s.setString(1, legacy);
            s.execute();
        }
        try (RunningApp v3 = new RunningApp(3, db)) {
            assertThat(v3.post("/sessions", Map.of("email", "legacy@example.com", "password", "old-school-pw")).status()).isEqualTo(200);
            assertThat(v3.post("/sessions", Map.of("email", "legacy@example.com", "password", "old-school-px")).status()).isEqualTo(401);
        }
    }

    @Test
    void anAppRefusesToStartUnlessItsSchemaVersionIsLive() throws Exception {
        int newest = AppVersions.all().getLast();
        Throwable retired = catchThrowable(() -> App.start(RunningApp.config(0, TestDatabases.migrated()), AppVersions.of(0)::stores));
        assertThat(retired).as("a retired version's app is told to run the newest live one").isInstanceOf(SchemaGate.NotLiveException.class)
                .hasMessageContaining("schema version 0 is retired").hasMessageContaining("Run app-v" + newest + " instead");

        Throwable missing = catchThrowable(() -> App.start(RunningApp.config(3, TestDatabases.migratedTo("2")), AppVersions.of(3)::stores));
        assertThat(missing).isInstanceOf(SchemaGate.NotLiveException.class)
                .hasMessageContaining("schema version 3 is not live");

        Throwable noKit = catchThrowable(() -> App.start(RunningApp.config(2, TestDatabases.empty()), AppVersions.of(2)::stores));
        assertThat(noKit).isInstanceOf(SchemaGate.NotLiveException.class).hasMessageContaining("schema version 2 is not live");

        TestDatabase building = TestDatabases.migrated();
        try (Connection c = building.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE users_9 (id bigint PRIMARY KEY, email text)");
            s.execute("SELECT kit.create_read_version('users_9', 'user')");
            s.execute("SELECT kit.add_feed('user_registered_1', 'users_9')");
            s.execute("SELECT kit.create_schema_version(9, ARRAY['users_9'])");
            Throwable stillBuilding = catchThrowable(() -> SchemaGate.requireLive(DSL.using(c), 9));
            assertThat(stillBuilding).isInstanceOf(SchemaGate.NotLiveException.class).hasMessageContaining("still building");
        }
    }

    /** A live version whose read table was dropped (drift: kit status names it) cannot serve: its app refuses to start. */
    @Test
    void anAppRefusesToStartWhenAReadTableOfItsLiveVersionIsGone() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE messages_3");
        }
        try (Connection app = db.connectAsAppRole(3)) {
            Throwable gone = catchThrowable(() -> SchemaGate.requireLive(DSL.using(app), 3));
            assertThat(gone).isInstanceOf(SchemaGate.NotLiveException.class)
                    .hasMessageContaining("schema version 3 cannot serve").hasMessageContaining("messages_3")
                    .hasMessageContaining("kit status");
        }
    }

    @Test
    void aGateThatCannotReadItsStateBecauseALockIsHeldSaysWhoHoldsItInOneLine() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection holder = db.connectAs("lock-holder"); Connection app = db.connectAsAppRole(3);
             Statement h = holder.createStatement(); Statement s = app.createStatement()) {
            h.execute("SELECT pg_advisory_lock(1263094, 1)");
            s.execute("SET kit.lock_wait = '300ms'");
            Throwable busy = catchThrowable(() -> SchemaGate.requireLive(DSL.using(app), 3));
            assertThat(busy).isInstanceOf(SchemaGate.NotLiveException.class)
                    .hasMessageContaining("could not be checked").hasMessageContaining("lock-holder");
            assertThat(busy.getMessage()).doesNotContain("\n");
        }
    }
}

