package kit.app;

import org.jooq.Table;
import org.jooq.TableField;

/**
 * The check every store's builder makes: a column named for a role (the email written, the
 * email read) must be a column of the table given for that side, so that a write table's
 * column passed where the read table's belongs, or a missing one, stops the app at start with
 * a sentence instead of querying the wrong table.
 */
final class TableColumns {

    private TableColumns() {
    }

    static <T> TableField<?, T> of(Table<?> table, TableField<?, T> column, String role) {
        if (table == null) {
            throw new IllegalStateException("No table given for " + role);
        }
        if (column == null) {
            throw new IllegalStateException("No column given for " + role + " (Table: " + table.getName() + ")");
        }
        if (!column.getTable().getQualifiedName().equals(table.getQualifiedName())) {
            throw new IllegalArgumentException("The column for " + role + " is not in its table (Column: "
                    + column.getTable().getName() + "." + column.getName() + ", Table: " + table.getName() + ")");
        }
        return column;
    }
}
