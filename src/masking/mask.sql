-- mask.sql: keyless masking functions (mask.c).  Pure functions of their
-- arguments: every aisec role may run them.

CREATE FUNCTION aisec.mask_partial(value text, keep_prefix integer, keep_suffix integer, pad text DEFAULT '*')
    RETURNS text
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_mask_partial';
REVOKE ALL ON FUNCTION aisec.mask_partial(text, integer, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.mask_partial(text, integer, integer, text) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor, aisec_masked_reader;
COMMENT ON FUNCTION aisec.mask_partial(text, integer, integer, text) IS 'keep the first keep_prefix and last keep_suffix characters, each other character becomes pad; a value too short to hide anything is hidden entirely';

CREATE FUNCTION aisec.mask_email(value text)
    RETURNS text
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_mask_email';
REVOKE ALL ON FUNCTION aisec.mask_email(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.mask_email(text) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor, aisec_masked_reader;
COMMENT ON FUNCTION aisec.mask_email(text) IS 'jane.doe@example.com -> j*******@*******.com; anything not a well-formed address is masked entirely';

CREATE FUNCTION aisec.mask_digits(value text, keep_last integer DEFAULT 4, pad text DEFAULT '*')
    RETURNS text
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_mask_digits';
REVOKE ALL ON FUNCTION aisec.mask_digits(text, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.mask_digits(text, integer, text) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor, aisec_masked_reader;
COMMENT ON FUNCTION aisec.mask_digits(text, integer, text) IS 'replace every ASCII digit but the last keep_last with pad, keeping separators: 4111-1111-1111-1234 -> ****-****-****-1234';

CREATE FUNCTION aisec.generalize(value smallint, step smallint)
    RETURNS smallint
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_generalize_int2';
REVOKE ALL ON FUNCTION aisec.generalize(smallint, smallint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.generalize(smallint, smallint) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor, aisec_masked_reader;
COMMENT ON FUNCTION aisec.generalize(smallint, smallint) IS 'round down to the start of the step-wide bucket: generalize(37, 10) = 30, generalize(-3, 10) = -10';

CREATE FUNCTION aisec.generalize(value integer, step integer)
    RETURNS integer
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_generalize_int4';
REVOKE ALL ON FUNCTION aisec.generalize(integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.generalize(integer, integer) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor, aisec_masked_reader;
COMMENT ON FUNCTION aisec.generalize(integer, integer) IS 'round down to the start of the step-wide bucket: generalize(37, 10) = 30, generalize(-3, 10) = -10';

CREATE FUNCTION aisec.generalize(value bigint, step bigint)
    RETURNS bigint
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_generalize_int8';
REVOKE ALL ON FUNCTION aisec.generalize(bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.generalize(bigint, bigint) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor, aisec_masked_reader;
COMMENT ON FUNCTION aisec.generalize(bigint, bigint) IS 'round down to the start of the step-wide bucket: generalize(37, 10) = 30, generalize(-3, 10) = -10';

CREATE FUNCTION aisec.generalize(value numeric, step numeric)
    RETURNS numeric
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_generalize_numeric';
REVOKE ALL ON FUNCTION aisec.generalize(numeric, numeric) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.generalize(numeric, numeric) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor, aisec_masked_reader;
COMMENT ON FUNCTION aisec.generalize(numeric, numeric) IS 'round down, exactly, to the start of the step-wide bucket: generalize(52345.67, 10000) = 50000';

CREATE FUNCTION aisec.generalize(value date, unit text)
    RETURNS date
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_generalize_date';
REVOKE ALL ON FUNCTION aisec.generalize(date, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.generalize(date, text) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor, aisec_masked_reader;
COMMENT ON FUNCTION aisec.generalize(date, text) IS 'truncate a date to the start of its day, week, month, quarter, year, decade or century';

CREATE FUNCTION aisec.generalize(value timestamp, unit text)
    RETURNS timestamp
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_generalize_timestamp';
REVOKE ALL ON FUNCTION aisec.generalize(timestamp, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.generalize(timestamp, text) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor, aisec_masked_reader;
COMMENT ON FUNCTION aisec.generalize(timestamp, text) IS 'truncate a timestamp to the start of its minute, hour, day, week, month, quarter, year, decade or century';

-- STABLE: truncation happens in the session's TimeZone.
CREATE FUNCTION aisec.generalize(value timestamptz, unit text)
    RETURNS timestamptz
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_generalize_timestamptz';
REVOKE ALL ON FUNCTION aisec.generalize(timestamptz, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.generalize(timestamptz, text) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor, aisec_masked_reader;
COMMENT ON FUNCTION aisec.generalize(timestamptz, text) IS 'truncate a timestamptz, in the session time zone, to the start of its minute, hour, day, week, month, quarter, year, decade or century';

-- STABLE: some types' output depends on settings (DateStyle, TimeZone).
CREATE FUNCTION aisec.output_text(value anyelement)
    RETURNS text
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_output_text';
REVOKE ALL ON FUNCTION aisec.output_text(anyelement) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.output_text(anyelement) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor, aisec_masked_reader;
COMMENT ON FUNCTION aisec.output_text(anyelement) IS 'a value''s text form from its type''s output function, resolving no cast: what masked views pseudonymize for types that are not built in';
