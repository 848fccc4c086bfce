-- fairness.sql: the aisec.fairness_stats type and the aggregates that build
-- it (fairness.c).  Metric functions are in fairness_metrics.sql, the report
-- and chart in fairness_report.sql.

CREATE TYPE aisec.fairness_stats;

CREATE FUNCTION aisec.fairness_stats_in(cstring) RETURNS aisec.fairness_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_fairness_stats_in';
CREATE FUNCTION aisec.fairness_stats_out(aisec.fairness_stats) RETURNS cstring
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_fairness_stats_out';
CREATE FUNCTION aisec.fairness_stats_recv(internal) RETURNS aisec.fairness_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_fairness_stats_recv';
CREATE FUNCTION aisec.fairness_stats_send(aisec.fairness_stats) RETURNS bytea
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_fairness_stats_send';

CREATE TYPE aisec.fairness_stats (
    INPUT = aisec.fairness_stats_in,
    OUTPUT = aisec.fairness_stats_out,
    RECEIVE = aisec.fairness_stats_recv,
    SEND = aisec.fairness_stats_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4,
    STORAGE = extended
);
COMMENT ON TYPE aisec.fairness_stats IS 'per-group weighted confusion matrices (y_true x y_pred, each false/true/NULL), from aisec.fairness(); text form is JSON; see doc/bias.md';

-- Type I/O functions run without an EXECUTE check; the revokes keep the
-- rule "nothing in aisec is executable by PUBLIC".
REVOKE ALL ON FUNCTION aisec.fairness_stats_in(cstring) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.fairness_stats_out(aisec.fairness_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.fairness_stats_recv(internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.fairness_stats_send(aisec.fairness_stats) FROM PUBLIC;
COMMENT ON FUNCTION aisec.fairness_stats_in(cstring) IS 'text input of aisec.fairness_stats: the JSON printed by its output function, validated';
COMMENT ON FUNCTION aisec.fairness_stats_out(aisec.fairness_stats) IS 'text output of aisec.fairness_stats: JSON';
COMMENT ON FUNCTION aisec.fairness_stats_recv(internal) IS 'binary input of aisec.fairness_stats (format version 1), validated';
COMMENT ON FUNCTION aisec.fairness_stats_send(aisec.fairness_stats) IS 'binary output of aisec.fairness_stats (format version 1)';

-- bytea <-> fairness_stats: the bytes are the binary format; reading them
-- back validates them (truncation, version, consistency).
CREATE FUNCTION aisec.fairness_stats(bytea) RETURNS aisec.fairness_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_fairness_stats_from_bytes';
REVOKE ALL ON FUNCTION aisec.fairness_stats(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.fairness_stats(bytea) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.fairness_stats(bytea) IS 'validate bytes in the aisec.fairness_stats binary format and return them as a value';
CREATE CAST (bytea AS aisec.fairness_stats) WITH FUNCTION aisec.fairness_stats(bytea);
COMMENT ON CAST (bytea AS aisec.fairness_stats) IS 'validating cast from the binary format';
CREATE CAST (aisec.fairness_stats AS bytea) WITHOUT FUNCTION;
COMMENT ON CAST (aisec.fairness_stats AS bytea) IS 'the value''s bytes in the binary format (doc/bias.md)';

-- Aggregate support functions, callable only by the aggregates.  The state
-- is an aisec.fairness_stats (kept expanded in memory while aggregating), so
-- partial states cross parallel workers and Citus nodes as values of the
-- type; there are no serialize functions.
CREATE FUNCTION aisec.fairness_transfn(aisec.fairness_stats, text, boolean, boolean) RETURNS aisec.fairness_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_fairness_transfn';
CREATE FUNCTION aisec.fairness_weighted_transfn(aisec.fairness_stats, text, boolean, boolean, float8) RETURNS aisec.fairness_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_fairness_weighted_transfn';
CREATE FUNCTION aisec.fairness_merge_transfn(aisec.fairness_stats, aisec.fairness_stats) RETURNS aisec.fairness_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_fairness_merge_transfn';
CREATE FUNCTION aisec.fairness_combinefn(aisec.fairness_stats, aisec.fairness_stats) RETURNS aisec.fairness_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_fairness_combinefn';
CREATE FUNCTION aisec.fairness_finalfn(aisec.fairness_stats) RETURNS aisec.fairness_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_fairness_finalfn';
REVOKE ALL ON FUNCTION aisec.fairness_transfn(aisec.fairness_stats, text, boolean, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.fairness_weighted_transfn(aisec.fairness_stats, text, boolean, boolean, float8) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.fairness_merge_transfn(aisec.fairness_stats, aisec.fairness_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.fairness_combinefn(aisec.fairness_stats, aisec.fairness_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.fairness_finalfn(aisec.fairness_stats) FROM PUBLIC;
COMMENT ON FUNCTION aisec.fairness_transfn(aisec.fairness_stats, text, boolean, boolean) IS 'aisec.fairness support: add an unweighted row';
COMMENT ON FUNCTION aisec.fairness_weighted_transfn(aisec.fairness_stats, text, boolean, boolean, float8) IS 'aisec.fairness support: add a weighted row';
COMMENT ON FUNCTION aisec.fairness_merge_transfn(aisec.fairness_stats, aisec.fairness_stats) IS 'aisec.fairness_merge support: add a stored value';
COMMENT ON FUNCTION aisec.fairness_combinefn(aisec.fairness_stats, aisec.fairness_stats) IS 'aisec.fairness support: merge two partial states';
COMMENT ON FUNCTION aisec.fairness_finalfn(aisec.fairness_stats) IS 'aisec.fairness support: return the state as aisec.fairness_stats';

CREATE AGGREGATE aisec.fairness(grp text, y_true boolean, y_pred boolean) (
    SFUNC = aisec.fairness_transfn,
    STYPE = aisec.fairness_stats,
    SSPACE = 2048,
    FINALFUNC = aisec.fairness_finalfn,
    COMBINEFUNC = aisec.fairness_combinefn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.fairness(text, boolean, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.fairness(text, boolean, boolean) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.fairness(text, boolean, boolean) IS 'per-group confusion matrices of (y_true, y_pred) in one scan; NULL group is its own group, NULL labels are kept as unknown';

CREATE AGGREGATE aisec.fairness(grp text, y_true boolean, y_pred boolean, weight float8) (
    SFUNC = aisec.fairness_weighted_transfn,
    STYPE = aisec.fairness_stats,
    SSPACE = 2048,
    FINALFUNC = aisec.fairness_finalfn,
    COMBINEFUNC = aisec.fairness_combinefn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.fairness(text, boolean, boolean, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.fairness(text, boolean, boolean, float8) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.fairness(text, boolean, boolean, float8) IS 'per-group weighted confusion matrices of (y_true, y_pred) in one scan; weights must be finite and >= 0';

CREATE AGGREGATE aisec.fairness_merge(aisec.fairness_stats) (
    SFUNC = aisec.fairness_merge_transfn,
    STYPE = aisec.fairness_stats,
    SSPACE = 2048,
    FINALFUNC = aisec.fairness_finalfn,
    COMBINEFUNC = aisec.fairness_combinefn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.fairness_merge(aisec.fairness_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.fairness_merge(aisec.fairness_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.fairness_merge(aisec.fairness_stats) IS 'merge stored aisec.fairness_stats values (e.g. daily partial states) into one';
