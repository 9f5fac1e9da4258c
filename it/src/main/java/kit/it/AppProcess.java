package kit.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One app server as a separate process ({@code java -jar app-vN/target/app-vN.jar}),
 * the way an operator runs it; its output goes to a log file.
 */
public final class AppProcess implements AutoCloseable {

    private final int version;
    private final int port;
    private final Process process;
    private final Path log;

    private AppProcess(int version, int port, Process process, Path log) {
        this.version = version;
        this.port = port;
        this.process = process;
        this.log = log;
    }

    /** Starts app-vN and returns at once; see {@link #awaitHealthy} and {@link #awaitExit}. */
    public static AppProcess launch(Path projectRoot, int version, String databaseUrl, Path logDirectory, String... extraArgs)
            throws IOException {
        return launch(projectRoot, version, databaseUrl, logDirectory, Map.of(), extraArgs);
    }

    /** As {@link #launch(Path, int, String, Path, String...)}, with {@code environment} added to the app's environment. */
    public static AppProcess launch(Path projectRoot, int version, String databaseUrl, Path logDirectory,
                                    Map<String, String> environment, String... extraArgs) throws IOException {
        Path jar = projectRoot.resolve("app-v" + version + "/target/app-v" + version + ".jar");
        if (!Files.exists(jar)) {
            throw new IllegalStateException("Missing " + jar + ": build the apps first (./run demo does)");
        }
        int port = freePort();
        Files.createDirectories(logDirectory);
        Path log = logDirectory.resolve("app-v" + version + "-" + port + ".log");
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-jar", jar.toString(),
                "--port", String.valueOf(port), "--db-url", databaseUrl));
        command.addAll(List.of(extraArgs));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().putAll(environment);
        Process process = builder.start();
        return new AppProcess(version, port, process, log);
    }

    public int version() {
        return version;
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    public long pid() {
        return process.pid();
    }

    public Path log() {
        return log;
    }

    /** Waits until /health answers 200; fails with the app's output if it exits or takes too long. */
    public void awaitHealthy(Http http, Duration timeout) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("app-v" + version + " exited with " + process.exitValue() + ": " + output());
            }
            if (http.get(baseUrl() + "/health").status() == 200) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("app-v" + version + " did not become healthy in " + timeout.toSeconds() + " s: " + output());
    }

    /** Waits for the process to end by itself; returns its exit code, or -1 if it is still running. */
    public int awaitExit(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
    }

    public String output() throws IOException {
        return Files.exists(log) ? Files.readString(log).strip() : "";
    }

    /** Stops the server as an operator would (SIGTERM), then forcibly if it does not go. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** Kills the server at once (SIGKILL), as a crash would. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
