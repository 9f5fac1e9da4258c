package kit.it;

import kit.app.ReadReplica;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/** A small JSON-over-HTTP client for the demo, the load generator and the tests. */
public final class Http {

    /** The header of the apps' answers to writes, and of requests that must see them. */
    static final String LSN_HEADER = ReadReplica.LSN_HEADER;

    static final ObjectMapper JSON = JsonMapper.builder().build();

    /** A response, or a transport failure (status 0) with what went wrong in {@code body}. */
    public record Result(int status, String body, long nanos, Map<String, List<String>> headers) {

        public Result(int status, String body, long nanos) {
            this(status, body, nanos, Map.of());
        }

        /** The answer's header {@code name} (case-insensitive), or null. */
        public String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name) && !e.getValue().isEmpty())
                    .map(e -> e.getValue().getFirst()).findFirst().orElse(null);
        }

        public JsonNode json() {
            return JSON.readTree(body);
        }

        public boolean failedInTransport() {
            return status == 0;
        }
    }

    /**
     * The WAL position of the last write this client saw acknowledged (an app's Kit-LSN header, sent
     * only by apps that read from a replica), sent back with every request: the client then reads its
     * own writes through any app, as a client that keeps the header in its session would.
     */
    private final AtomicReference<String> lastWrite = new AtomicReference<>();

    private final HttpClient client = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(5))
            .version(HttpClient.Version.HTTP_1_1)
            .build();

    public Result get(String url) {
        return send("GET", url, null);
    }

    public Result post(String url, Map<String, ?> body) {
        return send("POST", url, JSON.writeValueAsString(body));
    }

    public Result put(String url, Map<String, ?> body) {
        return send("PUT", url, JSON.writeValueAsString(body));
    }

    public Result delete(String url) {
        return send("DELETE", url, null);
    }

    /** Sends a raw body (any bytes, valid JSON or not). */
    public Result send(String method, String url, String rawBody) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .method(method, rawBody == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(rawBody));
        String lsn = lastWrite.get();
        if (lsn != null) {
            request.header(LSN_HEADER, lsn);
        }
        long started = System.nanoTime();
        try {
            HttpResponse<String> response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
            response.headers().firstValue(LSN_HEADER).ifPresent(written -> lastWrite.accumulateAndGet(written, ReadReplica::later));
            return new Result(response.statusCode(), response.body(), System.nanoTime() - started, response.headers().map());
        } catch (IOException e) {
            return new Result(0, e.toString(), System.nanoTime() - started);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(0, "interrupted", System.nanoTime() - started);
        }
    }
}
