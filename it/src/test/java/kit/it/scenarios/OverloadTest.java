package kit.it.scenarios;

import kit.client.DatabaseUrl;
import kit.it.AppProcess;
import kit.it.Http;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An app whose connection pool is used up is overloaded, not cut off from its
 * database: it answers 503 {@code overloaded} with a Retry-After, and so does
 * its health check, while an app whose database is really gone keeps
 * answering 503 {@code database_unavailable}. The pool has one connection
 * and a short wait, so that a single held connection exhausts it.
 */
class OverloadTest {

    static final Map<String, String> ONE_CONNECTION_SHORT_WAIT = Map.of("KIT_POOL_SIZE", "1", "KIT_POOL_TIMEOUT_MS", "500");

    final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void anExhaustedPoolAnswers503OverloadedWithRetryAfterAndNoStackTrace() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (AppProcess app = launch(db.url().jdbc())) {
            long id = register(app);
            AppLog log = new AppLog(app.log());
            try (Connection locker = db.connect(); Statement s = locker.createStatement()) {
                // Hold the app's only connection: its read of users_2 waits for this lock.
                locker.setAutoCommit(false);
                s.execute("LOCK TABLE users_2 IN ACCESS EXCLUSIVE MODE");
                CompletableFuture<HttpResponse<String>> held = client.sendAsync(get(app, "/users/" + id), HttpResponse.BodyHandlers.ofString());
                awaitAppWaitingForLock(db);

                HttpResponse<String> user = client.send(get(app, "/users/" + id), HttpResponse.BodyHandlers.ofString());
                HttpResponse<String> health = client.send(get(app, "/health"), HttpResponse.BodyHandlers.ofString());

                locker.rollback();
                assertThat(held.get(30, TimeUnit.SECONDS).statusCode()).as("the request that held the connection").isEqualTo(200);
                assertThat(user.statusCode()).as("answer while the pool is used up: %s", user.body()).isEqualTo(503);
                assertThat(user.body()).contains("\"error\":\"overloaded\"");
                assertThat(user.headers().firstValue("Retry-After")).as("Retry-After").hasValueSatisfying(v -> assertThat(Integer.parseInt(v)).isPositive());
                assertThat(health.statusCode()).as("health while the pool is used up: %s", health.body()).isEqualTo(503);
                assertThat(health.body()).contains("\"error\":\"overloaded\"").doesNotContain("down");
                assertThat(health.headers().firstValue("Retry-After")).as("Retry-After of /health").isPresent();
            }
            List<String> lines = log.linesSinceMark(Duration.ofMillis(500), Duration.ofSeconds(3));
            assertThat(lines).as("log lines").noneMatch(BrokenClientsTest::stackTrace)
                    .anyMatch(l -> l.endsWith("GET /users/" + id + " -> 503 overloaded"));
            assertThat(new Http().get(app.baseUrl() + "/health").status()).as("health once the pool is free").isEqualTo(200);
        }
    }

    @Test
    void aDeadDatabaseStays503DatabaseUnavailable() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        DatabaseUrl direct = db.url();
        try (TcpRelay relay = TcpRelay.to(direct.hostAndPort());
             AppProcess app = launch(new DatabaseUrl(relay.hostAndPort(), direct.database(), direct.query()).jdbc())) {
            long id = register(app);
            relay.close();
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> user = client.send(get(app, "/users/" + id), HttpResponse.BodyHandlers.ofString());
                assertThat(user.statusCode()).as("answer %d with the database gone: %s", i, user.body()).isEqualTo(503);
                assertThat(user.body()).contains("\"error\":\"database_unavailable\"");
            }
            HttpResponse<String> health = client.send(get(app, "/health"), HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(503);
            assertThat(health.body()).contains("\"database\":\"down\"");
        }
    }

    private static AppProcess launch(String url) throws Exception {
        AppProcess app = AppProcess.launch(Fleet.ROOT, 3, url, Fleet.ROOT.resolve("it/target/scenario-logs"), ONE_CONNECTION_SHORT_WAIT,
                "--hash-iterations", "1000", "--db-role", TestDatabases.rolePrefix() + 3);
        try {
            app.awaitHealthy(new Http(), Duration.ofSeconds(30));
            return app;
        } catch (Exception | AssertionError e) {
            app.close();
            throw e;
        }
    }

    private static long register(AppProcess app) {
        Http.Result r = new Http().post(app.baseUrl() + "/users", Map.of("email", "held@example.com", "password", "long enough", "username", "held"));
        assertThat(r.status()).as("registration: %s", r.body()).isEqualTo(201);
        return r.json().get("id").asLong();
    }

    private static HttpRequest get(AppProcess app, String path) {
        return HttpRequest.newBuilder(URI.create(app.baseUrl() + path)).timeout(Duration.ofSeconds(30)).GET().build();
    }

    /** Waits (10 s at most) until the app's connection is blocked on a lock, i.e. the pool's only connection is held. */
    private static void awaitAppWaitingForLock(TestDatabase db) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        // A connection of its own: inside a transaction pg_stat_activity would not change.
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            while (System.nanoTime() < deadline) {
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'app-v3' AND wait_event_type = 'Lock'")) {
                    rs.next();
                    if (rs.getInt(1) > 0) {
                        return;
                    }
                }
                Thread.sleep(50);
            }
        }
        throw new AssertionError("app-v3's connection never waited for the lock on users_2");
    }
}
