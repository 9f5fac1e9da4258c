package kit.tests;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Writers that keep writing, each on its own connection, until stopped: the
 * load under which a migration or an upgrade must not make a write fail.
 * Every failed write is kept, with its SQLSTATE.
 */
final class BackgroundWriters implements AutoCloseable {

    /** Opens a writer's connection. */
    @FunctionalInterface
    interface Connector {
        Connection open() throws SQLException;
    }

    /** One write of writer {@code writer}, its {@code n}-th. */
    @FunctionalInterface
    interface Write {
        void run(Connection c, int writer, int n) throws SQLException;
    }

    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicInteger written = new AtomicInteger();
    private final List<String> failures = Collections.synchronizedList(new ArrayList<>());
    private final ExecutorService pool;
    private final List<Future<?>> running = new ArrayList<>();

    BackgroundWriters(int writers, Connector connector, Write write) {
        pool = Executors.newFixedThreadPool(writers);
        for (int w = 0; w < writers; w++) {
            int writer = w;
            running.add(pool.submit(() -> {
                try (Connection c = connector.open()) {
                    for (int n = 0; !stop.get(); n++) {
                        try {
                            write.run(c, writer, n);
                            written.incrementAndGet();
                        } catch (SQLException e) {
                            failures.add(e.getSQLState() + " " + e.getMessage());
                        }
                    }
                }
                return null;
            }));
        }
    }

    /** Writes that succeeded so far. */
    int written() {
        return written.get();
    }

    /** Waits until {@code count} writes succeeded in all, for at most a minute; fails naming what it waited for. */
    void awaitWrites(int count) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (written.get() < count) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("Waited a minute for " + count + " writes of the background writers; "
                        + written.get() + " succeeded, " + failures.size() + " failed" + (failures.isEmpty() ? "" : ": " + failures.getFirst()));
            }
            Thread.sleep(10);
        }
    }

    /** Stops every writer and waits for it; returns the failed writes. */
    List<String> stop() throws Exception {
        stop.set(true);
        for (Future<?> f : running) {
            f.get();
        }
        pool.shutdown();
        return List.copyOf(failures);
    }

    @Override
    public void close() {
        stop.set(true);
        pool.shutdownNow();
    }
}
