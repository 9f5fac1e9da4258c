package kit.example;

/**
 * Where the example domain's migrations are, for the programs and tests that migrate it from
 * Java (the demo, the benchmarks, the app builds' code generation, the test fixtures). The kit
 * knows no default: every caller of {@code kit.client.Migrations} names its own domain.
 */
public final class ExampleMigrations {

    /** The example's steps, V0 to V3 and the tidy-up V2_1, in this module's resources. */
    public static final String LOCATION = "classpath:db/migration";

    private ExampleMigrations() {
    }
}
