package kit.server;

import kit.client.DatabaseUrl;
import kit.client.Jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A PostgreSQL server that a program of this project (the demo, the benchmarks, the code
 * generator) or a test talks to: the one named by {@code KIT_DB_URL} ({@link DatabaseUrl#VARIABLE}) when it is set,
 * otherwise an embedded one started by this process (and stopped when it closes). The tests
 * have a third kind, a container (module test-support); this module knows no test framework.
 */
public interface PostgresServer extends AutoCloseable {

    /** A URL for the server's maintenance database; {@link DatabaseUrl#withDatabase} reaches the others. */
    DatabaseUrl url();

    /** Human-readable description for progress output. */
    String describe();

    @Override
    void close();

    /** {@code KIT_DB_URL}'s server when it is set, otherwise an embedded one started now. */
    static PostgresServer fromEnvironment() {
        String url = System.getenv(DatabaseUrl.VARIABLE);
        if (url != null && !url.isBlank()) {
            return new ExternalServer(DatabaseUrl.parse(url));
        }
        return EmbeddedServer.start();
    }

    default Connection connect(String database) throws SQLException {
        return Jdbc.connect(url().withDatabase(database).jdbc());
    }

    /** Creates an empty database, or a copy of {@code template} when it is not null. */
    default void createDatabase(String name, String template) throws SQLException {
        try (Connection c = Jdbc.connect(url().jdbc()); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + quote(name) + (template == null ? "" : " TEMPLATE " + quote(template)));
        }
    }

    default void dropDatabase(String name) throws SQLException {
        try (Connection c = Jdbc.connect(url().jdbc()); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + quote(name) + " WITH (FORCE)");
        }
    }

    private static String quote(String identifier) {
        if (!identifier.matches("[a-z_][a-z0-9_]{0,62}")) {
            throw new IllegalArgumentException("Not a plain database name: " + identifier);
        }
        return identifier;
    }

    /** A server somebody else runs; closing it does nothing. */
    record ExternalServer(DatabaseUrl url) implements PostgresServer {
        @Override
        public String describe() {
            return "PostgreSQL at " + url;
        }

        @Override
        public void close() {
        }
    }
}
