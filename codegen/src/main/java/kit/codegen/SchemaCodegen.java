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
import static kit.catalog.Tables.WRITE_TABLE;

/**
 * Generates the jOOQ code an app of one schema version compiles against, from a
 * real PostgreSQL migrated to exactly that version: its read tables (from the
 * kit's catalog) and the newest version of each write table that exists then.
 * Each class is named for what the table holds, not for its version: a write
 * table for its declared fact ({@code user_registered_1} is
 * {@code USER_REGISTERED}), a read table without its {@code _N} suffix
 * ({@code users_2} is {@code USERS}), so app code says what it means and a
 * changed migration breaks the app's build.
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
            List<Table> tables = tablesOf(url.jdbc(), version);
            GenerationTool.generate(configuration(url.jdbc(), version, tables, directory));
            return tables.stream().map(Table::name).toList();
        });
    }

    /** A table of the version's code, and the name its classes take ({@code user_registered} gives UserRegistered). */
    record Table(String name, String className) {
    }

    /** The newest version of each write table (named for its fact) and the read tables of the version. */
    static List<Table> tablesOf(String url, int version) throws SQLException {
        try (Connection c = kit.client.Jdbc.connect(url)) {
            DSLContext db = Catalog.of(c);
            Optional<State> state = db.select(SCHEMA_VERSIONS.STATE).from(SCHEMA_VERSIONS)
                    .where(SCHEMA_VERSIONS.VERSION.eq(version)).fetchOptional(SCHEMA_VERSIONS.STATE);
            if (state.filter(State.LIVE::equals).isEmpty()) {
                throw new IllegalStateException("Schema version " + version + " is not live after migrating to it (state: "
                        + state.map(State::label).orElse("none") + ")");
            }
            List<String> written = db.selectFrom(schemaVersionWriteTables(version)).fetch(0, String.class);
            List<Table> tables = new ArrayList<>(db.select(WRITE_TABLE.WRITE_TABLE_, WRITE_TABLE.FACT).from(WRITE_TABLE)
                    .where(WRITE_TABLE.WRITE_TABLE_.in(written))
                    .orderBy(WRITE_TABLE.WRITE_TABLE_)
                    .fetch(r -> new Table(r.value1(), r.value2())));
            tables.addAll(db.select(SCHEMA_VERSION_READ.READ_TABLE).from(SCHEMA_VERSION_READ)
                    .where(SCHEMA_VERSION_READ.VERSION.eq(version)).orderBy(SCHEMA_VERSION_READ.READ_TABLE)
                    .fetch(r -> new Table(r.value1(), r.value1().replaceFirst("_[0-9]+$", ""))));
            return tables;
        }
    }

    static Configuration configuration(String url, int version, List<Table> tables, Path directory) {
        List<MatchersTableType> names = tables.stream().map(t -> new MatchersTableType()
                .withExpression("^" + t.name() + "$")
                .withTableClass(new MatcherRule().withTransform(MatcherTransformType.PASCAL).withExpression(t.className()))
                .withTableIdentifier(new MatcherRule().withTransform(MatcherTransformType.UPPER).withExpression(t.className()))
                .withRecordClass(new MatcherRule().withTransform(MatcherTransformType.PASCAL).withExpression(t.className() + "_Record")))
                .toList();
        return new Configuration()
                .withJdbc(new Jdbc().withDriver("org.postgresql.Driver").withUrl(url))
                .withGenerator(new Generator()
                        .withDatabase(new Database()
                                .withName("org.jooq.meta.postgres.PostgresDatabase")
                                .withInputSchema("public")
                                .withIncludes(String.join("|", tables.stream().map(Table::name).toList()))
                                .withIncludeRoutines(false)
                                .withIncludeSequences(false)
                                .withIncludeUDTs(false))
                        .withStrategy(new Strategy().withMatchers(new Matchers().withTables(names)))
                        .withGenerate(Generation.code())
                        .withTarget(Generation.target(packageOf(version), directory)));
    }
}
