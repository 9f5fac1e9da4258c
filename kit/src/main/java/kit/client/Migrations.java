package kit.client;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.configuration.FluentConfiguration;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A domain's Flyway migrations under the kit, as the Java side runs them: the kit's
 * callbacks ({@value #KIT_LOCATION}, from this jar) and the domain's steps, which the
 * caller names (the same files {@code mvn flyway:migrate} applies).
 */
public final class Migrations {

    /** Where the kit's callback scripts are: any project using the kit adds this location. */
    public static final String KIT_LOCATION = "classpath:db/kit";

    private final DatabaseUrl url;
    private final String location;
    private final String rolePrefix;
    private final String domain;

    /**
     * The domain migrations at {@code location} (e.g. {@code classpath:db/migration}, or
     * {@code filesystem:/path/to/migration}), always under the kit, with app roles named as the
     * database says: the prefix its catalog recorded, else {@link AppRoles#DEFAULT_PREFIX}.
     */
    public Migrations(DatabaseUrl url, String location) {
        this(url, location, null, null);
    }

    /**
     * As {@link #Migrations(DatabaseUrl, String)}, creating app roles named {@code rolePrefix + version}
     * (a database of its own on a shared server, or a test run).
     */
    public Migrations(DatabaseUrl url, String location, String rolePrefix) {
        this(url, location, checkPrefix(rolePrefix), null);
    }

    private Migrations(DatabaseUrl url, String location, String rolePrefix, String domain) {
        this.url = url;
        this.location = location;
        this.rolePrefix = rolePrefix;
        this.domain = domain;
    }

    private static String checkPrefix(String rolePrefix) {
        if (!rolePrefix.matches("[a-z_][a-z0-9_]{0,50}")) {
            throw new IllegalArgumentException("Not a plain role prefix: " + rolePrefix);
        }
        return rolePrefix;
    }

    /**
     * These migrations as the steps of domain {@code schema}: Flyway creates the schema if it is
     * not there, keeps its history table in it and runs every step with it as the current schema,
     * as {@code -Dflyway.defaultSchema=shop} does, so that the kit's calls name its tables unqualified.
     */
    public Migrations inDomain(String schema) {
        return new Migrations(url, location, rolePrefix, schema);
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

    /** Every step of the domain, in order (the example's: "0", "1", "2", "2.1", "3"). */
    public List<String> steps() {
        return Arrays.stream(flyway(null).info().all())
                .map(MigrationInfo::getVersion)
                .map(MigrationVersion::getVersion)
                .toList();
    }

    private Flyway flyway(String target) {
        return configure(target).load();
    }

    /**
     * The Flyway configuration these migrations run with, up to {@code target} (all when null),
     * for a caller that needs a setting more (its logger, say).
     */
    public FluentConfiguration configure(String target) {
        var config = Flyway.configure();
        if (rolePrefix != null) {
            config.jdbcProperties(Map.of("options", AppRoles.prefixOption(rolePrefix)));
        }
        config.dataSource(url.jdbc(), null, null)
                .locations(KIT_LOCATION, location)
                .connectRetries(0)
                // Migrations call kit functions with SELECT; their empty results are no news.
                .outputQueryResults(false);
        if (target != null) {
            config.target(target);
        }
        if (domain != null) {
            config.schemas(domain).defaultSchema(domain);
        }
        return config;
    }
}
