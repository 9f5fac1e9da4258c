package kit.app;

import org.jooq.DSLContext;
import org.jooq.Table;
import org.jooq.TableField;
import org.jooq.exception.DataAccessException;

/**
 * {@link Deletions} over one version's generated user-deletion write table, its column by name:
 * {@code JooqDeletions.Schema.writes(USER_DELETED).userId(USER_DELETED.USER_ID).build()}.
 */
public final class JooqDeletions implements Deletions {

    /** The write table a version records deletions in, and its column. */
    public static final class Schema {

        private final Table<?> deleted;
        private final TableField<?, Long> userId;

        private Schema(Builder b) {
            deleted = b.deleted;
            userId = TableColumns.of(deleted, b.userId, "the user deleted");
        }

        public static Builder writes(Table<?> deleted) {
            return new Builder(deleted);
        }

        /** The column, by its name. */
        public static final class Builder {
            private final Table<?> deleted;
            private TableField<?, Long> userId;

            private Builder(Table<?> deleted) {
                this.deleted = deleted;
            }

            public Builder userId(TableField<?, Long> column) {
                userId = column;
                return this;
            }

            public Schema build() {
                return new Schema(this);
            }
        }
    }

    private static final String INSUFFICIENT_PRIVILEGE = "42501";

    private final DSLContext db;
    private final Schema s;

    public JooqDeletions(DSLContext db, Schema schema) {
        this.db = db;
        this.s = schema;
    }

    @Override
    public void record(long user) {
        db.insertInto(s.deleted).set(s.userId, user).execute();
    }

    @Override
    public void recordAndForget(long user) {
        db.transaction(tx -> {
            tx.dsl().insertInto(s.deleted).set(s.userId, user).execute();
            try {
                tx.dsl().fetch("SELECT facts_redacted FROM kit.forget('user', ?)", user);
            } catch (DataAccessException e) {
                if (INSUFFICIENT_PRIVILEGE.equals(e.sqlState())) {
                    throw new ApiException(403, "forget_not_granted",
                            "This version may not forget users: no migration granted it kit.forget (the example's step 4.1 does).");
                }
                throw e;
            }
        });
    }
}
