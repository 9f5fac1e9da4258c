-- Schema version 1: users have a username. Old facts have none (NULL);
-- app-v1 and later require one for new registrations.
-- A v1 registration also reaches users_0 (without its username), so an
-- app-v0 server can log that user in during the rolling upgrade.

CREATE TABLE user_registered_1 (
    id            bigint NOT NULL,
    email         text NOT NULL,
    password_hash text NOT NULL,
    username      text
);
SELECT kit.create_write_table('user_registered_1', id_space => 'user');

CREATE TABLE users_1 (
    id            bigint PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    username      text
);
SELECT kit.create_read_version('users_1', entity => 'user');
SELECT kit.add_feed('user_registered_0', 'users_1');
SELECT kit.add_feed('user_registered_1', 'users_1');

SELECT kit.add_feed('user_registered_1', 'users_0');

SELECT kit.create_schema_version(1, ARRAY['users_1']);
SELECT kit.create_app_role(1);
