package kit.app.v3;

import kit.app.Api;
import kit.app.App;
import kit.app.AppVersion;
import kit.app.JooqMessages;
import kit.app.JooqPasswordChanges;
import kit.app.JooqUsers;
import org.jooq.DSLContext;

import static kit.schema.v3.Tables.MESSAGES;
import static kit.schema.v3.Tables.MESSAGE_SENT;
import static kit.schema.v3.Tables.PASSWORD_CHANGED;
import static kit.schema.v3.Tables.USERS;
import static kit.schema.v3.Tables.USER_REGISTERED;

/** app-v3: users send messages (message_sent_3, messages_3); reads users_2 and messages_3. */
public final class Main implements AppVersion {

    public static void main(String[] args) {
        App.main(new Main(), args);
    }

    @Override
    public int number() {
        return 3;
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
        var messages = JooqMessages.Schema.writes(MESSAGE_SENT).reads(MESSAGES)
                .id(MESSAGE_SENT.ID, MESSAGES.ID)
                .srcId(MESSAGE_SENT.SRC_ID, MESSAGES.SRC_ID)
                .dstId(MESSAGE_SENT.DST_ID, MESSAGES.DST_ID)
                .content(MESSAGE_SENT.CONTENT, MESSAGES.CONTENT)
                .build();
        return Api.Stores.of(new JooqUsers(db, users))
                .withPasswordChanges(new JooqPasswordChanges(db, passwordChanges))
                .withMessages(new JooqMessages(db, messages));
    }
}
