package kit.testing;

import kit.client.DatabaseUrl;
import kit.server.PostgresServer;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

import java.time.Duration;

/**
 * A PostgreSQL server in a Docker container, started by Testcontainers for the
 * run ({@code KIT_DB=testcontainers:postgres:16}) and removed when it closes:
 * the kit's tests on any PostgreSQL version an image exists for. Test scope only: a program
 * that needs a server uses {@link PostgresServer#fromEnvironment()}.
 */
final class ContainerServer implements PostgresServer {

    private final GenericContainer<?> container;
    private final DatabaseUrl url;

    private ContainerServer(GenericContainer<?> container) {
        this.container = container;
        this.url = DatabaseUrl.parse("jdbc:postgresql://" + container.getHost() + ":" + container.getMappedPort(5432)
                + "/postgres?user=postgres");
    }

    /** Starts {@code image}; {@link Unavailable} at once, without waiting, when this machine has no Docker. */
    static ContainerServer start(String image) {
        // Looking for Docker logs every way it tried at ERROR; the one line below says it better.
        System.setProperty("org.slf4j.simpleLogger.log.org.testcontainers.dockerclient", "off");
        if (!DockerClientFactory.instance().isDockerAvailable()) {
            throw new Unavailable("KIT_DB=testcontainers:" + image + " needs Docker, and this machine has none");
        }
        GenericContainer<?> container = new GenericContainer<>(DockerImageName.parse(image))
                .withEnv("POSTGRES_HOST_AUTH_METHOD", "trust")
                .withExposedPorts(5432)
                // The entrypoint starts the server twice (initdb, then for real): the second "ready" counts.
                .waitingFor(Wait.forLogMessage(".*database system is ready to accept connections.*\\n", 2)
                        .withStartupTimeout(Duration.ofMinutes(3)));
        container.start();
        return new ContainerServer(container);
    }

    /** The server cannot be had here (no Docker): the tests that need it are skipped. */
    static final class Unavailable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Unavailable(String message) {
            super(message, null, false, false);
        }
    }

    @Override
    public DatabaseUrl url() {
        return url;
    }

    @Override
    public String describe() {
        return "PostgreSQL in a container of " + container.getDockerImageName() + " at " + url;
    }

    @Override
    public void close() {
        container.stop();
    }
}
