package kit.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The version of this kit: one number, the Maven project's, which the kit's build writes into
 * its install script (what {@code kit.version()} returns in a database it installed) and into
 * {@code kit/client/kit.properties} beside this class, read here. The jar's manifest says the
 * same (Implementation-Version).
 */
public final class KitVersion {

    private static final String CURRENT = load();

    private KitVersion() {
    }

    /** This kit's version, e.g. {@code 0.4.0}. */
    public static String current() {
        return CURRENT;
    }

    private static String load() {
        try (InputStream in = KitVersion.class.getResourceAsStream("kit.properties")) {
            if (in == null) {
                throw new IllegalStateException("kit/client/kit.properties is missing from the kit's jar");
            }
            Properties properties = new Properties();
            properties.load(in);
            String version = properties.getProperty("version", "");
            if (!version.matches("[0-9]+(\\.[0-9]+)*")) {
                throw new IllegalStateException("kit/client/kit.properties holds no version (" + version
                        + "): the kit's build writes it; build the kit module, do not read its sources");
            }
            return version;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
