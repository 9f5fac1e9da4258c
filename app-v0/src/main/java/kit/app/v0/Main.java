package kit.app.v0;

import kit.app.Api;
import kit.app.App;
import kit.app.JooqUsers;
import org.jooq.DSLContext;

import static kit.schema.v0.Tables.USERS;
import static kit.schema.v0.Tables.USER_REGISTERED;

/** app-v0: users register with an email and a password (user_registered_0, users_0). */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        App.main(0, args, Main::stores);
    }

    public static Api.Stores stores(DSLContext db) {
        var users = new JooqUsers(db, new JooqUsers.Schema(
                USER_REGISTERED, USER_REGISTERED.ID, USER_REGISTERED.EMAIL, USER_REGISTERED.PASSWORD_HASH, null,
                USERS, USERS.ID, USERS.EMAIL, USERS.PASSWORD_HASH, null));
        return new Api.Stores(users, false, null, null);
    }
}
