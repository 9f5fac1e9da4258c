-- Kit script 05 superseded (run by Flyway before every migrate, after 00 begin).
--
-- The one part of an upgrade that must come before the scripts that define
-- the kit's functions: dropping those of an older kit whose signature
-- changed (PostgreSQL cannot CREATE OR REPLACE a function with another
-- result, and an overload left behind makes calls ambiguous) or that are
-- gone. Everything else an upgrade does, and the notes of each release, is
-- in beforeMigrate__kit_90_upgrade.sql. Each drop is decided by what the
-- database holds (IF EXISTS, or the old result), so it is right whatever
-- version the database says it has; with this kit's functions in place it
-- does nothing.

DO $$
DECLARE
    _function text;
BEGIN
    IF current_setting('kit.install_action') = 'install' THEN
        RETURN;
    END IF;
    FOREACH _function IN ARRAY ARRAY[
        -- 0.2.0: the kit's own module; ids from one sequence per id space. (kit.advance_id_sequence()
        -- goes with the last advance_ids trigger, in the 90 upgrade.)
        'kit.create_write_table(text, text)', 'kit.create_feed_trigger(text, text)',
        'kit.advance_id_sequence_past(regclass, bigint)', 'kit.next_id(regclass)',
        -- 0.3.0: the existence check takes the facts' FROM item.
        'kit.existence_check_sql(text, text, text, text)',
        -- 0.5.0: each generator returns one whole object (kit.function_object); the feed template is
        -- kit.feed_statements, with named rejections; drift compares bodies without parsing them.
        'kit.projection_sql(text, text, text, text)', 'kit.feed_trigger_sql(text)',
        'kit.feed_sql(text, text, text, text, text, boolean, boolean, text)',
        'kit.feed_sql(text, text, text, text, text, boolean, boolean, text, text)',
        'kit.function_body(text)',
        -- 0.6.0: retirement sees clients by role, not by application_name, and may ignore named
        -- sessions (and the 0.4.0 plan, without dependents, goes the same way).
        'kit.client_schema_version(text)', 'kit.retirement_plan(text)', 'kit.retire_read_version(text, text)',
        -- 0.6.0: a write table's fact and schema version are declared.
        'kit.create_write_table(text, text, bigint)',
        -- 0.7.0: a schema is a domain. Each call that names a table takes domain => (the caller's
        -- current schema by default); schema versions and app roles are numbered per domain.
        'kit.create_write_table(text, text, bigint, text, integer)', 'kit.create_read_version(text, text, jsonb)',
        'kit.add_feed(text, text, text)', 'kit.add_feed(text, text, text, text)', 'kit.add_feed(text, text, text, jsonb, text, text)', 'kit.add_feed(text, text, text, jsonb, text, text, text)', 'kit.create_schema_version(integer, text[])', 'kit.create_app_role(integer)',
        'kit.schema_version_state(integer)', 'kit.register_client(integer)', 'kit.retirement_plan(text, integer[])',
        'kit.retire_read_version(text, text, integer[])', 'kit.abort_read_version(text)', 'kit.verify_read_table(text, integer)',
        'kit.record_read_rules(text)', 'kit.rebuild(text)', 'kit.backfill(text, integer)',
        'kit.schema_version_write_tables(integer)', 'kit.grant_app_role(integer)', 'kit.revoke_app_role(integer)',
        'kit.app_role_privileges(integer, text)', 'kit.app_role_prefix()', 'kit.update_feed_columns(text, text)',
        -- 0.8.0: generated functions that apply facts pin their settings (fact_settings).
        'kit.function_object(text, text, text, text, boolean, text, text)',
        -- 0.10.0: a write table may be partitioned by seq range (partition_size).
        'kit.create_write_table(text, text, bigint, text, integer, text)',
        -- 0.10.0: kit.baseline's write tables may be partitioned by seq range (partition_size).
        'kit.baseline(text, integer, text, text, text, text, boolean, text)'] LOOP
        IF to_regprocedure(_function) IS NOT NULL THEN
            EXECUTE 'DROP ROUTINE ' || _function;
        END IF;
    END LOOP;
    -- The same arguments, another result: 0.5.0's generated functions return their settings and
    -- STRICT, and its id generators return objects; 0.6.0's security check names any object, with a hint.
    -- 0.7.0: the app roles in use and the clients name their domain.
    IF pg_get_function_result(to_regprocedure('kit.app_roles_in_use()')) NOT LIKE '%domain%' THEN
        DROP FUNCTION kit.app_roles_in_use();
    END IF;
    IF pg_get_function_result(to_regprocedure('kit.clients()')) NOT LIKE '%domain%' THEN
        DROP FUNCTION kit.clients();
    END IF;
    IF pg_get_function_result(to_regprocedure('kit.check_security()')) NOT LIKE '%hint%' THEN
        DROP FUNCTION kit.check_security();
    END IF;
    IF pg_get_function_result(to_regprocedure('kit.generated_functions()')) NOT LIKE '%strict%' THEN
        DROP FUNCTION kit.generated_functions();
    END IF;
    IF pg_get_function_result(to_regprocedure('kit.assign_id_sql(text, text)')) = 'text' THEN
        DROP FUNCTION kit.assign_id_sql(text, text);
    END IF;
    IF pg_get_function_result(to_regprocedure('kit.claim_id_sql(text)')) = 'text' THEN
        DROP FUNCTION kit.claim_id_sql(text);
    END IF;
END
$$;
