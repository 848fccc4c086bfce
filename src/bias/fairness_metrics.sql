-- fairness_metrics.sql: rates and fairness metrics over aisec.fairness_stats
-- (fairness_metrics.c).  A rate whose denominator is 0 is NULL, and so is
-- any metric built on it.  Functions that take a group name are CALLED ON
-- NULL INPUT: a NULL group name selects the NULL group.

-- Per group.
CREATE FUNCTION aisec.selection_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_selection_rate';
REVOKE ALL ON FUNCTION aisec.selection_rate(aisec.fairness_stats, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.selection_rate(aisec.fairness_stats, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.selection_rate(aisec.fairness_stats, text) IS 'P(y_pred) in the group: predicted positives over rows with a known y_pred; NULL when the denominator is 0';

CREATE FUNCTION aisec.base_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_base_rate';
REVOKE ALL ON FUNCTION aisec.base_rate(aisec.fairness_stats, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.base_rate(aisec.fairness_stats, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.base_rate(aisec.fairness_stats, text) IS 'P(y_true) in the group: actual positives over rows with a known y_true; NULL when the denominator is 0';

CREATE FUNCTION aisec.true_positive_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_true_positive_rate';
REVOKE ALL ON FUNCTION aisec.true_positive_rate(aisec.fairness_stats, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.true_positive_rate(aisec.fairness_stats, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.true_positive_rate(aisec.fairness_stats, text) IS 'TP / (TP + FN) in the group (recall, sensitivity); NULL when the denominator is 0';

CREATE FUNCTION aisec.false_positive_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_false_positive_rate';
REVOKE ALL ON FUNCTION aisec.false_positive_rate(aisec.fairness_stats, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.false_positive_rate(aisec.fairness_stats, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.false_positive_rate(aisec.fairness_stats, text) IS 'FP / (FP + TN) in the group; NULL when the denominator is 0';

CREATE FUNCTION aisec.false_negative_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_false_negative_rate';
REVOKE ALL ON FUNCTION aisec.false_negative_rate(aisec.fairness_stats, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.false_negative_rate(aisec.fairness_stats, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.false_negative_rate(aisec.fairness_stats, text) IS 'FN / (TP + FN) in the group; NULL when the denominator is 0';

CREATE FUNCTION aisec.true_negative_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_true_negative_rate';
REVOKE ALL ON FUNCTION aisec.true_negative_rate(aisec.fairness_stats, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.true_negative_rate(aisec.fairness_stats, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.true_negative_rate(aisec.fairness_stats, text) IS 'TN / (FP + TN) in the group (specificity); NULL when the denominator is 0';

CREATE FUNCTION aisec.positive_predictive_value(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_positive_predictive_value';
REVOKE ALL ON FUNCTION aisec.positive_predictive_value(aisec.fairness_stats, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.positive_predictive_value(aisec.fairness_stats, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.positive_predictive_value(aisec.fairness_stats, text) IS 'TP / (TP + FP) in the group (precision); NULL when the denominator is 0';

CREATE FUNCTION aisec.negative_predictive_value(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_negative_predictive_value';
REVOKE ALL ON FUNCTION aisec.negative_predictive_value(aisec.fairness_stats, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.negative_predictive_value(aisec.fairness_stats, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.negative_predictive_value(aisec.fairness_stats, text) IS 'TN / (TN + FN) in the group; NULL when the denominator is 0';

CREATE FUNCTION aisec.false_discovery_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_false_discovery_rate';
REVOKE ALL ON FUNCTION aisec.false_discovery_rate(aisec.fairness_stats, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.false_discovery_rate(aisec.fairness_stats, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.false_discovery_rate(aisec.fairness_stats, text) IS 'FP / (TP + FP) in the group; NULL when the denominator is 0';

CREATE FUNCTION aisec.false_omission_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_false_omission_rate';
REVOKE ALL ON FUNCTION aisec.false_omission_rate(aisec.fairness_stats, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.false_omission_rate(aisec.fairness_stats, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.false_omission_rate(aisec.fairness_stats, text) IS 'FN / (TN + FN) in the group; NULL when the denominator is 0';

CREATE FUNCTION aisec.accuracy(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_accuracy';
REVOKE ALL ON FUNCTION aisec.accuracy(aisec.fairness_stats, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.accuracy(aisec.fairness_stats, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.accuracy(aisec.fairness_stats, text) IS '(TP + TN) / (TP + FP + FN + TN) in the group; NULL when the denominator is 0';

CREATE FUNCTION aisec.error_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_error_rate';
REVOKE ALL ON FUNCTION aisec.error_rate(aisec.fairness_stats, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.error_rate(aisec.fairness_stats, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.error_rate(aisec.fairness_stats, text) IS '(FP + FN) / (TP + FP + FN + TN) in the group; NULL when the denominator is 0';

-- Between all groups, Fairlearn conventions: difference = max - min >= 0,
-- ratio = min / max <= 1.
CREATE FUNCTION aisec.demographic_parity_difference(s aisec.fairness_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_demographic_parity_difference';
REVOKE ALL ON FUNCTION aisec.demographic_parity_difference(aisec.fairness_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.demographic_parity_difference(aisec.fairness_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.demographic_parity_difference(aisec.fairness_stats) IS 'largest minus smallest selection rate over groups (Fairlearn)';

CREATE FUNCTION aisec.demographic_parity_ratio(s aisec.fairness_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_demographic_parity_ratio';
REVOKE ALL ON FUNCTION aisec.demographic_parity_ratio(aisec.fairness_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.demographic_parity_ratio(aisec.fairness_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.demographic_parity_ratio(aisec.fairness_stats) IS 'smallest over largest selection rate over groups (Fairlearn)';

CREATE FUNCTION aisec.equalized_odds_difference(s aisec.fairness_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_equalized_odds_difference';
REVOKE ALL ON FUNCTION aisec.equalized_odds_difference(aisec.fairness_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.equalized_odds_difference(aisec.fairness_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.equalized_odds_difference(aisec.fairness_stats) IS 'larger of the TPR and FPR differences between groups (Fairlearn)';

CREATE FUNCTION aisec.equalized_odds_ratio(s aisec.fairness_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_equalized_odds_ratio';
REVOKE ALL ON FUNCTION aisec.equalized_odds_ratio(aisec.fairness_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.equalized_odds_ratio(aisec.fairness_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.equalized_odds_ratio(aisec.fairness_stats) IS 'smaller of the TPR and FPR ratios between groups (Fairlearn)';

CREATE FUNCTION aisec.equal_opportunity_difference(s aisec.fairness_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_equal_opportunity_difference';
REVOKE ALL ON FUNCTION aisec.equal_opportunity_difference(aisec.fairness_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.equal_opportunity_difference(aisec.fairness_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.equal_opportunity_difference(aisec.fairness_stats) IS 'largest minus smallest true positive rate over groups (Fairlearn)';

CREATE FUNCTION aisec.equal_opportunity_ratio(s aisec.fairness_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_equal_opportunity_ratio';
REVOKE ALL ON FUNCTION aisec.equal_opportunity_ratio(aisec.fairness_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.equal_opportunity_ratio(aisec.fairness_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.equal_opportunity_ratio(aisec.fairness_stats) IS 'smallest over largest true positive rate over groups (Fairlearn)';

-- Unprivileged vs privileged group, AIF360 conventions (signed).
CREATE FUNCTION aisec.disparate_impact(s aisec.fairness_stats, unprivileged text, privileged text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_disparate_impact';
REVOKE ALL ON FUNCTION aisec.disparate_impact(aisec.fairness_stats, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.disparate_impact(aisec.fairness_stats, text, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.disparate_impact(aisec.fairness_stats, text, text) IS 'selection rate of the unprivileged group over the privileged group''s (AIF360)';

CREATE FUNCTION aisec.statistical_parity_difference(s aisec.fairness_stats, unprivileged text, privileged text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_statistical_parity_difference';
REVOKE ALL ON FUNCTION aisec.statistical_parity_difference(aisec.fairness_stats, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.statistical_parity_difference(aisec.fairness_stats, text, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.statistical_parity_difference(aisec.fairness_stats, text, text) IS 'selection rate of the unprivileged group minus the privileged group''s (AIF360)';

CREATE FUNCTION aisec.average_odds_difference(s aisec.fairness_stats, unprivileged text, privileged text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_average_odds_difference';
REVOKE ALL ON FUNCTION aisec.average_odds_difference(aisec.fairness_stats, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.average_odds_difference(aisec.fairness_stats, text, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.average_odds_difference(aisec.fairness_stats, text, text) IS 'mean of the FPR and TPR differences, unprivileged minus privileged (AIF360)';

CREATE FUNCTION aisec.average_abs_odds_difference(s aisec.fairness_stats, unprivileged text, privileged text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_average_abs_odds_difference';
REVOKE ALL ON FUNCTION aisec.average_abs_odds_difference(aisec.fairness_stats, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.average_abs_odds_difference(aisec.fairness_stats, text, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.average_abs_odds_difference(aisec.fairness_stats, text, text) IS 'mean of the absolute FPR and TPR differences (AIF360)';

CREATE FUNCTION aisec.equal_opportunity_difference(s aisec.fairness_stats, unprivileged text, privileged text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_equal_opportunity_difference_pair';
REVOKE ALL ON FUNCTION aisec.equal_opportunity_difference(aisec.fairness_stats, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.equal_opportunity_difference(aisec.fairness_stats, text, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.equal_opportunity_difference(aisec.fairness_stats, text, text) IS 'true positive rate of the unprivileged group minus the privileged group''s (AIF360)';
