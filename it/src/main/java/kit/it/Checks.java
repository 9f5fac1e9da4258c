package kit.it;

import java.util.ArrayList;
import java.util.List;

/** What the demo proves as it goes: each check prints one line, and the run fails if any did. */
final class Checks {

    private final List<String> failures = new ArrayList<>();
    private final List<String> passed = new ArrayList<>();

    void check(boolean ok, String what) {
        if (ok) {
            passed.add(what);
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
        return passed.size() + " passed, " + failures.size() + " failed";
    }

    List<String> failures() {
        return List.copyOf(failures);
    }

    List<String> passed() {
        return List.copyOf(passed);
    }
}
