package kit.bench;

import kit.client.DatabaseUrl;
import kit.client.Jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/** Runs an operation on N connections for a while and counts what got done, with per-operation latencies. */
final class Load {

    @FunctionalInterface
    interface Operation {
        /** One unit of work on this client's connection; returns how many facts it wrote. */
        int run(Connection c, int client, long n) throws SQLException;
    }

    /** Throughput and latency of one run. */
    record Result(long operations, long facts, double seconds, long[] latenciesNanos) {
        double factsPerSecond() {
            return facts / seconds;
        }

        double operationsPerSecond() {
            return operations / seconds;
        }

        double percentileMillis(double q) {
            if (latenciesNanos.length == 0) {
                return Double.NaN;
            }
            long[] sorted = latenciesNanos.clone();
            java.util.Arrays.sort(sorted);
            return sorted[(int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] / 1e6;
        }

        double maxMillis() {
            return latenciesNanos.length == 0 ? Double.NaN : java.util.Arrays.stream(latenciesNanos).max().getAsLong() / 1e6;
        }
    }

    private Load() {
    }

    static Result run(DatabaseUrl url, int clients, double seconds, Operation operation) throws Exception {
        return run(url, clients, seconds, operation, null);
    }

    /** Runs for `seconds`, or while `during` runs when it is given (then `seconds` is the time before and after it). */
    static Result run(DatabaseUrl url, int clients, double seconds, Operation operation, Runnable during) throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        List<Thread> threads = new ArrayList<>();
        List<long[]> counts = new ArrayList<>();
        List<List<Long>> latencies = new ArrayList<>();
        List<Exception> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < clients; i++) {
            int client = i;
            long[] count = new long[2];
            List<Long> latency = new ArrayList<>();
            counts.add(count);
            latencies.add(latency);
            threads.add(Thread.ofPlatform().name("bench-client-" + i).start(() -> {
                try (Connection c = Jdbc.connect(url)) {
                    for (long n = 0; running.get(); n++) {
                        long t = System.nanoTime();
                        count[1] += operation.run(c, client, n);
                        latency.add(System.nanoTime() - t);
                        count[0]++;
                    }
                } catch (Exception e) {
                    failures.add(e);
                }
            }));
        }
        long started = System.nanoTime();
        if (during == null) {
            Thread.sleep((long) (seconds * 1000));
        } else {
            Thread.sleep((long) (seconds * 500));
            during.run();
            Thread.sleep((long) (seconds * 500));
        }
        running.set(false);
        for (Thread t : threads) {
            t.join();
        }
        double elapsed = (System.nanoTime() - started) / 1e9;
        if (!failures.isEmpty()) {
            throw new IllegalStateException("a benchmark client failed: " + failures.getFirst(), failures.getFirst());
        }
        long operations = counts.stream().mapToLong(c -> c[0]).sum();
        long facts = counts.stream().mapToLong(c -> c[1]).sum();
        long[] all = latencies.stream().flatMap(List::stream).mapToLong(Long::longValue).toArray();
        return new Result(operations, facts, elapsed, all);
    }
}
