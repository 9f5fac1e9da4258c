-- Schema version 1: the order book, which also keeps the carrier of a
-- shipment; shipments of version 1 name it, those of version 0 set the date
-- alone.
CREATE TABLE shipment_sent (id bigint, order_id bigint NOT NULL, shipped_on date NOT NULL, carrier text NOT NULL);
SELECT kit.create_write_table('shipment_sent', 'shipment', fact => 'order_shipped', schema_version => 1);

CREATE TABLE order_book (id bigint PRIMARY KEY, customer text NOT NULL, total_cents bigint NOT NULL,
                         shipped_on date, carrier text);
SELECT kit.create_read_version('order_book', 'order');
SELECT kit.add_feed('order_placed', 'order_book');
SELECT kit.add_feed('OrderShipped', 'order_book', key_column => 'order_id');
SELECT kit.add_feed('shipment_sent', 'order_book', key_column => 'order_id');
SELECT kit.add_feed('shipment_sent', 'orders', key_column => 'order_id');

SELECT kit.create_schema_version(1, ARRAY['order_book']);
SELECT kit.create_app_role(1);
