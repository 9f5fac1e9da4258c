package kit.it;

import kit.app.Passwords;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import static kit.client.Jdbc.number;
import static kit.client.Jdbc.rows;
import static kit.client.Jdbc.single;
import static kit.client.Jdbc.strings;

/**
 * What the load generator was told succeeded, to check against the database
 * afterwards: every acknowledged registration, each user's last acknowledged
 * password, every acknowledged message, and the emails raced by concurrent
 * registrations.
 */
public final class Ledger {

    record User(String email, int registeredThrough, String password) {
    }

    private final Map<Long, User> users = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<long[]> messages = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> contested = new ConcurrentLinkedQueue<>();
    private final AtomicLong passwordChanges = new AtomicLong();
    private final Map<Long, Boolean> uncertain = new ConcurrentHashMap<>();
    private List<String> userTables = List.of("users_2");

    void registered(long id, String email, int version, String password) {
        users.put(id, new User(email, version, password));
    }

    void passwordChanged(long id, String password) {
        users.computeIfPresent(id, (k, u) -> new User(u.email(), u.registeredThrough(), password));
        passwordChanges.incrementAndGet();
    }

    /** A password change whose answer never came: it may or may not have happened. */
    void passwordUncertain(long id) {
        uncertain.put(id, true);
    }

    void messageSent(long id, long src, long dst) {
        messages.add(new long[] {id, src, dst});
    }

    void contested(String email) {
        contested.add(email);
    }

    /**
     * Checks the ledger against the database; returns the problems (empty when all holds). Each table
     * is read once and each password hash verified once: a query and a hash per row took most of the
     * demo's last step once the ledger held thousands of users.
     */
    public List<String> verify(Connection c) throws SQLException {
        Passwords passwords = new Passwords(1);
        userTables = userTables(c);
        Map<String, Map<Long, Map<String, Object>>> tables = new HashMap<>();
        for (String table : List.of("user_registered_0", "user_registered_1")) {
            tables.put(table, byId(c, "SELECT id, email FROM " + table));
        }
        for (String table : userTables) {
            tables.put(table, byId(c, "SELECT id, email, password_hash FROM " + table));
        }
        // Hashing is most of the work: the users are checked in parallel, on the cores the stopped traffic left free.
        List<String> problems = users.entrySet().parallelStream()
                .flatMap(e -> problems(e.getKey(), e.getValue(), tables, passwords).stream())
                .limit(21).collect(Collectors.toCollection(ArrayList::new));
        if (problems.size() > 20) {
            return problems;
        }
        Set<String> written = new HashSet<>(strings(c, "SELECT id || '/' || src_id || '/' || dst_id FROM message_sent_3"));
        Set<String> read = new HashSet<>(strings(c, "SELECT id || '/' || src_id || '/' || dst_id FROM messages_3"));
        for (long[] m : messages) {
            String message = m[0] + "/" + m[1] + "/" + m[2];
            if (!written.contains(message) || !read.contains(message)) {
                problems.add("acknowledged message " + m[0] + " is not in message_sent_3 and messages_3");
            }
        }
        for (String email : contested) {
            long facts = number(c, "SELECT (SELECT count(*) FROM user_registered_0 WHERE email = ?) + (SELECT count(*) FROM user_registered_1 WHERE email = ?)", email, email);
            if (facts != 1) {
                problems.add("contested email " + email + " has " + facts + " registration facts instead of 1");
            }
        }
        return problems;
    }

    /** What is wrong with one acknowledged user: its registration fact, and its row and password in each users table. */
    private List<String> problems(long id, User u, Map<String, Map<Long, Map<String, Object>>> tables, Passwords passwords) {
        List<String> problems = new ArrayList<>();
        String writeTable = u.registeredThrough() == 0 ? "user_registered_0" : "user_registered_1";
        if (!hasEmail(tables.get(writeTable).get(id), u.email())) {
            problems.add("acknowledged registration of user " + id + " is not in " + writeTable);
        }
        String verified = null;
        for (String table : userTables) {
            Map<String, Object> row = tables.get(table).get(id);
            String hash = hasEmail(row, u.email()) ? (String) row.get("password_hash") : null;
            if (hash == null) {
                problems.add("acknowledged user " + id + " is not in " + table);
            } else if (!uncertain.containsKey(id) && !hash.equals(verified)) {
                if (passwords.verify(u.password(), hash)) {
                    verified = hash;
                } else {
                    problems.add(table + " does not hold the last acknowledged password of user " + id);
                }
            }
        }
        return problems;
    }

    private static Map<Long, Map<String, Object>> byId(Connection c, String sql) throws SQLException {
        Map<Long, Map<String, Object>> rows = new HashMap<>();
        for (Map<String, Object> row : rows(c, sql)) {
            rows.put(((Number) row.get("id")).longValue(), row);
        }
        return rows;
    }

    private static boolean hasEmail(Map<String, Object> row, String email) {
        return row != null && email.equals(row.get("email"));
    }

    /** users_2, and users_4 once the database has it: the load generator deletes nobody, so every user is in both. */
    private static List<String> userTables(Connection c) throws SQLException {
        return single(c, "SELECT to_regclass('public.users_4')::text") == null ? List.of("users_2") : List.of("users_2", "users_4");
    }

    public String figures() {
        return users.size() + " acknowledged registrations, " + passwordChanges.get() + " password changes, "
                + messages.size() + " messages, " + contested.size() + " contested emails";
    }

    public long checkedRows() {
        return users.size() * (1L + userTables.size()) + messages.size() * 2L + contested.size();
    }
}
