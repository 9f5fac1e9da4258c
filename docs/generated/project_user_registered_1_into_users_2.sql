-- What the kit generates for the example at schema version 3: kit.projection_sql(write_table => 'user_registered_1', read_table => 'users_2', key_column => NULL, target => 'users_2')
-- (rendered by GeneratedCodeIsCheckedInTest, which checks this file; do not edit)
CREATE OR REPLACE FUNCTION public.project_user_registered_1_into_users_2(from_seq bigint, to_seq bigint)
RETURNS void
LANGUAGE plpgsql STRICT
SET "DateStyle" = 'ISO, MDY'
SET "IntervalStyle" = 'postgres'
SET "TimeZone" = 'UTC'
SET extra_float_digits = '1'
SET standard_conforming_strings = 'on'
SET transform_null_equals = 'off'
AS $body$
DECLARE
    _fact_count  bigint;
    _applied     bigint;
    _missing     text;
    _missing_seq bigint;
BEGIN

    INSERT INTO public.users_2 (id, email, password_hash, username, last_fact_seq, first_fact_seq)
    SELECT f.id, f.email, f.password_hash, f.username, f.seq, f.seq FROM (SELECT * FROM public.user_registered_1 WHERE seq > $1 AND seq <= $2 ORDER BY seq) AS f;
END
$body$;
REVOKE EXECUTE ON FUNCTION public.project_user_registered_1_into_users_2(bigint, bigint) FROM PUBLIC;
