-- The shop: a test domain unlike the example, in its own schema (Flyway's
-- defaultSchema = shop, so every name here is unqualified and lands in shop),
-- next to the example in public. Names are free: versions and facts are
-- declared, not read from a _N suffix; one write table is mixed case.

-- Schema version 0: orders placed and shipped.
CREATE TABLE order_placed (id bigint, customer text NOT NULL, total_cents bigint NOT NULL CHECK (total_cents >= 0));
SELECT kit.create_write_table('order_placed', 'order', fact => 'order_placed', schema_version => 0);

CREATE TABLE "OrderShipped" (id bigint, order_id bigint NOT NULL, shipped_on date NOT NULL);
SELECT kit.create_write_table('OrderShipped', 'shipment', fact => 'order_shipped', schema_version => 0);

CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL, total_cents bigint NOT NULL, shipped_on date);
SELECT kit.create_read_version('orders', 'order');
SELECT kit.add_feed('order_placed', 'orders');
SELECT kit.add_feed('OrderShipped', 'orders', key_column => 'order_id');

SELECT kit.create_schema_version(0, ARRAY['orders']);
SELECT kit.create_app_role(0);
