-- What the kit generates for the example at schema version 3: kit.projection_sql(write_table => 'message_sent_3', read_table => 'messages_3', key_column => NULL, target => 'messages_3')
-- (rendered by GeneratedCodeIsCheckedInTest, which checks this file; do not edit)
CREATE OR REPLACE FUNCTION public.project_message_sent_3_into_messages_3(from_seq bigint, to_seq bigint)
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

    INSERT INTO public.messages_3 (id, src_id, dst_id, content, last_fact_seq, first_fact_seq)
    SELECT f.id, f.src_id, f.dst_id, f.content, f.seq, f.seq FROM (SELECT * FROM public.message_sent_3 WHERE seq > $1 AND seq <= $2 ORDER BY seq) AS f;
END
$body$;
REVOKE EXECUTE ON FUNCTION public.project_message_sent_3_into_messages_3(bigint, bigint) FROM PUBLIC;
