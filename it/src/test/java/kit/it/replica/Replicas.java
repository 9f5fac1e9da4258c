package kit.it.replica;

import kit.client.AppRoles;
import kit.client.DatabaseUrl;
import kit.client.Migrations;
import kit.example.ExampleMigrations;
import kit.server.ReplicatedServer;
import org.junit.jupiter.api.Assumptions;

import java.time.Duration;

/** A primary and a streaming replica of the tests' own; where none can start here, the test is skipped with one line. */
final class Replicas {

    private Replicas() {
    }

    interface Body<T> {
        T run() throws Exception;
    }

    /** Runs {@code body}, or skips the test when it fails because no replica can start here. */
    static <T> T orSkip(Body<T> body) throws Exception {
        try {
            return body.run();
        } catch (ReplicatedServer.CannotStart e) {
            Assumptions.abort("no streaming replica can be started here, so this replica test is skipped: " + e.getMessage());
            throw e;
        }
    }

    /** A database of the example migrated to {@code target} on a primary of its own, and its replica once it has replayed it. */
    record Migrated(ReplicatedServer servers, DatabaseUrl primary, DatabaseUrl replica) implements AutoCloseable {
        @Override
        public void close() {
            servers.close();
        }
    }

    static Migrated migrated(String database, String target) throws Exception {
        ReplicatedServer servers = start();
        try {
            servers.createDatabase(database, null);
            DatabaseUrl primary = servers.url().withDatabase(database);
            new Migrations(primary, ExampleMigrations.LOCATION, AppRoles.DEFAULT_PREFIX).migrateTo(target);
            servers.awaitReplay(Duration.ofSeconds(30));
            return new Migrated(servers, primary, servers.replicaUrl().withDatabase(database));
        } catch (Exception | Error e) {
            servers.close();
            throw e;
        }
    }

    static ReplicatedServer start() throws Exception {
        ReplicatedServer servers = orSkip(ReplicatedServer::start);
        System.out.println("replica tests: " + servers.describe());
        return servers;
    }
}
