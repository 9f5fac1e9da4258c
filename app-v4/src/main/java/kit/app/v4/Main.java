package kit.app.v4;

import kit.app.Api;
import kit.app.App;
import kit.app.AppVersion;
import kit.app.JooqDeletions;
import kit.app.JooqMessages;
import kit.app.JooqPasswordChanges;
import kit.app.JooqUsers;
import org.jooq.DSLContext;

import static kit.schema.v4.Tables.MESSAGES;
import static kit.schema.v4.Tables.MESSAGE_SENT;
import static kit.schema.v4.Tables.PASSWORD_CHANGED;
import static kit.schema.v4.Tables.USERS;
import static kit.schema.v4.Tables.USER_DELETED;
import static kit.schema.v4.Tables.USER_REGISTERED;

/**
 * app-v4: users can be deleted (user_deleted_4), and a user is shown with the number of
 * messages they sent; reads users_4 and messages_3.
 */
public final class Main implements AppVersion {

    public static void main(String[] args) {
        App.main(new Main(), args);
    }

    @Override
    public int number() {
        return 4;
    }

    @Override
    public Api.Stores stores(DSLContext db) {
        var users = JooqUsers.Schema.writes(USER_REGISTERED).reads(USERS)
                .id(USER_REGISTERED.ID, USERS.ID)
                .email(USER_REGISTERED.EMAIL, USERS.EMAIL)
                .passwordHash(USER_REGISTERED.PASSWORD_HASH, USERS.PASSWORD_HASH)
                .username(USER_REGISTERED.USERNAME, USERS.USERNAME)
                .messageCount(USERS.MESSAGE_COUNT)
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
        var deletions = JooqDeletions.Schema.writes(USER_DELETED)
                .userId(USER_DELETED.USER_ID)
                .build();
        return Api.Stores.of(new JooqUsers(db, users))
                .withPasswordChanges(new JooqPasswordChanges(db, passwordChanges))
                .withMessages(new JooqMessages(db, messages))
                .withDeletions(new JooqDeletions(db, deletions));
    }
}
