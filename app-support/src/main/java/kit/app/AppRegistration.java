package kit.app;

import org.jooq.DSLContext;
import org.jooq.exception.DataAccessException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * This app server's registration on the primary ({@code kit.register_app}): a row that says the
 * server runs, which version it serves and where it reads, for a {@link #LEASE} it renews every
 * {@link #RENEW_EVERY} and gives back when it stops. A retirement refuses while it holds: an app
 * that reads from a replica needs its read tables there, where the primary sees none of its
 * sessions. A server that is killed holds its version until the lease ends.
 */
final class AppRegistration implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AppRegistration.class);

    static final Duration LEASE = Duration.ofSeconds(30);
    static final Duration RENEW_EVERY = Duration.ofSeconds(10);
    /**
     * Where the database has nothing to register with (a kit before 0.10.0, no kit): the start-up gate,
     * which runs next, says what is wrong, or the app runs unregistered under an older kit, whose
     * retirements see its sessions only.
     */
    private static final Set<String> NO_REGISTRATIONS = Set.of("42883", "3F000");
    /**
     * Where this app may not register (its version has no app role here, or is retired; the login may
     * not act as its role; the kit's table of registrations is gone, 42P01, which kit status and a
     * retirement fail on too): said in a warning, as a retirement will not see an app that reads
     * elsewhere; the start-up gate, which runs next, refuses a version that is not live.
     */
    private static final Set<String> REFUSED = Set.of("42501", "KT006", "42P01");

    private final DSLContext db;
    private final AppConfig config;
    private final String instance;
    private final String readsFrom;
    private final ScheduledExecutorService renewals;
    private volatile boolean failing;

    private AppRegistration(DSLContext db, AppConfig config, String instance, String readsFrom) {
        this.db = db;
        this.config = config;
        this.instance = instance;
        this.readsFrom = readsFrom;
        this.renewals = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, config.applicationName() + "-registration");
            t.setDaemon(true);
            return t;
        });
    }

    /** Registers the app and renews it from now on; a database that cannot register apps is left alone. */
    static AppRegistration start(DSLContext db, AppConfig config) {
        String readsFrom = config.readReplica().map(r -> "replica " + r.hostAndPort() + "/" + r.database()).orElse("primary");
        String instance = config.applicationName() + "@" + host() + ":" + ProcessHandle.current().pid() + "/"
                + UUID.randomUUID().toString().substring(0, 8);
        AppRegistration registration = new AppRegistration(db, config, instance, readsFrom);
        try {
            registration.register();
        } catch (DataAccessException e) {
            if (NO_REGISTRATIONS.contains(e.sqlState()) || REFUSED.contains(e.sqlState())) {
                // A retired or aborted version: the gate that runs next says so, and the app does not start.
                if (REFUSED.contains(e.sqlState()) && !firstLine(e).contains("no app of it can run")) {
                    LOG.warn("{}: not registered on the primary ({}); a retirement sees this app only by its sessions there",
                            config.applicationName(), firstLine(e));
                } else {
                    LOG.debug("{} not registered: {}", config.applicationName(), e.getMessage());
                }
                registration.renewals.shutdown();
                return registration;
            }
            registration.renewals.shutdown();
            throw e;
        }
        registration.renewals.scheduleWithFixedDelay(registration::renew, RENEW_EVERY.toMillis(), RENEW_EVERY.toMillis(), TimeUnit.MILLISECONDS);
        return registration;
    }

    /** The name the app registered under, as kit status shows it. */
    String instance() {
        return instance;
    }

    private void register() {
        db.resultQuery("SELECT kit.register_app({0}, {1}, {2}, {3}, {4}::interval)",
                config.version(), SchemaGate.DOMAIN, instance, readsFrom, LEASE.toSeconds() + " seconds").fetch();
    }

    private void renew() {
        try {
            register();
            if (failing) {
                LOG.info("{}: registration {} renewed again", config.applicationName(), instance);
                failing = false;
            }
        } catch (RuntimeException e) {
            if (!failing) {
                // Once per streak: a database that is down says so in every request's answer already.
                LOG.warn("{}: could not renew registration {} on the primary ({}); a retirement may stop seeing this app "
                        + "once its lease of {} s ends", config.applicationName(), instance, e.getMessage(), LEASE.toSeconds());
                failing = true;
            }
        }
    }

    @Override
    public void close() {
        if (renewals.isShutdown()) {
            return;
        }
        renewals.shutdownNow();
        try {
            db.resultQuery("SELECT kit.unregister_app({0})", instance).fetch();
        } catch (RuntimeException e) {
            LOG.warn("{}: could not give back registration {} ({}); it ends with its lease", config.applicationName(), instance, e.getMessage());
        }
    }

    private static String firstLine(DataAccessException e) {
        Throwable cause = e.getCause() == null ? e : e.getCause();
        return SchemaGate.firstLine(cause.getMessage() == null ? cause.toString() : cause.getMessage());
    }

    private static String host() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "unknown-host";
        }
    }
}
