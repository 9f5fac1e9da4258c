-- Schema version 3: users send each other messages. A message from or to an
-- unknown user is refused (SQLSTATE KT004). Apps of version 3 read users_2
-- and messages_3.

CREATE TABLE message_sent_3 (
    id      bigint NOT NULL,
    src_id  bigint NOT NULL,
    dst_id  bigint NOT NULL,
    content text NOT NULL
);
SELECT kit.create_write_table('message_sent_3', id_space => 'message');

CREATE TABLE messages_3 (
    id      bigint PRIMARY KEY,
    src_id  bigint NOT NULL,
    dst_id  bigint NOT NULL,
    content text NOT NULL
);
CREATE INDEX messages_3_dst_id_idx ON messages_3 (dst_id);
CREATE INDEX messages_3_src_id_idx ON messages_3 (src_id);
SELECT kit.create_read_version('messages_3', entity => 'message',
                               refs => '{"src_id": "users_2", "dst_id": "users_2"}');
SELECT kit.add_feed('message_sent_3', 'messages_3');

SELECT kit.create_schema_version(3, ARRAY['users_2', 'messages_3']);
SELECT kit.create_app_role(3);
