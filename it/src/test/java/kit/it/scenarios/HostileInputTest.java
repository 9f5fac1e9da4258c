package kit.it.scenarios;

import kit.it.AppVersions;
import kit.it.Http;
import kit.it.RunningApp;
import kit.testing.TestDatabases;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scenario 5: at least 1,000 generated bad requests per app version (malformed
 * and truncated JSON, wrong types, missing and extra fields, huge bodies and
 * strings, NUL bytes and odd Unicode, SQL-injection strings, negative, zero,
 * huge and unknown ids, read or deleted, wrong methods and paths) and concurrent duplicate
 * registrations: never a 5xx, never a partial write, and the server answers
 * the next good request. The generator is seeded; the seed is printed and
 * can be replayed with -Dkit.seed=N.
 */
class HostileInputTest {

    static final int REQUESTS = Integer.getInteger("kit.hostile.requests", 1200);

    record Bad(String method, String path, String body, String kind) {
    }

    @ParameterizedTest(name = "app-v{0}")
    @MethodSource("kit.it.AppVersions#all")
    void badRequestsGetA4xxWriteNothingAndLeaveTheServerUp(int version) throws Exception {
        long seed = Long.getLong("kit.seed", new Random().nextLong());
        Random random = new Random(seed);
        try (RunningApp app = new RunningApp(version, TestDatabases.migratedTo(AppVersions.liveTarget(version)))) {
            long known = app.register("known@example.com", "known-password");
            long facts = app.facts();
            Map<String, Integer> byKind = new TreeMap<>();
            List<String> failures = new ArrayList<>();
            for (int i = 0; i < REQUESTS; i++) {
                Bad bad = generate(random, version, known);
                Http.Result r = app.raw(bad.method(), bad.path(), bad.body());
                byKind.merge(bad.kind(), 1, Integer::sum);
                if (r.status() < 400 || r.status() > 499) {
                    failures.add(bad.kind() + " " + bad.method() + " " + bad.path() + " " + abbreviate(bad.body()) + " -> " + r.status() + " " + abbreviate(r.body()));
                }
            }
            assertThat(failures).as("requests that did not get a 4xx (seed %d)", seed).isEmpty();
            assertThat(app.facts()).as("facts written by bad requests (seed %d)", seed).isEqualTo(facts);

            int duplicates = concurrentDuplicateRegistrations(app, 20);
            assertThat(app.facts()).as("one fact per contested email").isEqualTo(facts + duplicates);

            assertThat(app.post("/sessions", Map.of("email", "known@example.com", "password", "known-password")).status())
                    .as("the server answers the next good request").isEqualTo(200);
            System.out.printf("hostile input, app-v%d (seed %d): %d bad requests, all 4xx, 0 facts written; by kind %s; "
                    + "%d emails contested by 8 concurrent registrations each: 1 winner each%n", version, seed, REQUESTS, byKind, duplicates);
        }
    }

    /**
     * A client that writes its whole request before it reads (as most do)
     * must get the 413, not a connection reset: the server reads and discards
     * the oversized body before it answers.
     */
    @ParameterizedTest(name = "{0} MB")
    @ValueSource(ints = {2, 20})
    void anOversizedBodyGetsItsAnswerAndTheNextRequestWorks(int megabytes) throws Exception {
        try (RunningApp app = new RunningApp(3, TestDatabases.migrated())) {
            long facts = app.facts();
            URI uri = URI.create(app.url("/users"));
            String answer;
            try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
                socket.setSoTimeout(30_000);
                OutputStream out = socket.getOutputStream();
                int length = megabytes * 1024 * 1024;
                out.write(("POST /users HTTP/1.1\r\nHost: " + uri.getHost() + "\r\nContent-Type: application/json\r\n"
                        + "Content-Length: " + length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                byte[] chunk = new byte[64 * 1024];
                Arrays.fill(chunk, (byte) 'x');
                for (int written = 0; written < length; written += chunk.length) {
                    out.write(chunk, 0, Math.min(chunk.length, length - written));
                }
                out.flush();
                answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            }
            assertThat(answer).startsWith("HTTP/1.1 413").contains("body_too_large");
            assertThat(app.post("/sessions", Map.of("email", "nobody@example.com", "password", "x")).status())
                    .as("the next request, on a new connection").isEqualTo(401);
            assertThat(app.facts()).isEqualTo(facts);
        }
    }

    /** Registers each of `emails` fresh emails 8 times at once; exactly one must win. Returns the emails. */
    static int concurrentDuplicateRegistrations(RunningApp app, int emails) {
        for (int e = 0; e < emails; e++) {
            String email = "contested" + e + "@example.com";
            AtomicInteger created = new AtomicInteger();
            AtomicInteger conflicts = new AtomicInteger();
            List<CompletableFuture<Void>> racers = new ArrayList<>();
            for (int r = 0; r < 8; r++) {
                racers.add(CompletableFuture.runAsync(() -> {
                    int status = app.post("/users", app.registration(email, "contested-password")).status();
                    (status == 201 ? created : status == 409 ? conflicts : new AtomicInteger()).incrementAndGet();
                }));
            }
            CompletableFuture.allOf(racers.toArray(CompletableFuture[]::new)).join();
            assertThat(created.get()).as("winners for %s", email).isEqualTo(1);
            assertThat(conflicts.get()).as("409s for %s", email).isEqualTo(7);
        }
        return emails;
    }

    static Bad generate(Random random, int version, long known) {
        var features = AppVersions.features(version);
        String username = features.usernames() ? ", \"username\": \"user\"" : "";
        String goodUser = "{\"email\": \"new" + random.nextInt(1_000_000) + "@example.com\", \"password\": \"a-good-password\"" + username + "}";
        return switch (random.nextInt(12)) {
            case 0 -> new Bad("POST", "/users", goodUser.substring(0, random.nextInt(goodUser.length() - 1)), "truncated json");
            case 1 -> new Bad("POST", pick(random, "/users", "/sessions", "/messages"), garble(random, goodUser), "malformed json");
            case 2 -> new Bad("POST", "/users", "{\"email\": " + oddValue(random) + ", \"password\": \"a-good-password\"" + username + "}", "wrong type");
            case 3 -> new Bad("POST", "/users", "{\"password\": \"a-good-password\"" + username + "}", "missing field");
            case 4 -> new Bad("POST", "/users", goodUser.replace("}", ", \"" + pick(random, "admin", "id", "seq", "role") + "\": 1}"), "extra field");
            case 5 -> new Bad("POST", "/users", "{\"email\": \"x@example.com\", \"password\": \"" + "p".repeat(70_000 + random.nextInt(1000)) + "\"" + username + "}", "huge body");
            case 6 -> new Bad("POST", "/users", "{\"email\": \"" + "e".repeat(255 + random.nextInt(2000)) + "@x.org\", \"password\": \"a-good-password\"" + username + "}", "huge string");
            case 7 -> new Bad("POST", "/users", "{\"email\": \"" + pick(random, "nul\\u0000@x.org", "lone\\ud800@x.org", "\\udfff@x.org") + "\", \"password\": \"a-good-password\"" + username + "}", "nul or lone surrogate");
            case 8 -> new Bad("POST", "/sessions", "{\"email\": \"" + pick(random, "' OR '1'='1", "x'; DROP TABLE users_2; --", "\\\"; SELECT pg_sleep(10); --") + "\", \"password\": \"" + pick(random, "' OR 1=1 --", "x") + "\"}", "sql injection login");
            // Never the known user's id: a deletion of it would be a good request.
            case 9 -> new Bad(features.deletions().isPresent() ? pick(random, "GET", "DELETE") : "GET", "/users/" + pick(random, "-1", "0", "99999999999999999999", "9223372036854775807", "1%20OR%201=1", "%00", "abc", String.valueOf(known + 1_000_000)), null, "odd or unknown id");
            case 10 -> features.passwordChanges().isPresent()
                    ? new Bad("PUT", "/users/" + pick(random, "-5", "0", "424242", String.valueOf(known)) + "/password",
                    pick(random, "{\"password\": 12345678}", "{\"password\": \"short\"}", "{}", "{\"password\": null}", "[\"x\"]"), "bad password change")
                    : new Bad("PUT", "/users/" + known + "/password", "{\"password\": \"a-good-password\"}", "feature this version lacks");
            default -> features.messages().isPresent()
                    ? new Bad("POST", "/messages", pick(random,
                    "{\"src_id\": " + known + ", \"dst_id\": " + pick(random, "-1", "0", "424242424", "9223372036854775807") + ", \"content\": \"hi\"}",
                    "{\"src_id\": \"" + known + "\", \"dst_id\": " + known + ", \"content\": \"hi\"}",
                    "{\"src_id\": " + known + ", \"dst_id\": " + known + ", \"content\": \"\"}",
                    "{\"src_id\": " + known + ", \"dst_id\": " + known + ", \"content\": \"" + "c".repeat(4001) + "\"}",
                    "{\"src_id\": 1e400, \"dst_id\": " + known + ", \"content\": \"hi\"}"), "bad message")
                    : new Bad(pick(random, "DELETE", "PATCH", "PUT"), "/users/" + known, "{}", "wrong method");
        };
    }

    private static String oddValue(Random random) {
        return pick(random, "5", "true", "null", "[]", "{}", "[\"a@b.c\"]", "1.5e300", "{\"$ne\": null}");
    }

    /** Breaks the JSON's structure (never only the inside of a string), so it cannot parse. */
    private static String garble(Random random, String json) {
        return switch (random.nextInt(6)) {
            case 0 -> json.substring(0, json.length() - 1);
            case 1 -> json.replaceFirst(":", "=");
            case 2 -> json.replaceFirst(",", ",,");
            case 3 -> "x" + json;
            case 4 -> json.replaceFirst("\\{\"", "{'");
            default -> json + json;
        };
    }

    @SafeVarargs
    private static <T> T pick(Random random, T... options) {
        return options[random.nextInt(options.length)];
    }

    private static String abbreviate(String text) {
        return text == null ? "" : text.length() > 120 ? text.substring(0, 120) + "..." : text;
    }
}
