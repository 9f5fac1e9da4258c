package kit.cli;

import kit.client.Catalog;
import kit.console.TextTable;
import kit.types.State;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.impl.DSL;

import java.sql.Connection;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

import static kit.catalog.Routines.backfillRemaining;
import static kit.catalog.Tables.FEED;
import static kit.catalog.Tables.READ_VERSION;
import static kit.catalog.Tables.SCHEMA_VERSIONS;
import static kit.catalog.Tables.WRITE_TABLE;

/** The kit's catalog as an operator reads it: schema versions, read versions, feeds and row counts. */
public final class CatalogReport {

    private static final String INDENT = "  ";
    private static final DateTimeFormatter SINCE = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    private CatalogReport() {
    }

    public static String render(Connection c) {
        DSLContext db = Catalog.of(c);
        return "Schema versions\n" + schemaVersions(db) + "\nRead versions\n" + readVersions(db)
                + "\nFeeds (write table -> read table)\n" + feeds(db) + "\nRow counts\n" + rowCounts(db);
    }

    static String schemaVersions(DSLContext db) {
        TextTable table = new TextTable("version", "state", "reads");
        db.selectFrom(SCHEMA_VERSIONS).orderBy(SCHEMA_VERSIONS.VERSION)
                .forEach(v -> table.row(v.getVersion(), v.getState(), String.join(", ", v.getReadTables())));
        return table.render(INDENT);
    }

    static String readVersions(DSLContext db) {
        TextTable table = new TextTable("read table", "entity", "state", "backfill", "since");
        Field<Long> remaining = DSL.when(READ_VERSION.STATE.eq(State.BUILDING), backfillRemaining(READ_VERSION.READ_TABLE));
        db.select(READ_VERSION.asterisk(), remaining).from(READ_VERSION)
                .orderBy(READ_VERSION.CREATED_AT, READ_VERSION.READ_TABLE)
                .forEach(r -> {
                    var v = r.into(READ_VERSION);
                    table.row(v.getReadTable(), v.getEntity(),
                            v.getState() + (v.getRebuildOf() == null ? "" : " (rebuild of " + v.getRebuildOf() + ")"),
                            switch (v.getState()) {
                                case BUILDING -> v.getBackfilledFacts() + " facts applied, " + r.get(remaining) + " to go"
                                        + (v.getBackfillError() == null ? ""
                                                : "; FAILED " + since(v.getBackfillFailedAt()) + ": " + v.getBackfillError());
                                case LIVE -> v.getBackfilledFacts() == 0 ? "live from its start: nothing to backfill"
                                        : v.getBackfilledFacts() + " facts backfilled (by its last backfill or rebuild)";
                                case RETIRED, ABORTED -> null;
                            },
                            since(v.getRetiredAt() != null ? v.getRetiredAt() : v.getLiveAt() != null ? v.getLiveAt() : v.getCreatedAt()));
                });
        return table.render(INDENT);
    }

    static String feeds(DSLContext db) {
        TextTable table = new TextTable("write table", "read table", "kind", "projection function");
        db.selectFrom(FEED).orderBy(FEED.READ_TABLE, FEED.POSITION)
                .forEach(f -> table.row(f.getWriteTable(), f.getReadTable(),
                        f.getKind() + (f.getKeyColumn() == null ? "" : " by " + f.getKeyColumn()), f.getProjection()));
        return table.render(INDENT);
    }

    static String rowCounts(DSLContext db) {
        TextTable table = new TextTable("table", "kind", "rows");
        db.select(WRITE_TABLE.WRITE_TABLE_).from(WRITE_TABLE).orderBy(WRITE_TABLE.WRITE_TABLE_)
                .forEach(w -> table.row(w.value1(), "write", count(db, w.value1())));
        // Retired and aborted versions have no table any more.
        db.select(READ_VERSION.READ_TABLE).from(READ_VERSION).where(READ_VERSION.STATE.in(State.BUILDING, State.LIVE))
                .orderBy(READ_VERSION.READ_TABLE)
                .forEach(r -> table.row(r.value1(), "read", count(db, r.value1())));
        return table.render(INDENT);
    }

    /** The table's row count, or a word saying it is missing: status must work on any database it is pointed at. */
    private static Object count(DSLContext db, String table) {
        Field<Object> exists = DSL.field("to_regclass({0})", Object.class, DSL.val(DSL.name("public", table).toString()));
        if (db.select(exists).fetchOne(exists) == null) {
            return "missing";
        }
        return db.fetchCount(DSL.table(DSL.name("public", table)));
    }

    /** In the operator's time zone. */
    private static String since(OffsetDateTime time) {
        return SINCE.format(time.atZoneSameInstant(ZoneId.systemDefault()));
    }
}
