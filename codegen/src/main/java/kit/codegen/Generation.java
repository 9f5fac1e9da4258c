package kit.codegen;

import kit.client.DatabaseUrl;
import kit.server.PostgresServer;
import org.jooq.meta.jaxb.Generate;
import org.jooq.meta.jaxb.Target;

import java.nio.file.Path;
import java.sql.SQLException;
import java.util.function.Supplier;

/** What both generators share: a database of their own to generate from, and the shape of the code. */
final class Generation {

    /** Work on a database of one generation run. */
    interface Work<T> {
        T run(DatabaseUrl url) throws Exception;
    }

    private Generation() {
    }

    /** Runs {@code work} on a new database of the server (embedded, or KIT_DB_URL), dropped afterwards. */
    static <T> T inScratchDatabase(String prefix, Work<T> work) throws Exception {
        return inScratchDatabase(PostgresServer::fromEnvironment, prefix, work);
    }

    static <T> T inScratchDatabase(Supplier<PostgresServer> servers, String prefix, Work<T> work) throws Exception {
        System.setProperty("org.jooq.no-logo", "true");
        System.setProperty("org.jooq.no-tips", "true");
        try (PostgresServer server = servers.get()) {
            String database = prefix + "_" + ProcessHandle.current().pid();
            try {
                server.dropDatabase(database);
            } catch (SQLException e) {
                // The first statement: a failure here is the server, not the migrations.
                throw new IllegalStateException("Could not reach " + server.describe()
                        + (server instanceof PostgresServer.ExternalServer
                                ? " (" + DatabaseUrl.VARIABLE + "; without it codegen starts an embedded PostgreSQL)" : "")
                        + ": " + e.getMessage(), e);
            }
            server.createDatabase(database, null);
            try {
                return work.run(server.url().withDatabase(database));
            } finally {
                server.dropDatabase(database);
            }
        }
    }

    /** Records and tables only, java.time types, no timestamps or versions in the code (so it compares). */
    static Generate code() {
        return new Generate()
                .withJavaTimeTypes(true)
                .withRecords(true)
                .withPojos(false)
                .withDaos(false)
                .withGeneratedAnnotation(false)
                .withComments(true);
    }

    static Target target(String packageName, Path directory) {
        return new Target().withPackageName(packageName).withDirectory(directory.toString()).withClean(true);
    }
}
