package kit.app;

import java.util.Optional;

/** What every app version does with users, written by each version against its own generated tables. */
public interface Users {

    /** {@code messageCount} is null in a version whose users read table does not count messages. */
    record User(long id, String email, String username, String passwordHash, Long messageCount) {
    }

    /** Whether this version's users have a username (version 1 and later): registrations then require one. */
    boolean usernames();

    /** Whether this version's users read table counts the messages each user sent (version 4 and later). */
    boolean messageCounts();

    /** Records a registration fact; returns the new user's id. */
    long register(String email, String passwordHash, String username);

    Optional<User> byEmail(String email);

    Optional<User> byId(long id);
}
