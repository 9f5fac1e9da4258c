package kit.it.replica;

import kit.server.ReplicatedServer;
import org.junit.jupiter.api.Assumptions;

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

    static ReplicatedServer start() throws Exception {
        ReplicatedServer servers = orSkip(ReplicatedServer::start);
        System.out.println("replica tests: " + servers.describe());
        return servers;
    }
}
