package kit.testing;

import kit.client.DatabaseUrl;
import kit.client.Jdbc;
import kit.client.Migrations;

import java.sql.Connection;
import java.sql.SQLException;

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

    /** A connection that acts as app version {@code version}'s role, as the app does. */
    public Connection connectAsAppRole(int version) throws SQLException {
        Connection c = connectAs("app-v" + version);
        try (var s = c.createStatement()) {
            s.execute("SET ROLE " + TestDatabases.rolePrefix() + version);
        }
        return c;
    }
}
