-- What the kit generates for the example at schema version 3: kit.claim_id_sql('user')
-- (rendered by GeneratedCodeIsCheckedInTest, which checks this file; do not edit)
CREATE OR REPLACE FUNCTION kit.accept_user_id()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    IF current_setting('session_replication_role') = 'replica' THEN
        PERFORM kit.take_replicated_ids('user', kit.kit_name(TG_TABLE_SCHEMA, TG_TABLE_NAME), NEW.id, NEW.seq);
    ELSE
        PERFORM kit.claim_explicit_id('user', kit.kit_name(TG_TABLE_SCHEMA, TG_TABLE_NAME), NEW.id);
    END IF;
    RETURN NEW;
END
$body$;
REVOKE EXECUTE ON FUNCTION kit.accept_user_id() FROM PUBLIC;
