-- What the kit generates for the example at schema version 3: kit.feed_trigger_sql('message_sent_3')
-- (rendered by GeneratedCodeIsCheckedInTest, which checks this file; do not edit)
CREATE OR REPLACE FUNCTION public.feed_message_sent_3()
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
    -- project_message_sent_3_into_messages_3
    SELECT f.dst_id::text, f.seq INTO _missing, _missing_seq
      FROM new_rows AS f
     WHERE NOT EXISTS (SELECT FROM public.users_2 AS r
                        WHERE r.id = f.dst_id AND (r.first_fact_seq IS NULL OR r.first_fact_seq < f.seq))
     ORDER BY f.seq
     LIMIT 1;
    IF FOUND THEN
        PERFORM kit.raise_unknown_entity('users_2', 'user', 'message_sent_3', 'dst_id', _missing, _missing_seq);
    END IF;

    SELECT f.src_id::text, f.seq INTO _missing, _missing_seq
      FROM new_rows AS f
     WHERE NOT EXISTS (SELECT FROM public.users_2 AS r
                        WHERE r.id = f.src_id AND (r.first_fact_seq IS NULL OR r.first_fact_seq < f.seq))
     ORDER BY f.seq
     LIMIT 1;
    IF FOUND THEN
        PERFORM kit.raise_unknown_entity('users_2', 'user', 'message_sent_3', 'src_id', _missing, _missing_seq);
    END IF;

    INSERT INTO public.messages_3 (id, src_id, dst_id, content, last_fact_seq, first_fact_seq)
    SELECT f.id, f.src_id, f.dst_id, f.content, f.seq, f.seq FROM new_rows AS f
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS _applied = ROW_COUNT;
    IF _applied < _fact_count THEN
        PERFORM kit.raise_rejected_insert('messages_3', 'message_sent_3', (SELECT jsonb_agg(f) FROM new_rows AS f));
    END IF;
    RETURN NULL;
END
$body$;
REVOKE EXECUTE ON FUNCTION public.feed_message_sent_3() FROM PUBLIC;
CREATE TRIGGER feed_message_sent_3 AFTER INSERT ON public.message_sent_3 REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.feed_message_sent_3();
ALTER TABLE public.message_sent_3 ENABLE ALWAYS TRIGGER feed_message_sent_3;
