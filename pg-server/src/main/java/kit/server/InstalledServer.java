package kit.server;

import kit.client.DatabaseUrl;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A PostgreSQL server of the machine's own installation (Debian's {@code /usr/lib/postgresql/N/bin}),
 * started in a data directory of its own on a free port: what a primary and its replica run on when
 * the tests' server is the machine's ({@code KIT_DB_URL}), so that they are of the same major version.
 * As root, every binary runs under {@code unshare -U}, as zonky's do (see {@link EmbeddedServer}).
 * The same settings as the embedded server's: durability traded for speed, data thrown away at close.
 */
final class InstalledServer implements ReplicatedServer.Node {

    private final Path bin;
    private final Path data;
    private final int port;
    private final DatabaseUrl url;

    private InstalledServer(Path bin, Path data, int port) {
        this.bin = bin;
        this.data = data;
        this.port = port;
        this.url = DatabaseUrl.parse("jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres");
    }

    /** The binaries of major version {@code major} where Debian puts them, if they are there. */
    static Optional<Path> binaries(int major) {
        Path bin = Path.of("/usr/lib/postgresql/" + major + "/bin");
        return Files.isExecutable(bin.resolve("pg_ctl")) && Files.isExecutable(bin.resolve("initdb"))
                && Files.isExecutable(bin.resolve("pg_basebackup")) ? Optional.of(bin) : Optional.empty();
    }

    /** A new cluster in {@code data} (initdb), started on {@code port}. */
    static InstalledServer initAndStart(Path bin, Path data, int port) throws IOException {
        run(bin, "initdb", "-D", data.toString(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C");
        InstalledServer server = new InstalledServer(bin, data, port);
        server.configure();
        server.start();
        return server;
    }

    /** A copy of {@code primary} made by pg_basebackup (its slot created), started on {@code port}: set up as a standby by the caller. */
    static Path baseBackup(Path bin, InstalledServer primary, Path target, String slot) throws IOException {
        run(bin, "pg_basebackup", "-h", "127.0.0.1", "-p", String.valueOf(primary.port), "-U", "postgres", "-D", target.toString(),
                "-X", "stream", "-C", "-S", slot, "--no-sync");
        return target;
    }

    /** Starts the cluster in {@code data} (a base backup, say) on {@code port}. */
    static InstalledServer startIn(Path bin, Path data, int port) throws IOException {
        InstalledServer server = new InstalledServer(bin, data, port);
        server.configure();
        server.start();
        return server;
    }

    private void configure() throws IOException {
        // Appended: the last setting of a name wins, so a base backup's copy of the primary's is overridden.
        Files.writeString(data.resolve("postgresql.conf"), String.join("\n", "",
                "port = " + port, "listen_addresses = '127.0.0.1'", "unix_socket_directories = '" + data + "'",
                "max_connections = 300", "fsync = off", "full_page_writes = off", "synchronous_commit = on",
                "max_prepared_transactions = 10", "wal_level = logical", ""), StandardOpenOption.APPEND);
    }

    private void start() throws IOException {
        run(bin, "pg_ctl", "-D", data.toString(), "-l", data.resolve("server.log").toString(), "-w", "-t", "60", "start");
    }

    @Override
    public DatabaseUrl url() {
        return url;
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public Path dataDirectory() {
        return data;
    }

    @Override
    public void close() {
        try {
            run(bin, "pg_ctl", "-D", data.toString(), "-m", "immediate", "-w", "-t", "30", "stop");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs one of the binaries to its end; fails with its output when it fails or takes more than two minutes. */
    private static void run(Path bin, String program, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        if ("root".equals(System.getProperty("user.name"))) {
            // PostgreSQL refuses to run as root: in a user namespace of its own it is not.
            command.addAll(List.of("unshare", "-U"));
        }
        command.add(bin.resolve(program).toString());
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            boolean ended = process.waitFor(2, TimeUnit.MINUTES);
            String output = new String(process.getInputStream().readAllBytes()).strip();
            if (!ended) {
                process.destroyForcibly();
                throw new IOException(program + " did not end within 2 minutes: " + output);
            }
            if (process.exitValue() != 0) {
                throw new IOException(program + " failed (exit " + process.exitValue() + "): " + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IOException(program + " was interrupted", e);
        }
    }
}
