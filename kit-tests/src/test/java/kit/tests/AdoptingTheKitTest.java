package kit.tests;

import kit.client.KitError;
import kit.client.Migrations;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

import java.sql.Connection;

import static kit.client.Jdbc.exec;
import static kit.tests.Sql.assertFailsWith;
import static kit.tests.Sql.value;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Another project adopts the kit: its own migrations (an orders domain, in
 * test resources) beside classpath:db/kit, nothing of the users example.
 * Migrated step by step while orders are placed, written to concurrently,
 * and verified.
 */
class AdoptingTheKitTest {

    static Flyway orders(TestDatabase db, String target) {
        return Flyway.configure().dataSource(db.url().jdbc(), null, null)
                .locations(Migrations.KIT_LOCATION, "classpath:adoption-orders").target(target).load();
    }

    @Test
    void aSecondDomainMigratesStepByStepUnderTheKitWhileWritersWrite() throws Exception {
        TestDatabase db = TestDatabases.empty();
        orders(db, "0").migrate();
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT kit.version()")).isEqualTo(KitInstallTest.THIS_KIT);
            assertThat(value(c, "SELECT to_regclass('public.users_0') IS NULL")).as("nothing of the users example").isEqualTo(true);
            exec(c, "INSERT INTO order_placed_0 (customer, total_cents) SELECT 'c' || g, g FROM generate_series(1, 1000) g");
        }

        int placed;
        try (BackgroundWriters writers = new BackgroundWriters(2, db::connect,
                (c, writer, n) -> exec(c, "INSERT INTO order_placed_0 (customer, total_cents) VALUES ('live', 100)"))) {
            Thread.sleep(200);
            orders(db, "1").migrate();
            Thread.sleep(200);
            assertThat(writers.stop()).as("writes that failed while version 1 was added").isEmpty();
            placed = writers.written();
        }

        try (Connection c = db.connect()) {
            assertThat(Sql.liveReadTables(c)).containsExactly("orders_0", "orders_1");
            long orders = 1000 + placed;
            assertThat(Sql.count(c, "orders_0")).isEqualTo(orders);
            assertThat(Sql.count(c, "orders_1")).isEqualTo(orders);
            long first = (Long) value(c, "SELECT min(id) FROM orders_1");
            exec(c, "INSERT INTO order_shipped_1 (order_id, shipped_on, carrier) VALUES (?, date '2026-11-23', 'post')", first);
            assertThat(value(c, "SELECT shipped_on::text FROM orders_0 WHERE id = ?", first)).isEqualTo("2026-11-23");
            assertThat(value(c, "SELECT carrier FROM orders_1 WHERE id = ?", first)).isEqualTo("post");
            var refused = assertFailsWith(KitError.UNKNOWN_ENTITY,
                    () -> exec(c, "INSERT INTO order_shipped_1 (order_id, shipped_on, carrier) VALUES (42, date '2026-11-23', 'post')"));
            assertThat(refused.getMessage()).contains("Unknown order: 42");
            assertThat(Sql.verify(c, "orders_0")).isEmpty();
            assertThat(Sql.verify(c, "orders_1")).isEmpty();
            assertThat(value(c, "SELECT string_agg(version || ' ' || state, ', ' ORDER BY version) FROM kit.schema_versions"))
                    .isEqualTo("0 live, 1 live");
        }
    }
}
