-- A test domain whose write table is partitioned by seq range (PartitionedWriteTablesTest),
-- in its own schema (Flyway's defaultSchema = parts). Ten seqs a partition, so that a few
-- dozen facts lie in several partitions.

-- Schema version 0: users register; users_0 reads them.
CREATE TABLE user_registered_0 (id bigint, email text NOT NULL, password_hash text NOT NULL,
                                seq bigint, recorded_at timestamptz) PARTITION BY RANGE (seq);
SELECT kit.create_write_table('user_registered_0', 'user', partition_size => 10);

CREATE TABLE users_0 (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, password_hash text NOT NULL);
SELECT kit.create_read_version('users_0', 'user');
SELECT kit.add_feed('user_registered_0', 'users_0');

SELECT kit.create_schema_version(0, ARRAY['users_0']);
SELECT kit.create_app_role(0);
