package kit.cli;

import tools.jackson.core.util.DefaultIndenter;
import tools.jackson.core.util.DefaultPrettyPrinter;
import tools.jackson.core.util.Separators;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.cfg.JsonNodeFeature;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The kit command's JSON (the format option): records written with snake_case keys, every field
 * present (null when it has no value), times as ISO-8601 strings, indented for a reader; the shapes
 * are documented in docs/reference.md, and {@link #FORMAT_VERSION} changes when one changes
 * incompatibly.
 */
final class Json {

    /** The {@code format_version} of every JSON document the kit command prints. */
    static final int FORMAT_VERSION = 1;

    static final ObjectMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            // A read row's numbers as the database has them (numeric is exact; a double is not).
            .enable(JsonNodeFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
            // As jq prints it: "key": value, one array element a line, [] when empty (Jackson's own
            // default puts arrays on one line, and a space before every colon).
            .defaultPrettyPrinter(new DefaultPrettyPrinter(Separators.createDefaultInstance()
                    .withObjectNameValueSpacing(Separators.Spacing.AFTER).withArrayEmptySeparator("").withObjectEmptySeparator(""))
                    .withArrayIndenter(new DefaultIndenter("  ", "\n")).withObjectIndenter(new DefaultIndenter("  ", "\n")))
            .build();

    private Json() {
    }

    /** {@code value} on one line, as the text reports show a row. */
    static String oneLine(Object value) {
        return MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(value);
    }

    static String write(Object document) {
        return MAPPER.writeValueAsString(document) + "\n";
    }
}
