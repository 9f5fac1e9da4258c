package kit.cli;

import kit.catalog.tables.records.VerifyReadTableRecord;
import org.jooq.exception.DataAccessException;
import org.postgresql.util.PSQLException;
import tools.jackson.databind.JsonNode;

import java.sql.SQLException;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What {@code kit verify} found, as text and as the documented shape of {@code kit verify --format json}.
 *
 * @param exitStatus 1 on drift, a table that differs from its facts, or a security finding
 */
record VerifyReport(int formatVersion, String command, String database, List<DriftFinding> drift, List<TableCheck> tables,
                    List<SecurityFinding> security, int exitStatus) {

    /**
     * One live read table against a replay of its facts. Counted among the rows listed (at most
     * {@code --max-rows}; {@code truncated} when there may be more): {@code missingRows}, ids only the
     * replay has; {@code extraRows}, ids only the live table has; {@code differingRows}, ids both have
     * with other values; {@code brokenFacts}, facts that break a rule of the table; {@code uncapturedRows},
     * for the read version of a table under capture (kit.baseline), the ids in which that table and the
     * read version differ (changes its capture missed).
     *
     * @param replayFails the replay stopped at a fact that breaks a rule it cannot skip (a CHECK, a NOT NULL)
     * @param capturedTable the table under capture (kit.baseline) it was also compared with; null when none
     * @param hint        what to do about it; null when ok
     */
    record TableCheck(String table, boolean ok, int missingRows, int extraRows, int differingRows, int brokenFacts,
                      boolean replayFails, int uncapturedRows, String capturedTable, boolean truncated, List<Difference> rows, String hint) {
    }

    /**
     * A row as verify lists it: {@code only in live}, {@code only in rebuild}, {@code fact breaks a rule},
     * {@code replay fails}, {@code only in the captured table} or {@code not in the captured table}.
     */
    record Difference(String difference, JsonNode row) {
    }

    /** @param captured the table under capture whose read version {@code table} is (kit.baseline), else null */
    static TableCheck check(String table, List<VerifyReadTableRecord> found, int maxRows, boolean drift, String captured) {
        List<Difference> rows = found.stream()
                .map(r -> new Difference(r.getDifference(), Json.MAPPER.readTree(r.getRowData().data()))).toList();
        Set<JsonNode> live = keys(rows, "only in live");
        Set<JsonNode> rebuilt = keys(rows, "only in rebuild");
        Set<JsonNode> both = new HashSet<>(live);
        both.retainAll(rebuilt);
        int broken = (int) rows.stream().filter(d -> d.difference().equals("fact breaks a rule")).count();
        boolean replayFails = rows.stream().anyMatch(d -> d.difference().equals("replay fails"));
        Set<JsonNode> uncaptured = keys(rows, "only in the captured table");
        uncaptured.addAll(keys(rows, "not in the captured table"));
        boolean ok = rows.isEmpty();
        boolean onlyUncaptured = rows.stream().allMatch(d -> d.difference().endsWith("the captured table"));
        String hint = ok ? null
                : onlyUncaptured && !drift ? "while the app still writes " + captured + ", these are changes its capture did not record (it was"
                        + " disabled or bypassed for a while): record them as facts with SELECT kit.recapture('" + captured + "'), then verify"
                        + " again. Once the app writes facts instead, " + captured + " is out of date: end its capture (kit.end_capture),"
                        + " never recapture it"
                : broken > 0 || replayFails ? "facts break a rule of " + table + " (written while the kit's triggers or a rule were off): no rebuild"
                        + " can complete; serve it from a new read version whose rules they satisfy (docs/operating.md, \"The kit command\")"
                : drift ? "the drift above comes first (kit repair): a rebuild now would replay through damaged tables or code"
                : "repair it with: kit rebuild " + table + " (if it differs again after, a feed of " + table
                        + " does not give the same rows twice: an expression or statement that reads the clock, random() or"
                        + " another table; serve it from a new read version whose feeds do)";
        return new TableCheck(table, ok, rebuilt.size() - both.size(), live.size() - both.size(), both.size(), broken,
                replayFails, uncaptured.size(), captured, rows.size() >= maxRows, rows, hint);
    }

    /** A table the kit refused to verify (KT006): not ok, with the kit's message and hint as what to do. */
    static TableCheck refused(String table, DataAccessException refusal) {
        SQLException cause = refusal.getCause(SQLException.class);
        String message = (cause != null ? cause.getMessage() : refusal.getMessage()).lines().findFirst().orElse("").replaceFirst("^ERROR: ", "");
        String hint = cause instanceof PSQLException p && p.getServerErrorMessage() != null ? p.getServerErrorMessage().getHint() : null;
        return new TableCheck(table, false, 0, 0, 0, 0, false, 0, null, false, List.of(), message + (hint == null ? "" : "; " + hint));
    }

    /** The ids of the rows listed as {@code difference} (read tables are keyed by id; a row without one stands for itself). */
    private static Set<JsonNode> keys(List<Difference> rows, String difference) {
        Set<JsonNode> keys = new HashSet<>();
        rows.stream().filter(d -> d.difference().equals(difference))
                .forEach(d -> keys.add(d.row().has("id") ? d.row().get("id") : d.row()));
        return keys;
    }
}
