-- Schema version 4: users can be deleted, and a user's row says more.
-- users_4 stores the email lower-cased, gives every user a username (derived
-- from the email for those who registered before usernames existed) and
-- counts the messages each user sent. A deletion (user_deleted_4) removes the
-- user from every live read version of users, users_2 as well as users_4, so
-- that no server of any version lets a deleted user log in; a message from or
-- to a deleted user is refused (SQLSTATE KT004), as for an unknown one.
-- Apps of version 4 read users_4 and messages_3.
-- Its email rule is stricter than users_2's: two users whose emails differ
-- only in case (Ann@x.org, ann@x.org), which versions 0 to 3 accepted, break
-- it, so the backfill of users_4 stops at the second one with the rule's
-- error and version 4 does not go live on such a history until a new read
-- version says what to do with them.

CREATE TABLE user_deleted_4 (
    id      bigint NOT NULL,
    user_id bigint NOT NULL
);
SELECT kit.create_write_table('user_deleted_4', id_space => 'user_deletion');

CREATE TABLE users_4 (
    id            bigint PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    username      text NOT NULL,
    message_count bigint NOT NULL DEFAULT 0
);
SELECT kit.create_read_version('users_4', entity => 'user');
SELECT kit.add_feed('user_registered_0', 'users_4',
                    columns => '{"email": "lower(f.email)", "username": "split_part(f.email, ''@'', 1)"}');
SELECT kit.add_feed('user_registered_1', 'users_4',
                    columns => '{"email": "lower(f.email)", "username": "coalesce(f.username, split_part(f.email, ''@'', 1))"}');
SELECT kit.add_feed('password_changed_2', 'users_4', key_column => 'user_id');
SELECT kit.add_feed('message_sent_3', 'users_4', key_column => 'src_id', kind => 'accumulate',
                    columns => '{"message_count": "1"}');
SELECT kit.add_feed('user_deleted_4', 'users_4', key_column => 'user_id', kind => 'delete');

SELECT kit.add_feed('user_deleted_4', 'users_2', key_column => 'user_id', kind => 'delete');

SELECT kit.create_schema_version(4, ARRAY['users_4', 'messages_3']);
SELECT kit.create_app_role(4);
