package kit.it;

import org.flywaydb.core.api.logging.Log;
import org.flywaydb.core.api.logging.LogCreator;
import org.flywaydb.core.internal.logging.slf4j.Slf4jLogCreator;

/**
 * Flyway's logger for a migrate the demo expects to be refused (the tidy-up while old apps
 * run). Flyway logs a failed step at ERROR and then throws the same failure; the demo prints
 * the refusal from the exception, so the ERROR line, which would read as if the demo had
 * failed, is left out. Everything else goes to SLF4J as usual. Flyway makes it by name
 * ({@code loggers(ExpectedRefusalLog.class.getName())}).
 */
public final class ExpectedRefusalLog implements LogCreator {

    private final Slf4jLogCreator slf4j = new Slf4jLogCreator();

    @Override
    public Log createLogger(Class<?> type) {
        Log log = slf4j.createLogger(type);
        return new Log() {
            @Override
            public void debug(String message) {
                log.debug(message);
            }

            @Override
            public void info(String message) {
                log.info(message);
            }

            @Override
            public void warn(String message) {
                log.warn(message);
            }

            @Override
            public void error(String message) {
                log.debug(message);
            }

            @Override
            public void error(String message, Exception e) {
                log.debug(message);
            }

            @Override
            public void notice(String message) {
                log.notice(message);
            }
        };
    }
}
