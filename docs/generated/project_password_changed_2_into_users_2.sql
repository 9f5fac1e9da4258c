-- What the kit generates for the example at schema version 3: kit.projection_sql(write_table => 'password_changed_2', read_table => 'users_2', key_column => 'user_id', target => 'users_2')
-- (rendered by GeneratedCodeIsCheckedInTest, which checks this file; do not edit)
CREATE OR REPLACE FUNCTION public.project_password_changed_2_into_users_2(from_seq bigint, to_seq bigint)
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

    UPDATE public.users_2 AS r
       SET password_hash = f.password_hash, last_fact_seq = f.seq
      FROM (SELECT DISTINCT ON (u.user_id) u.* FROM (SELECT * FROM public.password_changed_2 WHERE seq > $1 AND seq <= $2 ORDER BY seq) AS u ORDER BY u.user_id, u.seq DESC) AS f
     WHERE r.id = f.user_id AND r.last_fact_seq < f.seq;
    GET DIAGNOSTICS _applied = ROW_COUNT;
END
$body$;
REVOKE EXECUTE ON FUNCTION public.project_password_changed_2_into_users_2(bigint, bigint) FROM PUBLIC;
