-- The tidy-up: no app of version 0 is left, so its read table goes; the facts stay.
SELECT kit.retire_read_version('users_0');
