package kit.it.scenarios;

import kit.it.Demo;
import kit.it.StepStats;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scenario 1, and the README's main job: every live app version serves
 * concurrent clients (registrations, logins, reads, password changes, messages,
 * taken emails, the same email raced through two versions) while the schema
 * moves 0 -> 1 -> 2 -> tidy-up -> 3 -> 4, with app processes started from their jars.
 * The demo's own checks then prove: no unexpected answer, every acknowledged
 * write in its write table and in the live read tables with the last
 * acknowledged password, one fact per raced email, and every live read table
 * equal to a rebuild (so nothing unacknowledged is half there), message counts
 * that are the messages sent, and a user deleted through v4 gone from v3 and v4. This test
 * asserts that those checks ran and held, that every step carried traffic with
 * no unexpected answer, and that every app version of the story served requests,
 * each in the step that started it, whatever the length of the soak.
 * -Dkit.soak.seconds=N gives each step N seconds of traffic (default 8).
 */
class MixedVersionLoadTest {

    /** The demo's steps, and the app version each one starts (step 4 is the tidy-up, which starts none). */
    static final Map<String, Integer> STARTED_IN = Map.of(
            "1. version 0", 0, "2. version 1 beside 0", 1, "3. version 2 beside 0, 1", 2, "5. version 3 beside 2", 3,
            "6. version 4 beside 3", 4);

    @Test
    void theRollingUpgradeUnderMixedLoadKeepsEveryPromise() throws Exception {
        Path root = Path.of(System.getProperty("kit.project.root", "..")).toAbsolutePath().normalize();
        long seconds = Long.getLong("kit.soak.seconds", 8);
        Demo demo = new Demo(root, Duration.ofSeconds(seconds));
        boolean passed = demo.run();
        System.out.printf("mixed-version load: %d requests, %d unexpected answers%n", demo.totalRequests(), demo.unexpectedAnswers());

        assertThat(demo.failedChecks()).as("demo checks that failed").isEmpty();
        assertThat(passed).as("demo checks").isTrue();
        assertThat(demo.passedChecks()).as("the invariants the demo checks at the end")
                .anyMatch(c -> c.startsWith("every acknowledged write is in its write table"))
                .anyMatch(c -> c.startsWith("users_2 equals a rebuild from the facts"))
                .anyMatch(c -> c.startsWith("messages_3 equals a rebuild from the facts"))
                .anyMatch(c -> c.startsWith("users_4 equals a rebuild from the facts"))
                .anyMatch(c -> c.startsWith("every user's message_count in users_4 is the number of messages they sent"))
                .anyMatch(c -> c.startsWith("app-v3 refuses the deleted user's log-in"))
                .anyMatch(c -> c.startsWith("app-v4 refuses the deleted user's log-in"));

        assertThat(demo.steps()).extracting(StepStats::name).containsExactly(
                "1. version 0", "2. version 1 beside 0", "3. version 2 beside 0, 1", "4. tidy-up (0, 1 retired)", "5. version 3 beside 2",
                "6. version 4 beside 3");
        Map<Integer, Long> served = new TreeMap<>();
        for (StepStats step : demo.steps()) {
            assertThat(step.unexpected()).as("unexpected answers in step %s, e.g. %s", step.name(), step.unexpectedExamples()).isZero();
            assertThat(step.requests()).as("requests in step %s", step.name()).isPositive();
            Integer started = STARTED_IN.get(step.name());
            if (started != null) {
                assertThat(step.requestsByVersion().getOrDefault(started, 0L))
                        .as("requests app-v%d served in step %s, which started it", started, step.name()).isPositive();
            }
            step.requestsByVersion().forEach((version, n) -> served.merge(version, n, Long::sum));
        }
        assertThat(served.keySet()).as("app versions that served requests").containsExactly(0, 1, 2, 3, 4);
        // No floor on the number of requests: how many a soak gets depends on the machine's load,
        // and speed is the benchmark's to measure, never a test's to assert.
        assertThat(demo.unexpectedAnswers()).as("unexpected answers").isZero();
    }
}
