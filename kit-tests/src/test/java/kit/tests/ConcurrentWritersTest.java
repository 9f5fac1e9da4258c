package kit.tests;

import kit.client.KitError;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

import static kit.client.Jdbc.exec;
import static kit.client.Jdbc.rows;
import static kit.tests.Sql.count;
import static kit.tests.Sql.liveReadTables;
import static kit.tests.Sql.value;
import static kit.tests.Sql.verify;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real concurrent connections write thousands of facts across every write
 * table, including deliberate conflicts (one email registered through two
 * versions at once) and racing password changes of the same users. Afterwards
 * every live read table equals a rebuild, and each raced user's password is
 * the one a replay in global order gives: the change with the highest seq.
 */
class ConcurrentWritersTest {

    static final int THREADS = 6;
    static final int OPERATIONS_PER_THREAD = 700;
    static final int HOT_USERS = 5;

    @ParameterizedTest(name = "at schema target {0}")
    @ValueSource(strings = {"2", "3"})
    void concurrentWritersLeaveEveryReadTableEqualToItsRebuild(String target) throws Exception {
        TestDatabase db = TestDatabases.migratedTo(target);
        boolean messages = target.equals("3");
        List<Long> hotUsers = new ArrayList<>();
        try (Connection c = db.connect()) {
            for (int i = 0; i < HOT_USERS; i++) {
                hotUsers.add((Long) value(c, "INSERT INTO user_registered_0 (email, password_hash) VALUES (?, 'start') RETURNING id",
                        "hot" + i + "@example.com"));
            }
        }

        Map<String, AtomicLong> outcomes = new ConcurrentHashMap<>();
        long seed = new Random().nextLong();
        try (ExecutorService pool = Executors.newFixedThreadPool(THREADS)) {
            List<Future<?>> work = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                work.add(pool.submit(() -> {
                    Random random = new Random(seed + thread);
                    try (Connection c = db.connect()) {
                        for (int i = 0; i < OPERATIONS_PER_THREAD; i++) {
                            String outcome = writeOneFact(c, random, thread, i, hotUsers, messages);
                            outcomes.computeIfAbsent(outcome, k -> new AtomicLong()).incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : work) {
                f.get();
            }
        }

        System.out.printf("concurrent writers (target %s, seed %d): %s%n", target, seed, outcomes);
        assertThat(outcomes.keySet()).as("outcomes (seed %d)", seed)
                .allMatch(o -> o.startsWith("ok") || o.equals(KitError.DUPLICATE_VALUE.sqlState()));
        assertThat(outcomes.get("ok:password")).isNotNull();
        assertThat(outcomes.get(KitError.DUPLICATE_VALUE.sqlState())).as("deliberate email conflicts were refused").isNotNull();

        try (Connection c = db.connect()) {
            long facts = count(c, "user_registered_0") + count(c, "user_registered_1") + count(c, "password_changed_2")
                    + (messages ? count(c, "message_sent_3") : 0);
            assertThat(facts).as("facts written").isGreaterThan(3000);
            for (String table : liveReadTables(c)) {
                assertThat(verify(c, table)).as("%s equals its rebuild (seed %d)", table, seed).isEmpty();
            }
            for (long user : hotUsers) {
                Object lastChange = value(c, "SELECT password_hash FROM password_changed_2 WHERE user_id = ? ORDER BY seq DESC LIMIT 1", user);
                for (String users : liveReadTables(c)) {
                    if (users.startsWith("users_")) {
                        assertThat(value(c, "SELECT password_hash FROM " + users + " WHERE id = ?", user))
                                .as("%s password of raced user %d", users, user).isEqualTo(lastChange);
                    }
                }
            }
            assertThat(rows(c, "SELECT email FROM users_2 GROUP BY email HAVING count(*) > 1")).isEmpty();
        }
    }

    /** One fact, chosen at random; returns "ok:<kind>" or the SQLSTATE it failed with. */
    private static String writeOneFact(Connection c, Random random, int thread, int i, List<Long> hotUsers, boolean messages) {
        try {
            int dice = random.nextInt(10);
            if (dice < 3) {
                // Deliberate conflicts: threads share a small pool of emails.
                String email = random.nextInt(4) == 0 ? "shared" + random.nextInt(40) + "@example.com" : "t" + thread + "-" + i + "@example.com";
                if (random.nextBoolean()) {
                    exec(c, "INSERT INTO user_registered_0 (email, password_hash) VALUES (?, ?)", email, "h" + i);
                } else {
                    exec(c, "INSERT INTO user_registered_1 (email, password_hash, username) VALUES (?, ?, ?)", email, "h" + i, "u" + thread + "-" + i);
                }
                return "ok:registration";
            }
            if (dice < 8 || !messages) {
                long user = hotUsers.get(random.nextInt(hotUsers.size()));
                exec(c, "INSERT INTO password_changed_2 (user_id, password_hash) VALUES (?, ?)", user, "t" + thread + "-" + i);
                return "ok:password";
            }
            long src = hotUsers.get(random.nextInt(hotUsers.size()));
            long dst = hotUsers.get(random.nextInt(hotUsers.size()));
            exec(c, "INSERT INTO message_sent_3 (src_id, dst_id, content) VALUES (?, ?, ?)", src, dst, "m" + thread + "-" + i);
            return "ok:message";
        } catch (SQLException e) {
            return e.getSQLState();
        }
    }
}
