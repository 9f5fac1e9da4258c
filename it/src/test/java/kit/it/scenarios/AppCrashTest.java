package kit.it.scenarios;

import kit.client.Catalog;
import kit.client.Jdbc;
import kit.it.AppProcess;
import kit.it.LoadGenerator;
import kit.it.StepStats;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.sql.Connection;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scenario 4: an app process killed with SIGKILL under load leaves no partial
 * fact; its peers (another app-v3 and an app-v2) carry on without an error.
 */
class AppCrashTest {

    @Test
    void anAppKilledMidRequestLeavesNoPartialFactAndItsPeersCarryOn() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Fleet fleet = new Fleet(db.url(), TestDatabases.rolePrefix())) {
            AppProcess victim = fleet.start(3);
            AppProcess peer = fleet.start(3);
            fleet.start(2);
            LoadGenerator load = fleet.load("before the kill");
            Thread.sleep(3000);

            StepStats kill = fleet.step("kill -9 of one app-v3");
            load.appGoingDown(fleet.target(victim));
            victim.kill();
            Thread.sleep(2000);
            StepStats after = fleet.step("after the kill");
            Thread.sleep(3000);
            fleet.stopLoad();

            System.out.println("app crash: " + fleet.requests() + " requests" + fleet.figures());
            fleet.steps.forEach(s -> assertThat(s.unexpected()).as("unexpected answers in %s: %s", s.name(), s.unexpectedExamples()).isZero());
            assertThat(after.requestsByVersion().get(3)).as("the surviving app-v3 (%s) carried on", peer.baseUrl()).isPositive();
            assertThat(after.requestsByVersion().get(2)).isPositive();
            try (Connection c = Jdbc.connect(db.url())) {
                assertThat(load.ledger().verify(c)).as("acknowledged writes").isEmpty();
                for (String table : new String[] {"users_2", "messages_3"}) {
                    assertThat(Catalog.verify(Catalog.of(c), table, 50)).as("%s equals its rebuild: no fact half there", table).isEmpty();
                }
            }
        }
    }
}
