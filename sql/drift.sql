-- drift: histograms and category counts, and the drift measures between
-- two of them (PSI, KL, JS, KS), plus class imbalance.  doc/drift.md.

-- ==== Histograms
-- Ten values 0..9 in 5 bins over [0, 10): two per bin; nothing outside.
SELECT aisec.histogram(v, 0, 10, 5) FROM generate_series(0, 9) v;
-- Below lower -> underflow (bin 0); at or above upper, +Infinity and NaN ->
-- overflow (bin bins + 1); -Infinity -> underflow; NULL values are skipped.
SELECT * FROM aisec.histogram_bins(
  (SELECT aisec.histogram(v, 0, 1, 4)
     FROM unnest(ARRAY[-0.5, 0, 0.25, 0.2499, 0.5, 0.99, 1, 7, NULL,
                       'Infinity', '-Infinity', 'NaN']::float8[]) v));

-- The bin of every value is width_bucket(value, lower, upper, bins), so the
-- plain SQL formulation gives the same counts.
CREATE TABLE vals AS
SELECT i, ((i::bigint * 7919) % 12000) / 100.0::float8 - 10 AS x,
       ((i::bigint * 104729) % 9000) / 100.0::float8 + 5 AS y
  FROM generate_series(1, 50000) i;
SELECT count(*) AS bins, bool_and(h.count = coalesce(w.n, 0)) AS same_as_width_bucket
  FROM aisec.histogram_bins((SELECT aisec.histogram(x, 0, 100, 20) FROM vals)) h
  LEFT JOIN (SELECT width_bucket(x, 0, 100, 20) AS bin, count(*) AS n FROM vals GROUP BY 1) w
         ON w.bin = h.bin;

-- Empty input and all-NULL input give NULL.
SELECT aisec.histogram(x, 0, 1, 10) IS NULL AS empty FROM vals WHERE false;
SELECT aisec.histogram(NULL::float8, 0, 1, 10) IS NULL AS all_null FROM generate_series(1, 3);

-- Bad shapes are errors.
SELECT aisec.histogram(x, 1, 1, 10) FROM vals;
SELECT aisec.histogram(x, 0, 1, 0) FROM vals;
SELECT aisec.histogram(x, 0, 1, 2000000) FROM vals;
SELECT aisec.histogram(x, 'NaN', 1, 10) FROM vals;
SELECT aisec.histogram(x, 0, 'Infinity', 10) FROM vals;
SELECT aisec.histogram(x, NULL, 1, 10) FROM vals;
SELECT aisec.histogram(x, 0, i, 10) FROM vals;   -- bounds that change between rows

-- Values and bounds near the ends of the double range: bins * (v - lower)
-- and upper - lower overflow, which once crashed the server (an index
-- computed from Infinity).  Each value lands in exactly one bin, the one
-- worked out by hand (fraction of the range times bins, plus 1):
-- 9e307 is 0.9 of [0, 1e308) -> bin 10 of 10; 1e308 -> the only bin; lower
-- itself -> bin 1; the double just below upper -> the last bin; 0 is the
-- middle of the whole double range -> 3.5 -> bin 4 of 7; subnormal bounds
-- keep full precision (-1e-320 is 0.49999995 of its range -> bin 2; the
-- smallest subnormal is exactly half of [0, 2 x itself) -> bin 2).
-- (PostgreSQL 15's own width_bucket returns -2147483648 for the first,
-- second, fourth and fifth rows.)
SELECT v, lower, upper, bins, expected,
       (SELECT array_agg(bin)
          FROM aisec.histogram_bins((SELECT aisec.histogram(one.x, lower, upper, bins)
                                       FROM (SELECT v AS x) one))
         WHERE count > 0) AS bins_used
  FROM (VALUES (9e307::float8, 0::float8, 1e308::float8, 10, 10),
               (1e308, -1.7e308, 1.7e308, 1, 1),
               (-1.7e308, -1.7e308, 1.7e308, 1000000, 1),
               (1.6999999999999998e308, -1.7e308, 1.7e308, 1000000, 1000000),
               (0, -1.7976931348623157e308, 1.7976931348623157e308, 7, 4),
               (-1e-320, -1e-310, 1e-310, 4, 2),
               (5e-324, 0, 1e-323, 2, 2)) t(v, lower, upper, bins, expected);

-- ==== Category counts
SELECT aisec.category_counts(v)
  FROM unnest(ARRAY['b', 'a', 'b', NULL, 'c', 'b', 'é', '']) v;
SELECT * FROM aisec.category_frequencies(
  (SELECT aisec.category_counts(v) FROM unnest(ARRAY['no', 'yes', 'no', 'no']) v));
SELECT aisec.category_counts(v) IS NULL AS all_null FROM unnest(ARRAY[NULL, NULL]::text[]) v;

-- ==== Drift measures, hand-checked
-- PSI: expected (0.25, 0.25, 0.5), actual (0.5, 0.25, 0.25):
-- (0.5-0.25) ln 2 + 0 + (0.25-0.5) ln(1/2) = 0.5 ln 2 = 0.34657359027997264.
-- The histograms' underflow and overflow bins are empty on both sides: they
-- are dropped, get no smoothing mass, and the result is the textbook value.
CREATE TABLE e AS SELECT unnest(ARRAY[0.5, 1.5, 2.5, 2.5]::float8[]) AS v;
CREATE TABLE a AS SELECT unnest(ARRAY[0.5, 0.5, 1.5, 2.5]::float8[]) AS v;
SELECT aisec.psi((SELECT aisec.histogram(v, 0, 3, 3) FROM e),
                 (SELECT aisec.histogram(v, 0, 3, 3) FROM a)) AS psi,
       0.5 * ln(2) AS expected;

-- KL: D((0.5, 0.5) || (0.25, 0.75)) = 0.5 ln(4/3) = 0.14384103622589042
-- (scipy.stats.entropy([0.5, 0.5], [0.25, 0.75]) gives the same).
-- JS of the same pair: 0.033822075568605205 (computed by hand from the definition).
SELECT aisec.kl_divergence(p, q) AS kl, abs(aisec.kl_divergence(p, q) - 0.14384103622589042) < 1e-15 AS kl_ok,
       aisec.js_divergence(p, q) AS js, abs(aisec.js_divergence(p, q) - 0.033822075568605205) < 1e-15 AS js_ok
  FROM (SELECT '{"n": 2, "counts": {"x": 1, "y": 1}}'::aisec.category_stats AS p,
               '{"n": 4, "counts": {"x": 1, "y": 3}}'::aisec.category_stats AS q) t;

-- JS against scipy.spatial.distance.jensenshannon's documentation examples
-- (https://docs.scipy.org/doc/scipy/reference/generated/scipy.spatial.distance.jensenshannon.html):
-- jensenshannon([1.0, 0.0], [0.5, 0.5]) = 0.46450140402245893 is the
-- *distance*, the square root of our divergence (natural log);
-- jensenshannon([1.0, 0.0, 0.0], [0.0, 1.0, 0.0], 2.0) = 1.0 in base 2,
-- so disjoint distributions have divergence ln 2.
SELECT abs(sqrt(aisec.js_divergence('{"n": 2, "counts": {"a": 2}}'::aisec.category_stats,
                                    '{"n": 2, "counts": {"a": 1, "b": 1}}')) - 0.46450140402245893) < 1e-15 AS js_ok,
       aisec.js_divergence('{"n": 1, "counts": {"a": 1}}'::aisec.category_stats,
                           '{"n": 1, "counts": {"b": 1}}') = ln(2) AS disjoint_is_ln2;

-- Identical distributions: every measure is 0.
SELECT aisec.psi(h, h), aisec.kl_divergence(h, h), aisec.js_divergence(h, h), aisec.ks_statistic(h, h)
  FROM (SELECT aisec.histogram(x, 0, 100, 20) AS h FROM vals) t;

-- A category seen on one side only.  Smoothing (default epsilon 1e-4) keeps
-- PSI and KL finite: expected (1, 0) -> (1, 1e-4) / 1.0001, actual
-- (0.5, 0.5): PSI = 4.6042492440450875.  With epsilon = 0 they are infinite,
-- returned as NULL; JS needs no smoothing.
SELECT aisec.psi(e, a), aisec.kl_divergence(a, e), aisec.psi(e, a, 0) AS psi_unsmoothed,
       aisec.kl_divergence(a, e, 0) AS kl_unsmoothed, aisec.kl_divergence(e, a, 0) AS kl_other_way,
       aisec.js_divergence(e, a)
  FROM (SELECT '{"n": 10, "counts": {"a": 10}}'::aisec.category_stats AS e,
               '{"n": 10, "counts": {"a": 5, "b": 5}}'::aisec.category_stats AS a) t;
SELECT aisec.psi('{"n": 1, "counts": {"a": 1}}'::aisec.category_stats, '{"n": 1, "counts": {"a": 1}}', -1);
SELECT aisec.psi('{"n": 1, "counts": {"a": 1}}'::aisec.category_stats, '{"n": 1, "counts": {"a": 1}}', 1);
SELECT aisec.psi('{"n": 1, "counts": {"a": 1}}'::aisec.category_stats, '{"n": 1, "counts": {"a": 1}}', 'NaN');

-- KS: x = (1, 2, 3, 4), y = (3, 4, 5, 6, 7, 8): the empirical CDFs differ
-- most just after 4: |1 - 2/6| = 2/3.  The histogram version, with one bin
-- per integer, sees the same gap at the bin edge.
SELECT aisec.ks_statistic(ARRAY[1, 2, 3, 4]::float8[], ARRAY[3, 4, 5, 6, 7, 8]::float8[]) AS ks_values,
       aisec.ks_statistic((SELECT aisec.histogram(v, 0, 10, 10) FROM unnest(ARRAY[1, 2, 3, 4]::float8[]) v),
                          (SELECT aisec.histogram(v, 0, 10, 10) FROM unnest(ARRAY[3, 4, 5, 6, 7, 8]::float8[]) v)) AS ks_bins;
-- Ties across samples, NULLs skipped; an empty sample gives NULL.
SELECT aisec.ks_statistic(ARRAY[1, 1, 2, NULL]::float8[], ARRAY[1, 2, 2, 2]::float8[]) AS ks_ties,
       aisec.ks_statistic(ARRAY[NULL]::float8[], ARRAY[1]::float8[]) AS ks_empty;
-- Wider bins can only hide differences: binned D <= exact D.
SELECT b.d <= v.d AS binned_is_lower_bound, b.d > 0 AS binned_sees_drift
  FROM (SELECT aisec.ks_statistic(array_agg(x), array_agg(y)) AS d FROM vals) v,
       (SELECT aisec.ks_statistic(aisec.histogram(x, 0, 100, 10), aisec.histogram(y, 0, 100, 10)) AS d FROM vals) b;

-- Histograms with different bins cannot be compared.
SELECT aisec.psi((SELECT aisec.histogram(x, 0, 100, 20) FROM vals), (SELECT aisec.histogram(x, 0, 100, 10) FROM vals));
SELECT aisec.js_divergence((SELECT aisec.histogram(x, 0, 100, 20) FROM vals), (SELECT aisec.histogram(x, -1, 100, 20) FROM vals));

-- ==== Class imbalance
-- 70 "no", 30 "yes": ratio 70/30 = 2.3333333333333335, normalized difference
-- (70 - 30) / 100 = 0.4, balance = binary entropy of 0.3 in bits = 0.8812908992306927.
SELECT * FROM aisec.class_imbalance('{"n": 100, "counts": {"no": 70, "yes": 30}}');
SELECT * FROM aisec.class_imbalance('{"n": 9, "counts": {"a": 3, "b": 3, "c": 3}}');
SELECT * FROM aisec.class_imbalance('{"n": 5, "counts": {"only": 5}}');
SELECT * FROM aisec.class_imbalance(NULL);

-- ==== Serial plan = forced parallel plan = partitioned table = merged states
CREATE TEMP TABLE serial AS
SELECT aisec.histogram(x, 0, 100, 20)::text AS h,
       aisec.category_counts((i % 7)::text)::text AS c FROM vals;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT aisec.histogram(x, 0, 100, 20), aisec.category_counts((i % 7)::text) FROM vals;
SELECT aisec.histogram(x, 0, 100, 20)::text = (SELECT h FROM serial) AS histogram_identical,
       aisec.category_counts((i % 7)::text)::text = (SELECT c FROM serial) AS categories_identical
  FROM vals;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- Partitions holding very different data: low values and categories 0-2 in
-- one, high values (and out-of-range ones) and 3-6 in the other.
CREATE TABLE vparts (i int, x float8, k int) PARTITION BY LIST (k);
CREATE TABLE vparts_1 PARTITION OF vparts FOR VALUES IN (1);
CREATE TABLE vparts_2 PARTITION OF vparts FOR VALUES IN (2);
INSERT INTO vparts SELECT i, x, CASE WHEN i % 7 < 3 THEN 1 ELSE 2 END FROM vals;
SET enable_partitionwise_aggregate = on;
EXPLAIN (COSTS OFF) SELECT aisec.histogram(x, 0, 100, 20), aisec.category_counts((i % 7)::text) FROM vparts;
SELECT aisec.histogram(x, 0, 100, 20)::text = (SELECT h FROM serial) AS histogram_identical,
       aisec.category_counts((i % 7)::text)::text = (SELECT c FROM serial) AS categories_identical
  FROM vparts;
RESET enable_partitionwise_aggregate;

-- Drift measures computed from each plan's states agree exactly.
SELECT aisec.psi(s.h::aisec.histogram_stats, p.h) = aisec.psi(s.h::aisec.histogram_stats, s.h::aisec.histogram_stats) AS same
  FROM serial s, (SELECT aisec.histogram(x, 0, 100, 20) AS h FROM vparts) p;

-- Stored daily states roll up with the _merge aggregates.
SELECT aisec.histogram_merge(h)::text = (SELECT h FROM serial) AS histogram_merge_identical,
       aisec.category_counts_merge(c)::text = (SELECT c FROM serial) AS category_merge_identical
  FROM (SELECT aisec.histogram(x, 0, 100, 20) AS h, aisec.category_counts((i % 7)::text) AS c
          FROM vals GROUP BY i % 5) t;
SELECT aisec.histogram_merge(h)
  FROM (VALUES ('{"n": 1, "lower": 0, "upper": 1, "bins": 2, "underflow": 0, "counts": [1, 0], "overflow": 0}'::aisec.histogram_stats),
               ('{"n": 1, "lower": 0, "upper": 1, "bins": 3, "underflow": 0, "counts": [1, 0, 0], "overflow": 0}')) t(h);

-- ==== Text and binary input
SELECT '{"n": 3, "lower": -1.5, "upper": 2.5, "bins": 2, "underflow": 1, "counts": [1, 0], "overflow": 1}'::aisec.histogram_stats;
SELECT '{"n": 4, "lower": 0, "upper": 1, "bins": 2, "underflow": 0, "counts": [1, 0], "overflow": 1}'::aisec.histogram_stats;
SELECT '{"n": 1, "lower": 1, "upper": 0, "bins": 2, "underflow": 0, "counts": [1, 0], "overflow": 0}'::aisec.histogram_stats;
SELECT '{"n": 1, "lower": 0, "upper": 1, "bins": 3, "underflow": 0, "counts": [1, 0], "overflow": 0}'::aisec.histogram_stats;
SELECT '{"n": 0, "lower": 0, "upper": 1, "bins": 1, "underflow": 0, "counts": [0], "overflow": 0}'::aisec.histogram_stats;
SELECT '{"n": 1, "counts": {"a": 1, "b": 0}}'::aisec.category_stats;
SELECT '{"n": 0, "counts": {}}'::aisec.category_stats;
SELECT '{"n": 1, "counts": ["a"]}'::aisec.category_stats;
SELECT '{"n": 2, "counts": {"b": 1, "a": 1}}'::aisec.category_stats;

CREATE TABLE hbin AS SELECT aisec.histogram(x, 0, 100, 4)::bytea AS v FROM vals;
CREATE TABLE cbin AS SELECT aisec.category_counts((i % 3)::text)::bytea AS v FROM vals;
SELECT v::aisec.histogram_stats::bytea = v AS round_trip FROM hbin;
SELECT v::aisec.category_stats::bytea = v AS round_trip FROM cbin;
SELECT set_byte(v, 0, 9)::aisec.histogram_stats FROM hbin;
SELECT v::aisec.category_stats FROM hbin;                 -- a histogram is not category counts
SELECT substr(v, 1, 20)::aisec.histogram_stats FROM hbin;
SELECT set_byte(v, 18, 0)::aisec.histogram_stats FROM hbin;    -- bins = 0
SELECT set_byte(set_byte(v, 9, 127), 8, 255)::aisec.histogram_stats FROM hbin;   -- lower = NaN
SELECT (v || '\x00'::bytea)::aisec.category_stats FROM cbin;
SELECT set_byte(v, 2, 255)::aisec.category_stats FROM cbin;    -- category count too big

-- Binary COPY out and in goes through the send and receive functions.
CREATE TABLE states (h aisec.histogram_stats, c aisec.category_stats, t aisec.contingency_stats);
INSERT INTO states
SELECT aisec.histogram(x, 0, 100, 4), aisec.category_counts((i % 3)::text),
       aisec.contingency((i % 2)::text, (i % 3)::text) FROM vals;
COPY states TO '/tmp/aisec_drift_states.bin' WITH (FORMAT binary);
CREATE TABLE states_in (LIKE states);
COPY states_in FROM '/tmp/aisec_drift_states.bin' WITH (FORMAT binary);
SELECT s.h::text = i.h::text AND s.c::text = i.c::text AND s.t::text = i.t::text AS binary_copy_round_trip
  FROM states s, states_in i;

-- Every single-byte corruption and truncation is rejected cleanly or is
-- still a valid state the measures accept.
DO $$
DECLARE
    hv bytea := (SELECT v FROM hbin);
    cv bytea := (SELECT v FROM cbin);
    h aisec.histogram_stats;
    c aisec.category_stats;
    rejected int := 0;
    valid int := 0;
    b int;
BEGIN
    FOR i IN 0 .. greatest(length(hv), length(cv)) - 1 LOOP
        FOREACH b IN ARRAY ARRAY[0, 1, 127, 128, 255] LOOP
            IF i < length(hv) THEN
                BEGIN
                    h := set_byte(hv, i, b)::aisec.histogram_stats;
                    PERFORM aisec.psi(h, h), aisec.ks_statistic(h, h), h::text;
                    valid := valid + 1;
                EXCEPTION WHEN invalid_binary_representation THEN
                    rejected := rejected + 1;
                END;
            END IF;
            IF i < length(cv) THEN
                BEGIN
                    c := set_byte(cv, i, b)::aisec.category_stats;
                    PERFORM aisec.js_divergence(c, c), aisec.class_imbalance(c), c::text;
                    valid := valid + 1;
                EXCEPTION WHEN invalid_binary_representation THEN
                    rejected := rejected + 1;
                END;
            END IF;
        END LOOP;
    END LOOP;
    FOR n IN 0 .. length(hv) - 1 LOOP
        BEGIN
            h := substr(hv, 1, n)::aisec.histogram_stats;
            valid := valid + 1;
        EXCEPTION WHEN invalid_binary_representation THEN
            rejected := rejected + 1;
        END;
    END LOOP;
    FOR n IN 0 .. length(cv) - 1 LOOP
        BEGIN
            c := substr(cv, 1, n)::aisec.category_stats;
            valid := valid + 1;
        EXCEPTION WHEN invalid_binary_representation THEN
            rejected := rejected + 1;
        END;
    END LOOP;
    RAISE NOTICE 'corrupted copies: % rejected, % still valid', rejected, valid;
END
$$;

-- ==== Privileges: nothing of this capability is executable by PUBLIC (the
-- one aisec function that is, capture_row_needed, is a trigger condition of
-- dataset versioning; see privileges.sql).
SELECT p.oid::regprocedure AS executable_by_public
  FROM pg_proc p
 WHERE p.pronamespace = 'aisec'::regnamespace
   AND has_function_privilege('public', p.oid, 'EXECUTE')
 ORDER BY 1;
