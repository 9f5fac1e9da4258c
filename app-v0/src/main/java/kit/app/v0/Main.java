package kit.app.v0;

import kit.app.Api;
import kit.app.App;
import kit.app.AppVersion;
import kit.app.JooqUsers;
import org.jooq.DSLContext;

import static kit.schema.v0.Tables.USERS;
import static kit.schema.v0.Tables.USER_REGISTERED;

/** app-v0: users register with an email and a password (user_registered_0, users_0). */
public final class Main implements AppVersion {

    public static void main(String[] args) {
        App.main(new Main(), args);
    }

    @Override
    public int number() {
        return 0;
    }

    @Override
    public Api.Stores stores(DSLContext db) {
        var users = JooqUsers.Schema.writes(USER_REGISTERED).reads(USERS)
                .id(USER_REGISTERED.ID, USERS.ID)
                .email(USER_REGISTERED.EMAIL, USERS.EMAIL)
                .passwordHash(USER_REGISTERED.PASSWORD_HASH, USERS.PASSWORD_HASH)
                .build();
        return Api.Stores.of(new JooqUsers(db, users));
    }
}
