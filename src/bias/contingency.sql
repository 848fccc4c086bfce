-- contingency.sql: the contingency-table aggregate and the tests of
-- independence computed from it (contingency.c, specfun.c; doc/drift.md).

CREATE TYPE aisec.contingency_stats;

CREATE FUNCTION aisec.contingency_stats_in(cstring) RETURNS aisec.contingency_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_contingency_stats_in';
CREATE FUNCTION aisec.contingency_stats_out(aisec.contingency_stats) RETURNS cstring
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_contingency_stats_out';
CREATE FUNCTION aisec.contingency_stats_recv(internal) RETURNS aisec.contingency_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_contingency_stats_recv';
CREATE FUNCTION aisec.contingency_stats_send(aisec.contingency_stats) RETURNS bytea
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_contingency_stats_send';

CREATE TYPE aisec.contingency_stats (
    INPUT = aisec.contingency_stats_in,
    OUTPUT = aisec.contingency_stats_out,
    RECEIVE = aisec.contingency_stats_recv,
    SEND = aisec.contingency_stats_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4,
    STORAGE = extended
);
COMMENT ON TYPE aisec.contingency_stats IS 'A contingency table of counts (rows: values of a, columns: values of b); printed as JSON';

REVOKE ALL ON FUNCTION aisec.contingency_stats_in(cstring) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.contingency_stats_out(aisec.contingency_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.contingency_stats_recv(internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.contingency_stats_send(aisec.contingency_stats) FROM PUBLIC;
COMMENT ON FUNCTION aisec.contingency_stats_in(cstring) IS 'Input function of aisec.contingency_stats (the JSON form it prints)';
COMMENT ON FUNCTION aisec.contingency_stats_out(aisec.contingency_stats) IS 'Output function of aisec.contingency_stats (JSON)';
COMMENT ON FUNCTION aisec.contingency_stats_recv(internal) IS 'Binary input function of aisec.contingency_stats (validated)';
COMMENT ON FUNCTION aisec.contingency_stats_send(aisec.contingency_stats) IS 'Binary output function of aisec.contingency_stats (the serialized state)';

-- Casts to and from the binary form (what the aggregate serializes).
CREATE FUNCTION aisec.contingency_stats_from_bytea(bytea) RETURNS aisec.contingency_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_contingency_stats_from_bytea';
REVOKE ALL ON FUNCTION aisec.contingency_stats_from_bytea(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.contingency_stats_from_bytea(bytea) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.contingency_stats_from_bytea(bytea) IS 'Read the binary form of aisec.contingency_stats, rejecting truncated, oversized, inconsistent or unknown-version input';
GRANT EXECUTE ON FUNCTION aisec.contingency_stats_send(aisec.contingency_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
CREATE CAST (bytea AS aisec.contingency_stats) WITH FUNCTION aisec.contingency_stats_from_bytea(bytea);
CREATE CAST (aisec.contingency_stats AS bytea) WITH FUNCTION aisec.contingency_stats_send(aisec.contingency_stats);
COMMENT ON CAST (bytea AS aisec.contingency_stats) IS 'Validated conversion from the binary form';
COMMENT ON CAST (aisec.contingency_stats AS bytea) IS 'The binary form (format in doc/drift.md)';

-- Aggregate support.  Executable by the extension owner only: aggregates
-- check their support functions against their owner, not the caller.
CREATE FUNCTION aisec.contingency_transfn(aisec.contingency_stats, text, text) RETURNS aisec.contingency_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_contingency_transfn';
CREATE FUNCTION aisec.contingency_merge_transfn(aisec.contingency_stats, aisec.contingency_stats) RETURNS aisec.contingency_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_contingency_merge_transfn';
CREATE FUNCTION aisec.contingency_combinefn(aisec.contingency_stats, aisec.contingency_stats) RETURNS aisec.contingency_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_contingency_combinefn';
CREATE FUNCTION aisec.contingency_finalfn(aisec.contingency_stats) RETURNS aisec.contingency_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_contingency_finalfn';
REVOKE ALL ON FUNCTION aisec.contingency_transfn(aisec.contingency_stats, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.contingency_merge_transfn(aisec.contingency_stats, aisec.contingency_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.contingency_combinefn(aisec.contingency_stats, aisec.contingency_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.contingency_finalfn(aisec.contingency_stats) FROM PUBLIC;
COMMENT ON FUNCTION aisec.contingency_transfn(aisec.contingency_stats, text, text) IS 'Transition function of aisec.contingency';
COMMENT ON FUNCTION aisec.contingency_merge_transfn(aisec.contingency_stats, aisec.contingency_stats) IS 'Transition function of aisec.contingency_merge';
COMMENT ON FUNCTION aisec.contingency_combinefn(aisec.contingency_stats, aisec.contingency_stats) IS 'Combine function of aisec.contingency and aisec.contingency_merge';
COMMENT ON FUNCTION aisec.contingency_finalfn(aisec.contingency_stats) IS 'Final function of aisec.contingency and aisec.contingency_merge';

CREATE AGGREGATE aisec.contingency(a text, b text) (
    SFUNC = aisec.contingency_transfn,
    STYPE = aisec.contingency_stats,
    FINALFUNC = aisec.contingency_finalfn,
    COMBINEFUNC = aisec.contingency_combinefn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.contingency(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.contingency(text, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.contingency(text, text) IS 'Contingency table of counts of (a, b) pairs; rows where a or b is NULL are skipped; NULL for no rows';

CREATE AGGREGATE aisec.contingency_merge(aisec.contingency_stats) (
    SFUNC = aisec.contingency_merge_transfn,
    STYPE = aisec.contingency_stats,
    FINALFUNC = aisec.contingency_finalfn,
    COMBINEFUNC = aisec.contingency_combinefn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.contingency_merge(aisec.contingency_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.contingency_merge(aisec.contingency_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.contingency_merge(aisec.contingency_stats) IS 'Sum stored contingency tables (for example daily partial tables) into one';

-- Statistics over a table.
CREATE FUNCTION aisec.chi2_test(c aisec.contingency_stats,
                                OUT statistic float8, OUT dof integer, OUT p_value float8)
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_chi2_test';
REVOKE ALL ON FUNCTION aisec.chi2_test(aisec.contingency_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.chi2_test(aisec.contingency_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.chi2_test(aisec.contingency_stats) IS 'Pearson chi-square test of independence (no Yates correction): statistic, degrees of freedom (R-1)(C-1), p-value (NULL when dof = 0)';

CREATE FUNCTION aisec.cramers_v(c aisec.contingency_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_cramers_v';
REVOKE ALL ON FUNCTION aisec.cramers_v(aisec.contingency_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.cramers_v(aisec.contingency_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.cramers_v(aisec.contingency_stats) IS 'Cramer''s V = sqrt(chi2 / (n (min(R, C) - 1))), no bias correction; NULL for a table with one row or one column';

CREATE FUNCTION aisec.chi2_p_value(statistic float8, dof integer) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_chi2_p_value';
REVOKE ALL ON FUNCTION aisec.chi2_p_value(float8, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.chi2_p_value(float8, integer) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.chi2_p_value(float8, integer) IS 'Upper tail P(X >= statistic) of the chi-square distribution with dof degrees of freedom';

CREATE FUNCTION aisec.contingency_cells(c aisec.contingency_stats,
                                        OUT a text, OUT b text, OUT count bigint, OUT expected float8)
    RETURNS SETOF record
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 16
    AS 'MODULE_PATHNAME', 'aisec_contingency_cells';
REVOKE ALL ON FUNCTION aisec.contingency_cells(aisec.contingency_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.contingency_cells(aisec.contingency_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.contingency_cells(aisec.contingency_stats) IS 'The cells of a contingency table: a, b, observed count, and count expected under independence';
