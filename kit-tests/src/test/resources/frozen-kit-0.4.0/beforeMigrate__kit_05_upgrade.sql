-- Kit script 05 upgrade (run by Flyway before every migrate, after 00 begin).
--
-- What an upgrade from an older kit must remove before the scripts that
-- follow can re-create the kit's functions: functions whose signature
-- changed or that are gone. Everything else an upgrade does is additive
-- (10 catalog) or a regeneration (99 finish). Does nothing on an install or
-- with the same version installed.
--
-- Update notes, newest first:
--   0.4.0  Health you can trust. kit.drift() also sees: kit triggers not
--          ENABLE ALWAYS (all of them fire ALWAYS now, replica sessions
--          included), a generated function's settings, lost read-table
--          rules (kit.read_rule, recorded when a version goes live), missing
--          sequence and gate grants, app roles that may run kit functions,
--          renamed or dropped read tables (no longer an error). Explicit ids
--          are claimed by a SECURITY DEFINER trigger (accept_id_<w>); app
--          roles lose EXECUTE on kit.claim_explicit_id. Insert feeds leave
--          columns the fact lacks to their DEFAULT. Retired and aborted
--          versions' roles lose their grants. Read tables get first_fact_seq
--          (the seq of the fact that made the row; NULL for older rows): a
--          fact naming a row that a later fact created is refused (KT004), as
--          a replay would find no row for it. Backward-incompatible: a
--          schema version must name read versions with an insert feed, a
--          read version may not reference itself or a missing column, and
--          a writer in a replica session now gets ids and projections.
--   0.3.0  The write path: each write table's feed trigger applies its feeds
--          with their SQL inlined over the transition table (no array of
--          facts, no projection call per feed); projections and the trigger
--          come from one template per feed (kit.feed_sql). Regenerated on
--          upgrade; nothing changes for writers or migrations.
--   0.2.0  The kit becomes its own module (classpath:db/kit). Security: the
--          feeds run from one SECURITY DEFINER trigger per write table with a
--          pinned search_path. Ids: explicit ids must lie below 10^9 (or the
--          id space's explicit_ids_below), sequence-given ids from there on.
--          Backward-incompatible for writers that chose explicit ids at or
--          above the boundary (now KT006) or repeated one (now KT002).
--   0.1.0  The kit as it was welded into the example's V0 (no kit.version()).

DO $$
BEGIN
    IF current_setting('kit.install_action') = 'upgrade'
       AND string_to_array(current_setting('kit.installed_version'), '.')::integer[] < ARRAY[0, 2, 0] THEN
        DROP FUNCTION IF EXISTS kit.create_write_table(text, text);
        DROP FUNCTION IF EXISTS kit.create_feed_trigger(text, text);
        DROP FUNCTION IF EXISTS kit.advance_id_sequence_past(regclass, bigint);
        DROP FUNCTION IF EXISTS kit.next_id(regclass);
        -- kit.advance_id_sequence() goes with the last advance_ids trigger (99 finish).
    END IF;
    IF current_setting('kit.install_action') = 'upgrade'
       AND string_to_array(current_setting('kit.installed_version'), '.')::integer[] < ARRAY[0, 3, 0] THEN
        DROP FUNCTION IF EXISTS kit.existence_check_sql(text, text, text, text);  -- now takes the facts' FROM item
    END IF;
    IF current_setting('kit.install_action') = 'upgrade'
       AND string_to_array(current_setting('kit.installed_version'), '.')::integer[] < ARRAY[0, 4, 0] THEN
        DROP FUNCTION IF EXISTS kit.retirement_plan(text);   -- now also returns the table's dependents
        DROP FUNCTION IF EXISTS kit.generated_functions();   -- now also returns settings and STRICT
        DROP FUNCTION IF EXISTS kit.feed_sql(text, text, text, text, text, boolean, boolean, text);  -- now with rejected_into
    END IF;
END
$$;
