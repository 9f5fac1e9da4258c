package kit.tests;

import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.sql.Connection;

import static kit.client.Jdbc.exec;
import static kit.client.Jdbc.rows;
import static kit.tests.Sql.value;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Names are the adopter's, quoted ones too: a write table, a read table, a column and an id space
 * in mixed case go through every kit function (declare, feed, backfill, write, verify, rebuild,
 * drift and repair) as the names they are, never folded to lower case.
 */
class QuotedNamesTest {

    @Test
    void mixedCaseTablesColumnsAndIdSpacesWorkThroughTheWholeLifecycle() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        String role = TestDatabases.rolePrefix() + 5;
        try (Connection c = db.connect()) {
            exec(c, "CREATE TABLE \"OrderPlaced\" (id bigint NOT NULL, \"Total\" numeric NOT NULL)");
            exec(c, "SELECT kit.create_write_table('OrderPlaced', 'Order', fact => 'OrderPlaced', schema_version => 5)");
            exec(c, "INSERT INTO \"OrderPlaced\" (\"Total\") VALUES (3)");
            exec(c, "CREATE TABLE \"Orders\" (id bigint PRIMARY KEY, \"Total\" numeric NOT NULL CHECK (\"Total\" > 0))");
            exec(c, "SELECT kit.create_read_version('Orders', 'Order')");
            exec(c, "SELECT kit.add_feed('OrderPlaced', 'Orders')");
            exec(c, "SELECT kit.create_schema_version(5, ARRAY['Orders'])");
            exec(c, "SELECT kit.create_app_role(5)");
            exec(c, "CALL kit.backfill()");
            assertThat(value(c, "SELECT state FROM kit.schema_versions WHERE version = 5")).isEqualTo("live");
        }
        try (Connection app = db.connectAsAppRole(5)) {
            exec(app, "INSERT INTO \"OrderPlaced\" (\"Total\") VALUES (4), (5)");
            assertThat(value(app, "SELECT sum(\"Total\") FROM \"Orders\"")).hasToString("12");
        }
        try (Connection c = db.connect()) {
            assertThat(DriftTest.drift(c)).isEmpty();
            assertThat(Sql.verify(c, "Orders")).isEmpty();
            exec(c, "CALL kit.rebuild('Orders')");
            assertThat(value(c, "SELECT count(*) FROM \"Orders\"")).isEqualTo(3L);
            exec(c, "ALTER TABLE \"OrderPlaced\" DISABLE TRIGGER USER");
            assertThat(DriftTest.drift(c)).isNotEmpty();
            exec(c, "CALL kit.repair()");
            assertThat(DriftTest.drift(c)).isEmpty();
            assertThat(rows(c, "SELECT t FROM kit.schema_version_write_tables(5, 'public') t")).extracting(r -> r.get("t")).contains("OrderPlaced");
            assertThat(value(c, "SELECT has_sequence_privilege(?, 'kit.\"Order_id_seq\"', 'USAGE')", role)).isEqualTo(true);
        }
    }
}
