package kit.it.scenarios;

import kit.client.DatabaseUrl;
import kit.it.AppProcess;
import kit.it.Http;
import kit.it.LoadGenerator;
import kit.it.StepStats;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** App processes on one database plus a load generator, for the failure scenarios; closes everything it started. */
final class Fleet implements AutoCloseable {

    static final Path ROOT = Path.of(System.getProperty("kit.project.root", "..")).toAbsolutePath().normalize();

    final Http http = new Http();
    final List<AppProcess> apps = new ArrayList<>();
    final List<StepStats> steps = new ArrayList<>();
    private final DatabaseUrl url;
    private final String rolePrefix;
    private LoadGenerator load;

    Fleet(DatabaseUrl url, String rolePrefix) {
        this.url = url;
        this.rolePrefix = rolePrefix;
    }

    AppProcess start(int version) throws Exception {
        AppProcess app = AppProcess.launch(ROOT, version, url.jdbc(), ROOT.resolve("it/target/scenario-logs"),
                "--hash-iterations", "1000", "--pool-size", "4", "--db-role", rolePrefix + version);
        apps.add(app);
        app.awaitHealthy(http, Duration.ofSeconds(30));
        return app;
    }

    LoadGenerator.Target target(AppProcess app) {
        return new LoadGenerator.Target(app.version(), app.baseUrl());
    }

    /** Starts load on every running app, counting into a first step called {@code name}. */
    LoadGenerator load(String name) {
        load = new LoadGenerator(6, 3, step(name));
        apps.forEach(a -> load.add(target(a)));
        return load;
    }

    StepStats step(String name) {
        StepStats s = new StepStats(name);
        steps.add(s);
        if (load != null) {
            load.startStep(s);
        }
        return s;
    }

    long requests() {
        return steps.stream().mapToLong(StepStats::requests).sum();
    }

    String figures() {
        StringBuilder out = new StringBuilder();
        for (StepStats s : steps) {
            out.append(String.format("%n  %-22s requests %s, unexpected %d, failed while down (expected) %d",
                    s.name(), s.requestsByVersion(), s.unexpected(), s.tolerated()));
        }
        return out.toString();
    }

    void stopLoad() {
        if (load != null) {
            try {
                load.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        stopLoad();
        apps.forEach(AppProcess::close);
    }
}
