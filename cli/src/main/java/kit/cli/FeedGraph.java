package kit.cli;

import kit.client.KitName;
import kit.types.State;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * The feed graph of {@code kit status --format mermaid}: write tables feed read versions (one arrow
 * per feed, labelled with its kind), read versions serve the schema versions that read them (a solid
 * arrow to a live schema version, a dotted one otherwise), each read and schema version with its
 * state. GitHub renders it in a {@code ```mermaid} block; nothing in it changes between two runs on
 * the same catalog (no times, no row counts), so the README's copy can be checked against a real run.
 */
final class FeedGraph {

    private FeedGraph() {
    }

    static String render(StatusReport report) {
        Map<String, String> writeIds = new HashMap<>();
        Map<String, String> readIds = new HashMap<>();
        StringBuilder out = new StringBuilder("flowchart LR\n");
        out.append("  subgraph write_tables[\"write tables\"]\n");
        List<StatusReport.WriteTable> writes = report.writeTables();
        for (int i = 0; i < writes.size(); i++) {
            writeIds.put(writes.get(i).table(), "w" + i);
            out.append("    w").append(i).append(label(writes.get(i).table())).append('\n');
        }
        out.append("  end\n  subgraph read_versions[\"read versions\"]\n");
        List<StatusReport.ReadVersion> reads = report.readVersions();
        for (int i = 0; i < reads.size(); i++) {
            var v = reads.get(i);
            readIds.put(v.table(), "r" + i);
            out.append("    r").append(i).append(label(v.table() + "<br/>" + v.state()
                    + (v.rebuildOf() == null ? "" : " (rebuild of " + v.rebuildOf() + ")"))).append('\n');
        }
        out.append("  end\n  subgraph schema_versions[\"schema versions\"]\n");
        List<StatusReport.SchemaVersion> versions = report.schemaVersions();
        for (int i = 0; i < versions.size(); i++) {
            var s = versions.get(i);
            String domain = KitName.PUBLIC.equals(s.domain()) ? "" : s.domain() + " ";
            out.append("    s").append(i).append(label(domain + "version " + s.version() + "<br/>" + s.state())).append('\n');
        }
        out.append("  end\n");
        for (var v : reads) {
            for (var f : v.feeds()) {
                String kind = f.kind() + (f.keyColumn() == null ? "" : " by " + f.keyColumn());
                out.append("  ").append(writeIds.get(f.writeTable())).append(" -->|").append(escape(kind)).append("| ")
                        .append(readIds.get(v.table())).append('\n');
            }
        }
        for (int i = 0; i < versions.size(); i++) {
            var s = versions.get(i);
            for (String read : s.readTables()) {
                out.append("  ").append(readIds.get(read)).append(s.state() == State.LIVE ? " --> " : " -.-> ")
                        .append('s').append(i).append('\n');
            }
        }
        out.append("  classDef retired stroke-dasharray: 4 4,color:#888\n");
        out.append("  classDef building stroke-dasharray: 2 2\n");
        classes(out, "retired", reads, report.schemaVersions(), State.RETIRED, State.ABORTED);
        classes(out, "building", reads, report.schemaVersions(), State.BUILDING);
        return out.toString();
    }

    private static void classes(StringBuilder out, String name, List<StatusReport.ReadVersion> reads,
                                List<StatusReport.SchemaVersion> schemas, State... states) {
        List<State> of = List.of(states);
        String nodes = Stream.concat(
                IntStream.range(0, reads.size()).filter(i -> of.contains(reads.get(i).state())).mapToObj(i -> "r" + i),
                IntStream.range(0, schemas.size()).filter(i -> of.contains(schemas.get(i).state())).mapToObj(i -> "s" + i))
                .collect(Collectors.joining(","));
        if (!nodes.isEmpty()) {
            out.append("  class ").append(nodes).append(' ').append(name).append('\n');
        }
    }

    /** A node's text, quoted; node ids are the graph's own (w0, r1, s3), so any table name is safe. */
    private static String label(String text) {
        return "[\"" + escape(text) + "\"]";
    }

    private static String escape(String text) {
        return text.replace("\"", "#quot;").replace("|", "#124;");
    }
}
