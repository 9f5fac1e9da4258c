package kit.app;

import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Table;

/** {@link PasswordChanges} over one version's generated password-change write table. */
public final class JooqPasswordChanges implements PasswordChanges {

    private final DSLContext db;
    private final Table<?> changed;
    private final Field<Long> userId;
    private final Field<String> passwordHash;

    public JooqPasswordChanges(DSLContext db, Table<?> changed, Field<Long> userId, Field<String> passwordHash) {
        this.db = db;
        this.changed = changed;
        this.userId = userId;
        this.passwordHash = passwordHash;
    }

    @Override
    public void record(long user, String hash) {
        db.insertInto(changed).set(userId, user).set(passwordHash, hash).execute();
    }
}
