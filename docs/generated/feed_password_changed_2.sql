-- What the kit generates for the example at schema version 3: kit.feed_trigger_sql('password_changed_2')
-- (rendered by GeneratedCodeIsCheckedInTest, which checks this file; do not edit)
CREATE OR REPLACE FUNCTION public.feed_password_changed_2()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET "DateStyle" = 'ISO, MDY'
SET "IntervalStyle" = 'postgres'
SET "TimeZone" = 'UTC'
SET extra_float_digits = '1'
SET standard_conforming_strings = 'on'
SET transform_null_equals = 'off'
AS $body$
DECLARE
    _fact_count  bigint := (SELECT count(*) FROM new_rows);
    _applied     bigint;
    _missing     text;
    _missing_seq bigint;
BEGIN
    -- project_password_changed_2_into_users_2
    UPDATE public.users_2 AS r
       SET password_hash = f.password_hash, last_fact_seq = f.seq
      FROM (SELECT DISTINCT ON (u.user_id) u.* FROM new_rows AS u ORDER BY u.user_id, u.seq DESC) AS f
     WHERE r.id = f.user_id AND r.last_fact_seq < f.seq;
    GET DIAGNOSTICS _applied = ROW_COUNT;
    IF _applied < _fact_count THEN
    SELECT f.user_id::text, f.seq INTO _missing, _missing_seq
      FROM new_rows AS f
     WHERE NOT EXISTS (SELECT FROM public.users_2 AS r
                        WHERE r.id = f.user_id AND (r.first_fact_seq IS NULL OR r.first_fact_seq < f.seq))
     ORDER BY f.seq
     LIMIT 1;
    IF FOUND THEN
        PERFORM kit.raise_unknown_entity('users_2', 'user', 'password_changed_2', 'user_id', _missing, _missing_seq);
    END IF;
    END IF;
    RETURN NULL;
END
$body$;
REVOKE EXECUTE ON FUNCTION public.feed_password_changed_2() FROM PUBLIC;
CREATE TRIGGER feed_password_changed_2 AFTER INSERT ON public.password_changed_2 REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.feed_password_changed_2();
ALTER TABLE public.password_changed_2 ENABLE ALWAYS TRIGGER feed_password_changed_2;
