package kit.console;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TextTableTest {

    @Test
    void columnsArePaddedToTheirWidestCell() {
        String table = new TextTable("name", "n").row("a", 10).row("longer", null).render("  ");
        assertEquals("""
                  name    n
                  ------  --
                  a       10
                  longer  -
                """, table);
    }

    /** The benchmark's verdict column is empty when no figure has a target (./run bench --only 17). */
    @Test
    void aColumnEmptyInEveryRowIsRendered() {
        String table = new TextTable("figure", "").row("17", "").render("");
        assertEquals("""
                figure
                ------
                17
                """, table);
    }
}
