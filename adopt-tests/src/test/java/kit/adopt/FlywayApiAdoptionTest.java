package kit.adopt;

import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's Flyway API recipe, as written there (AdoptionRecipesTest keeps the two identical):
 * the kit's location beside the domain's, the kit's jar on the classpath.
 */
class FlywayApiAdoptionTest {

    static void migrate(String url, String user, String password) {
        Flyway.configure()
                .dataSource(url, user, password)
                .locations("classpath:db/kit", "classpath:db/migration")
                .outputQueryResults(false)   // no empty table per SELECT kit.…
                .load()
                .migrate();
    }

    @Test
    void theFlywayApiInstallsTheKitAndMigratesTheDomainAndASecondMigrateChangesNothing() throws Exception {
        TestDatabase db = TestDatabases.empty();
        migrate(db.url().jdbc(), null, null);
        List<String> history;
        try (Connection c = db.connect()) {
            HelpDesk.assertMigrated(c);
            HelpDesk.assertFactsLandInReadTables(c);
            history = HelpDesk.history(c);
            assertThat(history).as("Flyway's history after the first migrate").hasSize(2);
        }
        migrate(db.url().jdbc(), null, null);
        try (Connection c = db.connect()) {
            assertThat(HelpDesk.history(c)).as("Flyway's history after a second migrate").isEqualTo(history);
            HelpDesk.assertMigrated(c);
        }
    }
}
