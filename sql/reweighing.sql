-- Reweighing (Kamiran and Calders; AIF360's Reweighing pre-processor):
-- weight(g, y) = P(g) P(y) / P(g, y), which makes group and label
-- independent in the reweighted data.

-- A biased training set: group a has 60 positives of 100, group b 20 of 100.
CREATE TABLE rw (id int, grp text, label boolean);
INSERT INTO rw
SELECT i, 'a', i <= 60 FROM generate_series(1, 100) i UNION ALL
SELECT 100 + i, 'b', i <= 20 FROM generate_series(1, 100) i;

-- By hand: P(a) = P(b) = 1/2, P(true) = 80/200 = 0.4, P(false) = 0.6;
-- weight(a, true) = 0.5 * 0.4 / 0.3 = 2/3, weight(a, false) = 0.5 * 0.6 / 0.2 = 1.5,
-- weight(b, true) = 0.5 * 0.4 / 0.1 = 2, weight(b, false) = 0.5 * 0.6 / 0.4 = 0.75.
-- Labels enter as y_true; y_pred is not used.
SELECT * FROM aisec.reweighing((SELECT aisec.fairness(grp, label, NULL) FROM rw)) ORDER BY grp, label;

-- Before: statistical parity difference of the labels is 0.2 - 0.6 = -0.4.
-- After: with each row weighted by its (group, label) weight, every group's
-- weighted positive rate is P(true), so the difference is 0 (to rounding),
-- and the total weight (200) is kept, as AIF360's test_reweighing checks.
CREATE TABLE rw_weights AS
SELECT * FROM aisec.reweighing((SELECT aisec.fairness(grp, label, NULL) FROM rw));
SELECT round(aisec.statistical_parity_difference(aisec.fairness(grp, label, label), 'b', 'a')::numeric, 12) AS spd_before
FROM rw;
SELECT abs(aisec.statistical_parity_difference(aisec.fairness(r.grp, r.label, r.label, w.weight), 'b', 'a')) < 1e-12 AS spd_zero,
       abs(aisec.disparate_impact(aisec.fairness(r.grp, r.label, r.label, w.weight), 'b', 'a') - 1) < 1e-12 AS di_one,
       round(sum(w.weight)::numeric, 9) AS total_weight
FROM rw r JOIN rw_weights w ON w.grp = r.grp AND w.label = r.label;

-- With existing instance weights (e.g. survey weights), reweighing is
-- computed on the weighted data and multiplies them.  Three groups, uneven
-- weights, a NULL group and NULL labels (which take no part): the weighted
-- statistical parity difference between every pair is still 0 (their
-- max - min, the demographic parity difference, is 0).
CREATE TABLE rw3 (grp text, label boolean, w float8);
INSERT INTO rw3
SELECT (ARRAY['x', 'y', 'z', NULL])[1 + i % 4],
       CASE WHEN i % 11 = 0 THEN NULL ELSE (i * 7) % 10 < 1 + i % 4 * 2 END,
       1 + (i % 5) * 0.37
FROM generate_series(1, 4000) i;
CREATE TABLE rw3_weights AS
SELECT * FROM aisec.reweighing((SELECT aisec.fairness(grp, label, NULL, w) FROM rw3));
SELECT count(*) AS rows, count(weight) AS with_weight FROM rw3_weights;
SELECT round(aisec.demographic_parity_difference(aisec.fairness(r.grp, r.label, r.label, r.w))::numeric, 4) AS dpd_before,
       aisec.demographic_parity_difference(
           aisec.fairness(r.grp, r.label, r.label, r.w * rw.weight) FILTER (WHERE r.label IS NOT NULL)) < 1e-12 AS dpd_after_zero,
       abs(sum(r.w * rw.weight) FILTER (WHERE r.label IS NOT NULL)
           - sum(r.w) FILTER (WHERE r.label IS NOT NULL)) < 1e-9 AS total_kept
FROM rw3 r LEFT JOIN rw3_weights rw
  ON rw.grp IS NOT DISTINCT FROM r.grp AND rw.label = r.label;

-- A (group, label) combination without rows gets no weight: NULL.
SELECT * FROM aisec.reweighing((SELECT aisec.fairness(g, y, NULL) FROM (VALUES ('only_pos', true), ('mixed', true), ('mixed', false)) v(g, y)))
ORDER BY grp, label;
-- A group whose labels are all unknown has no weights either.
SELECT * FROM aisec.reweighing((SELECT aisec.fairness(g, y, NULL) FROM (VALUES ('unlabelled', NULL::boolean), ('mixed', true), ('mixed', false)) v(g, y)))
ORDER BY grp, label;
