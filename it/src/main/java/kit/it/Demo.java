package kit.it;

import kit.cli.CatalogReport;
import kit.client.AppRoles;
import kit.client.Catalog;
import kit.client.DatabaseUrl;
import kit.client.Jdbc;
import kit.client.KitError;
import kit.client.Migrations;
import kit.console.LogLevel;
import kit.console.TextTable;
import kit.example.ExampleMigrations;
import kit.server.PostgresServer;
import kit.server.ReplicatedServer;
import kit.types.State;
import org.jooq.DSLContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;


/**
 * The main job: a real rolling upgrade under live traffic. PostgreSQL (embedded,
 * or a fresh database on {@code KIT_DB_URL}'s server), the apps as separate
 * processes started from their jars, and a load generator hitting every
 * running app while the schema moves 0 -> 1 -> 2 -> tidy-up -> 3 -> 4. Prints
 * progress, checks what must hold at each step, ends with a summary table,
 * stops every process it started, and exits non-zero if any check failed.
 */
public final class Demo {

    private final Path projectRoot;
    private final Duration trafficPerStep;
    /** Whether the apps read from a streaming replica of the demo's own (--replica). */
    private final boolean readFromReplica;
    private final Checks checks = new Checks();
    private final Http http = new Http();
    private final List<StepStats> steps = new ArrayList<>();
    private final Map<Integer, AppProcess> apps = new TreeMap<>();
    private Path logs;
    private String appDbUrl;
    /** The replica's URL of the demo's database, or null when the apps read from the primary. */
    private String appReadUrl;
    private Migrations migrations;
    private LoadGenerator load;
    /** When the running apps last changed: a step's checks run under its traffic and count towards it. */
    private long trafficFrom;

    public Demo(Path projectRoot, Duration trafficPerStep) {
        this(projectRoot, trafficPerStep, false);
    }

    /** With {@code readFromReplica}, on an embedded primary and streaming replica whose replica the apps read from. */
    public Demo(Path projectRoot, Duration trafficPerStep, boolean readFromReplica) {
        this.projectRoot = projectRoot;
        this.trafficPerStep = trafficPerStep;
        this.readFromReplica = readFromReplica;
    }

    public static void main(String[] args) throws Exception {
        LogLevel.apply(System.getenv().getOrDefault(LogLevel.VARIABLE, "warn"));
        Duration perStep = Duration.ofSeconds(8);
        boolean replica = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "-h", "--help" -> {
                    System.out.println(usage());
                    System.exit(0);
                }
                case "--seconds-per-step" -> perStep = Duration.ofSeconds(Long.parseLong(args[++i]));
                case "--replica" -> replica = true;
                default -> {
                    System.err.println("demo: unknown option " + args[i] + "\n\n" + usage());
                    System.exit(2);
                }
            }
        }
        System.exit(new Demo(Path.of("").toAbsolutePath(), perStep, replica).run() ? 0 : 1);
    }

    /** The demo's usage, from the file that ./run also prints for --help without building first. */
    static String usage() {
        try (var in = Demo.class.getResourceAsStream("demo-usage.txt")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).stripTrailing();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Requests the load generator sent in all steps. */
    public long totalRequests() {
        return steps.stream().mapToLong(StepStats::requests).sum();
    }

    /** Unexpected answers in all steps. */
    public long unexpectedAnswers() {
        return steps.stream().mapToLong(StepStats::unexpected).sum();
    }

    /** What the load generator saw in each step, in order. */
    public List<StepStats> steps() {
        return List.copyOf(steps);
    }

    /** The checks that held, each as the sentence the demo printed. */
    public List<String> passedChecks() {
        return checks.passed();
    }

    /** The checks that failed, each as the sentence the demo printed. */
    public List<String> failedChecks() {
        return checks.failures();
    }

    /** Runs the whole demo; true when every check passed. */
    public boolean run() throws Exception {
        long started = System.nanoTime();
        logs = projectRoot.resolve("it/target/demo-logs");
        System.out.println("cqrs-kit demo: a rolling upgrade from schema version 0 to 4 under live traffic");
        say("Starting PostgreSQL");
        try (PostgresServer server = readFromReplica ? ReplicatedServer.start() : PostgresServer.fromEnvironment()) {
            System.out.println("  " + server.describe());
            String database = "kit_demo_" + System.currentTimeMillis();
            server.createDatabase(database, null);
            DatabaseUrl url = server.url().withDatabase(database);
            appDbUrl = url.jdbc();
            if (server instanceof ReplicatedServer replicated) {
                appReadUrl = replicated.replicaUrl().withDatabase(database).jdbc();
                say("the apps write to the primary and read from the replica (--read-db-url)");
            }
            migrations = new Migrations(url, ExampleMigrations.LOCATION, AppRoles.DEFAULT_PREFIX);
            try {
                upgrade(url);
                if (server instanceof ReplicatedServer replicated) {
                    replicaEqualsPrimary(replicated, database);
                }
            } catch (Exception e) {
                checks.check(false, "the demo ran to the end (" + e + ")");
                e.printStackTrace();
            } finally {
                if (load != null) {
                    load.close();
                }
                apps.values().forEach(AppProcess::close);
                apps.clear();
                server.dropDatabase(database);
            }
        }
        printSummary();
        System.out.printf("%nDemo checks: %s (%.0f s)%n", checks.summary(), (System.nanoTime() - started) / 1e9);
        checks.failures().forEach(f -> System.out.println("  failed: " + f));
        return checks.allPassed();
    }

    private void upgrade(DatabaseUrl url) throws Exception {
        StepStats step = step("1. version 0");
        migrate("0", step);
        start(0);
        load = new LoadGenerator(6, 3, step);
        load.add(target(0));
        trafficFrom = System.nanoTime();
        traffic();

        upgradeTo("1", 1, step("2. version 1 beside 0"));
        crossVersionLogin(1, 0);
        crossVersionLogin(0, 1);
        traffic();

        upgradeTo("2", 2, step("3. version 2 beside 0, 1"));
        passwordChangeReachesOldServers();
        traffic();

        step = step("4. tidy-up (0, 1 retired)");
        tidyUpRefusedWhileOldAppsRun();
        say("Stopping app-v0 and app-v1 (the load generator leaves them first)");
        load.remove(0);
        load.remove(1);
        Thread.sleep(200);
        stop(0);
        stop(1);
        migrate("2.1", step);
        trafficFrom = System.nanoTime();
        retiredAppRefusesToStart();
        traffic();

        upgradeTo("3", 3, step("5. version 3 beside 2"));
        messagesFlow();
        traffic();

        step = step("6. version 4 beside 3");
        say("Stopping app-v2 (the load generator leaves it first)");
        load.remove(2);
        Thread.sleep(200);
        stop(2);
        upgradeTo("4", 4, step);
        messageCountShowsMessagesSent();
        deletedUserIsGoneFromEveryVersion();
        traffic();

        load.close();
        Ledger ledger = load.ledger();
        load = null;
        say("Traffic stopped: " + totalRequests() + " requests in all; " + ledger.figures());
        everyReadTableEqualsItsRebuild(url);
        try (Connection c = Jdbc.connect(url.jdbc())) {
            List<String> problems = ledger.verify(c);
            checks.check(problems.isEmpty(), "every acknowledged write is in its write table and in users_2, users_4 / messages_3, with the last acknowledged password ("
                    + ledger.checkedRows() + " rows checked)" + (problems.isEmpty() ? "" : ": " + problems));
            everyMessageCountIsTheMessagesSent(c);
        }
        for (StepStats s : steps) {
            checks.check(s.unexpected() == 0, "step " + s.name() + ": no unexpected answers (" + s.unexpected() + ")"
                    + (s.unexpected() == 0 ? "" : " e.g. " + s.unexpectedExamples()));
        }
    }

    /** Migrates to `target` while the traffic runs, starts app-v`version` and sends load to it too. */
    private void upgradeTo(String target, int version, StepStats step) throws Exception {
        migrate(target, step);
        start(version);
        load.add(target(version));
        trafficFrom = System.nanoTime();
    }

    /** A new step of the summary; the load generator counts into it from now on. */
    private StepStats step(String name) {
        StepStats s = new StepStats(name);
        steps.add(s);
        if (load != null) {
            load.startStep(s);
        }
        System.out.println();
        System.out.println("== Step " + name);
        return s;
    }

    private void migrate(String target, StepStats step) {
        long t = System.nanoTime();
        int applied = migrations.migrateTo(target);
        long millis = Duration.ofNanos(System.nanoTime() - t).toMillis();
        step.migrationTook(millis);
        say("flyway migrate -target=" + target + ": " + applied + " step(s) applied in " + millis + " ms"
                + (load == null ? "" : ", while traffic ran"));
    }

    private void start(int version) throws Exception {
        List<String> flags = new ArrayList<>(List.of("--hash-iterations", "1000", "--pool-size", "4"));
        if (appReadUrl != null) {
            flags.addAll(List.of("--read-db-url", appReadUrl));
        }
        AppProcess app = AppProcess.launch(projectRoot, version, appDbUrl, logs, flags.toArray(String[]::new));
        apps.put(version, app);
        app.awaitHealthy(http, Duration.ofSeconds(30));
        say("app-v" + version + " started (pid " + app.pid() + ", " + app.baseUrl() + ")");
    }

    private void stop(int version) {
        apps.remove(version).close();
        say("app-v" + version + " stopped");
    }

    private LoadGenerator.Target target(int version) {
        return new LoadGenerator.Target(version, apps.get(version).baseUrl());
    }

    /** Traffic until {@code trafficPerStep} after the apps last changed, the step's checks included. */
    private void traffic() throws InterruptedException {
        say("traffic for " + trafficPerStep.toSeconds() + " s to " + apps.keySet().stream().map(v -> "app-v" + v).collect(Collectors.joining(", "))
                + ", counted from the step's last change");
        Thread.sleep(Math.max(0, trafficPerStep.toMillis() - Duration.ofNanos(System.nanoTime() - trafficFrom).toMillis()));
    }

    private void crossVersionLogin(int registerOn, int logInOn) {
        String email = "cross-" + registerOn + "-" + logInOn + "@demo.example";
        Map<String, Object> body = registerOn == 0
                ? Map.of("email", email, "password", "cross-password")
                : Map.of("email", email, "password", "cross-password", "username", "cross" + registerOn);
        Http.Result registered = http.post(apps.get(registerOn).baseUrl() + "/users", body);
        Http.Result login = http.post(apps.get(logInOn).baseUrl() + "/sessions", Map.of("email", email, "password", "cross-password"));
        checks.check(registered.status() == 201 && login.status() == 200,
                "a user registered through app-v" + registerOn + " logs in through app-v" + logInOn
                        + " (HTTP " + registered.status() + ", " + login.status() + ")");
    }

    private void passwordChangeReachesOldServers() {
        String email = "changer@demo.example";
        long id = http.post(apps.get(0).baseUrl() + "/users", Map.of("email", email, "password", "old-password")).json().get("id").asLong();
        Http.Result change = http.put(apps.get(2).baseUrl() + "/users/" + id + "/password", Map.of("password", "new-password"));
        checks.check(change.status() == 204, "app-v2 changes the password of a user registered through app-v0 (HTTP " + change.status() + ")");
        for (int version : List.of(0, 1, 2)) {
            String base = apps.get(version).baseUrl();
            int old = http.post(base + "/sessions", Map.of("email", email, "password", "old-password")).status();
            int fresh = http.post(base + "/sessions", Map.of("email", email, "password", "new-password")).status();
            checks.check(old == 401 && fresh == 200, "app-v" + version + " refuses the old password and accepts the new one (HTTP " + old + ", " + fresh + ")");
        }
    }

    private void tidyUpRefusedWhileOldAppsRun() throws SQLException {
        try {
            migrations.configure("2.1").loggers(ExpectedRefusalLog.class.getName()).load().migrate();
            checks.check(false, "the tidy-up refuses while app-v0 and app-v1 are connected");
        } catch (RuntimeException e) {
            String reason = rootMessage(e);
            say("tidy-up refused: " + reason);
            checks.check(KitError.of(e).filter(k -> k == KitError.IN_USE).isPresent(),
                    "the tidy-up refuses (KT005) while app-v0 and app-v1 are connected");
        }
        try (Connection c = Jdbc.connect(appDbUrl)) {
            checks.check(Catalog.readTables(Catalog.of(c), State.LIVE).equals(List.of("users_0", "users_1", "users_2")),
                    "the refused tidy-up changed nothing (users_0, users_1, users_2 still live)");
        }
    }

    private void retiredAppRefusesToStart() throws Exception {
        try (AppProcess late = AppProcess.launch(projectRoot, 0, appDbUrl, logs)) {
            int exit = late.awaitExit(Duration.ofSeconds(30));
            String output = late.output();
            // The app's last log line, without its time, level and logger: the refusal is what the demo expects.
            String reason = output.lines().reduce((a, b) -> b).orElse("").replaceFirst("^\\S+ \\[[A-Z]+\\] \\S+ - ", "");
            say("app-v0 after the tidy-up: exit " + exit + ": " + reason);
            checks.check(exit == 3 && output.contains("retired"), "app-v0 refuses to start once schema version 0 is retired");
        }
    }

    private void messagesFlow() {
        String base = apps.get(3).baseUrl();
        long a = http.post(base + "/users", Map.of("email", "ann@demo.example", "password", "ann-password", "username", "ann")).json().get("id").asLong();
        long b = http.post(apps.get(2).baseUrl() + "/users", Map.of("email", "bob@demo.example", "password", "bob-password", "username", "bob")).json().get("id").asLong();
        Http.Result sent = http.post(base + "/messages", Map.of("src_id", a, "dst_id", b, "content", "hi bob, from app-v3"));
        Http.Result inbox = http.get(base + "/users/" + b + "/messages");
        checks.check(sent.status() == 201 && inbox.status() == 200 && inbox.body().contains("hi bob"),
                "app-v3 sends a message to a user registered through app-v2 and reads it back");
        Http.Result unknown = http.post(base + "/messages", Map.of("src_id", a, "dst_id", 987654321L, "content", "anyone?"));
        checks.check(unknown.status() == 404, "a message to an unknown user gets 404 (HTTP " + unknown.status() + ")");
    }

    /** users_4's message_count, read through app-v4, is what the user sent through v3 and v4 alike. */
    private void messageCountShowsMessagesSent() throws SQLException {
        String v3 = apps.get(3).baseUrl();
        String v4 = apps.get(4).baseUrl();
        long carol = register(v3, "carol");
        long dave = register(v4, "dave");
        int sent = 0;
        for (String base : List.of(v3, v3, v3, v4, v4)) {
            Http.Result r = http.post(base + "/messages", Map.of("src_id", carol, "dst_id", dave, "content", "hi dave"));
            sent += r.status() == 201 ? 1 : 0;
        }
        long written;
        try (Connection c = Jdbc.connect(appDbUrl)) {
            written = Jdbc.number(c, "SELECT count(*) FROM message_sent_3 WHERE src_id = ?", carol);
        }
        Http.Result read = http.get(v4 + "/users/" + carol);
        long shown = read.status() == 200 ? read.json().get("message_count").asLong() : -1;
        checks.check(sent == 5 && written == 5 && shown == written,
                "app-v4 shows message_count " + shown + " for a user who sent 3 messages through app-v3 and 2 through app-v4 ("
                        + written + " in message_sent_3)");
    }

    /**
     * A deletion through app-v4 removes the user from users_2 and users_4, so no running version lets
     * them log in or shows them. The user is the demo's own: the load generator never meets the 401s.
     */
    private void deletedUserIsGoneFromEveryVersion() {
        String v3 = apps.get(3).baseUrl();
        String v4 = apps.get(4).baseUrl();
        long leaver = register(v3, "leaver");
        long friend = register(v3, "friend");
        Map<String, Object> login = Map.of("email", "leaver@demo.example", "password", "leaver-password");
        int before = http.post(v4 + "/sessions", login).status();
        int deleted = http.delete(v4 + "/users/" + leaver).status();
        checks.check(before == 200 && deleted == 204,
                "app-v4 deletes a user registered through app-v3 (HTTP " + before + " log-in before, " + deleted + ")");
        for (var app : apps.entrySet()) {
            String base = app.getValue().baseUrl();
            Http.Result refused = http.post(base + "/sessions", login);
            int read = http.get(base + "/users/" + leaver).status();
            checks.check(refused.status() == 401 && refused.body().contains("invalid_credentials") && read == 404,
                    "app-v" + app.getKey() + " refuses the deleted user's log-in and no longer shows them (HTTP " + refused.status() + ", " + read + ")");
        }
        Http.Result again = http.delete(v4 + "/users/" + leaver);
        Http.Result message = http.post(v3 + "/messages", Map.of("src_id", friend, "dst_id", leaver, "content", "still there?"));
        checks.check(again.status() == 404 && again.body().contains("unknown_user")
                        && message.status() == 404 && message.body().contains("unknown_user"),
                "a second deletion and a message to the deleted user get 404 unknown_user (HTTP " + again.status() + ", " + message.status() + ")");
    }

    /** One of the demo's own users, registered through the app at {@code base}: name@demo.example, password name-password. */
    private long register(String base, String name) {
        Http.Result r = http.post(base + "/users", Map.of("email", name + "@demo.example", "password", name + "-password", "username", name));
        if (r.status() != 201) {
            throw new IllegalStateException("registration of " + name + " got HTTP " + r.status() + ": " + r.body());
        }
        return r.json().get("id").asLong();
    }

    /** Counted independently of the feed: users_4's message_count of every user against message_sent_3. */
    private void everyMessageCountIsTheMessagesSent(Connection c) throws SQLException {
        long users = Jdbc.number(c, "SELECT count(*) FROM users_4");
        long wrong = Jdbc.number(c, """
                SELECT count(*) FROM users_4 u
                LEFT JOIN (SELECT src_id, count(*) AS sent FROM message_sent_3 GROUP BY src_id) m ON m.src_id = u.id
                WHERE u.message_count <> coalesce(m.sent, 0)""");
        checks.check(users > 0 && wrong == 0, "every user's message_count in users_4 is the number of messages they sent in message_sent_3 ("
                + users + " users, " + wrong + " differ)");
    }

    private void everyReadTableEqualsItsRebuild(DatabaseUrl url) throws SQLException {
        try (Connection c = Jdbc.connect(url.jdbc())) {
            System.out.println();
            System.out.print(CatalogReport.render(c));
            DSLContext db = Catalog.of(c);
            for (String table : Catalog.readTables(db, State.LIVE)) {
                int differences = Catalog.verify(db, table, Integer.MAX_VALUE).size();
                checks.check(differences == 0, table + " equals a rebuild from the facts (" + differences + " differing rows)");
            }
        }
    }

    /** Once the replica has replayed everything: each live read table holds there what it holds on the primary. */
    private void replicaEqualsPrimary(ReplicatedServer server, String database) throws SQLException {
        server.awaitReplay(Duration.ofSeconds(30));
        try (Connection primary = Jdbc.connect(appDbUrl); Connection replica = Jdbc.connect(appReadUrl)) {
            for (String table : Catalog.readTables(Catalog.of(primary), State.LIVE)) {
                String digest = "SELECT count(*) || ' rows, md5 ' || md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM " + table + " t";
                String onPrimary = Jdbc.single(primary, digest);
                String onReplica = Jdbc.single(replica, digest);
                checks.check(onPrimary.equals(onReplica), "the replica's " + table + " equals the primary's (" + onReplica
                        + (onPrimary.equals(onReplica) ? "" : " against " + onPrimary) + ")");
            }
        }
    }

    private void printSummary() {
        if (steps.isEmpty()) {
            return;
        }
        TextTable table = new TextTable("step", "migration", "requests by app version", "unexpected", "p50 ms", "p99 ms", "longest write ms");
        for (StepStats s : steps) {
            String byVersion = s.requestsByVersion().entrySet().stream()
                    .map(e -> "v" + e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "));
            table.row(s.name(), s.migrationMillis() < 0 ? "-" : s.migrationMillis() + " ms", byVersion, s.unexpected(),
                    format(s.latencyMillis(0.5)), format(s.latencyMillis(0.99)), format(s.longestWriteMillis()));
        }
        System.out.println();
        System.out.println("Summary (latency as the load generator saw it, across all running apps)");
        System.out.print(table.render("  "));
    }

    private static String format(double millis) {
        return Double.isNaN(millis) ? "-" : String.format("%.1f", millis);
    }

    private static void say(String text) {
        System.out.println("  " + text);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage().lines().findFirst().orElse("").replaceFirst("^ERROR: ", "");
    }
}
