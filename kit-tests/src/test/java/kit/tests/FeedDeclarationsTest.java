package kit.tests;

import kit.client.KitError;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static kit.client.Jdbc.exec;
import static kit.tests.Sql.assertFailsWith;
import static kit.tests.Sql.count;
import static kit.tests.Sql.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * A feed declaration is checked when it is made, not at the first write:
 * its key column, every name it or a later rebuild will need, and the facts
 * already being written to its write table.
 */
class FeedDeclarationsTest {

    /** A live read version of notes fed by note_taken_9, and an empty second write table note_taken_10. */
    private static void liveNotesWithASecondWriteTable(Connection c) throws Exception {
        exec(c, "CREATE TABLE note_taken_9 (id bigint NOT NULL, user_id bigint NOT NULL, body text NOT NULL)");
        exec(c, "SELECT kit.create_write_table('note_taken_9', 'note')");
        exec(c, "CREATE TABLE notes_9 (id bigint PRIMARY KEY, user_id bigint NOT NULL, body text NOT NULL)");
        exec(c, "SELECT kit.create_read_version('notes_9', 'note')");
        exec(c, "SELECT kit.add_feed('note_taken_9', 'notes_9')");
        exec(c, "CALL kit.backfill('notes_9')");
        exec(c, "CREATE TABLE note_taken_10 (id bigint NOT NULL, user_id bigint NOT NULL, body text NOT NULL)");
        exec(c, "SELECT kit.create_write_table('note_taken_10', 'note')");
    }

    @Test
    void anUpdateFeedsKeyColumnMustExistAndHoldIds() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "CREATE TABLE email_changed_9 (id bigint NOT NULL, user_ref text NOT NULL, email text NOT NULL)");
            exec(c, "SELECT kit.create_write_table('email_changed_9', 'email_change')");
            var missing = assertFailsWith(KitError.USAGE,
                    () -> exec(c, "SELECT kit.add_feed('email_changed_9', 'users_2', key_column => 'no_such_column')"));
            assertThat(missing.getMessage()).contains("no_such_column", "no such column");
            var wrongType = assertFailsWith(KitError.USAGE,
                    () -> exec(c, "SELECT kit.add_feed('email_changed_9', 'users_2', key_column => 'user_ref')"));
            assertThat(wrongType.getMessage()).contains("user_ref", "bigint", "Found: text");
            assertThat(value(c, "SELECT count(*) FROM kit.feed WHERE write_table = 'email_changed_9'")).isEqualTo(0L);
            // The write table is still writable: no half-made feed was left behind.
            exec(c, "INSERT INTO email_changed_9 (user_ref, email) VALUES ('x', 'x@example.com')");
        }
    }

    @Test
    void aReadTableWhoseRebuildWouldNeedTooLongANameIsRefusedWhenDeclared() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        String name = "users_with_a_long_name_ab_9";
        assertThat(name).hasSize(27);
        try (Connection c = db.connect()) {
            exec(c, "CREATE TABLE " + name + " (id bigint PRIMARY KEY, email text)");
            exec(c, "SELECT kit.create_read_version(?, 'user')", name);
            var refused = assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.add_feed('user_registered_1', ?)", name));
            assertThat(refused.getMessage()).contains("project_user_registered_1_into_" + name + "__rebuild", "63 bytes");
            assertThat(value(c, "SELECT count(*) FROM kit.feed WHERE read_table = ?", name)).isEqualTo(0L);
        }
    }

    @Test
    void aFeedOntoALiveVersionMissesNoFactOfAWriterStillInsertingWhenItIsDeclared() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect(); Connection writer = db.connect()) {
            liveNotesWithASecondWriteTable(c);
            writer.setAutoCommit(false);
            exec(writer, "INSERT INTO note_taken_10 (user_id, body) VALUES (1, 'written while the feed is declared')");
            CompletableFuture<Throwable> declared = CompletableFuture.supplyAsync(
                    () -> catchThrowable(() -> exec(c, "SELECT kit.add_feed('note_taken_10', 'notes_9')")));
            Thread.sleep(300);
            writer.commit();
            Throwable failure = declared.get(30, TimeUnit.SECONDS);
            if (failure == null) {
                assertThat(count(c, "notes_9")).as("the fact committed while add_feed ran reached the live version").isEqualTo(1);
            } else {
                assertThat(KitError.of(failure)).as(failure.getMessage()).contains(KitError.USAGE);
                assertThat(failure.getMessage()).contains("only be fed by a new, empty write table");
            }
            assertThat(Sql.verify(c, "notes_9")).isEmpty();
        }
    }

    @Test
    void aFeedOntoALiveVersionGivesUpRatherThanWaitForALongTransaction() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect(); Connection writer = db.connect()) {
            liveNotesWithASecondWriteTable(c);
            writer.setAutoCommit(false);
            exec(writer, "INSERT INTO note_taken_10 (user_id, body) VALUES (1, 'a long transaction')");
            // Waiting without limit would end in the statement timeout (57014), not in the kit's KT007.
            exec(c, "SET statement_timeout = '20s'");
            var refused = assertFailsWith(KitError.BUSY, () -> exec(c, "SELECT kit.add_feed('note_taken_10', 'notes_9')"));
            assertThat(refused.getMessage()).contains("add a feed from note_taken_10 into notes_9");
            writer.rollback();
            exec(c, "SELECT kit.add_feed('note_taken_10', 'notes_9')");
            exec(c, "INSERT INTO note_taken_10 (user_id, body) VALUES (1, 'after')");
            assertThat(count(c, "notes_9")).isEqualTo(1);
        }
    }

    @Test
    void aWriteTablesFeedTriggerAppliesExactlyItsLiveFeeds() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            liveNotesWithASecondWriteTable(c);
            String triggers = "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'note_taken_9'::regclass AND tgname = 'feed_note_taken_9'";
            assertThat(value(c, triggers)).isEqualTo(1L);
            exec(c, "SELECT kit.retire_read_version('notes_9')");
            assertThat(value(c, triggers)).as("no live feed left: no trigger").isEqualTo(0L);
            assertThat(value(c, "SELECT to_regproc('public.feed_note_taken_9') IS NULL")).isEqualTo(true);
            exec(c, "INSERT INTO note_taken_9 (user_id, body) VALUES (1, 'kept as a fact')");
            assertThat(count(c, "note_taken_9")).isEqualTo(1);
        }
    }

    @Test
    void columnsAFactLacksGetTheirDefaultLiveInBackfillAndAfterRepair() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('old@example.com', 'h', 'old')");
            // A new version with a NOT NULL column the facts lack: the backfill fills its DEFAULT.
            exec(c, """
                    CREATE TABLE loans_9 (id bigint PRIMARY KEY, email text NOT NULL, on_loan boolean NOT NULL DEFAULT false,
                                          domain text GENERATED ALWAYS AS (split_part(email, '@', 2)) STORED)""");
            exec(c, "SELECT kit.create_read_version('loans_9', 'user')");
            exec(c, "SELECT kit.add_feed('user_registered_1', 'loans_9')");
            exec(c, "SELECT kit.create_schema_version(9, ARRAY['loans_9'])");
            exec(c, "CALL kit.backfill()");
            assertThat(value(c, "SELECT on_loan::text || ' ' || domain FROM loans_9")).isEqualTo("false example.com");
            // A live table gains one: writes go on, and so they do after a repair regenerates every feed.
            exec(c, "ALTER TABLE users_2 ADD COLUMN tier text NOT NULL DEFAULT 'free'");
            exec(c, "CALL kit.repair()");
            exec(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('new@example.com', 'h', 'new')");
            assertThat(value(c, "SELECT tier FROM users_2 WHERE email = 'new@example.com'")).isEqualTo("free");
            assertThat(value(c, "SELECT count(*) FROM loans_9")).isEqualTo(2L);
            assertThat(Sql.verify(c, "users_2")).isEmpty();
            assertThat(Sql.verify(c, "loans_9")).isEmpty();
        }
    }

    @Test
    void aReadVersionNoFeedCanFillIsRefusedBeforeAnythingIsRecorded() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "CREATE TABLE badges_9 (id bigint PRIMARY KEY, email text NOT NULL, badge text NOT NULL)");
            exec(c, "SELECT kit.create_read_version('badges_9', 'user')");
            var unfilled = assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.add_feed('user_registered_1', 'badges_9')"));
            assertThat(unfilled.getMessage()).contains("badges_9", "user_registered_1", "Columns: badge");
            var noFeed = assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.create_schema_version(9, ARRAY['badges_9'])"));
            assertThat(noFeed.getMessage()).contains("badges_9", "no insert feed");
            assertThat(value(c, "SELECT count(*) FROM kit.feed WHERE read_table = 'badges_9'")).isEqualTo(0L);
            assertThat(value(c, "SELECT count(*) FROM kit.schema_version WHERE version = 9")).isEqualTo(0L);
        }
    }

    @Test
    void aReferenceMustNameAnIdColumnOfTheReadTableAndAnotherReadVersion() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "CREATE TABLE msgs_9 (id bigint PRIMARY KEY, src_id bigint NOT NULL, dst_id bigint NOT NULL, content text NOT NULL)");
            var missing = assertFailsWith(KitError.USAGE,
                    () -> exec(c, "SELECT kit.create_read_version('msgs_9', 'message', refs => '{\"srcid\": \"users_2\"}')"));
            assertThat(missing.getMessage()).contains("srcid", "no such column");
            var self = assertFailsWith(KitError.USAGE,
                    () -> exec(c, "SELECT kit.create_read_version('msgs_9', 'message', refs => '{\"src_id\": \"msgs_9\"}')"));
            assertThat(self.getMessage()).contains("cannot reference itself");
            assertThat(value(c, "SELECT count(*) FROM kit.read_version WHERE read_table = 'msgs_9'")).isEqualTo(0L);
            // Nothing half-made: the healthy messages_3 still takes messages.
            long id = (Long) value(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('m@example.com', 'h', 'm') RETURNING id");
            exec(c, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (?, ?, 'hi')", id, id);
            assertThat(count(c, "messages_3")).isEqualTo(1L);
        }
    }

    @Test
    void aVersionThatABuildingVersionReferencesCannotBeAborted() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "CREATE TABLE users_7 (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, password_hash text NOT NULL)");
            exec(c, "SELECT kit.create_read_version('users_7', 'user')");
            exec(c, "SELECT kit.add_feed('user_registered_1', 'users_7')");
            exec(c, "CREATE TABLE messages_7 (id bigint PRIMARY KEY, src_id bigint NOT NULL, dst_id bigint NOT NULL, content text NOT NULL)");
            exec(c, "SELECT kit.create_read_version('messages_7', 'message', refs => '{\"src_id\": \"users_7\"}')");
            exec(c, "SELECT kit.add_feed('message_sent_3', 'messages_7')");
            var refused = assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.abort_read_version('users_7')"));
            assertThat(refused.getMessage()).contains("messages_7");
            exec(c, "SELECT kit.abort_read_version('messages_7')");
            exec(c, "SELECT kit.abort_read_version('users_7')");
            long id = (Long) value(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('m@example.com', 'h', 'm') RETURNING id");
            exec(c, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (?, ?, 'hi')", id, id);
            assertThat(count(c, "messages_3")).isEqualTo(1L);
        }
    }

    @Test
    void aReadTableWhoseIdIsNotBigintOrWhoseColumnsDoNotFitTheFactsIsRefused() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "CREATE TABLE x_4 (id int PRIMARY KEY, email text)");
            var narrowId = assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.create_read_version('x_4', 'user')"));
            assertThat(narrowId.getMessage()).contains("id bigint PRIMARY KEY");
            exec(c, "CREATE TABLE y_4 (id bigint PRIMARY KEY, email int)");
            exec(c, "SELECT kit.create_read_version('y_4', 'user')");
            var misfit = assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.add_feed('user_registered_1', 'y_4')"));
            assertThat(misfit.getMessage()).contains("user_registered_1", "y_4", "email");
            assertThat(value(c, "SELECT count(*) FROM kit.feed WHERE read_table = 'y_4'")).isEqualTo(0L);
            exec(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('ok@example.com', 'h', 'ok')");
        }
    }
}

