-- Aggregate states as SQL types (issue 19).  Citus runs a custom aggregate
-- as partial aggregates on its workers only when its transition type is a
-- real type (the state crosses nodes in its text form); so every mergeable
-- aisec aggregate keeps its state as its own SQL type, held in memory as an
-- expanded object (core/aggbox.c) and updated in place.  This file checks
-- that the states read back exactly from text and binary, and that every
-- kind of plan gives the same answer.

-- 4000 rows: groups of different sizes, a NULL group, NULL labels,
-- weights whose sums are not exact in binary, values outside the
-- histogram's range, NULL values and NULL categories.
CREATE TABLE agg_rows (id int, grp text, y boolean, p boolean, w float8,
                 x float8, region text, answer text);
INSERT INTO agg_rows
SELECT i,
       CASE WHEN i % 89 = 0 THEN NULL ELSE 'g' || floor(log(2, 1 + i % 63))::int END,
       CASE WHEN i % 53 = 0 THEN NULL ELSE (i * 7) % 10 < 3 + i % 5 END,
       CASE WHEN i % 61 = 0 THEN NULL ELSE (i * 13) % 10 < 2 + i % 7 END,
       0.1 + (i % 17) / 7.0,
       CASE WHEN i % 71 = 0 THEN NULL ELSE ((i * 7919) % 1300) / 10.0 - 15 END,
       CASE WHEN i % 83 = 0 THEN NULL ELSE (ARRAY['north', 'south', 'east', 'wést', 'centre'])[1 + (i * 31) % 5] END,
       CASE WHEN (i * 104729) % 100 < 40 + i % 8 * 3 THEN 'yes' ELSE 'no' END
FROM generate_series(1, 4000) i;
ANALYZE agg_rows;

-- 1. Every aisec aggregate with a combine function has a real transition
-- type and no serialize function; lineage_collect, which cannot merge,
-- keeps internal.
SELECT a.aggfnoid::regprocedure AS aggregate, a.aggtranstype::regtype AS state,
       a.aggcombinefn <> 0 AS combines, a.aggserialfn = 0 AND a.aggdeserialfn = 0 AS no_serialfn,
       a.aggtransspace AS sspace, p.proparallel
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
WHERE p.pronamespace = 'aisec'::regnamespace
ORDER BY 1::text;

-- Test-only aggregates that return the state itself (no final function),
-- as a partial aggregate on a Citus worker does, and agg_one that combines
-- stored states with the combine function.
CREATE AGGREGATE fair_state(text, boolean, boolean, float8) (
    SFUNC = aisec.fairness_weighted_transfn, STYPE = aisec.fairness_stats);
CREATE AGGREGATE ge_state(boolean, boolean, float8) (
    SFUNC = aisec.generalized_entropy_transfn, STYPE = aisec.inequality_stats);
CREATE AGGREGATE theil_state(boolean, boolean) (
    SFUNC = aisec.theil_transfn, STYPE = aisec.inequality_stats);
CREATE AGGREGATE fair_combine(aisec.fairness_stats) (
    SFUNC = aisec.fairness_combinefn, STYPE = aisec.fairness_stats);
CREATE AGGREGATE ge_combine(aisec.inequality_stats) (
    SFUNC = aisec.inequality_combinefn, STYPE = aisec.inequality_stats,
    FINALFUNC = aisec.generalized_entropy_finalfn);

-- 2. Values built by the aggregates, per region (NULL region included) and
-- over everything ('all'); an empty input gives NULL.
CREATE TABLE agg_vals AS
SELECT CASE WHEN grouping(region) = 1 THEN 'all' ELSE region END AS region,
       aisec.fairness(grp, y, p) AS f, aisec.fairness(grp, y, p, w) AS fw,
       fair_state(grp, y, p, w) AS fs,
       aisec.contingency(region, answer) AS c,
       aisec.histogram(x, 0, 100, 7) AS h,
       aisec.category_counts(answer) AS k,
       ge_state(y, p, 2) AS ge, theil_state(y, p) AS th
FROM agg_rows GROUP BY ROLLUP (region);
INSERT INTO agg_vals
SELECT 'empty', aisec.fairness(grp, y, p), aisec.fairness(grp, y, p, w), fair_state(grp, y, p, w),
       aisec.contingency(region, answer), aisec.histogram(x, 0, 100, 7),
       aisec.category_counts(answer), ge_state(y, p, 2), theil_state(y, p)
FROM agg_rows WHERE false;
-- Only NULL labels: the inequality state counts nothing (its index is NULL).
INSERT INTO agg_vals (region, ge, th)
SELECT 'unlabelled', ge_state(NULL, NULL, -0.0::float8), theil_state(NULL, p) FROM agg_rows WHERE id <= 3;
SELECT region, f IS NULL AS f_null, fs::bytea IS NOT DISTINCT FROM fw::bytea AS state_is_value, ge, th
FROM agg_vals ORDER BY region;

-- 3. Text round trip: reading a value's text gives the same bytes.
SELECT region,
       f::text::aisec.fairness_stats::bytea IS NOT DISTINCT FROM f::bytea AS f,
       fw::text::aisec.fairness_stats::bytea IS NOT DISTINCT FROM fw::bytea AS fw,
       c::text::aisec.contingency_stats::bytea IS NOT DISTINCT FROM c::bytea AS c,
       h::text::aisec.histogram_stats::bytea IS NOT DISTINCT FROM h::bytea AS h,
       k::text::aisec.category_stats::bytea IS NOT DISTINCT FROM k::bytea AS k,
       ge::text::aisec.inequality_stats::bytea IS NOT DISTINCT FROM ge::bytea AS ge,
       th::text::aisec.inequality_stats::bytea IS NOT DISTINCT FROM th::bytea AS th
FROM agg_vals ORDER BY region;
-- Also when extra_float_digits asks for fewer digits (Citus workers print
-- states with the session's settings): floats are printed in shortest
-- exact form regardless.
SET extra_float_digits = 0;
SELECT bool_and(fw::text::aisec.fairness_stats::bytea = fw::bytea) AS fw,
       bool_and(ge::text::aisec.inequality_stats::bytea = ge::bytea) AS ge
FROM agg_vals WHERE fw IS NOT NULL;
SELECT h, h::text::aisec.histogram_stats::bytea = h::bytea AS same
FROM (SELECT aisec.histogram(v, 0.1, 0.30000000000000004, 2) AS h
      FROM (VALUES (0.2::float8), (1e-300), (0.25)) t(v)) s;
SELECT g, g::text::aisec.inequality_stats::bytea = g::bytea AS same
FROM (SELECT ge_state(true, false, 0.1::float8 + 0.2::float8) AS g) s;
RESET extra_float_digits;
-- The text of a small weighted state, for the eye.
SELECT aisec.fairness(grp, y, p, w) FROM agg_rows WHERE id IN (1, 2, 89, 106);
SELECT ge, th FROM agg_vals WHERE region = 'all';

-- 4. Binary round trip: COPY BINARY out and in (send, recv).
CREATE TABLE agg_vals_back (LIKE agg_vals);
DO $$
BEGIN
    EXECUTE format('COPY agg_vals TO %L (FORMAT binary)',
                   current_setting('data_directory') || '/aisec_states.copy');
    EXECUTE format('COPY agg_vals_back FROM %L (FORMAT binary)',
                   current_setting('data_directory') || '/aisec_states.copy');
END
$$;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE a.f::bytea IS NOT DISTINCT FROM b.f::bytea
                          AND a.fw::bytea IS NOT DISTINCT FROM b.fw::bytea
                          AND a.c::bytea IS NOT DISTINCT FROM b.c::bytea
                          AND a.h::bytea IS NOT DISTINCT FROM b.h::bytea
                          AND a.k::bytea IS NOT DISTINCT FROM b.k::bytea
                          AND a.ge::bytea IS NOT DISTINCT FROM b.ge::bytea
                          AND a.th::bytea IS NOT DISTINCT FROM b.th::bytea) AS same
FROM agg_vals a JOIN agg_vals_back b ON a.region IS NOT DISTINCT FROM b.region;
-- The bytea casts: the inequality state's binary form is 0.1.0's
-- serialized partial state (version 1, kind 'G', counts and alpha big-endian).
SELECT ge::bytea, ge::bytea::aisec.inequality_stats::text = ge::text AS same
FROM agg_vals WHERE region = 'all';

-- 5. The same answer from every plan.  The reference: serial plain
-- aggregation over everything.
CREATE FUNCTION agg_all_states(OUT f text, OUT fw text, OUT c text, OUT h text, OUT k text,
                           OUT ge float8, OUT th float8) LANGUAGE sql AS $$
    SELECT aisec.fairness(grp, y, p)::text, aisec.fairness(grp, y, p, w)::text,
           aisec.contingency(region, answer)::text, aisec.histogram(x, 0, 100, 7)::text,
           aisec.category_counts(answer)::text,
           aisec.generalized_entropy_index(y, p, 2), aisec.theil_index(y, p)
    FROM agg_rows $$;
SET max_parallel_workers_per_gather = 0;
CREATE TABLE agg_ref AS SELECT * FROM agg_all_states();
-- Weights are summed in another order in another plan, so weighted states
-- are compared through their counts and to 1e-12 relative.
CREATE FUNCTION agg_fw_close(a aisec.fairness_stats, b aisec.fairness_stats) RETURNS boolean
LANGUAGE sql AS $$
    SELECT bool_and(x.grp IS NOT DISTINCT FROM y.grp AND x.n = y.n
                    AND abs(x.weight - y.weight) <= 1e-12 * abs(y.weight)
                    AND (x.selection_rate IS NULL AND y.selection_rate IS NULL
                         OR abs(x.selection_rate - y.selection_rate) <= 1e-12))
           AND count(*) = (SELECT count(*) FROM aisec.fairness_report(b))
    FROM aisec.fairness_report(a) x FULL JOIN aisec.fairness_report(b) y
         ON coalesce(x.grp, '(null)') = coalesce(y.grp, '(null)') $$;

-- Forced parallel plan: Partial Aggregate in the workers, whose states
-- reach the leader as values of the state types.
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF)
SELECT aisec.fairness(grp, y, p), aisec.contingency(region, answer), aisec.histogram(x, 0, 100, 7),
       aisec.category_counts(answer), aisec.theil_index(y, p) FROM agg_rows;
SELECT p.f = r.f AS f, agg_fw_close(p.fw::aisec.fairness_stats, r.fw::aisec.fairness_stats) AS fw,
       p.c = r.c AS c, p.h = r.h AS h, p.k = r.k AS k, p.ge = r.ge AS ge, p.th = r.th AS th
FROM agg_all_states() p, agg_ref r;
-- Grouped, in parallel: Partial HashAggregate in the workers.
EXPLAIN (COSTS OFF)
SELECT region, aisec.fairness(grp, y, p) FROM agg_rows GROUP BY region;
CREATE TABLE agg_by_region_parallel AS
SELECT region, aisec.fairness(grp, y, p)::text AS f, aisec.contingency(grp, answer)::text AS c,
       aisec.histogram(x, 0, 100, 7)::text AS h, aisec.category_counts(answer)::text AS k,
       aisec.theil_index(y, p) AS th
FROM agg_rows GROUP BY region;
RESET ALL;

-- Grouped serially, as hash and as sort aggregation.
SET max_parallel_workers_per_gather = 0;
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT region, aisec.fairness(grp, y, p) FROM agg_rows GROUP BY region;
CREATE TABLE agg_by_region_hash AS
SELECT region, aisec.fairness(grp, y, p)::text AS f, aisec.contingency(grp, answer)::text AS c,
       aisec.histogram(x, 0, 100, 7)::text AS h, aisec.category_counts(answer)::text AS k,
       aisec.theil_index(y, p) AS th
FROM agg_rows GROUP BY region;
RESET enable_sort;
SET enable_hashagg = off;
EXPLAIN (COSTS OFF) SELECT region, aisec.fairness(grp, y, p) FROM agg_rows GROUP BY region;
CREATE TABLE agg_by_region_sort AS
SELECT region, aisec.fairness(grp, y, p)::text AS f, aisec.contingency(grp, answer)::text AS c,
       aisec.histogram(x, 0, 100, 7)::text AS h, aisec.category_counts(answer)::text AS k,
       aisec.theil_index(y, p) AS th
FROM agg_rows GROUP BY region;
RESET enable_hashagg;
SELECT count(*) AS groups,
       count(*) FILTER (WHERE (a.*)::text = (b.*)::text AND (a.*)::text = (c.*)::text) AS same
FROM agg_by_region_hash a
JOIN agg_by_region_sort b ON a.region IS NOT DISTINCT FROM b.region
JOIN agg_by_region_parallel c ON a.region IS NOT DISTINCT FROM c.region;
-- Hash aggregation that spills to disk (500 groups in 64 kB) keeps the
-- states of the groups it holds and aggregates the agg_spilled rows later.
SET work_mem = '64kB';
SET enable_sort = off;
CREATE TABLE agg_spilled AS SELECT id % 500 AS b, aisec.fairness(grp, y, p)::text AS f,
                               aisec.category_counts(answer || id % 7)::text AS k
FROM agg_rows GROUP BY id % 500;
RESET ALL;
SET enable_hashagg = off;
SELECT count(*) AS groups, count(*) FILTER (WHERE s.f = t.f AND s.k = t.k) AS same
FROM agg_spilled s
JOIN (SELECT id % 500 AS b, aisec.fairness(grp, y, p)::text AS f,
             aisec.category_counts(answer || id % 7)::text AS k
      FROM agg_rows GROUP BY id % 500) t USING (b);
RESET ALL;

-- Window aggregates: the running state after each row equals the
-- aggregate over the rows so far (the final function only reads the state,
-- which later rows go on updating).  And a moving frame, which restarts the
-- aggregate for every row.
SELECT count(*) AS rows,
       count(*) FILTER (WHERE w.f = (SELECT aisec.fairness(grp, y, p, w)::text FROM agg_rows s WHERE s.id <= w.id)) AS f,
       count(*) FILTER (WHERE w.c IS NOT DISTINCT FROM (SELECT aisec.contingency(region, answer)::text FROM agg_rows s WHERE s.id <= w.id)) AS c,
       count(*) FILTER (WHERE w.h IS NOT DISTINCT FROM (SELECT aisec.histogram(x, 0, 100, 7)::text FROM agg_rows s WHERE s.id <= w.id)) AS h,
       count(*) FILTER (WHERE w.k = (SELECT aisec.category_counts(answer)::text FROM agg_rows s WHERE s.id <= w.id)) AS k,
       count(*) FILTER (WHERE w.th IS NOT DISTINCT FROM (SELECT aisec.theil_index(y, p) FROM agg_rows s WHERE s.id <= w.id)) AS th,
       count(*) FILTER (WHERE w.m3 = (SELECT aisec.fairness(grp, y, p)::text FROM agg_rows s WHERE s.id BETWEEN w.id - 2 AND w.id)) AS moving
FROM (SELECT id,
             aisec.fairness(grp, y, p, w) OVER (ORDER BY id)::text AS f,
             aisec.contingency(region, answer) OVER (ORDER BY id)::text AS c,
             aisec.histogram(x, 0, 100, 7) OVER (ORDER BY id)::text AS h,
             aisec.category_counts(answer) OVER (ORDER BY id)::text AS k,
             aisec.theil_index(y, p) OVER (ORDER BY id) AS th,
             aisec.fairness(grp, y, p) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)::text AS m3
      FROM agg_rows WHERE id <= 150) w;

-- Combining stored states: per-region states merged by the _merge
-- aggregates and by the combine functions give the whole.
SELECT aisec.fairness_merge(f)::text = (SELECT f FROM agg_ref) AS fairness_merge,
       fair_combine(f)::text = (SELECT f FROM agg_ref) AS fairness_combinefn,
       agg_fw_close(aisec.fairness_merge(fw), (SELECT fw::aisec.fairness_stats FROM agg_ref)) AS weighted_merge,
       aisec.contingency_merge(c)::text = (SELECT c FROM agg_ref) AS contingency_merge,
       aisec.histogram_merge(h)::text = (SELECT h FROM agg_ref) AS histogram_merge,
       aisec.category_counts_merge(k)::text = (SELECT k FROM agg_ref) AS category_merge,
       ge_combine(ge) = (SELECT ge FROM agg_ref) AS ge_combinefn
FROM agg_vals WHERE region IS DISTINCT FROM 'all' AND region IS DISTINCT FROM 'unlabelled';

-- 6. States are updated in place.  A contingency table with 2000 row
-- labels is about 60 kB, fairness statistics of 5000 groups about 1 MB;
-- were the state copied or re-encoded for each row, 200000 rows would take
-- minutes.  In place they take a moment.
SET statement_timeout = '30s';
SELECT (aisec.contingency((i % 2000)::text, (i % 3)::text)::text::jsonb ->> 'n')::bigint AS n
FROM generate_series(1, 200000) i;
SELECT jsonb_array_length(aisec.fairness((i % 5000)::text, i % 2 = 0, i % 3 = 0)::text::jsonb -> 'groups') AS groups
FROM generate_series(1, 200000) i;
RESET statement_timeout;

-- 7. The support functions are callable by superusers only; called
-- directly, outside an aggregate, they work on copies and never change
-- their arguments.
SELECT has_function_privilege('aisec_engineer', 'aisec.fairness_transfn(aisec.fairness_stats, text, boolean, boolean)', 'EXECUTE') AS engineer_may_call;
SELECT aisec.fairness_transfn(NULL, 'a', true, NULL);
SELECT aisec.fairness_transfn(aisec.fairness_transfn(NULL, 'a', true, NULL), NULL, false, true);
CREATE TABLE agg_one AS SELECT aisec.fairness(grp, y, p) AS f FROM agg_rows WHERE id <= 3;
SELECT aisec.fairness_transfn(f, 'b', false, false)::bytea = f::bytea AS copy_equal, f FROM agg_one;
SELECT aisec.fairness_combinefn(f, f) FROM agg_one;
SELECT aisec.fairness_combinefn(NULL, f)::bytea = f::bytea AS null_f,
       aisec.fairness_combinefn(f, NULL)::bytea = f::bytea AS f_null,
       aisec.fairness_combinefn(NULL, NULL) IS NULL AS null_null,
       aisec.fairness_finalfn(f)::bytea = f::bytea AS final_same
FROM agg_one;
SELECT aisec.contingency_transfn(NULL, 'a', 'b'), aisec.contingency_transfn(NULL, NULL, 'b') IS NULL AS skipped;
SELECT aisec.category_counts_transfn(aisec.category_counts_transfn(NULL, 'x'), 'x');
SELECT aisec.histogram_transfn(NULL, 5, 0, 10, 2), aisec.histogram_transfn(NULL, NULL, 0, 10, 2) IS NULL AS skipped;
SELECT aisec.histogram_combinefn(aisec.histogram_transfn(NULL, 5, 0, 10, 2),
                                 aisec.histogram_transfn(NULL, 5, 0, 10, 3));
SELECT aisec.histogram_transfn(NULL, 5, 10, 0, 2);
SELECT aisec.contingency_combinefn(c, c), aisec.contingency_merge_transfn(NULL, c)::text = c::text AS merged,
       aisec.contingency_merge_transfn(NULL, NULL) IS NULL AS null_null, aisec.contingency_finalfn(c)::text = c::text AS final_same
FROM agg_vals WHERE region = 'east';
SELECT aisec.category_counts_combinefn(k, k), aisec.category_counts_merge_transfn(k, NULL)::text = k::text AS unchanged,
       aisec.category_counts_finalfn(k)::text = k::text AS final_same
FROM agg_vals WHERE region = 'east';
SELECT aisec.histogram_merge_transfn(h, h), aisec.histogram_combinefn(NULL, h)::text = h::text AS copied,
       aisec.histogram_finalfn(h)::text = h::text AS final_same
FROM agg_vals WHERE region = 'east';
SELECT aisec.histogram_merge_transfn(aisec.histogram_transfn(NULL, 5, 0, 10, 2), h) FROM agg_vals WHERE region = 'east';
SELECT aisec.generalized_entropy_transfn(NULL, true, false, 2);
SELECT aisec.generalized_entropy_transfn(aisec.generalized_entropy_transfn(NULL, true, false, 2), true, true, 3);
SELECT aisec.inequality_combinefn(ge_state(true, false, 2), ge_state(true, false, 3));
SELECT aisec.inequality_combinefn(ge, ge), aisec.generalized_entropy_finalfn(ge) FROM agg_vals WHERE region = 'all';

-- 8. Hostile text and binary input of aisec.inequality_stats.
SELECT '{"alpha": 2, "counts": [1, 2, 3]}'::aisec.inequality_stats;
SELECT '{"alpha": -0, "counts": [0, 0, 0]}'::aisec.inequality_stats;
SELECT '{"alpha": 2, "counts": [1, 2]}'::aisec.inequality_stats;
SELECT '{"alpha": 2, "counts": [1, -2, 3]}'::aisec.inequality_stats;
SELECT '{"alpha": 2, "counts": [1, 2.5, 3]}'::aisec.inequality_stats;
SELECT '{"alpha": 2, "counts": [1, 9223372036854775808, 3]}'::aisec.inequality_stats;
SELECT '{"alpha": "2", "counts": [1, 2, 3]}'::aisec.inequality_stats;
SELECT '{"counts": [1, 2, 3]}'::aisec.inequality_stats;
SELECT '[2, [1, 2, 3]]'::aisec.inequality_stats;
SELECT 'alpha=2'::aisec.inequality_stats;
-- valid: counts 1, 2, 3 and alpha 2
SELECT '\x014700000000000000000001000000000000000200000000000000034000000000000000'::bytea::aisec.inequality_stats;
-- truncated
SELECT '\x0147000000000000000000010000000000000002000000000000000340000000000000'::bytea::aisec.inequality_stats;
-- agg_one byte too many
SELECT '\x01470000000000000000000100000000000000020000000000000003400000000000000000'::bytea::aisec.inequality_stats;
-- unknown version, unknown kind, non-zero padding
SELECT '\x024700000000000000000001000000000000000200000000000000034000000000000000'::bytea::aisec.inequality_stats;
SELECT '\x014800000000000000000001000000000000000200000000000000034000000000000000'::bytea::aisec.inequality_stats;
SELECT '\x014700010000000000000001000000000000000200000000000000034000000000000000'::bytea::aisec.inequality_stats;
-- a negative count, a NaN alpha, an infinite alpha
SELECT '\x01470000ffffffffffffffff000000000000000200000000000000034000000000000000'::bytea::aisec.inequality_stats;
SELECT '\x014700000000000000000001000000000000000200000000000000037ff8000000000000'::bytea::aisec.inequality_stats;
SELECT '\x014700000000000000000001000000000000000200000000000000037ff0000000000000'::bytea::aisec.inequality_stats;
-- alpha -0 reads as 0
SELECT '\x014700000000000000000001000000000000000200000000000000038000000000000000'::bytea::aisec.inequality_stats;

-- The shard-query forms aisec.<aggregate>_partial (src/scaleout/partial.c)
-- return the state's text form, exactly what Citus's worker_partial_agg
-- returns for the aggregate (its state type's output function), per region
-- and for an empty input (NULL).
SELECT region IS NULL AS null_region,
       bool_and(fp = f) AS fairness, bool_and(fwp = fw) AS fairness_w,
       bool_and(cp = c) AS contingency, bool_and(hp = h) AS histogram,
       bool_and(kp = k) AS category_counts, bool_and(gp = ge) AS ge,
       bool_and(tp = th) AS theil, count(*) AS groups
FROM (SELECT region,
             aisec.fairness_partial(grp, y, p)::text AS fp, aisec.fairness(grp, y, p)::text AS f,
             aisec.fairness_partial(grp, y, p, w)::text AS fwp, fair_state(grp, y, p, w)::text AS fw,
             aisec.contingency_partial(grp, answer)::text AS cp,
             (SELECT aisec.contingency(grp, answer) FROM agg_rows r2 WHERE r2.region IS NOT DISTINCT FROM r.region)::text AS c,
             aisec.histogram_partial(x, 0, 100, 7)::text AS hp, aisec.histogram(x, 0, 100, 7)::text AS h,
             aisec.category_counts_partial(answer)::text AS kp, aisec.category_counts(answer)::text AS k,
             aisec.generalized_entropy_index_partial(y, p, 2)::text AS gp, ge_state(y, p, 2)::text AS ge,
             aisec.theil_index_partial(y, p)::text AS tp, theil_state(y, p)::text AS th
      FROM agg_rows r GROUP BY region) s
GROUP BY 1 ORDER BY 1;
SELECT aisec.fairness_merge_partial(f)::text = aisec.fairness_merge(f)::text AS fairness_merge,
       aisec.contingency_merge_partial(c)::text = aisec.contingency_merge(c)::text AS contingency_merge,
       aisec.histogram_merge_partial(h)::text = aisec.histogram_merge(h)::text AS histogram_merge,
       aisec.category_counts_merge_partial(k)::text = aisec.category_counts_merge(k)::text AS category_counts_merge
FROM agg_vals WHERE region <> 'all';
SELECT aisec.fairness_partial(grp, y, p) IS NULL AS empty_is_null FROM agg_rows WHERE false;

-- Leave nothing behind for the tests that follow.
DROP TABLE agg_rows, agg_vals, agg_vals_back, agg_ref, agg_spilled, agg_one,
           agg_by_region_parallel, agg_by_region_hash, agg_by_region_sort;
DROP FUNCTION agg_all_states(), agg_fw_close(aisec.fairness_stats, aisec.fairness_stats);
DROP AGGREGATE fair_state(text, boolean, boolean, float8), ge_state(boolean, boolean, float8),
               theil_state(boolean, boolean), fair_combine(aisec.fairness_stats),
               ge_combine(aisec.inequality_stats);
