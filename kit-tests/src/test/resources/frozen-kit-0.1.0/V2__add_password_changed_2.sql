-- Schema version 2: passwords can change. A change reaches every live read
-- version that stores a password (users_0, users_1, users_2), so an old
-- server refuses the old password as soon as the change commits.

CREATE TABLE password_changed_2 (
    id            bigint NOT NULL,
    user_id       bigint NOT NULL,
    password_hash text NOT NULL
);
SELECT kit.create_write_table('password_changed_2', id_space => 'password_change');

CREATE TABLE users_2 (
    id            bigint PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    username      text
);
SELECT kit.create_read_version('users_2', entity => 'user');
SELECT kit.add_feed('user_registered_0', 'users_2');
SELECT kit.add_feed('user_registered_1', 'users_2');
SELECT kit.add_feed('password_changed_2', 'users_2', key_column => 'user_id');

SELECT kit.add_feed('password_changed_2', 'users_0', key_column => 'user_id');
SELECT kit.add_feed('password_changed_2', 'users_1', key_column => 'user_id');

SELECT kit.create_schema_version(2, ARRAY['users_2']);
SELECT kit.create_app_role(2);
