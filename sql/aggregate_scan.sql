-- The aggregate scan (src/core/aggscan.c, doc/bias.md): aisec.fairness()
-- and aisec.contingency() over a whole table computed in one loop over its
-- heap pages instead of a sequential scan feeding an Agg node.  Every result is compared with the
-- same query planned as any aggregate (aisec.aggregate_scan = off).  A
-- serial scan reads the rows in the same order either way, so even the
-- weighted sums must be byte-identical.

SET max_parallel_workers_per_gather = 0;

-- Columns of every alignment and a varlena before the arguments, NULL
-- groups and labels; then a dropped column, a column added with a default
-- (older rows do not store it), group names stored compressed and out of
-- line (rows padded past the toast threshold with text that does not
-- compress, toast_tuple_target low), and names whose first and last 8
-- bytes agree.
CREATE TABLE sc (id int, s smallint, junk text, big bigint, grp text, y boolean, p boolean, w float8);
INSERT INTO sc
SELECT i, (i % 300)::smallint, repeat('x', i % 50), i * 1000003::bigint,
       CASE WHEN i % 37 = 0 THEN NULL ELSE 'g' || (i % 5) END,
       CASE WHEN i % 11 = 0 THEN NULL ELSE i % 3 = 0 END,
       CASE WHEN i % 13 = 0 THEN NULL ELSE i % 4 = 0 END,
       0.1 + (i % 7) / 3.0
FROM generate_series(1, 5000) i;
ALTER TABLE sc DROP COLUMN junk;
ALTER TABLE sc ADD COLUMN late text NOT NULL DEFAULT 'late';
ALTER TABLE sc ADD COLUMN pad text;
ALTER TABLE sc SET (toast_tuple_target = 128);
INSERT INTO sc
SELECT i, 1, i, 'g' || (i % 5), i % 2 = 0, i % 3 = 0, 1.5, 'now'
FROM generate_series(5001, 6000) i;
INSERT INTO sc
SELECT i, 1, i, repeat('long group name ', 60) || (i % 2), true, i % 2 = 0, 2.0, 'now',
       (SELECT string_agg(md5(i::text || k), '') FROM generate_series(1, 50) k)
FROM generate_series(6001, 6100) i;
INSERT INTO sc
SELECT i, 1, i, (SELECT string_agg(md5((i % 3)::text || k), '') FROM generate_series(1, 30) k),
       false, i % 2 = 0, 2.0, 'now',
       (SELECT string_agg(md5(i::text || k), '') FROM generate_series(1, 50) k)
FROM generate_series(6101, 6130) i;
INSERT INTO sc
SELECT 7000 + n, 1, n, left('abcdefghijklmnopqrst', n), n % 2 = 0, n % 3 = 0, 1.0, 'now'
FROM generate_series(0, 20) n;
INSERT INTO sc
SELECT 8000 + n, 1, n, 'aaaaaaaa' || chr(65 + n) || 'zzzzzzzz', true, false, 1.0, 'now'
FROM generate_series(0, 3) n;
ANALYZE sc;
SELECT count(*) AS rows, count(DISTINCT grp) AS groups,
       count(*) FILTER (WHERE pg_column_size(grp) < octet_length(grp)) AS compressed,
       count(*) FILTER (WHERE length(grp) > 900) AS long_names
FROM sc;
-- out of line: the 130 padding values and the 30 names that do not compress
SELECT reltoastrelid::regclass AS sc_toast FROM pg_class WHERE oid = 'sc'::regclass \gset
SELECT count(DISTINCT chunk_id) AS out_of_line FROM :sc_toast;

-- Which plan: the scan for aggregates over the whole table, alone or in
-- expressions, the same aggregate twice computed once.
EXPLAIN (COSTS OFF) SELECT aisec.fairness(grp, y, p) FROM sc;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT aisec.fairness(grp, y, p) IS NULL, aisec.fairness(grp, y, p, w), aisec.fairness(grp, y, p) FROM sc;

-- The same states either way.
CREATE TEMP TABLE scan_on AS
SELECT aisec.fairness(grp, y, p)::bytea AS u, aisec.fairness(grp, y, p, w)::bytea AS wt,
       aisec.fairness(late, p, y)::bytea AS late
FROM sc;
SET aisec.aggregate_scan = off;
EXPLAIN (COSTS OFF) SELECT aisec.fairness(grp, y, p) FROM sc;
CREATE TEMP TABLE scan_off AS
SELECT aisec.fairness(grp, y, p)::bytea AS u, aisec.fairness(grp, y, p, w)::bytea AS wt,
       aisec.fairness(late, p, y)::bytea AS late
FROM sc;
RESET aisec.aggregate_scan;
SELECT a.u = b.u AS unweighted, a.wt = b.wt AS weighted, a.late = b.late AS added_column
FROM scan_on a, scan_off b;

-- Spot checks of what the scan found: every group, the compressed ones,
-- the names of 0 to 20 bytes, the names alike but for their middle byte,
-- the NULL group; the added column's default for the 5000 older rows.
SELECT count(*) AS groups,
       count(*) FILTER (WHERE length(grp) > 900) AS long_groups,
       count(*) FILTER (WHERE grp LIKE 'aaaaaaaa_zzzzzzzz') AS alike,
       sum(n) FILTER (WHERE grp IS NULL) AS null_group_rows,
       sum(n) AS rows
FROM aisec.fairness_report((SELECT u FROM scan_on)::aisec.fairness_stats, 'g0');
SELECT grp, n FROM aisec.fairness_report((SELECT late FROM scan_on)::aisec.fairness_stats, 'now')
ORDER BY grp;

-- No rows: NULL, as from the Agg node.
CREATE TABLE sc_empty (grp text, y boolean, p boolean);
EXPLAIN (COSTS OFF) SELECT aisec.fairness(grp, y, p) FROM sc_empty;
SELECT aisec.fairness(grp, y, p) IS NULL AS empty, aisec.fairness(grp, y, p, 1.0) IS NULL AS empty_weighted
FROM sc_empty;

-- Queries the scan leaves to the Agg node: a WHERE clause, GROUP BY,
-- FILTER, DISTINCT, an expression as argument, another aggregate beside,
-- a window function, a partitioned table, TABLESAMPLE.
EXPLAIN (COSTS OFF) SELECT aisec.fairness(grp, y, p) FROM sc WHERE id > 10;
EXPLAIN (COSTS OFF) SELECT s, aisec.fairness(grp, y, p) FROM sc GROUP BY s;
EXPLAIN (COSTS OFF) SELECT aisec.fairness(grp, y, p) FILTER (WHERE id > 10) FROM sc;
EXPLAIN (COSTS OFF) SELECT aisec.fairness(DISTINCT grp, y, p) FROM sc;
EXPLAIN (COSTS OFF) SELECT aisec.fairness(lower(grp), y, p) FROM sc;
EXPLAIN (COSTS OFF) SELECT aisec.fairness(grp, y, p), count(*) FROM sc;
EXPLAIN (COSTS OFF) SELECT aisec.fairness(grp, y, p), rank() OVER () FROM sc;
EXPLAIN (COSTS OFF) SELECT aisec.fairness(grp, y, p) FROM sc TABLESAMPLE SYSTEM (50);
CREATE TABLE sc_parted (grp text, y boolean, p boolean) PARTITION BY LIST (y);
CREATE TABLE sc_parted_t PARTITION OF sc_parted FOR VALUES IN (true);
CREATE TABLE sc_parted_f PARTITION OF sc_parted DEFAULT;
INSERT INTO sc_parted SELECT grp, y, p FROM sc;
EXPLAIN (COSTS OFF) SELECT aisec.fairness(grp, y, p) FROM sc_parted;
-- ... but a single partition, a materialized view and a plain view are tables.
EXPLAIN (COSTS OFF) SELECT aisec.fairness(grp, y, p) FROM sc_parted_t;
CREATE MATERIALIZED VIEW sc_mv AS SELECT grp, y, p FROM sc;
CREATE VIEW sc_v AS SELECT grp, y, p FROM sc;
EXPLAIN (COSTS OFF) SELECT aisec.fairness(grp, y, p) FROM sc_mv;
EXPLAIN (COSTS OFF) SELECT aisec.fairness(grp, y, p) FROM sc_v;
SELECT (SELECT aisec.fairness(grp, y, p)::bytea FROM sc_mv) = (SELECT u FROM scan_off) AS matview_same,
       (SELECT aisec.fairness(grp, y, p)::bytea FROM sc_v) = (SELECT u FROM scan_off) AS view_same,
       (SELECT aisec.fairness(grp, y, p)::bytea FROM sc_parted) = (SELECT u FROM scan_off) AS parted_same;

-- A varchar column is passed as text unchanged (a relabeling): the scan.
CREATE TABLE sc_varchar AS SELECT grp::varchar(2000) AS grp, y, p FROM sc;
EXPLAIN (COSTS OFF) SELECT aisec.fairness(grp, y, p) FROM sc_varchar;
SELECT aisec.fairness(grp, y, p)::bytea = (SELECT u FROM scan_off) AS varchar_same FROM sc_varchar;

-- An aggregate of one's own over fairness's transition function is the
-- scan's too, with its own final function; not with an initial state,
-- which the Agg node would start from.
CREATE FUNCTION sc_groups(s aisec.fairness_stats) RETURNS bigint
LANGUAGE sql AS $$ SELECT count(*) FROM aisec.fairness_report(s, 'g0') $$;
CREATE AGGREGATE sc_group_count(text, boolean, boolean) (
    SFUNC = aisec.fairness_transfn, STYPE = aisec.fairness_stats, FINALFUNC = sc_groups);
SELECT aisec.fairness('seed', true, true)::text AS seed \gset
CREATE AGGREGATE sc_seeded(text, boolean, boolean) (
    SFUNC = aisec.fairness_transfn, STYPE = aisec.fairness_stats, INITCOND = :'seed');
EXPLAIN (COSTS OFF) SELECT sc_group_count(grp, y, p) FROM sc;
EXPLAIN (COSTS OFF) SELECT sc_seeded(grp, y, p) FROM sc;
SELECT sc_group_count(grp, y, p) AS groups,
       (SELECT count(*) FROM aisec.fairness_report(sc_seeded(grp, y, p), 'seed')) AS groups_with_seed
FROM sc;

-- aisec.contingency() is the scan's too.  Rows with a NULL in the pair
-- are skipped; over only such rows the result is NULL, as from the Agg
-- node.
EXPLAIN (COSTS OFF) SELECT aisec.contingency(grp, late) FROM sc;
EXPLAIN (COSTS OFF) SELECT aisec.fairness(grp, y, p), aisec.contingency(grp, late) FROM sc;
CREATE TEMP TABLE cont_on AS
SELECT aisec.contingency(grp, late)::text AS c, aisec.contingency(late, grp)::text AS c2,
       (SELECT aisec.contingency(grp, late) FROM sc WHERE grp IS NULL) IS NULL AS null_pairs_only
FROM sc;
SET aisec.aggregate_scan = off;
SELECT c.c = aisec.contingency(grp, late)::text AS contingency_same,
       c.c2 = aisec.contingency(late, grp)::text AS swapped_same,
       c.null_pairs_only
FROM sc, cont_on c GROUP BY c.c, c.c2, c.null_pairs_only;
RESET aisec.aggregate_scan;
CREATE TABLE sc_null_pairs AS SELECT NULL::text AS a, 'x'::text AS b FROM generate_series(1, 10);
EXPLAIN (COSTS OFF) SELECT aisec.contingency(a, b) FROM sc_null_pairs;
SELECT aisec.contingency(a, b) IS NULL AS null_pairs_only FROM sc_null_pairs;

-- Rows of the current transaction, seen through its snapshot; and a rolled
-- back delete, not seen.
BEGIN;
DELETE FROM sc WHERE id % 2 = 0;
INSERT INTO sc (id, grp, y, p, w) VALUES (9001, 'new', true, true, 1), (9002, NULL, NULL, NULL, 1);
SELECT aisec.fairness(grp, y, p)::bytea AS u FROM sc \gset in_xact_on_
SET LOCAL aisec.aggregate_scan = off;
SELECT aisec.fairness(grp, y, p)::bytea = :'in_xact_on_u' AS same_in_transaction,
       aisec.fairness(grp, y, p)::bytea <> (SELECT u FROM scan_off) AS changed
FROM sc;
ROLLBACK;
SELECT aisec.fairness(grp, y, p)::bytea = (SELECT u FROM scan_off) AS same_after_rollback FROM sc;

-- A cursor, read forwards and back; the scan under a join that runs it
-- again for every outer row.
BEGIN;
DECLARE c SCROLL CURSOR FOR SELECT aisec.fairness(grp, y, p)::bytea = (SELECT u FROM scan_off) AS same FROM sc;
FETCH NEXT FROM c;
FETCH PRIOR FROM c;
FETCH FIRST FROM c;
COMMIT;
SET enable_material = off;
SET enable_hashjoin = off;
SET enable_mergejoin = off;
EXPLAIN (COSTS OFF)
SELECT g, f = (SELECT u FROM scan_off) AS same
FROM generate_series(1, 3) g,
     LATERAL (SELECT aisec.fairness(grp, y, p)::bytea AS f FROM sc OFFSET 0) s
WHERE g > 0;
SELECT g, f = (SELECT u FROM scan_off) AS same
FROM generate_series(1, 3) g,
     LATERAL (SELECT aisec.fairness(grp, y, p)::bytea AS f FROM sc OFFSET 0) s
WHERE g > 0;
RESET enable_material;
RESET enable_hashjoin;
RESET enable_mergejoin;

-- Errors from a row are the transition function's: a NULL or negative
-- weight, either way, naming the problem and nothing of the row.
CREATE TABLE sc_bad (grp text, y boolean, p boolean, w float8);
INSERT INTO sc_bad VALUES ('a', true, true, 1), ('secret-person@example.com', true, false, NULL);
SELECT aisec.fairness(grp, y, p, w) FROM sc_bad;
SET aisec.aggregate_scan = off;
SELECT aisec.fairness(grp, y, p, w) FROM sc_bad;
RESET aisec.aggregate_scan;
UPDATE sc_bad SET w = -0.5 WHERE w IS NULL;
SELECT aisec.fairness(grp, y, p, w) FROM sc_bad;
SET aisec.aggregate_scan = off;
SELECT aisec.fairness(grp, y, p, w) FROM sc_bad;
RESET aisec.aggregate_scan;

-- A parallel plan: every participant scans a share of the pages, the
-- Finalize Aggregate combines their states.  Counts are exact.
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
EXPLAIN (COSTS OFF) SELECT aisec.fairness(grp, y, p) FROM sc;
SELECT aisec.fairness(grp, y, p)::bytea = (SELECT u FROM scan_off) AS parallel_same FROM sc;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SET max_parallel_workers_per_gather = 0;

-- Privileges hold as through the Agg node, checked for the role that
-- executes: EXECUTE on the aggregate, SELECT on the columns, row-level
-- security (a policy makes a condition, so the Agg node runs).
CREATE ROLE regress_scan_engineer IN ROLE aisec_engineer;
CREATE ROLE regress_scan_outsider;
GRANT SELECT ON sc TO regress_scan_engineer, regress_scan_outsider;
GRANT SELECT ON scan_off TO regress_scan_engineer;
CREATE TABLE sc_cols (grp text, y boolean, p boolean, secret text);
INSERT INTO sc_cols SELECT grp, y, p, 'x' FROM sc;
GRANT SELECT (grp, y) ON sc_cols TO regress_scan_engineer;
-- (without USAGE on schema aisec the call does not even parse)
SET ROLE regress_scan_outsider;
SELECT aisec.fairness(grp, y, p) FROM sc;
RESET ROLE;
SET ROLE regress_scan_engineer;
SELECT aisec.fairness(grp, y, p)::bytea = (SELECT u FROM scan_off) AS engineer_same FROM sc;
SELECT aisec.fairness(grp, y, p) FROM sc_cols;
SELECT aisec.fairness(grp, y, y) IS NOT NULL AS granted_columns FROM sc_cols;
PREPARE scan_q AS SELECT aisec.fairness(grp, y, p) IS NOT NULL AS ok FROM sc;
EXECUTE scan_q;
RESET ROLE;
-- the plan prepared by the engineer, executed by the outsider: refused by
-- the scan as by the Agg node
SET ROLE regress_scan_outsider;
EXECUTE scan_q;
RESET ROLE;
SET aisec.aggregate_scan = off;
PREPARE scan_q_off AS SELECT aisec.fairness(grp, y, p) IS NOT NULL AS ok FROM sc;
SET ROLE regress_scan_outsider;
EXECUTE scan_q_off;
RESET ROLE;
RESET aisec.aggregate_scan;
DEALLOCATE scan_q_off;
DEALLOCATE scan_q;

CREATE TABLE sc_rls (grp text, y boolean, p boolean, owner_name name);
INSERT INTO sc_rls SELECT grp, y, p, CASE WHEN id % 3 = 0 THEN 'regress_scan_engineer' ELSE 'other' END FROM sc;
ALTER TABLE sc_rls ENABLE ROW LEVEL SECURITY;
CREATE POLICY mine ON sc_rls FOR SELECT USING (owner_name = current_user);
GRANT SELECT ON sc_rls TO regress_scan_engineer;
SET ROLE regress_scan_engineer;
EXPLAIN (COSTS OFF) SELECT aisec.fairness(grp, y, p) FROM sc_rls;
SELECT sum(n) AS visible_rows
FROM aisec.fairness_report((SELECT aisec.fairness(grp, y, p) FROM sc_rls), 'g0');
RESET ROLE;
SELECT count(*) AS policy_rows FROM sc_rls WHERE owner_name = 'regress_scan_engineer';

DROP TABLE sc, sc_empty, sc_parted, sc_bad, sc_cols, sc_rls, sc_varchar, sc_null_pairs, scan_on, scan_off, cont_on CASCADE;
DROP AGGREGATE sc_group_count(text, boolean, boolean);
DROP AGGREGATE sc_seeded(text, boolean, boolean);
DROP FUNCTION sc_groups(aisec.fairness_stats);
DROP ROLE regress_scan_engineer, regress_scan_outsider;
RESET max_parallel_workers_per_gather;
