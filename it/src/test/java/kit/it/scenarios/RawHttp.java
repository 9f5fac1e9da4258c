package kit.it.scenarios;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/**
 * HTTP/1.1 written by hand on a socket, for what a well-behaved client never
 * sends: broken chunked bodies, bodies cut short, requests that stall. Every
 * read is bounded by a timeout, so a server that never answers fails the test
 * instead of hanging it.
 */
final class RawHttp {

    private RawHttp() {
    }

    /** Sends {@code request} on a new connection and returns all the server answers until it closes, or until {@code timeout}. */
    static String exchange(String baseUrl, String request, Duration timeout) throws IOException {
        URI uri = URI.create(baseUrl);
        try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
            socket.setSoTimeout((int) timeout.toMillis());
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            long deadline = System.nanoTime() + timeout.toNanos();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[8192];
            try {
                for (int n; System.nanoTime() < deadline && (n = in.read(buffer)) >= 0; ) {
                    answer.write(buffer, 0, n);
                }
            } catch (SocketTimeoutException | SocketException e) {
                // What arrived before the server went quiet or reset the connection is the answer.
            }
            return answer.toString(StandardCharsets.ISO_8859_1);
        }
    }

    /**
     * Writes {@code prefix} (then, when {@code halfClose}, ends the client's side)
     * and waits for the server to close the connection; returns how long that
     * took, or empty when it was still open after {@code bound}.
     */
    static Optional<Duration> timeToClose(String baseUrl, String prefix, boolean halfClose, Duration bound) throws IOException {
        URI uri = URI.create(baseUrl);
        try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
            long started = System.nanoTime();
            long deadline = started + bound.toNanos();
            socket.getOutputStream().write(prefix.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            if (halfClose) {
                socket.shutdownOutput();
            }
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[8192];
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return Optional.empty();
                }
                socket.setSoTimeout((int) Math.max(1, Duration.ofNanos(left).toMillis()));
                try {
                    if (in.read(buffer) < 0) {
                        return Optional.of(Duration.ofNanos(System.nanoTime() - started));
                    }
                } catch (SocketTimeoutException e) {
                    return Optional.empty();
                } catch (SocketException e) {
                    // A reset is a close too.
                    return Optional.of(Duration.ofNanos(System.nanoTime() - started));
                }
            }
        }
    }

    /** The status code of a raw answer ("HTTP/1.1 400 Bad Request ..." gives 400), or 0 when there is none. */
    static int status(String answer) {
        return answer.startsWith("HTTP/1.") && answer.length() >= 12 ? Integer.parseInt(answer.substring(9, 12)) : 0;
    }
}
