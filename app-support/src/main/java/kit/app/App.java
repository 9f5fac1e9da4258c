package kit.app;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.pool.HikariPool;
import kit.client.DatabaseUrl;
import kit.console.LogLevel;
import kit.types.State;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.function.Function;

/**
 * One running app server: its connection pool (named {@code app-vN} in
 * {@code application_name}, which the tidy-up checks), the start-up gate, and
 * the HTTP API. {@link #main} is what each version's {@code Main} calls.
 */
public final class App implements AutoCloseable {

    private final AppConfig config;
    private final HikariDataSource pool;
    /** The replica's pool, or null when the app reads from the primary. */
    private final HikariDataSource readPool;
    private final AppRegistration registration;
    private final HttpApp http;
    private final int port;

    private App(AppConfig config, HikariDataSource pool, HikariDataSource readPool, AppRegistration registration, HttpApp http, int port) {
        this.config = config;
        this.pool = pool;
        this.readPool = readPool;
        this.registration = registration;
        this.http = http;
        this.port = port;
    }

    /** Starts the app, or fails with {@link SchemaGate.NotLiveException} / {@link IllegalStateException} saying why. */
    public static App start(AppConfig config, Function<DSLContext, Api.Stores> stores) throws IOException {
        System.setProperty("org.jooq.no-logo", "true");
        System.setProperty("org.jooq.no-tips", "true");
        HikariDataSource pool = pool(config);
        HikariDataSource readPool = null;
        AppRegistration registration = null;
        try {
            DSLContext db = DSL.using(pool, SQLDialect.POSTGRES);
            // Registered before the gate: a retirement that commits after the gate passed sees this app
            // and refuses; one that committed before it makes the gate refuse.
            registration = AppRegistration.start(db, config);
            // On the primary: the replica follows it, and a retirement there is what the gate waits for.
            SchemaGate.requireLive(db, config.version());
            Api.Stores writes = stores.apply(db);
            Api.Stores reads = writes;
            ReadReplica replica = ReadReplica.NONE;
            if (config.readReplica().isPresent()) {
                readPool = readPool(config);
                DSLContext replicaDb = DSL.using(readPool, SQLDialect.POSTGRES);
                replica = new ReadReplica(db, replicaDb, Duration.ofMillis(config.readWaitMillis()));
                replica.requireFollowing(Duration.ofSeconds(10));
                reads = stores.apply(replicaDb);
            }
            Api api = new Api(config, writes, reads, replica, new Passwords(config.hashIterations()), () -> {
                try {
                    return SchemaGate.state(db, config.version()).map(State::label).orElse("missing");
                } catch (RuntimeException e) {
                    if (ErrorMapper.poolExhausted(e)) {
                        // Busy, not down: answered 503 overloaded like any request, so that nobody restarts a busy app.
                        throw e;
                    }
                    return null;
                }
            });
            HttpApp http = api.routes(new HttpApp(config.maxBodyBytes(), Duration.ofSeconds(config.requestTimeoutSeconds()), new ErrorMapper()));
            int port = http.start(config.host(), config.port());
            return new App(config, pool, readPool, registration, http, port);
        } catch (RuntimeException | IOException e) {
            if (registration != null) {
                registration.close();
            }
            pool.close();
            if (readPool != null) {
                readPool.close();
            }
            throw e;
        }
    }

    /**
     * The replica's pool: the same role, no client registration (a standby takes no advisory
     * lock the primary's retirements could see; the app's registration on the primary stands for it).
     */
    private static HikariDataSource readPool(AppConfig config) {
        DatabaseUrl url = config.readReplica().orElseThrow();
        HikariConfig hikari = new HikariConfig();
        hikari.setJdbcUrl(url.with("ApplicationName", config.applicationName()).jdbc());
        hikari.setPoolName(config.applicationName() + "-reads");
        hikari.setMaximumPoolSize(config.poolSize());
        hikari.setConnectionTimeout(config.poolTimeoutMillis());
        hikari.setInitializationFailTimeout(5_000);
        hikari.setReadOnly(true);
        if (!config.databaseRole().isEmpty()) {
            hikari.setConnectionInitSql("SET ROLE " + config.databaseRole());
        }
        try {
            return new HikariDataSource(hikari);
        } catch (HikariPool.PoolInitializationException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new IllegalStateException("cannot connect to the read replica at " + url + ": " + cause.getMessage(), e);
        }
    }

    private static HikariDataSource pool(AppConfig config) {
        HikariConfig hikari = new HikariConfig();
        hikari.setJdbcUrl(config.databaseUrl().with("ApplicationName", config.applicationName()).jdbc());
        hikari.setPoolName(config.applicationName());
        hikari.setMaximumPoolSize(config.poolSize());
        hikari.setConnectionTimeout(config.poolTimeoutMillis());
        hikari.setInitializationFailTimeout(5_000);
        // Least privilege: whatever the login may do, the app acts as its version's role. Every
        // connection registers as a client of the version: a tidy-up sees a login's own roles, but
        // not what a session took with SET ROLE, and must not drop a table this app reads.
        hikari.setConnectionInitSql((config.databaseRole().isEmpty() ? "" : "SET ROLE " + config.databaseRole() + "; ")
                + registerClient(config.version()));
        try {
            return new HikariDataSource(hikari);
        } catch (HikariPool.PoolInitializationException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new IllegalStateException("cannot connect to the database at " + config.databaseUrl()
                    + (config.databaseRole().isEmpty() ? "" : " as role " + config.databaseRole()) + ": " + cause.getMessage()
                    + (cause.getMessage() != null && cause.getMessage().contains("role") ? " (create the role by migrating, or grant the login membership: see the README, 'Least privilege')" : ""), e);
        }
    }

    /**
     * Registers the session as a client of {@code version}. Where the version was not migrated into
     * this database (no kit, no grant, no app role) it registers nothing, so that the start-up gate,
     * which runs next, says why the app may not start instead of a failed pool.
     */
    static String registerClient(int version) {
        return "DO $$BEGIN PERFORM kit.register_client(" + version + ", '" + SchemaGate.DOMAIN + "'); "
                + "EXCEPTION WHEN invalid_schema_name OR undefined_function OR insufficient_privilege OR SQLSTATE 'KT006' THEN NULL; END$$";
    }

    public int port() {
        return port;
    }

    /** The name this server registered under on the primary (kit status, Registered apps). */
    public String instance() {
        return registration.instance();
    }

    @Override
    public void close() {
        http.close();
        registration.close();
        pool.close();
        if (readPool != null) {
            readPool.close();
        }
    }

    /** This build's version (the jar's manifest), or "development" when run from classes. */
    static String version() {
        String version = App.class.getPackage().getImplementationVersion();
        return version == null ? "development" : version;
    }

    /** Runs {@code appVersion} until stopped (SIGTERM or Ctrl-C); exits 2 on bad flags, 3 when it may not start. */
    public static void main(AppVersion appVersion, String[] args) {
        int version = appVersion.number();
        Function<DSLContext, Api.Stores> stores = appVersion::stores;
        AppConfig config;
        try {
            config = AppConfig.parse(version, args, System.getenv());
        } catch (AppConfig.UsageException e) {
            (e.exitStatus() == 0 ? System.out : System.err).println(e.getMessage());
            System.exit(e.exitStatus());
            return;
        }
        LogLevel.apply(config.logLevel());
        Logger log = LoggerFactory.getLogger(App.class);
        try {
            App app = start(config, stores);
            Runtime.getRuntime().addShutdownHook(new Thread(app::close, config.applicationName() + "-shutdown"));
            // The URL prints its password as ***.
            log.info("{} {} listening on http://{}:{} (database {}{}{}, schema version {} live)",
                    config.applicationName(), version(), config.host(), app.port(), config.databaseUrl(),
                    config.readReplica().map(r -> ", reads from the replica " + r).orElse(""),
                    config.databaseRole().isEmpty() ? "" : " as role " + config.databaseRole(), version);
        } catch (SchemaGate.NotLiveException | IllegalStateException e) {
            log.error("{}: refusing to start: {}", config.applicationName(), e.getMessage());
            System.exit(3);
        } catch (IOException e) {
            log.error("{}: cannot listen on {}:{}: {}", config.applicationName(), config.host(), config.port(), e.getMessage());
            System.exit(3);
        }
    }
}
