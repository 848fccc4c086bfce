-- Bias statistics in parallel and partitioned plans: the combine functions,
-- and partial states handed over as values of their types, must give the
-- same answer as a serial scan.

-- 60000 rows, 8 groups of very different sizes (g0: 1 row in 255, g1: 2,
-- g2: 4, ..., g7: 128) and rates, weights that are
-- not exactly representable sums (so the order of additions differs between
-- plans), some NULL labels and a NULL group.
CREATE TABLE fp (id int, grp text, y boolean, p boolean, w float8);
INSERT INTO fp
SELECT i,
       CASE WHEN i % 97 = 0 THEN NULL ELSE 'g' || floor(log(2, 1 + i % 255))::int END,
       CASE WHEN i % 53 = 0 THEN NULL ELSE (i * 7) % 10 < 3 + (i % 8) / 2 END,
       CASE WHEN i % 61 = 0 THEN NULL ELSE (i * 13) % 10 < 2 + (i % 8) END,
       0.1 + (i % 17) / 7.0
FROM generate_series(1, 60000) i;
ANALYZE fp;

-- The same data in a partitioned table whose partitions hold very different
-- groups: one partition only g0..g2, one only g3, one the rest.
CREATE TABLE fpp (id int, grp text, y boolean, p boolean, w float8) PARTITION BY LIST (grp);
CREATE TABLE fpp_a PARTITION OF fpp FOR VALUES IN ('g0', 'g1', 'g2');
CREATE TABLE fpp_b PARTITION OF fpp FOR VALUES IN ('g3');
CREATE TABLE fpp_c PARTITION OF fpp DEFAULT;
INSERT INTO fpp SELECT * FROM fp;
ANALYZE fpp;

-- A compact fingerprint of everything a state says: per group, every rate
-- of the report.
CREATE FUNCTION fp_summary(s aisec.fairness_stats)
RETURNS TABLE (grp text, n bigint, weight float8, base float8, sel float8, tpr float8,
               fpr float8, sel_low float8, sel_high float8, ratio float8)
LANGUAGE sql AS $$
    SELECT grp, n, weight, base_rate, selection_rate, tpr, fpr,
           selection_rate_low, selection_rate_high, selection_rate_ratio
    FROM aisec.fairness_report(s, 'g0')
$$;

-- Serial: the aggregate scan (core/aggscan.c) for the query of aisec.fairness
-- alone, the Agg node for the one below with the inequality aggregates.
SET max_parallel_workers_per_gather = 0;
EXPLAIN (COSTS OFF) SELECT aisec.fairness(grp, y, p, w) FROM fp;
CREATE TABLE serial AS
SELECT aisec.fairness(grp, y, p, w) AS weighted, aisec.fairness(grp, y, p) AS unweighted,
       aisec.generalized_entropy_index(y, p, 2) AS ge2, aisec.theil_index(y, p) AS theil
FROM fp;

-- Forced parallel: Partial Aggregate in the workers, Finalize Aggregate
-- (combining the partial states the workers hand over) in the leader.
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET parallel_leader_participation = off;
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                       THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END,
                  'on', false) AS forced;
EXPLAIN (COSTS OFF)
SELECT aisec.fairness(grp, y, p, w), aisec.fairness(grp, y, p),
       aisec.generalized_entropy_index(y, p, 2), aisec.theil_index(y, p)
FROM fp;
CREATE TABLE parallel AS
SELECT aisec.fairness(grp, y, p, w) AS weighted, aisec.fairness(grp, y, p) AS unweighted,
       aisec.generalized_entropy_index(y, p, 2) AS ge2, aisec.theil_index(y, p) AS theil
FROM fp;

-- Partitioned, with partition-wise aggregation: one partial state per
-- partition, combined.
RESET ALL;
SET max_parallel_workers_per_gather = 0;
SET enable_partitionwise_aggregate = on;
EXPLAIN (COSTS OFF) SELECT aisec.fairness(grp, y, p, w) FROM fpp;
CREATE TABLE partitioned AS
SELECT aisec.fairness(grp, y, p, w) AS weighted, aisec.fairness(grp, y, p) AS unweighted,
       aisec.generalized_entropy_index(y, p, 2) AS ge2, aisec.theil_index(y, p) AS theil
FROM fpp;
RESET ALL;

-- Row counts and unweighted states are exact in every plan: byte-identical.
SELECT (SELECT unweighted::bytea FROM serial) = (SELECT unweighted::bytea FROM parallel) AS parallel_same,
       (SELECT unweighted::bytea FROM serial) = (SELECT unweighted::bytea FROM partitioned) AS partitioned_same,
       (SELECT ge2 FROM serial) = (SELECT ge2 FROM parallel) AND (SELECT ge2 FROM serial) = (SELECT ge2 FROM partitioned) AS ge_same,
       (SELECT theil FROM serial) = (SELECT theil FROM parallel) AND (SELECT theil FROM serial) = (SELECT theil FROM partitioned) AS theil_same;

-- Weighted sums are added in a different order: equal to 1e-12.
SELECT s.grp, s.n = o.n AS n_same,
       abs(s.weight - o.weight) / s.weight < 1e-12 AS weight_same,
       abs(s.base - o.base) < 1e-12 AND abs(s.sel - o.sel) < 1e-12 AND abs(s.tpr - o.tpr) < 1e-12
       AND abs(s.fpr - o.fpr) < 1e-12 AND abs(s.sel_low - o.sel_low) < 1e-12
       AND abs(s.sel_high - o.sel_high) < 1e-12 AND abs(s.ratio - o.ratio) < 1e-12 AS rates_same,
       o.plan
FROM fp_summary((SELECT weighted FROM serial)) s
JOIN (SELECT 'parallel' AS plan, * FROM fp_summary((SELECT weighted FROM parallel))
      UNION ALL
      SELECT 'partitioned', * FROM fp_summary((SELECT weighted FROM partitioned))) o
  ON o.grp IS NOT DISTINCT FROM s.grp
ORDER BY o.plan, s.grp;

-- And the headline metrics agree to 1e-12 as well.
SELECT abs(aisec.demographic_parity_difference(a.weighted) - aisec.demographic_parity_difference(b.weighted)) < 1e-12 AS dpd,
       abs(aisec.equalized_odds_difference(a.weighted) - aisec.equalized_odds_difference(b.weighted)) < 1e-12 AS eod,
       abs(aisec.disparate_impact(a.weighted, 'g5', 'g0') - aisec.disparate_impact(b.weighted, 'g5', 'g0')) < 1e-12 AS di
FROM serial a, parallel b;
SELECT abs(aisec.demographic_parity_difference(a.weighted) - aisec.demographic_parity_difference(b.weighted)) < 1e-12 AS dpd,
       abs(aisec.equalized_odds_difference(a.weighted) - aisec.equalized_odds_difference(b.weighted)) < 1e-12 AS eod,
       abs(aisec.disparate_impact(a.weighted, 'g5', 'g0') - aisec.disparate_impact(b.weighted, 'g5', 'g0')) < 1e-12 AS di
FROM serial a, partitioned b;

-- The states themselves, for the record (unweighted, serial).
SELECT grp, n, selection_rate, base_rate FROM aisec.fairness_report((SELECT unweighted FROM serial));

DROP FUNCTION fp_summary(aisec.fairness_stats);
DROP TABLE fp, fpp, serial, parallel, partitioned;
