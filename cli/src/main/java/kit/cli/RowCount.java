package kit.cli;

import kit.client.KitName;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;
import tools.jackson.databind.JsonNode;

/**
 * A table's row count as {@code kit status} reports it: exact (count(*) in the report's snapshot) for
 * tables the planner expects to hold fewer than {@link #ESTIMATE_FROM} rows, else the planner's
 * estimate, labelled as one, so that status stays fast on a billion facts; {@code --exact} counts
 * every table. The planner's estimate is {@code pg_class.reltuples} scaled to the table's size now
 * (and summed over partitions), so it follows the table between ANALYZE runs.
 *
 * @param rows      null when the table is missing
 * @param estimated whether {@code rows} is the planner's estimate
 */
record RowCount(Long rows, boolean estimated) {

    /** Tables the planner expects to hold this many rows or more get an estimate unless --exact. */
    static final long ESTIMATE_FROM = 1_000_000;

    static final RowCount MISSING = new RowCount(null, false);

    boolean missing() {
        return rows == null;
    }

    /** {@code table} (a kit name), counted or estimated; MISSING when it is not there (status works on any database). */
    static RowCount of(DSLContext db, String table, boolean exact) {
        String name = KitName.of(table).sql().toString();
        if (db.fetchValue("SELECT to_regclass({0}) IS NOT NULL", DSL.val(name)) != Boolean.TRUE) {
            return MISSING;
        }
        if (!exact) {
            JsonNode plan = Json.MAPPER.readTree(db.fetchValue("EXPLAIN (FORMAT JSON) SELECT FROM " + name).toString());
            long planned = plan.path(0).path("Plan").path("Plan Rows").asLong(0);
            if (planned >= ESTIMATE_FROM) {
                return new RowCount(planned, true);
            }
        }
        return new RowCount(db.fetchValue(DSL.select(DSL.field("count(*)", Long.class)).from(DSL.table(KitName.of(table).sql()))), false);
    }

    /** As the text report shows it. */
    String text() {
        return rows == null ? "missing" : estimated ? "about " + rows + " (estimate)" : rows.toString();
    }
}
