package kit.app.v2;

import kit.app.Api;
import kit.app.App;
import kit.app.JooqPasswordChanges;
import kit.app.JooqUsers;
import org.jooq.DSLContext;

import static kit.schema.v2.Tables.PASSWORD_CHANGED;
import static kit.schema.v2.Tables.USERS;
import static kit.schema.v2.Tables.USER_REGISTERED;

/** app-v2: passwords can change (password_changed_2); reads users_2. */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        App.main(2, args, Main::stores);
    }

    public static Api.Stores stores(DSLContext db) {
        var users = new JooqUsers(db, new JooqUsers.Schema(
                USER_REGISTERED, USER_REGISTERED.ID, USER_REGISTERED.EMAIL, USER_REGISTERED.PASSWORD_HASH, USER_REGISTERED.USERNAME,
                USERS, USERS.ID, USERS.EMAIL, USERS.PASSWORD_HASH, USERS.USERNAME));
        var changes = new JooqPasswordChanges(db, PASSWORD_CHANGED, PASSWORD_CHANGED.USER_ID, PASSWORD_CHANGED.PASSWORD_HASH);
        return new Api.Stores(users, true, changes, null);
    }
}
