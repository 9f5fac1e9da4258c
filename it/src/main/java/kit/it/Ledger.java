package kit.it;

import kit.app.Passwords;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

import static kit.client.Jdbc.number;
import static kit.client.Jdbc.single;

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

    /** Checks the ledger against the database; returns the problems (empty when all holds). */
    public List<String> verify(Connection c) throws SQLException {
        List<String> problems = new ArrayList<>();
        Passwords passwords = new Passwords(1);
        userTables = userTables(c);
        for (var entry : users.entrySet()) {
            long id = entry.getKey();
            User u = entry.getValue();
            String writeTable = u.registeredThrough() == 0 ? "user_registered_0" : "user_registered_1";
            if (number(c, "SELECT count(*) FROM " + writeTable + " WHERE id = ? AND email = ?", id, u.email()) != 1) {
                problems.add("acknowledged registration of user " + id + " is not in " + writeTable);
            }
            for (String table : userTables) {
                String hash = single(c, "SELECT password_hash FROM " + table + " WHERE id = ? AND email = ?", id, u.email());
                if (hash == null) {
                    problems.add("acknowledged user " + id + " is not in " + table);
                } else if (!uncertain.containsKey(id) && !passwords.verify(u.password(), hash)) {
                    problems.add(table + " does not hold the last acknowledged password of user " + id);
                }
            }
            if (problems.size() > 20) {
                return problems;
            }
        }
        for (long[] m : messages) {
            if (number(c, "SELECT count(*) FROM message_sent_3 WHERE id = ? AND src_id = ? AND dst_id = ?", m[0], m[1], m[2]) != 1
                    || number(c, "SELECT count(*) FROM messages_3 WHERE id = ? AND src_id = ? AND dst_id = ?", m[0], m[1], m[2]) != 1) {
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
