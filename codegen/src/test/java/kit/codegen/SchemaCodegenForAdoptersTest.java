package kit.codegen;

import kit.client.DatabaseUrl;
import kit.server.PostgresServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * SchemaCodegen as another project's build runs it (README, "Generating your version's jOOQ
 * classes"), on a domain that is not the example: the README's help desk (docs/adopt). The
 * adopter names the package; a mistake in the exec step's arguments, a version the migrations
 * never reach or a server that is not there stops the build with one sentence that says which,
 * and bad arguments are refused before any server starts.
 */
class SchemaCodegenForAdoptersTest {

    static final Path HELP_DESK = Path.of("../docs/adopt/src/main/resources/db/migration").toAbsolutePath().normalize();
    static final String LOCATION = "filesystem:" + HELP_DESK;

    @Test
    void generatesTheHelpDesksVersionIntoThePackageTheAdopterNames(@TempDir Path out) throws Exception {
        SchemaCodegen.main(new String[]{"1", out.toString(), LOCATION, "com.example.helpdesk.db.v1"});

        Path tables = out.resolve("com/example/helpdesk/db/v1/tables");
        // Version 1 writes both facts' newest tables and reads tickets_1, named without _1.
        assertThat(tables.resolve("TicketOpened.java")).exists();
        assertThat(tables.resolve("TicketClosed.java")).exists();
        assertThat(tables.resolve("Tickets.java")).exists();
        assertThat(Files.readString(tables.resolve("Tickets.java")))
                .startsWith("/*")
                .contains("package com.example.helpdesk.db.v1.tables;")
                .contains("RESOLUTION");
        assertThat(out.resolve("kit")).doesNotExist();
    }

    @Test
    void withoutAPackageTheCodeGoesWhereTheExamplesAppsFindIt() {
        assertThat(SchemaCodegen.Arguments.parse(new String[]{"3", "out", "classpath:db/migration"}).packageName())
                .isEqualTo("kit.schema.v3");
    }

    @Test
    void wrongArgumentsAreRefusedWithTheUsage() {
        for (String[] args : new String[][]{
                {}, {"1", "out"}, {"1", "out", LOCATION, "com.example", "shop", "extra"}, {"v1", "out", LOCATION}}) {
            assertThatThrownBy(() -> SchemaCodegen.main(args))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("Usage: SchemaCodegen <schema version> <output directory> <migrations location> [<package> [<domain>]]");
        }
    }

    @Test
    void aPackageThatIsNoJavaNameIsRefused() {
        assertThatThrownBy(() -> SchemaCodegen.main(new String[]{"1", "out", LOCATION, "com.example.1st"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Not a Java package name: com.example.1st");
    }

    @Test
    void aMigrationsDirectoryThatIsNotThereIsNamed() {
        Path missing = HELP_DESK.resolveSibling("migrations");
        assertThatThrownBy(() -> SchemaCodegen.main(new String[]{"1", "out", "filesystem:" + missing}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("No directory " + missing + " (migrations location filesystem:" + missing
                        + "; a relative path is taken from where Maven runs, so start it with ${project.basedir})");
    }

    @Test
    void aVersionTheMigrationsDoNotReachNamesTheStepsThereAre(@TempDir Path out) {
        assertThatThrownBy(() -> SchemaCodegen.generate(2, out, LOCATION, "com.example.helpdesk.db.v2"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("No step 2 to migrate to; the steps at " + LOCATION + " are 0, 1");
    }

    @Test
    void aStepThatDeclaresNoSchemaVersionIsNamed(@TempDir Path out) throws Exception {
        Path migrations = out.resolve("migration");
        Files.createDirectories(migrations);
        for (String step : List.of("V0__add_tickets_0.sql", "V1__add_ticket_closed_1.sql")) {
            Files.copy(HELP_DESK.resolve(step), migrations.resolve(step));
        }
        Files.writeString(migrations.resolve("V2__nothing_yet.sql"), "SELECT 1;\n");
        String location = "filesystem:" + migrations;
        assertThatThrownBy(() -> SchemaCodegen.generate(2, out.resolve("generated"), location, "com.example.helpdesk.db.v2"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("Schema version 2 is not live after migrating to it (state: none); the steps at "
                        + location + " are 0, 1, 2");
    }

    @Test
    void aServerThatIsNotThereIsNamedWithTheVariable() {
        PostgresServer nobody = new PostgresServer.ExternalServer(DatabaseUrl.parse("jdbc:postgresql://127.0.0.1:1/postgres?user=postgres"));
        assertThatThrownBy(() -> Generation.inScratchDatabase(() -> nobody, "kit_codegen_test", url -> null))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("Could not reach PostgreSQL at jdbc:postgresql://127.0.0.1:1/postgres?user=postgres"
                        + " (KIT_DB_URL; without it codegen starts an embedded PostgreSQL): ");
    }
}
