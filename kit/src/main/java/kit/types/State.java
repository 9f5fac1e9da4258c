package kit.types;

import org.jooq.impl.AbstractConverter;

import java.util.Arrays;

/**
 * The lifecycle of a read version ({@code kit.read_version.state}) and of a schema
 * version ({@code kit.schema_versions.state}, derived from its read versions). The
 * catalog stores the label; the jOOQ classes in {@code kit.catalog} give this type.
 */
public enum State {
    /** Being backfilled: writers already feed it, apps may not read it yet. */
    BUILDING("building"),
    /** Complete and fed by the triggers: apps read it. */
    LIVE("live"),
    /** Dropped by a tidy-up; its facts stay in the write tables. */
    RETIRED("retired"),
    /** Dropped while building ({@code kit abort}). */
    ABORTED("aborted");

    private final String label;

    State(String label) {
        this.label = label;
    }

    /** The text the catalog stores. */
    public String label() {
        return label;
    }

    public static State of(String label) {
        return Arrays.stream(values()).filter(s -> s.label.equals(label)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("Not a kit state: " + label));
    }

    @Override
    public String toString() {
        return label;
    }

    /** Maps the catalog's text to this type in the generated jOOQ classes. */
    public static final class Converter extends AbstractConverter<String, State> {

        private static final long serialVersionUID = 1L;

        public Converter() {
            super(String.class, State.class);
        }

        @Override
        public State from(String label) {
            return label == null ? null : State.of(label);
        }

        @Override
        public String to(State state) {
            return state == null ? null : state.label;
        }
    }
}
