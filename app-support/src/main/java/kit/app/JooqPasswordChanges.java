package kit.app;

import org.jooq.DSLContext;
import org.jooq.Table;
import org.jooq.TableField;

/**
 * {@link PasswordChanges} over one version's generated password-change write table, its columns by name:
 * {@code JooqPasswordChanges.Schema.writes(PASSWORD_CHANGED).userId(PASSWORD_CHANGED.USER_ID).passwordHash(PASSWORD_CHANGED.PASSWORD_HASH).build()}.
 */
public final class JooqPasswordChanges implements PasswordChanges {

    /** The write table a version records password changes in, and its columns. */
    public static final class Schema {

        private final Table<?> changed;
        private final TableField<?, Long> userId;
        private final TableField<?, String> passwordHash;

        private Schema(Builder b) {
            changed = b.changed;
            userId = TableColumns.of(changed, b.userId, "the user whose password changes");
            passwordHash = TableColumns.of(changed, b.passwordHash, "the new password hash");
        }

        public static Builder writes(Table<?> changed) {
            return new Builder(changed);
        }

        /** The columns, each by its name. */
        public static final class Builder {
            private final Table<?> changed;
            private TableField<?, Long> userId;
            private TableField<?, String> passwordHash;

            private Builder(Table<?> changed) {
                this.changed = changed;
            }

            public Builder userId(TableField<?, Long> column) {
                userId = column;
                return this;
            }

            public Builder passwordHash(TableField<?, String> column) {
                passwordHash = column;
                return this;
            }

            public Schema build() {
                return new Schema(this);
            }
        }
    }

    private final DSLContext db;
    private final Schema s;

    public JooqPasswordChanges(DSLContext db, Schema schema) {
        this.db = db;
        this.s = schema;
    }

    @Override
    public void record(long user, String hash) {
        db.insertInto(s.changed).set(s.userId, user).set(s.passwordHash, hash).execute();
    }
}
