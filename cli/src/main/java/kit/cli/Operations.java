package kit.cli;

import kit.db.Jdbc;
import kit.db.TextTable;

import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/** The kit command's work, on one autocommit connection. */
final class Operations {

    private final Connection c;
    private final PrintStream out;

    Operations(Connection c, PrintStream out) {
        this.c = c;
        this.out = out;
    }

    int run(Kit.Command command) throws SQLException {
        return switch (command.name()) {
            case "status" -> status();
            case "verify" -> verify(command.table(), command.maxRows());
            case "backfill" -> backfillAll(command.table(), command.batchSize());
            case "rebuild" -> rebuild(command.table(), command.batchSize());
            case "retire" -> retire(command.table(), command.dryRun());
            case "abort" -> abort(command.table());
            default -> throw new IllegalArgumentException("unknown command " + command.name());
        };
    }

    private int status() throws SQLException {
        out.print(Kit.catalog(c));
        TextTable clients = new TextTable("app version", "connections", "application names");
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("""
                SELECT kit.client_schema_version(application_name) AS version, count(*),
                       string_agg(DISTINCT application_name, ', ')
                  FROM pg_stat_activity
                 WHERE datname = current_database() AND kit.client_schema_version(application_name) IS NOT NULL
                 GROUP BY 1 ORDER BY 1""")) {
            while (rs.next()) {
                clients.row("app-v" + rs.getInt(1), rs.getLong(2), rs.getString(3));
            }
        }
        out.println();
        out.println("Connected clients");
        out.print(Kit.render(clients));
        return 0;
    }

    private int verify(String only, int maxRows) throws SQLException {
        List<String> tables = only != null ? List.of(only)
                : Kit.strings(c, "SELECT read_table FROM kit.read_version WHERE state = 'live' ORDER BY read_table");
        int differing = 0;
        for (String table : tables) {
            TextTable diff = new TextTable("difference", "row");
            int rows = 0;
            try (PreparedStatement s = c.prepareStatement("SELECT difference, row_data::text FROM kit.verify_read_table(?, ?)")) {
                s.setString(1, table);
                s.setInt(2, maxRows);
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        diff.row(rs.getString(1), rs.getString(2));
                        rows++;
                    }
                }
            }
            if (rows == 0) {
                out.println("ok    " + table + " equals a rebuild from its facts");
            } else {
                differing++;
                out.println("DIFF  " + table + ": " + rows + (rows == maxRows ? "+" : "") + " rows differ from a rebuild from its facts");
                out.print(Kit.render(diff));
                out.println("      repair it with: kit rebuild " + table);
            }
        }
        return differing + insecureFunctions() == 0 ? 0 : 1;
    }

    /** Prints what kit.check_security() finds (SECURITY DEFINER functions whose search_path a writer could influence). */
    private int insecureFunctions() throws SQLException {
        TextTable found = new TextTable("function", "problem");
        int count = 0;
        try (PreparedStatement s = c.prepareStatement("SELECT function, problem FROM kit.check_security()");
             ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                found.row(rs.getString(1), rs.getString(2));
                count++;
            }
        }
        if (count == 0) {
            out.println("ok    every SECURITY DEFINER function in schemas kit and public pins its search_path");
        } else {
            out.println("UNSAFE " + count + " SECURITY DEFINER function(s) could run a writer's code with their owner's rights");
            out.print(Kit.render(found));
            out.println("      pin their path: ALTER FUNCTION ... SET search_path = pg_catalog, pg_temp");
        }
        return count;
    }

    private int backfillAll(String only, int batchSize) throws SQLException {
        List<String> building = Kit.strings(c, """
                SELECT read_table FROM kit.read_version WHERE state = 'building' AND (?::text IS NULL OR read_table = ?::text)
                 ORDER BY created_at, read_table""", only, only);
        if (building.isEmpty()) {
            out.println(only == null ? "Nothing to backfill: no read version is building." : only + " is not building.");
            return only == null ? 0 : 3;
        }
        for (String table : building) {
            backfill(table, batchSize);
        }
        return 0;
    }

    private int rebuild(String table, int batchSize) throws SQLException {
        String shadow = Kit.strings(c, "SELECT kit.begin_rebuild(?)", table).getFirst();
        out.println("Rebuilding " + table + " into " + shadow + " while writers go on");
        backfill(shadow, batchSize);
        out.println(table + " rebuilt from its facts and swapped in");
        return 0;
    }

    /**
     * Backfills one building version with {@code CALL kit.backfill}: the one copy of the policy (batches
     * each in its own transaction, the wait for open writers, the short-lock completion and its retries).
     * This only shows its progress, read from the catalog once a second on a connection of its own.
     */
    private void backfill(String table, int batchSize) throws SQLException {
        long remaining = Long.parseLong(Kit.strings(c, "SELECT kit.backfill_remaining(?)", table).getFirst());
        long started = System.nanoTime();
        out.printf("Backfilling %s: about %d facts to apply%n", table, remaining);
        AtomicLong done = new AtomicLong();
        String url = c.getMetaData().getURL();
        Thread watcher = Thread.ofVirtual().start(() -> {
            try (Connection w = Jdbc.connect(url)) {
                while (!Thread.currentThread().isInterrupted()) {
                    Thread.sleep(1000);
                    appliedSoFar(w, table).ifPresent(n -> {
                        done.set(n);
                        progress(table, n, remaining, started, System.nanoTime());
                    });
                }
            } catch (InterruptedException | SQLException e) {
                // The backfill ended (or the watcher lost its connection): progress is only a courtesy.
            }
        });
        try (PreparedStatement call = c.prepareStatement("CALL kit.backfill(?, ?)")) {
            call.setString(1, table);
            call.setInt(2, batchSize);
            call.execute();
        } finally {
            watcher.interrupt();
            joinQuietly(watcher);
        }
        progress(table, appliedSoFar(c, table).orElse(Math.max(done.get(), remaining)), remaining, started, System.nanoTime());
        out.println("  " + table + " is complete");
    }

    /** Facts the backfill of {@code table} has applied so far; empty once a rebuild's shadow is swapped in. */
    private static Optional<Long> appliedSoFar(Connection connection, String table) throws SQLException {
        try (PreparedStatement s = connection.prepareStatement("SELECT backfilled_facts FROM kit.read_version WHERE read_table = ?")) {
            s.setString(1, table);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(rs.getLong(1)) : Optional.empty();
            }
        }
    }

    private static void joinQuietly(Thread thread) {
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void progress(String table, long done, long total, long startedNanos, long nowNanos) {
        double seconds = Math.max((nowNanos - startedNanos) / 1e9, 0.001);
        double rate = done / seconds;
        long left = rate > 0 ? Math.round(Math.max(total - done, 0) / rate) : 0;
        out.printf("  %s: %d of about %d facts (%d%%), %.0f facts/s, about %d s left%n",
                table, done, total, total == 0 ? 100 : Math.min(100, done * 100 / total), rate, left);
    }

    private int retire(String table, boolean dryRun) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("""
                SELECT array_to_string(versions, ', '), array_to_string(feeds, ', '), clients, referrers,
                       (SELECT state FROM kit.read_version WHERE read_table = ?)
                  FROM kit.retirement_plan(?)""")) {
            s.setString(1, table);
            s.setString(2, table);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                String state = rs.getString(5);
                if (state == null || !(state.equals("live") || state.equals("building"))) {
                    throw new IllegalArgumentException(table + " is not a live read version (state: " + (state == null ? "none" : state) + ")");
                }
                out.println((dryRun ? "Retiring " + table + " would:" : "Retiring " + table + ":"));
                out.println("  drop table " + table + " and its feeds: " + (rs.getString(2).isEmpty() ? "none" : rs.getString(2)));
                out.println("  retire schema versions: " + (rs.getString(1).isEmpty() ? "none" : rs.getString(1)));
                out.println("  keep every write table and fact");
                if (rs.getString(3) != null) {
                    out.println("  blocked by connected clients: " + rs.getString(3));
                }
                if (rs.getString(4) != null) {
                    out.println("  blocked by live read versions that reference it: " + rs.getString(4));
                }
            }
        }
        if (dryRun) {
            return 0;
        }
        Kit.strings(c, "SELECT kit.retire_read_version(?)::text", table);
        out.println(table + " retired");
        return 0;
    }

    private int abort(String table) throws SQLException {
        Kit.strings(c, "SELECT kit.abort_read_version(?)::text", table);
        out.println(table + " aborted: its table, feeds and projections are gone; write tables untouched");
        return 0;
    }
}
