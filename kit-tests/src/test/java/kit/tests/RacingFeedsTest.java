package kit.tests;

import kit.client.KitError;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.SQLException;

import static kit.client.Jdbc.exec;
import static kit.tests.Sql.assertFailsWith;
import static kit.tests.Sql.value;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Writers racing on one read row through feeds of different kinds, the earlier fact (lower seq)
 * committing last. Each race ends as a replay in seq order ends (verify finds nothing), or the
 * earlier fact is refused: with KT004 where a replay would find no row for it, with PostgreSQL's
 * serialization_failure (40001, write it again) where a later fact of another feed was applied
 * first and the earlier one can no longer be put before it.
 */
class RacingFeedsTest {

    private static final String SERIALIZATION_FAILURE = "40001";

    /** Orders: placed makes the row, shipped sets the date, sent the date and the carrier. */
    private static void orders(Connection c) throws Exception {
        UpdateFeedColumnsTest.orderTables(c);
        exec(c, "CREATE TABLE book_9 (id bigint PRIMARY KEY, customer text NOT NULL, shipped_on date, carrier text)");
        exec(c, "SELECT kit.create_read_version('book_9', 'order')");
        exec(c, "SELECT kit.add_feed('placed_9', 'book_9')");
        exec(c, "SELECT kit.add_feed('shipped_9', 'book_9', key_column => 'order_id')");
        exec(c, "SELECT kit.add_feed('sent_9', 'book_9', key_column => 'order_id')");
        exec(c, "CALL kit.backfill()");
        exec(c, "INSERT INTO placed_9 (id, customer) VALUES (1, 'ann'), (2, 'bob')");
    }

    /** A club: members join, pay (a sum), are renamed (an update), leave (a delete). */
    private static void club(Connection c) throws Exception {
        exec(c, "CREATE TABLE joined_9 (id bigint, email text NOT NULL)");
        exec(c, "SELECT kit.create_write_table('joined_9', 'member9')");
        exec(c, "CREATE TABLE paid_9 (id bigint, member_id bigint NOT NULL, amount bigint NOT NULL)");
        exec(c, "SELECT kit.create_write_table('paid_9', 'payment9')");
        exec(c, "CREATE TABLE renamed_9 (id bigint, member_id bigint NOT NULL, email text NOT NULL)");
        exec(c, "SELECT kit.create_write_table('renamed_9', 'rename9')");
        exec(c, "CREATE TABLE left_9 (id bigint, member_id bigint NOT NULL)");
        exec(c, "SELECT kit.create_write_table('left_9', 'leave9')");
        exec(c, "CREATE TABLE members_9 (id bigint PRIMARY KEY, email text NOT NULL, balance bigint NOT NULL DEFAULT 0)");
        exec(c, "SELECT kit.create_read_version('members_9', 'member')");
        exec(c, "SELECT kit.add_feed('joined_9', 'members_9')");
        exec(c, "SELECT kit.add_feed('paid_9', 'members_9', key_column => 'member_id', kind => 'accumulate', columns => '{\"balance\": \"f.amount\"}')");
        exec(c, "SELECT kit.add_feed('renamed_9', 'members_9', key_column => 'member_id')");
        exec(c, "SELECT kit.add_feed('left_9', 'members_9', key_column => 'member_id', kind => 'delete')");
        exec(c, "CALL kit.backfill()");
        exec(c, "INSERT INTO joined_9 (id, email) VALUES (1, 'a@x.org'), (2, 'b@x.org')");
    }

    private static SQLException serializationFailure(Throwable refused) {
        assertThat(refused).as("the earlier fact is refused").isInstanceOf(SQLException.class);
        SQLException failure = (SQLException) refused;
        assertThat(failure.getSQLState()).as(failure.getMessage()).isEqualTo(SERIALIZATION_FAILURE);
        return failure;
    }

    @Test
    void anEarlierFactThatSetsAColumnTheLaterFactOfAnotherFeedLeftAloneIsRefusedToBeWrittenAgain() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            orders(c);
        }
        // The carrier (sent) takes its seq first; the date alone (shipped) commits first. Skipping the
        // carrier behind the later date would lose it, which a replay in seq order keeps.
        Throwable refused = Races.earlyCommitsLast(db, """
                INSERT INTO sent_9 (order_id, shipped_on, carrier)
                SELECT g, date '2026-12-01', 'post' FROM generate_series(1, 2) AS g WHERE g = 1 OR {gate}
                """, "INSERT INTO shipped_9 (order_id, shipped_on) VALUES (1, date '2026-12-02')");
        SQLException failure = serializationFailure(refused);
        assertThat(failure.getMessage()).contains("sent_9", "book_9", "order 1");
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT count(*) FROM sent_9")).as("nothing of the statement remains").isEqualTo(0L);
            assertThat(Sql.verify(c, "book_9")).isEmpty();
            exec(c, "INSERT INTO sent_9 (order_id, shipped_on, carrier) VALUES (1, date '2026-12-01', 'post')");
            assertThat(value(c, "SELECT shipped_on || ' ' || carrier FROM book_9 WHERE id = 1"))
                    .as("written again, it comes after the date").isEqualTo("2026-12-01 post");
            assertThat(Sql.verify(c, "book_9")).isEmpty();
        }
    }

    @Test
    void anEarlierFactWhoseColumnsTheLaterFactAllSetIsSkippedAsAReplayOverwritesIt() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            orders(c);
        }
        Throwable refused = Races.earlyCommitsLast(db, """
                INSERT INTO shipped_9 (order_id, shipped_on)
                SELECT g, date '2026-12-01' FROM generate_series(1, 2) AS g WHERE g = 1 OR {gate}
                """, "INSERT INTO sent_9 (order_id, shipped_on, carrier) VALUES (1, date '2026-12-02', 'van')");
        assertThat(refused).isNull();
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT string_agg(id || ' ' || shipped_on || ' ' || coalesce(carrier, '-'), ', ' ORDER BY id) FROM book_9"))
                    .isEqualTo("1 2026-12-02 van, 2 2026-12-01 -");
            assertThat(Sql.verify(c, "book_9")).isEmpty();
        }
    }

    @Test
    void aSumRacingAnUpdateOrAnotherSumKeepsEveryFactAndAnUpdateASumOvertookIsWrittenAgain() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            club(c);
        }
        assertThat(Races.earlyCommitsLast(db, """
                INSERT INTO paid_9 (member_id, amount) SELECT g, 5 FROM generate_series(1, 2) AS g WHERE g = 1 OR {gate}
                """, "INSERT INTO renamed_9 (member_id, email) VALUES (1, 'ann@x.org')")).isNull();
        assertThat(Races.earlyCommitsLast(db, """
                INSERT INTO paid_9 (member_id, amount) SELECT g, 7 FROM generate_series(1, 2) AS g WHERE g = 1 OR {gate}
                """, "INSERT INTO paid_9 (member_id, amount) VALUES (1, 100)")).isNull();
        // A sum moves the row's last_fact_seq, and the guard cannot tell it from an update that set
        // the same columns: an update that a sum overtook is refused, to be written again.
        serializationFailure(Races.earlyCommitsLast(db, """
                INSERT INTO renamed_9 (member_id, email) SELECT g, 'late-rename-' || g FROM generate_series(1, 2) AS g WHERE g = 1 OR {gate}
                """, "INSERT INTO paid_9 (member_id, amount) VALUES (1, 1000)"));
        try (Connection c = db.connect()) {
            assertThat(Sql.verify(c, "members_9")).isEmpty();
            exec(c, "INSERT INTO renamed_9 (member_id, email) SELECT g, 'late-rename-' || g FROM generate_series(1, 2) AS g");
            assertThat(value(c, "SELECT string_agg(id || ' ' || email || ' ' || balance, ', ' ORDER BY id) FROM members_9"))
                    .isEqualTo("1 late-rename-1 1112, 2 late-rename-2 12");
            assertThat(Sql.verify(c, "members_9")).isEmpty();
            exec(c, "CALL kit.rebuild('members_9')");
            assertThat(value(c, "SELECT sum(balance) FROM members_9")).isEqualTo(new java.math.BigDecimal(1124));
        }
    }

    @Test
    void aDeleteThatALaterUpdateOrSumOvertookIsRefusedToBeWrittenAgain() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            club(c);
        }
        // The delete came first: a replay removes the member, then finds no row for the rename or
        // the payment that the live path applied to it first.
        for (String late : new String[]{"INSERT INTO renamed_9 (member_id, email) VALUES (1, 'ann@x.org')",
                                        "INSERT INTO paid_9 (member_id, amount) VALUES (1, 5)"}) {
            SQLException failure = serializationFailure(Races.earlyCommitsLast(db, """
                    INSERT INTO left_9 (member_id) SELECT g FROM generate_series(1, 2) AS g WHERE g = 1 OR {gate}
                    """, late));
            assertThat(failure.getMessage()).as(late).contains("left_9", "members_9", "member 1");
        }
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT string_agg(id || ' ' || email || ' ' || balance, ', ' ORDER BY id) FROM members_9"))
                    .isEqualTo("1 ann@x.org 5, 2 b@x.org 0");
            assertThat(Sql.verify(c, "members_9")).isEmpty();
            exec(c, "INSERT INTO left_9 (member_id) VALUES (1), (1)");
            assertThat(value(c, "SELECT string_agg(id::text, ', ') FROM members_9")).as("written again, it removes the member").isEqualTo("2");
            assertThat(Sql.verify(c, "members_9")).isEmpty();
            exec(c, "INSERT INTO joined_9 (id, email) VALUES (3, 'c@x.org')");
        }
        // The rename came first, the delete committed first: a rename of a member who has gone.
        Throwable refused = Races.earlyCommitsLast(db, """
                INSERT INTO renamed_9 (member_id, email) SELECT g + 1, 'x' || g FROM generate_series(1, 2) AS g WHERE g = 1 OR {gate}
                """, "INSERT INTO left_9 (member_id) VALUES (2)");
        assertThat(refused).isInstanceOf(SQLException.class);
        assertThat(((SQLException) refused).getSQLState()).isEqualTo(KitError.UNKNOWN_ENTITY.sqlState());
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT string_agg(id || ' ' || email, ', ') FROM members_9")).isEqualTo("3 c@x.org");
            assertThat(Sql.verify(c, "members_9")).isEmpty();
            exec(c, "CALL kit.rebuild('members_9')");
            assertThat(value(c, "SELECT string_agg(id || ' ' || email, ', ') FROM members_9")).isEqualTo("3 c@x.org");
        }
    }

    @Test
    void aDeleteThatALaterUpsertOvertookIsRefusedToBeWrittenAgain() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "CREATE TABLE profile_set_9 (id bigint, user_id bigint NOT NULL, display_name text NOT NULL)");
            exec(c, "SELECT kit.create_write_table('profile_set_9', 'profile_change9')");
            exec(c, "CREATE TABLE profile_dropped_9 (id bigint, user_id bigint NOT NULL)");
            exec(c, "SELECT kit.create_write_table('profile_dropped_9', 'profile_drop9')");
            exec(c, "CREATE TABLE profiles_9 (id bigint PRIMARY KEY, display_name text NOT NULL)");
            exec(c, "SELECT kit.create_read_version('profiles_9', 'profile')");
            exec(c, "SELECT kit.add_feed('profile_set_9', 'profiles_9', key_column => 'user_id', kind => 'upsert')");
            exec(c, "SELECT kit.add_feed('profile_dropped_9', 'profiles_9', key_column => 'user_id', kind => 'delete')");
            exec(c, "CALL kit.backfill()");
            exec(c, "INSERT INTO profile_set_9 (user_id, display_name) VALUES (1, 'Ann'), (2, 'Bo')");
        }
        // In seq order the profile is dropped, then made again by the later upsert: removing the
        // upserted row would end otherwise.
        SQLException failure = serializationFailure(Races.earlyCommitsLast(db, """
                INSERT INTO profile_dropped_9 (user_id) SELECT g FROM generate_series(1, 2) AS g WHERE g = 1 OR {gate}
                """, "INSERT INTO profile_set_9 (user_id, display_name) VALUES (1, 'Annie')"));
        assertThat(failure.getMessage()).contains("profile_dropped_9", "profiles_9");
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT string_agg(id || ' ' || display_name, ', ' ORDER BY id) FROM profiles_9")).isEqualTo("1 Annie, 2 Bo");
            assertThat(Sql.verify(c, "profiles_9")).isEmpty();
            exec(c, "INSERT INTO profile_dropped_9 (user_id) VALUES (1)");
            assertThat(value(c, "SELECT string_agg(id || ' ' || display_name, ', ' ORDER BY id) FROM profiles_9")).isEqualTo("2 Bo");
            assertThat(Sql.verify(c, "profiles_9")).isEmpty();
        }
    }

    @Test
    void aColumnIsEitherAccumulatedOrSetNeverBoth() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            club(c);
            exec(c, "CREATE TABLE balance_set_9 (id bigint, member_id bigint NOT NULL, balance bigint NOT NULL)");
            exec(c, "SELECT kit.create_write_table('balance_set_9', 'balance_set9')");
            var set = assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.add_feed('balance_set_9', 'members_9', key_column => 'member_id')"));
            assertThat(set.getMessage()).contains("balance", "paid_9", "balance_set_9");
            exec(c, "CREATE TABLE scores_9 (id bigint PRIMARY KEY, email text NOT NULL, score bigint NOT NULL DEFAULT 0)");
            exec(c, "SELECT kit.create_read_version('scores_9', 'member')");
            exec(c, "SELECT kit.add_feed('joined_9', 'scores_9')");
            exec(c, "SELECT kit.add_feed('balance_set_9', 'scores_9', key_column => 'member_id', columns => '{\"score\": \"f.balance\"}')");
            var added = assertFailsWith(KitError.USAGE, () -> exec(c,
                    "SELECT kit.add_feed('paid_9', 'scores_9', key_column => 'member_id', kind => 'accumulate', columns => '{\"score\": \"f.amount\"}')"));
            assertThat(added.getMessage()).contains("score", "paid_9", "balance_set_9");
            assertThat(value(c, "SELECT count(*) FROM kit.feed WHERE (write_table, read_table) IN (('balance_set_9', 'members_9'), ('paid_9', 'scores_9'))")).isEqualTo(0L);
        }
    }
}
