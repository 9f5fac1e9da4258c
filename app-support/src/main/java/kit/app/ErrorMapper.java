package kit.app;

import kit.client.KitError;
import org.postgresql.util.PSQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

/**
 * Turns failures from the database into answers: the kit's SQLSTATEs become
 * 4xx with a stable code, a lost or busy database a 503, anything else a 500
 * (logged, since it is a bug).
 */
public final class ErrorMapper {

    private static final Logger LOG = LoggerFactory.getLogger(ErrorMapper.class);

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
        if (unavailable(failure)) {
            return new ApiException(503, "database_unavailable", "The database is not reachable right now; try again.");
        }
        return internal(failure);
    }

    private static ApiException internal(Throwable failure) {
        LOG.error("Internal error", failure);
        return new ApiException(500, "internal", "Something went wrong on the server.");
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
