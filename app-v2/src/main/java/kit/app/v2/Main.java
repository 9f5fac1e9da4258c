package kit.app.v2;

import kit.app.Api;
import kit.app.App;
import kit.app.AppVersion;
import kit.app.JooqPasswordChanges;
import kit.app.JooqUsers;
import org.jooq.DSLContext;

import static kit.schema.v2.Tables.PASSWORD_CHANGED;
import static kit.schema.v2.Tables.USERS;
import static kit.schema.v2.Tables.USER_REGISTERED;

/** app-v2: passwords can change (password_changed_2); reads users_2. */
public final class Main implements AppVersion {

    public static void main(String[] args) {
        App.main(new Main(), args);
    }

    @Override
    public int number() {
        return 2;
    }

    @Override
    public Api.Stores stores(DSLContext db) {
        var users = JooqUsers.Schema.writes(USER_REGISTERED).reads(USERS)
                .id(USER_REGISTERED.ID, USERS.ID)
                .email(USER_REGISTERED.EMAIL, USERS.EMAIL)
                .passwordHash(USER_REGISTERED.PASSWORD_HASH, USERS.PASSWORD_HASH)
                .username(USER_REGISTERED.USERNAME, USERS.USERNAME)
                .build();
        var passwordChanges = JooqPasswordChanges.Schema.writes(PASSWORD_CHANGED)
                .userId(PASSWORD_CHANGED.USER_ID)
                .passwordHash(PASSWORD_CHANGED.PASSWORD_HASH)
                .build();
        return Api.Stores.of(new JooqUsers(db, users))
                .withPasswordChanges(new JooqPasswordChanges(db, passwordChanges));
    }
}
