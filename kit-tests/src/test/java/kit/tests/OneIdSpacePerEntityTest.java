package kit.tests;

import kit.client.KitError;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

import static kit.client.Jdbc.exec;
import static kit.client.Jdbc.rows;
import static kit.tests.Sql.assertFailsWith;
import static kit.tests.Sql.count;
import static kit.tests.Sql.value;
import static org.assertj.core.api.Assertions.assertThat;

/** Users registered through any version share one id space and one email space. */
class OneIdSpacePerEntityTest {

    @Test
    void sequenceGivenIdsNeverRepeatAcrossVersions() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            List<Long> ids = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                String table = i % 2 == 0 ? "user_registered_0" : "user_registered_1";
                ids.add((Long) value(c, "INSERT INTO " + table + " (email, password_hash) VALUES (?, 'h') RETURNING id",
                        "u" + i + "@example.com"));
            }
            assertThat(ids).doesNotHaveDuplicates().hasSize(20);
            assertThat(count(c, "users_2")).isEqualTo(20);
        }
    }

    @Test
    void explicitIdsNeverMakeALaterSequenceGivenIdCollide() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "INSERT INTO user_registered_0 VALUES (0, 'foo@example.com', 'h')");
            exec(c, "INSERT INTO user_registered_1 VALUES (1, 'bar@example.com', 'h')");
            exec(c, "INSERT INTO user_registered_1 VALUES (41, 'far@example.com', 'h', 'far')");
            long next0 = (Long) value(c, "INSERT INTO user_registered_0 (email, password_hash) VALUES ('n0@example.com', 'h') RETURNING id");
            long next1 = (Long) value(c, "INSERT INTO user_registered_1 (email, password_hash) VALUES ('n1@example.com', 'h') RETURNING id");
            assertThat(next0).isGreaterThan(41);
            assertThat(next1).isGreaterThan(next0);
            // A multi-row insert with explicit ids moves the sequence past the largest.
            exec(c, "INSERT INTO user_registered_0 VALUES (100, 'x@example.com', 'h'), (90, 'y@example.com', 'h')");
            assertThat((Long) value(c, "INSERT INTO user_registered_1 (email, password_hash) VALUES ('z@example.com', 'h') RETURNING id"))
                    .isGreaterThan(100);
        }
    }

    @Test
    void aSecondUserWithATakenIdIsRefusedWhateverTheVersion() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "INSERT INTO user_registered_0 VALUES (7, 'first@example.com', 'h')");
            var failure = assertFailsWith(KitError.DUPLICATE_ID,
                    () -> exec(c, "INSERT INTO user_registered_1 VALUES (7, 'second@example.com', 'h', 'second')"));
            assertThat(failure.getMessage()).contains("Duplicate user id: 7", "user_registered_1");
            assertFailsWith(KitError.DUPLICATE_ID,
                    () -> exec(c, "INSERT INTO user_registered_0 VALUES (7, 'third@example.com', 'h')"));
            assertThat(rows(c, "SELECT email FROM users_2")).hasSize(1);
            assertThat(count(c, "user_registered_1")).isZero();
        }
    }

    @Test
    void aSecondUserWithATakenEmailIsRefusedWhateverTheVersion() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES ('same@example.com', 'h', 'one')");
            var failure = assertFailsWith(KitError.DUPLICATE_VALUE,
                    () -> exec(c, "INSERT INTO user_registered_0 (email, password_hash) VALUES ('same@example.com', 'h')"));
            assertThat(failure.getMessage()).contains("Duplicate user email: same@example.com", "user_registered_0");
            assertThat(count(c, "user_registered_0")).isZero();
            assertThat(count(c, "users_2")).isEqualTo(1);
        }
    }

    @Test
    void twoNewUsersWithOneEmailInOneStatementAreBothRefused() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            assertFailsWith(KitError.DUPLICATE_VALUE, () -> exec(c,
                    "INSERT INTO user_registered_1 (email, password_hash) VALUES ('twin@example.com', 'a'), ('twin@example.com', 'b')"));
            assertThat(count(c, "user_registered_1")).isZero();
            assertThat(count(c, "users_2")).isZero();
        }
    }

    @Test
    void anInsertWithoutAnIdNeverFailsBecauseOfAnIdAnotherWriterChose() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        int writers = 3;
        int factsEach = 400;
        AtomicInteger written = new AtomicInteger();
        Map<String, AtomicInteger> explicitRefusals = new ConcurrentHashMap<>();
        List<String> idLessFailures = java.util.Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(2 * writers);
        try {
            List<Future<?>> work = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int writer = w;
                work.add(pool.submit(() -> {
                    try (Connection c = db.connect()) {
                        for (int i = 0; i < factsEach; i++) {
                            try {
                                exec(c, "INSERT INTO user_registered_1 (email, password_hash) VALUES (?, 'h')", "auto" + writer + "." + i + "@example.com");
                                written.incrementAndGet();
                            } catch (SQLException e) {
                                idLessFailures.add(e.getSQLState() + " " + e.getMessage());
                            }
                        }
                    }
                    return null;
                }));
                // Explicit ids chosen just ahead of the ids the sequence is handing out.
                work.add(pool.submit(() -> {
                    try (Connection c = db.connect()) {
                        for (int i = 0; i < factsEach; i++) {
                            long ahead = 1 + ThreadLocalRandom.current().nextInt(3);
                            try {
                                exec(c, "INSERT INTO user_registered_0 VALUES (coalesce(pg_sequence_last_value('kit.user_id_seq'), 0) + ?, ?, 'h')",
                                        ahead, "chosen" + writer + "." + i + "@example.com");
                            } catch (SQLException e) {
                                explicitRefusals.computeIfAbsent(e.getSQLState(), k -> new AtomicInteger()).incrementAndGet();
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : work) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(idLessFailures).as("inserts without an id that failed").isEmpty();
        assertThat(written.get()).isEqualTo(writers * factsEach);
        assertThat(explicitRefusals.keySet()).as("SQLSTATEs of refused explicit ids")
                .isSubsetOf(KitError.DUPLICATE_ID.sqlState(), KitError.USAGE.sqlState());
        try (Connection c = db.connect()) {
            assertThat(Sql.verify(c, "users_2")).isEmpty();
        }
    }

    @Test
    void explicitIdsOutsideTheirRangeAreRefusedAndTheSequenceIsUntouched() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "INSERT INTO user_registered_1 VALUES (999999999, 'last@example.com', 'h', 'last')");
            for (String id : List.of("-1", "1000000000", "1000000001", Long.toString(Long.MAX_VALUE))) {
                var refused = assertFailsWith(KitError.USAGE,
                        () -> exec(c, "INSERT INTO user_registered_0 VALUES (" + id + ", 'e" + id + "@example.com', 'h')"));
                assertThat(refused.getMessage()).contains("Explicit user id out of range: " + id, "Explicit ids: 0 to 999999999");
            }
            assertFailsWith(KitError.USAGE,
                    () -> exec(c, "INSERT INTO password_changed_2 VALUES (-5, 999999999, 'h2')"));
            assertThat(value(c, "INSERT INTO user_registered_0 (email, password_hash) VALUES ('n@example.com', 'h') RETURNING id"))
                    .as("the first id the sequence gives").isEqualTo(1_000_000_000L);
            assertThat(count(c, "users_2")).isEqualTo(2);
            assertThat(count(c, "user_registered_0")).isEqualTo(1);
        }
    }

    @Test
    void twoFactsOfOneIdSpaceNeverShareAnExplicitId() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "INSERT INTO user_registered_1 VALUES (1, 'bar@example.com', 'h', 'bar')");
            exec(c, "INSERT INTO password_changed_2 VALUES (0, 1, 'h2')");
            var refused = assertFailsWith(KitError.DUPLICATE_ID, () -> exec(c, "INSERT INTO password_changed_2 VALUES (0, 1, 'h3')"));
            assertThat(refused.getMessage()).contains("Duplicate password_change id: 0", "password_changed_2");
            assertFailsWith(KitError.DUPLICATE_ID,
                    () -> exec(c, "INSERT INTO password_changed_2 VALUES (3, 1, 'h4'), (3, 1, 'h5')"));
            assertThat(count(c, "password_changed_2")).isEqualTo(1);
            assertThat(value(c, "SELECT password_hash FROM users_2 WHERE id = 1")).isEqualTo("h2");
            // Another id space may use the same number.
            exec(c, "INSERT INTO message_sent_3 VALUES (0, 1, 1, 'note to self')");
        }
    }

    @Test
    void aWriteTableNeedsABigintId() throws Exception {
        TestDatabase db = TestDatabases.migrated();
        try (Connection c = db.connect()) {
            exec(c, "CREATE TABLE thing_made_9 (id integer NOT NULL, name text)");
            var refused = assertFailsWith(KitError.USAGE, () -> exec(c, "SELECT kit.create_write_table('thing_made_9', 'thing')"));
            assertThat(refused.getMessage()).contains("id bigint", "thing_made_9", "integer");
            assertThat(value(c, "SELECT count(*) FROM kit.write_table WHERE write_table = 'thing_made_9'")).isEqualTo(0L);
        }
    }
}
