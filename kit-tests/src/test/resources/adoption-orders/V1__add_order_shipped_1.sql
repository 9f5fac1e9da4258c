-- Version 1: orders are shipped by a carrier. A shipment reaches orders_0
-- (its date) as well as orders_1 (date and carrier).
CREATE TABLE order_shipped_1 (
    id         bigint NOT NULL,
    order_id   bigint NOT NULL,
    shipped_on date NOT NULL,
    carrier    text NOT NULL
);
SELECT kit.create_write_table('order_shipped_1', id_space => 'shipment');

CREATE TABLE orders_1 (
    id          bigint PRIMARY KEY,
    customer    text NOT NULL,
    total_cents bigint NOT NULL,
    shipped_on  date,
    carrier     text
);
SELECT kit.create_read_version('orders_1', entity => 'order');
SELECT kit.add_feed('order_placed_0', 'orders_1');
SELECT kit.add_feed('order_shipped_1', 'orders_1', key_column => 'order_id');
SELECT kit.add_feed('order_shipped_1', 'orders_0', key_column => 'order_id');

SELECT kit.create_schema_version(1, ARRAY['orders_1']);
