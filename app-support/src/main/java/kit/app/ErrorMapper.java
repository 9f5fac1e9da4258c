package kit.app;

import kit.client.KitError;
import org.postgresql.util.PSQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

/**
 * Turns failures from the database into answers: the kit's SQLSTATEs become
 * 4xx with a stable code, a write that lost a race a 409 {@code write_conflict}, a used-up connection pool a 503 {@code overloaded}
 * with Retry-After, a lost or busy database a 503, anything else a 500
 * (logged, since it is a bug).
 */
public final class ErrorMapper {

    private static final Logger LOG = LoggerFactory.getLogger(ErrorMapper.class);

    /**
     * Retry-After of an {@code overloaded} answer: a pooled connection comes
     * free as soon as any request ends, so a second spreads the retries out
     * without making a client wait long.
     */
    static final int OVERLOADED_RETRY_AFTER_SECONDS = 1;

    private static final String SERIALIZATION_FAILURE = "40001";

    public ApiException map(Throwable failure) {
        var kit = KitError.of(failure);
        String message = firstLine(databaseMessage(failure));
        if (kit.isPresent()) {
            return switch (kit.get()) {
                case DUPLICATE_VALUE -> new ApiException(409, "email".equals(column(failure)) ? "duplicate_email" : "duplicate_value", message);
                case DUPLICATE_ID -> new ApiException(409, "duplicate_id", message);
                case UNKNOWN_ENTITY -> ApiException.notFound("unknown_user", message);
                case BUSY -> new ApiException(503, "database_busy", message);
                case APPEND_ONLY, IN_USE, USAGE, NEWER_KIT -> internal(failure);
            };
        }
        if (raced(failure)) {
            return new ApiException(409, "write_conflict", message);
        }

        if (poolExhausted(failure)) {
            return new ApiException(503, "overloaded", "The server is busy: every database connection is in use; try again.",
                    OVERLOADED_RETRY_AFTER_SECONDS);
        }
        if (unavailable(failure)) {
            return new ApiException(503, "database_unavailable", "The database is not reachable right now; try again.");
        }
        return internal(failure);
    }

    private static ApiException internal(Throwable failure) {
        LOG.error("Internal error", failure);
        return new ApiException(500, "internal", "Something went wrong on the server.");
    }

    /**
     * True when no pooled connection came free in time while the database
     * itself was fine. HikariCP's timeout is a SQLTransientConnectionException
     * either way; when the database is the trouble it carries the last failed
     * attempt to connect as its cause (and that failure's SQLSTATE), and it
     * forgets that failure once a new connection succeeds. So no cause means
     * the pool was merely used up.
     */
    static boolean poolExhausted(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SQLTransientConnectionException timeout) {
                return timeout.getCause() == null && timeout.getSQLState() == null;
            }
        }
        return false;
    }

    /**
     * True when the write lost a race to another write about the same record (PostgreSQL's
     * serialization_failure, which the kit raises when a later fact was applied first): nothing
     * was written, and the same request sent again succeeds.
     */
    static boolean raced(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && SERIALIZATION_FAILURE.equals(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    private static boolean unavailable(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SQLTransientConnectionException) {
                return true;
            }
            if (t instanceof SQLException sql && sql.getSQLState() != null
                    && (sql.getSQLState().startsWith("08") || sql.getSQLState().startsWith("57P"))) {
                return true;
            }
        }
        return false;
    }

    /** The COLUMN field the kit fills in its errors (PostgreSQL's error fields, never the message's words). */
    private static String column(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof PSQLException p && p.getServerErrorMessage() != null) {
                return p.getServerErrorMessage().getColumn();
            }
        }
        return null;
    }

    private static String databaseMessage(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && sql.getMessage() != null) {
                return sql.getMessage().replaceFirst("^ERROR: ", "");
            }
        }
        return String.valueOf(failure.getMessage());
    }

    private static String firstLine(String text) {
        int newline = text.indexOf('\n');
        return newline < 0 ? text : text.substring(0, newline);
    }
}
