package kit.cli;

import kit.catalog.routines.RetirementPlan;
import kit.client.Catalog;
import kit.client.KitName;
import kit.client.Jdbc;
import kit.client.KitError;
import kit.console.TextTable;
import kit.types.State;
import org.jooq.DSLContext;
import org.jooq.exception.DataAccessException;
import org.jooq.impl.DSL;

import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import static kit.catalog.Routines.abortReadVersion;
import static kit.catalog.Routines.backfillRemaining;
import static kit.catalog.Routines.beginRebuild;
import static kit.catalog.Routines.retirementPlan;
import static kit.catalog.Tables.FEED;
import static kit.catalog.Tables.READ_VERSION;

/** The kit command's work, on one autocommit connection, reading the catalog through its jOOQ classes. */
final class Operations {

    private final Connection c;
    private final DSLContext db;
    private final PrintStream out;
    private final PrintStream err;

    Operations(Connection c, PrintStream out, PrintStream err) {
        this.c = c;
        this.db = Catalog.of(c);
        this.out = out;
        this.err = err;
    }

    int status(OutputFormat format, boolean exact) {
        StatusReport report = StatusReport.inOneSnapshot(db, snapshot -> StatusReport.read(snapshot, exact));
        switch (format) {
            case JSON -> out.print(Json.write(report));
            case MERMAID -> out.print(FeedGraph.render(report));
            case TEXT -> printStatus(report);
        }
        return report.exitStatus();
    }

    private void printStatus(StatusReport report) {
        out.print(CatalogReport.text(report));
        TextTable clients = new TextTable("domain", "schema version", "pid", "application", "role", "from", "since", "seen as");
        report.clients().forEach(r -> clients.row(r.domain(), r.version(), r.pid(), orUnknown(r.applicationName()), orUnknown(r.roleName()),
                r.clientAddr() == null ? "local socket" : r.clientAddr(),
                r.backendStart() == null ? "?" : r.backendStart().toLocalDateTime().withNano(0).toString().replace('T', ' '),
                r.seenBy()));
        out.println();
        out.println("Connected clients");
        out.print(Kit.render(clients));
        out.println();
        TextTable apps = new TextTable("domain", "schema version", "app", "login", "reads from", "since", "lease until");
        report.registeredApps().forEach(a -> apps.row(a.domain(), a.version(), a.instance(), a.login(), a.readsFrom(),
                a.startedAt().toLocalDateTime().withNano(0).toString().replace('T', ' '),
                a.expiresAt().toLocalDateTime().withNano(0).toString().replace('T', ' ')));
        out.println("Registered apps (on the primary; each holds its version, wherever it reads, until it stops or its lease ends)");
        out.print(Kit.render(apps));
        out.println();
        printReplication(report.replication());
        if (!report.failedBackfills().isEmpty()) {
            out.println("FAILED backfill of " + String.join(", ", report.failedBackfills().stream().map(StatusReport.FailedBackfill::table).toList())
                    + " (see Read versions): fix what it names and run kit backfill, or kit abort it");
        }
        var kit = report.kit();
        out.println(kit.same() ? "Kit " + kit.database() + " (the database's and this command's)" : "KIT   " + kit.warning());
        printDrift(report.drift(), true);
        printSecurity(report.security());
    }

    private static String orUnknown(String value) {
        return value == null ? "?" : value;
    }

    /**
     * A table as the command line names it, as the kit names it: {@code public.users_2} is
     * {@code users_2}, {@code shop."Orders"} is {@code shop.Orders}, as the kit's functions read a
     * name (kit.table_key). As given where the kit cannot read it (the next check says why) or
     * predates domains (0.7.0).
     */
    private String kitName(String given) {
        if (given == null || !DatabaseKit.hasFunction(db, "kit.table_key(text, text)")) {
            return given;
        }
        try {
            return db.fetchValue("SELECT kit.table_key(?, ?)", given, Catalog.KIT_NAMES).toString();
        } catch (DataAccessException e) {
            return given;
        }
    }

    /**
     * The read version a command names, in a state the command works on; else a usage error (exit 2)
     * that says what the table is, so that every command answers a wrong name the same way.
     */
    private void requireReadVersion(String table, String command, State... states) {
        State state = Catalog.stateOf(db, table).orElse(null);
        if (state == null) {
            List<String> namesake = db.select(READ_VERSION.READ_TABLE).from(READ_VERSION)
                    .where(READ_VERSION.READ_TABLE.ne(table))
                    .fetch(READ_VERSION.READ_TABLE).stream()
                    .filter(name -> KitName.of(name).table().equals(KitName.of(table).table())).sorted().toList();
            throw new IllegalArgumentException(table + " is not a read version of this database (kit status lists them"
                    + (namesake.isEmpty() ? ")" : "; did you mean " + String.join(" or ", namesake) + "? A table outside"
                    + " public is named with its schema)"));
        }
        if (state == State.RETIRED && !java.util.Arrays.asList(states).contains(state)) {
            throw new IllegalArgumentException(table + " is retired: its table and feeds are gone, and a retired read version"
                    + " stays retired. To read its facts that way again, create a new read version in a migration"
                    + " (kit.create_read_version, under a new name, with its feeds), as for a new version");
        }
        if (!java.util.Arrays.asList(states).contains(state)) {
            throw new IllegalArgumentException(table + " is " + state.label() + ": kit " + command + " works on "
                    + String.join(" or ", java.util.Arrays.stream(states).map(State::label).toList()) + " read versions");
        }
    }

    /**
     * A database without the kit (a wrong --db-url, or one not migrated yet) has nothing to check: said
     * in one line, for an exit status 1, instead of the error of a missing catalog table.
     */
    boolean kitMissing(OutputFormat format, String command) {
        if (Boolean.TRUE.equals(db.fetchValue("SELECT to_regclass('kit.read_version') IS NOT NULL"))) {
            return false;
        }
        String database = db.fetchValue(DSL.select(DSL.currentCatalog()));
        String message = "database " + database + " has no kit installed: install it with"
                + " flyway:migrate (classpath:db/kit beside your migrations; README, \"Adopting the kit\"), or check --db-url";
        switch (format) {
            case TEXT -> out.println("NO KIT  " + message);
            // A script reads stdout: a document that says so, or for the graph nothing but the line on stderr.
            case JSON -> out.print(Json.write(new NoKit(Json.FORMAT_VERSION, command, database, false, message, 1)));
            case MERMAID -> err.println("kit: " + message);
        }
        return true;
    }

    /** The JSON of any command on a database without the kit. */
    record NoKit(int formatVersion, String command, String database, boolean kitInstalled, String message, int exitStatus) {
    }

    private void printReplication(StatusReport.Replication replication) {
        out.println("Replication");
        if (replication.error() != null) {
            out.println("  not readable here: " + replication.error());
        } else if (replication.subscriptions().isEmpty() && replication.publications().isEmpty() && replication.streamingReplicas().isEmpty()) {
            out.println("  none; the kit's triggers fire ALWAYS, so writes in replica sessions are guarded and projected too");
        }
        replication.streamingReplicas().forEach(r -> out.printf("  streams to the physical replica %s: %s%n", r.name(),
                r.lagBytes() == null ? "its replay position is not known (none reported yet, or this login may not see it: pg_monitor can)"
                        : r.lagBytes() + " bytes of WAL behind (a backfill pauses beyond kit.replica_lag_limit)"));
        replication.subscriptions().forEach(r -> out.printf("  subscribes to %s (%s): %s write tables, %s read tables; replicated facts claim their ids and seqs here%n",
                r.name(), r.enabled() ? "enabled" : "disabled", r.writeTables(), r.readTables()));
        replication.publications().forEach(r -> out.printf("  publishes %s: %s kit tables%n", r.name(), r.kitTables()));
        out.println();
    }

    /** Prints what kit.drift() finds, with the way to repair it or not; returns how many. */
    private int printDrift(List<DriftFinding> findings, boolean adviseRepair) {
        TextTable found = new TextTable("object", "problem");
        findings.forEach(r -> found.row(r.objectText(), r.detail()));
        if (findings.isEmpty()) {
            out.println("ok    no drift: every trigger (each ENABLE ALWAYS, so replica sessions are guarded too), generated function,"
                    + " read-table rule and grant is what the kit generated and recorded");
        } else {
            out.println("DRIFT " + findings.size() + " difference(s) from what the kit generated; facts written meanwhile may be missing");
            out.print(Kit.render(found));
            if (adviseRepair) {
                out.println("      restore them with: kit repair (triggers the kit did not create are only reported), then kit verify");
            }
        }
        return findings.size();
    }

    int repair() throws SQLException {
        // CALL as written: a procedure that commits per write table.
        try (PreparedStatement call = c.prepareStatement("CALL kit.repair()")) {
            call.execute();
            // What it could not restore, and a column it put back empty, come as WARNINGs, one each.
            for (SQLWarning w = call.getWarnings(); w != null; w = w.getNextWarning()) {
                String message = w.getMessage() == null ? "" : w.getMessage();
                if (message.startsWith("kit: repair cannot")) {
                    out.println("NOT RESTORED " + message.substring("kit: repair ".length()));
                } else if (message.startsWith("kit: repair ")) {
                    out.println("RESTORED " + message.substring("kit: repair ".length()));
                }
            }
        }
        out.println("Repaired from the catalog what could be: read-table columns and rules, generated functions and triggers,"
                + " trigger states, grants");
        int left = printDrift(DriftFinding.of(db), false);
        out.println("Facts written while a feed was off are not in its read tables: kit verify, then kit rebuild what differs.");
        return left == 0 ? 0 : 1;
    }

    int verify(String given, int maxRows, OutputFormat format) {
        String only = kitName(given);
        if (only != null) {
            requireReadVersion(only, "verify", State.LIVE);
        }
        List<String> tables = only != null ? List.of(only)
                : Catalog.readTables(db, State.LIVE);
        List<DriftFinding> drift = DriftFinding.of(db);
        if (format == OutputFormat.TEXT) {
            printDrift(drift, true);
        }
        List<VerifyReport.TableCheck> checks = new ArrayList<>();
        for (String table : tables) {
            VerifyReport.TableCheck check;
            try {
                check = VerifyReport.check(table, Catalog.verify(db, table, maxRows), maxRows, !drift.isEmpty(), capturedTableOf(table));
            } catch (DataAccessException e) {
                if (!KitError.USAGE.sqlState().equals(e.sqlState())) {
                    throw e;
                }
                // The kit refuses to verify this table (a detached partition leaves facts out of view): said for
                // this table, and the others are verified still.
                check = VerifyReport.refused(table, e);
            }
            checks.add(check);
            if (format == OutputFormat.TEXT) {
                printCheck(check);
            }
        }
        List<SecurityFinding> insecure = SecurityFinding.of(db);
        int exitStatus = drift.isEmpty() && insecure.isEmpty() && checks.stream().allMatch(VerifyReport.TableCheck::ok) ? 0 : 1;
        if (format == OutputFormat.JSON) {
            out.print(Json.write(new VerifyReport(Json.FORMAT_VERSION, "verify", database(), drift, checks, insecure, exitStatus)));
        } else {
            printSecurity(insecure);
        }
        return exitStatus;
    }

    /** The table under capture (kit.baseline, kit 0.8.0 on) whose read version {@code readTable} is; null when none. */
    private String capturedTableOf(String readTable) {
        if (db.fetchValue("SELECT to_regclass('kit.baseline_table')") == null) {
            return null;
        }
        return db.fetchOptional("SELECT source_table FROM kit.baseline_table WHERE read_table = ? AND state = 'capturing'", readTable)
                .map(r -> r.get(0, String.class)).orElse(null);
    }

    private void printCheck(VerifyReport.TableCheck check) {
        if (check.ok()) {
            out.println("ok    " + check.table() + " equals a rebuild from its facts"
                    + (check.capturedTable() == null ? "" : " and the table under capture, " + check.capturedTable()));
            return;
        }
        if (check.rows().isEmpty()) {
            out.println("REFUSED " + check.table() + " was not verified: " + check.hint());
            return;
        }
        TextTable diff = new TextTable("difference", "row");
        check.rows().forEach(r -> diff.row(r.difference(), Json.oneLine(r.row())));
        out.println("DIFF  " + check.table() + ": " + differences(check));
        out.print(Kit.render(diff));
        out.println("      " + check.hint());
    }

    /**
     * What differs, counted as the JSON counts it: a row per id (a row with other values is listed
     * twice, as live has it and as the replay gives it), and the facts that break a rule.
     */
    private static String differences(VerifyReport.TableCheck check) {
        int rows = check.missingRows() + check.extraRows() + check.differingRows();
        List<String> kinds = new ArrayList<>();
        if (check.differingRows() > 0) kinds.add(check.differingRows() + " with other values");
        if (check.extraRows() > 0) kinds.add(check.extraRows() + " only in live");
        if (check.missingRows() > 0) kinds.add(check.missingRows() + " only in the rebuild");
        String more = check.truncated() ? "+" : "";
        // Cut at --max-rows, a row with other values may be listed by one side only: no kinds then.
        String text = rows == 0 ? "" : rows + more + (rows == 1 ? " row differs" : " rows differ") + " from a rebuild from its facts ("
                + (check.truncated() ? "the first listed; --max-rows cut the list" : String.join(", ", kinds)) + ")";
        if (check.brokenFacts() > 0 || check.replayFails()) {
            text += (text.isEmpty() ? "" : "; ") + (check.brokenFacts() > 0 ? check.brokenFacts() + more
                    + (check.brokenFacts() == 1 ? " fact breaks" : " facts break") + " a rule of it" : "its replay fails");
        }
        if (check.uncapturedRows() > 0) {
            text += (text.isEmpty() ? "" : "; ") + check.uncapturedRows() + more
                    + (check.uncapturedRows() == 1 ? " row differs" : " rows differ") + " from the table under capture";
        }
        return text;
    }

    /**
     * Prints what kit.check_security() finds: what could let a writer's code run with another role's
     * rights (a SECURITY DEFINER function whose search_path a writer could influence, a domain schema
     * a writer may create objects in), each with the statement that removes it.
     */
    private void printSecurity(List<SecurityFinding> findings) {
        if (findings.isEmpty()) {
            out.println("ok    no writer can make its code run with another role's rights: every SECURITY DEFINER function "
                    + "in the kit's reach pins its search_path, and no writer may create objects in a domain schema");
            return;
        }
        TextTable found = new TextTable("object", "problem", "fix");
        findings.forEach(r -> found.row(r.object(), r.problem(), r.hint()));
        out.println("UNSAFE " + findings.size() + " finding(s) could let a writer's code run with another role's rights");
        out.print(Kit.render(found));
    }

    /** What kit.drift() finds, with the way to repair each; exit 1 on any. */
    int drift(OutputFormat format) {
        List<DriftFinding> findings = DriftFinding.of(db);
        int exitStatus = findings.isEmpty() ? 0 : 1;
        if (format == OutputFormat.JSON) {
            out.print(Json.write(new DriftReport(Json.FORMAT_VERSION, "drift", database(), findings, exitStatus)));
        } else {
            printDrift(findings, true);
        }
        return exitStatus;
    }

    /** The documented shape of {@code kit drift --format json}. */
    record DriftReport(int formatVersion, String command, String database, List<DriftFinding> findings, int exitStatus) {
    }

    private String database() {
        return db.fetchValue(DSL.select(DSL.currentCatalog()));
    }

    int backfillAll(String given, int batchSize) throws SQLException {
        String only = kitName(given);
        if (only != null) {
            requireReadVersion(only, "backfill", State.BUILDING);
        }
        List<String> building = db.select(READ_VERSION.READ_TABLE).from(READ_VERSION)
                .where(READ_VERSION.STATE.eq(State.BUILDING), only == null ? DSL.noCondition() : READ_VERSION.READ_TABLE.eq(only))
                .orderBy(READ_VERSION.CREATED_AT, READ_VERSION.READ_TABLE).fetch(READ_VERSION.READ_TABLE);
        if (building.isEmpty()) {
            out.println("Nothing to backfill: no read version is building.");
            return 0;
        }
        SQLException first = null;
        for (String table : building) {
            try {
                backfill(table, batchSize);
            } catch (SQLException e) {
                // Like kit.backfill(): a version that fails does not hold the others up; the command fails at the end.
                out.println("  " + table + " FAILED: " + e.getMessage().lines().findFirst().orElse("") + " (kit status shows it)");
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
        return 0;
    }

    int rebuild(String given, int batchSize) throws SQLException {
        String table = kitName(given);
        requireReadVersion(table, "rebuild", State.LIVE);
        String shadow = beginRebuild(db.configuration(), table);
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
        long remaining = backfillRemaining(db.configuration(), table);
        // Facts a killed run applied before count in the catalog, not in this run's progress.
        long before = appliedSoFar(db, table).orElse(0L);
        long started = System.nanoTime();
        out.printf("Backfilling %s: about %d facts to apply%n", table, remaining);
        AtomicLong done = new AtomicLong();
        String url = c.getMetaData().getURL();
        // CALL as written: a procedure that commits per batch, which jOOQ would call with a JDBC escape.
        try (PreparedStatement call = c.prepareStatement("CALL kit.backfill(?, ?, domain => '" + Catalog.KIT_NAMES + "')")) {
            Thread watcher = Thread.ofVirtual().start(() -> {
                try (Connection w = Jdbc.connect(url)) {
                    int shown = 0;
                    while (!Thread.currentThread().isInterrupted()) {
                        Thread.sleep(1000);
                        appliedSoFar(Catalog.of(w), table).ifPresent(n -> {
                            done.set(n - before);
                            progress(table, n - before, remaining, started, System.nanoTime());
                        });
                        shown = showWaits(call, shown);
                    }
                } catch (InterruptedException | SQLException e) {
                    // The backfill ended (or the watcher lost its connection): progress is only a courtesy.
                }
            });
            try {
                call.setString(1, table);
                call.setInt(2, batchSize);
                call.execute();
            } finally {
                watcher.interrupt();
                joinQuietly(watcher);
            }
        }
        // A rebuild's shadow is gone once swapped in: all of it was applied.
        long applied = appliedSoFar(db, table).map(n -> n - before).orElse(Math.max(done.get(), remaining));
        progress(table, applied, remaining, started, System.nanoTime());
        out.println("  " + table + " is complete");
    }

    /**
     * Prints the backfill's NOTICEs that say what it waits for (an open writer), as they arrive: the
     * catalog's progress stands still meanwhile. The kit's waits carry SQLSTATE KT007 (what they end
     * with when they give up). Returns how many of the statement's warnings are seen.
     */
    private int showWaits(PreparedStatement call, int seen) throws SQLException {
        int index = 0;
        for (SQLWarning w = call.getWarnings(); w != null; w = w.getNextWarning(), index++) {
            if (index >= seen && KitError.BUSY.sqlState().equals(w.getSQLState()) && w.getMessage() != null) {
                out.println("  " + w.getMessage().replaceFirst("^kit: ", ""));
            }
        }
        return Math.max(seen, index);
    }

    /** Facts the backfill of {@code table} has applied so far; empty once a rebuild's shadow is swapped in. */
    private static Optional<Long> appliedSoFar(DSLContext db, String table) {
        return db.select(READ_VERSION.BACKFILLED_FACTS).from(READ_VERSION).where(READ_VERSION.READ_TABLE.eq(table))
                .fetchOptional(READ_VERSION.BACKFILLED_FACTS);
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

    int retire(String given, boolean dryRun, List<Integer> ignoreSessions, OutputFormat format) {
        String table = kitName(given);
        requireReadVersion(table, "retire", State.LIVE, State.BUILDING);
        Integer[] ignore = ignoreSessions.toArray(Integer[]::new);
        RetirementPlan plan = retirementPlan(db.configuration(), table, ignore, Catalog.KIT_NAMES);
        boolean blocked = plan.getClients() != null || plan.getReferrers() != null || plan.getDependents() != null;
        if (blocked && !dryRun) {
            Catalog.retire(db, table, ignore);  // refuses, naming what blocks it, before anything is printed or changed
        }
        if (format == OutputFormat.JSON) {
            List<Integer> versions = List.of(plan.getVersions());
            var report = new RetirementReport(Json.FORMAT_VERSION, "retire", database(), table, KitName.of(table).domain(), dryRun, versions,
                    StatusReport.Feed.select(db).where(FEED.READ_TABLE.eq(table)).orderBy(FEED.POSITION).fetchInto(FEED).stream()
                            .map(StatusReport.Feed::of).toList(),
                    ConnectedClients.of(db).stream()
                            .filter(client -> client.domain().equals(KitName.of(table).domain())
                                    && versions.contains(client.version()) && !ignoreSessions.contains(client.pid())).toList(),
                    ConnectedClients.registered(db).stream()
                            .filter(app -> app.domain().equals(KitName.of(table).domain()) && versions.contains(app.version())).toList(),
                    names(plan.getReferrers()), names(plan.getDependents()), !blocked, !dryRun, dryRun && blocked ? 1 : 0);
            if (!dryRun) {
                Catalog.retire(db, table, ignore);
            }
            out.print(Json.write(report));
            return report.exitStatus();
        }
        out.println((dryRun ? "Retiring " + table + " would:" : "Retiring " + table + ":"));
        out.println("  drop table " + table + " and its feeds: " + listOrNone(plan.getFeeds()));
        String domain = KitName.of(table).domain();
        out.println("  retire schema versions" + (KitName.PUBLIC.equals(domain) ? "" : " of domain " + domain) + ": "
                + listOrNone(plan.getVersions()));
        out.println("  keep every write table and fact");
        if (plan.getClients() != null) {
            out.println("  blocked by connected clients: " + plan.getClients());
            out.println("    (stop them, or name a session that will not read the table again: --ignore-session PID;"
                    + " a registered app blocks until it stops, or its lease ends)");
        }
        if (plan.getReferrers() != null) {
            out.println("  blocked by live read versions that reference it: " + plan.getReferrers());
        }
        if (plan.getDependents() != null) {
            out.println("  blocked by objects that depend on its table: " + plan.getDependents());
        }
        if (dryRun) {
            return blocked ? 1 : 0;
        }
        Catalog.retire(db, table, ignore);
        out.println(table + " retired");
        return 0;
    }

    /** A list kit.retirement_plan gives as one line ("a, b"), as its entries; none when null. */
    private static List<String> names(String list) {
        return list == null ? List.of() : List.of(list.split(", "));
    }

    private static String listOrNone(Object[] items) {
        return items.length == 0 ? "none" : String.join(", ", java.util.Arrays.stream(items).map(String::valueOf).toList());
    }

    int abort(String given) {
        String table = kitName(given);
        requireReadVersion(table, "abort", State.BUILDING);
        abortReadVersion(db.configuration(), table, Catalog.KIT_NAMES);
        out.println(table + " aborted: its table, feeds and projections are gone; write tables untouched");
        return 0;
    }
}
