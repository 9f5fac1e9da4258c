-- What the kit generates for the example at schema version 3: kit.feed_trigger_sql('user_registered_0')
-- (rendered by GeneratedCodeIsCheckedInTest, which checks this file; do not edit)
CREATE OR REPLACE FUNCTION public.feed_user_registered_0()
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
    -- project_user_registered_0_into_users_2
    INSERT INTO public.users_2 (id, email, password_hash, last_fact_seq, first_fact_seq)
    SELECT f.id, f.email, f.password_hash, f.seq, f.seq FROM new_rows AS f
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS _applied = ROW_COUNT;
    IF _applied < _fact_count THEN
        PERFORM kit.raise_rejected_insert('users_2', 'user_registered_0', (SELECT jsonb_agg(f) FROM new_rows AS f));
    END IF;
    RETURN NULL;
END
$body$;
REVOKE EXECUTE ON FUNCTION public.feed_user_registered_0() FROM PUBLIC;
CREATE TRIGGER feed_user_registered_0 AFTER INSERT ON public.user_registered_0 REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.feed_user_registered_0();
ALTER TABLE public.user_registered_0 ENABLE ALWAYS TRIGGER feed_user_registered_0;
