package kit.app;

import kit.app.HttpApp.Request;
import kit.app.HttpApp.Response;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The HTTP API of every app version (docs/reference.md, "The apps' HTTP API"): which routes exist
 * depends on what the version can do (usernames from v1, password changes from
 * v2, messages from v3, deletions and message counts from v4); the handlers are the same for all.
 */
public final class Api {

    static final Pattern EMAIL = Pattern.compile("[^@\\s]+@[^@\\s]+");
    static final Pattern USERNAME = Pattern.compile("[A-Za-z0-9_.-]+");
    static final int MIN_PASSWORD = 8;

    private final AppConfig config;
    private final Stores stores;
    /** The stores over the read replica's connections, or {@link #stores} without one. */
    private final Stores reads;
    private final ReadReplica replica;
    private final Passwords passwords;
    private final HealthCheck health;

    /**
     * What a version can do, named feature by feature: {@code Stores.of(users).withPasswordChanges(changes)}.
     * A feature a version does not name is absent, and its routes answer 404; a new feature is a new
     * {@code with...} method here, so the versions that lack it change nothing.
     */
    public static final class Stores {

        private final Users users;
        private final Optional<PasswordChanges> passwordChanges;
        private final Optional<Messages> messages;
        private final Optional<Deletions> deletions;

        private Stores(Users users, Optional<PasswordChanges> passwordChanges, Optional<Messages> messages,
                       Optional<Deletions> deletions) {
            this.users = Objects.requireNonNull(users, "users");
            this.passwordChanges = passwordChanges;
            this.messages = messages;
            this.deletions = deletions;
        }

        /** Every version has users: registration, log-in and reading a user. */
        public static Stores of(Users users) {
            return new Stores(users, Optional.empty(), Optional.empty(), Optional.empty());
        }

        /** Version 2 and later: {@code PUT /users/{id}/password}. */
        public Stores withPasswordChanges(PasswordChanges changes) {
            return new Stores(users, Optional.of(changes), messages, deletions);
        }

        /** Version 3 and later: {@code POST /messages} and {@code GET /users/{id}/messages}. */
        public Stores withMessages(Messages sent) {
            return new Stores(users, passwordChanges, Optional.of(sent), deletions);
        }

        /** Version 4 and later: {@code DELETE /users/{id}}. */
        public Stores withDeletions(Deletions deleted) {
            return new Stores(users, passwordChanges, messages, Optional.of(deleted));
        }

        public Users users() {
            return users;
        }

        /** Whether registrations carry a username (from the users' description: version 1 and later). */
        public boolean usernames() {
            return users.usernames();
        }

        public Optional<PasswordChanges> passwordChanges() {
            return passwordChanges;
        }

        public Optional<Messages> messages() {
            return messages;
        }

        public Optional<Deletions> deletions() {
            return deletions;
        }

        /** Whether a user is shown with the number of messages they sent (from the users' description: version 4 and later). */
        public boolean messageCounts() {
            return users.messageCounts();
        }
    }

    @FunctionalInterface
    public interface HealthCheck {
        String schemaState();
    }

    public Api(AppConfig config, Stores stores, Passwords passwords, HealthCheck health) {
        this(config, stores, stores, ReadReplica.NONE, passwords, health);
    }

    /** An API whose reads go to {@code reads}, over a replica that {@code replica} waits for. */
    public Api(AppConfig config, Stores stores, Stores reads, ReadReplica replica, Passwords passwords, HealthCheck health) {
        this.config = config;
        this.stores = stores;
        this.reads = reads;
        this.replica = replica;
        this.passwords = passwords;
        this.health = health;
    }

    public HttpApp routes(HttpApp app) {
        app.route("POST", "/users", this::register)
                .route("POST", "/sessions", this::logIn)
                .route("GET", "/users/([^/]+)", this::user)
                .route("GET", "/health", this::health);
        if (stores.passwordChanges().isPresent()) {
            app.route("PUT", "/users/([^/]+)/password", this::changePassword);
        }
        if (stores.messages().isPresent()) {
            app.route("POST", "/messages", this::sendMessage)
                    .route("GET", "/users/([^/]+)/messages", this::messages);
        }
        if (stores.deletions().isPresent()) {
            app.route("DELETE", "/users/([^/]+)", this::deleteUser);
        }
        return app;
    }

    private Response register(Request request) {
        JsonBody body = stores.usernames() ? request.json("email", "password", "username") : request.json("email", "password");
        String email = email(body);
        String password = password(body);
        String username = null;
        if (stores.usernames()) {
            username = body.string("username", 64);
            if (!USERNAME.matcher(username).matches()) {
                throw ApiException.badRequest("invalid_value", "Field username may hold only letters, digits, '_', '.' and '-'.");
            }
        }
        long id = stores.users().register(email, passwords.hash(password), username);
        // A new user has sent nothing yet: the count the read table will show is 0.
        return Response.created(user(new Users.User(id, email, username, null, stores.messageCounts() ? 0L : null)))
                .withHeader(ReadReplica.LSN_HEADER, replica.written());
    }

    private Response logIn(Request request) {
        JsonBody body = request.json("email", "password");
        String email = body.string("email", 254).trim().toLowerCase(Locale.ROOT);
        String password = body.string("password", 1000);
        replica.awaitPrimary();
        return reads.users().byEmail(email)
                .filter(u -> passwords.verify(password, u.passwordHash()))
                .map(u -> Response.ok(user(u)))
                .orElseThrow(() -> new ApiException(401, "invalid_credentials", "Wrong email or password."));
    }

    private Response user(Request request) {
        long id = request.id(0);
        replica.awaitWritesSeen(request.header(ReadReplica.LSN_HEADER));
        return reads.users().byId(id).map(u -> Response.ok(user(u)))
                .orElseThrow(() -> ApiException.notFound("not_found", "No user with id " + id + "."));
    }

    private Response changePassword(Request request) {
        long id = request.id(0);
        String password = password(request.json("password"));
        stores.passwordChanges().orElseThrow().record(id, passwords.hash(password));
        return Response.noContent().withHeader(ReadReplica.LSN_HEADER, replica.written());
    }

    /**
     * One fact; an unknown or already deleted user is the kit's KT004, answered 404 unknown_user.
     * With {@code ?forget=true} the user's personal data is erased too (kit.forget), in the same
     * transaction; a role the migrations did not let forget is answered 403 forget_not_granted.
     */
    private Response deleteUser(Request request) {
        long id = request.id(0);
        if (request.flag("forget")) {
            stores.deletions().orElseThrow().recordAndForget(id);
        } else {
            stores.deletions().orElseThrow().record(id);
        }
        return Response.noContent().withHeader(ReadReplica.LSN_HEADER, replica.written());
    }

    private Response sendMessage(Request request) {
        JsonBody body = request.json("src_id", "dst_id", "content");
        long src = body.id("src_id");
        long dst = body.id("dst_id");
        String content = body.string("content", 4000);
        return Response.created(message(stores.messages().orElseThrow().send(src, dst, content)))
                .withHeader(ReadReplica.LSN_HEADER, replica.written());
    }

    private Response messages(Request request) {
        long id = request.id(0);
        replica.awaitWritesSeen(request.header(ReadReplica.LSN_HEADER));
        if (reads.users().byId(id).isEmpty()) {
            throw ApiException.notFound("not_found", "No user with id " + id + ".");
        }
        List<Map<String, Object>> messages = reads.messages().orElseThrow().involving(id).stream().map(Api::message).toList();
        return Response.ok(messages);
    }

    private Response health(Request request) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("app", config.applicationName());
        body.put("version", config.version());
        String state = health.schemaState();
        body.put("schema_state", state);
        body.put("database", state == null ? "down" : "up");
        boolean replicaUp = true;
        if (replica.enabled()) {
            // Reads and log-ins need it: without it the app serves writes only, so it is not healthy.
            replicaUp = replica.reachable();
            body.put("replica", replicaUp ? "up" : "down");
        }
        return new Response(state == null || !replicaUp ? 503 : 200, body);
    }

    private static String email(JsonBody body) {
        String email = body.string("email", 254).trim().toLowerCase(Locale.ROOT);
        if (!EMAIL.matcher(email).matches()) {
            throw ApiException.badRequest("invalid_value", "Field email must be an email address.");
        }
        return email;
    }

    private static String password(JsonBody body) {
        String password = body.string("password", 1000);
        if (password.length() < MIN_PASSWORD) {
            throw ApiException.badRequest("invalid_value", "Field password must have at least " + MIN_PASSWORD + " characters.");
        }
        return password;
    }

    private Map<String, Object> user(Users.User u) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("id", u.id());
        body.put("email", u.email());
        if (stores.usernames()) {
            body.put("username", u.username());
        }
        if (stores.messageCounts()) {
            body.put("message_count", u.messageCount());
        }
        return body;
    }

    private static Map<String, Object> message(Messages.Message m) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("id", m.id());
        body.put("src_id", m.srcId());
        body.put("dst_id", m.dstId());
        body.put("content", m.content());
        return body;
    }
}
