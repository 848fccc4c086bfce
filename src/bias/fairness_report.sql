-- fairness_report.sql: the per-group fairness report and its SVG chart
-- (fairness_report.c).

CREATE FUNCTION aisec.fairness_report(
    s aisec.fairness_stats,
    reference text DEFAULT NULL,
    confidence float8 DEFAULT 0.95)
    RETURNS TABLE (
        grp text,
        is_reference boolean,
        n bigint,
        weight float8,
        base_rate float8,
        selection_rate float8,
        selection_rate_low float8,
        selection_rate_high float8,
        tpr float8,
        tpr_low float8,
        tpr_high float8,
        fpr float8,
        fpr_low float8,
        fpr_high float8,
        fnr float8,
        tnr float8,
        ppv float8,
        npv float8,
        accuracy float8,
        selection_rate_ratio float8,
        ratio_low float8,
        ratio_high float8,
        four_fifths text)
    LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 8
    AS 'MODULE_PATHNAME', 'aisec_fairness_report';
REVOKE ALL ON FUNCTION aisec.fairness_report(aisec.fairness_stats, text, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.fairness_report(aisec.fairness_stats, text, float8) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.fairness_report(aisec.fairness_stats, text, float8) IS 'one row per group: rates, Wilson intervals, selection-rate ratio to the reference group (default: the largest) with its MOVER-R interval, and a four-fifths verdict (pass, fail, insufficient data)';

CREATE FUNCTION aisec.fairness_svg(
    s aisec.fairness_stats,
    reference text DEFAULT NULL,
    confidence float8 DEFAULT 0.95)
    RETURNS text
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_fairness_svg';
REVOKE ALL ON FUNCTION aisec.fairness_svg(aisec.fairness_stats, text, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.fairness_svg(aisec.fairness_stats, text, float8) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.fairness_svg(aisec.fairness_stats, text, float8) IS 'SVG chart of per-group selection rates with Wilson intervals and the four-fifths band';
