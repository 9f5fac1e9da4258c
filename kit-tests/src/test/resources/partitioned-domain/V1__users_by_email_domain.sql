-- Schema version 1: a new read version of the same facts, with each email's domain,
-- backfilled from every partition by the afterMigrate callback while version 0 writes on.
CREATE TABLE users_1 (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, email_domain text NOT NULL);
SELECT kit.create_read_version('users_1', 'user');
SELECT kit.add_feed('user_registered_0', 'users_1', columns => '{"email_domain": "split_part(f.email, ''@'', 2)"}');

SELECT kit.create_schema_version(1, ARRAY['users_1']);
SELECT kit.create_app_role(1);
