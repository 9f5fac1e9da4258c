package kit.cli;

import org.jooq.DSLContext;

import java.time.OffsetDateTime;
import java.util.List;

import static kit.catalog.Tables.CLIENTS;

/**
 * The sessions connected to the database that are clients of a schema version, one row each, as
 * {@code kit status} and {@code kit retire} show them: the kit's own answer, {@code kit.clients()}
 * (a login that is a member of the version's app role, or a session that registered).
 */
final class ConnectedClients {

    /** One connected client session of schema version {@code version}; {@code seenBy} is {@code member} or {@code registered}. */
    record Client(int version, int pid, String applicationName, String roleName, String clientAddr,
                  OffsetDateTime backendStart, String seenBy) {
    }

    private ConnectedClients() {
    }

    /** The clients, or none where the database's kit predates kit.clients() (0.6.0): status says the kit differs. */
    static List<Client> of(DSLContext db) {
        if (!DatabaseKit.hasFunction(db, "kit.clients()")) {
            return List.of();
        }
        return db.selectFrom(CLIENTS).orderBy(CLIENTS.VERSION, CLIENTS.PID)
                .fetch(r -> new Client(r.getVersion(), r.getPid(), r.getApplicationName(), r.getRoleName(), r.getClientAddr(),
                        r.getBackendStart(), r.getSeenBy()));
    }
}
