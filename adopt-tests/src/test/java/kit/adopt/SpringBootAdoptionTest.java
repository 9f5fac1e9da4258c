package kit.adopt;

import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.springframework.boot.Banner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import javax.sql.DataSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's Spring Boot recipe: a Boot app with the kit's jar on its classpath and
 * {@code spring.flyway.locations=classpath:db/kit,classpath:db/migration} (this module's
 * {@code application.properties}, the README's block) migrates its database when it starts, through
 * Boot's own Flyway auto-configuration, on the project's Flyway. Only the database's URL is the test's.
 */
class SpringBootAdoptionTest {

    /** An adopter's app: nothing but Boot's auto-configuration. */
    @SpringBootApplication
    static class HelpDeskApp {
    }

    static ConfigurableApplicationContext start(TestDatabase db) {
        return new SpringApplicationBuilder(HelpDeskApp.class)
                .web(WebApplicationType.NONE)
                .bannerMode(Banner.Mode.OFF)
                .run("--spring.datasource.url=" + db.url().jdbc());
    }

    /**
     * Boot 4.0.7 manages Flyway 11.14.1; the build's Flyway (the README's {@code flyway.version}) wins,
     * and Boot's auto-configuration runs on it.
     */
    @Test
    void bootRunsOnTheFlywayTheKitIsBuiltWith() throws IOException {
        try (InputStream version = Flyway.class.getResourceAsStream("internal/version.txt")) {
            assertThat(version).as("Flyway's version resource").isNotNull();
            assertThat(new String(version.readAllBytes(), StandardCharsets.UTF_8).trim())
                    .isEqualTo(System.getProperty("kit.recipe.flyway"));
        }
    }

    @Test
    void aBootAppInstallsTheKitAndMigratesItsDomainWhenItStartsAndASecondStartChangesNothing() throws Exception {
        TestDatabase db = TestDatabases.empty();
        List<String> history;
        try (ConfigurableApplicationContext app = start(db);
             Connection c = app.getBean(DataSource.class).getConnection()) {
            HelpDesk.assertMigrated(c);
            HelpDesk.assertFactsLandInReadTables(c);
            history = HelpDesk.history(c);
            assertThat(history).as("Flyway's history after the first start").hasSize(2);
        }
        try (ConfigurableApplicationContext app = start(db);
             Connection c = app.getBean(DataSource.class).getConnection()) {
            assertThat(HelpDesk.history(c)).as("Flyway's history after a second start").isEqualTo(history);
            HelpDesk.assertMigrated(c);
        }
    }
}
