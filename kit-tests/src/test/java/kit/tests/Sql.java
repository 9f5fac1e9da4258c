package kit.tests;

import kit.client.KitError;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** Small JDBC helpers so tests read as the SQL they run. */
public final class Sql {

    private Sql() {
    }

    /** Runs a statement of any kind (a SELECT of a kit function too); returns the rows it changed, or -1. */
    public static int exec(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement s = prepare(c, sql, params)) {
            return s.execute() ? -1 : s.getUpdateCount();
        }
    }

    public static List<Map<String, Object>> rows(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement s = prepare(c, sql, params); ResultSet rs = s.executeQuery()) {
            ResultSetMetaData meta = rs.getMetaData();
            List<Map<String, Object>> rows = new ArrayList<>();
            while (rs.next()) {
                Map<String, Object> row = new LinkedHashMap<>();
                for (int i = 1; i <= meta.getColumnCount(); i++) {
                    row.put(meta.getColumnLabel(i), rs.getObject(i));
                }
                rows.add(row);
            }
            return rows;
        }
    }

    /** The single value of a one-row, one-column query. */
    public static Object value(Connection c, String sql, Object... params) throws SQLException {
        List<Map<String, Object>> rows = rows(c, sql, params);
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
            return rows(c, "SELECT * FROM kit.verify_read_table(?, 50)", readTable);
        } finally {
            c.commit();
            c.setTransactionIsolation(isolation);
            c.setAutoCommit(autoCommit);
        }
    }

    public static List<String> liveReadTables(Connection c) throws SQLException {
        return rows(c, "SELECT read_table FROM kit.read_version WHERE state = 'live' ORDER BY read_table")
                .stream().map(r -> (String) r.get("read_table")).toList();
    }

    private static PreparedStatement prepare(Connection c, String sql, Object... params) throws SQLException {
        PreparedStatement s = c.prepareStatement(sql);
        for (int i = 0; i < params.length; i++) {
            s.setObject(i + 1, params[i]);
        }
        return s;
    }
}
