-- Step 4.1: a user can be forgotten. Declares which columns of the facts
-- about a user hold personal data, and what kit.forget writes in their place:
-- an email that keeps users_N's email NOT NULL UNIQUE, a password hash that
-- no password matches, no username (users_4 then derives one from the
-- redacted email), and the text of the messages the user sent. Version 4's
-- apps may forget (DELETE /users/{id}?forget=true): its role joins the forget
-- role. Changes no table and no read row; safe beside apps of every version.

SELECT kit.declare_personal_data('user_registered_0',
    '{"email": "''forgotten-'' || f.id || ''@invalid''", "password_hash": "''!''"}');
SELECT kit.declare_personal_data('user_registered_1',
    '{"email": "''forgotten-'' || f.id || ''@invalid''", "password_hash": "''!''", "username": "NULL"}');
SELECT kit.declare_personal_data('password_changed_2', '{"password_hash": "''!''"}',
    entity => 'user', entity_column => 'user_id');
SELECT kit.declare_personal_data('message_sent_3', '{"content": "''(forgotten)''"}',
    entity => 'user', entity_column => 'src_id');

SELECT kit.grant_forget(4);
