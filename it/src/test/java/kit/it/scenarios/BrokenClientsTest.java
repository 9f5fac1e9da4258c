package kit.it.scenarios;

import kit.it.AppProcess;
import kit.it.Http;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Clients that break HTTP itself, against one app-v3 process started with a
 * short request timeout: a chunked body with a chunk size that is not one, a
 * body cut short by a client that goes away, and clients that stall in their
 * headers or body or send nothing. Each gets a 4xx (if anyone is left to read
 * it) and at most one log line without a stack trace, the slow ones are cut
 * off after the request timeout, and the server goes on answering.
 */
class BrokenClientsTest {

    /** Short, so that the test is; the timer that enforces it ticks every second. */
    static final int REQUEST_TIMEOUT_SECONDS = 2;
    static final Duration CLOSE_BOUND = Duration.ofSeconds(REQUEST_TIMEOUT_SECONDS + 4);
    static final Duration QUIET = Duration.ofMillis(500);

    static AppProcess app;
    static AppLog log;
    static final Http http = new Http();

    @BeforeAll
    static void startApp() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        app = AppProcess.launch(Fleet.ROOT, 3, db.url().jdbc(), Fleet.ROOT.resolve("it/target/scenario-logs"),
                Map.of("KIT_REQUEST_TIMEOUT", String.valueOf(REQUEST_TIMEOUT_SECONDS)),
                "--hash-iterations", "1000", "--pool-size", "2", "--db-role", TestDatabases.rolePrefix() + 3);
        app.awaitHealthy(http, Duration.ofSeconds(30));
        log = new AppLog(app.log());
    }

    @AfterAll
    static void stopApp() {
        if (app != null) {
            app.close();
        }
    }

    @BeforeEach
    void markLog() throws Exception {
        log.mark();
    }

    @ParameterizedTest(name = "chunk size {0}")
    @ValueSource(strings = {"zz", "FFFFFFFFFFFFFFFF", "FFFFFFFF"})
    void aBadChunkSizeGetsA400WithItsCodeAndOneLogLine(String size) throws Exception {
        String answer = RawHttp.exchange(app.baseUrl(), "POST /users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + size + "\r\n{}\r\n0\r\n\r\n", Duration.ofSeconds(10));

        assertThat(RawHttp.status(answer)).as("status of the answer:\n%s", answer).isEqualTo(400);
        assertThat(answer).contains("application/json").contains("\"error\":\"unreadable_body\"");
        List<String> lines = log.linesSinceMark(QUIET, Duration.ofSeconds(5));
        assertThat(lines).as("log lines").hasSize(1).noneMatch(BrokenClientsTest::stackTrace);
        assertThat(lines.getFirst()).endsWith("POST /users -> 400 unreadable_body");
        assertServerAnswers();
    }

    @Test
    void aClientThatClosesMidBodyLeavesAtMostOneLogLineAndNoStackTrace() throws Exception {
        Optional<Duration> closed = RawHttp.timeToClose(app.baseUrl(), "POST /users HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\": ", true, CLOSE_BOUND);

        assertThat(closed).as("the server closes the connection").isPresent();
        List<String> lines = log.linesSinceMark(QUIET, Duration.ofSeconds(3));
        assertThat(lines).as("log lines").hasSizeLessThanOrEqualTo(1).noneMatch(BrokenClientsTest::stackTrace);
        assertThat(lines).allMatch(l -> l.endsWith("POST /users -> 400 unreadable_body"));
        assertServerAnswers();
    }

    @Test
    void aClientThatStallsInItsHeadersIsCutOffAfterTheRequestTimeout() throws Exception {
        Optional<Duration> closed = RawHttp.timeToClose(app.baseUrl(), "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a",
                false, CLOSE_BOUND);

        assertCutOffAfterTheTimeout(closed);
        assertThat(log.linesSinceMark(QUIET, Duration.ofSeconds(1))).as("log lines").isEmpty();
        assertServerAnswers();
    }

    @Test
    void aClientThatSendsNothingIsCutOffAfterTheRequestTimeout() throws Exception {
        Optional<Duration> closed = RawHttp.timeToClose(app.baseUrl(), "", false, CLOSE_BOUND);

        assertCutOffAfterTheTimeout(closed);
        assertServerAnswers();
    }

    @Test
    void aClientThatStallsInItsBodyIsCutOffAfterTheRequestTimeoutWithOneLogLine() throws Exception {
        Optional<Duration> closed = RawHttp.timeToClose(app.baseUrl(), "POST /users HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\": ", false, CLOSE_BOUND);

        assertCutOffAfterTheTimeout(closed);
        List<String> lines = log.linesSinceMark(QUIET, Duration.ofSeconds(3));
        assertThat(lines).as("log lines").hasSize(1).noneMatch(BrokenClientsTest::stackTrace);
        assertThat(lines.getFirst()).endsWith("POST /users -> 408 request_timeout");
        assertServerAnswers();
    }

    private static void assertCutOffAfterTheTimeout(Optional<Duration> closed) {
        assertThat(closed).as("connection closed by the server within %d s (request timeout %d s)",
                CLOSE_BOUND.toSeconds(), REQUEST_TIMEOUT_SECONDS).isPresent();
        assertThat(closed.get()).as("time to close").isBetween(Duration.ofMillis(REQUEST_TIMEOUT_SECONDS * 1000L - 500), CLOSE_BOUND);
    }

    private static void assertServerAnswers() {
        assertThat(http.get(app.baseUrl() + "/health").status()).as("the next request").isEqualTo(200);
    }

    static boolean stackTrace(String line) {
        return line.contains("Exception") || line.startsWith("\tat ");
    }
}
