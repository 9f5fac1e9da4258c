package kit.tests;

import kit.testing.TestDatabase;

import java.sql.Connection;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static kit.client.Jdbc.exec;
import static kit.tests.Sql.value;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Forced races between two writers: the earlier fact (lower seq) is held back after taking its
 * seq, and the later fact commits first, the order a replay never sees.
 */
final class Races {

    private static final AtomicInteger GATES = new AtomicInteger(4300);

    private Races() {
    }

    /**
     * Runs {@code early}, an INSERT whose facts come from {@code generate_series(1, 2) AS g} and
     * whose second row waits at {@code {gate}} (write its WHERE as {@code g = 1 OR {gate}}): its
     * first fact takes its seq, then it waits, the statement's trigger not yet run. Then
     * {@code late} commits, and the gate opens. Returns what {@code early} threw, or null.
     */
    static Throwable earlyCommitsLast(TestDatabase db, String early, String late, Object... lateParams) throws Exception {
        int gateKey = GATES.getAndIncrement();
        String gated = early.replace("{gate}", "(SELECT true FROM pg_advisory_lock_shared(" + gateKey + "))");
        try (Connection gate = db.connect(); Connection earlyWriter = db.connect(); Connection lateWriter = db.connect()) {
            exec(gate, "SELECT pg_advisory_lock(?)", gateKey);
            int earlyPid = (Integer) value(earlyWriter, "SELECT pg_backend_pid()");
            CompletableFuture<Throwable> earlyInsert = CompletableFuture.supplyAsync(() -> catchThrowable(() -> exec(earlyWriter, gated)));
            awaitLockWait(gate, earlyPid);
            exec(lateWriter, late, lateParams);
            exec(gate, "SELECT pg_advisory_unlock(?)", gateKey);
            return earlyInsert.get(30, TimeUnit.SECONDS);
        }
    }

    /** Waits (at most 6 s) until session {@code pid} waits for a lock. */
    static void awaitLockWait(Connection observer, int pid) throws Exception {
        for (int i = 0; i < 300; i++) {
            if (Boolean.TRUE.equals(value(observer, "SELECT coalesce(wait_event_type = 'Lock', false) FROM pg_stat_activity WHERE pid = ?", pid))) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the early insert never reached the gate (pid " + pid + ")");
    }
}
