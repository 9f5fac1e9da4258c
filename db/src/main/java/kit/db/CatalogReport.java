package kit.db;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** The kit's catalog as an operator reads it: schema versions, read versions, feeds and row counts. */
public final class CatalogReport {

    private CatalogReport() {
    }

    public static String render(Connection c) throws SQLException {
        return "Schema versions\n" + schemaVersions(c) + "\nRead versions\n" + readVersions(c)
                + "\nFeeds (write table -> read table)\n" + feeds(c) + "\nRow counts\n" + rowCounts(c);
    }

    static String schemaVersions(Connection c) throws SQLException {
        TextTable table = new TextTable("version", "state", "reads");
        query(c, "SELECT version, state, array_to_string(read_tables, ', ') FROM kit.schema_versions ORDER BY version",
                rs -> table.row(rs.getInt(1), rs.getString(2), rs.getString(3)));
        return table.render("  ");
    }

    static String readVersions(Connection c) throws SQLException {
        TextTable table = new TextTable("read table", "entity", "state", "backfill", "since");
        query(c, """
                SELECT read_table, entity, state || coalesce(' (rebuild of ' || rebuild_of || ')', ''),
                       CASE WHEN state = 'building'
                            THEN backfilled_facts || ' facts applied, ' || kit.backfill_remaining(read_table) || ' to go'
                            WHEN state = 'live' THEN backfilled_facts || ' facts backfilled' END,
                       to_char(coalesce(retired_at, live_at, created_at), 'YYYY-MM-DD HH24:MI:SS')
                  FROM kit.read_version ORDER BY created_at, read_table""",
                rs -> table.row(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5)));
        return table.render("  ");
    }

    static String feeds(Connection c) throws SQLException {
        TextTable table = new TextTable("write table", "read table", "kind", "projection function");
        query(c, """
                SELECT write_table, read_table, kind || coalesce(' by ' || key_column, ''), projection
                  FROM kit.feed ORDER BY read_table, position""",
                rs -> table.row(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)));
        return table.render("  ");
    }

    static String rowCounts(Connection c) throws SQLException {
        TextTable table = new TextTable("table", "kind", "rows");
        query(c, """
                SELECT t.name, t.kind, (xpath('/row/n/text()',
                         query_to_xml(format('SELECT count(*) AS n FROM public.%I', t.name), false, true, '')))[1]::text
                  FROM (SELECT write_table AS name, 'write' AS kind, 1 AS o FROM kit.write_table
                        UNION ALL
                        SELECT read_table, 'read', 2 FROM kit.read_version WHERE state <> 'retired') t
                 ORDER BY t.o, t.name""",
                rs -> table.row(rs.getString(1), rs.getString(2), rs.getString(3)));
        return table.render("  ");
    }

    private interface RowHandler {
        void accept(ResultSet rs) throws SQLException;
    }

    private static void query(Connection c, String sql, RowHandler handler) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                handler.accept(rs);
            }
        }
    }
}
