package kit.app;

/**
 * Version 4 and later: delete a user. The deletion is a fact like any other; the kit removes the
 * user from every live read version of users, and refuses one for a user that is unknown or already
 * deleted with KT004. Forgetting the user too (kit.forget, granted to version 4's role by step 4.1)
 * erases their personal data from every fact and read row, in the same transaction.
 */
public interface Deletions {

    void record(long userId);

    /** Records the deletion and forgets the user, in one transaction; either both happen or neither. */
    void recordAndForget(long userId);
}
