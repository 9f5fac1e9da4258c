package kit.app;

import java.util.Optional;

/** What every app version does with users, written by each version against its own generated tables. */
public interface Users {

    record User(long id, String email, String username, String passwordHash) {
    }

    /** Whether this version's users have a username (version 1 and later): registrations then require one. */
    boolean usernames();

    /** Records a registration fact; returns the new user's id. */
    long register(String email, String passwordHash, String username);

    Optional<User> byEmail(String email);

    Optional<User> byId(long id);
}
