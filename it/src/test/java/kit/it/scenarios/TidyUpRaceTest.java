package kit.it.scenarios;

import kit.app.App;
import kit.app.SchemaGate;
import kit.it.AppVersions;
import kit.it.RunningApp;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The tidy-up checks for connected old apps at one moment and commits at a
 * later one; an app-v0 that starts between the two must not end up serving a
 * version whose tables are gone. The start-up gate and the retirement
 * serialise on one lock, so such an app waits for the retirement's commit
 * and then refuses to start.
 */
class TidyUpRaceTest {

    @Test
    void anOldAppStartingWhileTheTidyUpRunsNeverServesARetiredVersion() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        CountDownLatch checked = new CountDownLatch(1);
        CompletableFuture<Throwable> tidyUp = CompletableFuture.supplyAsync(() -> {
            try (Connection c = db.connect(); Statement s = c.createStatement()) {
                c.setAutoCommit(false);
                s.execute("SELECT kit.retire_read_version('users_0')");
                checked.countDown();
                // The rest of the migration: the version is retired only when this commits.
                Thread.sleep(1500);
                s.execute("SELECT kit.retire_read_version('users_1')");
                c.commit();
                return null;
            } catch (SQLException | InterruptedException e) {
                checked.countDown();
                return e;
            }
        });
        assertThat(checked.await(30, TimeUnit.SECONDS)).isTrue();

        List<App> started = new ArrayList<>();
        int refused = 0;
        try {
            do {
                try {
                    started.add(App.start(RunningApp.config(0, db), AppVersions.of(0)::stores));
                } catch (SchemaGate.NotLiveException e) {
                    assertThat(e).hasMessageContaining("schema version 0 is retired");
                    refused++;
                }
            } while (!tidyUp.isDone());
            Throwable tidyUpFailure = tidyUp.get();
            if (tidyUpFailure == null) {
                assertThat(started).as("app-v0 servers running after users_0 was retired").isEmpty();
            } else {
                assertThat(tidyUpFailure).hasMessageContaining("still in use");
            }
            System.out.printf("tidy-up race: %d app-v0 starts during the tidy-up, %d refused, %d running; tidy-up %s%n",
                    started.size() + refused, refused, started.size(), tidyUpFailure == null ? "committed" : "refused");
            assertThat(refused + started.size()).as("app starts attempted inside the window").isPositive();
        } finally {
            started.forEach(App::close);
        }
    }

    /**
     * The app logs in as a superuser here and acts as its version's role through SET ROLE, which no
     * other session can see; each pooled connection registers as a client of its version, so the
     * tidy-up sees the running app by its registration, not by its name, and refuses.
     */
    @Test
    void aRunningAppIsSeenByItsRegistrationAndBlocksTheTidyUp() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        try (App app = App.start(RunningApp.config(0, db), AppVersions.of(0)::stores);
             Connection c = db.connect(); Statement s = c.createStatement()) {
            try (var r = s.executeQuery("SELECT DISTINCT version, seen_by FROM kit.clients()")) {
                assertThat(r.next()).as("the app is a client").isTrue();
                assertThat(r.getInt(1) + " " + r.getString(2)).isEqualTo("0 registered");
                assertThat(r.next()).isFalse();
            }
            SQLException refused = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                    () -> s.execute("SELECT kit.retire_read_version('users_0')"));
            assertThat(refused.getSQLState()).isEqualTo("KT005");
            assertThat(refused.getMessage()).contains("application 'app-v0'", "registered as a client of version 0");
        }
    }
}
