package kit.app;

import org.jooq.DSLContext;
import org.jooq.Record;
import org.jooq.Table;
import org.jooq.TableField;

import java.util.Optional;

/**
 * {@link Users} over one version's generated tables. Each app names its own
 * generated columns, so the queries are checked against its schema version
 * when the app compiles:
 *
 * <pre>{@code
 * JooqUsers.Schema.writes(USER_REGISTERED).reads(USERS)
 *         .id(USER_REGISTERED.ID, USERS.ID)
 *         .email(USER_REGISTERED.EMAIL, USERS.EMAIL)
 *         .passwordHash(USER_REGISTERED.PASSWORD_HASH, USERS.PASSWORD_HASH)
 *         .username(USER_REGISTERED.USERNAME, USERS.USERNAME)   // from version 1
 *         .messageCount(USERS.MESSAGE_COUNT)                     // from version 4
 *         .build()
 * }</pre>
 *
 * Each attribute takes its column in the write table, then in the read table
 * (the message count, which the kit computes from other facts, only the read one);
 * {@link Schema.Builder#build} refuses a column of the other table.
 */
public final class JooqUsers implements Users {

    /** The write table a version registers users in, the read table it reads them from, and their columns by name. */
    public static final class Schema {

        private final Table<?> registered;
        private final TableField<?, Long> registeredId;
        private final TableField<?, String> registeredEmail;
        private final TableField<?, String> registeredPasswordHash;
        private final Optional<TableField<?, String>> registeredUsername;
        private final Table<?> users;
        private final TableField<?, Long> id;
        private final TableField<?, String> email;
        private final TableField<?, String> passwordHash;
        private final Optional<TableField<?, String>> username;
        private final Optional<TableField<?, Long>> messageCount;

        private Schema(Builder b) {
            registered = b.registered;
            users = b.users;
            registeredId = TableColumns.of(registered, b.registeredId, "the id written");
            id = TableColumns.of(users, b.id, "the id read");
            registeredEmail = TableColumns.of(registered, b.registeredEmail, "the email written");
            email = TableColumns.of(users, b.email, "the email read");
            registeredPasswordHash = TableColumns.of(registered, b.registeredPasswordHash, "the password hash written");
            passwordHash = TableColumns.of(users, b.passwordHash, "the password hash read");
            if ((b.registeredUsername == null) != (b.username == null)) {
                throw new IllegalStateException("A username is written or read, not both (Tables: " + registered.getName() + ", " + users.getName() + ")");
            }
            registeredUsername = Optional.ofNullable(b.registeredUsername).map(f -> TableColumns.of(registered, f, "the username written"));
            username = Optional.ofNullable(b.username).map(f -> TableColumns.of(users, f, "the username read"));
            messageCount = Optional.ofNullable(b.messageCount).map(f -> TableColumns.of(users, f, "the message count read"));
        }

        /** Starts the description with the write table registrations go to. */
        public static Reads writes(Table<?> registered) {
            return users -> new Builder(registered, users);
        }

        /** The second step: the read table users are read from. */
        @FunctionalInterface
        public interface Reads {
            Builder reads(Table<?> users);
        }

        /** The columns, each by its name: the column in the write table, then the one in the read table. */
        public static final class Builder {
            private final Table<?> registered;
            private final Table<?> users;
            private TableField<?, Long> registeredId;
            private TableField<?, String> registeredEmail;
            private TableField<?, String> registeredPasswordHash;
            private TableField<?, String> registeredUsername;
            private TableField<?, Long> id;
            private TableField<?, String> email;
            private TableField<?, String> passwordHash;
            private TableField<?, String> username;
            private TableField<?, Long> messageCount;

            private Builder(Table<?> registered, Table<?> users) {
                this.registered = registered;
                this.users = users;
            }

            public Builder id(TableField<?, Long> written, TableField<?, Long> read) {
                registeredId = written;
                id = read;
                return this;
            }

            public Builder email(TableField<?, String> written, TableField<?, String> read) {
                registeredEmail = written;
                email = read;
                return this;
            }

            public Builder passwordHash(TableField<?, String> written, TableField<?, String> read) {
                registeredPasswordHash = written;
                passwordHash = read;
                return this;
            }

            /** Versions with usernames (1 and later): the API then requires one at registration. */
            public Builder username(TableField<?, String> written, TableField<?, String> read) {
                registeredUsername = written;
                username = read;
                return this;
            }

            /**
             * Versions whose read table counts each user's messages (4 and later): the API then shows
             * the count. Read only: no write table has it, the kit adds up the messages sent.
             */
            public Builder messageCount(TableField<?, Long> read) {
                messageCount = read;
                return this;
            }

            /** The description, or an exception that names the column missing or in the wrong table. */
            public Schema build() {
                return new Schema(this);
            }
        }
    }

    private final DSLContext db;
    private final Schema s;

    public JooqUsers(DSLContext db, Schema schema) {
        this.db = db;
        this.s = schema;
    }

    @Override
    public boolean usernames() {
        return s.username.isPresent();
    }

    @Override
    public boolean messageCounts() {
        return s.messageCount.isPresent();
    }

    @Override
    public long register(String email, String passwordHash, String username) {
        var insert = db.insertInto(s.registered)
                .set(s.registeredEmail, email)
                .set(s.registeredPasswordHash, passwordHash);
        if (s.registeredUsername.isPresent()) {
            insert = insert.set(s.registeredUsername.get(), username);
        }
        return insert.returning(s.registeredId).fetchSingle(s.registeredId);
    }

    @Override
    public Optional<User> byEmail(String email) {
        return db.selectFrom(s.users).where(s.email.eq(email)).fetchOptional(this::user);
    }

    @Override
    public Optional<User> byId(long id) {
        return db.selectFrom(s.users).where(s.id.eq(id)).fetchOptional(this::user);
    }

    private User user(Record r) {
        return new User(r.get(s.id), r.get(s.email), s.username.map(r::get).orElse(null), r.get(s.passwordHash),
                s.messageCount.map(r::get).orElse(null));
    }
}
