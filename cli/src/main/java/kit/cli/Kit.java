package kit.cli;

import kit.client.CatalogReport;
import kit.client.DatabaseUrl;
import kit.client.Jdbc;
import kit.client.TextTable;
import org.jooq.exception.DataAccessException;
import org.postgresql.util.PSQLException;

import java.io.PrintStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The operator's command for a kit database: what state every version is in,
 * whether read tables still equal their facts, and the lifecycle steps
 * (backfill, rebuild, retire, abort) with progress and clear errors.
 */
public final class Kit {

    static final String USAGE = """
            Usage: kit [--db-url URL] <command> [arguments]

            Commands:
              status                          schema versions, read versions (state, rows, backfill
                                              progress and errors), feeds, drift, and connected clients
                                              per app version; exit 1 on drift
              verify [READ_TABLE] [--max-rows N]
                                              drift (kit.drift), then each live read table (or one)
                                              against a replay of its facts as of one snapshot, without
                                              holding writers up; print differing rows; also list
                                              SECURITY DEFINER functions without a pinned search_path
                                              (kit.check_security); exit 1 on any finding
              repair                          restore what kit.drift finds the kit generated and lost
                                              (triggers, generated functions, grants) from the catalog
              rebuild READ_TABLE              rebuild a read table from the facts online: a shadow copy
                                              is backfilled, then swapped in under a short lock
              backfill [READ_TABLE] [--batch-size N]
                                              complete building read versions (resumes a killed run)
              retire READ_TABLE [--dry-run]   what the tidy-up migration does; --dry-run says what would
                                              go and what blocks it
              abort READ_TABLE                drop a building read version (write tables are untouched)
              help                            this text

            --db-url URL   the database (KIT_DB_URL, default %s)
            Exit status: 0 done, 1 status or verify found drift or differences, 2 bad usage,
            3 the database refused.""";

    static final String DEFAULT_URL = DatabaseUrl.LOCAL_DEFAULT;

    private final PrintStream out;
    private final PrintStream err;

    Kit(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        System.exit(new Kit(System.out, System.err).run(args, System.getenv()));
    }

    /** Runs one command; returns the exit status. */
    int run(String[] args, Map<String, String> env) {
        String url = env.getOrDefault(DatabaseUrl.VARIABLE, DEFAULT_URL);
        List<String> rest = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--db-url") && i + 1 < args.length) {
                url = args[++i];
            } else {
                rest.add(args[i]);
            }
        }
        if (rest.isEmpty() || List.of("help", "-h", "--help").contains(rest.getFirst())) {
            out.println(USAGE.formatted(DEFAULT_URL));
            return rest.isEmpty() ? 2 : 0;
        }
        Command command;
        try {
            command = Command.parse(rest);
        } catch (IllegalArgumentException e) {
            err.println("kit: " + e.getMessage());
            err.println("Run 'kit help' for the commands.");
            return 2;
        }
        try (Connection c = Jdbc.connect(DatabaseUrl.parse(url).with("ApplicationName", "kit-cli"))) {
            return new Operations(c, out).run(command);
        } catch (SQLException e) {
            return refused(e);
        } catch (DataAccessException e) {
            return refused(e.getCause(SQLException.class) instanceof SQLException cause ? cause : new SQLException(e.getMessage(), e.sqlState()));
        } catch (IllegalArgumentException e) {
            err.println("kit: " + e.getMessage());
            return 2;
        }
    }

    /** The database refused: its message, SQLSTATE and hint, as the server gave them. */
    private int refused(SQLException e) {
        err.println("kit: " + firstLine(e.getMessage()) + (e.getSQLState() == null ? "" : " (SQLSTATE " + e.getSQLState() + ")"));
        if (e instanceof PSQLException p && p.getServerErrorMessage() != null && p.getServerErrorMessage().getHint() != null) {
            err.println("hint: " + p.getServerErrorMessage().getHint());
        }
        return 3;
    }

    private static String firstLine(String message) {
        String text = message == null ? "" : message.replaceFirst("^ERROR: ", "");
        int newline = text.indexOf('\n');
        return newline < 0 ? text : text.substring(0, newline);
    }

    /** A parsed command line. */
    record Command(String name, String table, boolean dryRun, int maxRows, int batchSize) {
        static Command parse(List<String> words) {
            String name = words.getFirst();
            String table = null;
            boolean dryRun = false;
            int maxRows = 20;
            int batchSize = 10_000;
            for (int i = 1; i < words.size(); i++) {
                String w = words.get(i);
                switch (w) {
                    case "--dry-run" -> dryRun = true;
                    case "--max-rows" -> maxRows = number(words, ++i, w);
                    case "--batch-size" -> batchSize = number(words, ++i, w);
                    default -> {
                        if (w.startsWith("-") || table != null) {
                            throw new IllegalArgumentException("unexpected argument " + w + " for " + name);
                        }
                        table = w;
                    }
                }
            }
            boolean needsTable = List.of("rebuild", "retire", "abort").contains(name);
            if (!List.of("status", "verify", "repair", "rebuild", "backfill", "retire", "abort").contains(name)) {
                throw new IllegalArgumentException("unknown command " + name);
            }
            if (needsTable && table == null) {
                throw new IllegalArgumentException(name + " needs a read table, e.g. kit " + name + " users_2");
            }
            return new Command(name, table, dryRun, maxRows, batchSize);
        }

        private static int number(List<String> words, int index, String flag) {
            if (index >= words.size() || !words.get(index).matches("[1-9][0-9]{0,8}")) {
                throw new IllegalArgumentException(flag + " needs a positive whole number");
            }
            return Integer.parseInt(words.get(index));
        }
    }

    static String render(TextTable table) {
        return table.render("  ");
    }

    static String catalog(Connection c) {
        return CatalogReport.render(c);
    }
}
