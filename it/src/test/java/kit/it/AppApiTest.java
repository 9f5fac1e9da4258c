package kit.it;

import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Every app version's HTTP API, happy paths and bad input, over HTTP against a real PostgreSQL. */
class AppApiTest {

    /** The newest target at which each version is live. */
    static String targetFor(int version) {
        return AppVersions.liveTarget(version);
    }

    @Test
    void everySchemaVersionTheMigrationsDeclareHasItsAppUnderTest() throws Exception {
        try (Connection c = TestDatabases.migrated().connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT version FROM kit.schema_version ORDER BY version")) {
            List<Integer> declared = new ArrayList<>();
            while (rs.next()) {
                declared.add(rs.getInt(1));
            }
            assertThat(AppVersions.all()).as("app versions on the it module's class path (add app-vN to it/pom.xml)")
                    .isEqualTo(declared);
        }
    }

    @ParameterizedTest(name = "app-v{0}")
    @MethodSource("kit.it.AppVersions#all")
    void registerLogInAndRead(int version) throws Exception {
        try (RunningApp app = new RunningApp(version, TestDatabases.migratedTo(targetFor(version)))) {
            Http.Result created = app.post("/users", app.registration("Ann@Example.com", "ann-password"));
            assertThat(created.status()).isEqualTo(201);
            long id = created.json().get("id").asLong();
            assertThat(created.json().get("email").asString()).isEqualTo("ann@example.com");
            assertThat(created.json().has("username")).isEqualTo(usernames(version));
            assertThat(created.json().has("message_count")).as("message_count only where the users read table counts").isEqualTo(messageCounts(version));

            assertThat(app.post("/sessions", Map.of("email", "ann@example.com", "password", "ann-password")).status()).isEqualTo(200);
            assertThat(app.post("/sessions", Map.of("email", "ANN@example.com ", "password", "ann-password")).status()).isEqualTo(200);
            Http.Result wrong = app.post("/sessions", Map.of("email", "ann@example.com", "password", "not-her-password"));
            assertThat(wrong.status()).isEqualTo(401);
            assertThat(wrong.json().get("error").asString()).isEqualTo("invalid_credentials");
            assertThat(app.post("/sessions", Map.of("email", "nobody@example.com", "password", "whatever1")).status()).isEqualTo(401);

            Http.Result read = app.get("/users/" + id);
            assertThat(read.status()).isEqualTo(200);
            assertThat(read.json().get("email").asString()).isEqualTo("ann@example.com");
            assertThat(read.body()).doesNotContain("password");
            if (messageCounts(version)) {
                assertThat(created.json().get("message_count").asLong()).as("a new user has sent nothing").isZero();
                assertThat(read.json().get("message_count").asLong()).isZero();
            } else {
                assertThat(read.json().has("message_count")).isFalse();
            }

            Http.Result health = app.get("/health");
            assertThat(health.status()).isEqualTo(200);
            assertThat(health.json().get("version").asInt()).isEqualTo(version);
            assertThat(health.json().get("schema_state").asString()).isEqualTo("live");
        }
    }

    @ParameterizedTest(name = "app-v{0}")
    @MethodSource("kit.it.AppVersions#all")
    void aTakenEmailGets409AndWritesNothing(int version) throws Exception {
        try (RunningApp app = new RunningApp(version, TestDatabases.migratedTo(targetFor(version)))) {
            app.register("dup@example.com", "first-password");
            long facts = app.facts();
            Http.Result again = app.post("/users", app.registration("DUP@example.com", "second-password"));
            assertThat(again.status()).isEqualTo(409);
            assertThat(again.json().get("error").asString()).isEqualTo("duplicate_email");
            assertThat(app.facts()).isEqualTo(facts);
        }
    }

    @ParameterizedTest(name = "app-v{0}")
    @MethodSource("kit.it.AppVersions#all")
    void badInputGetsA4xxAndWritesNothing(int version) throws Exception {
        try (RunningApp app = new RunningApp(version, TestDatabases.migratedTo(targetFor(version)))) {
            app.register("someone@example.com", "a-password");
            long facts = app.facts();
            String username = usernames(version) ? ", \"username\": \"u\"" : "";
            List<String> bodies = List.of(
                    "", "{", "{\"email\": ", "[]", "42", "null", "\"text\"",
                    "{\"email\": 5, \"password\": \"abcdefgh\"" + username + "}",
                    "{\"email\": \"x@example.com\", \"password\": [1]" + username + "}",
                    "{\"email\": \"x@example.com\"}",
                    "{\"password\": \"abcdefgh\"" + username + "}",
                    "{\"email\": \"x@example.com\", \"password\": \"abcdefgh\", \"admin\": true" + username + "}",
                    "{\"email\": \"not-an-email\", \"password\": \"abcdefgh\"" + username + "}",
                    "{\"email\": \"x@example.com\", \"password\": \"short\"" + username + "}",
                    "{\"email\": \"x\\u0000@example.com\", \"password\": \"abcdefgh\"" + username + "}",
                    "{\"email\": \"" + "a".repeat(300) + "@example.com\", \"password\": \"abcdefgh\"" + username + "}",
                    "{\"email\": \"x@example.com\", \"password\": \"" + "p".repeat(70_000) + "\"" + username + "}",
                    "{\"email\": \"someone@example.com\", \"password\": \"abcdefgh\"" + username + "}");
            for (String body : bodies) {
                Http.Result r = app.raw("POST", "/users", body);
                assertThat(r.status()).as("POST /users %s -> %s", abbreviate(body), r.body()).isBetween(400, 499);
                assertThat(r.json().get("error").isString()).as("error code for %s", abbreviate(body)).isTrue();
            }
            if (usernames(version)) {
                assertThat(app.raw("POST", "/users", "{\"email\": \"x@example.com\", \"password\": \"abcdefgh\"}").status())
                        .as("username is required from v1").isEqualTo(400);
                assertThat(app.raw("POST", "/users", "{\"email\": \"x@example.com\", \"password\": \"abcdefgh\", \"username\": \"no spaces\"}").status())
                        .isEqualTo(400);
            } else {
                assertThat(app.raw("POST", "/users", "{\"email\": \"x@example.com\", \"password\": \"abcdefgh\", \"username\": \"u\"}").status())
                        .as("v0 has no usernames").isEqualTo(400);
            }
            assertThat(app.raw("POST", "/sessions", "{\"email\": \"someone@example.com\"}").status()).isEqualTo(400);
            assertThat(app.raw("POST", "/sessions", "{\"email\": 1, \"password\": 2}").status()).isEqualTo(400);
            if (AppVersions.features(version).deletions().isPresent()) {
                assertThat(app.raw("DELETE", "/users/987654", null).json().get("error").asString()).isEqualTo("unknown_user");
                assertThat(app.raw("DELETE", "/users/abc", null).status()).isEqualTo(404);
                assertThat(app.raw("PATCH", "/users/1", null).status()).isEqualTo(405);
            } else {
                assertThat(app.raw("DELETE", "/users/1", null).status()).isEqualTo(405);
            }
            assertThat(app.get("/nothing/here").status()).isEqualTo(404);
            for (String id : List.of("0", "-1", "99999999999999999999", "abc", "1%27%20OR%201=1")) {
                assertThat(app.get("/users/" + id).status()).as("GET /users/%s", id).isEqualTo(404);
            }
            assertThat(app.facts()).as("no fact written by bad requests").isEqualTo(facts);
            assertThat(app.post("/sessions", Map.of("email", "someone@example.com", "password", "a-password")).status())
                    .as("the server still answers a good request").isEqualTo(200);
        }
    }

    @ParameterizedTest(name = "app-v{0}")
    @MethodSource("kit.it.AppVersions#withPasswordChanges")
    void aPasswordChangeReplacesThePassword(int version) throws Exception {
        try (RunningApp app = new RunningApp(version, TestDatabases.migratedTo(targetFor(version)))) {
            long id = app.register("changer@example.com", "old-password");
            assertThat(app.put("/users/" + id + "/password", Map.of("password", "new-password")).status()).isEqualTo(204);
            assertThat(app.post("/sessions", Map.of("email", "changer@example.com", "password", "old-password")).status()).isEqualTo(401);
            assertThat(app.post("/sessions", Map.of("email", "changer@example.com", "password", "new-password")).status()).isEqualTo(200);

            long facts = app.facts();
            Http.Result unknown = app.put("/users/987654/password", Map.of("password", "new-password"));
            assertThat(unknown.status()).isEqualTo(404);
            assertThat(unknown.json().get("error").asString()).isEqualTo("unknown_user");
            assertThat(app.put("/users/" + id + "/password", Map.of("password", "short")).status()).isEqualTo(400);
            assertThat(app.raw("PUT", "/users/" + id + "/password", "{\"password\": 12345678}").status()).isEqualTo(400);
            assertThat(app.raw("PUT", "/users/" + id + "/password", "{\"pass\": \"abcdefgh\"}").status()).isEqualTo(400);
            assertThat(app.facts()).isEqualTo(facts);
        }
    }

    @ParameterizedTest(name = "app-v{0}")
    @ValueSource(ints = {0, 1})
    void olderVersionsHaveNoPasswordChangeOrMessages(int version) throws Exception {
        try (RunningApp app = new RunningApp(version, TestDatabases.migratedTo("2"))) {
            long id = app.register("old@example.com", "old-password");
            assertThat(app.put("/users/" + id + "/password", Map.of("password", "new-password")).status()).isEqualTo(404);
            assertThat(app.post("/messages", Map.of("src_id", id, "dst_id", id, "content", "x")).status()).isEqualTo(404);
        }
    }

    @ParameterizedTest(name = "app-v{0}")
    @MethodSource("kit.it.AppVersions#withMessages")
    void messagesAreSentAndListed(int version) throws Exception {
        try (RunningApp app = new RunningApp(version, TestDatabases.migratedTo(targetFor(version)))) {
            long ann = app.register("ann@example.com", "ann-password");
            long bob = app.register("bob@example.com", "bob-password");
            Http.Result sent = app.post("/messages", Map.of("src_id", ann, "dst_id", bob, "content", "hello bob"));
            assertThat(sent.status()).isEqualTo(201);
            assertThat(sent.json().get("content").asString()).isEqualTo("hello bob");
            Http.Result inbox = app.get("/users/" + bob + "/messages");
            assertThat(inbox.status()).isEqualTo(200);
            assertThat(inbox.json().size()).isEqualTo(1);
            assertThat(inbox.json().get(0).get("src_id").asLong()).isEqualTo(ann);

            long facts = app.facts();
            Http.Result unknown = app.post("/messages", Map.of("src_id", ann, "dst_id", 424242, "content", "anyone?"));
            assertThat(unknown.status()).isEqualTo(404);
            assertThat(unknown.json().get("error").asString()).isEqualTo("unknown_user");
            assertThat(app.post("/messages", Map.of("src_id", 424242, "dst_id", bob, "content", "boo")).status()).isEqualTo(404);
            assertThat(app.raw("POST", "/messages", "{\"src_id\": \"1\", \"dst_id\": 2, \"content\": \"x\"}").status()).isEqualTo(400);
            assertThat(app.raw("POST", "/messages", "{\"src_id\": 1.5, \"dst_id\": 2, \"content\": \"x\"}").status()).isEqualTo(400);
            assertThat(app.raw("POST", "/messages", "{\"src_id\": " + ann + ", \"dst_id\": " + bob + ", \"content\": \"\"}").status()).isEqualTo(400);
            assertThat(app.raw("POST", "/messages", "{\"src_id\": 1e30, \"dst_id\": 2, \"content\": \"x\"}").status()).isEqualTo(400);
            assertThat(app.get("/users/424242/messages").status()).isEqualTo(404);
            assertThat(app.facts()).isEqualTo(facts);
        }
    }

    @ParameterizedTest(name = "app-v{0}")
    @MethodSource("kit.it.AppVersions#withDeletions")
    void aDeletionIsOneFactAndTheUserIsGone(int version) throws Exception {
        try (RunningApp app = new RunningApp(version, TestDatabases.migratedTo(targetFor(version)))) {
            long id = app.register("leaver@example.com", "leaver-password");
            long stays = app.register("stayer@example.com", "stayer-password");
            long facts = app.facts();
            Http.Result deleted = app.delete("/users/" + id);
            assertThat(deleted.status()).isEqualTo(204);
            assertThat(deleted.body()).isEmpty();
            assertThat(app.facts()).as("one deletion fact").isEqualTo(facts + 1);

            Http.Result login = app.post("/sessions", Map.of("email", "leaver@example.com", "password", "leaver-password"));
            assertThat(login.status()).isEqualTo(401);
            assertThat(login.json().get("error").asString()).isEqualTo("invalid_credentials");
            assertThat(app.get("/users/" + id).status()).isEqualTo(404);
            assertThat(app.get("/users/" + id + "/messages").status()).isEqualTo(404);
            assertThat(app.get("/users/" + stays).status()).as("nobody else is deleted").isEqualTo(200);

            for (Http.Result refused : List.of(app.delete("/users/" + id), app.delete("/users/987654"),
                    app.post("/messages", Map.of("src_id", stays, "dst_id", id, "content", "still there?")),
                    app.post("/messages", Map.of("src_id", id, "dst_id", stays, "content", "from beyond")))) {
                assertThat(refused.status()).as(refused.body()).isEqualTo(404);
                assertThat(refused.json().get("error").asString()).isEqualTo("unknown_user");
            }
            assertThat(app.put("/users/" + id + "/password", Map.of("password", "new-password")).status()).isEqualTo(404);
            assertThat(app.facts()).as("refused writes leave nothing").isEqualTo(facts + 1);
        }
    }

    /**
     * {@code DELETE /users/{id}?forget=true}: the deletion and kit.forget in one transaction. The
     * user's email is then in no fact and no read table, their messages' text is gone, and the kit's
     * catalog records who forgot whom; others keep theirs. A role that step 4.1 did not let forget
     * (a database at step 4) gets 403 and nothing is written; a bad query value 400.
     */
    @Test
    void aForgottenUserLeavesNoPersonalDataBehind() throws Exception {
        int version = AppVersions.withDeletions().getLast();
        try (RunningApp app = new RunningApp(version, TestDatabases.migrated())) {
            long id = app.register("Forget.Me@example.com", "forget-password");
            long stays = app.register("keep.me@example.com", "keep-password");
            assertThat(app.post("/messages", Map.of("src_id", id, "dst_id", stays, "content", "my secret")).status()).isEqualTo(201);
            long facts = app.facts();

            assertThat(app.delete("/users/" + id + "?forget=maybe").status()).isEqualTo(400);
            assertThat(app.delete("/users/" + id + "?forget=true").status()).isEqualTo(204);
            assertThat(app.facts()).as("one deletion fact, no other").isEqualTo(facts + 1);
            try (Connection c = app.db.connect(); Statement s = c.createStatement();
                 PreparedStatement holding = c.prepareStatement("""
                         SELECT string_agg(c.relname, ', ') FROM pg_class c
                          WHERE c.relkind = 'r' AND c.relnamespace IN ('public'::regnamespace, 'kit'::regnamespace)
                            AND (xpath('/row/n/text()', query_to_xml(format(
                                    'SELECT count(*) AS n FROM %s AS t WHERE strpos(lower(t::text), %L) > 0', c.oid::regclass, ?::text),
                                    false, true, '')))[1]::text::int > 0""")) {
                for (String needle : List.of("forget.me@example.com", "my secret")) {
                    holding.setString(1, needle);
                    ResultSet rs = holding.executeQuery();
                    rs.next();
                    assertThat(rs.getString(1)).as("tables that still hold %s", needle).isNull();
                }
                ResultSet rs = s.executeQuery("SELECT entity, id, forgotten_by, facts_redacted FROM kit.forgotten");
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString("entity")).isEqualTo("user");
                assertThat(rs.getLong("id")).isEqualTo(id);
                assertThat(rs.getLong("facts_redacted")).as("the registration and the message").isEqualTo(2);
                rs = s.executeQuery("SELECT email FROM users_4 WHERE id = " + stays);
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("keep.me@example.com");
            }
            assertThat(app.post("/sessions", Map.of("email", "forget.me@example.com", "password", "forget-password")).status())
                    .isEqualTo(401);
        }
        try (RunningApp app = new RunningApp(version, TestDatabases.migratedTo(String.valueOf(version)))) {
            long id = app.register("not.granted@example.com", "some-password");
            long facts = app.facts();
            Http.Result refused = app.delete("/users/" + id + "?forget=true");
            assertThat(refused.status()).as(refused.body()).isEqualTo(403);
            assertThat(refused.json().get("error").asString()).isEqualTo("forget_not_granted");
            assertThat(app.facts()).as("the deletion went with the refused forget").isEqualTo(facts);
            assertThat(app.get("/users/" + id).status()).isEqualTo(200);
        }
    }

    private static boolean messageCounts(int version) {
        return AppVersions.features(version).messageCounts();
    }

    private static boolean usernames(int version) {
        return AppVersions.features(version).usernames();
    }

    private static String abbreviate(String body) {
        return body.length() > 80 ? body.substring(0, 80) + "..." : body;
    }
}
