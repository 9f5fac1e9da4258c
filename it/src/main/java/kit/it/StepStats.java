package kit.it;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;

/** What the load generator saw during one step of the demo. */
public final class StepStats {

    private final String name;
    private final Map<Integer, LongAdder> requestsByVersion = new ConcurrentHashMap<>();
    private final LongAdder unexpected = new LongAdder();
    private final LongAdder tolerated = new LongAdder();
    private final ConcurrentLinkedQueue<String> unexpectedExamples = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
    private final LongAccumulator longestWrite = new LongAccumulator(Math::max, 0);
    private volatile long migrationMillis = -1;

    public StepStats(String name) {
        this.name = name;
    }

    void record(int version, long nanos, boolean write, String unexpectedWhat) {
        requestsByVersion.computeIfAbsent(version, v -> new LongAdder()).increment();
        latencies.add(nanos);
        if (write) {
            longestWrite.accumulate(nanos);
        }
        if (unexpectedWhat != null) {
            unexpected.increment();
            if (unexpectedExamples.size() < 5) {
                unexpectedExamples.add("app-v" + version + ": " + unexpectedWhat);
            }
        }
    }

    /** A request that failed while its app or the database was known to be down. */
    void tolerate(int version, long nanos) {
        requestsByVersion.computeIfAbsent(version, v -> new LongAdder()).increment();
        tolerated.increment();
    }

    public long tolerated() {
        return tolerated.sum();
    }

    public void migrationTook(long millis) {
        this.migrationMillis = millis;
    }

    public String name() {
        return name;
    }

    public long requests() {
        return requestsByVersion.values().stream().mapToLong(LongAdder::sum).sum();
    }

    public Map<Integer, Long> requestsByVersion() {
        Map<Integer, Long> counts = new TreeMap<>();
        requestsByVersion.forEach((v, n) -> counts.put(v, n.sum()));
        return counts;
    }

    public long unexpected() {
        return unexpected.sum();
    }

    public List<String> unexpectedExamples() {
        return List.copyOf(unexpectedExamples);
    }

    public long migrationMillis() {
        return migrationMillis;
    }

    public double longestWriteMillis() {
        return longestWrite.get() / 1e6;
    }

    /** The q-quantile of request latency in milliseconds (q = 0.5, 0.99, ...), or NaN without requests. */
    public double latencyMillis(double q) {
        List<Long> sorted = new ArrayList<>(latencies);
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        sorted.sort(null);
        int index = (int) Math.min(sorted.size() - 1, Math.ceil(q * sorted.size()) - 1);
        return sorted.get(Math.max(0, index)) / 1e6;
    }
}
