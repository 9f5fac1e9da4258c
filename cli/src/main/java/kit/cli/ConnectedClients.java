package kit.cli;

import org.jooq.DSLContext;

import java.time.OffsetDateTime;
import java.util.List;

/**
 * The app sessions connected to the database, one row each, as {@code kit status} shows them. The
 * one place that asks: the kit's own answer ({@code kit.clients()}, which also knows clients by
 * role and registration) takes this query's place, with the same columns, once the kit has it.
 */
final class ConnectedClients {

    /** One connected session of an app of schema version {@code version}; {@code seenBy} says how the kit knew it. */
    record Client(int version, int pid, String applicationName, String roleName, String clientAddr,
                  OffsetDateTime backendStart, String seenBy) {
    }

    private ConnectedClients() {
    }

    static List<Client> of(DSLContext db) {
        return db.resultQuery("""
                SELECT c.version, a.pid, a.application_name, a.usename::text AS role_name, host(a.client_addr) AS client_addr,
                       a.backend_start, 'application_name' AS seen_by
                  FROM pg_catalog.pg_stat_activity a
                 CROSS JOIN LATERAL (SELECT kit.client_schema_version(a.application_name) AS version) c
                 WHERE a.datname = current_database() AND c.version IS NOT NULL
                 ORDER BY c.version, a.pid""")
                .fetch(r -> new Client(r.get("version", Integer.class), r.get("pid", Integer.class),
                        r.get("application_name", String.class), r.get("role_name", String.class),
                        r.get("client_addr", String.class), r.get("backend_start", OffsetDateTime.class),
                        r.get("seen_by", String.class)));
    }
}
