package kit.client;

import org.jooq.Name;
import org.jooq.impl.DSL;

/**
 * A table as the kit names it (kit.kit_name): its name alone in schema public, {@code schema.name}
 * in any other schema, each schema a domain of its own. The catalog, the kit's messages and the
 * kit command use these names; {@link #sql} turns one into a quoted, schema-qualified name.
 */
public record KitName(String domain, String table) {

    /** The domain of the names without a schema. */
    public static final String PUBLIC = "public";

    /** Reads a kit name: {@code users_0} is public's, {@code shop.orders} shop's. */
    public static KitName of(String kitName) {
        int dot = kitName.indexOf('.');
        return dot < 0 ? new KitName(PUBLIC, kitName) : new KitName(kitName.substring(0, dot), kitName.substring(dot + 1));
    }

    /** The table as SQL: {@code "shop"."orders"}. */
    public Name sql() {
        return DSL.name(domain, table);
    }

    @Override
    public String toString() {
        return PUBLIC.equals(domain) ? table : domain + "." + table;
    }
}
