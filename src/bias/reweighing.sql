-- reweighing.sql: Kamiran-Calders reweighing weights (reweighing.c).

CREATE FUNCTION aisec.reweighing(s aisec.fairness_stats)
    RETURNS TABLE (grp text, label boolean, weight float8)
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 16
    AS 'MODULE_PATHNAME', 'aisec_reweighing';
REVOKE ALL ON FUNCTION aisec.reweighing(aisec.fairness_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.reweighing(aisec.fairness_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.reweighing(aisec.fairness_stats) IS 'Kamiran-Calders reweighing (AIF360 Reweighing): weight(g, y) = P(g) P(y) / P(g, y) over y_true; multiply each row''s weight by it';
