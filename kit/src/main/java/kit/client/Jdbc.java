package kit.client;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * Opens PostgreSQL connections through the driver class itself rather than
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

    /** The first column of every row of a query, as text. */
    public static List<String> strings(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                s.setObject(i + 1, params[i]);
            }
            try (ResultSet rs = s.executeQuery()) {
                List<String> values = new ArrayList<>();
                while (rs.next()) {
                    values.add(rs.getString(1));
                }
                return values;
            }
        }
    }
}
