package kit.app;

import org.jooq.DSLContext;

/**
 * One app version, described once: the schema version it runs against and what it can do,
 * wired by name from the jOOQ code generated for that version. Each {@code app-vN}'s
 * {@code Main} is one, and names itself in {@code META-INF/services/kit.app.AppVersion}, so
 * that whoever has the apps on the class path (the tests) finds every version without a list
 * of its own ({@link java.util.ServiceLoader}).
 */
public interface AppVersion {

    /** The schema version N of {@code app-vN}. */
    int number();

    /** The version's stores over {@code db}; builds no connection, so it also serves to ask what the version can do. */
    Api.Stores stores(DSLContext db);
}
