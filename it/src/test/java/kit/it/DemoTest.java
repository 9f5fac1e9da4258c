package kit.it;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The README's main job, with less traffic per step: app processes, migrations under load, every check green. */
class DemoTest {

    @Test
    void theRollingUpgradeDemoPassesEveryCheck() throws Exception {
        Path root = Path.of(System.getProperty("kit.project.root", "..")).toAbsolutePath().normalize();
        assertThat(new Demo(root, Duration.ofSeconds(2)).run()).as("demo checks").isTrue();
    }
}
