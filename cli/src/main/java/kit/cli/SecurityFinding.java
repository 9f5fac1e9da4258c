package kit.cli;

import org.jooq.DSLContext;

import java.util.List;

/**
 * What {@code kit.check_security()} finds: something that could let a writer's code run with another
 * role's rights (a SECURITY DEFINER function whose search_path a writer could influence, a domain
 * schema a writer may create objects in), with the statement that removes it. Status and verify report them.
 */
record SecurityFinding(String object, String problem, String hint) {

    /** The findings; a kit before 0.6.0 answers (function, problem), a function whose path is not pinned. */
    static List<SecurityFinding> of(DSLContext db) {
        return db.resultQuery("SELECT * FROM kit.check_security()").fetch(r -> new SecurityFinding(r.get(0, String.class),
                r.get(1, String.class), r.size() > 2 ? r.get(2, String.class) : "ALTER FUNCTION ... SET search_path = pg_catalog, pg_temp"));
    }
}
