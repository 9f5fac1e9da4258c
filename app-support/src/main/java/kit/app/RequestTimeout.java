package kit.app;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * The JDK HTTP server's limit on how long a client may take to send a request.
 * The server has the knob, {@code sun.net.httpserver.maxReqTime}: a timer
 * closes any connection whose request (headers and body) is not all read that
 * long after its first byte, and a connection that sends nothing is closed
 * after the same time. But it reads its knobs from system properties once per
 * JVM, when its classes load; so this sets them before the first server
 * starts, and an app started later in the same JVM (the tests do that) keeps
 * the first value, with a warning when it asked for another.
 */
final class RequestTimeout {

    private static final Logger LOG = LoggerFactory.getLogger(RequestTimeout.class);

    private static Duration applied;

    private RequestTimeout() {
    }

    static synchronized void apply(Duration timeout) {
        if (applied != null) {
            if (!applied.equals(timeout)) {
                LOG.warn("The request timeout is set once per JVM: keeping {} s, not {} s", applied.toSeconds(), timeout.toSeconds());
            }
            return;
        }
        // Whole seconds: the JDK multiplies the value by 1000, although JDK 21 to 25 document it as milliseconds (JDK-8387598).
        System.setProperty("sun.net.httpserver.maxReqTime", String.valueOf(Math.max(1, timeout.toSeconds())));
        // The timer that closes connections that have sent nothing ticks every 10 s by default; every second,
        // they go within a second of the timeout, as requests that stall do (that timer ticks every second).
        System.setProperty("sun.net.httpserver.clockTick", "1000");
        applied = timeout;
    }
}
