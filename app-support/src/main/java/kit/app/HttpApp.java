package kit.app;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The JDK's HTTP server with a virtual thread per request and a small router:
 * a route is a method, a path pattern and a handler. Bodies are size-limited,
 * requests time-limited, every answer is JSON, and any failure becomes a JSON
 * error, never an HTML page. A body the server cannot read (broken chunked
 * encoding, a client gone mid-body) is the client's error, not the server's.
 */
public final class HttpApp implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(HttpApp.class);

    /** What a handler sees of a request. */
    public record Request(String method, List<String> pathParameters, byte[] body, String rawQuery, Map<String, List<String>> headers) {

        /** The first value of header {@code name} (names are case-insensitive), or null. */
        public String header(String name) {
            List<String> values = headers.get(name);
            return values == null || values.isEmpty() ? null : values.getFirst();
        }

        /**
         * Whether the query asks for {@code name}: {@code name=true}; absent or {@code name=false} is no.
         * Any other value, or a query parameter the route does not take, is the client's error (400).
         */
        public boolean flag(String name) {
            boolean set = false;
            for (String part : rawQuery == null || rawQuery.isEmpty() ? new String[0] : rawQuery.split("&")) {
                String[] pair = part.split("=", 2);
                String value = pair.length == 2 ? pair[1] : "";
                if (!pair[0].equals(name) || !(value.equals("true") || value.equals("false"))) {
                    throw ApiException.badRequest("invalid_query",
                            "This request takes only " + name + "=true or " + name + "=false in its query.");
                }
                set = value.equals("true");
            }
            return set;
        }

        /** The body as a JSON object holding only {@code fields}. */
        public JsonBody json(String... fields) {
            return JsonBody.parse(body, Set.of(fields));
        }

        /** Path parameter {@code index} as an id; 404 when it cannot name anything. */
        public long id(int index) {
            String text = pathParameters.get(index);
            try {
                return Long.parseLong(text);
            } catch (NumberFormatException e) {
                throw ApiException.notFound("not_found", "No such id: " + (text.length() > 40 ? text.substring(0, 40) + "..." : text));
            }
        }
    }

    /** An answer: a status, a body to serialise as JSON (null for none) and extra headers. */
    public record Response(int status, Object body, Map<String, String> headers) {
        public Response(int status, Object body) {
            this(status, body, Map.of());
        }

        public static Response ok(Object body) {
            return new Response(200, body);
        }

        public static Response created(Object body) {
            return new Response(201, body);
        }

        public static Response noContent() {
            return new Response(204, null);
        }

        /** This answer with header {@code name} too; a null value adds nothing. */
        public Response withHeader(String name, String value) {
            if (value == null) {
                return this;
            }
            Map<String, String> more = new java.util.LinkedHashMap<>(headers);
            more.put(name, value);
            return new Response(status, body, Map.copyOf(more));
        }
    }

    @FunctionalInterface
    public interface Handler {
        Response handle(Request request) throws Exception;
    }

    private record Route(String method, Pattern path, Handler handler) {
    }

    /**
     * How much of an oversized body is read and thrown away before the 413 is
     * sent. A client that writes its whole request before it reads would
     * otherwise see the connection reset instead of the answer; past this
     * bound (or {@link #DISCARD_TIME}) the connection is closed unread.
     */
    static final long DISCARD_BYTES = 64L * 1024 * 1024;
    static final Duration DISCARD_TIME = Duration.ofSeconds(10);

    /**
     * Codes after which the connection cannot carry another request: the rest
     * of the body is still on the wire, or where it ends is unknown.
     */
    private static final Set<String> CLOSING_CODES = Set.of("body_too_large", "unreadable_body", "request_timeout");

    private final List<Route> routes = new ArrayList<>();
    private final int maxBodyBytes;
    private final Duration requestTimeout;
    private final ErrorMapper errors;
    private HttpServer server;
    private ExecutorService executor;

    /** {@code requestTimeout}: how long a client may take to send a request's headers and body (see {@link RequestTimeout}). */
    public HttpApp(int maxBodyBytes, Duration requestTimeout, ErrorMapper errors) {
        this.maxBodyBytes = maxBodyBytes;
        this.requestTimeout = requestTimeout;
        this.errors = errors;
    }

    /** Adds a route; {@code path} is a regex whose groups are the path parameters, e.g. {@code /users/([^/]+)}. */
    public HttpApp route(String method, String path, Handler handler) {
        routes.add(new Route(method, Pattern.compile(path), handler));
        return this;
    }

    public int start(String host, int port) throws IOException {
        RequestTimeout.apply(requestTimeout);
        server = HttpServer.create(new InetSocketAddress(host, port), 512);
        executor = Executors.newVirtualThreadPerTaskExecutor();
        server.setExecutor(executor);
        server.createContext("/", this::exchange);
        server.start();
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        if (server != null) {
            server.stop(0);
            executor.close();
        }
    }

    private void exchange(HttpExchange exchange) throws IOException {
        Response response;
        try {
            response = dispatch(exchange);
        } catch (ApiException e) {
            response = error(e);
            if (e.status() == 413) {
                discardBody(exchange);
            }
        } catch (Exception e) {
            response = error(errors.map(e));
        }
        if (response.status() >= 400) {
            // One line per failed request, with the code the client got.
            String line = "{} {} -> {} {}";
            Object[] fields = {exchange.getRequestMethod(), exchange.getRequestURI().getRawPath(), response.status(),
                    response.body() instanceof Map<?, ?> body ? body.get("error") : ""};
            if (response.status() >= 500) {
                LOG.warn(line, fields);
            } else {
                LOG.info(line, fields);
            }
        }
        send(exchange, response);
    }

    private Response dispatch(HttpExchange exchange) throws Exception {
        String path = exchange.getRequestURI().getRawPath();
        boolean pathMatched = false;
        for (Route route : routes) {
            Matcher m = route.path().matcher(path);
            if (!m.matches()) {
                continue;
            }
            pathMatched = true;
            if (!route.method().equals(exchange.getRequestMethod())) {
                continue;
            }
            List<String> parameters = new ArrayList<>();
            for (int i = 1; i <= m.groupCount(); i++) {
                parameters.add(m.group(i));
            }
            return route.handler().handle(new Request(exchange.getRequestMethod(), parameters, readBody(exchange), exchange.getRequestURI().getRawQuery(),
                    exchange.getRequestHeaders()));
        }
        if (pathMatched) {
            throw new ApiException(405, "method_not_allowed", exchange.getRequestMethod() + " is not allowed on " + path);
        }
        throw ApiException.notFound("not_found", "No such resource: " + (path.length() > 80 ? path.substring(0, 80) + "..." : path));
    }

    private byte[] readBody(HttpExchange exchange) throws IOException {
        String declared = exchange.getRequestHeaders().getFirst("Content-Length");
        if (declared != null) {
            try {
                if (Long.parseLong(declared.trim()) > maxBodyBytes) {
                    throw tooLarge();
                }
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("bad_request", "Content-Length is not a number.");
            }
        }
        byte[] body;
        try {
            body = exchange.getRequestBody().readNBytes(maxBodyBytes + 1);
        } catch (ClosedChannelException e) {
            // The server's request timer closed the connection under the read (RequestTimeout).
            throw new ApiException(408, "request_timeout", "The request was not sent within " + requestTimeout.toSeconds() + " s.");
        } catch (IOException | RuntimeException e) {
            // The client's bytes, not the server: a chunk size that is not one (the JDK's decoder throws
            // IOException, or IndexOutOfBoundsException for a size that overflows an int), or a client
            // gone before its Content-Length or last chunk.
            throw ApiException.badRequest("unreadable_body",
                    "The request body could not be read: its chunked encoding is malformed or it ended early.");
        }
        if (body.length > maxBodyBytes) {
            throw tooLarge();
        }
        return body;
    }

    /** Reads the rest of a request body into nothing, up to {@link #DISCARD_BYTES} and {@link #DISCARD_TIME}. */
    private static void discardBody(HttpExchange exchange) {
        long deadline = System.nanoTime() + DISCARD_TIME.toNanos();
        byte[] buffer = new byte[64 * 1024];
        long discarded = 0;
        try {
            InputStream in = exchange.getRequestBody();
            for (int n; discarded < DISCARD_BYTES && System.nanoTime() < deadline && (n = in.read(buffer)) >= 0; ) {
                discarded += n;
            }
        } catch (IOException | RuntimeException e) {
            // The client went away or its chunked encoding broke: nothing left to answer.
        }
    }

    private ApiException tooLarge() {
        return new ApiException(413, "body_too_large", "The request body is larger than " + maxBodyBytes + " bytes.");
    }

    private static Response error(ApiException e) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", e.code());
        body.put("message", e.getMessage());
        Map<String, String> headers = new LinkedHashMap<>();
        if (e.retryAfterSeconds() > 0) {
            headers.put("Retry-After", String.valueOf(e.retryAfterSeconds()));
        }
        if (CLOSING_CODES.contains(e.code())) {
            headers.put("Connection", "close");
        }
        return new Response(e.status(), body, headers);
    }

    private static void send(HttpExchange exchange, Response response) throws IOException {
        try (exchange) {
            byte[] bytes = response.body() == null ? new byte[0]
                    : JsonBody.MAPPER.writeValueAsString(response.body()).getBytes(StandardCharsets.UTF_8);
            if (bytes.length > 0) {
                exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
            }
            response.headers().forEach(exchange.getResponseHeaders()::set);
            exchange.sendResponseHeaders(response.status(), bytes.length == 0 ? -1 : bytes.length);
            if (bytes.length > 0) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            }
        }
    }
}
