package kit.app;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The request and pool timeouts are set like every other setting: flag, then environment, then a default that --help shows. */
class AppConfigTest {

    @Test
    void timeoutsDefaultToWhatHelpSays() {
        AppConfig config = AppConfig.parse(3, new String[0], Map.of());
        assertThat(config.requestTimeoutSeconds()).isEqualTo(AppConfig.DEFAULT_REQUEST_TIMEOUT_SECONDS);
        assertThat(config.poolTimeoutMillis()).isEqualTo(AppConfig.DEFAULT_POOL_TIMEOUT_MILLIS);
        assertThat(AppConfig.usage(3))
                .contains("--request-timeout S", "(KIT_REQUEST_TIMEOUT, default " + AppConfig.DEFAULT_REQUEST_TIMEOUT_SECONDS + ")")
                .contains("--pool-timeout-ms MS", "(KIT_POOL_TIMEOUT_MS, default " + AppConfig.DEFAULT_POOL_TIMEOUT_MILLIS + ")");
    }

    @Test
    void aFlagBeatsItsEnvironmentVariable() {
        Map<String, String> env = Map.of("KIT_REQUEST_TIMEOUT", "7", "KIT_POOL_TIMEOUT_MS", "900");
        assertThat(AppConfig.parse(3, new String[0], env)).extracting(AppConfig::requestTimeoutSeconds, AppConfig::poolTimeoutMillis)
                .containsExactly(7, 900);
        assertThat(AppConfig.parse(3, new String[] {"--request-timeout", "3", "--pool-timeout-ms", "250"}, env))
                .extracting(AppConfig::requestTimeoutSeconds, AppConfig::poolTimeoutMillis).containsExactly(3, 250);
    }

    @Test
    void aTimeoutOutOfRangeIsABadFlag() {
        var tooShort = catchThrowableOfType(AppConfig.UsageException.class, () -> AppConfig.parse(3, new String[] {"--pool-timeout-ms", "100"}, Map.of()));
        assertThat(tooShort.exitStatus()).isEqualTo(2);
        assertThat(tooShort).hasMessageContaining("--pool-timeout-ms must be between 250 and 600000");
        var zero = catchThrowableOfType(AppConfig.UsageException.class, () -> AppConfig.parse(3, new String[] {"--request-timeout", "0"}, Map.of()));
        assertThat(zero).hasMessageContaining("--request-timeout must be between 1 and 3600");
    }

    @Test
    void aReadReplicaIsOptionalAndItsWaitBounded() {
        AppConfig primaryOnly = AppConfig.parse(2, new String[0], Map.of());
        assertThat(primaryOnly.readReplica()).isEmpty();
        assertThat(primaryOnly.readWaitMillis()).isEqualTo(AppConfig.DEFAULT_READ_WAIT_MILLIS);
        AppConfig fromEnvironment = AppConfig.parse(2, new String[0],
                Map.of("KIT_READ_DB_URL", "jdbc:postgresql://replica:5433/mydb?user=app", "KIT_READ_WAIT_MS", "500"));
        assertThat(fromEnvironment.readReplica().orElseThrow().hostAndPort()).isEqualTo("replica:5433");
        assertThat(fromEnvironment.readWaitMillis()).isEqualTo(500);
        AppConfig flags = AppConfig.parse(2, new String[] {"--read-db-url", "jdbc:postgresql://other:5432/mydb", "--read-wait-ms", "50"},
                Map.of("KIT_READ_DB_URL", "jdbc:postgresql://replica:5433/mydb"));
        assertThat(flags.readReplica().orElseThrow().hostAndPort()).isEqualTo("other:5432");
        assertThat(flags.readWaitMillis()).isEqualTo(50);
        assertThat(AppConfig.usage(2)).contains("--read-db-url URL", "(KIT_READ_DB_URL, default none)", "--read-wait-ms MS",
                "default " + AppConfig.DEFAULT_READ_WAIT_MILLIS + ")");

        var notAUrl = catchThrowableOfType(AppConfig.UsageException.class, () -> AppConfig.parse(2, new String[] {"--read-db-url", "replica:5432"}, Map.of()));
        assertThat(notAUrl.exitStatus()).isEqualTo(2);
        assertThat(notAUrl).hasMessageContaining("--read-db-url: Not a PostgreSQL URL: replica:5432");
        var noWait = catchThrowableOfType(AppConfig.UsageException.class, () -> AppConfig.parse(2, new String[] {"--read-wait-ms", "0"}, Map.of()));
        assertThat(noWait).hasMessageContaining("--read-wait-ms must be between 1 and 600000");
    }
}
