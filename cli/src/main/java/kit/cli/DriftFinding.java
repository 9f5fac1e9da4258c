package kit.cli;

import org.jooq.DSLContext;

import java.util.List;
import java.util.Set;

import static kit.catalog.Routines.drift;

/**
 * One row of {@code kit.drift()}, split for a script: the kind of object (the word the kit puts
 * first: {@code trigger}, {@code function}, {@code table}, {@code role}, {@code subscription}), its
 * name, the problem, and what an operator does about it.
 *
 * @param repairable whether {@code kit repair} restores it
 */
record DriftFinding(String kind, String object, String detail, String hint, boolean repairable) {

    /** The finding kit.drift() gives for a trigger on a kit table that the kit did not create. */
    private static final String NOT_THE_KITS = "not created by the kit";

    static List<DriftFinding> of(DSLContext db) {
        // What no repair restores the kit lists itself (its WARNINGs say so too); older kits have no such list.
        Set<List<String>> unrepairable = Boolean.TRUE.equals(db.fetchValue("SELECT to_regprocedure('kit.unrepairable()') IS NOT NULL"))
                ? Set.copyOf(db.resultQuery("SELECT u.object, u.problem FROM kit.unrepairable() u")
                        .fetch(r -> List.of(r.get(0, String.class), r.get(1, String.class))))
                : Set.of();
        return db.selectFrom(drift()).fetch(r -> of(r.getObject(), r.getProblem(),
                unrepairable.contains(List.of(r.getObject(), r.getProblem()))));
    }

    /*
     * kit.drift() has no column for what repair can do: kit.unrepairable() lists part of it, and two
     * more findings that repair only reports (a missing table, a trigger the kit did not create) are
     * told apart by the kit's words for them, which KitOutputFormatsTest holds to.
     */
    private static DriftFinding of(String object, String problem, boolean unrepairable) {
        int space = object.indexOf(' ');
        String kind = space < 0 ? null : object.substring(0, space);
        String name = space < 0 ? object : object.substring(space + 1);
        if (unrepairable) {
            return new DriftFinding(kind, name, problem, "kit repair cannot restore it: do what the detail says", false);
        }
        if ("table".equals(kind) && problem.startsWith("missing")) {
            return new DriftFinding(kind, name, problem, "rename the table back or restore it from a backup, then kit repair and kit verify", false);
        }
        if ("trigger".equals(kind) && problem.equals(NOT_THE_KITS)) {
            return new DriftFinding(kind, name, problem, "kit repair leaves triggers it did not create: drop it if nobody needs it", false);
        }
        return new DriftFinding(kind, name, problem, "kit repair, then kit verify", true);
    }

    /** The object as kit.drift() names it. */
    String objectText() {
        return kind == null ? object : kind + " " + object;
    }
}
