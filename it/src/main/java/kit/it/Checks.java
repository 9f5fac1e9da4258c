package kit.it;

import java.util.ArrayList;
import java.util.List;

/** What the demo proves as it goes: each check prints one line, and the run fails if any did. */
final class Checks {

    private final List<String> failures = new ArrayList<>();
    private int passed;

    void check(boolean ok, String what) {
        if (ok) {
            passed++;
            System.out.println("    ok    " + what);
        } else {
            failures.add(what);
            System.out.println("    FAIL  " + what);
        }
    }

    boolean allPassed() {
        return failures.isEmpty();
    }

    String summary() {
        return passed + " passed, " + failures.size() + " failed";
    }

    List<String> failures() {
        return List.copyOf(failures);
    }
}
