package kit.app.v1;

import kit.app.Api;
import kit.app.App;
import kit.app.AppVersion;
import kit.app.JooqUsers;
import org.jooq.DSLContext;

import static kit.schema.v1.Tables.USERS;
import static kit.schema.v1.Tables.USER_REGISTERED;

/** app-v1: registrations carry a username (user_registered_1, users_1). */
public final class Main implements AppVersion {

    public static void main(String[] args) {
        App.main(new Main(), args);
    }

    @Override
    public int number() {
        return 1;
    }

    @Override
    public Api.Stores stores(DSLContext db) {
        var users = JooqUsers.Schema.writes(USER_REGISTERED).reads(USERS)
                .id(USER_REGISTERED.ID, USERS.ID)
                .email(USER_REGISTERED.EMAIL, USERS.EMAIL)
                .passwordHash(USER_REGISTERED.PASSWORD_HASH, USERS.PASSWORD_HASH)
                .username(USER_REGISTERED.USERNAME, USERS.USERNAME)
                .build();
        return Api.Stores.of(new JooqUsers(db, users));
    }
}
