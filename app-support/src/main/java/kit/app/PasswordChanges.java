package kit.app;

/** Version 2 and later: record a password change (the kit refuses one for an unknown user with KT004). */
public interface PasswordChanges {

    void record(long userId, String passwordHash);
}
