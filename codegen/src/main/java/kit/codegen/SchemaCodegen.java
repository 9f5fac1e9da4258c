package kit.codegen;

import kit.client.Catalog;
import kit.client.KitName;
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

import javax.lang.model.SourceVersion;
import java.nio.file.Files;
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
 * <p>Usage: {@code SchemaCodegen <schema version> <output directory> <migrations location> [<package> [<domain>]]}
 * (the app build names its domain's migrations, e.g. {@code classpath:db/migration} or
 * {@code filesystem:${project.basedir}/src/main/resources/db/migration}, the package, by
 * default {@code kit.schema.v<version>}, where the example's apps find it, and the domain: the
 * schema its migrations run in, as Flyway's {@code defaultSchema}, {@code public} by default). The server is the
 * embedded one, or {@code KIT_DB_URL}. A mistake throws, so that under {@code exec:java} the
 * build fails with the message rather than the JVM exiting under Maven.
 */
public final class SchemaCodegen {

    static final String USAGE =
            "Usage: SchemaCodegen <schema version> <output directory> <migrations location> [<package> [<domain>]]";

    /** The package of schema version n's code when the build names none (the example's apps). */
    public static String packageOf(int version) {
        return "kit.schema.v" + version;
    }

    public static void main(String[] args) throws Exception {
        Arguments a = Arguments.parse(args);
        List<String> tables = generate(a.version(), a.directory(), a.location(), a.packageName(), a.domain());
        System.out.printf("[codegen] schema version %d%s -> %s: %s%n", a.version(),
                KitName.PUBLIC.equals(a.domain()) ? "" : " of domain " + a.domain(), a.packageName(), String.join(", ", tables));
    }

    /** The command line, checked before any server starts. */
    record Arguments(int version, Path directory, String location, String packageName, String domain) {

        static Arguments parse(String[] args) {
            if (args.length < 3 || args.length > 5 || !args[0].matches("\\d{1,9}")) {
                throw new IllegalArgumentException(USAGE + " (got " + args.length + " argument"
                        + (args.length == 1 ? "" : "s") + (args.length == 0 ? "" : ": " + String.join(" ", args)) + ")");
            }
            int version = Integer.parseInt(args[0]);
            String packageName = args.length >= 4 ? args[3] : packageOf(version);
            if (!SourceVersion.isName(packageName)) {
                throw new IllegalArgumentException("Not a Java package name: " + packageName);
            }
            String domain = args.length == 5 ? args[4] : KitName.PUBLIC;
            if (!domain.matches("[A-Za-z_][A-Za-z0-9_$]{0,62}")) {
                throw new IllegalArgumentException("Not a domain (a schema name without quotes or dots): " + domain);
            }
            checkFilesystemLocation(args[2]);
            return new Arguments(version, Path.of(args[1]), args[2], packageName, domain);
        }

        /** Flyway only warns about a location that is not there, and would then apply nothing. */
        private static void checkFilesystemLocation(String location) {
            if (location.startsWith("filesystem:")) {
                Path directory = Path.of(location.substring("filesystem:".length())).toAbsolutePath().normalize();
                if (!Files.isDirectory(directory)) {
                    throw new IllegalArgumentException("No directory " + directory + " (migrations location " + location
                            + "; a relative path is taken from where Maven runs, so start it with ${project.basedir})");
                }
            }
        }
    }

    /** Generates schema version {@code version}'s code into {@code directory}, package {@link #packageOf}. */
    public static List<String> generate(int version, Path directory, String migrationsLocation) throws Exception {
        return generate(version, directory, migrationsLocation, packageOf(version));
    }

    /** Generates schema version {@code version} of the domain in public into {@code directory}; returns the tables it covers. */
    public static List<String> generate(int version, Path directory, String migrationsLocation, String packageName)
            throws Exception {
        return generate(version, directory, migrationsLocation, packageName, KitName.PUBLIC);
    }

    /**
     * Generates schema version {@code version} of {@code domain} (a schema) into {@code directory};
     * returns the tables it covers, by their names in the domain.
     */
    public static List<String> generate(int version, Path directory, String migrationsLocation, String packageName,
                                        String domain) throws Exception {
        return Generation.inScratchDatabase("kit_codegen_v" + version, url -> {
            Migrations migrations = new Migrations(url, migrationsLocation, "kit_codegen_v").inDomain(domain);
            List<String> found = migrations.steps();
            String steps = "the steps at " + migrationsLocation + " are " + (found.isEmpty() ? "none" : String.join(", ", found));
            if (!found.contains(String.valueOf(version))) {
                // Flyway's own refusal names neither the location nor the steps it found.
                throw new IllegalStateException("No step " + version + " to migrate to; " + steps);
            }
            migrations.migrateTo(String.valueOf(version));
            List<Table> tables = tablesOf(url.jdbc(), version, domain, steps);
            GenerationTool.generate(configuration(url.jdbc(), domain, tables, directory, packageName));
            return tables.stream().map(Table::name).toList();
        });
    }

    /** A table of the version's code, and the name its classes take ({@code user_registered} gives UserRegistered). */
    record Table(String name, String className) {
    }

    /**
     * The newest version of each write table (named for its fact) and the read tables of version
     * {@code version} of {@code domain}, by their names in the domain's schema.
     */
    static List<Table> tablesOf(String url, int version, String domain, String steps) throws SQLException {
        try (Connection c = kit.client.Jdbc.connect(url)) {
            DSLContext db = Catalog.of(c);
            Optional<State> state = db.select(SCHEMA_VERSIONS.STATE).from(SCHEMA_VERSIONS)
                    .where(SCHEMA_VERSIONS.DOMAIN.eq(domain), SCHEMA_VERSIONS.VERSION.eq(version))
                    .fetchOptional(SCHEMA_VERSIONS.STATE);
            if (state.filter(State.LIVE::equals).isEmpty()) {
                throw new IllegalStateException("Schema version " + version + (KitName.PUBLIC.equals(domain) ? "" : " of domain " + domain)
                        + " is not live after migrating to it (state: "
                        + state.map(State::label).orElse("none") + "); " + steps);
            }
            List<String> written = db.selectFrom(schemaVersionWriteTables(version, domain)).fetch(0, String.class);
            List<Table> tables = new ArrayList<>(db.select(WRITE_TABLE.WRITE_TABLE_, WRITE_TABLE.FACT).from(WRITE_TABLE)
                    .where(WRITE_TABLE.WRITE_TABLE_.in(written))
                    .orderBy(WRITE_TABLE.WRITE_TABLE_)
                    .fetch(r -> new Table(KitName.of(r.value1()).table(), r.value2())));
            tables.addAll(db.select(SCHEMA_VERSION_READ.READ_TABLE).from(SCHEMA_VERSION_READ)
                    .where(SCHEMA_VERSION_READ.DOMAIN.eq(domain), SCHEMA_VERSION_READ.VERSION.eq(version))
                    .orderBy(SCHEMA_VERSION_READ.READ_TABLE)
                    .fetch(r -> {
                        String name = KitName.of(r.value1()).table();
                        return new Table(name, name.replaceFirst("_[0-9]+$", ""));
                    }));
            return tables;
        }
    }

    static Configuration configuration(String url, String domain, List<Table> tables, Path directory, String packageName) {
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
                                .withInputSchema(domain)
                                .withIncludes(String.join("|", tables.stream().map(Table::name).toList()))
                                .withIncludeRoutines(false)
                                .withIncludeSequences(false)
                                .withIncludeUDTs(false))
                        .withStrategy(new Strategy().withMatchers(new Matchers().withTables(names)))
                        .withGenerate(Generation.code())
                        .withTarget(Generation.target(packageName, directory)));
    }
}
