package kit.testing;

import kit.client.DatabaseUrl;
import kit.client.Jdbc;
import kit.client.Migrations;
import kit.example.ExampleMigrations;
import kit.server.PostgresServer;

import org.junit.jupiter.api.Assumptions;

import java.security.SecureRandom;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fixtures for tests: one PostgreSQL server for the whole run (embedded, {@code KIT_DB_URL} or a container),
 * and a fresh database per test, copied from a template migrated once per
 * target version ({@code CREATE DATABASE ... TEMPLATE}). Every database this run
 * creates carries the run's prefix and is dropped when the run ends.
 */
public final class TestDatabases {

    private static PostgresServer server;
    private static ContainerServer.Unavailable unavailable;
    private static final String RUN = "kit_t" + HexFormat.of().formatHex(new SecureRandom().generateSeed(3));
    /** App roles are shared by every database of a server: each run names its own, and drops them at the end. */
    private static final String ROLE_PREFIX = RUN + "_app_v";
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final Map<String, String> TEMPLATES = new HashMap<>();
    private static final List<String> CREATED = new ArrayList<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(TestDatabases::dropAllAndClose, "drop-test-databases"));
    }

    private TestDatabases() {
    }

    /**
     * The run's server, started at the first call. When it cannot be had here (a container without
     * Docker) every test that asks is skipped, and the reason is printed once.
     */
    public static synchronized PostgresServer server() {
        if (server == null && unavailable == null) {
            try {
                server = forTests();
                // One line per test JVM: which server the run really had (CI checks it).
                System.err.println("kit tests: PostgreSQL " + serverVersion(server) + " (" + server.describe() + ")");
            } catch (ContainerServer.Unavailable e) {
                unavailable = e;
                System.err.println("kit tests: " + e.getMessage() + ": the tests that need a database are skipped.");
            }
        }
        if (unavailable != null) {
            Assumptions.abort(unavailable.getMessage());
        }
        return server;
    }

    /** Environment variable choosing the tests' server: {@code embedded} (the default) or {@code testcontainers:<image>}. */
    private static final String KIND_VARIABLE = "KIT_DB";

    /**
     * The tests' server: {@code KIT_DB_URL}'s, a container of the image {@code KIT_DB=testcontainers:<image>}
     * names (e.g. {@code testcontainers:postgres:16}), or an embedded one.
     */
    private static PostgresServer forTests() {
        String kind = System.getenv(KIND_VARIABLE);
        String url = System.getenv(DatabaseUrl.VARIABLE);
        if (kind != null && kind.startsWith("testcontainers:") && (url == null || url.isBlank())) {
            return ContainerServer.start(kind.substring("testcontainers:".length()));
        }
        if (kind != null && !kind.isBlank() && !kind.equals("embedded") && !kind.startsWith("testcontainers:")) {
            throw new IllegalArgumentException(KIND_VARIABLE + " must be embedded or testcontainers:<image> (got " + kind + ")");
        }
        return PostgresServer.fromEnvironment();
    }

    /** {@code SHOW server_version} of {@code server}, e.g. {@code 18.1}. */
    public static String serverVersion(PostgresServer server) {
        try (var c = Jdbc.connect(server.url()); var s = c.createStatement();
             var r = s.executeQuery("SHOW server_version")) {
            r.next();
            return r.getString(1);
        } catch (SQLException e) {
            throw new IllegalStateException("Could not ask " + server.describe() + " for its version", e);
        }
    }

    /** The prefix of the app roles this run's migrations create ({@code <prefix>2} is app-v2's role). */
    public static String rolePrefix() {
        return ROLE_PREFIX;
    }

    /** A role name of this run ({@code <run>_<name>}): dropped with the run's other roles when it ends. */
    public static String runRole(String name) {
        return RUN + "_" + name;
    }

    /** The migrations of a test database, with this run's role prefix. */
    public static Migrations migrations(DatabaseUrl url) {
        return new Migrations(url, ExampleMigrations.LOCATION, ROLE_PREFIX);
    }

    /** A new database with every migration applied. */
    public static TestDatabase migrated() {
        return migratedTo(null);
    }

    /** A new database migrated to exactly {@code target} ("0", "2.1", ...), or to the end when null. */
    public static TestDatabase migratedTo(String target) {
        return create(template(target));
    }

    /** A new, empty database (no kit yet), for tests that run migrations themselves. */
    public static TestDatabase empty() {
        return create(null);
    }

    private static synchronized String template(String target) {
        String key = target == null ? "all" : target;
        return TEMPLATES.computeIfAbsent(key, k -> {
            String name = RUN + "_tpl_" + k.replace('.', '_');
            try {
                server().createDatabase(name, null);
                CREATED.add(name);
                migrations(server().url().withDatabase(name)).migrateTo(target);
            } catch (SQLException e) {
                throw new IllegalStateException("Could not create template database " + name, e);
            }
            return name;
        });
    }

    private static TestDatabase create(String template) {
        String name = RUN + "_" + COUNTER.incrementAndGet();
        try {
            server().createDatabase(name, template);
        } catch (SQLException e) {
            throw new IllegalStateException("Could not create test database " + name, e);
        }
        synchronized (TestDatabases.class) {
            CREATED.add(name);
        }
        return new TestDatabase(name, server().url().withDatabase(name));
    }

    private static synchronized void dropAllAndClose() {
        if (server == null) {
            return;  // no test asked for a database
        }
        for (String name : CREATED.reversed()) {
            try {
                server.dropDatabase(name);
            } catch (SQLException e) {
                System.err.println("Could not drop test database " + name + ": " + e.getMessage());
            }
        }
        try (var c = Jdbc.connect(server.url()); var s = c.createStatement();
             var roles = c.createStatement().executeQuery("SELECT rolname FROM pg_roles WHERE rolname LIKE '" + RUN + "%'")) {
            while (roles.next()) {
                s.execute("DROP ROLE IF EXISTS " + roles.getString(1));
            }
        } catch (SQLException e) {
            System.err.println("Could not drop the test roles " + ROLE_PREFIX + "*: " + e.getMessage());
        }
        server.close();
    }
}
