--
-- aisec's aggregates on a distributed table (issue 19, item 1).
--
-- Every mergeable aisec aggregate over a Citus table of 200,000 rows in 32
-- shards must (1) give what the same aggregate gives over a local copy of
-- the table (counts exactly, floating-point sums and metrics within 1e-12
-- relative), and (2) run as partial aggregates on the workers: the worker
-- query calls worker_partial_agg(), the coordinator coord_combine_agg(),
-- and only one state per shard (per group) crosses to the coordinator, not
-- the rows.  Grouped by the distribution column, the whole aggregate runs
-- on the workers.
--
SET citus.shard_count = 32;
SET citus.next_shard_id = 1910000;
-- One EXPLAIN task per plan, whatever the worker.
SET citus.explain_all_tasks = off;

-- Helpers of this file (00_setup has the suite's: close_enough,
-- explain_verbose, where_aggregated).
-- The cells of a fairness state, from its JSON text form.
CREATE FUNCTION fairness_cells(s aisec.fairness_stats)
RETURNS TABLE (cell text, n bigint, weight float8, weight_sq float8)
LANGUAGE sql IMMUTABLE
AS $$
SELECT concat_ws('/', coalesce(quote_literal(g ->> 'group'), 'NULL'),
                 coalesce(c ->> 'y_true', '?'), coalesce(c ->> 'y_pred', '?')),
       (c ->> 'rows')::bigint, (c ->> 'weight')::float8, (c ->> 'weight_sq')::float8
FROM jsonb_array_elements(s::text::jsonb -> 'groups') g,
     jsonb_array_elements(g -> 'cells') c
$$;

-- How many cells of two fairness states differ: a row count at all, a
-- weight sum by more than 1e-12 relative (or a cell only one state has).
CREATE FUNCTION fairness_differences(a aisec.fairness_stats, b aisec.fairness_stats)
RETURNS bigint
LANGUAGE sql IMMUTABLE
AS $$
SELECT count(*)
FROM fairness_cells(a) x FULL JOIN fairness_cells(b) y ON x.cell = y.cell
WHERE x.n IS DISTINCT FROM y.n
   OR NOT close_enough(x.weight, y.weight)
   OR NOT close_enough(x.weight_sq, y.weight_sq)
$$;

-- The data: 200,000 rows; groups, labels, predictions, values and
-- categories each NULL in some rows; positive weights with long binary
-- fractions (so that their sums depend on the order of addition), some 0.
-- Selection and base rates differ by group.  "region" (64 values) is the
-- distribution column.
CREATE TABLE agg_local AS
SELECT i AS id,
       i % 64 AS region,
       i % 10 AS day,
       CASE WHEN i % 17 = 0 THEN NULL ELSE 'g' || (i * 7) % 9 END AS grp,
       CASE WHEN i % 23 = 0 THEN NULL ELSE (i * 37) % 100 < 30 + (i % 9) * 3 END AS y,
       CASE WHEN i % 29 = 0 THEN NULL ELSE (i * 53 + 11) % 100 < 25 + (i % 9) * 4 END AS p,
       (((i * 7919) % 1009) / 1009.0 * 3)::float8 AS w,
       CASE WHEN i % 31 = 0 THEN NULL ELSE (((i::bigint * 2654435761) % 100000) / 1000.0 - 10)::float8 END AS x,
       CASE WHEN i % 19 = 0 THEN NULL ELSE 'c' || (i * 13) % 5 END AS cat
FROM generate_series(1, 200000) i;
SELECT count(*) AS rows, count(grp) AS grp, count(y) AS y, count(p) AS p,
       count(x) AS x, count(cat) AS cat, count(*) FILTER (WHERE w = 0) AS zero_weights
FROM agg_local;

CREATE TABLE agg_dist (LIKE agg_local);
SELECT create_distributed_table('agg_dist', 'region');
INSERT INTO agg_dist SELECT * FROM agg_local;
SELECT count(*) AS shards FROM pg_dist_shard WHERE logicalrelid = 'agg_dist'::regclass;
SELECT count(*) AS rows FROM agg_dist;

-- Stored states, one per (region, day): the input of the *_merge
-- aggregates.  The distributed table of states is co-located with agg_dist,
-- so INSERT ... SELECT runs on the workers.
CREATE TABLE states_local AS
SELECT region, day,
       aisec.fairness(grp, y, p, w) AS f,
       aisec.contingency(grp, cat) AS c,
       aisec.histogram(x, 0, 80, 16) AS h,
       aisec.category_counts(cat) AS k
FROM agg_local GROUP BY region, day;
CREATE TABLE states_dist (LIKE states_local);
SELECT create_distributed_table('states_dist', 'region', colocate_with => 'agg_dist');
INSERT INTO states_dist
SELECT region, day,
       aisec.fairness(grp, y, p, w), aisec.contingency(grp, cat),
       aisec.histogram(x, 0, 80, 16), aisec.category_counts(cat)
FROM agg_dist GROUP BY region, day;
SELECT count(*) AS states FROM states_dist;

--
-- 1. Where each aggregate runs.  Partial aggregation needs a combine
--    function and a transition type that is not a pseudo-type (Citus
--    ships the state between nodes in its text form).  On the workers,
--    aisec plans Citus's worker_partial_agg(<aggregate>, ROW(...)) as
--    aisec.<aggregate>_partial(...), without Citus's per-row wrapper
--    (src/scaleout/partial.c).
--
SELECT agg, where_aggregated(q),
       (SELECT bool_or(l ~ 'Output: .*aisec\.[a-z_]+_partial\(') FROM explain_verbose(q) l) AS runs_aisec_partial
FROM (VALUES
    ('fairness/3',                'SELECT aisec.fairness(grp, y, p) FROM agg_dist'),
    ('fairness/4',                'SELECT aisec.fairness(grp, y, p, w) FROM agg_dist'),
    ('fairness_merge',            'SELECT aisec.fairness_merge(f) FROM states_dist'),
    ('contingency',               'SELECT aisec.contingency(grp, cat) FROM agg_dist'),
    ('contingency_merge',         'SELECT aisec.contingency_merge(c) FROM states_dist'),
    ('histogram',                 'SELECT aisec.histogram(x, 0, 80, 16) FROM agg_dist'),
    ('histogram_merge',           'SELECT aisec.histogram_merge(h) FROM states_dist'),
    ('category_counts',           'SELECT aisec.category_counts(cat) FROM agg_dist'),
    ('category_counts_merge',     'SELECT aisec.category_counts_merge(k) FROM states_dist'),
    ('generalized_entropy_index', 'SELECT aisec.generalized_entropy_index(y, p, 2) FROM agg_dist'),
    ('theil_index',               'SELECT aisec.theil_index(y, p) FROM agg_dist'),
    ('fairness/4 by cat',         'SELECT cat, aisec.fairness(grp, y, p, w) FROM agg_dist GROUP BY cat'),
    ('fairness/4 by region',      'SELECT region, aisec.fairness(grp, y, p, w) FROM agg_dist GROUP BY region')
) v(agg, q);

-- The plans in full, for one aggregate without GROUP BY, grouped by
-- another column, and grouped by the distribution column.
SELECT explain_verbose('SELECT aisec.fairness(grp, y, p) FROM agg_dist');
SELECT explain_verbose('SELECT cat, aisec.fairness(grp, y, p, w) FROM agg_dist GROUP BY cat');
SELECT explain_verbose('SELECT region, aisec.fairness(grp, y, p, w) FROM agg_dist GROUP BY region');

--
-- 2. Distributed results against the local copy's.
--

-- fairness, unweighted: the same state, byte for byte (every weight is 1,
-- so every sum is an exact count).
WITH d AS (SELECT aisec.fairness(grp, y, p) AS s FROM agg_dist),
     l AS (SELECT aisec.fairness(grp, y, p) AS s FROM agg_local)
SELECT d.s::text = l.s::text AS same_state,
       fairness_differences(d.s, l.s) AS differing_cells,
       (SELECT count(*) FROM fairness_cells(d.s)) AS cells,
       jsonb_array_length(d.s::text::jsonb -> 'groups') AS groups
FROM d, l;

-- The per-group rates of the distributed state (NULL group last).
WITH d AS (SELECT aisec.fairness(grp, y, p) AS s FROM agg_dist)
SELECT g.grp, r.n, round(r.selection_rate::numeric, 6) AS selection_rate,
       round(r.true_positive_rate::numeric, 6) AS tpr
FROM d,
     LATERAL (SELECT DISTINCT grp FROM agg_local) g,
     LATERAL (SELECT (SELECT sum(n) FROM fairness_cells(d.s) c
                      WHERE c.cell LIKE coalesce(quote_literal(g.grp), 'NULL') || '/%') AS n,
                     aisec.selection_rate(d.s, g.grp) AS selection_rate,
                     aisec.true_positive_rate(d.s, g.grp) AS true_positive_rate) r
ORDER BY g.grp NULLS LAST;

-- fairness, weighted: row counts exactly, weight sums within 1e-12; and
-- the metrics derived from them.
WITH d AS (SELECT aisec.fairness(grp, y, p, w) AS s FROM agg_dist),
     l AS (SELECT aisec.fairness(grp, y, p, w) AS s FROM agg_local)
SELECT fairness_differences(d.s, l.s) AS differing_cells,
       close_enough(aisec.demographic_parity_difference(d.s),
                    aisec.demographic_parity_difference(l.s)) AS dpd,
       close_enough(aisec.equalized_odds_difference(d.s),
                    aisec.equalized_odds_difference(l.s)) AS eod,
       close_enough(aisec.disparate_impact(d.s, 'g1', 'g8'),
                    aisec.disparate_impact(l.s, 'g1', 'g8')) AS di,
       round(aisec.demographic_parity_difference(d.s)::numeric, 6) AS dpd_value
FROM d, l;

-- The comparison can fail: one row less on one side is found.
WITH d AS (SELECT aisec.fairness(grp, y, p, w) AS s FROM agg_dist),
     l AS (SELECT aisec.fairness(grp, y, p, w) AS s FROM agg_local WHERE id <> 4242)
SELECT fairness_differences(d.s, l.s) AS differing_cells FROM d, l;

-- fairness_merge of the stored states: the weighted state of a single
-- scan, within 1e-12, on both sides.
WITH d AS (SELECT aisec.fairness_merge(f) AS s FROM states_dist),
     l AS (SELECT aisec.fairness_merge(f) AS s FROM states_local),
     scan AS (SELECT aisec.fairness(grp, y, p, w) AS s FROM agg_local)
SELECT fairness_differences(d.s, l.s) AS dist_vs_local,
       fairness_differences(d.s, scan.s) AS dist_vs_scan
FROM d, l, scan;

-- contingency, histogram, category_counts and their merges: counts, so
-- the same value exactly.
WITH d AS (SELECT aisec.contingency(grp, cat) AS c, aisec.histogram(x, 0, 80, 16) AS h,
                  aisec.category_counts(cat) AS k FROM agg_dist),
     l AS (SELECT aisec.contingency(grp, cat) AS c, aisec.histogram(x, 0, 80, 16) AS h,
                  aisec.category_counts(cat) AS k FROM agg_local)
SELECT d.c::text = l.c::text AS contingency,
       d.h::text = l.h::text AS histogram,
       d.k::text = l.k::text AS category_counts
FROM d, l;

WITH d AS (SELECT aisec.contingency_merge(c) AS c, aisec.histogram_merge(h) AS h,
                  aisec.category_counts_merge(k) AS k FROM states_dist),
     l AS (SELECT aisec.contingency(grp, cat) AS c, aisec.histogram(x, 0, 80, 16) AS h,
                  aisec.category_counts(cat) AS k FROM agg_local)
SELECT d.c::text = l.c::text AS contingency_merge,
       d.h::text = l.h::text AS histogram_merge,
       d.k::text = l.k::text AS category_counts_merge
FROM d, l;

-- What they hold: the distributed values, read back.
SELECT (aisec.chi2_test(aisec.contingency(grp, cat))).dof,
       round(aisec.cramers_v(aisec.contingency(grp, cat))::numeric, 6) AS cramers_v
FROM agg_dist;
SELECT b.bin, b.lower, b.upper, b.count
FROM (SELECT aisec.histogram(x, 0, 80, 16) AS h FROM agg_dist) d,
     aisec.histogram_bins(d.h) b
WHERE b.bin IN (0, 1, 16, 17);
SELECT f.value, f.count
FROM (SELECT aisec.category_counts(cat) AS k FROM agg_dist) d,
     aisec.category_frequencies(d.k) f;

-- generalized_entropy_index and theil_index: within 1e-12.
WITH d AS (SELECT aisec.generalized_entropy_index(y, p, 2) AS ge2,
                  aisec.generalized_entropy_index(y, p, 0.5) AS ge05,
                  aisec.theil_index(y, p) AS theil FROM agg_dist),
     l AS (SELECT aisec.generalized_entropy_index(y, p, 2) AS ge2,
                  aisec.generalized_entropy_index(y, p, 0.5) AS ge05,
                  aisec.theil_index(y, p) AS theil FROM agg_local)
SELECT close_enough(d.ge2, l.ge2) AS ge2, close_enough(d.ge05, l.ge05) AS ge05,
       close_enough(d.theil, l.theil) AS theil,
       round(d.ge2::numeric, 8) AS ge2_value, round(d.theil::numeric, 8) AS theil_value
FROM d, l;

--
-- 3. GROUP BY.
--

-- By a column other than the distribution column: partial states per
-- (shard, group), combined per group on the coordinator.
WITH d AS (SELECT cat, aisec.fairness(grp, y, p, w) AS f, aisec.histogram(x, 0, 80, 16) AS h,
                  aisec.theil_index(y, p) AS t FROM agg_dist GROUP BY cat),
     l AS (SELECT cat, aisec.fairness(grp, y, p, w) AS f, aisec.histogram(x, 0, 80, 16) AS h,
                  aisec.theil_index(y, p) AS t FROM agg_local GROUP BY cat)
SELECT count(*) AS groups,
       count(*) FILTER (WHERE fairness_differences(d.f, l.f) = 0
                          AND d.h::text = l.h::text
                          AND close_enough(d.t, l.t)) AS equal
FROM d JOIN l ON d.cat IS NOT DISTINCT FROM l.cat;

-- By the distribution column: each group lives in one shard, so the
-- whole aggregate runs there.
WITH d AS (SELECT region, aisec.fairness(grp, y, p, w) AS f, aisec.contingency(grp, cat) AS c,
                  aisec.generalized_entropy_index(y, p, 2) AS ge FROM agg_dist GROUP BY region),
     l AS (SELECT region, aisec.fairness(grp, y, p, w) AS f, aisec.contingency(grp, cat) AS c,
                  aisec.generalized_entropy_index(y, p, 2) AS ge FROM agg_local GROUP BY region)
SELECT count(*) AS groups,
       count(*) FILTER (WHERE fairness_differences(d.f, l.f) = 0
                          AND d.c::text = l.c::text
                          AND close_enough(d.ge, l.ge)) AS equal
FROM d JOIN l USING (region);

-- Merges grouped by a non-distribution column (day).
WITH d AS (SELECT day, aisec.fairness_merge(f) AS f, aisec.category_counts_merge(k) AS k
           FROM states_dist GROUP BY day),
     l AS (SELECT day, aisec.fairness_merge(f) AS f, aisec.category_counts_merge(k) AS k
           FROM states_local GROUP BY day)
SELECT count(*) AS groups,
       count(*) FILTER (WHERE fairness_differences(d.f, l.f) = 0 AND d.k::text = l.k::text) AS equal
FROM d JOIN l USING (day);

-- An empty distributed input gives NULL, as on one node.
SELECT aisec.fairness(grp, y, p) IS NULL AS fairness_null,
       aisec.contingency(grp, cat) IS NULL AS contingency_null,
       aisec.theil_index(y, p) IS NULL AS theil_null
FROM agg_dist WHERE id < 0;

-- 3. With aisec.citus_partial_aggregates off on the workers, Citus's own
--    worker_partial_agg wrapper runs, and gives the same states.
SELECT bool_and(success) AS set_off FROM run_command_on_workers('ALTER SYSTEM SET aisec.citus_partial_aggregates = off');
SELECT bool_and(success) AS reloaded FROM run_command_on_workers('SELECT pg_reload_conf()');
SELECT pg_sleep(0.2);
SELECT (SELECT bool_or(l ~ 'Output: .*aisec\.[a-z_]+_partial\(') FROM explain_verbose('SELECT aisec.fairness(grp, y, p) FROM agg_dist') l) AS runs_aisec_partial;
CREATE TABLE states_wrapper AS
SELECT aisec.fairness(grp, y, p)::text AS f, aisec.contingency(grp, cat)::text AS c,
       aisec.histogram(x, 0, 80, 16)::text AS h, aisec.category_counts(cat)::text AS k,
       aisec.theil_index(y, p) AS t, aisec.generalized_entropy_index(y, p, 2) AS ge
FROM agg_dist;
SELECT bool_and(success) AS reset FROM run_command_on_workers('ALTER SYSTEM RESET aisec.citus_partial_aggregates');
SELECT bool_and(success) AS reloaded FROM run_command_on_workers('SELECT pg_reload_conf()');
SELECT pg_sleep(0.2);
WITH a AS (SELECT aisec.fairness(grp, y, p)::text AS f, aisec.contingency(grp, cat)::text AS c,
                  aisec.histogram(x, 0, 80, 16)::text AS h, aisec.category_counts(cat)::text AS k,
                  aisec.theil_index(y, p) AS t, aisec.generalized_entropy_index(y, p, 2) AS ge
           FROM agg_dist)
SELECT a.f = w.f AS fairness, a.c = w.c AS contingency, a.h = w.h AS histogram,
       a.k = w.k AS category_counts, close_enough(a.t, w.t) AS theil, close_enough(a.ge, w.ge) AS ge
FROM a, states_wrapper w;
SELECT (SELECT bool_or(l ~ 'Output: .*aisec\.[a-z_]+_partial\(') FROM explain_verbose('SELECT aisec.fairness(grp, y, p) FROM agg_dist') l) AS runs_aisec_partial;

-- 4. The shard queries of fairness run in aisec's aggregate scan
--    (src/core/aggscan.c); with aisec.aggregate_scan off on the workers,
--    in the Aggregate node, with the same states.
SELECT (SELECT bool_or(l ~ 'Custom Scan \(aisec_aggregate_scan\)') FROM explain_verbose('SELECT aisec.fairness(grp, y, p) FROM agg_dist') l) AS aggregate_scan;
CREATE TABLE states_scan AS
SELECT aisec.fairness(grp, y, p)::text AS f, aisec.fairness(grp, y, p, w)::text AS fw FROM agg_dist;
SELECT bool_and(success) AS set_off FROM run_command_on_workers('ALTER SYSTEM SET aisec.aggregate_scan = off');
SELECT bool_and(success) AS reloaded FROM run_command_on_workers('SELECT pg_reload_conf()');
SELECT pg_sleep(0.2);
SELECT (SELECT bool_or(l ~ 'Custom Scan \(aisec_aggregate_scan\)') FROM explain_verbose('SELECT aisec.fairness(grp, y, p) FROM agg_dist') l) AS aggregate_scan;
SELECT s.f = a.f AS fairness, fairness_differences(s.fw::aisec.fairness_stats, a.fw::aisec.fairness_stats) AS weighted_differing_cells
FROM states_scan s,
     (SELECT aisec.fairness(grp, y, p)::text AS f, aisec.fairness(grp, y, p, w)::text AS fw FROM agg_dist) a;
SELECT bool_and(success) AS reset FROM run_command_on_workers('ALTER SYSTEM RESET aisec.aggregate_scan');
SELECT bool_and(success) AS reloaded FROM run_command_on_workers('SELECT pg_reload_conf()');
SELECT pg_sleep(0.2);

DROP TABLE states_dist, states_local, agg_dist, agg_local, states_wrapper, states_scan;
