package kit.codegen;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The kit's catalog classes ({@code kit/src/main/java/kit/catalog}) are what jOOQ generates from
 * the kit's SQL today: a catalog change that the Java client does not follow fails here, not at
 * run time. To regenerate them after changing the catalog:
 * {@code ./run mvn -pl codegen -am verify -Dtest=KitCatalogCodeIsCurrentTest
 * -Dsurefire.failIfNoSpecifiedTests=false -Dkit.catalog.regenerate=true}.
 */
class KitCatalogCodeIsCurrentTest {

    static final Path KIT_SOURCES = Path.of("..", "kit", "src", "main", "java");
    static final Path CATALOG = KIT_SOURCES.resolve(KitCatalogCodegen.PACKAGE.replace('.', '/'));

    @Test
    void theCatalogClassesAreGeneratedFromTheKitsSqlOfToday(@TempDir Path generated) throws Exception {
        if (Boolean.getBoolean("kit.catalog.regenerate")) {
            KitCatalogCodegen.generate(KIT_SOURCES);
        }
        KitCatalogCodegen.generate(generated);
        Map<String, String> expected = sources(generated.resolve(KitCatalogCodegen.PACKAGE.replace('.', '/')));
        assertThat(expected).as("generated classes").containsKey("Tables.java").containsKey("Routines.java");
        assertThat(sources(CATALOG))
                .as("kit/src/main/java/kit/catalog differs from what the kit's SQL generates; regenerate it (see this test's comment)")
                .isEqualTo(expected);
    }

    private static Map<String, String> sources(Path root) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> paths = Files.walk(root)) {
            paths.filter(Files::isRegularFile).forEach(p -> {
                try {
                    files.put(root.relativize(p).toString(), Files.readString(p));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
        return files;
    }
}
