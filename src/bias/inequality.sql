-- inequality.sql: generalized entropy and Theil indices of the benefit
-- b = y_pred - y_true + 1 (inequality.c; AIF360 definitions), and their
-- state type aisec.inequality_stats.

CREATE TYPE aisec.inequality_stats;

CREATE FUNCTION aisec.inequality_stats_in(cstring) RETURNS aisec.inequality_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_inequality_stats_in';
CREATE FUNCTION aisec.inequality_stats_out(aisec.inequality_stats) RETURNS cstring
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_inequality_stats_out';
CREATE FUNCTION aisec.inequality_stats_recv(internal) RETURNS aisec.inequality_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_inequality_stats_recv';
CREATE FUNCTION aisec.inequality_stats_send(aisec.inequality_stats) RETURNS bytea
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_inequality_stats_send';

CREATE TYPE aisec.inequality_stats (
    INPUT = aisec.inequality_stats_in,
    OUTPUT = aisec.inequality_stats_out,
    RECEIVE = aisec.inequality_stats_recv,
    SEND = aisec.inequality_stats_send,
    INTERNALLENGTH = 32,
    ALIGNMENT = double,
    STORAGE = plain
);
COMMENT ON TYPE aisec.inequality_stats IS 'state of aisec.generalized_entropy_index and aisec.theil_index: rows with benefit 0, 1 and 2, and alpha; printed as JSON';

REVOKE ALL ON FUNCTION aisec.inequality_stats_in(cstring) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.inequality_stats_out(aisec.inequality_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.inequality_stats_recv(internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.inequality_stats_send(aisec.inequality_stats) FROM PUBLIC;
COMMENT ON FUNCTION aisec.inequality_stats_in(cstring) IS 'text input of aisec.inequality_stats: the JSON printed by its output function, validated';
COMMENT ON FUNCTION aisec.inequality_stats_out(aisec.inequality_stats) IS 'text output of aisec.inequality_stats: JSON, alpha in shortest exact form';
COMMENT ON FUNCTION aisec.inequality_stats_recv(internal) IS 'binary input of aisec.inequality_stats (format version 1), validated';
COMMENT ON FUNCTION aisec.inequality_stats_send(aisec.inequality_stats) IS 'binary output of aisec.inequality_stats (format version 1)';

-- bytea <-> inequality_stats: the binary form, validated when read back.
CREATE FUNCTION aisec.inequality_stats_from_bytea(bytea) RETURNS aisec.inequality_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_inequality_stats_from_bytea';
REVOKE ALL ON FUNCTION aisec.inequality_stats_from_bytea(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.inequality_stats_from_bytea(bytea) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.inequality_stats_from_bytea(bytea) IS 'Read the binary form of aisec.inequality_stats, rejecting input of the wrong length, version or kind, negative counts or a non-finite alpha';
GRANT EXECUTE ON FUNCTION aisec.inequality_stats_send(aisec.inequality_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
CREATE CAST (bytea AS aisec.inequality_stats) WITH FUNCTION aisec.inequality_stats_from_bytea(bytea);
CREATE CAST (aisec.inequality_stats AS bytea) WITH FUNCTION aisec.inequality_stats_send(aisec.inequality_stats);
COMMENT ON CAST (bytea AS aisec.inequality_stats) IS 'Validated conversion from the binary form';
COMMENT ON CAST (aisec.inequality_stats AS bytea) IS 'The binary form (format in doc/bias.md)';

-- Aggregate support, callable only by the aggregates.  The state is an
-- aisec.inequality_stats, so partial states cross parallel workers and
-- Citus nodes as values of the type.
CREATE FUNCTION aisec.generalized_entropy_transfn(aisec.inequality_stats, boolean, boolean, float8) RETURNS aisec.inequality_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_generalized_entropy_transfn';
CREATE FUNCTION aisec.theil_transfn(aisec.inequality_stats, boolean, boolean) RETURNS aisec.inequality_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_theil_transfn';
CREATE FUNCTION aisec.inequality_combinefn(aisec.inequality_stats, aisec.inequality_stats) RETURNS aisec.inequality_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_inequality_combinefn';
CREATE FUNCTION aisec.generalized_entropy_finalfn(aisec.inequality_stats) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_generalized_entropy_finalfn';
REVOKE ALL ON FUNCTION aisec.generalized_entropy_transfn(aisec.inequality_stats, boolean, boolean, float8) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.theil_transfn(aisec.inequality_stats, boolean, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.inequality_combinefn(aisec.inequality_stats, aisec.inequality_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.generalized_entropy_finalfn(aisec.inequality_stats) FROM PUBLIC;
COMMENT ON FUNCTION aisec.generalized_entropy_transfn(aisec.inequality_stats, boolean, boolean, float8) IS 'aisec.generalized_entropy_index support: count a row''s benefit';
COMMENT ON FUNCTION aisec.theil_transfn(aisec.inequality_stats, boolean, boolean) IS 'aisec.theil_index support: count a row''s benefit';
COMMENT ON FUNCTION aisec.inequality_combinefn(aisec.inequality_stats, aisec.inequality_stats) IS 'inequality index support: merge two partial states';
COMMENT ON FUNCTION aisec.generalized_entropy_finalfn(aisec.inequality_stats) IS 'inequality index support: compute GE(alpha) from the benefit counts';

CREATE AGGREGATE aisec.generalized_entropy_index(y_true boolean, y_pred boolean, alpha float8) (
    SFUNC = aisec.generalized_entropy_transfn,
    STYPE = aisec.inequality_stats,
    SSPACE = 40,
    FINALFUNC = aisec.generalized_entropy_finalfn,
    COMBINEFUNC = aisec.inequality_combinefn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.generalized_entropy_index(boolean, boolean, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.generalized_entropy_index(boolean, boolean, float8) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.generalized_entropy_index(boolean, boolean, float8) IS 'generalized entropy index GE(alpha) of b = y_pred - y_true + 1 (AIF360); rows with a NULL label are skipped';

CREATE AGGREGATE aisec.theil_index(y_true boolean, y_pred boolean) (
    SFUNC = aisec.theil_transfn,
    STYPE = aisec.inequality_stats,
    SSPACE = 40,
    FINALFUNC = aisec.generalized_entropy_finalfn,
    COMBINEFUNC = aisec.inequality_combinefn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.theil_index(boolean, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.theil_index(boolean, boolean) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.theil_index(boolean, boolean) IS 'Theil index, GE(1), of b = y_pred - y_true + 1 (AIF360); rows with a NULL label are skipped';
