package kit.tests;

import kit.client.Jdbc;
import kit.client.KitError;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.util.List;

import static kit.client.Jdbc.exec;
import static kit.client.Jdbc.strings;
import static kit.tests.Sql.assertFailsWith;
import static kit.tests.Sql.count;
import static kit.tests.Sql.value;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Names across domains: one table name in two schemas is two tables of two domains (their id
 * spaces, versions and generated code apart); a schema in mixed case works quoted or not; a name
 * the kit cannot take is refused up front with KT006, and nothing is left half-made.
 */
class DomainNamesTest {

    /** Declares a one-table domain in {@code schema} as its migration would, unqualified under its search_path. */
    private static void declareThings(Connection c, String schema, int version) throws Exception {
        exec(c, "CREATE SCHEMA " + schema);
        exec(c, "SET search_path = " + schema);
        exec(c, "CREATE TABLE thing_added (id bigint, name text NOT NULL)");
        exec(c, "SELECT kit.create_write_table('thing_added', 'thing', schema_version => " + version + ")");
        exec(c, "CREATE TABLE things (id bigint PRIMARY KEY, name text NOT NULL UNIQUE)");
        exec(c, "SELECT kit.create_read_version('things', 'thing')");
        exec(c, "SELECT kit.add_feed('thing_added', 'things')");
        exec(c, "SELECT kit.create_schema_version(" + version + ", ARRAY['things'])");
        exec(c, "RESET search_path");
    }

    @Test
    void oneTableNameInTwoSchemasIsTwoDomains() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            declareThings(c, "north", 0);
            declareThings(c, "\"South\"", 0);
            exec(c, "CALL kit.backfill()");
            exec(c, "INSERT INTO north.thing_added (name) VALUES ('a'), ('b')");
            exec(c, "INSERT INTO \"South\".thing_added (name) VALUES ('a')");
            assertThat(count(c, "north.things")).isEqualTo(2);
            assertThat(count(c, "\"South\".things")).as("each domain's facts reach its own read tables").isEqualTo(1);
            assertThat(strings(c, "SELECT read_table || ' ' || domain FROM kit.read_version WHERE domain <> 'public' ORDER BY read_table COLLATE \"C\""))
                    .containsExactly("South.things South", "north.things north");
            assertThat(strings(c, "SELECT id_space || ' ' || id_sequence FROM kit.write_table WHERE domain <> 'public' ORDER BY id_space COLLATE \"C\""))
                    .containsExactly("South.thing kit.\"South__thing_id_seq\"", "north.thing kit.north__thing_id_seq");
            assertThat(strings(c, "SELECT domain || ' ' || version || ' ' || state FROM kit.schema_versions WHERE domain <> 'public' ORDER BY domain COLLATE \"C\""))
                    .containsExactly("South 0 live", "north 0 live");
            assertThat(Sql.verify(c, "\"South\".things")).isEmpty();
            assertThat(Sql.verify(c, "South.things")).as("a kit name is taken as written").isEmpty();
            exec(c, "CALL kit.rebuild('north.things')");
            assertThat(Jdbc.rows(c, "SELECT * FROM kit.drift()")).isEmpty();
        }
    }

    @Test
    void namesTheKitCannotTakeAreRefusedAndNothingIsMade() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            declareThings(c, "north", 0);
            exec(c, "CREATE SCHEMA east");
            exec(c, "CREATE TABLE east.things (id bigint PRIMARY KEY, name text NOT NULL)");
            exec(c, "CREATE TABLE \"a.b\" (id bigint, name text)");
            for (String call : List.of(
                    "SELECT kit.create_write_table('db.north.thing_added', 'thing', schema_version => 1)",
                    "SELECT kit.create_write_table('a.b', 'thing', schema_version => 1)",
                    "SELECT kit.create_write_table('\"a.b\"', 'thing', schema_version => 1)",
                    "SELECT kit.create_write_table('.thing_added', 'thing', schema_version => 1)",
                    "SELECT kit.create_write_table('north.thing_added', 'west.thing', schema_version => 1)",
                    "SELECT kit.create_read_version('east.things', 'thing', refs => '{\"id\": \"north.things\"}')",
                    "SELECT kit.add_feed('north.thing_added', 'east.things')",
                    "SELECT kit.create_schema_version(1, ARRAY['north.things', 'east.things'])",
                    "SELECT kit.create_schema_version(0, ARRAY['things'], domain => 'north')",
                    "SELECT kit.create_app_role(0, domain => 'nowhere')")) {
                var refused = assertFailsWith(KitError.USAGE, () -> exec(c, call));
                assertThat(refused.getMessage()).as(call).isNotBlank();
            }
            assertThat(assertFailsWith(KitError.USAGE,
                    () -> exec(c, "SELECT kit.create_write_table('nosuch.facts', 'fact', schema_version => 1)")).getMessage())
                    .contains("No such table: nosuch.facts (there is no schema nosuch)");
            assertThat(strings(c, "SELECT write_table FROM kit.write_table WHERE domain <> 'public'")).containsExactly("north.thing_added");
            assertThat(strings(c, "SELECT read_table FROM kit.read_version WHERE domain <> 'public'")).containsExactly("north.things");
            assertThat(value(c, "SELECT count(*) FROM kit.schema_version WHERE domain <> 'public'")).isEqualTo(1L);
            assertThat(value(c, "SELECT count(*) FROM kit.app_role WHERE domain <> 'public'")).isEqualTo(0L);
            assertThat(value(c, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'east.things'::regclass AND attname = 'last_fact_seq'"))
                    .as("the refused read version's table is as it was").isEqualTo(0L);
        }
    }
}
