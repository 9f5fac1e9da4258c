package kit.app;

import org.jooq.DSLContext;
import org.jooq.Record1;
import org.jooq.exception.DataAccessException;

import java.util.Optional;

import static org.jooq.impl.DSL.field;
import static org.jooq.impl.DSL.name;
import static org.jooq.impl.DSL.table;
import static org.jooq.impl.DSL.val;

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

    private SchemaGate() {
    }

    /** The state of schema version {@code version}: live, building, retired, or "missing" when it was never migrated. */
    public static String state(DSLContext db, int version) {
        Optional<Record1<String>> row = db.select(field(name("state"), String.class))
                .from(table(name("kit", "schema_versions")))
                .where(field(name("version"), Integer.class).eq(version))
                .fetchOptional();
        return row.map(Record1::value1).orElse("missing");
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
            state = db.select(field("kit.schema_version_state({0})", String.class, val(version))).fetchSingle().value1();
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
            throw e;
        }
        switch (state) {
            case "live" -> {
            }
            case "missing" -> throw new NotLiveException("schema version " + version + " is not live: it has not been migrated "
                    + "into this database yet. Apply it first: mvn -pl db flyway:migrate -Dflyway.url=<url> -Dflyway.target=" + version);
            case "building" -> throw new NotLiveException("schema version " + version + " is not live: it is still building "
                    + "(a read version it needs is being backfilled). Start app-v" + version + " once it is live.");
            case "retired" -> throw new NotLiveException("schema version " + version + " is retired: its read tables were "
                    + "removed by a tidy-up migration" + newestLive(db).map(v -> ". Run app-v" + v + " instead.").orElse("."));
            default -> throw new NotLiveException("schema version " + version + " is in an unknown state: " + state);
        }
    }

    private static Optional<Integer> newestLive(DSLContext db) {
        return db.select(field(name("version"), Integer.class))
                .from(table(name("kit", "schema_versions")))
                .where(field(name("state"), String.class).eq("live"))
                .orderBy(field(name("version")).desc())
                .limit(1)
                .fetchOptional(Record1::value1);
    }
}
