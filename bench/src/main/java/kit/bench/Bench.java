package kit.bench;

import kit.console.LogLevel;
import kit.server.PostgresServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
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

    /** The usage, from the file that ./run also prints for --help without building first. */
    static final String USAGE = usage();


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

    private static String usage() {
        try (var in = Bench.class.getResourceAsStream("bench-usage.txt")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).stripTrailing();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
