package kit.client;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Plain JDBC for the programs and tests that speak SQL rather than jOOQ: connections, and
 * one statement or query in a line.
 *
 * <p>Connections are opened through the driver class itself rather than
 * {@link java.sql.DriverManager}: under Maven's exec plugin each run gets its own
 * class loader, and DriverManager only hands out drivers registered by the
 * caller's loader, so a second run in the same build would find no driver.
 */
public final class Jdbc {

    private static final org.postgresql.Driver DRIVER = new org.postgresql.Driver();

    private Jdbc() {
    }

    public static Connection connect(String jdbcUrl) throws SQLException {
        Connection connection = DRIVER.connect(jdbcUrl, new Properties());
        if (connection == null) {
            throw new SQLException("Not a PostgreSQL JDBC URL: " + jdbcUrl);
        }
        return connection;
    }

    public static Connection connect(DatabaseUrl url) throws SQLException {
        return connect(url.jdbc());
    }

    /**
     * Runs a statement of any kind (a SELECT of a kit function too; without parameters, several
     * separated by semicolons); returns the rows the first one changed, or -1 when it returned rows.
     */
    public static int exec(Connection c, String sql, Object... params) throws SQLException {
        if (params.length == 0) {
            try (Statement s = c.createStatement()) {
                return s.execute(sql) ? -1 : s.getUpdateCount();
            }
        }
        try (PreparedStatement s = prepare(c, sql, params)) {
            return s.execute() ? -1 : s.getUpdateCount();
        }
    }

    /** Every row of a query, each a map from column label to value, in column order. */
    public static List<Map<String, Object>> rows(Connection c, String sql, Object... params) throws SQLException {
        return query(c, sql, params, rs -> {
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
        });
    }

    /** The first column of every row of a query, as text. */
    public static List<String> strings(Connection c, String sql, Object... params) throws SQLException {
        return query(c, sql, params, rs -> {
            List<String> values = new ArrayList<>();
            while (rs.next()) {
                values.add(rs.getString(1));
            }
            return values;
        });
    }

    /** The first column of a query's first row, as text; null when it has no row. */
    public static String single(Connection c, String sql, Object... params) throws SQLException {
        List<String> values = strings(c, sql, params);
        return values.isEmpty() ? null : values.getFirst();
    }

    /** The first column of a query's first row, as a whole number; 0 when it has no row or that value is null. */
    public static long number(Connection c, String sql, Object... params) throws SQLException {
        String value = single(c, sql, params);
        return value == null ? 0 : Long.parseLong(value);
    }

    private interface Reader<T> {
        T read(ResultSet rs) throws SQLException;
    }

    /** Without parameters as a plain statement, so that a {@code ?} in the text (a jsonb operator) is no parameter. */
    private static <T> T query(Connection c, String sql, Object[] params, Reader<T> reader) throws SQLException {
        if (params.length == 0) {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
                return reader.read(rs);
            }
        }
        try (PreparedStatement s = prepare(c, sql, params); ResultSet rs = s.executeQuery()) {
            return reader.read(rs);
        }
    }

    private static PreparedStatement prepare(Connection c, String sql, Object... params) throws SQLException {
        PreparedStatement s = c.prepareStatement(sql);
        for (int i = 0; i < params.length; i++) {
            s.setObject(i + 1, params[i]);
        }
        return s;
    }
}
