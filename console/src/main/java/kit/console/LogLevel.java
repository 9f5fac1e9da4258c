package kit.console;

import java.util.List;
import java.util.Locale;

/**
 * The log level of the apps, the kit command and the demo, set once at start-up
 * (before the first logger is made) for SLF4J's simple backend, which writes
 * one line per event to stderr. Library chatter (HikariCP, Flyway) shows from
 * WARN on, jOOQ's from ERROR on, unless the level is DEBUG or TRACE.
 */
public final class LogLevel {

    /** The environment variable every entry point reads; a --log-level flag wins over it. */
    public static final String VARIABLE = "KIT_LOG_LEVEL";
    public static final List<String> LEVELS = List.of("trace", "debug", "info", "warn", "error", "off");

    private LogLevel() {
    }

    /** The level named, in lower case; IllegalArgumentException naming the choices when it is none of them. */
    public static String parse(String level) {
        String name = level.trim().toLowerCase(Locale.ROOT);
        if (!LEVELS.contains(name)) {
            throw new IllegalArgumentException("log level must be one of " + String.join(", ", LEVELS) + " (got " + level + ")");
        }
        return name;
    }

    /** Configures the backend: call before any logger exists. */
    public static void apply(String level) {
        String name = parse(level);
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", name);
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
        System.setProperty("org.slf4j.simpleLogger.showThreadName", "false");
        System.setProperty("org.slf4j.simpleLogger.showShortLogName", "true");
        System.setProperty("org.slf4j.simpleLogger.levelInBrackets", "true");
        if (!name.equals("debug") && !name.equals("trace")) {
            for (String library : List.of("com.zaxxer.hikari", "org.flywaydb")) {
                System.setProperty("org.slf4j.simpleLogger.log." + library, name.equals("info") ? "warn" : name);
            }
            // jOOQ warns at every start that it knows a newer PostgreSQL than the server: noise, not news.
            System.setProperty("org.slf4j.simpleLogger.log.org.jooq", name.equals("off") ? "off" : "error");
        }
    }
}
