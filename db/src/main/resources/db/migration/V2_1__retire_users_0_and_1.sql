-- Tidy-up after version 2: no server reads users_0 or users_1 any more.
-- Retires schema versions 0 and 1. Refuses (SQLSTATE KT005) while an app-v0 or
-- app-v1 server is connected; stop them and run the migration again.
-- Write tables user_registered_0 and user_registered_1 stay: facts are kept.

SELECT kit.retire_read_version('users_0');
SELECT kit.retire_read_version('users_1');
