package kit.it;

import kit.app.Api;
import kit.app.AppVersion;
import kit.client.Migrations;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * The app versions the tests run, from one place: every {@code app-vN} this module depends on
 * (it/pom.xml), found on the class path through {@link ServiceLoader}. What a version can do
 * (usernames, password changes, messages, deletions, message counts) is asked of its own stores, and the migration target
 * at which it is live of the migrations, so that adding {@code app-v4} to it/pom.xml puts it
 * under every test that says "every version", with nothing else to edit here.
 * {@code @MethodSource("kit.it.AppVersions#all")} gives a test every version's number.
 */
public final class AppVersions {

    private static final Map<Integer, AppVersion> VERSIONS = load();
    private static Map<Integer, String> liveTargets;

    private AppVersions() {
    }

    private static Map<Integer, AppVersion> load() {
        Map<Integer, AppVersion> versions = new TreeMap<>();
        for (AppVersion version : ServiceLoader.load(AppVersion.class)) {
            AppVersion other = versions.put(version.number(), version);
            if (other != null) {
                throw new IllegalStateException("Two apps say they are version " + version.number()
                        + " (" + other.getClass().getName() + ", " + version.getClass().getName() + ")");
            }
        }
        if (versions.isEmpty()) {
            throw new IllegalStateException("No app version on the class path: it/pom.xml depends on each app-vN");
        }
        return versions;
    }

    /** Every app version's number, oldest first. */
    public static List<Integer> all() {
        return List.copyOf(VERSIONS.keySet());
    }

    /** Every version whose stores have the feature, e.g. {@code where(s -> s.passwordChanges().isPresent())}. */
    public static List<Integer> where(Predicate<Api.Stores> feature) {
        return VERSIONS.keySet().stream().filter(v -> feature.test(features(v))).toList();
    }

    /** Versions whose registrations carry a username. */
    public static List<Integer> withUsernames() {
        return where(Api.Stores::usernames);
    }

    /** Versions that can change a password. */
    public static List<Integer> withPasswordChanges() {
        return where(s -> s.passwordChanges().isPresent());
    }

    /** Versions that send messages. */
    public static List<Integer> withMessages() {
        return where(s -> s.messages().isPresent());
    }

    /** Versions that delete users. */
    public static List<Integer> withDeletions() {
        return where(s -> s.deletions().isPresent());
    }

    /** Versions that show how many messages a user sent. */
    public static List<Integer> withMessageCounts() {
        return where(Api.Stores::messageCounts);
    }

    /** Versions live at the newest migration step (none of them retired): the ones a fully migrated database serves. */
    public static List<Integer> liveAtTheEnd() {
        return VERSIONS.keySet().stream().filter(v -> liveTarget(v) == null).toList();
    }

    /** App version {@code number}. */
    public static AppVersion of(int number) {
        AppVersion version = VERSIONS.get(number);
        if (version == null) {
            throw new IllegalArgumentException("No app-v" + number + " on the class path (there are " + VERSIONS.keySet() + ")");
        }
        return version;
    }

    /** What version {@code number} can do: its stores over a database that is never connected. */
    public static Api.Stores features(int number) {
        return of(number).stores(DSL.using(SQLDialect.POSTGRES));
    }

    /**
     * The newest migration target at which schema version {@code number} is live: null (every step)
     * unless a tidy-up retired it, else the step before that tidy-up ("2" for versions 0 and 1).
     */
    public static synchronized String liveTarget(int number) {
        if (liveTargets == null) {
            liveTargets = liveTargets();
        }
        if (!liveTargets.containsKey(number)) {
            throw new IllegalArgumentException("The migrations declare no schema version " + number);
        }
        return liveTargets.get(number);
    }

    /** Migrates one scratch database step by step and notes, for each version, the last step it was live at. */
    private static Map<Integer, String> liveTargets() {
        TestDatabase db = TestDatabases.empty();
        Migrations migrations = db.migrations();
        Map<Integer, String> last = new HashMap<>();
        Set<Integer> live = Set.of();
        for (String step : migrations.steps()) {
            migrations.migrateTo(step);
            live = liveVersions(db);
            live.forEach(v -> last.put(v, step));
        }
        live.forEach(v -> last.put(v, null));
        return last;
    }

    /** The schema versions live in {@code db}. */
    public static Set<Integer> liveVersions(TestDatabase db) {
        try (Connection c = db.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT version FROM kit.schema_versions WHERE state = 'live'")) {
            Set<Integer> versions = new TreeSet<>();
            while (rs.next()) {
                versions.add(rs.getInt(1));
            }
            return versions;
        } catch (SQLException e) {
            throw new IllegalStateException("Could not read the schema versions of " + db.name(), e);
        }
    }
}
