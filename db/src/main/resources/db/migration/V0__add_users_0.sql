-- Schema version 0: users register with an email and a password.
-- The kit itself (catalog and functions) is installed by its own Flyway
-- callbacks before every migrate (classpath:db/kit, the kit module).

CREATE TABLE user_registered_0 (
    id            bigint NOT NULL,
    email         text NOT NULL,
    password_hash text NOT NULL
);
SELECT kit.create_write_table('user_registered_0', id_space => 'user');

CREATE TABLE users_0 (
    id            bigint PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    password_hash text NOT NULL
);
SELECT kit.create_read_version('users_0', entity => 'user');
SELECT kit.add_feed('user_registered_0', 'users_0');

SELECT kit.create_schema_version(0, ARRAY['users_0']);
SELECT kit.create_app_role(0);
