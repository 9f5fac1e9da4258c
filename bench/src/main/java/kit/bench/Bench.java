package kit.bench;

import kit.console.LogLevel;
import kit.server.PostgresServer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The benchmark: the kit's write path, backfill, version changes and the apps,
 * each reported as a ratio of two rates measured side by side in this run on
 * this server (machines here are shared and noisy; absolute numbers mean
 * little). Prints a table and writes bench/target/bench-results.csv and
 * bench/target/bench-ratios.svg.
 */
public final class Bench {

    /** The number of figures, as the usage lists them. */
    static final int FIGURES = 17;

    static final String USAGE = """
            Usage: ./run bench [--full] [--seconds N] [--only N[,N...]] [--out DIR]

            Measures, on the embedded PostgreSQL (or the server in KIT_DB_URL):
              1. the write path, one fact per transaction, R = 1, 2, 3 live read versions / a plain table (1 and 8 clients)
              2. the same with batches of 100 facts per statement
              3. the trigger path / the application writing the fact and 3 read rows itself
              4. password changes (R = 1, 3) / a plain UPDATE of one row
              5. backfill of a new read version / a set-based INSERT ... SELECT (10k, 100k; 1M with --full)
              6. a steady writer's latency while a read version is added and while one is retired
              7. app-v2 over HTTP: registrations, logins, reads, and the password hash's cost
              8. the id rule's trigger / DEFAULT nextval()
              9. R = 3 / a plain table and / the app writing the same rows in one statement, synchronous commit on and off
             10. feeds inlined in the trigger / 0.2.0's array of facts and a projection call per feed
             11. naming rejected facts: ON CONFLICT + count / plain INSERT and / an EXCEPTION block
             12. the feed trigger statement-level / row-level
             13. each feed kind (computed columns and a filter, accumulate, upsert, sql, delete) / the same rows by hand in one statement
             14. R = 3 with plain INSERTs and ids by DEFAULT (both levers) and as it is / the app writing the same rows in one statement
             15. the feed trigger with its pinned settings (kit.fact_settings) / with its search_path alone
             16. an existing table brought under the kit (kit.baseline and its backfill) / INSERT ... SELECT of its rows,
                 and the longest update of that table while it is brought under the kit
             17. R = 3 into a write table partitioned by seq range / the same table plain (side by side)
            The quick size (default) takes about 2-3 minutes; --full measures longer and up to 1M facts.

              --full         10 s per measurement and backfills up to 1,000,000 facts
              --seconds N    seconds per measurement (default 2, or 10 with --full)
              --only N,...   measure only these figures (numbers above; 1 and 2 are measured together)
              --out DIR      where the CSV and SVG go (default bench/target)""";

    public static void main(String[] args) throws Exception {
        LogLevel.apply(System.getenv().getOrDefault(LogLevel.VARIABLE, "warn"));
        boolean full = false;
        double seconds = -1;
        Path outDir = Path.of("bench/target");
        Set<Integer> only = Set.of();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--full" -> full = true;
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--out" -> outDir = Path.of(args[++i]);
                case "--only" -> only = figureNumbers(args[++i]);
                case "-h", "--help" -> {
                    System.out.println(USAGE);
                    return;
                }
                default -> {
                    System.err.println("bench: unknown option " + args[i] + "\n\n" + USAGE);
                    System.exit(2);
                }
            }
        }
        if (seconds <= 0) {
            seconds = full ? 10 : 2;
        }
        List<Integer> sizes = full ? List.of(10_000, 100_000, 1_000_000) : List.of(10_000, 100_000);
        List<Figure> figures = run(seconds, sizes, only, outDir);
        System.exit(figures.isEmpty() ? 1 : 0);
    }

    /** The figure numbers of --only's argument ("17", "3,16"); exits with the usage on anything else. */
    private static Set<Integer> figureNumbers(String list) {
        Set<Integer> numbers = new TreeSet<>();
        for (String number : list.split(",")) {
            try {
                int figure = Integer.parseInt(number.trim());
                if (figure < 1 || figure > FIGURES) {
                    throw new NumberFormatException();
                }
                numbers.add(figure);
            } catch (NumberFormatException e) {
                System.err.println("bench: --only takes figure numbers from 1 to " + FIGURES + ", comma-separated (given: " + list + ")\n\n" + USAGE);
                System.exit(2);
            }
        }
        return numbers;
    }

    /** Runs every measurement; returns the figures (also printed and written to outDir). */
    static List<Figure> run(double seconds, List<Integer> backfillSizes, Path outDir) throws Exception {
        return run(seconds, backfillSizes, Set.of(), outDir);
    }

    /**
     * Runs the measurements of the figures in {@code only} (all of them when it is empty); returns the
     * figures (also printed and written to outDir).
     */
    static List<Figure> run(double seconds, List<Integer> backfillSizes, Set<Integer> only, Path outDir) throws Exception {
        System.setProperty("org.jooq.no-logo", "true");
        System.setProperty("org.jooq.no-tips", "true");
        List<Figure> figures = new ArrayList<>();
        long started = System.nanoTime();
        try (PostgresServer server = PostgresServer.fromEnvironment()) {
            System.out.println("cqrs-kit benchmark on " + server.describe() + ", " + seconds + " s per measurement");
            Measurements m = new Measurements(server, seconds, backfillSizes, f -> {
                figures.add(f);
                System.out.printf("  %-45s %-42s %s%n", f.group(), f.name(),
                        Double.isNaN(f.ratio()) ? String.format("%.2f %s", f.value(), f.unit()) : String.format("%.2f  %s", f.ratio(), f.verdict()));
            });
            try {
                // Each step and the figures it measures (figure 1's step measures figure 2 too).
                List<Step> steps = List.of(m::writePath, m::writePath, m::againstTheAppWritingReadRows, m::passwordChanges, m::backfill,
                        m::writerStall, m::apps, m::idAssignment, m::againstTheCheapestWayToWriteTheSameRows,
                        m::inlineFeedsAgainstProjectionCalls, m::rejection, m::rowAgainstStatementTrigger, m::feedKinds, m::bothLevers, m::pinnedSettings, m::baseline,
                        m::partitionedWriteTable);
                for (int figure = 1; figure <= FIGURES; figure++) {
                    boolean asked = only.isEmpty() || only.contains(figure) || figure == 1 && only.contains(2);
                    if (asked && figure != 2) {
                        steps.get(figure - 1).run();
                    }
                }
            } finally {
                m.dropAll();
            }
        }
        Files.createDirectories(outDir);
        String title = "cqrs-kit benchmark, " + LocalDate.now() + " (" + Runtime.getRuntime().availableProcessors() + " cores)";
        Report.csv(figures, outDir.resolve("bench-results.csv"));
        Report.svg(figures, outDir.resolve("bench-ratios.svg"), title);
        System.out.println();
        System.out.println(title);
        System.out.print(Report.table(figures));
        System.out.printf("%nWrote %s and %s (%.0f s)%n", outDir.resolve("bench-results.csv"), outDir.resolve("bench-ratios.svg"),
                (System.nanoTime() - started) / 1e9);
        return figures;
    }

    private interface Step {
        void run() throws Exception;
    }
}
