package kit.cli;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** What a kit command prints: text for a person (the default), JSON for a script, or the feed graph (status only). */
enum OutputFormat {
    TEXT, JSON, MERMAID;

    /** The option's value as given, e.g. {@code json}. */
    String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The format named {@code value} among {@code allowed}, or empty. */
    static Optional<OutputFormat> of(String value, OutputFormat... allowed) {
        return Arrays.stream(allowed).filter(f -> f.label().equals(value)).findFirst();
    }
}
