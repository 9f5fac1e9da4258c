package kit.cli;

import kit.client.Catalog;
import kit.console.TextTable;
import kit.types.State;

import java.sql.Connection;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** The kit's catalog as an operator reads it: schema versions, read versions, feeds and row counts. */
public final class CatalogReport {

    private static final String INDENT = "  ";
    private static final DateTimeFormatter SINCE = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    private CatalogReport() {
    }

    /** The catalog of the database {@code c} is connected to, read from one snapshot. */
    public static String render(Connection c) {
        return text(StatusReport.inOneSnapshot(Catalog.of(c), db -> StatusReport.read(db, false)));
    }

    static String text(StatusReport report) {
        return "Schema versions\n" + schemaVersions(report) + "\nRead versions\n" + readVersions(report)
                + "\nFeeds (write table -> read table)\n" + feeds(report) + "\nRow counts\n" + rowCounts(report)
                + partitions(report);
    }

    /** The write tables partitioned by seq, and what needs doing about them; nothing when there are none. */
    private static String partitions(StatusReport report) {
        TextTable table = new TextTable("write table", "seqs a partition", "partitions", "up to seq", "default partition", "seqs missing");
        report.writeTables().stream().filter(w -> w.partitions() != null).forEach(w -> {
            var p = w.partitions();
            table.row(w.table(), p.partitionSize(), p.attached(), p.upToSeq(),
                    switch (p.defaultPartition()) {
                        case "holds facts" -> "HOLDS FACTS: run SELECT kit.add_partitions() (and schedule it)";
                        case "missing" -> "MISSING: kit repair";
                        default -> p.defaultPartition();
                    },
                    p.missingSeqs() == null ? "none"
                            : p.missingSeqs() + " (detached: backfill, rebuild and verify of its read versions refuse until attached)");
        });
        return report.writeTables().stream().anyMatch(w -> w.partitions() != null)
                ? "\nPartitioned write tables\n" + table.render(INDENT) : "";
    }

    private static String schemaVersions(StatusReport report) {
        TextTable table = new TextTable("domain", "version", "state", "reads");
        report.schemaVersions().forEach(v -> table.row(v.domain(), v.version(), v.state(), String.join(", ", v.readTables())));
        return table.render(INDENT);
    }

    private static String readVersions(StatusReport report) {
        TextTable table = new TextTable("read table", "entity", "state", "backfill", "since");
        report.readVersions().forEach(v -> {
            var backfill = v.backfill();
            table.row(v.table(), v.entity(),
                    v.state() + (v.rebuildOf() == null ? "" : " (rebuild of " + v.rebuildOf() + ")"),
                    switch (v.state()) {
                        case BUILDING -> backfill.appliedFacts() + " facts applied, " + backfill.remainingFacts() + " to go"
                                + (backfill.error() == null ? "" : "; FAILED " + since(backfill.failedAt()) + ": " + backfill.error());
                        case LIVE -> backfill.appliedFacts() == 0 ? "live from its start: nothing to backfill"
                                : backfill.appliedFacts() + " facts backfilled (by its last backfill or rebuild)";
                        case RETIRED, ABORTED -> null;
                    },
                    since(v.retiredAt() != null ? v.retiredAt() : v.liveAt() != null ? v.liveAt() : v.createdAt()));
        });
        return table.render(INDENT);
    }

    private static String feeds(StatusReport report) {
        TextTable table = new TextTable("write table", "read table", "kind", "projection function", "computes");
        report.readVersions().stream().sorted(Comparator.comparing(StatusReport.ReadVersion::table))
                .forEach(v -> v.feeds().forEach(f -> table.row(f.writeTable(), v.table(),
                        f.kind() + (f.keyColumn() == null ? "" : " by " + f.keyColumn()), f.projection(), computes(f))));
        return table.render(INDENT);
    }

    /** What a feed computes beyond copying same-named columns, on one line: its expressions and filter, or that it is a statement. */
    static String computes(StatusReport.Feed feed) {
        if (feed.statement() != null) {
            return "its own statement (--format json shows it)";
        }
        List<String> parts = new ArrayList<>();
        feed.columns().forEach((column, expression) -> parts.add(column + " = " + expression));
        String computed = String.join(", ", parts);
        if (feed.filter() != null) {
            computed += (computed.isEmpty() ? "" : " ") + "where " + feed.filter();
        }
        return computed.replaceAll("\\s+", " ");
    }

    private static String rowCounts(StatusReport report) {
        TextTable table = new TextTable("table", "kind", "rows");
        report.writeTables().forEach(w -> table.row(w.table(), "write", new RowCount(w.rows(), w.rowsEstimated()).text()));
        report.readVersions().stream().filter(v -> v.state() == State.BUILDING || v.state() == State.LIVE)
                .sorted(Comparator.comparing(StatusReport.ReadVersion::table))
                .forEach(v -> table.row(v.table(), "read", new RowCount(v.rows(), v.rowsEstimated()).text()));
        String counted = table.render(INDENT);
        if (report.rowsEstimatedFrom() != null && (report.writeTables().stream().anyMatch(StatusReport.WriteTable::rowsEstimated)
                || report.readVersions().stream().anyMatch(StatusReport.ReadVersion::rowsEstimated))) {
            counted += INDENT + "estimates: the planner's, for tables of about " + report.rowsEstimatedFrom()
                    + " rows or more; --exact counts them\n";
        }
        return counted;
    }

    /** In the operator's time zone. */
    private static String since(OffsetDateTime time) {
        return SINCE.format(time.atZoneSameInstant(ZoneId.systemDefault()));
    }
}
