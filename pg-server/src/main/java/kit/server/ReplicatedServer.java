package kit.server;

import kit.client.DatabaseUrl;
import kit.client.Jdbc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A primary and one physical streaming replica of it, both embedded servers on free ports in
 * a temporary directory: what the demo's {@code --replica} and the tests of reading from a
 * replica run on. The replica is made as {@code pg_basebackup} would, with what zonky's bundle
 * has ({@code postgres}, {@code pg_ctl}, {@code initdb}): a physical replication slot, then
 * {@code pg_backup_start}, a copy of the primary's data directory, {@code pg_backup_stop}
 * (whose label becomes the copy's {@code backup_label}), and {@code standby.signal} with
 * {@code primary_conninfo}. The slot keeps every WAL segment the replica has not received, so
 * that the copy needs none of the primary's {@code pg_wal}.
 */
public final class ReplicatedServer implements PostgresServer {

    /** The physical replication slot the replica streams from. */
    public static final String SLOT = "kit_replica";
    /** The replica's {@code application_name} in the primary's {@code pg_stat_replication}. */
    public static final String REPLICA_NAME = "kit_replica";

    /** What a base backup leaves out (as pg_basebackup does): the server's own run-time state. */
    private static final Set<String> NOT_COPIED = Set.of("postmaster.pid", "postmaster.opts", "epg-lock",
            "pg_wal", "pg_replslot", "pg_stat_tmp", "pg_dynshmem", "pg_notify", "pg_serial", "pg_snapshots", "pg_subtrans",
            "standby.signal", "recovery.signal", "backup_label", "tablespace_map");
    /** Directories that must exist, empty, in the copy. */
    private static final Set<String> EMPTY_IN_COPY = Set.of("pg_wal", "pg_replslot", "pg_stat_tmp", "pg_dynshmem", "pg_notify",
            "pg_serial", "pg_snapshots", "pg_subtrans");

    /** Why no primary and replica could be started here (the tests that need them are skipped on it). */
    public static final class CannotStart extends IllegalStateException {

        private static final long serialVersionUID = 1L;

        CannotStart(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** One server of the two: an embedded one, or one of the machine's installation. */
    interface Node extends AutoCloseable {
        DatabaseUrl url();

        int port();

        Path dataDirectory();

        @Override
        void close();
    }

    private final Path directory;
    private final Node primary;
    private final Node replica;
    private final String binaries;

    private ReplicatedServer(Path directory, Node primary, Node replica, String binaries) {
        this.directory = directory;
        this.primary = primary;
        this.replica = replica;
        this.binaries = binaries;
    }

    /**
     * Starts a primary and a streaming replica of it; returns once the replica has replayed the
     * primary's WAL. Where {@code KIT_DB_URL} names the tests' server and the machine has that
     * server's major version installed (Debian's {@code /usr/lib/postgresql/N/bin}), the two are of
     * that version, the replica made by {@code pg_basebackup}; otherwise they are embedded.
     */
    public static ReplicatedServer start() {
        Path directory;
        try {
            directory = Files.createTempDirectory("kit-replicated-");
        } catch (IOException e) {
            throw new UncheckedIOException("Could not make a directory for a primary and its replica: " + e.getMessage(), e);
        }
        Node primary = null;
        try {
            Optional<Path> installed = serviceBinaries();
            Path replicaData = directory.resolve("replica");
            Node replica;
            if (installed.isPresent()) {
                InstalledServer p = InstalledServer.initAndStart(installed.get(), directory.resolve("primary"), EmbeddedServer.freePort());
                primary = p;
                InstalledServer.baseBackup(installed.get(), p, replicaData, SLOT);
                followPrimary(primary, replicaData);
                replica = InstalledServer.startIn(installed.get(), replicaData, EmbeddedServer.freePort());
            } else {
                primary = EmbeddedServer.startKeeping(directory.resolve("primary"), EmbeddedServer.freePort());
                baseBackup(primary, replicaData);
                followPrimary(primary, replicaData);
                replica = EmbeddedServer.startKeeping(replicaData, EmbeddedServer.freePort());
            }
            ReplicatedServer pair = new ReplicatedServer(directory, primary, replica,
                    installed.map(bin -> "PostgreSQL from " + bin).orElse("embedded PostgreSQL"));
            pair.awaitReplay(Duration.ofSeconds(60));
            return pair;
        } catch (IOException | SQLException | RuntimeException e) {
            if (primary != null) {
                primary.close();
            }
            deleteQuietly(directory);
            throw new CannotStart("Could not start a primary with a streaming replica: " + e.getMessage(), e);
        }
    }

    /**
     * The binaries of the major version of the server {@code KIT_DB_URL} names, where the machine has
     * them; none when it is not set, cannot be reached or its version is not installed here.
     */
    private static Optional<Path> serviceBinaries() {
        String service = System.getenv(DatabaseUrl.VARIABLE);
        if (service == null || service.isBlank()) {
            return Optional.empty();
        }
        try (Connection c = Jdbc.connect(DatabaseUrl.parse(service).jdbc()); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT current_setting('server_version_num')::int / 10000")) {
            r.next();
            return InstalledServer.binaries(r.getInt(1));
        } catch (SQLException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static void baseBackup(Node primary, Path target) throws SQLException, IOException {
        Path source = primary.dataDirectory();
        try (Connection c = Jdbc.connect(primary.url().jdbc()); Statement s = c.createStatement()) {
            s.execute("SELECT pg_create_physical_replication_slot('" + SLOT + "', true)");
            // Non-exclusive: the backup lasts as long as this session, which pg_backup_stop must end it in.
            s.execute("SELECT pg_backup_start('kit replica', true)");
            copy(source, target);
            try (ResultSet r = s.executeQuery("SELECT labelfile, spcmapfile FROM pg_backup_stop(true)")) {
                r.next();
                Files.writeString(target.resolve("backup_label"), r.getString(1));
                String map = r.getString(2);
                if (map != null && !map.isEmpty()) {
                    Files.writeString(target.resolve("tablespace_map"), map);
                }
            }
        }
    }

    /** Makes the copy in {@code target} a standby that streams from {@code primary} through the slot. */
    private static void followPrimary(Node primary, Path target) throws IOException {
        Files.createFile(target.resolve("standby.signal"));
        Files.writeString(target.resolve("postgresql.auto.conf"),
                "\nprimary_conninfo = 'host=127.0.0.1 port=" + primary.port() + " user=postgres application_name=" + REPLICA_NAME + "'"
                        + "\nprimary_slot_name = '" + SLOT + "'\nhot_standby = on\n",
                StandardOpenOption.APPEND);
    }

    /** Copies a live data directory; files that go while it copies (a dropped table's) are left out, as their WAL says. */
    private static void copy(Path source, Path target) throws IOException {
        Files.walkFileTree(source, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Path relative = source.relativize(dir);
                Path copy = Files.createDirectories(target.resolve(relative.toString()));
                // PostgreSQL starts only on a data directory that is its owner's alone.
                Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rwx------"));
                if (relative.getNameCount() == 1 && NOT_COPIED.contains(relative.toString())) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Path relative = source.relativize(file);
                if (relative.getNameCount() == 1 && NOT_COPIED.contains(relative.toString())) {
                    return FileVisitResult.CONTINUE;
                }
                try {
                    Files.copy(file, target.resolve(relative.toString()), StandardCopyOption.COPY_ATTRIBUTES);
                } catch (NoSuchFileException gone) {
                    // Dropped while the backup ran: replaying the WAL drops it in the copy too.
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }
        });
        for (String empty : EMPTY_IN_COPY) {
            Files.setPosixFilePermissions(Files.createDirectories(target.resolve(empty)), PosixFilePermissions.fromString("rwx------"));
        }
        Files.setPosixFilePermissions(Files.createDirectories(target.resolve("pg_wal/archive_status")), PosixFilePermissions.fromString("rwx------"));
    }

    /**
     * Waits until the replica has replayed everything written on the primary so far, or fails
     * after {@code timeout} saying how far behind it is.
     */
    public void awaitReplay(Duration timeout) throws SQLException {
        String target;
        try (Connection c = Jdbc.connect(primary.url().jdbc()); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT pg_current_wal_insert_lsn()")) {
            r.next();
            target = r.getString(1);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        String replayed = null;
        try (Connection c = Jdbc.connect(replica.url().jdbc());
             var query = c.prepareStatement("SELECT pg_last_wal_replay_lsn()::text, pg_last_wal_replay_lsn() >= ?::pg_lsn")) {
            query.setString(1, target);
            while (System.nanoTime() < deadline) {
                try (ResultSet r = query.executeQuery()) {
                    r.next();
                    replayed = r.getString(1);
                    if (r.getBoolean(2)) {
                        return;
                    }
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("Interrupted while waiting for the replica to replay " + target, e);
                }
            }
        }
        throw new IllegalStateException("The replica did not replay the primary's WAL up to " + target + " in "
                + timeout.toSeconds() + " s (it is at " + replayed + ")");
    }

    /** The primary's maintenance database. */
    @Override
    public DatabaseUrl url() {
        return primary.url();
    }

    /** The replica's maintenance database: the same databases as the primary's, read-only. */
    public DatabaseUrl replicaUrl() {
        return replica.url();
    }

    @Override
    public String describe() {
        return binaries + ": a primary on port " + primary.port() + " with a streaming replica on port " + replica.port();
    }

    @Override
    public void close() {
        try {
            replica.close();
        } finally {
            primary.close();
            deleteQuietly(directory);
        }
    }

    private static void deleteQuietly(Path directory) {
        try (Stream<Path> paths = Files.walk(directory)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // A temporary directory: what is left goes with the machine's.
        }
    }
}
