package kit.codegen;

import kit.client.Catalog;
import kit.client.Migrations;
import kit.types.State;
import org.jooq.DSLContext;
import org.jooq.codegen.GenerationTool;
import org.jooq.meta.jaxb.Configuration;
import org.jooq.meta.jaxb.Database;
import org.jooq.meta.jaxb.Generator;
import org.jooq.meta.jaxb.Jdbc;
import org.jooq.meta.jaxb.MatcherRule;
import org.jooq.meta.jaxb.MatcherTransformType;
import org.jooq.meta.jaxb.Matchers;
import org.jooq.meta.jaxb.MatchersTableType;
import org.jooq.meta.jaxb.Strategy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static kit.catalog.Routines.schemaVersionWriteTables;
import static kit.catalog.Tables.SCHEMA_VERSIONS;
import static kit.catalog.Tables.SCHEMA_VERSION_READ;

/**
 * Generates the jOOQ code an app of one schema version compiles against, from a
 * real PostgreSQL migrated to exactly that version: its read tables (from the
 * kit's catalog) and the newest version of each write table that exists then.
 * Version suffixes are stripped ({@code users_2} is {@code USERS}), so app code
 * says what it means and a changed migration breaks the app's build.
 *
 * <p>Usage: {@code SchemaCodegen <schema version> <output directory> <migrations location>}
 * (the app build names its domain's migrations, e.g. {@code classpath:db/migration}).
 * The server is the embedded one, or {@code KIT_DB_URL}.
 */
public final class SchemaCodegen {

    /** The package of schema version n's code. */
    public static String packageOf(int version) {
        return "kit.schema.v" + version;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3 || !args[0].matches("\\d+")) {
            System.err.println("Usage: SchemaCodegen <schema version> <output directory> <migrations location>");
            System.exit(2);
        }
        int version = Integer.parseInt(args[0]);
        String location = args[2];
        List<String> tables = generate(version, Path.of(args[1]), location);
        System.out.printf("[codegen] schema version %d -> %s: %s%n", version, packageOf(version), String.join(", ", tables));
    }

    /** Generates schema version {@code version}'s code into {@code directory}; returns the tables it covers. */
    public static List<String> generate(int version, Path directory, String migrationsLocation) throws Exception {
        return Generation.inScratchDatabase("kit_codegen_v" + version, url -> {
            new Migrations(url, migrationsLocation, "kit_codegen_v").migrateTo(String.valueOf(version));
            List<String> tables = tablesOf(url.jdbc(), version);
            GenerationTool.generate(configuration(url.jdbc(), version, tables, directory));
            return tables;
        });
    }

    /** The read tables of the version and the newest version of each write table. */
    static List<String> tablesOf(String url, int version) throws SQLException {
        try (Connection c = kit.client.Jdbc.connect(url)) {
            DSLContext db = Catalog.of(c);
            Optional<State> state = db.select(SCHEMA_VERSIONS.STATE).from(SCHEMA_VERSIONS)
                    .where(SCHEMA_VERSIONS.VERSION.eq(version)).fetchOptional(SCHEMA_VERSIONS.STATE);
            if (state.filter(State.LIVE::equals).isEmpty()) {
                throw new IllegalStateException("Schema version " + version + " is not live after migrating to it (state: "
                        + state.map(State::label).orElse("none") + ")");
            }
            List<String> tables = new ArrayList<>(db.selectFrom(schemaVersionWriteTables(version)).fetch(0, String.class));
            tables.addAll(db.select(SCHEMA_VERSION_READ.READ_TABLE).from(SCHEMA_VERSION_READ)
                    .where(SCHEMA_VERSION_READ.VERSION.eq(version)).orderBy(SCHEMA_VERSION_READ.READ_TABLE)
                    .fetch(SCHEMA_VERSION_READ.READ_TABLE));
            return tables;
        }
    }

    static Configuration configuration(String url, int version, List<String> tables, Path directory) {
        MatcherRule stripped = new MatcherRule().withTransform(MatcherTransformType.PASCAL).withExpression("$1");
        return new Configuration()
                .withJdbc(new Jdbc().withDriver("org.postgresql.Driver").withUrl(url))
                .withGenerator(new Generator()
                        .withDatabase(new Database()
                                .withName("org.jooq.meta.postgres.PostgresDatabase")
                                .withInputSchema("public")
                                .withIncludes(String.join("|", tables))
                                .withIncludeRoutines(false)
                                .withIncludeSequences(false)
                                .withIncludeUDTs(false))
                        .withStrategy(new Strategy().withMatchers(new Matchers().withTables(new MatchersTableType()
                                .withExpression("^(.*?)_[0-9]+$")
                                .withTableClass(stripped)
                                .withTableIdentifier(new MatcherRule().withTransform(MatcherTransformType.UPPER).withExpression("$1"))
                                .withRecordClass(new MatcherRule().withTransform(MatcherTransformType.PASCAL).withExpression("$1_Record")))))
                        .withGenerate(Generation.code())
                        .withTarget(Generation.target(packageOf(version), directory)));
    }
}
