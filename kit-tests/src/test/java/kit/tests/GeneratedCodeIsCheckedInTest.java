package kit.tests;

import kit.testing.TestDatabase;
import kit.testing.TestDatabases;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static kit.client.Jdbc.rows;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The code the kit generates for the example at schema version 3 (its feed triggers, projections, id
 * assigners and id claimers) is checked in under {@code docs/generated/}, one file per object, as the
 * kit's generators render it on a database migrated to V3: a reader sees what a migration makes, and a
 * change to a generator shows in review as a change to these files. To refresh them after changing a
 * generator: {@value #REFRESH}.
 */
class GeneratedCodeIsCheckedInTest {

    static final String REFRESH = "./run mvn verify -pl kit-tests -am -Dtest=GeneratedCodeIsCheckedInTest"
            + " -Dsurefire.failIfNoSpecifiedTests=false -Dkit.generated.refresh=true";

    static final Path GENERATED = Path.of("..", "docs", "generated");

    /** Each object the kit generates: its name, the generator call that renders it, and the code. */
    static final String OBJECTS = """
            SELECT kit.object_name('id_space', s.id_space) AS name,
                   format('kit.assign_id_sql(%L, %L)', s.id_space, s.id_sequence) AS generator, g.create_sql AS code,
                   g.body, g.function_name
              FROM (SELECT w.id_space, min(w.id_sequence) AS id_sequence FROM kit.write_table w GROUP BY w.id_space) s
             CROSS JOIN LATERAL kit.assign_id_sql(s.id_space, s.id_sequence) g
            UNION ALL
            SELECT kit.object_name('id_claimer', s.id_space), format('kit.claim_id_sql(%L)', s.id_space), g.create_sql,
                   g.body, g.function_name
              FROM (SELECT DISTINCT w.id_space FROM kit.write_table w) s
             CROSS JOIN LATERAL kit.claim_id_sql(s.id_space) g
            UNION ALL
            SELECT f.projection,
                   format('kit.projection_sql(write_table => %L, read_table => %L, key_column => %L, target => %L)',
                          f.write_table, f.read_table, f.key_column, f.read_table),
                   g.create_sql, g.body, g.function_name
              FROM kit.feed f JOIN kit.read_version v ON v.read_table = f.read_table AND v.state = 'live'
             CROSS JOIN LATERAL kit.projection_sql(write_table => f.write_table, read_table => f.read_table,
                                                   key_column => f.key_column, target => f.read_table) g
            UNION ALL
            SELECT kit.object_name('feed', w.write_table), format('kit.feed_trigger_sql(%L)', w.write_table),
                   g.create_sql || g.trigger_sql, g.body, g.function_name
              FROM kit.write_table w
             CROSS JOIN LATERAL kit.feed_trigger_sql(w.write_table) g
             WHERE g.create_sql IS NOT NULL
             ORDER BY 1""";

    @Test
    void theCodeTheKitGeneratesForTheExampleAtVersion3IsInDocsGenerated() throws Exception {
        TestDatabase db = TestDatabases.migratedTo("3");
        Map<String, String> rendered = new TreeMap<>();
        try (Connection c = db.connect()) {
            for (var object : rows(c, OBJECTS)) {
                String name = (String) object.get("name");
                assertThat(rows(c, "SELECT p.prosrc FROM pg_proc p WHERE p.oid = to_regprocedure(?)", object.get("function_name")))
                        .as("%s in the database, as its generator renders it", name)
                        .singleElement().satisfies(p -> assertThat(p.get("prosrc")).isEqualTo(object.get("body")));
                rendered.put(name + ".sql", """
                        -- What the kit generates for the example at schema version 3: %s
                        -- (rendered by GeneratedCodeIsCheckedInTest, which checks this file; do not edit)
                        %s""".formatted(object.get("generator"), object.get("code")));
            }
        }
        assertThat(rendered).as("generated objects").containsKeys(
                "feed_user_registered_1.sql", "project_user_registered_1_into_users_2.sql", "assign_user_id.sql", "accept_user_id.sql");
        if (Boolean.getBoolean("kit.generated.refresh")) {
            Files.createDirectories(GENERATED);
            for (String old : checkedIn().keySet()) {
                Files.delete(GENERATED.resolve(old));
            }
            for (var file : rendered.entrySet()) {
                Files.writeString(GENERATED.resolve(file.getKey()), file.getValue());
            }
        }
        assertThat(checkedIn()).as("docs/generated/*.sql differs from what the kit generates for the example at V3; "
                + "if the generator's change is meant, refresh them with: " + REFRESH).isEqualTo(rendered);
    }

    private static Map<String, String> checkedIn() throws IOException {
        Map<String, String> files = new TreeMap<>();
        if (!Files.isDirectory(GENERATED)) {
            return files;
        }
        try (Stream<Path> paths = Files.list(GENERATED)) {
            for (Path p : paths.filter(p -> p.getFileName().toString().endsWith(".sql")).toList()) {
                files.put(p.getFileName().toString(), Files.readString(p));
            }
        }
        return files;
    }
}
