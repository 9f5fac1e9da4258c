package kit.client;

/**
 * How app roles are named: the prefix the migrations give {@code kit.create_app_role}
 * (setting {@code kit.app_role_prefix}) followed by the schema version, e.g. {@code kit_app_v2}.
 * The migrations record each role's name in {@code kit.app_role}.
 */
public final class AppRoles {

    /** The prefix when nobody sets one: kit_app_v0, kit_app_v1, ... */
    public static final String DEFAULT_PREFIX = "kit_app_v";

    private AppRoles() {
    }

    /**
     * The PostgreSQL start-up option that names the app roles a session's migrations create
     * {@code prefix + version}: the JDBC property {@code options}, e.g. Flyway's
     * {@code -Dflyway.jdbcProperties.options="-c kit.app_role_prefix=shop_v"}. A start-up option
     * rather than a {@code SET} run on connect, because Flyway 13 deprecates its {@code initSql}.
     */
    public static String prefixOption(String prefix) {
        return "-c kit.app_role_prefix=" + prefix;
    }

    /** The default role of app version {@code version}. */
    public static String defaultRole(int version) {
        return DEFAULT_PREFIX + version;
    }
}
