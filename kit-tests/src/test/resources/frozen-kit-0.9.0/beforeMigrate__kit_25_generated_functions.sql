-- Kit script 25 generated_functions (run by Flyway before every migrate, in file-name order).
-- How the kit writes the code it generates: templates with named
-- placeholders (kit.render), and every generated function as one object of
-- named parts (kit.function_object), so that what a generator returns is
-- run as it is, compared with the database by kit.drift() without parsing
-- anything back out, and read as it is (docs/generated/).
-- Idempotent: CREATE OR REPLACE, safe to run again.

-- The template with each {{name}} replaced by parts ->> name, all at once: a
-- value that holds {{...}} itself is not expanded again. Values go in as
-- they are, so the caller quotes them (format('%I'), quote_literal). A
-- placeholder with no value is a generator's mistake and fails. (A dollar
-- quote right before a placeholder would read as a Flyway placeholder:
-- templates take the quote as a value, {{quote}}.)
CREATE OR REPLACE FUNCTION kit.render(template text, parts jsonb)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog
AS $$
DECLARE
    _pieces text[] := regexp_split_to_array(render.template, '\{\{[a-z_]+\}\}');
    _name   text;
    _next   integer := 1;
    _out    text := _pieces[1];
BEGIN
    FOR _name IN SELECT m.match[1] FROM regexp_matches(render.template, '\{\{([a-z_]+)\}\}', 'g') WITH ORDINALITY AS m (match, n)
                  ORDER BY m.n LOOP
        IF jsonb_typeof(render.parts -> _name) IS DISTINCT FROM 'string' THEN
            RAISE EXCEPTION 'No value for the placeholder {{%}} of a kit template (Given: %)', _name,
                (SELECT string_agg(k, ', ' ORDER BY k) FROM jsonb_object_keys(render.parts) AS k);
        END IF;
        _next := _next + 1;
        _out := _out || (render.parts ->> _name) || _pieces[_next];
    END LOOP;
    RETURN _out;
END
$$;

-- The settings the code that applies facts runs with, whoever calls it: a
-- writer's session may change any of them, and each changes what an
-- expression of a feed gives (f.recorded_at::text under another TimeZone or
-- DateStyle, a float's digits, x = NULL) or how its code is read (a backslash
-- in a string). Pinned, the live path, a replay and verify compute the same
-- values. A feed's expressions run in UTC.
CREATE OR REPLACE FUNCTION kit.fact_settings()
RETURNS text[]
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog
AS $$
    SELECT ARRAY['DateStyle=ISO, MDY', 'IntervalStyle=postgres', 'TimeZone=UTC', 'extra_float_digits=1',
                 'standard_conforming_strings=on', 'transform_null_equals=off']
$$;

-- One generated function, from its named parts, as every generator returns
-- it: function_name (with its argument types, as to_regprocedure reads it),
-- create_sql (the whole statement that makes it, and takes EXECUTE from
-- PUBLIC: only the kit's triggers and functions run generated code), body
-- (its source, which PostgreSQL keeps as it is in pg_proc.prosrc) and the
-- attributes kit.drift() checks: security_definer, config (the pinned
-- search_path, and with applies_facts kit.fact_settings()) and strict.
-- `name` is schema-qualified and quoted; `arguments` lists name and type of
-- each argument.
CREATE OR REPLACE FUNCTION kit.function_object(name text, arguments text, returns text, source text,
                                               definer boolean DEFAULT false, pinned_path text DEFAULT NULL,
                                               null_input text DEFAULT 'called', applies_facts boolean DEFAULT false,
                                               OUT function_name text, OUT create_sql text, OUT body text,
                                               OUT security_definer boolean, OUT config text[], OUT strict boolean)
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog
AS $$
    WITH f AS (
        SELECT function_object.name || '(' || array_to_string(ARRAY(
                   SELECT regexp_replace(btrim(a), '^\S+\s+', '')
                     FROM unnest(string_to_array(nullif(function_object.arguments, ''), ',')) WITH ORDINALITY AS x (a, n)
                    ORDER BY x.n), ', ') || ')' AS function_name,
               function_object.null_input = 'strict' AS strict,
               nullif(CASE WHEN function_object.pinned_path IS NOT NULL THEN ARRAY['search_path=' || function_object.pinned_path] ELSE '{}' END
                      || CASE WHEN function_object.applies_facts THEN kit.fact_settings() ELSE '{}' END, '{}') AS config
    )
    SELECT f.function_name,
           kit.render($t$CREATE OR REPLACE FUNCTION {{name}}({{arguments}})
RETURNS {{returns}}
LANGUAGE plpgsql{{strict}}{{definer}}{{settings}}
AS {{quote}}{{body}}{{quote}};
REVOKE EXECUTE ON FUNCTION {{function_name}} FROM PUBLIC;
$t$, jsonb_build_object(
               'name', function_object.name, 'arguments', function_object.arguments, 'returns', function_object.returns,
               'strict', CASE WHEN f.strict THEN ' STRICT' ELSE '' END,
               'definer', CASE WHEN function_object.definer THEN ' SECURITY DEFINER' ELSE '' END,
               'settings', coalesce(E'\nSET search_path = ' || function_object.pinned_path, '')
                           || CASE WHEN function_object.applies_facts
                                   THEN (SELECT string_agg(format(E'\nSET %I = %L', split_part(c.setting, '=', 1),
                                                                  substr(c.setting, position('=' IN c.setting) + 1)), '' ORDER BY c.n)
                                           FROM unnest(kit.fact_settings()) WITH ORDINALITY AS c (setting, n))
                                   ELSE '' END,
               'quote', '$body$', 'body', function_object.source, 'function_name', f.function_name)),
           function_object.source, function_object.definer, f.config, f.strict
      FROM f
$$;
