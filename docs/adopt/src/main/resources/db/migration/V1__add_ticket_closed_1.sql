-- Version 1: a ticket is closed with a resolution. tickets_1 shows it; tickets_0, which
-- version 0's apps still read, knows nothing of closing and stays as it was.
CREATE TABLE ticket_closed_1 (
    id         bigint NOT NULL,
    ticket_id  bigint NOT NULL,
    resolution text NOT NULL
);
SELECT kit.create_write_table('ticket_closed_1', id_space => 'ticket_closing');

CREATE TABLE tickets_1 (
    id         bigint PRIMARY KEY,
    subject    text NOT NULL,
    opened_by  text NOT NULL,
    resolution text
);
SELECT kit.create_read_version('tickets_1', entity => 'ticket');
SELECT kit.add_feed('ticket_opened_0', 'tickets_1');
SELECT kit.add_feed('ticket_closed_1', 'tickets_1', key_column => 'ticket_id');

SELECT kit.create_schema_version(1, ARRAY['tickets_1']);
