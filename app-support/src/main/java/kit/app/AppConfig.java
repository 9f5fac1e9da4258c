package kit.app;

import kit.client.AppRoles;
import kit.client.DatabaseUrl;
import kit.console.LogLevel;

import java.util.Map;

/**
 * How an app server is started: flags first, then environment variables, then
 * defaults. {@link #usage} is what {@code --help} prints.
 */
public record AppConfig(int version, String host, int port, DatabaseUrl databaseUrl, String databaseRole,
                        int poolSize, int hashIterations, int maxBodyBytes, String logLevel,
                        int requestTimeoutSeconds, int poolTimeoutMillis, DatabaseUrl readDatabaseUrl, int readWaitMillis) {

    public static final int DEFAULT_HASH_ITERATIONS = 600_000;
    /**
     * How long a client may take to send a request's headers and body. The
     * apps take small JSON bodies (64 KiB at most by default), which need far
     * less on any link a client of theirs uses; a client slower than this
     * holds a connection and a thread for nothing.
     */
    public static final int DEFAULT_REQUEST_TIMEOUT_SECONDS = 10;
    /** How long a request waits for a pooled connection before it is answered 503 overloaded (HikariCP's connectionTimeout). */
    public static final int DEFAULT_POOL_TIMEOUT_MILLIS = 5_000;
    /**
     * How long a read served by the replica waits for it to replay what the read must see (see
     * {@link ReadReplica}). A streaming replica on a healthy network replays within milliseconds;
     * one that is this far behind is answered 503 replica_behind, so that a client retries rather
     * than reads stale data.
     */
    public static final int DEFAULT_READ_WAIT_MILLIS = 2_000;

    /** A configuration with the default request and pool timeouts. */
    public AppConfig(int version, String host, int port, DatabaseUrl databaseUrl, String databaseRole,
                     int poolSize, int hashIterations, int maxBodyBytes, String logLevel) {
        this(version, host, port, databaseUrl, databaseRole, poolSize, hashIterations, maxBodyBytes, logLevel,
                DEFAULT_REQUEST_TIMEOUT_SECONDS, DEFAULT_POOL_TIMEOUT_MILLIS, null, DEFAULT_READ_WAIT_MILLIS);
    }

    /** This configuration, reading from the streaming replica at {@code replica}, each read waiting at most {@code waitMillis} for it. */
    public AppConfig readingFrom(DatabaseUrl replica, int waitMillis) {
        return new AppConfig(version, host, port, databaseUrl, databaseRole, poolSize, hashIterations, maxBodyBytes, logLevel,
                requestTimeoutSeconds, poolTimeoutMillis, replica, waitMillis);
    }

    /** Where reads go: the streaming replica of {@code --read-db-url}, when one is given. */
    public java.util.Optional<DatabaseUrl> readReplica() {
        return java.util.Optional.ofNullable(readDatabaseUrl);
    }

    /** Thrown for --help (with status 0) and for bad flags (status 2). */
    public static final class UsageException extends RuntimeException {

        private static final long serialVersionUID = 1L;
        private final int exitStatus;

        UsageException(String message, int exitStatus) {
            super(message, null, false, false);
            this.exitStatus = exitStatus;
        }

        public int exitStatus() {
            return exitStatus;
        }
    }

    public static int defaultPort(int version) {
        return 8080 + version;
    }

    /** The role the migrations create for app version {@code version} (prefix kit_app_v by default). */
    public static String defaultRole(int version) {
        return AppRoles.defaultRole(version);
    }

    public String applicationName() {
        return "app-v" + version;
    }

    public static AppConfig parse(int version, String[] args, Map<String, String> env) {
        String host = env.getOrDefault("KIT_APP_HOST", "127.0.0.1");
        String port = env.getOrDefault("KIT_APP_PORT", String.valueOf(defaultPort(version)));
        String url = env.getOrDefault(DatabaseUrl.VARIABLE, DatabaseUrl.LOCAL_DEFAULT);
        String role = env.getOrDefault("KIT_DB_ROLE", defaultRole(version));
        String pool = env.getOrDefault("KIT_POOL_SIZE", "10");
        String iterations = env.getOrDefault("KIT_HASH_ITERATIONS", String.valueOf(DEFAULT_HASH_ITERATIONS));
        String maxBody = env.getOrDefault("KIT_MAX_BODY_BYTES", "65536");
        String logLevel = env.getOrDefault(LogLevel.VARIABLE, "info");
        String requestTimeout = env.getOrDefault("KIT_REQUEST_TIMEOUT", String.valueOf(DEFAULT_REQUEST_TIMEOUT_SECONDS));
        String poolTimeout = env.getOrDefault("KIT_POOL_TIMEOUT_MS", String.valueOf(DEFAULT_POOL_TIMEOUT_MILLIS));
        String readUrl = env.getOrDefault("KIT_READ_DB_URL", "");
        String readWait = env.getOrDefault("KIT_READ_WAIT_MS", String.valueOf(DEFAULT_READ_WAIT_MILLIS));
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (flag.equals("-h") || flag.equals("--help")) {
                throw new UsageException(usage(version), 0);
            }
            if (i + 1 >= args.length) {
                throw new UsageException("app-v" + version + ": " + flag + " needs a value\n\n" + usage(version), 2);
            }
            String value = args[++i];
            switch (flag) {
                case "--host" -> host = value;
                case "--port" -> port = value;
                case "--db-url" -> url = value;
                case "--db-role" -> role = value;
                case "--pool-size" -> pool = value;
                case "--hash-iterations" -> iterations = value;
                case "--max-body-bytes" -> maxBody = value;
                case "--log-level" -> logLevel = value;
                case "--request-timeout" -> requestTimeout = value;
                case "--pool-timeout-ms" -> poolTimeout = value;
                case "--read-db-url" -> readUrl = value;
                case "--read-wait-ms" -> readWait = value;
                default -> throw new UsageException("app-v" + version + ": unknown flag " + flag + "\n\n" + usage(version), 2);
            }
        }
        try {
            if (!role.isEmpty() && !role.matches("[a-z_][a-z0-9_]{0,62}")) {
                throw new IllegalArgumentException("--db-role must be a plain role name, or empty for none (got " + role + ")");
            }
            return new AppConfig(version, host, number(port, "--port", 0, 65535), url(url, "--db-url"), role,
                    number(pool, "--pool-size", 1, 1000), number(iterations, "--hash-iterations", 1, 10_000_000),
                    number(maxBody, "--max-body-bytes", 1024, 64 * 1024 * 1024), LogLevel.parse(logLevel),
                    number(requestTimeout, "--request-timeout", 1, 3600),
                    // HikariCP refuses a connectionTimeout below 250 ms.
                    number(poolTimeout, "--pool-timeout-ms", 250, 600_000),
                    readUrl.isBlank() ? null : url(readUrl, "--read-db-url"), number(readWait, "--read-wait-ms", 1, 600_000));
        } catch (IllegalArgumentException e) {
            throw new UsageException("app-v" + version + ": " + e.getMessage(), 2);
        }
    }

    private static DatabaseUrl url(String value, String flag) {
        try {
            return DatabaseUrl.parse(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(flag + ": " + e.getMessage());
        }
    }

    private static int number(String value, String flag, int min, int max) {
        try {
            int n = Integer.parseInt(value.trim());
            if (n < min || n > max) {
                throw new IllegalArgumentException(flag + " must be between " + min + " and " + max + " (got " + value + ")");
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " must be a whole number (got " + value + ")");
        }
    }

    public static String usage(int version) {
        return """
                Usage: java -jar app-v%1$d.jar [--port P] [--db-url URL] [options]

                The schema-version-%1$d app of the cqrs-kit example: an HTTP/JSON service that writes
                version %1$d's write tables and reads version %1$d's read tables. It refuses to start
                unless schema version %1$d is live in the database.

                  --host HOST              listen address            (KIT_APP_HOST, default 127.0.0.1)
                  --port P                 listen port               (KIT_APP_PORT, default %2$d)
                  --db-url URL             PostgreSQL JDBC URL       (KIT_DB_URL, default %3$s)
                  --db-role ROLE           role every connection takes with SET ROLE, so the
                                           app can do only what version %1$d may (KIT_DB_ROLE,
                                           default %5$s; empty for none)
                  --pool-size N            database connections      (KIT_POOL_SIZE, default 10)
                  --pool-timeout-ms MS     how long a request waits for a free connection; then
                                           it gets 503 overloaded with Retry-After
                                           (KIT_POOL_TIMEOUT_MS, default %7$d)
                  --read-db-url URL        a streaming replica of the database, for GET requests
                                           and log-ins; writes and the start-up gate stay on
                                           --db-url. A read waits until the replica has replayed
                                           what it must see (KIT_READ_DB_URL, default none)
                  --read-wait-ms MS        how long such a read waits; then it gets 503
                                           replica_behind with Retry-After (KIT_READ_WAIT_MS,
                                           default %8$d)
                  --hash-iterations N      PBKDF2 cost of new hashes (KIT_HASH_ITERATIONS, default %4$d)
                  --max-body-bytes N       largest request body      (KIT_MAX_BODY_BYTES, default 65536)
                  --request-timeout S      seconds a client may take to send a request's headers
                                           and body; slower connections are closed, one that
                                           sends nothing too (KIT_REQUEST_TIMEOUT, default %6$d)
                  --log-level LEVEL        trace, debug, info, warn, error or off, to stderr: the
                                           start-up line and each failed request at info
                                           (KIT_LOG_LEVEL, default info)
                  -h, --help               this text
                """.formatted(version, defaultPort(version), DatabaseUrl.LOCAL_DEFAULT, DEFAULT_HASH_ITERATIONS, AppRoles.defaultRole(version),
                DEFAULT_REQUEST_TIMEOUT_SECONDS, DEFAULT_POOL_TIMEOUT_MILLIS, DEFAULT_READ_WAIT_MILLIS);
    }
}
