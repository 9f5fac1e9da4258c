package kit.it;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The README's main job runs green: every check of the demo passes. */
class DemoTest {

    @Test
    void theDemoPassesEveryCheck() throws Exception {
        Demo demo = new Demo();
        assertThat(demo.run()).as("demo checks").isTrue();
    }
}
