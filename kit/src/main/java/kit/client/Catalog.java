package kit.client;

import kit.catalog.routines.RetireReadVersion;
import kit.catalog.tables.records.VerifyReadTableRecord;
import kit.types.State;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.Table;
import org.jooq.impl.DSL;

import java.sql.Connection;
import java.util.List;
import java.util.Optional;

import static kit.catalog.Routines.verifyReadTable;
import static kit.catalog.Tables.READ_VERSION;
import static kit.catalog.Tables.VERIFY_READ_TABLE;

/**
 * The questions about the kit's catalog that the kit command, the demo and the tests ask alike.
 * Tables are named by their kit name: {@code users_0} for a table in schema public, {@code
 * shop.orders} in any other (the names the catalog holds).
 */
public final class Catalog {

    /** The domain in which a kit name without a schema lies: its name alone is a table of public. */
    public static final String KIT_NAMES = "public";

    private Catalog() {
    }

    public static DSLContext of(Connection c) {
        return DSL.using(c, SQLDialect.POSTGRES);
    }

    /** The read tables in {@code state}, by name. */
    public static List<String> readTables(DSLContext db, State state) {
        return db.select(READ_VERSION.READ_TABLE).from(READ_VERSION).where(READ_VERSION.STATE.eq(state))
                .orderBy(READ_VERSION.READ_TABLE).fetch(READ_VERSION.READ_TABLE);
    }

    /** The state of read table {@code readTable}, or empty when the catalog does not know it. */
    public static Optional<State> stateOf(DSLContext db, String readTable) {
        return db.select(READ_VERSION.STATE).from(READ_VERSION).where(READ_VERSION.READ_TABLE.eq(readTable))
                .fetchOptional(READ_VERSION.STATE);
    }

    /** Retires {@code readTable} as a tidy-up migration does, with the function's default lock timeout. */
    public static void retire(DSLContext db, String readTable, Integer... ignoreSessions) {
        RetireReadVersion retirement = new RetireReadVersion();
        retirement.setReadTable(readTable);
        retirement.setIgnoreSessions(ignoreSessions);
        retirement.setDomain(KIT_NAMES);
        retirement.execute(db.configuration());
    }

    /**
     * The rows where live read table {@code readTable} differs from a replay of its facts (at most
     * {@code maxRows}), read as of one snapshot: in a REPEATABLE READ transaction of its own, which
     * kit.verify_read_table requires, so writers are never held up.
     */
    public static List<VerifyReadTableRecord> verify(DSLContext db, String readTable, int maxRows) {
        return db.transactionResult(t -> {
            t.dsl().execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
            // A kit before 0.7.0 (a database not upgraded yet) has no domain argument.
            boolean domains = Boolean.TRUE.equals(t.dsl().fetchValue(
                    "SELECT to_regprocedure('kit.verify_read_table(text, integer, text)') IS NOT NULL"));
            Table<?> differences = domains ? verifyReadTable(readTable, maxRows, KIT_NAMES)
                    : DSL.table("kit.verify_read_table({0}, {1})", DSL.val(readTable), DSL.val(maxRows));
            return t.dsl().select().from(differences).fetchInto(VERIFY_READ_TABLE);
        });
    }
}
