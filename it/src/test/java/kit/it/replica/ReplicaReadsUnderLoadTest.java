package kit.it.replica;

import kit.it.Demo;
import kit.it.StepStats;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The rolling upgrade of the main job with every app reading from a physical streaming replica
 * ({@code ./run demo --replica}): a primary and a replica of the test's own, whatever server
 * KIT_DB_URL names. What the load test asserts must hold as it does on one server: no unexpected
 * answer (a client reads its writes through any app: the Kit-LSN header), a changed password
 * refused by every app at once (a log-in waits for everything the primary committed), and at the
 * end the replica's read tables equal to the primary's.
 */
class ReplicaReadsUnderLoadTest {

    @Test
    void theRollingUpgradeWithAppsReadingFromAReplicaKeepsEveryPromise() throws Exception {
        Path root = Path.of(System.getProperty("kit.project.root", "..")).toAbsolutePath().normalize();
        Demo demo = new Demo(root, Duration.ofSeconds(Long.getLong("kit.soak.seconds", 4)), true);
        boolean passed = Replicas.orSkip(demo::run);
        System.out.printf("mixed-version load on a replica: %d requests, %d unexpected answers%n", demo.totalRequests(), demo.unexpectedAnswers());

        assertThat(demo.failedChecks()).as("demo checks that failed").isEmpty();
        assertThat(passed).isTrue();
        assertThat(demo.passedChecks())
                .anyMatch(c -> c.startsWith("app-v0 refuses the old password and accepts the new one"))
                .anyMatch(c -> c.startsWith("app-v1 refuses the old password and accepts the new one"))
                .anyMatch(c -> c.startsWith("every acknowledged write is in its write table"))
                .anyMatch(c -> c.startsWith("the replica's users_4 equals the primary's"))
                .anyMatch(c -> c.startsWith("the replica's messages_3 equals the primary's"))
                .anyMatch(c -> c.startsWith("the replica's users_2 equals the primary's"));
        for (StepStats step : demo.steps()) {
            assertThat(step.unexpected()).as("unexpected answers in step %s, e.g. %s", step.name(), step.unexpectedExamples()).isZero();
            assertThat(step.requests()).as("requests in step %s", step.name()).isPositive();
        }
    }
}
