package kit.it;

import kit.app.App;
import kit.app.AppConfig;
import kit.testing.TestDatabase;
import kit.testing.TestDatabases;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;

/** An app version started in-process on a free port against a test database, for HTTP tests. */
public final class RunningApp implements AutoCloseable {

    public final int version;
    public final TestDatabase db;
    final App app;
    final Http http = new Http();

    public RunningApp(int version, TestDatabase db) throws Exception {
        this.version = version;
        this.db = db;
        this.app = App.start(config(version, db), AppVersions.of(version)::stores);
    }

    public static AppConfig config(int version, TestDatabase db) {
        return new AppConfig(version, "127.0.0.1", 0, db.url(), TestDatabases.rolePrefix() + version, 4, 1000, 65536, "warn");
    }

    public String url(String path) {
        return "http://127.0.0.1:" + app.port() + path;
    }

    public Http.Result post(String path, Map<String, ?> body) {
        return http.post(url(path), body);
    }

    public Http.Result put(String path, Map<String, ?> body) {
        return http.put(url(path), body);
    }

    public Http.Result get(String path) {
        return http.get(url(path));
    }

    public Http.Result delete(String path) {
        return http.delete(url(path));
    }

    public Http.Result raw(String method, String path, String body) {
        return http.send(method, url(path), body);
    }

    /** A registration body valid for this version. */
    public Map<String, Object> registration(String email, String password) {
        return !AppVersions.features(version).usernames() ? Map.of("email", email, "password", password)
                : Map.of("email", email, "password", password, "username", email.substring(0, email.indexOf('@')));
    }

    public long register(String email, String password) {
        Http.Result r = post("/users", registration(email, password));
        if (r.status() != 201) {
            throw new AssertionError("registration of " + email + " got " + r.status() + " " + r.body());
        }
        return r.json().get("id").asLong();
    }

    /** Every fact in every write table of the database: what a request must not leave behind when it fails. */
    public long facts() throws Exception {
        try (Connection c = db.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("""
                     SELECT coalesce(sum((xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM public.%I', write_table),
                            false, true, '')))[1]::text::bigint), 0) FROM kit.write_table""")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Override
    public void close() {
        app.close();
    }
}
