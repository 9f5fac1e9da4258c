package kit.app;

import org.jooq.Record;
import org.jooq.SQLDialect;
import org.jooq.TableField;
import org.jooq.impl.DSL;
import org.jooq.impl.SQLDataType;
import org.jooq.impl.TableImpl;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A version's stores are described by name, and a description that names a column of the other
 * table, or leaves one out, stops the app at start with a sentence that names it, before any query.
 */
class StoresDescriptionTest {

    /** A table shaped like the generated ones (a TableImpl whose columns are TableFields). */
    static final class UserTable extends TableImpl<Record> {
        private static final long serialVersionUID = 1L;
        final TableField<Record, Long> ID = createField(DSL.name("id"), SQLDataType.BIGINT, this, "");
        final TableField<Record, String> EMAIL = createField(DSL.name("email"), SQLDataType.CLOB, this, "");
        final TableField<Record, String> PASSWORD_HASH = createField(DSL.name("password_hash"), SQLDataType.CLOB, this, "");
        final TableField<Record, String> USERNAME = createField(DSL.name("username"), SQLDataType.CLOB, this, "");
        final TableField<Record, Long> MESSAGE_COUNT = createField(DSL.name("message_count"), SQLDataType.BIGINT, this, "");

        UserTable(String name) {
            super(DSL.name(name));
        }
    }

    static final UserTable REGISTERED = new UserTable("user_registered_1");
    static final UserTable USERS = new UserTable("users_1");

    @Test
    void aDescriptionByNameGivesTheVersionItsFeatures() {
        var users = JooqUsers.Schema.writes(REGISTERED).reads(USERS)
                .id(REGISTERED.ID, USERS.ID)
                .email(REGISTERED.EMAIL, USERS.EMAIL)
                .passwordHash(REGISTERED.PASSWORD_HASH, USERS.PASSWORD_HASH)
                .username(REGISTERED.USERNAME, USERS.USERNAME)
                .build();
        Api.Stores stores = Api.Stores.of(new JooqUsers(DSL.using(SQLDialect.POSTGRES), users));
        assertThat(stores.usernames()).isTrue();
        assertThat(stores.messageCounts()).as("a version that names no message count shows none").isFalse();
        assertThat(stores.passwordChanges()).isEmpty();
        assertThat(stores.messages()).isEmpty();
        assertThat(stores.deletions()).isEmpty();
    }

    @Test
    void aVersionWithoutUsernamesNamesNone() {
        var users = JooqUsers.Schema.writes(REGISTERED).reads(USERS)
                .id(REGISTERED.ID, USERS.ID)
                .email(REGISTERED.EMAIL, USERS.EMAIL)
                .passwordHash(REGISTERED.PASSWORD_HASH, USERS.PASSWORD_HASH)
                .build();
        assertThat(new JooqUsers(DSL.using(SQLDialect.POSTGRES), users).usernames()).isFalse();
    }

    @Test
    void aReadColumnGivenAsTheWrittenOneIsRefusedWithItsName() {
        var swapped = JooqUsers.Schema.writes(REGISTERED).reads(USERS)
                .id(REGISTERED.ID, USERS.ID)
                .email(USERS.EMAIL, REGISTERED.EMAIL)
                .passwordHash(REGISTERED.PASSWORD_HASH, USERS.PASSWORD_HASH);
        assertThatThrownBy(swapped::build).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("The column for the email written is not in its table (Column: users_1.email, Table: user_registered_1)");
    }

    @Test
    void aMissingColumnIsRefusedWithItsRole() {
        var missing = JooqUsers.Schema.writes(REGISTERED).reads(USERS)
                .id(REGISTERED.ID, USERS.ID)
                .email(REGISTERED.EMAIL, USERS.EMAIL);
        assertThatThrownBy(missing::build).isInstanceOf(IllegalStateException.class)
                .hasMessage("No column given for the password hash written (Table: user_registered_1)");
    }

    @Test
    void passwordChangesAreAFeatureNamedOnTheStores() {
        var changes = JooqPasswordChanges.Schema.writes(REGISTERED).userId(REGISTERED.ID).passwordHash(REGISTERED.PASSWORD_HASH).build();
        var users = JooqUsers.Schema.writes(REGISTERED).reads(USERS)
                .id(REGISTERED.ID, USERS.ID)
                .email(REGISTERED.EMAIL, USERS.EMAIL)
                .passwordHash(REGISTERED.PASSWORD_HASH, USERS.PASSWORD_HASH)
                .build();
        var db = DSL.using(SQLDialect.POSTGRES);
        Api.Stores stores = Api.Stores.of(new JooqUsers(db, users)).withPasswordChanges(new JooqPasswordChanges(db, changes));
        assertThat(stores.passwordChanges()).isPresent();
        assertThat(stores.messages()).isEmpty();
    }

    @Test
    void deletionsAndMessageCountsAreFeaturesNamedOnTheStores() {
        var deletions = JooqDeletions.Schema.writes(REGISTERED).userId(REGISTERED.ID).build();
        var users = JooqUsers.Schema.writes(REGISTERED).reads(USERS)
                .id(REGISTERED.ID, USERS.ID)
                .email(REGISTERED.EMAIL, USERS.EMAIL)
                .passwordHash(REGISTERED.PASSWORD_HASH, USERS.PASSWORD_HASH)
                .messageCount(USERS.MESSAGE_COUNT)
                .build();
        var db = DSL.using(SQLDialect.POSTGRES);
        Api.Stores stores = Api.Stores.of(new JooqUsers(db, users)).withDeletions(new JooqDeletions(db, deletions));
        assertThat(stores.deletions()).isPresent();
        assertThat(stores.messageCounts()).isTrue();
        assertThat(stores.passwordChanges()).isEmpty();
    }

    @Test
    void aMessageCountOfTheWriteTableIsRefusedWithItsName() {
        var wrong = JooqUsers.Schema.writes(REGISTERED).reads(USERS)
                .id(REGISTERED.ID, USERS.ID)
                .email(REGISTERED.EMAIL, USERS.EMAIL)
                .passwordHash(REGISTERED.PASSWORD_HASH, USERS.PASSWORD_HASH)
                .messageCount(REGISTERED.MESSAGE_COUNT);
        assertThatThrownBy(wrong::build).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("The column for the message count read is not in its table (Column: user_registered_1.message_count, Table: users_1)");
    }
}
