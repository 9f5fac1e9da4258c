package kit.it.replica;

import kit.client.Jdbc;
import kit.server.ReplicatedServer;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class ReplicaSmokeTest {
    @Test
    void replicaReplays() throws Exception {
        try (ReplicatedServer s = ReplicatedServer.start()) {
            try (Connection c = Jdbc.connect(s.url().jdbc())) {
                c.createStatement().execute("CREATE TABLE t AS SELECT 42 AS x");
            }
            s.awaitReplay(Duration.ofSeconds(10));
            try (Connection c = Jdbc.connect(s.replicaUrl().jdbc()); ResultSet r = c.createStatement().executeQuery("SELECT x, pg_is_in_recovery() FROM t")) {
                r.next();
                assertThat(r.getInt(1)).isEqualTo(42);
                assertThat(r.getBoolean(2)).isTrue();
            }
        }
    }
}
