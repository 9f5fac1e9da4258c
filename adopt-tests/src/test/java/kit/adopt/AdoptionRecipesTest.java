package kit.adopt;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's adoption recipes are the code that runs: CI installs the kit with its command, its
 * Maven plugin block is docs/adopt's (which CI migrates a database with), its Spring Boot properties are the ones
 * {@link SpringBootAdoptionTest} starts with and its dependencies the ones this module has, its
 * Flyway API lines are {@link FlywayApiAdoptionTest}'s, its codegen step is docs/adopt/app's (which CI
 * packages, after installing codegen with the README's command), and every version it names is the build's.
 */
class AdoptionRecipesTest {

    private static final Path ROOT = Path.of("..");
    private static final String CODEGEN = "Generating your version's jOOQ classes";
    private static final Pattern DEPENDENCY = Pattern.compile(
            "<dependency>\\s*<groupId>([^<]+)</groupId>\\s*<artifactId>([^<]+)</artifactId>(.*?)</dependency>", Pattern.DOTALL);
    /** This module's own test tooling, which an adopter's app does not need. */
    private static final Set<String> TEST_TOOLING = Set.of(
            "dev.cqrskit:test-support", "org.junit.jupiter:junit-jupiter", "org.assertj:assertj-core");

    @Test
    void ciInstallsTheKitWithTheReadmesCommand() throws IOException {
        String install = readmeBlock("Adopting the kit in your project", "sh").replaceAll("#.*", "").strip();
        assertThat(install).startsWith("./run mvn").endsWith("install");
        assertThat(Files.readString(ROOT.resolve(".ci/run"))).contains("\n  " + install + "\n");
    }

    @Test
    void theReadmesMavenPluginIsTheOneDocsAdoptMigratesWith() throws IOException {
        String pom = Files.readString(ROOT.resolve("docs/adopt/pom.xml"));
        Matcher plugin = Pattern.compile("^( *)<plugin>\\n.*?^\\1</plugin>\\n", Pattern.MULTILINE | Pattern.DOTALL).matcher(pom);
        assertThat(plugin.find()).as("docs/adopt/pom.xml has a plugin").isTrue();
        String block = plugin.group().replaceAll("(?m)^" + plugin.group(1), "");
        assertThat(readmeBlock("With the Maven plugin", "xml")).isEqualTo(block);
        assertThat(versionOf(block, "dev.cqrskit", "kit")).isEqualTo(System.getProperty("kit.recipe.kit"));
        assertThat(versionOf(block, "org.flywaydb", "flyway-database-postgresql")).isEqualTo(System.getProperty("kit.recipe.flyway"));
        assertThat(versionOf(block, "org.postgresql", "postgresql")).isEqualTo(System.getProperty("kit.recipe.postgresql"));
        assertThat(block).contains("<artifactId>flyway-maven-plugin</artifactId>\n  <version>" + System.getProperty("kit.recipe.flyway") + "</version>");
    }

    @Test
    void theReadmesSpringBootRecipeIsWhatTheBootTestRuns() throws IOException {
        assertThat(readmeBlock("With Spring Boot", "properties"))
                .isEqualTo(Files.readString(Path.of("src/test/resources/application.properties")));
        String dependencies = readmeBlock("With Spring Boot", "xml");
        assertThat(dependencies).contains("<flyway.version>" + System.getProperty("kit.recipe.flyway") + "</flyway.version>");
        assertThat(versionOf(dependencies, "dev.cqrskit", "kit")).isEqualTo(System.getProperty("kit.recipe.kit"));
        Set<String> ours = coordinates(Files.readString(Path.of("pom.xml")));
        ours.removeAll(TEST_TOOLING);
        assertThat(coordinates(dependencies)).as("the README's dependencies for Spring Boot").isEqualTo(ours);
    }

    @Test
    void theReadmesFlywayApiLinesAreTheTestsLines() throws IOException {
        String lines = readmeBlock("With the Flyway API", "java");
        String test = Files.readString(Path.of("src/test/java/kit/adopt/FlywayApiAdoptionTest.java"));
        assertThat(test).contains(lines.replaceAll("(?m)^(?=.)", " ".repeat(8)));
    }

    @Test
    void ciInstallsCodegenWithTheReadmesCommand() throws IOException {
        String install = readmeBlock(CODEGEN, "sh").replaceAll("#.*", "").strip();
        assertThat(install).startsWith("./run mvn").contains("-pl codegen -am install");
        assertThat(Files.readString(ROOT.resolve(".ci/run"))).containsPattern("(?m)^ *" + Pattern.quote(install) + "$");
    }

    @Test
    void theReadmesCodegenStepIsTheOneDocsAdoptAppBuildsWith() throws IOException {
        String pom = Files.readString(ROOT.resolve("docs/adopt/app/pom.xml"));
        // The build's plugins, after the pluginManagement that pins Maven's defaults.
        Matcher plugins = Pattern.compile("^( *)<plugins>\\n(?:(?!^\\1</plugins>).)*?^\\1</plugins>\\n", Pattern.MULTILINE | Pattern.DOTALL)
                .matcher(pom.substring(pom.indexOf("</pluginManagement>")));
        assertThat(plugins.find()).as("docs/adopt/app/pom.xml has build plugins").isTrue();
        String block = plugins.group().replaceAll("(?m)^" + plugins.group(1), "");
        assertThat(readmeBlock(CODEGEN, "xml")).isEqualTo(block);

        String parent = Files.readString(ROOT.resolve("pom.xml"));
        assertThat(versionOf(block, "dev.cqrskit", "codegen")).isEqualTo(System.getProperty("kit.recipe.kit"));
        assertThat(block).contains("<artifactId>exec-maven-plugin</artifactId>\n    <version>" + property(parent, "exec-plugin.version"))
                .contains("<artifactId>build-helper-maven-plugin</artifactId>\n    <version>" + property(parent, "build-helper-plugin.version"));
        String jooq = property(parent, "jooq.version");
        assertThat(versionOf(pom, "org.jooq", "jooq")).isEqualTo(jooq);
        assertThat(readmeSection(CODEGEN).replaceAll("\\s+", " ")).contains("`org.jooq:jooq` " + jooq);
        for (String plugin : List.of("compiler", "resources", "surefire", "jar")) {
            String version = plugin.equals("surefire") ? property(parent, "surefire.version") : property(parent, plugin + "-plugin.version");
            assertThat(pom).as("docs/adopt/app pins maven-%s-plugin as the build does", plugin)
                    .contains("<artifactId>maven-" + plugin + "-plugin</artifactId>\n          <version>" + version + "</version>");
        }
    }

    /** The README's lines under {@code heading}, up to the next heading. */
    static String readmeSection(String heading) throws IOException {
        String readme = Files.readString(ROOT.resolve("README.md"));
        int start = readme.indexOf("\n#### " + heading + "\n");
        assertThat(start).as("the README has a heading '%s'", heading).isNotNegative();
        return readme.substring(start, readme.indexOf("\n#", start + heading.length() + 7));
    }

    /** A property the parent pom sets, where every version of the build lives. */
    static String property(String pom, String name) {
        Matcher value = Pattern.compile("<" + Pattern.quote(name) + ">([^<]+)</").matcher(pom);
        assertThat(value.find()).as("the parent pom sets %s", name).isTrue();
        return value.group(1);
    }

    /**
     * The first fenced block of {@code language} under the README heading {@code heading}, before the
     * next heading (a line starting with # outside a block: a comment in a block is none).
     */
    static String readmeBlock(String heading, String language) throws IOException {
        List<String> lines = Files.readAllLines(ROOT.resolve("README.md"));
        int start = lines.indexOf(lines.stream().filter(l -> l.matches("#+ " + Pattern.quote(heading))).findFirst()
                .orElseThrow(() -> new AssertionError("the README has no heading '" + heading + "'")));
        List<String> found = new ArrayList<>();
        StringBuilder block = null;
        String blockLanguage = null;
        for (String line : lines.subList(start + 1, lines.size())) {
            if (block == null && line.startsWith("```")) {
                block = new StringBuilder();
                blockLanguage = line.substring(3).trim();
            } else if (block != null && line.equals("```")) {
                if (blockLanguage.equals(language)) {
                    return block.toString();
                }
                found.add(blockLanguage);
                block = null;
            } else if (block != null) {
                block.append(line).append('\n');
            } else if (line.startsWith("#")) {
                break;
            }
        }
        throw new AssertionError("No ```" + language + " block under '" + heading + "' in the README (found: " + found + ")");
    }

    static Set<String> coordinates(String xml) {
        Matcher dependency = DEPENDENCY.matcher(xml);
        Set<String> found = new TreeSet<>();
        while (dependency.find()) {
            found.add(dependency.group(1) + ":" + dependency.group(2));
        }
        return found;
    }

    static String versionOf(String xml, String groupId, String artifactId) {
        Matcher dependency = DEPENDENCY.matcher(xml);
        while (dependency.find()) {
            if (dependency.group(1).equals(groupId) && dependency.group(2).equals(artifactId)) {
                Matcher version = Pattern.compile("<version>([^<]+)</version>").matcher(dependency.group(3));
                return version.find() ? version.group(1) : null;
            }
        }
        throw new AssertionError("No dependency " + groupId + ":" + artifactId + " in:\n" + xml);
    }
}
