package kit.tests;

import kit.client.KitError;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;

import java.sql.Connection;

import static kit.client.Jdbc.exec;
import static kit.client.Jdbc.rows;
import static kit.tests.Sql.assertFailsWith;
import static kit.tests.Sql.value;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which schema version a write table belongs to, and which fact it holds, is
 * declared in its migration, not parsed from its name: the declaration decides
 * what each version's apps write, their role's grants and their generated code.
 */
class WriteTableDeclarationTest {

    @Test
    void aTableOfAnyNameTakesTheVersionAndFactItIsDeclaredWith() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "CREATE TABLE orders_placed (id bigint NOT NULL, total numeric NOT NULL)");
            exec(c, "SELECT kit.create_write_table('orders_placed', 'order', fact => 'order_placed', schema_version => 3)");
            exec(c, "CREATE TABLE order_placed_again (id bigint NOT NULL, total numeric NOT NULL, note text)");
            exec(c, "SELECT kit.create_write_table('order_placed_again', 'order', fact => 'order_placed', schema_version => 4)");
            // A name of the <fact>_<N> form may still be declared otherwise: the declaration wins.
            exec(c, "CREATE TABLE audit_entry_2 (id bigint NOT NULL, what text NOT NULL)");
            exec(c, "SELECT kit.create_write_table('audit_entry_2', 'audit', schema_version => 3)");

            assertThat(rows(c, "SELECT write_table, fact, schema_version FROM kit.write_table ORDER BY schema_version, write_table"))
                    .extracting(r -> r.get("write_table") + " " + r.get("fact") + " " + r.get("schema_version"))
                    .containsExactly("user_registered_0 user_registered 0", "user_registered_1 user_registered 1",
                            "password_changed_2 password_changed 2", "audit_entry_2 audit_entry 3", "message_sent_3 message_sent 3",
                            "orders_placed order_placed 3", "order_placed_again order_placed 4", "user_deleted_4 user_deleted 4");
            assertThat(rows(c, "SELECT t FROM kit.schema_version_write_tables(3, 'public') t ORDER BY 1"))
                    .extracting(r -> r.get("t")).containsExactly("audit_entry_2", "message_sent_3", "orders_placed",
                            "password_changed_2", "user_registered_1");
            assertThat(rows(c, "SELECT t FROM kit.schema_version_write_tables(4, 'public') t ORDER BY 1"))
                    .extracting(r -> r.get("t")).contains("order_placed_again").doesNotContain("orders_placed");
            assertThat(rows(c, "SELECT t FROM kit.schema_version_write_tables(2, 'public') t ORDER BY 1"))
                    .extracting(r -> r.get("t")).doesNotContain("orders_placed", "audit_entry_2");

            // The grants follow the declaration, at once: version 3's role may write orders_placed, version 2's may not.
            assertThat(DriftTest.drift(c)).as("no repair needed for a write table of a version whose role exists").isEmpty();
            String role3 = TestDatabases.rolePrefix() + 3;
            String role2 = TestDatabases.rolePrefix() + 2;
            assertThat(value(c, "SELECT has_any_column_privilege(?, 'orders_placed', 'INSERT')", role3)).isEqualTo(true);
            assertThat(value(c, "SELECT has_any_column_privilege(?, 'orders_placed', 'INSERT')", role2)).isEqualTo(false);
            assertThat(DriftTest.drift(c)).isEmpty();
        }
    }

    @Test
    void aTableThatWouldBelongToNoVersionOrShareOneWithAnotherOfItsFactIsRefusedAndLeftAsItWas() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "CREATE TABLE orders_placed (id bigint NOT NULL, total numeric NOT NULL)");
            var undeclared = assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.create_write_table('orders_placed', 'order')"));
            assertThat(undeclared.getMessage()).contains("orders_placed belongs to no schema version");
            assertThat(((PSQLException) undeclared).getServerErrorMessage().getHint())
                    .contains("kit.create_write_table('orders_placed', <id space>, fact => 'orders_placed', schema_version => <N>)");

            exec(c, "CREATE TABLE evt_99999999999 (id bigint NOT NULL, body text NOT NULL)");
            assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.create_write_table('evt_99999999999', 'evt')"));
            assertFailsWith(KitError.USAGE, () -> exec(c,
                    "SELECT kit.create_write_table('orders_placed', 'order', schema_version => -1)"));

            exec(c, "CREATE TABLE user_registered_again (id bigint NOT NULL, email text NOT NULL, password_hash text NOT NULL)");
            var ambiguous = assertFailsWith(KitError.USAGE, () -> exec(c,
                    "SELECT kit.create_write_table('user_registered_again', 'user', fact => 'user_registered', schema_version => 1)"));
            assertThat(ambiguous.getMessage()).contains("Schema version 1 already has a write table of fact user_registered: user_registered_1");

            var badFact = assertFailsWith(KitError.USAGE, () -> exec(c,
                    "SELECT kit.create_write_table('orders_placed', 'order', fact => '   ', schema_version => 3)"));
            assertThat(badFact.getMessage()).contains("A fact is named like an identifier");
            assertFailsWith(KitError.USAGE, () -> exec(c,
                    "SELECT kit.create_write_table('orders_placed', 'order', fact => 'order; placed', schema_version => 3)"));
            var twice = assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.create_write_table('user_registered_1', 'user', fact => 'signed_up')"));
            assertThat(twice.getMessage()).contains("user_registered_1 is a write table already (fact user_registered, schema version 1)");

            assertThat(value(c, "SELECT count(*) FROM kit.write_table WHERE write_table IN ('orders_placed', 'evt_99999999999', 'user_registered_again')"))
                    .isEqualTo(0L);
            assertThat(value(c, "SELECT count(*) FROM pg_attribute WHERE attname = 'seq' AND attrelid IN "
                    + "('orders_placed'::regclass, 'evt_99999999999'::regclass, 'user_registered_again'::regclass)"))
                    .as("no kit column was added").isEqualTo(0L);
            assertThat(value(c, "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'orders_placed'::regclass")).isEqualTo(0L);
        }
    }
}
