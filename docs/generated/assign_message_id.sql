-- What the kit generates for the example at schema version 3: kit.assign_id_sql('message', 'kit.message_id_seq')
-- (rendered by GeneratedCodeIsCheckedInTest, which checks this file; do not edit)
CREATE OR REPLACE FUNCTION kit.assign_message_id()
RETURNS trigger
LANGUAGE plpgsql
AS $body$
BEGIN
    NEW.id := pg_catalog.nextval('kit.message_id_seq'::pg_catalog.regclass);
    RETURN NEW;
END
$body$;
REVOKE EXECUTE ON FUNCTION kit.assign_message_id() FROM PUBLIC;
