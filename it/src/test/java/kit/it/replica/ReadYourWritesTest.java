package kit.it.replica;

import kit.app.App;
import kit.app.AppConfig;
import kit.client.AppRoles;
import kit.client.DatabaseUrl;
import kit.client.Jdbc;
import kit.it.AppVersions;
import kit.it.Http;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Apps that read from a streaming replica (--read-db-url) read what they must see, or say they
 * cannot: with the replica's replay paused, a read that must see a write the replica has not
 * replayed waits --read-wait-ms and is answered 503 replica_behind, never with stale data; a log-in
 * after a password change through another app never accepts the old password; a read that needs
 * nothing new is served at once.
 */
class ReadYourWritesTest {

    private static final int WAIT_MILLIS = 300;
    private static Replicas.Migrated servers;
    private static DatabaseUrl primary;
    private static DatabaseUrl replica;

    @BeforeAll
    static void migrate() throws Exception {
        servers = Replicas.migrated("reads", "4");
        primary = servers.primary();
        replica = servers.replica();
    }

    @AfterAll
    static void stop() {
        if (servers != null) {
            servers.close();
        }
    }

    private static App app(int version) throws Exception {
        AppConfig config = new AppConfig(version, "127.0.0.1", 0, primary, AppRoles.defaultRole(version), 4, 1000, 65536, "warn")
                .readingFrom(replica, WAIT_MILLIS);
        return App.start(config, AppVersions.of(version)::stores);
    }

    private static String url(App app, String path) {
        return "http://127.0.0.1:" + app.port() + path;
    }

    private static void replay(boolean on) throws Exception {
        try (Connection c = Jdbc.connect(replica.jdbc())) {
            Jdbc.single(c, on ? "SELECT pg_wal_replay_resume()::text" : "SELECT pg_wal_replay_pause()::text");
        }
    }

    @Test
    void aReadWaitsForTheWritesItMustSeeAndSaysSoWhenTheReplicaIsBehind() throws Exception {
        Http client = new Http();
        Http stranger = new Http();
        try (App v4 = app(4); App v2 = app(2)) {
            Http.Result ann = client.post(url(v4, "/users"), Map.of("email", "ann@example.com", "password", "ann-password", "username", "ann"));
            assertThat(ann.status()).isEqualTo(201);
            assertThat(ann.header("Kit-LSN")).as("the write's WAL position").matches("[0-9A-F]+/[0-9A-F]+");
            long annId = ann.json().get("id").asLong();
            assertThat(client.get(url(v2, "/users/" + annId)).status()).as("read through another app, after the write").isEqualTo(200);
            try {
                replay(false);
                Http.Result bob = client.post(url(v4, "/users"), Map.of("email", "bob@example.com", "password", "bob-password", "username", "bob"));
                assertThat(bob.status()).isEqualTo(201);
                long bobId = bob.json().get("id").asLong();

                Http.Result behind = client.get(url(v2, "/users/" + bobId));
                assertThat(behind.status()).as("a read that must see bob's registration").isEqualTo(503);
                assertThat(behind.json().get("error").asString()).isEqualTo("replica_behind");
                assertThat(behind.header("Retry-After")).isEqualTo("1");
                assertThat(behind.nanos()).as("the wait is bounded by --read-wait-ms").isGreaterThanOrEqualTo(Duration.ofMillis(WAIT_MILLIS).toNanos());
                assertThat(stranger.get(url(v4, "/users/" + annId)).status())
                        .as("app-v4 made the write: its own reads wait for it, header or not").isEqualTo(503);
                assertThat(stranger.get(url(v2, "/users/" + annId)).status())
                        .as("a read through an app that wrote nothing, by a client that names no write, needs nothing new").isEqualTo(200);
                assertThat(stranger.get(url(v2, "/users/" + bobId)).status())
                        .as("that read is the replica's: bob, on the primary already, is not there yet").isEqualTo(404);
                assertThat(stranger.post(url(v2, "/sessions"), Map.of("email", "bob@example.com", "password", "bob-password")).status())
                        .as("a log-in waits for everything the primary committed").isEqualTo(503);

                Http.Result change = client.put(url(v4, "/users/" + annId + "/password"), Map.of("password", "ann-new-password"));
                assertThat(change.status()).isEqualTo(204);
                assertThat(change.header("Kit-LSN")).isNotNull();
                assertThat(stranger.post(url(v2, "/sessions"), Map.of("email", "ann@example.com", "password", "ann-password")).status())
                        .as("the old password is never accepted from a replica that has not replayed its change").isEqualTo(503);
            } finally {
                replay(true);
            }
            assertThat(client.get(url(v2, "/users/" + annId)).status()).isEqualTo(200);
            assertThat(stranger.post(url(v2, "/sessions"), Map.of("email", "ann@example.com", "password", "ann-password")).status())
                    .as("the old password, once the replica caught up").isEqualTo(401);
            assertThat(stranger.post(url(v2, "/sessions"), Map.of("email", "ann@example.com", "password", "ann-new-password")).status())
                    .isEqualTo(200);
            assertThat(stranger.post(url(v2, "/sessions"), Map.of("email", "bob@example.com", "password", "bob-password")).status())
                    .isEqualTo(200);
        }
    }

    @Test
    void aMalformedLsnHeaderIsTheClientsError() throws Exception {
        try (App v2 = app(2)) {
            var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(url(v2, "/users/1"))).header("Kit-LSN", "yesterday").build();
            var response = java.net.http.HttpClient.newHttpClient().send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(400);
            assertThat(response.body()).contains("invalid_header");
        }
    }

    @Test
    void anAppRefusesToStartWhenItsReadUrlIsAnotherDatabaseOfTheReplica() {
        AppConfig otherDatabase = new AppConfig(2, "127.0.0.1", 0, primary, AppRoles.defaultRole(2), 4, 1000, 65536, "warn")
                .readingFrom(replica.withDatabase("postgres"), WAIT_MILLIS);
        assertThatThrownBy(() -> App.start(otherDatabase, AppVersions.of(2)::stores))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("--read-db-url is not a replica of --db-url's database: it is database postgres");
    }

    @Test
    void anAppRefusesToStartWhenItsReadUrlIsNoReplicaOfItsPrimary() {
        AppConfig notAReplica = new AppConfig(2, "127.0.0.1", 0, primary, AppRoles.defaultRole(2), 4, 1000, 65536, "warn")
                .readingFrom(primary, WAIT_MILLIS);
        assertThatThrownBy(() -> App.start(notAReplica, AppVersions.of(2)::stores))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("--read-db-url does not name a streaming replica");
    }
}
