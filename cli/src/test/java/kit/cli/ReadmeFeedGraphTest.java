package kit.cli;

import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's feed graph (its {@code ```mermaid} block) is what {@code kit status --format mermaid}
 * prints on the example migrated to its latest version, so it cannot fall behind the migrations or the
 * command. To refresh it after changing either: {@value #REFRESH}.
 */
class ReadmeFeedGraphTest {

    static final String REFRESH = "./run mvn verify -pl cli -am -Dtest=ReadmeFeedGraphTest"
            + " -Dsurefire.failIfNoSpecifiedTests=false -Dkit.readme.refresh=true";

    private static final Path README = Path.of("..", "README.md");
    private static final Pattern BLOCK = Pattern.compile("```mermaid\n(.*?)```\n", Pattern.DOTALL);

    @Test
    void theReadmesFeedGraphIsWhatKitStatusDrawsForTheExample() throws Exception {
        KitCommandTest.Result status = KitCommandTest.kit(TestDatabases.migrated(), "status", "--format", "mermaid");
        assertThat(status.status()).as(status.err()).isZero();
        String readme = Files.readString(README);
        Matcher block = BLOCK.matcher(readme);
        assertThat(block.find()).as("README.md has a ```mermaid block").isTrue();
        if (Boolean.getBoolean("kit.readme.refresh")) {
            readme = readme.substring(0, block.start(1)) + status.out() + readme.substring(block.end(1));
            Files.writeString(README, readme);
            block = BLOCK.matcher(readme);
            block.find();
        }
        assertThat(block.group(1)).as("the README's feed graph differs from kit status --format mermaid on the example; "
                + "if the change is meant, refresh it with: " + REFRESH).isEqualTo(status.out());
    }
}
