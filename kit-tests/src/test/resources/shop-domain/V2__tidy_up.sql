-- The shop's tidy-up: no app of version 0 is left, so its read table goes.
SELECT kit.retire_read_version('orders');
