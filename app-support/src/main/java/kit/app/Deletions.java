package kit.app;

/**
 * Version 4 and later: delete a user. The deletion is a fact like any other; the kit removes the
 * user from every live read version of users, and refuses one for a user that is unknown or already
 * deleted with KT004.
 */
public interface Deletions {

    void record(long userId);
}
