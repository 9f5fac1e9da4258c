package kit.client;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A PostgreSQL location as users write it: {@code jdbc:postgresql://host:port/db?user=u},
 * or the libpq form {@code postgresql://u@host:port/db}. Normalised to the JDBC form,
 * with a way to point at another database on the same server.
 */
public record DatabaseUrl(String hostAndPort, String database, String query) {

    /** The environment variable that names the database, for the apps, the kit command and the tests. */
    public static final String VARIABLE = "KIT_DB_URL";

    /** Where the apps and the kit command go without a URL: a local PostgreSQL, as on the development machines. */
    public static final String LOCAL_DEFAULT = "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres";

    private static final Pattern FORM = Pattern.compile(
            "^(?:jdbc:)?postgres(?:ql)?://(?:([^@/]+)@)?([^/?]+)(?:/([^?]*))?(?:\\?(.*))?$");

    public static DatabaseUrl parse(String url) {
        Matcher m = FORM.matcher(url.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException(
                    "Not a PostgreSQL URL: " + url + " (expected jdbc:postgresql://host:port/database?user=name)");
        }
        String query = m.group(4) == null ? "" : m.group(4);
        if (m.group(1) != null) {
            String[] userInfo = m.group(1).split(":", 2);
            String credentials = "user=" + userInfo[0] + (userInfo.length > 1 ? "&password=" + userInfo[1] : "");
            query = query.isEmpty() ? credentials : credentials + "&" + query;
        }
        String database = m.group(3) == null || m.group(3).isEmpty() ? "postgres" : m.group(3);
        return new DatabaseUrl(m.group(2), database, query);
    }

    public DatabaseUrl withDatabase(String other) {
        return new DatabaseUrl(hostAndPort, other, query);
    }

    /** The same URL with one more connection property, e.g. applicationName. */
    public DatabaseUrl with(String property, String value) {
        String pair = property + "=" + value;
        return new DatabaseUrl(hostAndPort, database, query.isEmpty() ? pair : query + "&" + pair);
    }

    public String jdbc() {
        return "jdbc:postgresql://" + hostAndPort + "/" + database + (query.isEmpty() ? "" : "?" + query);
    }

    @Override
    public String toString() {
        return jdbc().replaceAll("password=[^&]*", "password=***");
    }
}
