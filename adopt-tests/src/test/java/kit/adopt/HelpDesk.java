package kit.adopt;

import kit.client.Jdbc;
import kit.client.KitVersion;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a help desk migrated under the kit (docs/adopt's migrations, on the tests' classpath as
 * {@code classpath:db/migration}) must show, whoever ran Flyway: the kit installed, the domain's
 * schema versions live, and a fact written landing in the read tables.
 */
final class HelpDesk {

    private HelpDesk() {
    }

    /** The kit is this jar's, and schema versions 0 and 1 are live (what an app's start-up gate reads). */
    static void assertMigrated(Connection c) throws SQLException {
        assertThat(Jdbc.single(c, "SELECT kit.version()")).isEqualTo(KitVersion.current());
        assertThat(Jdbc.single(c, "SELECT kit.schema_version_state(0)")).isEqualTo("live");
        assertThat(Jdbc.single(c, "SELECT kit.schema_version_state(1)")).isEqualTo("live");
        assertThat(Jdbc.single(c, "SELECT to_regclass('public.users_0') IS NULL")).as("nothing of the example").isEqualTo("t");
    }

    /** A ticket opened reaches both versions' read tables; its closing reaches tickets_1. */
    static void assertFactsLandInReadTables(Connection c) throws SQLException {
        long id = Jdbc.number(c, "INSERT INTO ticket_opened_0 (subject, opened_by) VALUES ('printer jammed', 'ann') RETURNING id");
        Jdbc.exec(c, "INSERT INTO ticket_closed_1 (ticket_id, resolution) VALUES (?, 'new toner')", id);
        assertThat(Jdbc.strings(c, "SELECT subject || ' by ' || opened_by FROM tickets_0 WHERE id = ?", id))
                .containsExactly("printer jammed by ann");
        assertThat(Jdbc.strings(c, "SELECT subject || ': ' || resolution FROM tickets_1 WHERE id = ?", id))
                .containsExactly("printer jammed: new toner");
    }

    /** Flyway's history, one line per applied step and when it was applied: unchanged by a run that applied nothing. */
    static List<String> history(Connection c) throws SQLException {
        return Jdbc.strings(c, "SELECT coalesce(version, '-') || ' ' || description || ' ' || installed_on || ' ' || success"
                + " FROM flyway_schema_history ORDER BY installed_rank");
    }
}
