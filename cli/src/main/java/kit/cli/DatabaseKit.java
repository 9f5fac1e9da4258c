package kit.cli;

import org.jooq.DSLContext;

/**
 * What the kit in the database has. A database whose kit is older than this command's lacks what came
 * later (its next migrate upgrades it); status still reports it, with what that kit has, and says so.
 */
final class DatabaseKit {

    private DatabaseKit() {
    }

    /** Whether the kit has the function of this signature, e.g. {@code kit.clients()}. */
    static boolean hasFunction(DSLContext db, String signature) {
        return Boolean.TRUE.equals(db.fetchValue("SELECT pg_catalog.to_regprocedure(?) IS NOT NULL", signature));
    }

    /** Whether the kit's catalog table {@code table} (e.g. {@code kit.write_table}) has the column. */
    static boolean hasColumn(DSLContext db, String table, String column) {
        return Boolean.TRUE.equals(db.fetchValue("""
                SELECT EXISTS (SELECT FROM pg_catalog.pg_attribute a
                                WHERE a.attrelid = pg_catalog.to_regclass(?) AND a.attname = ? AND NOT a.attisdropped)""",
                table, column));
    }
}
