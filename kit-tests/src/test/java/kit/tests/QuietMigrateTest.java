package kit.tests;

import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.flywaydb.core.api.logging.Log;
import org.flywaydb.core.api.logging.LogCreator;
import org.flywaydb.core.internal.logging.slf4j.Slf4jLogCreator;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A migrate says what matters and nothing else: Flyway's own lines and the kit's progress
 * ("kit: installing 0.5.0", "kit: users_0 is live: ..."), no warning for what an IF NOT EXISTS
 * found, no empty table for a migration's {@code SELECT kit....}. Flyway logs every server
 * notice whose SQLSTATE is not a success as a warning, so a notice the kit did not mean to
 * raise would be one here. (The README's {@code mvn -pl db flyway:migrate} is checked the same
 * way by .ci/run.)
 */
class QuietMigrateTest {

    /** Flyway's log lines of this thread, as "LEVEL message", while a recording is on. */
    private static final ThreadLocal<List<String>> RECORDING = new ThreadLocal<>();

    @Test
    void aFreshInstallThenEveryStepThenAMigrateWithNothingToDoWarnOfNothing() {
        TestDatabase db = TestDatabases.empty();
        List<String> fresh = recorded(db.migrations().configure("0"));
        List<String> rest = recorded(db.migrations().configure(null));
        List<String> again = recorded(db.migrations().configure(null));

        assertThat(fresh).contains("INFO DB: kit: installing " + KitInstallTest.THIS_KIT,
                "INFO DB: kit: " + KitInstallTest.THIS_KIT + " is installed");
        assertThat(fresh).anyMatch(line -> line.startsWith("INFO DB: kit: users_0 is live"));
        assertThat(rest).anyMatch(line -> line.startsWith("INFO DB: kit: messages_3 is live"));
        for (List<String> log : List.of(fresh, rest, again)) {
            assertQuiet(log);
        }
        assertThat(again).noneMatch(line -> line.startsWith("INFO DB:"));
    }

    @Test
    void anUpgradeOfTheKitWarnsOfNothing() {
        TestDatabase db = TestDatabases.empty();
        db.migrateWithKit("classpath:frozen-kit-0.4.0", "2");

        List<String> upgrade = recorded(db.migrations().configure(null));

        assertThat(upgrade).contains("INFO DB: kit: upgrading 0.4.0 to " + KitInstallTest.THIS_KIT);
        assertQuiet(upgrade);
    }

    private static void assertQuiet(List<String> log) {
        assertThat(log).as("Flyway's log").isNotEmpty()
                .noneMatch(line -> line.startsWith("WARN") || line.startsWith("ERROR"))
                .noneMatch(line -> line.contains("+---"))
                .noneMatch(line -> line.contains("skipping"));
    }

    /** Migrates with {@code config}, and returns what Flyway logged meanwhile. */
    private static List<String> recorded(FluentConfiguration config) {
        List<String> lines = new ArrayList<>();
        RECORDING.set(lines);
        try {
            config.loggers(Recorder.class.getName()).load().migrate();
        } finally {
            RECORDING.remove();
        }
        return lines;
    }

    /**
     * Flyway's logger while a test records (Flyway makes it by name): SLF4J as always, and the
     * lines of a thread that records kept. A logger is the whole process's, so another test's
     * migrate meanwhile logs through it too, unrecorded.
     */
    public static final class Recorder implements LogCreator {

        private final Slf4jLogCreator slf4j = new Slf4jLogCreator();

        @Override
        public Log createLogger(Class<?> type) {
            return new RecordingLog(slf4j.createLogger(type));
        }
    }

    private record RecordingLog(Log delegate) implements Log {

        private static void record(String level, String message) {
            List<String> lines = RECORDING.get();
            if (lines != null) {
                lines.add(level + " " + message);
            }
        }

        @Override
        public void debug(String message) {
            delegate.debug(message);
        }

        @Override
        public void info(String message) {
            record("INFO", message);
            delegate.info(message);
        }

        @Override
        public void warn(String message) {
            record("WARN", message);
            delegate.warn(message);
        }

        @Override
        public void error(String message) {
            record("ERROR", message);
            delegate.error(message);
        }

        @Override
        public void error(String message, Exception e) {
            record("ERROR", message);
            delegate.error(message, e);
        }

        @Override
        public void notice(String message) {
            record("NOTICE", message);
            delegate.notice(message);
        }
    }
}
