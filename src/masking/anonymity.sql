-- anonymity.sql: k-anonymity (anonymity.c).

CREATE FUNCTION aisec.k_anonymity(rel regclass, quasi_identifiers text[])
    RETURNS bigint
    LANGUAGE C STABLE STRICT PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'aisec_k_anonymity';
REVOKE ALL ON FUNCTION aisec.k_anonymity(regclass, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.k_anonymity(regclass, text[]) TO aisec_admin, aisec_engineer, aisec_dpo;
COMMENT ON FUNCTION aisec.k_anonymity(regclass, text[]) IS 'size of the smallest group of rows sharing the same quasi-identifier values (NULL for an empty relation); runs with the caller''s privileges';
