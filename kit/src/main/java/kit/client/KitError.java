package kit.client;

import java.sql.SQLException;
import java.util.Arrays;
import java.util.Optional;

/**
 * Every SQLSTATE the kit raises, in one place. The kit's class is {@code KT};
 * apps map these to HTTP answers and docs/reference.md lists them. A test checks that
 * the SQL raises no code that is missing here.
 */
public enum KitError {
    APPEND_ONLY("KT001", "UPDATE, DELETE or TRUNCATE on a write table: facts are append-only"),
    DUPLICATE_ID("KT002", "a fact would give a read table a second row with the same id"),
    DUPLICATE_VALUE("KT003", "a fact would break a unique column of a read table (e.g. a second user with the same email)"),
    UNKNOWN_ENTITY("KT004", "a fact names an entity that does not exist (password change of an unknown user, message from or to an unknown user)"),
    IN_USE("KT005", "retiring a read version that a connected client of its versions, or a live read version, still uses"),
    USAGE("KT006", "a kit function was called wrongly (unknown table, wrong state, bad name)"),
    BUSY("KT007", "the kit gave up waiting: a lock it needs or a transaction it waits for stayed busy (run it again later)"),
    NEWER_KIT("KT008", "the database has a newer kit than the one migrating it; a kit never downgrades a database");

    private final String sqlState;
    private final String meaning;

    KitError(String sqlState, String meaning) {
        this.sqlState = sqlState;
        this.meaning = meaning;
    }

    public String sqlState() {
        return sqlState;
    }

    public String meaning() {
        return meaning;
    }

    public static Optional<KitError> of(String sqlState) {
        return Arrays.stream(values()).filter(e -> e.sqlState.equals(sqlState)).findFirst();
    }

    /** The kit error behind an exception, looking through its causes. */
    public static Optional<KitError> of(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                Optional<KitError> error = of(sql.getSQLState());
                if (error.isPresent()) {
                    return error;
                }
            }
        }
        return Optional.empty();
    }
}
