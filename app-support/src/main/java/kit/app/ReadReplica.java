package kit.app;

import org.jooq.DSLContext;
import org.jooq.impl.DSL;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where an app's reads go when it has a streaming replica ({@code --read-db-url}), and what each
 * read waits for there. A physical replica replays the primary's WAL in order, so a read sees a
 * write once {@code pg_last_wal_replay_lsn()} has reached the LSN the primary's WAL had when that
 * write committed. Three kinds of reads:
 *
 * <ul>
 *   <li>a log-in is a decision about a password: it waits for the replica to replay everything the
 *       primary had written when the log-in began, so that a password changed through any app, a
 *       moment ago, is refused everywhere;</li>
 *   <li>any other read waits for the writes this app made (a registration then a read of the user)
 *       and for the LSN the client names in a {@value #LSN_HEADER} header, which every write's
 *       answer carries: a client that sends back the last one it got reads its own writes through
 *       any app;</li>
 *   <li>without a replica there is nothing to wait for ({@link #NONE}).</li>
 * </ul>
 *
 * A wait is bounded ({@code --read-wait-ms}); a replica that is further behind is answered 503
 * {@code replica_behind}, never with stale data.
 */
public final class ReadReplica {

    /** The header of a write's answer that holds its LSN, and of a read that must see it. */
    public static final String LSN_HEADER = "Kit-LSN";

    /** pg_lsn's text: two hexadecimal halves of at most 32 bits each. */
    private static final java.util.regex.Pattern LSN = java.util.regex.Pattern.compile("[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}");

    /** An app that reads from the primary: every read sees every committed write already. */
    public static final ReadReplica NONE = new ReadReplica();

    private final DSLContext primary;
    private final DSLContext replica;
    private final Duration wait;
    /** The WAL position after this app's last write. */
    private final AtomicLong ownWrites = new AtomicLong();
    /** The highest position the replica was seen to have replayed: a read that needs no more asks nothing. */
    private final AtomicLong replayed = new AtomicLong();

    private ReadReplica() {
        this.primary = null;
        this.replica = null;
        this.wait = Duration.ZERO;
    }

    ReadReplica(DSLContext primary, DSLContext replica, Duration wait) {
        this.primary = primary;
        this.replica = replica;
        this.wait = wait;
    }

    /** Whether reads go to a replica. */
    public boolean enabled() {
        return replica != null;
    }

    /**
     * After a write has committed: the primary's WAL position now, which is past the write's commit
     * record, as text for the {@value #LSN_HEADER} header; null without a replica.
     */
    public String written() {
        if (!enabled()) {
            return null;
        }
        long lsn = primaryPosition();
        ownWrites.accumulateAndGet(lsn, ReadReplica::later);
        return format(lsn);
    }

    /** Before a read: waits for this app's writes and for {@code clientLsn} (the request's header, or null). */
    public void awaitWritesSeen(String clientLsn) {
        if (!enabled()) {
            return;
        }
        long needed = ownWrites.get();
        if (clientLsn != null && !clientLsn.isBlank()) {
            needed = later(needed, parse(clientLsn));
        }
        await(needed, "the writes this read must see");
    }

    /** Before a log-in: waits for everything committed on the primary so far. */
    public void awaitPrimary() {
        if (enabled()) {
            await(primaryPosition(), "every write committed before this log-in");
        }
    }

    /** Whether the replica answers now (for /health); false when no pooled connection to it works. */
    boolean reachable() {
        try {
            replayPosition();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * At start: the replica must be one (in recovery) and follow this primary (replay its position
     * within {@code timeout}); otherwise the app refuses to start, saying which.
     */
    void requireFollowing(Duration timeout) {
        if (!replica.select(DSL.field("pg_is_in_recovery()", Boolean.class)).fetchSingle().value1()) {
            throw new IllegalStateException("--read-db-url does not name a streaming replica (pg_is_in_recovery() is false there): "
                    + "reads from it would not follow the primary's writes. Name a physical standby of --db-url, or leave it out.");
        }
        // A physical replica is a copy of the primary's whole cluster: the same system identifier, and
        // the same database under the same oid. Anything else serves other data, however far it replays.
        String onPrimary = identity(primary);
        String onReplica = identity(replica);
        if (!onPrimary.equals(onReplica)) {
            throw new IllegalStateException("--read-db-url is not a replica of --db-url's database: it is " + onReplica
                    + ", the primary's is " + onPrimary + ". Name the same database on a physical standby of --db-url's server.");
        }
        long needed = primaryPosition();
        if (!reached(needed, timeout)) {
            throw new IllegalStateException("the replica at --read-db-url has not replayed the primary's WAL up to " + format(needed)
                    + " within " + timeout.toMillis() + " ms (it is at " + format(replayed.get())
                    + "): is its replay paused (pg_wal_replay_pause), or is it not streaming?");
        }
    }

    /** Which database of which cluster a connection reaches: the same on a primary and its physical replicas. */
    private static String identity(DSLContext db) {
        return db.select(DSL.field("format('database %s (oid %s) of the cluster with system identifier %s', current_database(), "
                        + "(SELECT d.oid FROM pg_database d WHERE d.datname = current_database()), "
                        + "(SELECT c.system_identifier FROM pg_control_system() c))", String.class))
                .fetchSingle().value1();
    }

    private void await(long needed, String what) {
        if (!reached(needed, wait)) {
            throw new ApiException(503, "replica_behind", "The read replica has not replayed " + what + " (WAL " + format(needed)
                    + ") within " + wait.toMillis() + " ms; it is at " + format(replayed.get()) + ". Try again.", 1);
        }
    }

    /** Whether the replica replays {@code needed} within {@code timeout}, asking it no more often than every few ms. */
    private boolean reached(long needed, Duration timeout) {
        if (Long.compareUnsigned(replayed.get(), needed) >= 0) {
            return true;
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        long pause = 1;
        while (true) {
            long now = replayPosition();
            replayed.accumulateAndGet(now, ReadReplica::later);
            if (Long.compareUnsigned(now, needed) >= 0) {
                return true;
            }
            if (System.nanoTime() >= deadline) {
                return false;
            }
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
            pause = Math.min(pause * 2, 20);
        }
    }

    private long primaryPosition() {
        // The insert position, not the write one: it is past every commit record already made,
        // flushed or not (an asynchronous commit's too).
        return parse(primary.select(DSL.field("pg_current_wal_insert_lsn()::text", String.class)).fetchSingle().value1());
    }

    private long replayPosition() {
        String lsn = replica.select(DSL.field("pg_last_wal_replay_lsn()::text", String.class)).fetchSingle().value1();
        return lsn == null ? 0 : parse(lsn);
    }

    /** An LSN's text form, {@code 16/B374D848}, as the unsigned 64-bit number it is; a client's bad header is a 400. */
    static long parse(String lsn) {
        if (!LSN.matcher(lsn).matches()) {
            throw ApiException.badRequest("invalid_header", "Header " + LSN_HEADER + " must be a WAL position such as 0/16B3748, as a write's answer gives it.");
        }
        int slash = lsn.indexOf('/');
        return (Long.parseLong(lsn.substring(0, slash), 16) << 32) | Long.parseLong(lsn.substring(slash + 1), 16);
    }

    /** Of two WAL positions, the later: they are unsigned. */
    static long later(long a, long b) {
        return Long.compareUnsigned(a, b) >= 0 ? a : b;
    }

    /** Of two WAL positions as a write's answer gives them (16/B374D848), the later; a null one is none. */
    public static String later(String a, String b) {
        if (a == null || b == null) {
            return a == null ? b : a;
        }
        return later(parse(a), parse(b)) == parse(a) ? a : b;
    }

    static String format(long lsn) {
        return Long.toHexString(lsn >>> 32).toUpperCase() + "/" + Long.toHexString(lsn & 0xFFFFFFFFL).toUpperCase();
    }
}
