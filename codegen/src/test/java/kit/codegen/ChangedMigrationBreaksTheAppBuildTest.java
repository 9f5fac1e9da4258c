package kit.codegen;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The point of generating code per schema version at build time: when a
 * migration changes a table an app queries, the app no longer compiles, so
 * the break shows in the build and never in a running server. Here app-v2's
 * own sources are compiled against code generated from the shipped migrations
 * (they compile) and from migrations where users_2.username became user_name
 * (they do not, and the error names the column). (A NOT NULL column such as
 * email renamed could not even be migrated: no feed could fill it, KT006.)
 */
class ChangedMigrationBreaksTheAppBuildTest {

    static final Path MIGRATIONS = Path.of("../db/src/main/resources/db/migration");
    static final Path APP_V2_SOURCES = Path.of("../app-v2/src/main/java");

    @Test
    void appV2CompilesAgainstTheShippedMigrations(@TempDir Path work) throws Exception {
        Path generated = work.resolve("generated");
        SchemaCodegen.generate(2, generated, "filesystem:" + MIGRATIONS.toAbsolutePath());
        assertThat(compileAppV2(generated, work.resolve("classes"))).isEmpty();
    }

    @Test
    void renamingAColumnAppV2ReadsBreaksAppV2sBuild(@TempDir Path work) throws Exception {
        Path changed = work.resolve("migration");
        copy(MIGRATIONS, changed);
        Path v2 = changed.resolve("V2__add_password_changed_2.sql");
        String sql = Files.readString(v2);
        String users2 = sql.substring(sql.indexOf("CREATE TABLE users_2"));
        users2 = users2.substring(0, users2.indexOf(");") + 2);
        Files.writeString(v2, sql.replace(users2, users2.replace("username ", "user_name ")));

        Path generated = work.resolve("generated");
        SchemaCodegen.generate(2, generated, "filesystem:" + changed.toAbsolutePath());
        List<String> errors = compileAppV2(generated, work.resolve("classes"));
        assertThat(errors).isNotEmpty();
        assertThat(String.join("\n", errors)).contains("USERNAME");
    }

    /** Compiles app-v2's main sources with the generated code; returns the compiler's errors. */
    static List<String> compileAppV2(Path generated, Path classes) throws IOException {
        Files.createDirectories(classes);
        List<Path> sources = new ArrayList<>();
        for (Path root : List.of(APP_V2_SOURCES, generated)) {
            try (Stream<Path> files = Files.walk(root)) {
                files.filter(f -> f.toString().endsWith(".java")).forEach(sources::add);
            }
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        try (var files = javac.getStandardFileManager(diagnostics, null, null)) {
            List<String> options = List.of("-proc:none", "-d", classes.toString(),
                    "-classpath", System.getProperty("java.class.path"));
            javac.getTask(null, files, diagnostics, options, null, files.getJavaFileObjectsFromPaths(sources)).call();
        }
        return diagnostics.getDiagnostics().stream()
                .filter(d -> d.getKind() == Diagnostic.Kind.ERROR)
                .map(d -> d.getMessage(null))
                .toList();
    }

    private static void copy(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
    }
}
