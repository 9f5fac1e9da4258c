package kit.app;

import kit.client.KitError;
import kit.types.State;
import org.jooq.DSLContext;
import org.jooq.exception.DataAccessException;
import org.jooq.impl.DSL;

import java.util.List;
import java.util.Optional;

import static kit.catalog.Routines.schemaVersionState;
import static kit.catalog.Tables.SCHEMA_VERSIONS;

/**
 * An app may only serve when its schema version is live: every read version
 * it reads is complete and none has been retired. Asked of the kit's catalog at
 * start, and again by /health.
 */
public final class SchemaGate {

    /** Why an app refuses to start; the message says which version, its state, and what to do. */
    public static final class NotLiveException extends RuntimeException {

        private static final long serialVersionUID = 1L;
        NotLiveException(String message) {
            super(message, null, false, false);
        }
    }

    /** What {@code kit.schema_version_state} says of a version never migrated into this database. */
    private static final String MISSING = "missing";

    /** The domain the example's apps serve: its tables are in schema public. */
    static final String DOMAIN = "public";

    private SchemaGate() {
    }

    /** The state of schema version {@code version}, or empty when it was never migrated into this database. */
    public static Optional<State> state(DSLContext db, int version) {
        return db.select(SCHEMA_VERSIONS.STATE).from(SCHEMA_VERSIONS)
                .where(SCHEMA_VERSIONS.DOMAIN.eq(DOMAIN), SCHEMA_VERSIONS.VERSION.eq(version))
                .fetchOptional(SCHEMA_VERSIONS.STATE);
    }

    /**
     * Refuses unless schema version {@code version} is live. Reads the state
     * through {@code kit.schema_version_state}, which waits for a retirement
     * under way to commit: the pool's connections are open by then, so a
     * retirement that starts later sees this app and refuses.
     */
    public static void requireLive(DSLContext db, int version) {
        String state;
        try {
            state = db.select(schemaVersionState(version, DOMAIN)).fetchSingle().value1();
        } catch (DataAccessException e) {
            if ("42501".equals(e.sqlState())) {
                // The role exists (roles are per server) but this database granted it nothing.
                throw new NotLiveException("schema version " + version + " is not live: this database grants app-v" + version
                        + "'s role nothing, so its migration has not run here. Apply it first: "
                        + "mvn -pl db flyway:migrate -Dflyway.url=<url> -Dflyway.target=" + version);
            }
            if ("42P01".equals(e.sqlState()) || "3F000".equals(e.sqlState()) || "42883".equals(e.sqlState())) {
                throw new NotLiveException("schema version " + version + " is not live: this database has no kit catalog. "
                        + "Migrate it first: mvn -pl db flyway:migrate -Dflyway.url=<url> -Dflyway.target=" + version);
            }
            if (KitError.BUSY.sqlState().equals(e.sqlState())) {
                // A retirement, or any session, holds the gate's lock past the wait: say who, in one line.
                throw new NotLiveException("schema version " + version + " could not be checked: "
                        + firstLine(e.getCause() != null ? e.getCause().getMessage() : e.getMessage())
                        + ". Start app-v" + version + " again once that session is gone.");
            }
            throw e;
        }
        if (MISSING.equals(state)) {
            throw new NotLiveException("schema version " + version + " is not live: it has not been migrated "
                    + "into this database yet. Apply it first: mvn -pl db flyway:migrate -Dflyway.url=<url> -Dflyway.target=" + version);
        }
        switch (State.of(state)) {
            case LIVE -> requireReadTables(db, version);
            case BUILDING -> throw new NotLiveException("schema version " + version + " is not live: it is still building "
                    + "(a read version it needs is being backfilled). Start app-v" + version + " once it is live.");
            case RETIRED -> throw new NotLiveException("schema version " + version + " is retired: its read tables were "
                    + "removed by a tidy-up migration" + newestLive(db).map(v -> ". Run app-v" + v + " instead.").orElse("."));
            case ABORTED -> throw new NotLiveException("schema version " + version + " is not live: a read version it needs "
                    + "was aborted while building. Migrate a version that replaces it, and run that version's app.");
        }
    }

    /**
     * A live version whose read table is gone (dropped or renamed: drift, which kit status names) would
     * answer its reads with errors; it refuses instead, naming the table.
     */
    private static void requireReadTables(DSLContext db, int version) {
        List<String> gone = db.select(DSL.field("t", String.class))
                .from(DSL.table("unnest(?::text[])", (Object) readTables(db, version)).as("r", "t"))
                .where(DSL.condition("to_regclass(pg_catalog.format('%I.%I', ?::text, t)) IS NULL", DOMAIN))
                .fetch(DSL.field("t", String.class));
        if (!gone.isEmpty()) {
            throw new NotLiveException("schema version " + version + " cannot serve: its read table " + String.join(", ", gone)
                    + " is missing from the database. kit status names the damage; kit repair and kit rebuild say what they can restore.");
        }
    }

    private static String[] readTables(DSLContext db, int version) {
        return db.select(SCHEMA_VERSIONS.READ_TABLES).from(SCHEMA_VERSIONS)
                .where(SCHEMA_VERSIONS.DOMAIN.eq(DOMAIN), SCHEMA_VERSIONS.VERSION.eq(version))
                .fetchSingle(SCHEMA_VERSIONS.READ_TABLES);
    }

    /** The first line of a server's error message, without its "ERROR: ". */
    static String firstLine(String message) {
        return message == null ? "" : message.lines().findFirst().orElse("").replaceFirst("^ERROR: ", "");
    }

    private static Optional<Integer> newestLive(DSLContext db) {
        return db.select(SCHEMA_VERSIONS.VERSION).from(SCHEMA_VERSIONS)
                .where(SCHEMA_VERSIONS.DOMAIN.eq(DOMAIN), SCHEMA_VERSIONS.STATE.eq(State.LIVE))
                .orderBy(SCHEMA_VERSIONS.VERSION.desc())
                .limit(1)
                .fetchOptional(SCHEMA_VERSIONS.VERSION);
    }
}
