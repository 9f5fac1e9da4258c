package kit.cli;

import kit.client.KitName;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.impl.DSL;

import java.time.OffsetDateTime;
import java.util.List;

import static kit.catalog.Tables.CLIENTS;
import static kit.catalog.Tables.REGISTERED_APPS;

/**
 * The sessions connected to the database that are clients of a schema version, one row each, as
 * {@code kit status} and {@code kit retire} show them: the kit's own answer, {@code kit.clients()}
 * (a login that is a member of the version's app role, or a session that registered).
 */
final class ConnectedClients {

    /**
     * One connected client session of schema version {@code version} of {@code domain} (public under a
     * kit before 0.7.0); {@code seenBy} is {@code member} or {@code registered}.
     */
    record Client(int version, int pid, String applicationName, String roleName, String clientAddr,
                  OffsetDateTime backendStart, String seenBy, String domain) {
    }

    /**
     * One app server registered on the primary ({@code kit.registered_apps()}, kit 0.10.0 on): it holds
     * schema version {@code version} until it gives its registration back or {@code expiresAt} passes,
     * whatever sessions it has here; {@code readsFrom} is primary or the replica it reads from.
     */
    record App(String domain, int version, String instance, String login, String readsFrom, OffsetDateTime startedAt,
               OffsetDateTime renewedAt, OffsetDateTime expiresAt) {
    }

    private ConnectedClients() {
    }

    /** The registered apps, or none where the database's kit predates them (0.10.0). */
    static List<App> registered(DSLContext db) {
        if (!DatabaseKit.hasFunction(db, "kit.registered_apps()")) {
            return List.of();
        }
        return db.selectFrom(REGISTERED_APPS).fetch(r -> new App(r.getDomain(), r.getVersion(), r.getInstance(), r.getLogin(),
                r.getReadsFrom(), r.getStartedAt(), r.getRenewedAt(), r.getExpiresAt()));
    }

    /** The clients, or none where the database's kit predates kit.clients() (0.6.0): status says the kit differs. */
    static List<Client> of(DSLContext db) {
        if (!DatabaseKit.hasFunction(db, "kit.clients()")) {
            return List.of();
        }
        boolean domains = DatabaseKit.hasFunction(db, "kit.kit_name(text, text)");
        Field<String> domain = domains ? CLIENTS.DOMAIN : DSL.inline(KitName.PUBLIC, CLIENTS.DOMAIN);
        return db.select(CLIENTS.VERSION, CLIENTS.PID, CLIENTS.APPLICATION_NAME, CLIENTS.ROLE_NAME, CLIENTS.CLIENT_ADDR,
                        CLIENTS.BACKEND_START, CLIENTS.SEEN_BY, domain)
                .from(CLIENTS).orderBy(domains ? CLIENTS.DOMAIN : DSL.noField(), CLIENTS.VERSION, CLIENTS.PID)
                .fetch(r -> new Client(r.value1(), r.value2(), r.value3(), r.value4(), r.value5(), r.value6(), r.value7(), r.value8()));
    }
}
