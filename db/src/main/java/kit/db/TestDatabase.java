package kit.db;

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
        return new Migrations(url);
    }
}
