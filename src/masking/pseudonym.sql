-- pseudonym.sql: keyed deterministic masks (pseudonym.c).  STABLE: they
-- read the key store (a rotation changes their result).  aisec_admin and
-- aisec_engineer may run them (and masked roles, through aisec.mask_role);
-- the key itself is never exposed.

CREATE FUNCTION aisec.pseudonymize(value text, key text)
    RETURNS text
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_pseudonymize';
REVOKE ALL ON FUNCTION aisec.pseudonymize(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.pseudonymize(text, text) TO aisec_admin, aisec_engineer, aisec_masked_reader;
COMMENT ON FUNCTION aisec.pseudonymize(text, text) IS 'keyed pseudonym ''v<key version>:'' || hex(HMAC-SHA-256(key, value)); deterministic, so joins and GROUP BY on pseudonyms work';

CREATE FUNCTION aisec.sticky_noise(value double precision, key text, ratio double precision)
    RETURNS double precision
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_sticky_noise';
REVOKE ALL ON FUNCTION aisec.sticky_noise(double precision, text, double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.sticky_noise(double precision, text, double precision) TO aisec_admin, aisec_engineer, aisec_masked_reader;
COMMENT ON FUNCTION aisec.sticky_noise(double precision, text, double precision) IS 'value * (1 + ratio * u), u in [-1, 1) derived from HMAC(key, value): the same value always gets the same noise, so repeating a query does not average it away';

CREATE FUNCTION aisec.mask_noise(value anyelement, key text, ratio double precision, typmod integer)
    RETURNS anyelement
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_mask_noise';
REVOKE ALL ON FUNCTION aisec.mask_noise(anyelement, text, double precision, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.mask_noise(anyelement, text, double precision, integer) TO aisec_admin, aisec_engineer, aisec_masked_reader;
COMMENT ON FUNCTION aisec.mask_noise(anyelement, text, double precision, integer) IS 'the noise rule of masked views: sticky_noise in the value''s own integer, floating-point or numeric type (typmod: the numeric column''s), NULL when the noisy value does not fit that type, never an error';
