-- divergence.sql: drift measures (divergence.c) and the two aggregates they
-- compare: aisec.histogram (histogram.c) and aisec.category_counts
-- (category.c).  doc/drift.md has the formulas and conventions.

-- ==== Histograms (histogram.c)
CREATE TYPE aisec.histogram_stats;

CREATE FUNCTION aisec.histogram_stats_in(cstring) RETURNS aisec.histogram_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_histogram_stats_in';
CREATE FUNCTION aisec.histogram_stats_out(aisec.histogram_stats) RETURNS cstring
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_histogram_stats_out';
CREATE FUNCTION aisec.histogram_stats_recv(internal) RETURNS aisec.histogram_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_histogram_stats_recv';
CREATE FUNCTION aisec.histogram_stats_send(aisec.histogram_stats) RETURNS bytea
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_histogram_stats_send';

CREATE TYPE aisec.histogram_stats (
    INPUT = aisec.histogram_stats_in,
    OUTPUT = aisec.histogram_stats_out,
    RECEIVE = aisec.histogram_stats_recv,
    SEND = aisec.histogram_stats_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4,
    STORAGE = extended
);
COMMENT ON TYPE aisec.histogram_stats IS 'Counts of a numeric column in equal-width bins over [lower, upper), plus below-range and above-range counts; printed as JSON';

REVOKE ALL ON FUNCTION aisec.histogram_stats_in(cstring) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.histogram_stats_out(aisec.histogram_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.histogram_stats_recv(internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.histogram_stats_send(aisec.histogram_stats) FROM PUBLIC;
COMMENT ON FUNCTION aisec.histogram_stats_in(cstring) IS 'Input function of aisec.histogram_stats (the JSON form it prints)';
COMMENT ON FUNCTION aisec.histogram_stats_out(aisec.histogram_stats) IS 'Output function of aisec.histogram_stats (JSON)';
COMMENT ON FUNCTION aisec.histogram_stats_recv(internal) IS 'Binary input function of aisec.histogram_stats (validated)';
COMMENT ON FUNCTION aisec.histogram_stats_send(aisec.histogram_stats) IS 'Binary output function of aisec.histogram_stats (the serialized state)';

-- Casts to and from the binary form (what the aggregate serializes).
CREATE FUNCTION aisec.histogram_stats_from_bytea(bytea) RETURNS aisec.histogram_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_histogram_stats_from_bytea';
REVOKE ALL ON FUNCTION aisec.histogram_stats_from_bytea(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.histogram_stats_from_bytea(bytea) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.histogram_stats_from_bytea(bytea) IS 'Read the binary form of aisec.histogram_stats, rejecting truncated, oversized, inconsistent or unknown-version input';
GRANT EXECUTE ON FUNCTION aisec.histogram_stats_send(aisec.histogram_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
CREATE CAST (bytea AS aisec.histogram_stats) WITH FUNCTION aisec.histogram_stats_from_bytea(bytea);
CREATE CAST (aisec.histogram_stats AS bytea) WITH FUNCTION aisec.histogram_stats_send(aisec.histogram_stats);
COMMENT ON CAST (bytea AS aisec.histogram_stats) IS 'Validated conversion from the binary form';
COMMENT ON CAST (aisec.histogram_stats AS bytea) IS 'The binary form (format in doc/drift.md)';

-- Aggregate support.  Executable by the extension owner only: aggregates
-- check their support functions against their owner, not the caller.
CREATE FUNCTION aisec.histogram_transfn(aisec.histogram_stats, float8, float8, float8, integer) RETURNS aisec.histogram_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_histogram_transfn';
CREATE FUNCTION aisec.histogram_merge_transfn(aisec.histogram_stats, aisec.histogram_stats) RETURNS aisec.histogram_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_histogram_merge_transfn';
CREATE FUNCTION aisec.histogram_combinefn(aisec.histogram_stats, aisec.histogram_stats) RETURNS aisec.histogram_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_histogram_combinefn';
CREATE FUNCTION aisec.histogram_finalfn(aisec.histogram_stats) RETURNS aisec.histogram_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_histogram_finalfn';
REVOKE ALL ON FUNCTION aisec.histogram_transfn(aisec.histogram_stats, float8, float8, float8, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.histogram_merge_transfn(aisec.histogram_stats, aisec.histogram_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.histogram_combinefn(aisec.histogram_stats, aisec.histogram_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.histogram_finalfn(aisec.histogram_stats) FROM PUBLIC;
COMMENT ON FUNCTION aisec.histogram_transfn(aisec.histogram_stats, float8, float8, float8, integer) IS 'Transition function of aisec.histogram';
COMMENT ON FUNCTION aisec.histogram_merge_transfn(aisec.histogram_stats, aisec.histogram_stats) IS 'Transition function of aisec.histogram_merge';
COMMENT ON FUNCTION aisec.histogram_combinefn(aisec.histogram_stats, aisec.histogram_stats) IS 'Combine function of aisec.histogram and aisec.histogram_merge';
COMMENT ON FUNCTION aisec.histogram_finalfn(aisec.histogram_stats) IS 'Final function of aisec.histogram and aisec.histogram_merge';

CREATE AGGREGATE aisec.histogram(value float8, lower float8, upper float8, bins integer) (
    SFUNC = aisec.histogram_transfn,
    STYPE = aisec.histogram_stats,
    FINALFUNC = aisec.histogram_finalfn,
    COMBINEFUNC = aisec.histogram_combinefn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.histogram(float8, float8, float8, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.histogram(float8, float8, float8, integer) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.histogram(float8, float8, float8, integer) IS 'Histogram of value in bins equal-width bins over [lower, upper) (bin rule of width_bucket), with underflow and overflow counts; NULL values skipped; NULL for no values';

CREATE AGGREGATE aisec.histogram_merge(aisec.histogram_stats) (
    SFUNC = aisec.histogram_merge_transfn,
    STYPE = aisec.histogram_stats,
    FINALFUNC = aisec.histogram_finalfn,
    COMBINEFUNC = aisec.histogram_combinefn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.histogram_merge(aisec.histogram_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.histogram_merge(aisec.histogram_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.histogram_merge(aisec.histogram_stats) IS 'Sum stored histograms with the same bins into one';

CREATE FUNCTION aisec.histogram_bins(h aisec.histogram_stats, OUT bin integer, OUT lower float8, OUT upper float8, OUT count bigint, OUT proportion float8) RETURNS SETOF record
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 12
    AS 'MODULE_PATHNAME', 'aisec_histogram_bins';
REVOKE ALL ON FUNCTION aisec.histogram_bins(aisec.histogram_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.histogram_bins(aisec.histogram_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.histogram_bins(aisec.histogram_stats) IS 'The bins of a histogram: bin number (0 = below lower, bins + 1 = at or above upper), bounds, count, proportion';

-- ==== Category counts (category.c)
CREATE TYPE aisec.category_stats;

CREATE FUNCTION aisec.category_stats_in(cstring) RETURNS aisec.category_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_category_stats_in';
CREATE FUNCTION aisec.category_stats_out(aisec.category_stats) RETURNS cstring
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_category_stats_out';
CREATE FUNCTION aisec.category_stats_recv(internal) RETURNS aisec.category_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_category_stats_recv';
CREATE FUNCTION aisec.category_stats_send(aisec.category_stats) RETURNS bytea
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_category_stats_send';

CREATE TYPE aisec.category_stats (
    INPUT = aisec.category_stats_in,
    OUTPUT = aisec.category_stats_out,
    RECEIVE = aisec.category_stats_recv,
    SEND = aisec.category_stats_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4,
    STORAGE = extended
);
COMMENT ON TYPE aisec.category_stats IS 'Counts of each distinct value of a text column; printed as JSON';

REVOKE ALL ON FUNCTION aisec.category_stats_in(cstring) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.category_stats_out(aisec.category_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.category_stats_recv(internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.category_stats_send(aisec.category_stats) FROM PUBLIC;
COMMENT ON FUNCTION aisec.category_stats_in(cstring) IS 'Input function of aisec.category_stats (the JSON form it prints)';
COMMENT ON FUNCTION aisec.category_stats_out(aisec.category_stats) IS 'Output function of aisec.category_stats (JSON)';
COMMENT ON FUNCTION aisec.category_stats_recv(internal) IS 'Binary input function of aisec.category_stats (validated)';
COMMENT ON FUNCTION aisec.category_stats_send(aisec.category_stats) IS 'Binary output function of aisec.category_stats (the serialized state)';

-- Casts to and from the binary form (what the aggregate serializes).
CREATE FUNCTION aisec.category_stats_from_bytea(bytea) RETURNS aisec.category_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_category_stats_from_bytea';
REVOKE ALL ON FUNCTION aisec.category_stats_from_bytea(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.category_stats_from_bytea(bytea) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.category_stats_from_bytea(bytea) IS 'Read the binary form of aisec.category_stats, rejecting truncated, oversized, inconsistent or unknown-version input';
GRANT EXECUTE ON FUNCTION aisec.category_stats_send(aisec.category_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
CREATE CAST (bytea AS aisec.category_stats) WITH FUNCTION aisec.category_stats_from_bytea(bytea);
CREATE CAST (aisec.category_stats AS bytea) WITH FUNCTION aisec.category_stats_send(aisec.category_stats);
COMMENT ON CAST (bytea AS aisec.category_stats) IS 'Validated conversion from the binary form';
COMMENT ON CAST (aisec.category_stats AS bytea) IS 'The binary form (format in doc/drift.md)';

-- Aggregate support.  Executable by the extension owner only: aggregates
-- check their support functions against their owner, not the caller.
CREATE FUNCTION aisec.category_counts_transfn(aisec.category_stats, text) RETURNS aisec.category_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_category_counts_transfn';
CREATE FUNCTION aisec.category_counts_merge_transfn(aisec.category_stats, aisec.category_stats) RETURNS aisec.category_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_category_counts_merge_transfn';
CREATE FUNCTION aisec.category_counts_combinefn(aisec.category_stats, aisec.category_stats) RETURNS aisec.category_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_category_counts_combinefn';
CREATE FUNCTION aisec.category_counts_finalfn(aisec.category_stats) RETURNS aisec.category_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_category_counts_finalfn';
REVOKE ALL ON FUNCTION aisec.category_counts_transfn(aisec.category_stats, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.category_counts_merge_transfn(aisec.category_stats, aisec.category_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.category_counts_combinefn(aisec.category_stats, aisec.category_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.category_counts_finalfn(aisec.category_stats) FROM PUBLIC;
COMMENT ON FUNCTION aisec.category_counts_transfn(aisec.category_stats, text) IS 'Transition function of aisec.category_counts';
COMMENT ON FUNCTION aisec.category_counts_merge_transfn(aisec.category_stats, aisec.category_stats) IS 'Transition function of aisec.category_counts_merge';
COMMENT ON FUNCTION aisec.category_counts_combinefn(aisec.category_stats, aisec.category_stats) IS 'Combine function of aisec.category_counts and aisec.category_counts_merge';
COMMENT ON FUNCTION aisec.category_counts_finalfn(aisec.category_stats) IS 'Final function of aisec.category_counts and aisec.category_counts_merge';

CREATE AGGREGATE aisec.category_counts(value text) (
    SFUNC = aisec.category_counts_transfn,
    STYPE = aisec.category_stats,
    FINALFUNC = aisec.category_counts_finalfn,
    COMBINEFUNC = aisec.category_counts_combinefn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.category_counts(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.category_counts(text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.category_counts(text) IS 'Count of each distinct value; NULL values skipped; NULL for no values';

CREATE AGGREGATE aisec.category_counts_merge(aisec.category_stats) (
    SFUNC = aisec.category_counts_merge_transfn,
    STYPE = aisec.category_stats,
    FINALFUNC = aisec.category_counts_finalfn,
    COMBINEFUNC = aisec.category_counts_combinefn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.category_counts_merge(aisec.category_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.category_counts_merge(aisec.category_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.category_counts_merge(aisec.category_stats) IS 'Sum stored category counts into one';

CREATE FUNCTION aisec.category_frequencies(c aisec.category_stats, OUT value text, OUT count bigint, OUT proportion float8) RETURNS SETOF record
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 12
    AS 'MODULE_PATHNAME', 'aisec_category_frequencies';
REVOKE ALL ON FUNCTION aisec.category_frequencies(aisec.category_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.category_frequencies(aisec.category_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.category_frequencies(aisec.category_stats) IS 'The categories of a category count: value, count, proportion';

-- ==== Drift measures (divergence.c)
CREATE FUNCTION aisec.psi(expected aisec.histogram_stats, actual aisec.histogram_stats, epsilon float8 DEFAULT 0.0001) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_psi';
REVOKE ALL ON FUNCTION aisec.psi(aisec.histogram_stats, aisec.histogram_stats, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.psi(aisec.histogram_stats, aisec.histogram_stats, float8) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.psi(aisec.histogram_stats, aisec.histogram_stats, float8) IS 'Population stability index sum((a - e) ln(a / e)) over bins; proportions below epsilon are raised to epsilon and renormalized; NULL when infinite (epsilon = 0)';

CREATE FUNCTION aisec.kl_divergence(p aisec.histogram_stats, q aisec.histogram_stats, epsilon float8 DEFAULT 0.0001) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_kl_divergence';
REVOKE ALL ON FUNCTION aisec.kl_divergence(aisec.histogram_stats, aisec.histogram_stats, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.kl_divergence(aisec.histogram_stats, aisec.histogram_stats, float8) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.kl_divergence(aisec.histogram_stats, aisec.histogram_stats, float8) IS 'Kullback-Leibler divergence D(p || q) = sum(p ln(p / q)), natural log; smoothing as for psi; NULL when infinite (epsilon = 0)';

CREATE FUNCTION aisec.js_divergence(p aisec.histogram_stats, q aisec.histogram_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_js_divergence';
REVOKE ALL ON FUNCTION aisec.js_divergence(aisec.histogram_stats, aisec.histogram_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.js_divergence(aisec.histogram_stats, aisec.histogram_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.js_divergence(aisec.histogram_stats, aisec.histogram_stats) IS 'Jensen-Shannon divergence (D(p || m) + D(q || m)) / 2 with m = (p + q) / 2, natural log, in [0, ln 2]; no smoothing needed';

CREATE FUNCTION aisec.psi(expected aisec.category_stats, actual aisec.category_stats, epsilon float8 DEFAULT 0.0001) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_psi';
REVOKE ALL ON FUNCTION aisec.psi(aisec.category_stats, aisec.category_stats, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.psi(aisec.category_stats, aisec.category_stats, float8) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.psi(aisec.category_stats, aisec.category_stats, float8) IS 'Population stability index sum((a - e) ln(a / e)) over bins; proportions below epsilon are raised to epsilon and renormalized; NULL when infinite (epsilon = 0)';

CREATE FUNCTION aisec.kl_divergence(p aisec.category_stats, q aisec.category_stats, epsilon float8 DEFAULT 0.0001) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_kl_divergence';
REVOKE ALL ON FUNCTION aisec.kl_divergence(aisec.category_stats, aisec.category_stats, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.kl_divergence(aisec.category_stats, aisec.category_stats, float8) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.kl_divergence(aisec.category_stats, aisec.category_stats, float8) IS 'Kullback-Leibler divergence D(p || q) = sum(p ln(p / q)), natural log; smoothing as for psi; NULL when infinite (epsilon = 0)';

CREATE FUNCTION aisec.js_divergence(p aisec.category_stats, q aisec.category_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_js_divergence';
REVOKE ALL ON FUNCTION aisec.js_divergence(aisec.category_stats, aisec.category_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.js_divergence(aisec.category_stats, aisec.category_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.js_divergence(aisec.category_stats, aisec.category_stats) IS 'Jensen-Shannon divergence (D(p || m) + D(q || m)) / 2 with m = (p + q) / 2, natural log, in [0, ln 2]; no smoothing needed';

CREATE FUNCTION aisec.ks_statistic(p aisec.histogram_stats, q aisec.histogram_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_ks_statistic';
REVOKE ALL ON FUNCTION aisec.ks_statistic(aisec.histogram_stats, aisec.histogram_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.ks_statistic(aisec.histogram_stats, aisec.histogram_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.ks_statistic(aisec.histogram_stats, aisec.histogram_stats) IS 'Two-sample Kolmogorov-Smirnov D = max |F_p - F_q| evaluated at the bin edges (a lower bound of D over the raw values)';

CREATE FUNCTION aisec.ks_statistic(x float8[], y float8[]) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_ks_statistic_values';
REVOKE ALL ON FUNCTION aisec.ks_statistic(float8[], float8[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.ks_statistic(float8[], float8[]) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.ks_statistic(float8[], float8[]) IS 'Exact two-sample Kolmogorov-Smirnov D = max |F_x - F_y| over raw values (as scipy.stats.ks_2samp); NULL elements skipped; NULL if a sample is empty';

CREATE FUNCTION aisec.class_imbalance(labels aisec.category_stats, OUT classes integer, OUT majority text, OUT minority text, OUT imbalance_ratio float8, OUT normalized_difference float8, OUT balance float8) RETURNS record
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_class_imbalance';
REVOKE ALL ON FUNCTION aisec.class_imbalance(aisec.category_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.class_imbalance(aisec.category_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.class_imbalance(aisec.category_stats) IS 'Class imbalance of a label distribution: majority / minority count ratio, (majority - minority) / (majority + minority), and normalized Shannon entropy (1 = balanced)';
