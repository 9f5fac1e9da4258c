package kit.cli;

import kit.catalog.routines.RetirementPlan;
import kit.client.Catalog;
import kit.client.Jdbc;
import kit.client.KitError;
import kit.client.KitVersion;
import kit.console.TextTable;
import kit.types.State;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.impl.DSL;

import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import static kit.catalog.Routines.abortReadVersion;
import static kit.catalog.Routines.backfillRemaining;
import static kit.catalog.Routines.beginRebuild;
import static kit.catalog.Routines.checkSecurity;
import static kit.catalog.Routines.clientSchemaVersion;
import static kit.catalog.Routines.drift;
import static kit.catalog.Routines.retirementPlan;
import static kit.catalog.Tables.READ_VERSION;

/** The kit command's work, on one autocommit connection, reading the catalog through its jOOQ classes. */
final class Operations {

    private final Connection c;
    private final DSLContext db;
    private final PrintStream out;

    Operations(Connection c, PrintStream out) {
        this.c = c;
        this.db = Catalog.of(c);
        this.out = out;
    }

    int status() {
        out.print(CatalogReport.render(c));
        TextTable clients = new TextTable("app version", "connections", "application names");
        Field<String> applicationName = DSL.field(DSL.name("application_name"), String.class);
        Field<Integer> version = clientSchemaVersion(applicationName);
        db.select(version, DSL.count(), DSL.stringAggDistinct(applicationName, ", ").orderBy(applicationName))
                .from(DSL.table(DSL.name("pg_catalog", "pg_stat_activity")))
                .where(DSL.field(DSL.name("datname")).eq(DSL.currentCatalog()), version.isNotNull())
                .groupBy(version).orderBy(version)
                .forEach(r -> clients.row("app-v" + r.value1(), r.value2(), r.value3()));
        out.println();
        out.println("Connected clients");
        out.print(Kit.render(clients));
        out.println();
        printReplication();
        int failed = printFailedBackfills() + printKitVersions();
        return printDrift(true) + failed == 0 ? 0 : 1;
    }

    /**
     * The read version a command names, in a state the command works on; else a usage error (exit 2)
     * that says what the table is, so that every command answers a wrong name the same way.
     */
    private void requireReadVersion(String table, String command, State... states) {
        State state = Catalog.stateOf(db, table).orElse(null);
        if (state == null) {
            throw new IllegalArgumentException(table + " is not a read version of this database (kit status lists them)");
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
    boolean kitMissing() {
        if (Boolean.TRUE.equals(db.fetchValue("SELECT to_regclass('kit.read_version') IS NOT NULL"))) {
            return false;
        }
        out.println("NO KIT  database " + db.fetchValue("SELECT current_database()") + " has no kit installed: install it with"
                + " flyway:migrate (classpath:db/kit beside your migrations; README, \"Adopting the kit\"), or check --db-url");
        return true;
    }

    /**
     * The kit in the database beside this command's: a database with an older kit has that kit's checks
     * only (kit.drift is the database's), so status says so and asks for the migrate that upgrades it.
     * Returns 1 when they differ.
     */
    private int printKitVersions() {
        boolean versioned = Boolean.TRUE.equals(db.fetchValue("SELECT to_regprocedure('kit.version()') IS NOT NULL"));
        String inDatabase = versioned ? String.valueOf(db.fetchValue("SELECT kit.version()")) : "0.1.0";  // before it had a version
        String mine = KitVersion.current();
        if (mine.equals(inDatabase)) {
            out.println("Kit " + inDatabase + " (the database's and this command's)");
            return 0;
        }
        out.println("KIT   the database has kit " + inDatabase + ", this command is kit " + mine
                + ": the checks below are the database's kit's; flyway:migrate with the kit " + mine + " jar upgrades it");
        return 1;
    }

    /**
     * Where facts come from and go to besides this database's own writers: its logical-replication
     * subscriptions and publications of kit tables (replica sessions: see docs/operating.md, "Replica sessions
     * and logical replication").
     */
    private void printReplication() {
        try {
            printReplicationOrFail();
        } catch (org.jooq.exception.DataAccessException e) {
            // Status must work for any role that can read the catalog; this part is a courtesy.
            out.println("Replication");
            out.println("  not readable here: " + e.getMessage().lines().reduce((a, b) -> b).orElse(""));
            out.println();
        }
    }

    private void printReplicationOrFail() {
        var subscriptions = db.fetch("""
                SELECT s.subname, s.subenabled,
                       count(*) FILTER (WHERE r.srrelid IN (SELECT to_regclass(format('public.%I', w.write_table)) FROM kit.write_table w)) AS facts,
                       count(*) FILTER (WHERE r.srrelid IN (SELECT to_regclass(format('public.%I', v.read_table)) FROM kit.read_version v)) AS reads
                  FROM pg_subscription s JOIN pg_subscription_rel r ON r.srsubid = s.oid
                 WHERE s.subdbid = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
                 GROUP BY s.subname, s.subenabled ORDER BY s.subname""");
        var publications = db.fetch("""
                SELECT p.pubname, count(*) AS tables FROM pg_publication_tables p
                 WHERE p.schemaname = 'public' AND p.tablename IN (SELECT w.write_table FROM kit.write_table w
                                                                  UNION SELECT v.read_table FROM kit.read_version v)
                 GROUP BY p.pubname ORDER BY p.pubname""");
        out.println("Replication");
        if (subscriptions.isEmpty() && publications.isEmpty()) {
            out.println("  none; the kit's triggers fire ALWAYS, so writes in replica sessions are guarded and projected too");
        }
        subscriptions.forEach(r -> out.printf("  subscribes to %s (%s): %s write tables, %s read tables; replicated facts claim their ids and seqs here%n",
                r.get(0), Boolean.TRUE.equals(r.get(1)) ? "enabled" : "disabled", r.get(2), r.get(3)));
        publications.forEach(r -> out.printf("  publishes %s: %s kit tables%n", r.get(0), r.get(1)));
        out.println();
    }

    /** Prints the building versions whose backfill failed (they need an operator); returns how many. */
    private int printFailedBackfills() {
        List<String> failed = db.select(READ_VERSION.READ_TABLE).from(READ_VERSION)
                .where(READ_VERSION.STATE.eq(State.BUILDING), READ_VERSION.BACKFILL_ERROR.isNotNull())
                .orderBy(READ_VERSION.READ_TABLE).fetch(READ_VERSION.READ_TABLE);
        if (!failed.isEmpty()) {
            out.println("FAILED backfill of " + String.join(", ", failed) + " (see Read versions): fix what it names and run kit backfill, or kit abort it");
        }
        return failed.size();
    }

    /** Prints what kit.drift() finds, with the way to repair it or not; returns how many. */
    private int printDrift(boolean adviseRepair) {
        TextTable found = new TextTable("object", "problem");
        var findings = db.selectFrom(drift()).fetch();
        findings.forEach(r -> found.row(r.getObject(), r.getProblem()));
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
        int left = printDrift(false);
        out.println("Facts written while a feed was off are not in its read tables: kit verify, then kit rebuild what differs.");
        return left == 0 ? 0 : 1;
    }

    int verify(String only, int maxRows) {
        if (only != null) {
            requireReadVersion(only, "verify", State.LIVE);
        }
        List<String> tables = only != null ? List.of(only)
                : Catalog.readTables(db, State.LIVE);
        int drift = printDrift(true);
        int differing = drift;
        for (String table : tables) {
            TextTable diff = new TextTable("difference", "row");
            var found = Catalog.verify(db, table, maxRows);
            found.forEach(r -> diff.row(r.getDifference(), r.getRowData()));
            int rows = found.size();
            if (rows == 0) {
                out.println("ok    " + table + " equals a rebuild from its facts");
            } else {
                differing++;
                out.println("DIFF  " + table + ": " + rows + (rows == maxRows ? "+" : "") + (rows == 1 ? " row differs" : " rows differ") + " from a rebuild from its facts");
                out.print(Kit.render(diff));
                if (found.stream().anyMatch(r -> r.getDifference().equals("fact breaks a rule") || r.getDifference().equals("replay fails"))) {
                    out.println("      facts break a rule of " + table + " (written while the kit's triggers or a rule were off): no rebuild"
                            + " can complete; serve it from a new read version whose rules they satisfy (docs/operating.md, \"The kit command\")");
                } else if (drift > 0) {
                    out.println("      the drift above comes first (kit repair): a rebuild now would replay through damaged tables or code");
                } else {
                    out.println("      repair it with: kit rebuild " + table);
                }
            }
        }
        return differing + insecureFunctions() == 0 ? 0 : 1;
    }

    /** Prints what kit.check_security() finds (SECURITY DEFINER functions whose search_path a writer could influence). */
    private int insecureFunctions() {
        TextTable found = new TextTable("function", "problem");
        var findings = db.selectFrom(checkSecurity()).fetch();
        findings.forEach(r -> found.row(r.getFunction(), r.getProblem()));
        int count = findings.size();
        if (count == 0) {
            out.println("ok    every SECURITY DEFINER function in schemas kit and public pins its search_path");
        } else {
            out.println("UNSAFE " + count + " SECURITY DEFINER function(s) could run a writer's code with their owner's rights");
            out.print(Kit.render(found));
            out.println("      pin their path: ALTER FUNCTION ... SET search_path = pg_catalog, pg_temp");
        }
        return count;
    }

    int backfillAll(String only, int batchSize) throws SQLException {
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

    int rebuild(String table, int batchSize) throws SQLException {
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
        try (PreparedStatement call = c.prepareStatement("CALL kit.backfill(?, ?)")) {
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

    int retire(String table, boolean dryRun) {
        requireReadVersion(table, "retire", State.LIVE, State.BUILDING);
        RetirementPlan plan = retirementPlan(db.configuration(), table);
        boolean blocked = plan.getClients() != null || plan.getReferrers() != null || plan.getDependents() != null;
        if (blocked && !dryRun) {
            Catalog.retire(db, table);  // refuses, naming what blocks it, before anything is printed or changed
        }
        out.println((dryRun ? "Retiring " + table + " would:" : "Retiring " + table + ":"));
        out.println("  drop table " + table + " and its feeds: " + listOrNone(plan.getFeeds()));
        out.println("  retire schema versions: " + listOrNone(plan.getVersions()));
        out.println("  keep every write table and fact");
        if (plan.getClients() != null) {
            out.println("  blocked by connected clients: " + plan.getClients());
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
        Catalog.retire(db, table);
        out.println(table + " retired");
        return 0;
    }

    private static String listOrNone(Object[] items) {
        return items.length == 0 ? "none" : String.join(", ", java.util.Arrays.stream(items).map(String::valueOf).toList());
    }

    int abort(String table) {
        requireReadVersion(table, "abort", State.BUILDING);
        abortReadVersion(db.configuration(), table);
        out.println(table + " aborted: its table, feeds and projections are gone; write tables untouched");
        return 0;
    }
}
