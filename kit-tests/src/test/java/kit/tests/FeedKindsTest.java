package kit.tests;

import kit.client.KitError;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.util.List;

import static kit.client.Jdbc.exec;
import static kit.client.Jdbc.strings;
import static kit.tests.Sql.assertFailsWith;
import static kit.tests.Sql.value;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Delete feeds (a fact removes the keyed row) and accumulating feeds (a fact adds to the keyed
 * row's columns), on a club: members join, pay and leave, and an email freed by a member who
 * left may join again. Live and replay give the same rows (verify, rebuild); several facts about
 * one row in one statement, and writers racing on one row, all count; an unknown key is refused
 * (KT004) and the statement leaves nothing; every declaration mistake is refused up front.
 */
class FeedKindsTest {

    private static final String ROWS = "SELECT string_agg(id || ' ' || email || ' ' || balance || ' ' || payments, ', ' ORDER BY id) FROM members_9";

    private static void club(Connection c) throws Exception {
        exec(c, "CREATE TABLE joined_9 (id bigint, email text NOT NULL)");
        exec(c, "SELECT kit.create_write_table('joined_9', 'member9')");
        exec(c, "CREATE TABLE paid_9 (id bigint, member_id bigint NOT NULL, amount bigint NOT NULL)");
        exec(c, "SELECT kit.create_write_table('paid_9', 'payment9')");
        exec(c, "CREATE TABLE left_9 (id bigint, member_id bigint NOT NULL)");
        exec(c, "SELECT kit.create_write_table('left_9', 'leave9')");
        exec(c, "CREATE TABLE members_9 (id bigint PRIMARY KEY, email text NOT NULL UNIQUE,"
                + " balance bigint NOT NULL DEFAULT 0, payments bigint NOT NULL DEFAULT 0)");
        exec(c, "SELECT kit.create_read_version('members_9', 'member')");
        exec(c, "SELECT kit.add_feed('joined_9', 'members_9')");
        exec(c, "SELECT kit.add_feed('paid_9', 'members_9', key_column => 'member_id', kind => 'accumulate',"
                + " columns => '{\"balance\": \"f.amount\", \"payments\": \"1\"}')");
        exec(c, "SELECT kit.add_feed('left_9', 'members_9', key_column => 'member_id', kind => 'delete')");
    }

    @Test
    void deletesAndSumsApplyLiveAsAReplayDoes() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            club(c);
            exec(c, "INSERT INTO joined_9 (id, email) VALUES (1, 'a@x.org'), (2, 'b@x.org')");
            exec(c, "INSERT INTO paid_9 (member_id, amount) VALUES (1, 5), (1, 7), (2, 1)");
            exec(c, "CALL kit.backfill()");  // live from here: history replayed, then the triggers
            exec(c, "INSERT INTO left_9 (member_id) VALUES (2)");
            exec(c, "INSERT INTO joined_9 (id, email) VALUES (3, 'b@x.org')");
            exec(c, "INSERT INTO paid_9 (member_id, amount) VALUES (3, 10), (1, 1), (1, 2)");
            assertThat(value(c, ROWS)).isEqualTo("1 a@x.org 15 4, 3 b@x.org 10 1");
            assertThat(Sql.verify(c, "members_9")).isEmpty();
            exec(c, "CALL kit.rebuild('members_9')");
            assertThat(value(c, ROWS)).as("a replay removes member 2 before 3 takes the email").isEqualTo("1 a@x.org 15 4, 3 b@x.org 10 1");
            Sql.rebuildOneFactPerBatch(c, "members_9");
            assertThat(value(c, ROWS)).as("one fact per batch").isEqualTo("1 a@x.org 15 4, 3 b@x.org 10 1");
            assertThat(DriftTest.drift(c)).isEmpty();
            assertThat(strings(c, "SELECT kind || ' ' || coalesce(key_column, '-') FROM kit.feed WHERE read_table = 'members_9' ORDER BY position"))
                    .containsExactly("insert -", "accumulate member_id", "delete member_id");

            var unknown = assertFailsWith(KitError.UNKNOWN_ENTITY,
                    () -> exec(c, "INSERT INTO paid_9 (member_id, amount) VALUES (1, 100), (2, 3)"));
            assertThat(unknown.getMessage()).contains("Unknown member: 2").contains("paid_9");
            assertThat(value(c, "SELECT balance FROM members_9 WHERE id = 1")).as("the refused statement added nothing").isEqualTo(15L);
            var gone = assertFailsWith(KitError.UNKNOWN_ENTITY, () -> exec(c, "INSERT INTO left_9 (member_id) VALUES (1), (2)"));
            assertThat(gone.getMessage()).contains("Unknown member: 2").contains("left_9");
            assertThat(value(c, "SELECT count(*) FROM members_9 WHERE id = 1")).as("the refused statement removed nothing").isEqualTo(1L);

            // A fact written with the kit's triggers off that names a member who had left: verify names it.
            exec(c, "ALTER TABLE paid_9 DISABLE TRIGGER USER");
            exec(c, "INSERT INTO paid_9 (member_id, amount) VALUES (2, 3)");
            exec(c, "ALTER TABLE paid_9 ENABLE TRIGGER USER");
            exec(c, "CALL kit.repair()");
            assertThat(Sql.verify(c, "members_9")).extracting(r -> String.valueOf(r.get("difference"))).containsExactly("fact breaks a rule");
        }
    }

    /** An amount that is NULL adds nothing, whether its fact comes alone or beside others, live and in a replay of any batch size. */
    @Test
    void aNullAmountAddsNothingHoweverTheFactsAreGrouped() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            club(c);
            exec(c, "CREATE TABLE tally_9 (id bigint PRIMARY KEY, total bigint NOT NULL DEFAULT 0)");
            exec(c, "SELECT kit.create_read_version('tally_9', 'member')");
            exec(c, "SELECT kit.add_feed('joined_9', 'tally_9')");
            exec(c, "SELECT kit.add_feed('paid_9', 'tally_9', key_column => 'member_id', kind => 'accumulate', columns => '{\"total\": \"nullif(f.amount, 0)\"}')");
            exec(c, "INSERT INTO joined_9 (id, email) VALUES (1, 'a@x.org')");
            exec(c, "INSERT INTO paid_9 (member_id, amount) VALUES (1, 0), (1, 4)");
            exec(c, "CALL kit.backfill()");
            exec(c, "INSERT INTO paid_9 (member_id, amount) VALUES (1, 0)");
            exec(c, "INSERT INTO paid_9 (member_id, amount) VALUES (1, 0), (1, 3)");
            assertThat(value(c, "SELECT total FROM tally_9 WHERE id = 1")).isEqualTo(7L);
            assertThat(Sql.verify(c, "tally_9")).isEmpty();
            Sql.rebuildOneFactPerBatch(c, "tally_9");
            assertThat(value(c, "SELECT total FROM tally_9 WHERE id = 1")).as("one fact per batch").isEqualTo(7L);
        }
    }

    /** A counter may have any name, those the kit's own code uses for its sums too. */
    @Test
    void countersMayBeNamedAsTheKitsOwnWorkingColumns() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            club(c);
            exec(c, "CREATE TABLE counts_9 (id bigint PRIMARY KEY, facts bigint NOT NULL DEFAULT 0, last_seq bigint NOT NULL DEFAULT 0)");
            exec(c, "SELECT kit.create_read_version('counts_9', 'member')");
            exec(c, "SELECT kit.add_feed('joined_9', 'counts_9')");
            exec(c, "SELECT kit.add_feed('paid_9', 'counts_9', key_column => 'member_id', kind => 'accumulate',"
                    + " columns => '{\"facts\": \"1\", \"last_seq\": \"f.amount\"}')");
            exec(c, "INSERT INTO joined_9 (id, email) VALUES (1, 'a@x.org')");
            exec(c, "CALL kit.backfill()");
            exec(c, "INSERT INTO paid_9 (member_id, amount) VALUES (1, 5), (1, 7)");
            assertThat(value(c, "SELECT facts || ' ' || last_seq FROM counts_9 WHERE id = 1")).isEqualTo("2 12");
            assertThat(Sql.verify(c, "counts_9")).isEmpty();
        }
    }

    /**
     * A read table whose rows an upsert makes need not have one for every key: a delete whose row
     * is not there removes nothing and is no error (the member may never have set a nickname).
     */
    @Test
    void aDeleteIntoATableAnUpsertFillsTakesAKeyWithoutARow() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            club(c);
            exec(c, "CREATE TABLE named_9 (id bigint, member_id bigint NOT NULL, nickname text NOT NULL)");
            exec(c, "SELECT kit.create_write_table('named_9', 'nickname9')");
            exec(c, "CREATE TABLE nicknames_9 (id bigint PRIMARY KEY, nickname text NOT NULL)");
            exec(c, "SELECT kit.create_read_version('nicknames_9', 'member')");
            exec(c, "SELECT kit.add_feed('left_9', 'nicknames_9', key_column => 'member_id', kind => 'delete')");
            exec(c, "SELECT kit.add_feed('named_9', 'nicknames_9', key_column => 'member_id', kind => 'upsert')");
            exec(c, "CALL kit.backfill()");
            exec(c, "INSERT INTO joined_9 (id, email) VALUES (1, 'a@x.org'), (2, 'b@x.org')");
            exec(c, "INSERT INTO named_9 (member_id, nickname) VALUES (1, 'ay')");
            exec(c, "INSERT INTO left_9 (member_id) VALUES (2)");
            exec(c, "INSERT INTO left_9 (member_id) VALUES (1)");
            assertThat(value(c, "SELECT count(*) FROM nicknames_9")).isEqualTo(0L);
            assertThat(value(c, "SELECT count(*) FROM members_9")).isEqualTo(0L);
            assertThat(Sql.verify(c, "nicknames_9")).isEmpty();
        }
    }

    @Test
    void writersRacingOnOneRowAllCount() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            club(c);
            exec(c, "CALL kit.backfill()");
            exec(c, "INSERT INTO joined_9 (id, email) VALUES (1, 'a@x.org'), (2, 'b@x.org')");
        }
        int written;
        try (BackgroundWriters writers = new BackgroundWriters(4, db::connect,
                (c, writer, n) -> exec(c, "INSERT INTO paid_9 (member_id, amount) VALUES (1, 2), (1, 3)"))) {
            Thread.sleep(1500);
            try (Connection c = db.connect()) {
                exec(c, "INSERT INTO left_9 (member_id) VALUES (2)");  // a delete while others write
            }
            Thread.sleep(500);
            assertThat(writers.stop()).isEmpty();
            written = writers.written();
        }
        try (Connection c = db.connect()) {
            assertThat(written).isPositive();
            assertThat(value(c, "SELECT balance || ' ' || payments FROM members_9 WHERE id = 1")).isEqualTo((5L * written) + " " + (2L * written));
            assertThat(value(c, "SELECT count(*) FROM members_9 WHERE id = 2")).isEqualTo(0L);
            assertThat(Sql.verify(c, "members_9")).isEmpty();
        }
    }

    @Test
    void everyDeclarationMistakeIsRefusedAndMakesNothing() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            club(c);
            exec(c, "CREATE TABLE other_9 (id bigint PRIMARY KEY, email text NOT NULL, total bigint NOT NULL DEFAULT 0, tips bigint)");
            exec(c, "SELECT kit.create_read_version('other_9', 'member')");
            for (String[] call : List.of(
                    new String[]{"'paid_9', 'other_9', kind => 'delete'", "A feed is kind insert or sql (no key_column), or update, upsert, delete or accumulate"},
                    new String[]{"'joined_9', 'other_9', kind => 'upsert'", "kind: upsert"},
                    new String[]{"'paid_9', 'other_9', key_column => 'member_id', kind => 'insert'", "kind: insert, key_column: member_id"},
                    new String[]{"'paid_9', 'other_9', key_column => 'member_id', kind => 'accumulate'", "An accumulating feed says what each fact adds"},
                    new String[]{"'left_9', 'other_9', key_column => 'member_id', kind => 'delete', columns => '{\"total\": \"1\"}'", "A delete feed computes no column"},
                    new String[]{"'paid_9', 'other_9', key_column => 'member_id', kind => 'accumulate', columns => '{\"total\": \"f.note\"}'",
                            "cannot compute column total from f.note"},
                    new String[]{"'paid_9', 'other_9', key_column => 'member_id', kind => 'accumulate', columns => '{\"email\": \"1\"}'",
                            "cannot compute column email from 1"},
                    // NULL + 1 is NULL: a nullable counter would stay NULL whatever came.
                    new String[]{"'paid_9', 'other_9', key_column => 'member_id', kind => 'accumulate', columns => '{\"tips\": \"f.amount\"}'",
                            "An accumulating feed adds to NOT NULL columns only: tips"})) {
                var refused = assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.add_feed(" + call[0] + ")"));
                assertThat(refused.getMessage()).as(call[0]).contains(call[1]);
            }
            assertThat(value(c, "SELECT count(*) FROM kit.feed WHERE read_table = 'other_9'")).isEqualTo(0L);
        }
    }
}
