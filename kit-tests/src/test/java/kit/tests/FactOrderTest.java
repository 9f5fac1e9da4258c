package kit.tests;

import kit.client.KitError;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static kit.client.Jdbc.exec;
import static kit.tests.Sql.liveReadTables;
import static kit.tests.Sql.value;
import static kit.tests.Sql.verify;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Every fact has one place in a global order (seq), and when two facts about one
 * entity race, the read tables end as a replay in seq order would, even when the
 * later fact's transaction reaches the read row first.
 */
class FactOrderTest {

    @Test
    void seqIsOneOrderAcrossEveryWriteTable() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            long u = (Long) value(c, "INSERT INTO user_registered_0 (email, password_hash) VALUES ('a@example.com', 'h') RETURNING id");
            exec(c, "INSERT INTO user_registered_1 (email, password_hash) VALUES ('b@example.com', 'h')");
            exec(c, "INSERT INTO password_changed_2 (user_id, password_hash) VALUES (?, 'h2')", u);
            exec(c, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (?, ?, 'hi')", u, u);
            assertThat(value(c, """
                    SELECT array_agg(seq ORDER BY recorded_at, seq)::text FROM (
                        SELECT seq, recorded_at FROM user_registered_0 UNION ALL SELECT seq, recorded_at FROM user_registered_1
                        UNION ALL SELECT seq, recorded_at FROM password_changed_2 UNION ALL SELECT seq, recorded_at FROM message_sent_3) f
                    """)).isEqualTo("{1,2,3,4}");
        }
    }

    /**
     * The earlier change (lower seq) is held back after taking its seq, the later
     * change commits first; when the earlier one finally applies, it must not
     * overwrite the later one.
     */
    @Test
    void racingPasswordChangesEndAsAReplayInSeqOrder() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("2");
        long hot;
        long other;
        try (Connection c = db.connect()) {
            hot = (Long) value(c, "INSERT INTO user_registered_0 (email, password_hash) VALUES ('hot@example.com', 'start') RETURNING id");
            other = (Long) value(c, "INSERT INTO user_registered_1 (email, password_hash) VALUES ('other@example.com', 'start') RETURNING id");
        }
        try (Connection gate = db.connect(); Connection early = db.connect(); Connection late = db.connect()) {
            exec(gate, "SELECT pg_advisory_lock(4242)");
            int earlyPid = (Integer) value(early, "SELECT pg_backend_pid()");
            // Row 1 (the hot user) takes its seq; producing row 2 waits at the gate,
            // so the statement's trigger has not run yet.
            CompletableFuture<Integer> earlyInsert = CompletableFuture.supplyAsync(() -> {
                try {
                    return exec(early, """
                            INSERT INTO password_changed_2 (user_id, password_hash)
                            SELECT CASE g WHEN 1 THEN ? ELSE ? END, 'early-' || g
                              FROM generate_series(1, 2) AS g
                             WHERE g = 1 OR (SELECT true FROM pg_advisory_lock_shared(4242))
                            """, hot, other);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Races.awaitLockWait(gate, earlyPid);

            exec(late, "INSERT INTO password_changed_2 (user_id, password_hash) VALUES (?, 'late')", hot);
            exec(gate, "SELECT pg_advisory_unlock(4242)");
            assertThat(earlyInsert.get(30, TimeUnit.SECONDS)).isEqualTo(2);
        }
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT password_hash FROM password_changed_2 WHERE user_id = ? ORDER BY seq DESC LIMIT 1", hot))
                    .as("the late change has the higher seq").isEqualTo("late");
            for (String users : liveReadTables(c)) {
                assertThat(value(c, "SELECT password_hash FROM " + users + " WHERE id = ?", hot)).as(users).isEqualTo("late");
                assertThat(value(c, "SELECT password_hash FROM " + users + " WHERE id = ?", other)).as(users).isEqualTo("early-2");
                assertThat(verify(c, users)).as(users).isEmpty();
            }
        }
    }

    /**
     * A password change takes its seq, then the registration of the user it names takes a later seq
     * and commits first. In the global order the change came before the user existed, so a replay
     * would find no row for it: the live path refuses it too (KT004), and the whole statement goes.
     */
    @Test
    void aFactAboutAnEntityCreatedByALaterSeqIsRefusedAsTheReplayWouldFindNoRow() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        long other;
        try (Connection c = db.connect()) {
            other = (Long) value(c, "INSERT INTO user_registered_1 (email, password_hash) VALUES ('other@example.com', 'start') RETURNING id");
        }
        try (Connection gate = db.connect(); Connection early = db.connect(); Connection late = db.connect()) {
            exec(gate, "SELECT pg_advisory_lock(4243)");
            int earlyPid = (Integer) value(early, "SELECT pg_backend_pid()");
            CompletableFuture<Throwable> earlyInsert = CompletableFuture.supplyAsync(() -> catchThrowable(() -> exec(early, """
                    INSERT INTO password_changed_2 (user_id, password_hash)
                    SELECT CASE g WHEN 1 THEN 77 ELSE ? END, 'early-' || g
                      FROM generate_series(1, 2) AS g
                     WHERE g = 1 OR (SELECT true FROM pg_advisory_lock_shared(4243))
                    """, other)));
            Races.awaitLockWait(gate, earlyPid);
            exec(late, "INSERT INTO user_registered_1 VALUES (77, 'late@example.com', 'registered', 'late')");
            exec(gate, "SELECT pg_advisory_unlock(4243)");
            Throwable refused = earlyInsert.get(30, TimeUnit.SECONDS);
            assertThat(refused).as("the change that came before the registration").isInstanceOf(java.sql.SQLException.class);
            assertThat(((java.sql.SQLException) refused).getSQLState()).isEqualTo(KitError.UNKNOWN_ENTITY.sqlState());
            assertThat(refused.getMessage()).contains("Unknown user: 77");
        }
        try (Connection c = db.connect()) {
            assertThat(value(c, "SELECT count(*) FROM password_changed_2")).as("nothing of the statement remains").isEqualTo(0L);
            assertThat(value(c, "SELECT password_hash FROM users_2 WHERE id = 77")).isEqualTo("registered");
            assertThat(verify(c, "users_2")).isEmpty();
        }
    }
}
