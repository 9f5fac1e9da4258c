package kit.client;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationVersion;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The example domain's Flyway migrations under the kit, as the Java side runs
 * them: the kit's callbacks ({@value #KIT_LOCATION}, from the kit module's jar)
 * and the domain's steps, the same files {@code mvn flyway:migrate} applies.
 */
public final class Migrations {

    /** Where the kit's callback scripts are: any project using the kit adds this location. */
    public static final String KIT_LOCATION = "classpath:db/kit";

    /**
     * {@value #KIT_LOCATION} as this process should name it: the kit's own copy. From the kit's jar
     * that is {@value #KIT_LOCATION}. From the kit's build directory (a reactor build that stops
     * before {@code package}) it is that directory: the example's {@code db/target/classes} then also
     * holds the scripts (for {@code mvn -pl db flyway:migrate}), and Flyway refuses two callbacks of
     * one name.
     */
    public static String kitLocation() {
        try {
            Path origin = Path.of(Migrations.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path scripts = origin.resolve("db").resolve("kit");
            return Files.isDirectory(scripts) ? "filesystem:" + scripts : KIT_LOCATION;
        } catch (URISyntaxException | RuntimeException e) {
            return KIT_LOCATION;
        }
    }

    /** The example domain's migrations. */
    public static final String LOCATION = "classpath:db/migration";

    /** The default prefix of the app roles the migrations create: kit_app_v0, kit_app_v1, ... */
    public static final String DEFAULT_ROLE_PREFIX = AppRoles.DEFAULT_PREFIX;

    private final DatabaseUrl url;
    private final String location;
    private final String rolePrefix;

    public Migrations(DatabaseUrl url) {
        this(url, LOCATION, DEFAULT_ROLE_PREFIX);
    }

    /**
     * Domain migrations from another place, e.g. {@code filesystem:/path/to/migration} (used to test changed
     * migrations), always under the kit, creating app roles named {@code rolePrefix + version}.
     */
    public Migrations(DatabaseUrl url, String location, String rolePrefix) {
        if (!rolePrefix.matches("[a-z_][a-z0-9_]{0,50}")) {
            throw new IllegalArgumentException("Not a plain role prefix: " + rolePrefix);
        }
        this.url = url;
        this.location = location;
        this.rolePrefix = rolePrefix;
    }

    /** Applies every step up to and including {@code target} (e.g. "2", "2.1"), or all when null. */
    public int migrateTo(String target) {
        return flyway(target).migrate().migrationsExecuted;
    }

    public int migrateAll() {
        return migrateTo(null);
    }

    /**
     * Realigns the recorded checksums and descriptions of applied steps with these files, as
     * {@code flyway:repair} does: needed once when upgrading a database whose V0 still holds the kit
     * (before 0.2.0), since V0 is now the domain's first step only.
     */
    public void repair() {
        flyway(null).repair();
    }

    /** Every step the kit ships, in order: "0", "1", "2", "2.1", "3". */
    public List<String> steps() {
        return Arrays.stream(flyway(null).info().all())
                .map(MigrationInfo::getVersion)
                .map(MigrationVersion::getVersion)
                .toList();
    }

    /** Descriptions of the steps, as Flyway reads them from the file names. */
    public List<String> describeSteps() {
        return Arrays.stream(flyway(null).info().all())
                .map(i -> "V" + i.getVersion() + " " + i.getDescription())
                .toList();
    }

    private Flyway flyway(String target) {
        var config = Flyway.configure()
                .dataSource(url.jdbc(), null, null)
                .locations(kitLocation(), location)
                .initSql("SET kit.app_role_prefix = '" + rolePrefix + "'")
                .connectRetries(0);
        if (target != null) {
            config.target(target);
        }
        return config.load();
    }
}
