package kit.cli;

import org.jooq.DSLContext;

import java.util.List;

import static kit.catalog.Routines.checkSecurity;

/**
 * What {@code kit.check_security()} finds: something that could let a writer's code run with another
 * role's rights (a SECURITY DEFINER function whose search_path a writer could influence, a domain
 * schema every role may create in), with the statement that removes it. Status and verify report them.
 */
record SecurityFinding(String object, String problem, String hint) {

    static List<SecurityFinding> of(DSLContext db) {
        return db.selectFrom(checkSecurity()).fetch(r -> new SecurityFinding(r.getObject(), r.getProblem(), r.getHint()));
    }
}
