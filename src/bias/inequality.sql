-- inequality.sql: generalized entropy and Theil indices of the benefit
-- b = y_pred - y_true + 1 (inequality.c; AIF360 definitions).

CREATE FUNCTION aisec.generalized_entropy_transfn(internal, boolean, boolean, float8) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_generalized_entropy_transfn';
CREATE FUNCTION aisec.theil_transfn(internal, boolean, boolean) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_theil_transfn';
CREATE FUNCTION aisec.inequality_combinefn(internal, internal) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_inequality_combinefn';
CREATE FUNCTION aisec.inequality_serialfn(internal) RETURNS bytea
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_inequality_serialfn';
CREATE FUNCTION aisec.inequality_deserialfn(bytea, internal) RETURNS internal
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_inequality_deserialfn';
CREATE FUNCTION aisec.generalized_entropy_finalfn(internal) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_generalized_entropy_finalfn';
REVOKE ALL ON FUNCTION aisec.generalized_entropy_transfn(internal, boolean, boolean, float8) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.theil_transfn(internal, boolean, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.inequality_combinefn(internal, internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.inequality_serialfn(internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.inequality_deserialfn(bytea, internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.generalized_entropy_finalfn(internal) FROM PUBLIC;
COMMENT ON FUNCTION aisec.generalized_entropy_transfn(internal, boolean, boolean, float8) IS 'aisec.generalized_entropy_index support: count a row''s benefit';
COMMENT ON FUNCTION aisec.theil_transfn(internal, boolean, boolean) IS 'aisec.theil_index support: count a row''s benefit';
COMMENT ON FUNCTION aisec.inequality_combinefn(internal, internal) IS 'inequality index support: merge two partial states';
COMMENT ON FUNCTION aisec.inequality_serialfn(internal) IS 'inequality index support: serialize a partial state';
COMMENT ON FUNCTION aisec.inequality_deserialfn(bytea, internal) IS 'inequality index support: validate and deserialize a partial state';
COMMENT ON FUNCTION aisec.generalized_entropy_finalfn(internal) IS 'inequality index support: compute GE(alpha) from the benefit counts';

CREATE AGGREGATE aisec.generalized_entropy_index(y_true boolean, y_pred boolean, alpha float8) (
    SFUNC = aisec.generalized_entropy_transfn,
    STYPE = internal,
    SSPACE = 40,
    FINALFUNC = aisec.generalized_entropy_finalfn,
    COMBINEFUNC = aisec.inequality_combinefn,
    SERIALFUNC = aisec.inequality_serialfn,
    DESERIALFUNC = aisec.inequality_deserialfn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.generalized_entropy_index(boolean, boolean, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.generalized_entropy_index(boolean, boolean, float8) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.generalized_entropy_index(boolean, boolean, float8) IS 'generalized entropy index GE(alpha) of b = y_pred - y_true + 1 (AIF360); rows with a NULL label are skipped';

CREATE AGGREGATE aisec.theil_index(y_true boolean, y_pred boolean) (
    SFUNC = aisec.theil_transfn,
    STYPE = internal,
    SSPACE = 40,
    FINALFUNC = aisec.generalized_entropy_finalfn,
    COMBINEFUNC = aisec.inequality_combinefn,
    SERIALFUNC = aisec.inequality_serialfn,
    DESERIALFUNC = aisec.inequality_deserialfn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.theil_index(boolean, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.theil_index(boolean, boolean) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.theil_index(boolean, boolean) IS 'Theil index, GE(1), of b = y_pred - y_true + 1 (AIF360); rows with a NULL label are skipped';
