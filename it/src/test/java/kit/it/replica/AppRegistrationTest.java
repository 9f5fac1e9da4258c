package kit.it.replica;

import kit.app.App;
import kit.app.AppConfig;
import kit.cli.KitCommand;
import kit.client.AppRoles;
import kit.client.DatabaseUrl;
import kit.client.Jdbc;
import kit.it.AppVersions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Retirement sees apps that read from a replica: app-v0, reading users_0 from the replica only,
 * registers on the primary (kit.register_app) for a lease it renews, kit status lists it, and the
 * tidy-up's retirement refuses while it holds, even with every session app-v0 has on the primary
 * ignored. Stopped, the app gives its registration back; killed, it holds until the lease ends.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)  // each retires a version the ones before it register for
class AppRegistrationTest {

    private static Replicas.Migrated servers;
    private static DatabaseUrl primary;
    private static DatabaseUrl replica;

    @BeforeAll
    static void migrate() throws Exception {
        servers = Replicas.migrated("registered", "2");
        primary = servers.primary();
        replica = servers.replica();
    }

    @AfterAll
    static void stop() {
        if (servers != null) {
            servers.close();
        }
    }

    private static String retire(Connection c, String table, List<Integer> ignore) throws SQLException {
        try {
            Jdbc.single(c, "SELECT kit.retire_read_version(?, ignore_sessions => ?::integer[])::text", table,
                    "{" + String.join(",", ignore.stream().map(String::valueOf).toList()) + "}");
            return "retired";
        } catch (SQLException e) {
            return e.getSQLState() + ": " + e.getMessage();
        }
    }

    private static void execute(Connection c, String sql) throws SQLException {
        try (var s = c.createStatement()) {
            s.execute(sql);
        }
    }

    @Test
    @Order(3)
    void anAppThatReadsFromTheReplicaHoldsItsVersionOnThePrimaryUntilItStops() throws Exception {
        AppConfig config = new AppConfig(0, "127.0.0.1", 0, primary, AppRoles.defaultRole(0), 2, 1000, 65536, "warn")
                .readingFrom(replica, 1000);
        try (Connection c = Jdbc.connect(primary.jdbc())) {
            try (App v0 = App.start(config, AppVersions.of(0)::stores)) {
                assertThat(Jdbc.strings(c, "SELECT instance || ' ' || version || ' ' || reads_from FROM kit.registered_apps()"))
                        .containsExactly(v0.instance() + " 0 replica " + replica.hostAndPort() + "/registered");
                String status = KitCommand.run(primary.jdbc(), "status").out();
                assertThat(status).contains("Registered apps").contains(v0.instance()).contains("replica " + replica.hostAndPort())
                        .contains("streams to the physical replica kit_replica (127.0.0.1)");

                // Its sessions on the primary (it writes there) are the operator's to ignore; its registration is not.
                List<Integer> sessions = Jdbc.strings(c, "SELECT pid::text FROM kit.clients() WHERE version = 0").stream()
                        .map(Integer::valueOf).toList();
                String refused = retire(c, "users_0", sessions);
                assertThat(refused).startsWith("KT005").contains("app " + v0.instance()).contains("reads from replica");
                assertThat(Jdbc.single(c, "SELECT state FROM kit.read_version WHERE read_table = 'users_0'")).isEqualTo("live");
            }
            assertThat(Jdbc.number(c, "SELECT count(*) FROM kit.registered_apps()")).as("given back at stop").isZero();
            awaitNoSessionOf(c, 0);
            assertThat(retire(c, "users_0", List.of())).isEqualTo("retired");
            assertThatThrownBy(() -> Jdbc.single(c, "SELECT kit.register_app(0, 'public', 'report-job@host1', 'replica db2:5432')::text"))
                    .as("no app of a retired version can run, so none registers").hasMessageContaining("is retired");
        }
    }

    /** A closed pool's backends end a moment after it closes: the retirement would still see them. */
    private static void awaitNoSessionOf(Connection c, int version) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (Jdbc.number(c, "SELECT count(*) FROM kit.clients() WHERE version = ?", version) > 0) {
            assertThat(System.nanoTime()).as("app-v%d's sessions on the primary end within 10 s of its stop", version).isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    @Test
    @Order(2)
    void aKilledAppHoldsItsVersionUntilItsLeaseEnds() throws Exception {
        try (Connection c = Jdbc.connect(primary.jdbc())) {
            // What a killed app-v1 leaves: a registration nobody renews.
            Jdbc.single(c, "SELECT kit.register_app(1, 'public', 'app-v1@gone:4242/dead', 'replica elsewhere', '2 seconds')::text");
            assertThat(retire(c, "users_1", List.of())).startsWith("KT005").contains("app app-v1@gone:4242/dead");
            Thread.sleep(2_200);
            assertThat(Jdbc.number(c, "SELECT count(*) FROM kit.registered_apps()")).isZero();
            assertThat(retire(c, "users_1", List.of())).isEqualTo("retired");
        }
    }

    @Test
    @Order(1)
    void aRegistrationThatCannotHoldIsRefusedAndLeavesNothing() throws Exception {
        try (Connection c = Jdbc.connect(primary.jdbc())) {
            assertThatThrownBy(() -> Jdbc.single(c, "SELECT kit.register_app(2, 'public', 'x', 'primary', '0 seconds')::text"))
                    .hasMessageContaining("between 1 second and 1 day");
            assertThatThrownBy(() -> Jdbc.single(c, "SELECT kit.register_app(2, 'public', '', 'primary')::text"))
                    .hasMessageContaining("registers with a name");
            assertThatThrownBy(() -> Jdbc.single(c, "SELECT kit.register_app(9, 'public', 'x', 'primary')::text"))
                    .hasMessageContaining("has no app role");
            Jdbc.single(c, "SELECT kit.register_app(2, 'public', 'app-v2@here', 'primary')::text");
            assertThatThrownBy(() -> Jdbc.single(c, "SELECT kit.register_app(1, 'public', 'app-v2@here', 'primary')::text"))
                    .hasMessageContaining("App app-v2@here is registered for schema version 2 of domain public, not 1");
            assertThatThrownBy(() -> Jdbc.single(c, "SELECT kit.register_app(NULL, 'public', 'x', 'primary')::text"))
                    .hasMessageContaining("neither of them NULL");
            execute(c, "CREATE ROLE registration_outsider LOGIN");
            try {
                execute(c, "SET SESSION AUTHORIZATION registration_outsider");
                assertThatThrownBy(() -> Jdbc.single(c, "SELECT kit.unregister_app('app-v2@here')::text"))
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isIn("42501"));
            } finally {
                execute(c, "RESET SESSION AUTHORIZATION");
            }
            assertThat(Jdbc.strings(c, "SELECT instance FROM kit.registered_apps()")).containsExactly("app-v2@here");
            assertThat(Jdbc.single(c, "SELECT kit.unregister_app('app-v2@here')::text")).isEqualTo("true");
            assertThat(Jdbc.single(c, "SELECT kit.unregister_app('app-v2@here')::text")).isEqualTo("false");
        }
    }
}
