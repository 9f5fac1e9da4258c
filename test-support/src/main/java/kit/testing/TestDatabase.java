package kit.testing;

import kit.client.AppRoles;
import kit.client.DatabaseUrl;
import kit.client.Jdbc;
import kit.client.Migrations;
import kit.example.ExampleMigrations;
import org.flywaydb.core.Flyway;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;

/** A database of one test, with ways to connect as a named client and to migrate it. */
public record TestDatabase(String name, DatabaseUrl url) {

    public Connection connect() throws SQLException {
        return Jdbc.connect(url.jdbc());
    }

    /** A connection that identifies itself like an app server does (application_name). */
    public Connection connectAs(String applicationName) throws SQLException {
        return Jdbc.connect(url.with("ApplicationName", applicationName).jdbc());
    }

    public Migrations migrations() {
        return TestDatabases.migrations(url);
    }

    /**
     * Migrates the example to {@code target} (the end when null) under another kit than this one,
     * e.g. a released kit frozen for the upgrade tests ({@code classpath:frozen-kit-0.4.0}), with this
     * run's role prefix.
     */
    public void migrateWithKit(String kitLocation, String target) {
        var flyway = Flyway.configure().dataSource(url.jdbc(), null, null)
                .locations(kitLocation, ExampleMigrations.LOCATION)
                .jdbcProperties(Map.of("options", AppRoles.prefixOption(TestDatabases.rolePrefix())));
        (target == null ? flyway : flyway.target(target)).load().migrate();
    }

    /**
     * A connection that acts as app version {@code version}'s role and registers as its client
     * (so that retirement sees it), as each of the app's pooled connections does.
     */
    public Connection connectAsAppRole(int version) throws SQLException {
        Connection c = connectAs("app-v" + version);
        try (var s = c.createStatement()) {
            s.execute("SET ROLE " + TestDatabases.rolePrefix() + version);
            // Kits before 0.6.0 (the upgrade tests' writers) have no registration; 0.6.0 has no domains.
            s.execute("DO $$BEGIN IF pg_catalog.to_regprocedure('kit.register_client(integer, text)') IS NOT NULL THEN "
                    + "PERFORM kit.register_client(" + version + ", 'public'); "
                    + "ELSIF pg_catalog.to_regprocedure('kit.register_client(integer)') IS NOT NULL THEN "
                    + "PERFORM kit.register_client(" + version + "); END IF; END$$");
        }
        return c;
    }
}
