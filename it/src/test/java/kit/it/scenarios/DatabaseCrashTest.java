package kit.it.scenarios;

import kit.client.AppRoles;
import kit.client.Catalog;
import kit.client.DatabaseUrl;
import kit.client.Jdbc;
import kit.client.Migrations;
import kit.example.ExampleMigrations;
import kit.it.AppProcess;
import kit.it.LoadGenerator;
import kit.it.StepStats;
import kit.server.EmbeddedServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scenario 2: PostgreSQL is killed (SIGKILL to the postmaster and every
 * backend) under load and restarted on the same data and port. The apps
 * recover by themselves; clients see errors (lost connections, 503) only while
 * the server is down; no acknowledged write is lost; every read table still
 * equals a rebuild. Uses a server it starts itself, whatever KIT_DB_URL says.
 */
class DatabaseCrashTest {

    @Test
    void appsRecoverFromAKilledDatabaseAndNoAcknowledgedWriteIsLost(@TempDir Path work) throws Exception {
        Path data = work.resolve("pgdata");
        int port = EmbeddedServer.freePort();
        EmbeddedServer server = EmbeddedServer.startKeeping(data, port);
        try {
            server.createDatabase("crash", null);
            DatabaseUrl url = server.url().withDatabase("crash");
            new Migrations(url, ExampleMigrations.LOCATION, AppRoles.DEFAULT_PREFIX).migrateTo(null);
            try (Fleet fleet = new Fleet(url, AppRoles.DEFAULT_PREFIX)) {
                AppProcess v3 = fleet.start(3);
                AppProcess v2 = fleet.start(2);
                LoadGenerator load = fleet.load("before the crash");
                Thread.sleep(3000);

                StepStats outage = fleet.step("crash and restart");
                load.databaseDown(true);
                server.crash(data);
                server.close();
                Thread.sleep(1000);
                long down = System.nanoTime();
                server = EmbeddedServer.startKeeping(data, port);
                v3.awaitHealthy(fleet.http, Duration.ofSeconds(30));
                v2.awaitHealthy(fleet.http, Duration.ofSeconds(30));
                long recovered = Duration.ofNanos(System.nanoTime() - down).toMillis();
                Thread.sleep(1000);
                load.databaseDown(false);

                StepStats after = fleet.step("after recovery");
                Thread.sleep(3000);
                fleet.stopLoad();

                System.out.println("database crash: " + fleet.requests() + " requests, apps healthy " + recovered
                        + " ms after the restart began" + fleet.figures() + "\n  " + load.ledger().figures());
                fleet.steps.forEach(s -> assertThat(s.unexpected()).as("unexpected answers in %s: %s", s.name(), s.unexpectedExamples()).isZero());
                assertThat(outage.tolerated()).as("requests that failed while the server was down").isPositive();
                assertThat(after.requests()).as("traffic after recovery").isPositive();
                try (Connection c = Jdbc.connect(url)) {
                    assertThat(load.ledger().verify(c)).as("acknowledged writes survive the crash").isEmpty();
                    for (String table : new String[] {"users_2", "messages_3"}) {
                        assertThat(Catalog.verify(Catalog.of(c), table, 50)).as("%s equals its rebuild", table).isEmpty();
                    }
                }
            }
        } finally {
            server.close();
        }
    }
}
