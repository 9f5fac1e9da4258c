package kit.tests;

import kit.client.Jdbc;
import kit.client.KitError;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * What the tests add to {@link Jdbc}'s helpers (exec, rows): a value that must exist,
 * assertions on SQLSTATEs, the verify call in its transaction.
 */
public final class Sql {

    private Sql() {
    }

    /** The single value of a one-row, one-column query. */
    public static Object value(Connection c, String sql, Object... params) throws SQLException {
        List<Map<String, Object>> rows = Jdbc.rows(c, sql, params);
        assertThat(rows).as("rows of %s", sql).hasSize(1);
        return rows.getFirst().values().iterator().next();
    }

    public static long count(Connection c, String table) throws SQLException {
        return ((Number) value(c, "SELECT count(*) FROM " + table)).longValue();
    }

    /** Asserts that the call fails with the kit error's SQLSTATE and returns the failure. */
    public static SQLException assertFailsWith(KitError error, ThrowingCallable call) {
        return assertFailsWith(error.sqlState(), call);
    }

    public static SQLException assertFailsWith(String sqlState, ThrowingCallable call) {
        Throwable failure = catchThrowable(call);
        assertThat(failure).as("expected SQLSTATE %s", sqlState).isInstanceOf(SQLException.class);
        assertThat(((SQLException) failure).getSQLState()).as("SQLSTATE of: %s", failure.getMessage()).isEqualTo(sqlState);
        return (SQLException) failure;
    }

    /** Differences between a live read table and its rebuild (empty when they agree). */
    public static List<Map<String, Object>> verify(Connection c, String readTable) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        int isolation = c.getTransactionIsolation();
        c.setAutoCommit(false);
        c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
        try {
            return Jdbc.rows(c, "SELECT * FROM kit.verify_read_table(?, 50)", readTable);
        } finally {
            c.commit();
            c.setTransactionIsolation(isolation);
            c.setAutoCommit(autoCommit);
        }
    }

    /**
     * Rebuilds {@code readTable} applying one fact per batch: the order of a replay at its finest,
     * which must give the rows a replay in large batches gives.
     */
    public static void rebuildOneFactPerBatch(Connection c, String readTable) throws SQLException {
        Jdbc.exec(c, "SELECT kit.begin_rebuild(?)", readTable);
        Jdbc.exec(c, "CALL kit.backfill(?, 1)", readTable + "__rebuild");
    }

    public static List<String> liveReadTables(Connection c) throws SQLException {
        return Jdbc.strings(c, "SELECT read_table FROM kit.read_version WHERE state = 'live' ORDER BY read_table");
    }
}
