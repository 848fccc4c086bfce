-- contingency: the contingency-table aggregate, Pearson's chi-square test of
-- independence (no Yates correction) and Cramer's V.  doc/drift.md.

-- A 2 x 3 table, scipy's chi2_contingency documentation example
-- (https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.chi2_contingency.html):
-- obs = [[10, 10, 20], [20, 20, 20]] -> statistic 2.7777777777777777,
-- p-value 0.24935220877729619, dof 2 (Yates' correction only applies to dof 1).
CREATE TABLE obs AS
SELECT a, b FROM (VALUES ('r1', 'c1', 10), ('r1', 'c2', 10), ('r1', 'c3', 20),
                         ('r2', 'c1', 20), ('r2', 'c2', 20), ('r2', 'c3', 20)) v(a, b, n),
                 generate_series(1, n);
SELECT aisec.contingency(a, b) FROM obs;
SELECT * FROM aisec.contingency_cells((SELECT aisec.contingency(a, b) FROM obs));
SELECT statistic, dof, p_value,
       abs(statistic - 2.7777777777777777) < 1e-12 AS statistic_ok,
       abs(p_value - 0.24935220877729619) < 1e-15 AS p_ok
  FROM aisec.chi2_test((SELECT aisec.contingency(a, b) FROM obs));

-- Hand-checked 2 x 2: [[20, 30], [30, 20]].  chi2 = n (ad - bc)^2 /
-- ((a+b)(c+d)(a+c)(b+d)) = 100 * 500^2 / 50^4 = 4 exactly; dof 1;
-- p = erfc(sqrt(2)) = 0.0455002638963584 (P(|Z| > 2)); V = sqrt(4 / 100) = 0.2.
CREATE TABLE two AS
SELECT a, b FROM (VALUES ('x', 'yes', 20), ('x', 'no', 30),
                         ('y', 'yes', 30), ('y', 'no', 20)) v(a, b, n),
                 generate_series(1, n);
SELECT statistic, dof, abs(p_value - 0.0455002638963584) < 1e-15 AS p_ok,
       aisec.cramers_v(c)
  FROM (SELECT aisec.contingency(a, b) AS c FROM two) s, aisec.chi2_test(c);

-- Cramer's V, scipy.stats.contingency.association documentation example
-- (https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.contingency.association.html):
-- obs4x2 = [[100, 150], [203, 322], [420, 700], [320, 210]] -> 0.18617813077483678.
SELECT abs(aisec.cramers_v(
         '{"n": 2425, "rows": ["a", "b", "c", "d"], "columns": ["x", "y"],
           "counts": [[100, 150], [203, 322], [420, 700], [320, 210]]}') - 0.18617813077483678) < 1e-15
       AS cramers_v_ok;

-- Perfect association: V = 1; independence: chi2 = 0, V = 0, p = 1.
SELECT aisec.cramers_v('{"n": 10, "rows": ["a", "b"], "columns": ["x", "y"], "counts": [[4, 0], [0, 6]]}');
SELECT s.*, aisec.cramers_v(c)
  FROM (SELECT '{"n": 40, "rows": ["a", "b"], "columns": ["x", "y"], "counts": [[5, 15], [5, 15]]}'::aisec.contingency_stats AS c) t,
       aisec.chi2_test(c) s;

-- One row or one column: nothing to test.  dof 0, p-value and V are NULL.
SELECT s.*, aisec.cramers_v(c)
  FROM (SELECT aisec.contingency('only', b) AS c FROM obs) t, aisec.chi2_test(c) s;

-- ==== chi-square p-values
-- Critical values from the NIST/SEMATECH e-Handbook of Statistical Methods,
-- section 1.3.6.7.4 "Critical Values of the Chi-Square Distribution"
-- (https://www.itl.nist.gov/div898/handbook/eda/section3/eda3674.htm).  The
-- table gives 3 decimals, so the p-values agree to 4.
SELECT dof, x, alpha, round(aisec.chi2_p_value(x, dof)::numeric, 4) AS p,
       round(aisec.chi2_p_value(x, dof)::numeric, 4) = alpha AS ok
  FROM (VALUES (1, 3.841, 0.05), (1, 6.635, 0.01), (1, 10.828, 0.001),
               (2, 5.991, 0.05), (2, 9.210, 0.01), (2, 13.816, 0.001),
               (3, 7.815, 0.05), (4, 9.488, 0.05), (5, 11.070, 0.05),
               (10, 18.307, 0.05), (10, 23.209, 0.01), (30, 43.773, 0.05),
               (100, 124.342, 0.05), (100, 135.807, 0.01), (100, 149.449, 0.001)) t(dof, x, alpha)
 ORDER BY dof, x;

-- Exact checks.  Even dof k: Q = exp(-x/2) sum_{i<k/2} (x/2)^i / i!, computed
-- here in SQL; the relative error must be below 1e-13.
SELECT count(*) AS cases,
       bool_and(abs(aisec.chi2_p_value(x, k) - ref) <= 1e-13 * ref) AS all_ok
  FROM (SELECT k, x,
               (SELECT sum(exp(i * ln(x / 2) - x / 2
                               - (SELECT coalesce(sum(ln(j)), 0) FROM generate_series(1, i) j)))
                  FROM generate_series(0, k / 2 - 1) i) AS ref
          FROM generate_series(2, 40, 2) k,
               unnest(ARRAY[0.01, 0.5, 1, 2, 5, 10, 20, 35, 50, 80]::float8[]) x) t;

-- Odd dof: dof 1 at the two-sided normal quantiles z = 1.959963984540054,
-- 2.5758293035489004, 3.2905267314918945 (p = 0.05, 0.01, 0.001), and
-- values computed independently from erfc and the recurrence
-- Q(a+1, x) = Q(a, x) + x^a e^-x / Gamma(a+1) (Python's math module).
SELECT k, x, aisec.chi2_p_value(x, k) AS p, abs(aisec.chi2_p_value(x, k) - ref) <= 1e-13 * ref AS ok
  FROM (VALUES (1, 1.959963984540054::float8 ^ 2, 0.05::float8),
               (1, 2.5758293035489004::float8 ^ 2, 0.01),
               (1, 3.2905267314918945::float8 ^ 2, 0.001),
               (1, 1, 0.31731050786291404),
               (3, 7.815, 0.04999390297488391),
               (5, 11.07, 0.05000961862240546),
               (7, 3, 0.8850022316431507),
               (9, 20, 0.017912404529843277),
               (3, 0.01, 0.9997348349413444),
               (15, 30, 0.011921495938159696),
               (51, 60, 0.18175992924734177),
               (1, 1000, 1.7958327848006385e-219)) t(k, x, ref);

-- Edges: statistic 0 -> 1; infinity -> 0; bad arguments are errors.
SELECT aisec.chi2_p_value(0, 3), aisec.chi2_p_value('Infinity', 3);
SELECT aisec.chi2_p_value(1, 0);
SELECT aisec.chi2_p_value(-1, 1);
SELECT aisec.chi2_p_value('NaN', 1);

-- ==== NULLs and empty input
-- Rows where either argument is NULL are skipped; no rows give NULL.
SELECT aisec.contingency(a, b)
  FROM (VALUES ('x', 'u'), (NULL, 'u'), ('x', NULL), (NULL, NULL), ('y', 'v')) t(a, b);
SELECT aisec.contingency(a, b) IS NULL AS all_null
  FROM (VALUES (NULL::text, 'u'), ('x', NULL)) t(a, b);
SELECT aisec.contingency(a, b) IS NULL AS empty FROM obs WHERE false;
SELECT * FROM aisec.chi2_test(NULL);
SELECT aisec.cramers_v(NULL);

-- Labels are compared as bytes, so output order is the same in every
-- collation; odd labels are escaped in JSON.
SELECT aisec.contingency(a, b)
  FROM (VALUES ('b', 'é'), ('B', '"q"'), ('', E'tab\there')) t(a, b);

-- ==== Text input round trip; labels in any order become canonical
SELECT '{"n": 6, "rows": ["z", "a"], "columns": ["q", "p"], "counts": [[1, 2], [3, 0]]}'::aisec.contingency_stats;
SELECT c::text::aisec.contingency_stats::text = c::text AS round_trip
  FROM (SELECT aisec.contingency(a, b) AS c FROM obs) t;

-- Bad text input: each is a clear error.
SELECT 'not json'::aisec.contingency_stats;
SELECT '[1, 2]'::aisec.contingency_stats;
SELECT '{"rows": ["a"], "columns": ["x"], "counts": [[1]]}'::aisec.contingency_stats;
SELECT '{"n": 1, "rows": [], "columns": ["x"], "counts": []}'::aisec.contingency_stats;
SELECT '{"n": 2, "rows": ["a", "a"], "columns": ["x"], "counts": [[1], [1]]}'::aisec.contingency_stats;
SELECT '{"n": 1, "rows": ["a"], "columns": ["x"], "counts": [[1, 2]]}'::aisec.contingency_stats;
SELECT '{"n": "1", "rows": ["a"], "columns": ["x"], "counts": [[1]]}'::aisec.contingency_stats;
SELECT '{"n": 1, "rows": "a", "columns": ["x"], "counts": [[1]]}'::aisec.contingency_stats;
SELECT '{"n": 0, "rows": ["a"], "columns": ["x"], "counts": [[-1]]}'::aisec.contingency_stats;
SELECT '{"n": 1, "rows": ["a"], "columns": ["x"], "counts": [[1.5]]}'::aisec.contingency_stats;
SELECT '{"n": 5, "rows": ["a"], "columns": ["x"], "counts": [[1]]}'::aisec.contingency_stats;
SELECT '{"n": 1, "rows": ["a", "b"], "columns": ["x"], "counts": [[1], [0]]}'::aisec.contingency_stats;
SELECT '{"n": 1, "rows": [1], "columns": ["x"], "counts": [[1]]}'::aisec.contingency_stats;
SELECT '{"n": 1e30, "rows": ["a"], "columns": ["x"], "counts": [[1e30]]}'::aisec.contingency_stats;

-- ==== Binary form: what the aggregate serializes between parallel workers.
-- Round trip, then corrupted copies, each rejected with a clear error.
CREATE TABLE bin AS SELECT aisec.contingency(a, b)::bytea AS v FROM obs;
SELECT v::aisec.contingency_stats::bytea = v AS round_trip FROM bin;
SELECT ''::bytea::aisec.contingency_stats;
SELECT set_byte(v, 0, 2)::aisec.contingency_stats FROM bin;          -- unknown version
SELECT set_byte(v, 1, ascii('H'))::aisec.contingency_stats FROM bin; -- another kind
SELECT substr(v, 1, length(v) - 1)::aisec.contingency_stats FROM bin; -- truncated
SELECT (v || '\x00'::bytea)::aisec.contingency_stats FROM bin;        -- trailing byte
SELECT set_byte(v, 2, 200)::aisec.contingency_stats FROM bin;        -- row count too big
SELECT set_byte(v, 10, 255)::aisec.contingency_stats FROM bin;       -- label length past the end
SELECT set_byte(v, 15, ascii('r'))::aisec.contingency_stats FROM bin; -- "r1" -> "rr": out of order
SELECT set_byte(v, length(v) - 1, 128)::aisec.contingency_stats FROM bin; -- negative count
-- Hand-built values: version 01, kind 'C' (43), 1 row, 1 column, labels
-- "a" and "x" (length-prefixed, little-endian), then the counts.
SELECT '\x01430100000001000000010000006101000000780100000000000000'::bytea::aisec.contingency_stats;  -- 1 x 1, n = 1
SELECT '\x01430100000001000000010000006101000000780000000000000000'::bytea::aisec.contingency_stats;  -- zero total
SELECT '\x014301000000010000000100000061010000007801000000000000'::bytea::aisec.contingency_stats;    -- count cut short
SELECT '\x01430100000001000000010000000001000000780100000000000000'::bytea::aisec.contingency_stats;  -- NUL in a label
SELECT '\x0143010000000100000001000000610100000078ffffffffffffff7f'::bytea::aisec.contingency_stats;  -- n = 2^63 - 1 is allowed
-- Every single-byte corruption and every truncation of a valid value is
-- either rejected with invalid_binary_representation or still a valid table
-- that the statistics accept (no crash, no other error).
DO $$
DECLARE
    v bytea := (SELECT bin.v FROM bin);
    c aisec.contingency_stats;
    rejected int := 0;
    valid int := 0;
    b int;
BEGIN
    FOR i IN 0 .. length(v) - 1 LOOP
        FOREACH b IN ARRAY ARRAY[0, 1, 2, 127, 128, 255] LOOP
            BEGIN
                c := set_byte(v, i, b)::aisec.contingency_stats;
                PERFORM aisec.chi2_test(c), aisec.cramers_v(c), c::text;
                valid := valid + 1;
            EXCEPTION WHEN invalid_binary_representation THEN
                rejected := rejected + 1;
            END;
        END LOOP;
    END LOOP;
    FOR n IN 0 .. length(v) - 1 LOOP
        BEGIN
            c := substr(v, 1, n)::aisec.contingency_stats;
            valid := valid + 1;
        EXCEPTION WHEN invalid_binary_representation THEN
            rejected := rejected + 1;
        END;
    END LOOP;
    RAISE NOTICE 'corrupted copies: % rejected, % still valid', rejected, valid;
END
$$;

-- ==== Serial plan = forced parallel plan = partitioned table
CREATE TABLE big AS
SELECT i, (ARRAY['north', 'south', 'east', 'west'])[1 + i % 4] AS region,
       CASE WHEN (i * 7919) % 10 < 3 + i % 4 THEN 'yes' ELSE 'no' END AS approved
  FROM generate_series(1, 200000) i;
ANALYZE big;
CREATE TEMP TABLE serial AS
SELECT aisec.contingency(region, approved)::text AS c FROM big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT aisec.contingency(region, approved) FROM big;
SELECT aisec.contingency(region, approved)::text = (SELECT c FROM serial) AS parallel_identical
  FROM big;
-- the same with the Agg node's Partial Aggregate (the aggregate scan off)
SET aisec.aggregate_scan = off;
EXPLAIN (COSTS OFF) SELECT aisec.contingency(region, approved) FROM big;
SELECT aisec.contingency(region, approved)::text = (SELECT c FROM serial) AS partial_aggregate_identical
  FROM big;
RESET aisec.aggregate_scan;
SELECT abs(p.statistic - s.statistic) <= 1e-12 * s.statistic AS statistic_identical,
       p.p_value = s.p_value AS p_identical
  FROM aisec.chi2_test((SELECT aisec.contingency(region, approved) FROM big)) p,
       aisec.chi2_test((SELECT c::aisec.contingency_stats FROM serial)) s;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- Partitions holding very different data: north/south only in one,
-- east/west only in the other, and a value of b seen in one partition only.
CREATE TABLE parts (region text, approved text, k int) PARTITION BY LIST (k);
CREATE TABLE parts_1 PARTITION OF parts FOR VALUES IN (1);
CREATE TABLE parts_2 PARTITION OF parts FOR VALUES IN (2);
INSERT INTO parts SELECT region, approved, CASE WHEN region IN ('north', 'south') THEN 1 ELSE 2 END FROM big;
INSERT INTO parts VALUES ('east', 'maybe', 2);
SET enable_partitionwise_aggregate = on;
EXPLAIN (COSTS OFF) SELECT aisec.contingency(region, approved) FROM parts;
SELECT aisec.contingency(region, approved)::text =
       (SELECT aisec.contingency(region, approved)::text
          FROM (SELECT region, approved FROM big UNION ALL SELECT 'east', 'maybe') u) AS partitioned_identical
  FROM parts;
RESET enable_partitionwise_aggregate;

-- Merging stored tables gives the table of the union.
SELECT aisec.contingency_merge(c)::text = (SELECT c FROM serial) AS merge_identical
  FROM (SELECT aisec.contingency(region, approved) AS c FROM big GROUP BY i % 3) t;
SELECT aisec.contingency_merge(c) IS NULL AS merge_of_nothing
  FROM (SELECT NULL::aisec.contingency_stats AS c) t;


-- Too many cells is a clear error, not an allocation failure.
SELECT aisec.contingency(i::text, (i % 5)::text) FROM generate_series(1, 900000) i;
