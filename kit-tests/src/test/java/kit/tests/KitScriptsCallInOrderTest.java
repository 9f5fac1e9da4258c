package kit.tests;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The kit's scripts read top to bottom: each calls only functions that an earlier script (in the
 * order Flyway runs them, by file name) or the same script defines. So a reader meets every function
 * before its first use, and PostgreSQL checks each {@code LANGUAGE sql} body when it is created.
 * Calls are {@code kit.<name>(} outside comments, also inside the code a generator writes in a
 * dollar-quoted template (that code calls the function when it runs). Text in single quotes (a
 * comment on a table, a hint, {@code 'kit.x(integer)'::regprocedure}, 00 begin's question to the
 * installed kit, {@code 'SELECT kit.version()'}) and names after {@code FUNCTION} (DROP, GRANT,
 * REVOKE, ALTER) call nothing.
 */
class KitScriptsCallInOrderTest {

    static final Path SCRIPTS = Path.of("..", "kit", "src", "main", "resources", "db", "kit");

    private static final Pattern DEFINITION = Pattern.compile(
            "CREATE\\s+(?:OR\\s+REPLACE\\s+)?(?:FUNCTION|PROCEDURE)\\s+kit\\.(\\w+)\\s*\\(", Pattern.CASE_INSENSITIVE);
    private static final Pattern CALL = Pattern.compile("kit\\.(\\w+)\\s*\\(");
    private static final Pattern NAMED_NOT_CALLED = Pattern.compile("(?:FUNCTION|PROCEDURE)\\s+(?:IF\\s+EXISTS\\s+)?$", Pattern.CASE_INSENSITIVE);

    @Test
    void everyScriptCallsOnlyFunctionsThatEarlierScriptsDefine() throws IOException {
        List<String> scripts = scripts(SCRIPTS);
        assertThat(scripts).as("the kit's scripts").hasSizeGreaterThan(10);
        assertThat(laterCalls(SCRIPTS)).as("calls of a function that a later script defines (script: caller -> callee)").isEmpty();
    }

    /** The kit's scripts in the order Flyway runs them: before migrate by file name, then after migrate. */
    static List<String> scripts(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".sql"))
                    .sorted((a, b) -> a.startsWith("afterMigrate") == b.startsWith("afterMigrate") ? a.compareTo(b)
                            : a.startsWith("afterMigrate") ? 1 : -1)
                    .toList();
        }
    }

    /** Each call of a function defined in a later script, as "script: caller -> kit.callee (defined in: script)". */
    static List<String> laterCalls(Path directory) throws IOException {
        List<String> scripts = scripts(directory);
        Map<String, String> source = new HashMap<>();
        Map<String, Integer> definedIn = new HashMap<>();
        for (int i = 0; i < scripts.size(); i++) {
            String sql = withoutCommentsAndStrings(Files.readString(directory.resolve(scripts.get(i))));
            source.put(scripts.get(i), sql);
            Matcher d = DEFINITION.matcher(sql);
            while (d.find()) {
                definedIn.putIfAbsent(d.group(1), i);
            }
        }
        List<String> found = new ArrayList<>();
        for (int i = 0; i < scripts.size(); i++) {
            String script = scripts.get(i);
            String sql = source.get(script);
            Matcher call = CALL.matcher(sql);
            while (call.find()) {
                String callee = call.group(1);
                Integer definer = definedIn.get(callee);
                String before = sql.substring(Math.max(0, call.start() - 20), call.start());
                if (definer == null || definer <= i || NAMED_NOT_CALLED.matcher(before).find()) {
                    continue;
                }
                found.add(String.format("%s: %s -> kit.%s (defined in: %s)", script, caller(sql, call.start()), callee,
                        scripts.get(definer)));
            }
        }
        return found;
    }

    /** The kit function whose definition holds the position, or the script itself (a DO block, a statement). */
    private static String caller(String sql, int position) {
        String caller = "(the script's own statements)";
        Matcher d = DEFINITION.matcher(sql);
        while (d.find() && d.start() < position) {
            int end = sql.indexOf("\n$$;", d.end());
            if (end < 0 || position < end) {
                caller = "kit." + d.group(1);
            } else {
                caller = "(the script's own statements)";
            }
        }
        return caller;
    }

    /**
     * The script without its {@code --} comments and with the text of its single-quoted strings blanked
     * out: those are prose (comments on tables, hints) or names, where no call runs.
     */
    private static String withoutCommentsAndStrings(String sql) {
        StringBuilder kept = new StringBuilder(sql.length());
        boolean quoted = false;
        for (int i = 0; i < sql.length(); i++) {
            char c = sql.charAt(i);
            if (!quoted && c == '-' && sql.startsWith("--", i)) {
                int end = sql.indexOf('\n', i);
                i = (end < 0 ? sql.length() : end) - 1;
                continue;
            }
            if (c == '\'') {
                quoted = !quoted;
            }
            kept.append(quoted && c != '\'' && c != '\n' ? ' ' : c);
        }
        return kept.toString();
    }
}
