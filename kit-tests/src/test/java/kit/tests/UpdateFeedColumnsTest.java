package kit.tests;

import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.sql.Connection;

import static kit.client.Jdbc.exec;
import static kit.tests.Sql.value;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A read row has one order guard, last_fact_seq: a fact is skipped where a later one was applied.
 * With two update feeds that set different columns (the README's users_4: password_hash from
 * password changes, display_name from display names), a replay that applied one feed after the
 * other skipped an earlier fact of the second behind a later fact of the first, which the live
 * path had applied: verify differed, and a rebuild lost the earlier fact's columns. A replay now
 * applies a read table's update facts in seq order across its feeds, as the live path did.
 */
class UpdateFeedColumnsTest {

    /** Orders are placed; shipped sets the date, sent the date and the carrier. */
    static void orderTables(Connection c) throws Exception {
        exec(c, "CREATE TABLE placed_9 (id bigint, customer text NOT NULL)");
        exec(c, "SELECT kit.create_write_table('placed_9', 'order9')");
        exec(c, "CREATE TABLE shipped_9 (id bigint, order_id bigint NOT NULL, shipped_on date NOT NULL)");
        exec(c, "SELECT kit.create_write_table('shipped_9', 'shipment9')");
        exec(c, "CREATE TABLE sent_9 (id bigint, order_id bigint NOT NULL, shipped_on date NOT NULL, carrier text NOT NULL)");
        exec(c, "SELECT kit.create_write_table('sent_9', 'shipment9')");
    }

    @Test
    void updateFeedsThatSetOtherColumnsReplayInSeqOrderAcrossFeeds() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            orderTables(c);
            exec(c, "CREATE TABLE book_9 (id bigint PRIMARY KEY, customer text NOT NULL, shipped_on date, carrier text)");
            exec(c, "SELECT kit.create_read_version('book_9', 'order')");
            exec(c, "SELECT kit.add_feed('placed_9', 'book_9')");
            exec(c, "SELECT kit.add_feed('shipped_9', 'book_9', key_column => 'order_id')");
            exec(c, "SELECT kit.add_feed('sent_9', 'book_9', key_column => 'order_id')");
            exec(c, "CALL kit.backfill()");
            exec(c, "INSERT INTO placed_9 (id, customer) VALUES (1, 'ann'), (2, 'bob'), (3, 'cy')");
            // Order 1: the carrier first, then a date alone; order 2 the other way round; order 3 alternates.
            exec(c, "INSERT INTO sent_9 (order_id, shipped_on, carrier) VALUES (1, date '2026-12-01', 'post')");
            exec(c, "INSERT INTO shipped_9 (order_id, shipped_on) VALUES (1, date '2026-12-02'), (2, date '2026-12-02')");
            exec(c, "INSERT INTO sent_9 (order_id, shipped_on, carrier) VALUES (2, date '2026-12-03', 'van'), (3, date '2026-12-01', 'post')");
            exec(c, "INSERT INTO shipped_9 (order_id, shipped_on) VALUES (3, date '2026-12-05')");
            exec(c, "INSERT INTO sent_9 (order_id, shipped_on, carrier) VALUES (3, date '2026-12-06', 'bike')");
            String live = "SELECT string_agg(id || ' ' || shipped_on || ' ' || carrier, ', ' ORDER BY id) FROM book_9";
            assertThat(value(c, live)).isEqualTo("1 2026-12-02 post, 2 2026-12-03 van, 3 2026-12-06 bike");
            assertThat(Sql.verify(c, "book_9")).as("a replay in batches of any size").isEmpty();
            exec(c, "CALL kit.rebuild('book_9')");
            assertThat(value(c, live)).as("the rebuild keeps the carrier set before a later date").isEqualTo("1 2026-12-02 post, 2 2026-12-03 van, 3 2026-12-06 bike");
            Sql.rebuildOneFactPerBatch(c, "book_9");
            assertThat(value(c, live)).as("one fact per batch").isEqualTo("1 2026-12-02 post, 2 2026-12-03 van, 3 2026-12-06 bike");
        }
    }

    @Test
    void updateFeedsThatSetTheSameColumnsReplayAsTheyWereApplied() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            orderTables(c);
            exec(c, "CREATE TABLE book_9 (id bigint PRIMARY KEY, customer text NOT NULL, shipped_on date)");
            exec(c, "SELECT kit.create_read_version('book_9', 'order')");
            exec(c, "SELECT kit.add_feed('placed_9', 'book_9')");
            exec(c, "SELECT kit.add_feed('sent_9', 'book_9', key_column => 'order_id')");
            exec(c, "SELECT kit.add_feed('shipped_9', 'book_9', key_column => 'order_id')");
            exec(c, "CALL kit.backfill()");
            exec(c, "INSERT INTO placed_9 (id, customer) VALUES (1, 'ann'), (2, 'bob')");
            exec(c, "INSERT INTO sent_9 (order_id, shipped_on, carrier) VALUES (1, date '2026-12-01', 'post'), (2, date '2026-12-03', 'post')");
            exec(c, "INSERT INTO shipped_9 (order_id, shipped_on) VALUES (1, date '2026-12-02')");
            exec(c, "INSERT INTO sent_9 (order_id, shipped_on, carrier) VALUES (2, date '2026-12-04', 'van')");
            assertThat(value(c, "SELECT string_agg(id || ' ' || shipped_on, ', ' ORDER BY id) FROM book_9"))
                    .isEqualTo("1 2026-12-02, 2 2026-12-04");
            assertThat(Sql.verify(c, "book_9")).isEmpty();
            exec(c, "CALL kit.rebuild('book_9')");
            assertThat(value(c, "SELECT string_agg(id || ' ' || shipped_on, ', ' ORDER BY id) FROM book_9"))
                    .isEqualTo("1 2026-12-02, 2 2026-12-04");
            assertThat(DriftTest.drift(c)).isEmpty();
        }
    }
}
