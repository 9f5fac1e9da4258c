package kit.it.scenarios;

import kit.it.AppProcess;
import kit.it.Http;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** What an app server logs at the default level: its start-up line, and one line per failed request with its code. */
class AppLogTest {

    @Test
    void anAppLogsWhereItListensAndEachFailedRequestWithItsCode() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        String url = db.url().with("password", "secret-word").jdbc();
        Http http = new Http();
        try (AppProcess app = AppProcess.launch(Fleet.ROOT, 2, url, Fleet.ROOT.resolve("it/target/scenario-logs"),
                "--hash-iterations", "1000", "--pool-size", "2", "--db-role", TestDatabases.rolePrefix() + 2)) {
            app.awaitHealthy(http, Duration.ofSeconds(30));
            Map<String, String> user = Map.of("email", "log@example.com", "password", "long enough", "username", "log");
            assertThat(http.post(app.baseUrl() + "/users", user).status()).isEqualTo(201);
            assertThat(http.post(app.baseUrl() + "/users", user).status()).isEqualTo(409);
            assertThat(http.get(app.baseUrl() + "/users/424242").status()).isEqualTo(404);
            Thread.sleep(200);
            String log = Files.readString(app.log());
            assertThat(log).containsPattern("\\[INFO\\] App - app-v2 \\S+ listening on " + Pattern.quote(app.baseUrl())
                    + " \\(database jdbc:postgresql://.*schema version 2 live\\)");
            assertThat(log).doesNotContain("secret-word").contains("password=***");
            assertThat(log).contains("POST /users -> 409 duplicate_email", "GET /users/424242 -> 404 not_found");
            assertThat(log).doesNotContain("POST /users -> 201").doesNotContain("HikariPool-1 - Start");
        }
    }
}
