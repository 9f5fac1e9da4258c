-- Version 0 of a help desk: a ticket is opened. The kit is installed before this runs.
CREATE TABLE ticket_opened_0 (
    id        bigint NOT NULL,
    subject   text NOT NULL,
    opened_by text NOT NULL
);
SELECT kit.create_write_table('ticket_opened_0', id_space => 'ticket');

CREATE TABLE tickets_0 (
    id        bigint PRIMARY KEY,
    subject   text NOT NULL,
    opened_by text NOT NULL
);
SELECT kit.create_read_version('tickets_0', entity => 'ticket');
SELECT kit.add_feed('ticket_opened_0', 'tickets_0');

SELECT kit.create_schema_version(0, ARRAY['tickets_0']);
