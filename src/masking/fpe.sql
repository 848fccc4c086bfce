-- fpe.sql: FF1 format-preserving encryption (fpe.c), NIST SP 800-38G.

CREATE FUNCTION aisec.ff1_encrypt(value text, key text, alphabet text DEFAULT '0123456789', tweak bytea DEFAULT '')
    RETURNS text
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_ff1_encrypt';
REVOKE ALL ON FUNCTION aisec.ff1_encrypt(text, text, text, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.ff1_encrypt(text, text, text, bytea) TO aisec_admin, aisec_engineer, aisec_masked_reader;
COMMENT ON FUNCTION aisec.ff1_encrypt(text, text, text, bytea) IS 'FF1 token (NIST SP 800-38G) of value under an ''ff1'' key''s current version: same length, same alphabet; radix^length must be at least 10^6';

CREATE FUNCTION aisec.ff1_decrypt(value text, key text, alphabet text DEFAULT '0123456789', tweak bytea DEFAULT '', key_version integer DEFAULT 0)
    RETURNS text
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_ff1_decrypt';
REVOKE ALL ON FUNCTION aisec.ff1_decrypt(text, text, text, bytea, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.ff1_decrypt(text, text, text, bytea, integer) TO aisec_admin;
COMMENT ON FUNCTION aisec.ff1_decrypt(text, text, text, bytea, integer) IS 'reverse an FF1 token (aisec_admin only); key_version 0 means the current version, give the old version for tokens made before a rotation';

CREATE FUNCTION aisec.mask_ff1(value text, key text, alphabet text)
    RETURNS text
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_mask_ff1';
REVOKE ALL ON FUNCTION aisec.mask_ff1(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.mask_ff1(text, text, text) TO aisec_admin, aisec_engineer, aisec_masked_reader;
COMMENT ON FUNCTION aisec.mask_ff1(text, text, text) IS 'the ff1 rule of masked views: ff1_encrypt(value, key, alphabet), but NULL for a value FF1 cannot take (a character outside the alphabet, too short or too long), never an error';
