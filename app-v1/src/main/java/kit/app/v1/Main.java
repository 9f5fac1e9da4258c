package kit.app.v1;

import kit.app.Api;
import kit.app.App;
import kit.app.JooqUsers;
import org.jooq.DSLContext;

import static kit.schema.v1.Tables.USERS;
import static kit.schema.v1.Tables.USER_REGISTERED;

/** app-v1: registrations carry a username (user_registered_1, users_1). */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        App.main(1, args, Main::stores);
    }

    public static Api.Stores stores(DSLContext db) {
        var users = new JooqUsers(db, new JooqUsers.Schema(
                USER_REGISTERED, USER_REGISTERED.ID, USER_REGISTERED.EMAIL, USER_REGISTERED.PASSWORD_HASH, USER_REGISTERED.USERNAME,
                USERS, USERS.ID, USERS.EMAIL, USERS.PASSWORD_HASH, USERS.USERNAME));
        return new Api.Stores(users, true, null, null);
    }
}
