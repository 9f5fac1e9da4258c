package kit.it;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/** A small JSON-over-HTTP client for the demo, the load generator and the tests. */
public final class Http {

    static final ObjectMapper JSON = JsonMapper.builder().build();

    /** A response, or a transport failure (status 0) with what went wrong in {@code body}. */
    public record Result(int status, String body, long nanos) {
        public JsonNode json() {
            return JSON.readTree(body);
        }

        public boolean failedInTransport() {
            return status == 0;
        }
    }

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
        long started = System.nanoTime();
        try {
            HttpResponse<String> response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
            return new Result(response.statusCode(), response.body(), System.nanoTime() - started);
        } catch (IOException e) {
            return new Result(0, e.toString(), System.nanoTime() - started);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(0, "interrupted", System.nanoTime() - started);
        }
    }
}
