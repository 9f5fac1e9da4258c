package kit.codegen;

import kit.client.Migrations;
import org.flywaydb.core.Flyway;
import org.jooq.codegen.GenerationTool;
import org.jooq.meta.jaxb.Configuration;
import org.jooq.meta.jaxb.Database;
import org.jooq.meta.jaxb.ForcedType;
import org.jooq.meta.jaxb.Generator;
import org.jooq.meta.jaxb.Jdbc;

import java.nio.file.Path;
import java.util.List;

/**
 * Generates the jOOQ classes of the kit's catalog (package {@value #PACKAGE}, kept in the kit
 * module's sources) from a database where only the kit is installed: the catalog tables and views
 * clients read, and the functions the kit command and the apps call. {@code state} columns come
 * out as {@link kit.types.State}. {@code KitCatalogCodeIsCurrentTest} fails when the kit's SQL
 * and these classes part ways, and regenerates them when asked to.
 */
public final class KitCatalogCodegen {

    public static final String PACKAGE = "kit.catalog";

    /** What clients may read or call: the catalog, not the kit's internals. */
    static final List<String> INCLUDED = List.of(
            // tables and views
            "installation", "write_table", "read_version", "feed", "app_role",
            "schema_version", "schema_version_read", "schema_versions",
            // functions and procedures
            "version", "schema_version_state", "backfill_remaining", "backfill", "begin_rebuild",
            "verify_read_table", "check_security", "retirement_plan", "retire_read_version",
            "abort_read_version", "clients", "register_client", "registered_apps", "schema_version_write_tables", "drift");

    private KitCatalogCodegen() {
    }

    /** Installs the kit into a new database of the server and generates into {@code directory}. */
    public static void generate(Path directory) throws Exception {
        Generation.inScratchDatabase("kit_catalog_codegen", url -> {
            Flyway.configure().dataSource(url.jdbc(), null, null).locations(Migrations.KIT_LOCATION).connectRetries(0)
                    .load().migrate();
            GenerationTool.generate(configuration(url.jdbc(), directory));
            return null;
        });
    }

    static Configuration configuration(String url, Path directory) {
        return new Configuration()
                .withJdbc(new Jdbc().withDriver("org.postgresql.Driver").withUrl(url))
                .withGenerator(new Generator()
                        .withDatabase(new Database()
                                .withName("org.jooq.meta.postgres.PostgresDatabase")
                                .withInputSchema("kit")
                                .withIncludes(String.join("|", INCLUDED))
                                .withIncludeSequences(false)
                                .withIncludeIndexes(false)
                                .withForcedTypes(new ForcedType()
                                        .withUserType("kit.types.State")
                                        .withConverter("kit.types.State.Converter")
                                        .withIncludeExpression("kit\\.(read_version|schema_versions)\\.state")))
                        .withGenerate(Generation.code().withSources(false).withSourcesOnViews(false))
                        .withTarget(Generation.target(PACKAGE, directory)));
    }
}
