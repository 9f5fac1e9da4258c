package kit.tests;

import kit.client.Jdbc;
import kit.client.KitError;
import kit.client.Migrations;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.SQLException;

import static kit.client.Jdbc.exec;
import static kit.client.Jdbc.strings;
import static kit.tests.Sql.assertFailsWith;
import static kit.tests.Sql.count;
import static kit.tests.Sql.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * A schema is a domain. The shop (test resources, shop-domain) lives in schema shop, with free
 * table names, a mixed-case write table, two schema versions, update feeds, app roles and a
 * tidy-up, adopted through classpath:db/kit as Flyway's defaultSchema, in the same database as
 * the example in public. Each domain's rules, verify, rebuild, drift, retirement and gate work on
 * their own, and neither reaches into the other.
 */
class ShopDomainTest {

    static final String LOCATION = "classpath:shop-domain";

    /** The shop's migrations: its own role prefix (roles are the server's), its own schema. */
    static Migrations shop(TestDatabase db) {
        return new Migrations(db.url(), LOCATION, shopRolePrefix()).inDomain("shop");
    }

    static String shopRolePrefix() {
        return TestDatabases.runRole("shop_v");
    }

    /** The example fully migrated in public, and the shop up to version 1 beside it. */
    static TestDatabase bothDomains() {
        TestDatabase db = TestDatabases.migrated();
        shop(db).migrateTo("1");
        return db;
    }

    @Test
    void bothDomainsKeepTheirOwnVersionLinesInOneDatabase() throws Exception {
        TestDatabase db = bothDomains();
        try (Connection c = db.connect()) {
            assertThat(strings(c, "SELECT domain || ' ' || version || ' ' || state FROM kit.schema_versions ORDER BY domain, version"))
                    .containsExactly("public 0 retired", "public 1 retired", "public 2 live", "public 3 live", "public 4 live", "shop 0 live", "shop 1 live");
            assertThat(strings(c, "SELECT write_table || ' ' || fact || ' ' || schema_version || ' ' || domain FROM kit.write_table"
                    + " WHERE domain = 'shop' ORDER BY 1"))
                    .containsExactly("shop.OrderShipped order_shipped 0 shop", "shop.order_placed order_placed 0 shop",
                            "shop.shipment_sent order_shipped 1 shop");
            assertThat(strings(c, "SELECT read_table FROM kit.read_version WHERE domain = 'shop' ORDER BY 1"))
                    .containsExactly("shop.order_book", "shop.orders");
            assertThat(value(c, "SELECT kit.schema_version_state(1, 'shop')")).isEqualTo("live");
            assertThat(value(c, "SELECT kit.schema_version_state(1, 'public')")).isEqualTo("retired");
            assertThat(value(c, "SELECT kit.schema_version_state(4, 'shop')")).isEqualTo("missing");
            assertThat(strings(c, "SELECT role_name FROM kit.app_role WHERE domain = 'shop' ORDER BY version"))
                    .containsExactly(shopRolePrefix() + "0", shopRolePrefix() + "1");
            assertThat(strings(c, "SELECT proname || ' ' || pronamespace::regnamespace FROM pg_proc"
                    + " WHERE proname IN ('feed_OrderShipped', 'project_order_placed_into_order_book') ORDER BY 1"))
                    .as("generated functions live beside their tables")
                    .containsExactly("feed_OrderShipped shop", "project_order_placed_into_order_book shop");
            assertThat(Jdbc.rows(c, "SELECT * FROM kit.drift()")).isEmpty();
            assertThat(Jdbc.rows(c, "SELECT * FROM kit.check_security()")).isEmpty();
        }
    }

    @Test
    void theShopsRulesHoldInItsSchema() throws Exception {
        TestDatabase db = bothDomains();
        try (Connection c = db.connect()) {
            exec(c, "INSERT INTO shop.order_placed (customer, total_cents) VALUES ('ann', 1200), ('bob', 300)");
            long ann = (Long) value(c, "SELECT id FROM shop.orders WHERE customer = 'ann'");
            exec(c, "INSERT INTO shop.\"OrderShipped\" (order_id, shipped_on) VALUES (?, date '2026-12-01')", ann);
            exec(c, "INSERT INTO shop.shipment_sent (order_id, shipped_on, carrier) VALUES (?, date '2026-12-02', 'post')", ann);
            assertThat(value(c, "SELECT shipped_on::text || ' ' || carrier FROM shop.order_book WHERE id = ?", ann))
                    .isEqualTo("2026-12-02 post");
            assertThat(value(c, "SELECT shipped_on::text FROM shop.orders WHERE id = ?", ann)).isEqualTo("2026-12-02");

            var unknown = assertFailsWith(KitError.UNKNOWN_ENTITY,
                    () -> exec(c, "INSERT INTO shop.shipment_sent (order_id, shipped_on, carrier) VALUES (42, current_date, 'post')"));
            assertThat(unknown.getMessage()).contains("Unknown order: 42").contains("shop.shipment_sent");
            assertFailsWith(KitError.APPEND_ONLY, () -> exec(c, "DELETE FROM shop.order_placed"));
            exec(c, "INSERT INTO shop.order_placed (id, customer, total_cents) VALUES (7, 'cy', 1)");
            assertFailsWith(KitError.DUPLICATE_ID,
                    () -> exec(c, "INSERT INTO shop.order_placed (id, customer, total_cents) VALUES (7, 'cy', 1)"));
            assertFailsWith("23514", () -> exec(c, "INSERT INTO shop.order_placed (customer, total_cents) VALUES ('dee', -1)"));

            assertThat(count(c, "shop.order_book")).isEqualTo(3);
            assertThat(count(c, "public.messages_3")).as("the example's read tables take none of the shop's facts").isZero();
            for (String table : new String[] {"shop.orders", "shop.order_book", "users_2", "messages_3"}) {
                assertThat(Sql.verify(c, table)).as("verify %s", table).isEmpty();
            }
        }
    }

    @Test
    void rebuildDriftAndRepairWorkOnTheShopAlone() throws Exception {
        TestDatabase db = bothDomains();
        try (Connection c = db.connect()) {
            exec(c, "INSERT INTO shop.order_placed (customer, total_cents) SELECT 'c' || g, g FROM generate_series(1, 500) g");
            exec(c, "UPDATE shop.order_book SET total_cents = 0 WHERE customer = 'c1'");
            assertThat(Sql.verify(c, "shop.order_book")).as("a row changed behind the kit's back").isNotEmpty();
            exec(c, "CALL kit.rebuild('shop.order_book')");
            assertThat(Sql.verify(c, "shop.order_book")).isEmpty();
            assertThat(count(c, "shop.order_book")).isEqualTo(500);

            exec(c, "ALTER TABLE shop.\"OrderShipped\" DISABLE TRIGGER \"feed_OrderShipped\"");
            assertThat(strings(c, "SELECT object || ': ' || problem FROM kit.drift()"))
                    .containsExactly("trigger feed_OrderShipped on shop.OrderShipped: disabled");
            exec(c, "CALL kit.repair()");
            assertThat(Jdbc.rows(c, "SELECT * FROM kit.drift()")).isEmpty();
        }
    }

    /**
     * Retirement and the gate are per domain: a client of the shop's version 0 (an analyst's psql
     * session, a member of its role) holds the shop's tidy-up, and a client of the example's
     * version 2 does not; the example's retired versions never hold the shop.
     */
    @Test
    void theShopsTidyUpWaitsForTheShopsClientsOnly() throws Exception {
        TestDatabase db = bothDomains();
        String analyst = TestDatabases.runRole("shop_analyst");
        String exampleUser = TestDatabases.runRole("example_reader");
        try (Connection c = db.connect()) {
            exec(c, "CREATE ROLE " + analyst + " LOGIN IN ROLE " + shopRolePrefix() + "0");
            exec(c, "CREATE ROLE " + exampleUser + " LOGIN IN ROLE " + TestDatabases.rolePrefix() + "2");
        }
        try (Connection reader = Jdbc.connect(db.url().with("user", exampleUser).with("ApplicationName", "report").jdbc())) {
            assertThat(value(reader, "SELECT count(*) FROM users_2")).isEqualTo(0L);
            try (Connection psql = Jdbc.connect(db.url().with("user", analyst).with("ApplicationName", "psql").jdbc())) {
                assertThat(value(psql, "SELECT count(*) FROM shop.orders")).isEqualTo(0L);
                assertCannotRead(psql, "users_2");
                assertCannotRead(reader, "shop.orders");

                Throwable refused = catchThrowable(() -> shop(db).migrateAll());
                assertThat(KitError.of(refused)).contains(KitError.IN_USE);
                assertThat(refused).hasMessageContaining("shop.orders").hasMessageContaining("role " + analyst)
                        .hasMessageContaining("application 'psql'").hasMessageNotContaining(exampleUser);
            }
            assertThat(shop(db).migrateAll()).as("once the shop's client is gone, with the example's still there").isEqualTo(1);
        }
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT state FROM kit.read_version WHERE read_table = 'shop.orders'")).isEqualTo("retired");
            assertThat(value(c, "SELECT to_regclass('shop.orders') IS NULL")).isEqualTo(true);
            assertThat(strings(c, "SELECT domain || ' ' || version || ' ' || state FROM kit.schema_versions ORDER BY domain, version"))
                    .containsExactly("public 0 retired", "public 1 retired", "public 2 live", "public 3 live", "public 4 live", "shop 0 retired", "shop 1 live");
            assertThat(Jdbc.rows(c, "SELECT * FROM kit.drift()")).isEmpty();
        }
    }

    /** The security check covers every schema that holds a domain, not only public. */
    @Test
    void aShopSchemaEveryRoleMayCreateInIsAFinding() throws Exception {
        TestDatabase db = bothDomains();
        try (Connection c = db.connect()) {
            exec(c, "GRANT CREATE ON SCHEMA shop TO PUBLIC");
            assertThat(strings(c, "SELECT object || ': ' || hint FROM kit.check_security()"))
                    .containsExactly("schema shop: REVOKE CREATE ON SCHEMA shop FROM PUBLIC;");
            exec(c, "REVOKE CREATE ON SCHEMA shop FROM PUBLIC");
            assertThat(Jdbc.rows(c, "SELECT * FROM kit.check_security()")).isEmpty();
        }
    }

    /** Each domain's app roles reach their own domain's tables, never the other's. */
    @Test
    void appRolesOfOneDomainReachNothingOfTheOther() throws Exception {
        TestDatabase db = bothDomains();
        try (Connection c = db.connect()) {
            String shop1 = shopRolePrefix() + "1";
            String example3 = TestDatabases.rolePrefix() + "3";
            assertThat(value(c, "SELECT has_table_privilege(?, 'shop.order_book', 'SELECT')", shop1)).isEqualTo(true);
            assertThat(value(c, "SELECT has_any_column_privilege(?, 'shop.shipment_sent', 'INSERT')", shop1)).isEqualTo(true);
            assertThat(value(c, "SELECT has_any_column_privilege(?, 'shop.\"OrderShipped\"', 'INSERT')", shop1))
                    .as("version 1 writes the newest table of the fact").isEqualTo(false);
            assertThat(value(c, "SELECT has_table_privilege(?, 'public.messages_3', 'SELECT')", shop1)).isEqualTo(false);
            assertThat(value(c, "SELECT has_table_privilege(?, 'shop.order_book', 'SELECT')", example3)).isEqualTo(false);
            assertThat(value(c, "SELECT has_schema_privilege(?, 'shop', 'USAGE')", example3)).isEqualTo(false);
        }
    }

    private static void assertCannotRead(Connection c, String table) {
        Throwable failure = catchThrowable(() -> value(c, "SELECT count(*) FROM " + table));
        assertThat(failure).isInstanceOf(SQLException.class);
        assertThat(((SQLException) failure).getSQLState()).isEqualTo("42501");
    }
}
