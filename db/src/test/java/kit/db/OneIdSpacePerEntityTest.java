package kit.db;

import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;

import static kit.db.Sql.assertFailsWith;
import static kit.db.Sql.count;
import static kit.db.Sql.exec;
import static kit.db.Sql.rows;
import static kit.db.Sql.value;
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
}
