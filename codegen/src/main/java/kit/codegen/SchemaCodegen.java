package kit.codegen;

import kit.client.Migrations;
import kit.testing.PostgresServer;
import org.jooq.codegen.GenerationTool;
import org.jooq.meta.jaxb.Configuration;
import org.jooq.meta.jaxb.Database;
import org.jooq.meta.jaxb.Generate;
import org.jooq.meta.jaxb.Generator;
import org.jooq.meta.jaxb.Jdbc;
import org.jooq.meta.jaxb.MatcherRule;
import org.jooq.meta.jaxb.MatcherTransformType;
import org.jooq.meta.jaxb.Matchers;
import org.jooq.meta.jaxb.MatchersTableType;
import org.jooq.meta.jaxb.Strategy;
import org.jooq.meta.jaxb.Target;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Generates the jOOQ code an app of one schema version compiles against, from a
 * real PostgreSQL migrated to exactly that version: its read tables (from the
 * kit's catalog) and the newest version of each write table that exists then.
 * Version suffixes are stripped ({@code users_2} is {@code USERS}), so app code
 * says what it means and a changed migration breaks the app's build.
 *
 * <p>Usage: {@code SchemaCodegen <schema version> <output directory> [migrations location]}.
 * The server is the embedded one, or {@code KIT_DB_URL}.
 */
public final class SchemaCodegen {

    /** The package of schema version n's code. */
    public static String packageOf(int version) {
        return "kit.schema.v" + version;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || !args[0].matches("\\d+")) {
            System.err.println("Usage: SchemaCodegen <schema version> <output directory> [migrations location]");
            System.exit(2);
        }
        System.setProperty("org.jooq.no-logo", "true");
        System.setProperty("org.jooq.no-tips", "true");
        int version = Integer.parseInt(args[0]);
        String location = args.length > 2 ? args[2] : Migrations.LOCATION;
        List<String> tables = generate(version, Path.of(args[1]), location);
        System.out.printf("[codegen] schema version %d -> %s: %s%n", version, packageOf(version), String.join(", ", tables));
    }

    /** Generates schema version {@code version}'s code into {@code directory}; returns the tables it covers. */
    public static List<String> generate(int version, Path directory, String migrationsLocation) throws Exception {
        try (PostgresServer server = PostgresServer.fromEnvironment()) {
            String database = "kit_codegen_v" + version + "_" + ProcessHandle.current().pid();
            server.dropDatabase(database);
            server.createDatabase(database, null);
            try {
                String url = server.url().withDatabase(database).jdbc();
                new Migrations(server.url().withDatabase(database), migrationsLocation, "kit_codegen_v").migrateTo(String.valueOf(version));
                List<String> tables = tablesOf(url, version);
                GenerationTool.generate(configuration(url, version, tables, directory));
                return tables;
            } finally {
                server.dropDatabase(database);
            }
        }
    }

    /** The read tables of the version and the newest version of each write table. */
    static List<String> tablesOf(String url, int version) throws SQLException {
        try (Connection c = kit.client.Jdbc.connect(url)) {
            List<String> state = strings(c, "SELECT state FROM kit.schema_versions WHERE version = ?", version);
            if (!state.equals(List.of("live"))) {
                throw new IllegalStateException("Schema version " + version + " is not live after migrating to it (state: "
                        + (state.isEmpty() ? "none" : state.getFirst()) + ")");
            }
            List<String> tables = new ArrayList<>(strings(c, "SELECT kit.schema_version_write_tables(?)", version));
            tables.addAll(strings(c, "SELECT read_table FROM kit.schema_version_read WHERE version = ? ORDER BY read_table", version));
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
                        .withGenerate(new Generate()
                                .withJavaTimeTypes(true)
                                .withRecords(true)
                                .withPojos(false)
                                .withDaos(false)
                                .withGeneratedAnnotation(false)
                                .withComments(true))
                        .withTarget(new Target()
                                .withPackageName(packageOf(version))
                                .withDirectory(directory.toString())
                                .withClean(true)));
    }

    private static List<String> strings(Connection c, String sql, Object... params) throws SQLException {
        return kit.client.Jdbc.strings(c, sql, params);
    }
}
