package kit.testing;

import kit.client.DatabaseUrl;
import kit.client.Jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The PostgreSQL server the kit's tests and demo talk to: the one named by
 * {@value #URL_VARIABLE} when it is set, otherwise an embedded one started
 * by this process (and stopped when it closes).
 */
public interface PostgresServer extends AutoCloseable {

    /** Environment variable naming an external server, e.g. {@code jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres}. */
    String URL_VARIABLE = DatabaseUrl.VARIABLE;

    /** A URL for the server's maintenance database; {@link DatabaseUrl#withDatabase} reaches the others. */
    DatabaseUrl url();

    /** Human-readable description for progress output. */
    String describe();

    @Override
    void close();

    /** Environment variable choosing the tests' server: {@code embedded} (the default) or {@code testcontainers:<image>}. */
    String KIND_VARIABLE = "KIT_DB";

    /** The server cannot be had here (a container without Docker): the tests that need it are skipped. */
    final class Unavailable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Unavailable(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * The tests' server: {@code KIT_DB_URL}'s, a container of the image {@code KIT_DB=testcontainers:<image>}
     * names (e.g. {@code testcontainers:postgres:16}), or an embedded one.
     */
    static PostgresServer forTests() {
        String kind = System.getenv(KIND_VARIABLE);
        String url = System.getenv(URL_VARIABLE);
        if (kind != null && kind.startsWith("testcontainers:") && (url == null || url.isBlank())) {
            return ContainerServer.start(kind.substring("testcontainers:".length()));
        }
        if (kind != null && !kind.isBlank() && !kind.equals("embedded") && !kind.startsWith("testcontainers:")) {
            throw new IllegalArgumentException(KIND_VARIABLE + " must be embedded or testcontainers:<image> (got " + kind + ")");
        }
        return fromEnvironment();
    }

    static PostgresServer fromEnvironment() {
        String url = System.getenv(URL_VARIABLE);
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
