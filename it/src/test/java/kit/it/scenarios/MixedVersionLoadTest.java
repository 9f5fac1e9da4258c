package kit.it.scenarios;

import kit.it.Demo;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scenario 1, and the README's main job: every live app version serves
 * concurrent clients (registrations, logins, reads, password changes, messages,
 * taken emails, the same email raced through two versions) while the schema
 * moves 0 -> 1 -> 2 -> tidy-up -> 3, with app processes started from their jars.
 * The demo's own checks then prove: no unexpected answer, every acknowledged
 * write in its write table and in the live read tables with the last
 * acknowledged password, one fact per raced email, and every live read table
 * equal to a rebuild (so nothing unacknowledged is half there).
 * -Dkit.soak.seconds=N gives each step N seconds of traffic (default 8).
 */
class MixedVersionLoadTest {

    @Test
    void theRollingUpgradeUnderMixedLoadKeepsEveryPromise() throws Exception {
        Path root = Path.of(System.getProperty("kit.project.root", "..")).toAbsolutePath().normalize();
        Demo demo = new Demo(root, Duration.ofSeconds(Long.getLong("kit.soak.seconds", 8)));
        boolean passed = demo.run();
        System.out.printf("mixed-version load: %d requests, %d unexpected answers%n", demo.totalRequests(), demo.unexpectedAnswers());
        assertThat(passed).as("demo checks").isTrue();
        assertThat(demo.totalRequests()).as("requests").isGreaterThanOrEqualTo(Long.getLong("kit.soak.seconds", 8) >= 8 ? 20_000 : 0);
    }
}
