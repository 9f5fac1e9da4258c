package kit.app;

import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.Table;

import java.util.Optional;

/**
 * {@link Users} over one version's generated tables. Each app passes its own
 * generated fields, so the queries are checked against its schema version
 * when the app compiles.
 */
public final class JooqUsers implements Users {

    /** The write table a version registers users in, and the read table it reads them from. */
    public record Schema(Table<?> registered, Field<Long> registeredId, Field<String> registeredEmail,
                         Field<String> registeredPasswordHash, Field<String> registeredUsername,
                         Table<?> users, Field<Long> id, Field<String> email, Field<String> passwordHash,
                         Field<String> username) {
    }

    private final DSLContext db;
    private final Schema s;

    public JooqUsers(DSLContext db, Schema schema) {
        this.db = db;
        this.s = schema;
    }

    @Override
    public long register(String email, String passwordHash, String username) {
        var insert = db.insertInto(s.registered())
                .set(s.registeredEmail(), email)
                .set(s.registeredPasswordHash(), passwordHash);
        if (s.registeredUsername() != null) {
            insert = insert.set(s.registeredUsername(), username);
        }
        return insert.returning(s.registeredId()).fetchSingle(s.registeredId());
    }

    @Override
    public Optional<User> byEmail(String email) {
        return db.selectFrom(s.users()).where(s.email().eq(email)).fetchOptional(this::user);
    }

    @Override
    public Optional<User> byId(long id) {
        return db.selectFrom(s.users()).where(s.id().eq(id)).fetchOptional(this::user);
    }

    private User user(Record r) {
        return new User(r.get(s.id()), r.get(s.email()), s.username() == null ? null : r.get(s.username()), r.get(s.passwordHash()));
    }
}
