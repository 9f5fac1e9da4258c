package kit.cli;

import kit.client.DatabaseUrl;
import kit.client.Jdbc;
import kit.client.KitVersion;
import kit.console.LogLevel;
import kit.console.TextTable;
import org.jooq.exception.DataAccessException;
import org.postgresql.util.PSQLException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The operator's command for a kit database: what state every version is in,
 * whether read tables still equal their facts and what the kit generated, and
 * the lifecycle steps (backfill, rebuild, retire, abort) with progress and
 * clear errors. Parsed by picocli: `kit --help`, `kit <command> --help`.
 */
@Command(name = "kit", mixinStandardHelpOptions = true, versionProvider = Kit.Version.class,
        subcommands = CommandLine.HelpCommand.class, usageHelpAutoWidth = true,
        description = "The operator's command for a database with the versioned CQRS kit.",
        footerHeading = "%n", footer = {
            "Exit status:",
            "  0  done",
            "  1  something needs an operator: the database has no kit; status found",
            "     drift, a security finding, a failed backfill or another kit; verify",
            "     found drift, differences or a security finding; drift found any;",
            "     repair left what it could not restore; retire --dry-run found blockers",
            "  2  bad usage (a mistyped command gets a suggestion), also a read table",
            "     that is not there or not in a state the command works on",
            "  3  the database refused, or could not be reached (its message and hint",
            "     are printed)"})
public final class Kit {

    @Option(names = "--db-url", paramLabel = "URL", scope = CommandLine.ScopeType.INHERIT,
            description = "the database (default: KIT_DB_URL, else " + DatabaseUrl.LOCAL_DEFAULT + ")")
    String url;

    @Option(names = "--log-level", paramLabel = "LEVEL", scope = CommandLine.ScopeType.INHERIT,
            description = "trace, debug, info, warn, error or off, to stderr (default: KIT_LOG_LEVEL, else warn)")
    String logLevel;

    @Spec
    CommandLine.Model.CommandSpec spec;

    private final PrintStream out;
    private final PrintStream err;
    private Map<String, String> env = Map.of();
    /** The database of the command that runs, for the hint when it cannot be reached. */
    private DatabaseUrl database;
    /** The running command and its output format, so that a refusal is answered in that format. */
    private OutputFormat format = OutputFormat.TEXT;
    private String command;

    Kit(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        System.exit(new Kit(System.out, System.err).run(args, System.getenv()));
    }

    /** Runs one command; returns the exit status. */
    int run(String[] args, Map<String, String> env) {
        this.env = env;
        CommandLine line = new CommandLine(this)
                .setOut(new PrintWriter(out, true, StandardCharsets.UTF_8))
                .setErr(new PrintWriter(err, true, StandardCharsets.UTF_8))
                .setExecutionExceptionHandler((e, cmd, parsed) -> refused(e))
                .setParameterExceptionHandler((e, parsed) -> {
                    // One line saying what is wrong, not the whole usage; for a mistyped command or
                    // option, the ones it may have meant.
                    err.println("kit: " + e.getMessage());
                    CommandLine.UnmatchedArgumentException.printSuggestions(e, new PrintWriter(err, true, StandardCharsets.UTF_8));
                    err.println("Run 'kit --help' for the commands, 'kit <command> --help' for one.");
                    return CommandLine.ExitCode.USAGE;
                });
        if (args.length == 0) {
            line.usage(out);
            return CommandLine.ExitCode.USAGE;
        }
        return line.execute(args);
    }

    private static final String FORMAT = "text (the default), or json for scripts (its shape: docs/reference.md, \"The kit command's JSON\")";

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Schema versions, read versions (state, rows, backfill progress and errors), feeds, the connected clients of each schema version, the kit's version in the database and this command's, drift (kit.drift) and security findings (kit.check_security), all from one snapshot; exit 1 on drift, a finding, a failed backfill or another kit version.")
    int status(@Option(names = "--format", paramLabel = "FORMAT", defaultValue = "text",
                       description = "text (the default), json for scripts (its shape: docs/reference.md), or mermaid: the feed graph, write tables -> read versions -> schema versions") String format,
               @Option(names = "--exact", description = "count every table's rows; without it, tables the planner expects to hold "
                       + RowCount.ESTIMATE_FROM + " rows or more get the planner's estimate, labelled as one") boolean exact)
            throws SQLException {
        OutputFormat chosen = format(format, OutputFormat.TEXT, OutputFormat.JSON, OutputFormat.MERMAID);
        return execute(chosen, "status", o -> o.status(chosen, exact));
    }

    @Command(name = "verify", mixinStandardHelpOptions = true, description = "Drift (kit.drift), then each live read table (or one) against a replay of its facts as of one snapshot, without holding writers up; prints differing rows; also lists SECURITY DEFINER functions without a pinned search_path; exit 1 on any finding.")
    int verify(@Parameters(paramLabel = "READ_TABLE", arity = "0..1", description = "only this read table") String table,
               @Option(names = "--max-rows", paramLabel = "N", defaultValue = "20", description = "rows to show per table (default 20)") int maxRows,
               @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "text", description = FORMAT) String format)
            throws SQLException {
        int rows = positive(maxRows, "--max-rows");
        OutputFormat chosen = format(format, OutputFormat.TEXT, OutputFormat.JSON);
        return execute(chosen, "verify", o -> o.verify(table, rows, chosen));
    }

    @Command(name = "drift", mixinStandardHelpOptions = true, description = "What kit.drift finds (the part of status and verify that compares the database with what the kit generated and recorded), each with what to do; exit 1 on any.")
    int drift(@Option(names = "--format", paramLabel = "FORMAT", defaultValue = "text", description = FORMAT) String format)
            throws SQLException {
        OutputFormat chosen = format(format, OutputFormat.TEXT, OutputFormat.JSON);
        return execute(chosen, "drift", o -> o.drift(chosen));
    }

    @Command(name = "repair", mixinStandardHelpOptions = true, description = "Restores from the catalog what kit.drift finds the kit generated and lost: triggers (ENABLE ALWAYS), generated functions, read-table rules, grants. Says what it cannot restore (a missing table, a rule the rows break) and exits 1 then. Triggers the kit did not create are only reported.")
    int repair() throws SQLException {
        return execute(OutputFormat.TEXT, "repair", Operations::repair);
    }

    @Command(name = "rebuild", mixinStandardHelpOptions = true, description = "Rebuilds a read table from the facts online: a shadow copy is backfilled, then swapped in under a short lock, with the table's grants and comment.")
    int rebuild(@Parameters(paramLabel = "READ_TABLE", description = "the live read table, e.g. users_2") String table,
                @Option(names = "--batch-size", paramLabel = "N", defaultValue = "10000", description = "facts per batch (default 10000)") int batchSize)
            throws SQLException {
        int batch = positive(batchSize, "--batch-size");
        return execute(OutputFormat.TEXT, "rebuild", o -> o.rebuild(table, batch));
    }

    @Command(name = "backfill", mixinStandardHelpOptions = true, description = "Completes building read versions (all, or one); resumes a killed run. A version that fails does not hold the others up; the command then exits 3 with the first error.")
    int backfill(@Parameters(paramLabel = "READ_TABLE", arity = "0..1", description = "only this building read version") String table,
                 @Option(names = "--batch-size", paramLabel = "N", defaultValue = "10000", description = "facts per batch (default 10000)") int batchSize)
            throws SQLException {
        int batch = positive(batchSize, "--batch-size");
        return execute(OutputFormat.TEXT, "backfill", o -> o.backfillAll(table, batch));
    }

    @Command(name = "retire", mixinStandardHelpOptions = true, description = "What the tidy-up migration does, refused while a client of its schema versions is connected, a live version references it, or views depend on its table (--dry-run then exits 1).")
    int retire(@Parameters(paramLabel = "READ_TABLE", description = "the read version to retire, e.g. users_0") String table,
               @Option(names = "--dry-run", description = "say what would go and what blocks it, change nothing") boolean dryRun,
               @Option(names = "--ignore-session", paramLabel = "PID", description = "retire although this connected session (a pid kit status lists) is a client: it will not read the table again") List<Integer> ignoreSessions,
               @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "text", description = FORMAT) String format)
            throws SQLException {
        OutputFormat chosen = format(format, OutputFormat.TEXT, OutputFormat.JSON);
        return execute(chosen, "retire", o -> o.retire(table, dryRun, ignoreSessions == null ? List.of() : ignoreSessions, chosen));
    }

    @Command(name = "abort", mixinStandardHelpOptions = true, description = "Drops a building read version (write tables are untouched): the way out of a backfill that cannot complete.")
    int abort(@Parameters(paramLabel = "READ_TABLE", description = "the building read version") String table) throws SQLException {
        return execute(OutputFormat.TEXT, "abort", o -> o.abort(table));
    }

    /** One command's work, given the database's connection; returns the exit status. */
    @FunctionalInterface
    interface Work {
        int on(Operations operations) throws SQLException;
    }

    /**
     * Runs a command's work on one connection. Every command answers a database without the kit the
     * same way, in its output format, before it reads a catalog that is not there.
     */
    private int execute(OutputFormat format, String command, Work work) throws SQLException {
        this.format = format;
        this.command = command;
        LogLevel.apply(logLevel != null ? logLevel : env.getOrDefault(LogLevel.VARIABLE, "warn"));
        database = DatabaseUrl.parse(url != null ? url : env.getOrDefault(DatabaseUrl.VARIABLE, DatabaseUrl.LOCAL_DEFAULT));
        try (Connection c = Jdbc.connect(database.with("ApplicationName", "kit-cli"))) {
            Operations operations = new Operations(c, out, err);
            return operations.kitMissing(format, command) ? 1 : work.on(operations);
        }
    }

    private OutputFormat format(String value, OutputFormat... allowed) {
        return OutputFormat.of(value, allowed).orElseThrow(() -> new CommandLine.ParameterException(spec.commandLine(),
                "--format must be one of " + String.join(", ", Arrays.stream(allowed).map(OutputFormat::label).toList())
                        + " (got " + value + ")"));
    }

    private int positive(int value, String option) {
        if (value < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), option + " needs a positive whole number");
        }
        return value;
    }

    /** The database refused: its message, SQLSTATE and hint, as the server gave them; a bad argument is a usage error. */
    private int refused(Exception failure) {
        if (failure instanceof IllegalArgumentException e) {
            err.println("kit: " + e.getMessage());
            return CommandLine.ExitCode.USAGE;
        }
        SQLException e = failure instanceof SQLException sql ? sql
                : failure instanceof DataAccessException d && d.getCause(SQLException.class) instanceof SQLException cause ? cause
                : new SQLException(failure.getMessage(), failure instanceof DataAccessException d ? d.sqlState() : null, failure);
        String hint = e instanceof PSQLException p && p.getServerErrorMessage() != null ? p.getServerErrorMessage().getHint() : null;
        if (hint == null && database != null && connecting(e.getSQLState())) {
            hint = "could not connect to " + database + ": check --db-url or KIT_DB_URL";
        }
        err.println("kit: " + firstLine(e.getMessage()) + (e.getSQLState() == null ? "" : " (SQLSTATE " + e.getSQLState() + ")"));
        if (hint != null) {
            err.println("hint: " + hint);
        }
        if (format == OutputFormat.JSON) {
            // A script reads stdout: a document that says the database refused, and why.
            out.print(Json.write(new Refusal(Json.FORMAT_VERSION, command, database == null ? null : database.database(),
                    new Refusal.Error(e.getSQLState(), firstLine(e.getMessage()), hint), 3)));
        }
        return 3;
    }

    /** The documented shape of any command's {@code --format json} when the database refuses it (exit 3). */
    record Refusal(int formatVersion, String command, String database, Error error, int exitStatus) {

        record Error(String sqlstate, String message, String hint) {
        }
    }

    /** SQLSTATEs of a connection that failed: no server there, no such database, or a login refused. */
    private static boolean connecting(String sqlState) {
        return sqlState != null && (sqlState.startsWith("08") || sqlState.startsWith("28") || sqlState.equals("3D000"));
    }

    private static String firstLine(String message) {
        String text = message == null ? "" : message.replaceFirst("^ERROR: ", "");
        int newline = text.indexOf('\n');
        return newline < 0 ? text : text.substring(0, newline);
    }

    static String render(TextTable table) {
        return table.render("  ");
    }

    /** `kit --version`: the kit this command was built with (its install script says the same). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"kit " + KitVersion.current()};
        }
    }
}
