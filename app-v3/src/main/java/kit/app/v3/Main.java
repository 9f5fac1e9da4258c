package kit.app.v3;

import kit.app.Api;
import kit.app.App;
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
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        App.main(3, args, Main::stores);
    }

    public static Api.Stores stores(DSLContext db) {
        var users = new JooqUsers(db, new JooqUsers.Schema(
                USER_REGISTERED, USER_REGISTERED.ID, USER_REGISTERED.EMAIL, USER_REGISTERED.PASSWORD_HASH, USER_REGISTERED.USERNAME,
                USERS, USERS.ID, USERS.EMAIL, USERS.PASSWORD_HASH, USERS.USERNAME));
        var changes = new JooqPasswordChanges(db, PASSWORD_CHANGED, PASSWORD_CHANGED.USER_ID, PASSWORD_CHANGED.PASSWORD_HASH);
        var messages = new JooqMessages(db, new JooqMessages.Schema(
                MESSAGE_SENT, MESSAGE_SENT.ID, MESSAGE_SENT.SRC_ID, MESSAGE_SENT.DST_ID, MESSAGE_SENT.CONTENT,
                MESSAGES, MESSAGES.ID, MESSAGES.SRC_ID, MESSAGES.DST_ID, MESSAGES.CONTENT));
        return new Api.Stores(users, true, changes, messages);
    }
}
