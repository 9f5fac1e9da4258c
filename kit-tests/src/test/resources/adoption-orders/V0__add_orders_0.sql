-- Another project's first version, written against the kit: orders.
CREATE TABLE order_placed_0 (
    id          bigint NOT NULL,
    customer    text NOT NULL,
    total_cents bigint NOT NULL
);
SELECT kit.create_write_table('order_placed_0', id_space => 'order');

CREATE TABLE orders_0 (
    id          bigint PRIMARY KEY,
    customer    text NOT NULL,
    total_cents bigint NOT NULL,
    shipped_on  date
);
SELECT kit.create_read_version('orders_0', entity => 'order');
SELECT kit.add_feed('order_placed_0', 'orders_0');

SELECT kit.create_schema_version(0, ARRAY['orders_0']);
