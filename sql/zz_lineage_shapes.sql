-- Row lineage through every shape traced row by row (issue 17 item 1,
-- doc/lineage.md "Automatic capture"): joins of every kind, self-joins,
-- grouping, DISTINCT, UNION ALL, CTEs, subqueries, views, LATERAL,
-- UPDATE ... FROM.  Each written row's parents are checked by name.
-- (Runs after zz_lineage and zz_lineage_capture.)

CREATE SCHEMA ls;
SET search_path = ls, public;
CREATE TABLE a (id int, g int, v text);
CREATE TABLE b (id int, w text);
CREATE TABLE plain (id int, z text);		-- not tracked
CREATE TABLE t (x int, y text);
INSERT INTO a SELECT i, i % 3, 'a' || i FROM generate_series(1, 9) i;
INSERT INTO b SELECT i, 'b' || i FROM generate_series(1, 6) i;
INSERT INTO plain SELECT i, 'p' || i FROM generate_series(1, 3) i;
SELECT aisec.track('a') > 0 AS a, aisec.track('b') > 0 AS b, aisec.track('t') > 0 AS t;
-- A row's name: a3, b5, or t:<y> for a row of t.
CREATE FUNCTION nm(bigint) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT 'a' || id FROM ls.a WHERE aisec_rid = $1),
                    (SELECT 'b' || id FROM ls.b WHERE aisec_rid = $1),
                    (SELECT 't:' || y FROM ls.t WHERE aisec_rid = $1), '?') $$;
-- Each row of t (label y) with its parents one level up, by name.
CREATE VIEW ups AS
SELECT t.y, (SELECT string_agg(nm(u.rid), ',' ORDER BY nm(u.rid)) FROM aisec.lineage_up(t.aisec_rid, 1) u) AS parents
FROM t;
CREATE TABLE t0 AS SELECT coalesce(max(id), 0) AS t0 FROM aisec.lineage_transform;
CREATE VIEW transforms AS
SELECT row_number() OVER (ORDER BY id DESC) AS n, kind, level, edges
FROM aisec.lineage_transform WHERE id > (SELECT t0 FROM t0);

--
-- 1. Joins: one parent per joined side, none for a side an outer join
--    fills with NULLs; both sides of a self-join; three tables.
--
INSERT INTO t SELECT a.id, 'left' || a.id FROM a LEFT JOIN b ON a.id = b.id WHERE a.id IN (5, 7);
INSERT INTO t SELECT b.id, 'right' || b.id FROM a RIGHT JOIN b ON a.id = b.id + 5 WHERE b.id IN (1, 4);
INSERT INTO t SELECT coalesce(x.id, y.id), 'full'
FROM (SELECT * FROM a WHERE id IN (1, 2)) x FULL JOIN (SELECT * FROM b WHERE id IN (2, 3)) y ON x.id = y.id;
INSERT INTO t SELECT x.id, 'self' || x.id FROM a x JOIN a y ON y.id = x.id + 1 WHERE x.id <= 2;
INSERT INTO t SELECT a.id, 'three' FROM a, b, a a2 WHERE b.id = a.id AND a2.id = a.id * 2 AND a.id = 3;
INSERT INTO t SELECT a.id, 'cross' FROM a CROSS JOIN b WHERE a.id = 1 AND b.id = 6;
SELECT * FROM ups ORDER BY y, parents;

--
-- 2. Grouping: every row of the group; a group of groups; DISTINCT as a
--    grouping; DISTINCT ON keeps its row; HAVING; an aggregate without
--    GROUP BY; a grouped join counts each row once.
--
DELETE FROM t;
INSERT INTO t SELECT g, 'g' || g FROM a GROUP BY g;
INSERT INTO t SELECT a.g, 'gj' || a.g FROM a JOIN b ON a.id = b.id GROUP BY a.g HAVING count(*) > 1;
INSERT INTO t SELECT count(*), 'nested' FROM (SELECT g, max(id) FROM a GROUP BY g) s;
INSERT INTO t SELECT DISTINCT g, 'distinct' || g FROM a WHERE id <= 6;
INSERT INTO t SELECT DISTINCT ON (g) g, 'on' || g FROM a ORDER BY g, id DESC;
INSERT INTO t SELECT count(*), 'all' FROM a HAVING count(*) > 1;
INSERT INTO t SELECT count(*), 'dup' FROM a JOIN b ON b.id IN (a.id, a.id + 1) WHERE a.id = 2;
INSERT INTO t SELECT count(*), 'empty' FROM a WHERE id < 0;
SELECT * FROM ups ORDER BY y, parents;

--
-- 3. UNION ALL: each row has its own branch's parents; a branch without
--    a tracked table gives none; ORDER BY and LIMIT over the union.
--
DELETE FROM t;
INSERT INTO t
SELECT id, 'u1' FROM a WHERE id = 1
UNION ALL SELECT b.id, 'u2' FROM b JOIN a ON a.id = b.id WHERE b.id = 2
UNION ALL SELECT max(id), 'u3' FROM b
UNION ALL VALUES (0, 'u4');
INSERT INTO t SELECT * FROM (SELECT id, 'lim' FROM a UNION ALL SELECT id, 'lim' FROM b) s ORDER BY 1 DESC LIMIT 2;
SELECT * FROM ups ORDER BY y, parents;

--
-- 4. CTEs (on the INSERT or its SELECT, used twice, materialized, one
--    reading another), subqueries, LATERAL, a view, a function in FROM.
--
DELETE FROM t;
WITH c AS (SELECT id FROM a WHERE id <= 2) INSERT INTO t SELECT c1.id, 'twice' FROM c c1 JOIN c c2 ON c2.id = c1.id + 1;
INSERT INTO t WITH c AS MATERIALIZED (SELECT id FROM a WHERE id = 3) SELECT id, 'mat' FROM c;
INSERT INTO t WITH c AS (SELECT id FROM b WHERE id = 4), d AS (SELECT a.id FROM a JOIN c ON c.id = a.id) SELECT id, 'chain' FROM d;
INSERT INTO t SELECT s.id, 'sub' FROM (SELECT a.id FROM a JOIN (SELECT id FROM b) bb ON bb.id = a.id WHERE a.id = 5) s;
INSERT INTO t SELECT a.id, 'lateral' FROM a, LATERAL (SELECT * FROM b WHERE b.id = a.id LIMIT 1) bb WHERE a.id = 4;
CREATE VIEW av AS SELECT a.id, b.w FROM a JOIN b USING (id);
CREATE VIEW sbv WITH (security_barrier) AS SELECT id FROM a WHERE id > 7;
INSERT INTO t SELECT id, 'view' FROM av WHERE id = 6;
INSERT INTO t SELECT id, 'barrier' FROM sbv;
INSERT INTO t SELECT a.id * 10 + n, 'series' FROM a, generate_series(1, 2) n WHERE a.id = 9;
SELECT * FROM ups ORDER BY y, parents;

--
-- 5. A source that is not tracked adds no row parent (it is named at
--    table level); the tracked side still is traced.
--
DELETE FROM t;
INSERT INTO t SELECT a.id, 'mixed' FROM a JOIN plain p ON p.id = a.id WHERE a.id = 2;
INSERT INTO t SELECT id, 'plain only' FROM plain WHERE id = 1;
SELECT * FROM ups ORDER BY y, parents;
SELECT n, kind, level, edges FROM transforms WHERE n <= 2 ORDER BY n DESC;

--
-- 6. UPDATE ... FROM: the new row version's parents are the rows it was
--    joined with (its older versions are the same row id); an UPDATE
--    without FROM records nothing.
--
DELETE FROM t;
INSERT INTO t VALUES (1, 'upd'), (2, 'upd2');
UPDATE t SET x = t.x + bb.id FROM b bb WHERE bb.id = t.x AND t.y = 'upd';
UPDATE t SET x = s.n FROM (SELECT count(*) AS n FROM a WHERE g = 1) s WHERE t.y = 'upd2';
UPDATE t SET y = y || '!';
SELECT * FROM ups ORDER BY y, parents;
SELECT n, kind, level, edges FROM transforms WHERE n <= 2 ORDER BY n DESC;

--
-- 7. Versions: a parent's version is the one its table was read at (the
--    last commit, 1, for a table unchanged since; its pending version
--    otherwise), the child's its table's pending version.
--
SELECT aisec.create_dataset('ls_ds', ARRAY['ls.a', 'ls.b']::regclass[]) IS NOT NULL AS created;
SELECT aisec.commit('ls_ds', 'first') AS v1;
DELETE FROM t;
INSERT INTO t SELECT a.id, 'versioned' FROM a JOIN b USING (id) WHERE id = 1;
SELECT nm(u.rid), u.valid_from, p.pending_version, u.depth
FROM t, aisec.lineage_up(t.aisec_rid) u
JOIN aisec.tracked p ON p.rel = aisec.rid_table(u.rid)
ORDER BY 1;
-- a changed since the commit: its rows are read "as of" its pending version.
UPDATE a SET v = v || '.' WHERE id = 9;
DELETE FROM t;
INSERT INTO t SELECT a.id, 'versioned' FROM a JOIN b USING (id) WHERE id = 1;
SELECT nm(u.rid), u.valid_from, p.pending_version, u.depth
FROM t, aisec.lineage_up(t.aisec_rid) u
JOIN aisec.tracked p ON p.rel = aisec.rid_table(u.rid)
ORDER BY 1;

--
-- 8. Down: from a source row to everything made from it, through a group
--    and a second level.
--
CREATE TABLE t8 (x int, y text);
SELECT aisec.track('t8') > 0 AS tracked;
INSERT INTO t8 SELECT g, 'lvl1-' || g FROM a GROUP BY g;
INSERT INTO t8 SELECT x, 'lvl2-' || x FROM t8 WHERE y = 'lvl1-1';
SELECT d.depth, t8.y FROM a, aisec.lineage_down(a.aisec_rid) d JOIN t8 ON t8.aisec_rid = d.rid
WHERE a.id = 4 ORDER BY 1, 2;
SELECT count(*) AS descendants FROM a, aisec.lineage_down(a.aisec_rid) d WHERE a.id = 4;

--
-- 9. Compact sets: a GROUP BY of 30,000 rows into 10 groups writes one
--    edge row per group and block of 65,536 parent ids, not one per row.
--
CREATE TABLE big (id int, k int);
SELECT aisec.track('big') > 0 AS tracked;
INSERT INTO big SELECT i, i % 10 FROM generate_series(1, 30000) i;
INSERT INTO t SELECT k, 'bigk' || k FROM big GROUP BY k;
SELECT n, kind, level, edges FROM transforms WHERE n = 1;
SELECT count(*) AS edge_rows, sum(length(parents)) < 30000 * 3 AS under_3_bytes_per_edge
FROM aisec.lineage_edge WHERE transform = (SELECT max(id) FROM aisec.lineage_transform);
SELECT count(*) AS groups, bool_and(n = 3000) AS each_3000
FROM (SELECT t.y, (SELECT count(*) FROM aisec.lineage_up(t.aisec_rid, 1)) AS n FROM t WHERE y LIKE 'bigk%') s;

-- A statement whose edges outgrow aisec.lineage_memory is recorded at
-- table level, with a NOTICE (1 MB: 150,000 edges need 2.4 MB).
SET aisec.lineage_memory = '1MB';
INSERT INTO t SELECT k, 'mem' FROM big, generate_series(1, 5);
RESET aisec.lineage_memory;
SELECT n, kind, level, edges FROM transforms WHERE n = 1;
DELETE FROM t WHERE y = 'mem';
-- In a parallel plan, lineage functions and rid_table read the registry
-- too (in parallel mode, with the active snapshot).
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT count(*) FROM big WHERE aisec.rid_table(aisec_rid) IS NOT NULL;
SELECT count(*) FROM big WHERE aisec.rid_table(aisec_rid) IS NOT NULL;
SELECT count(*) AS parents FROM t, aisec.lineage_up(t.aisec_rid, 1) u WHERE t.y = 'bigk1';
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- A join whose other side is stored in another order than the rows are
-- read: that side's edges are written twice, as runs of children (format
-- 4, for lineage_up) and as runs of parents (format 5, for lineage_down);
-- every row's lineage is still exact both ways.
CREATE TABLE so (id int);
CREATE TABLE sh (id int);
CREATE TABLE tj (id int);
SELECT aisec.track('so') > 0 AS so, aisec.track('sh') > 0 AS sh, aisec.track('tj') > 0 AS tj;
INSERT INTO so SELECT i FROM generate_series(1, 10007) i;
INSERT INTO sh SELECT (i * 7919) % 10007 + 1 FROM generate_series(0, 10006) i;
ANALYZE so, sh;
SET enable_mergejoin = off;	-- a hash join reads one side in its stored order
SET enable_nestloop = off;
INSERT INTO tj SELECT so.id FROM so JOIN sh USING (id);
RESET enable_mergejoin;
RESET enable_nestloop;
SELECT get_byte(parents, 0) AS format, count(*) AS edge_rows
FROM aisec.lineage_edge WHERE transform = (SELECT max(id) FROM aisec.lineage_transform)
GROUP BY 1 ORDER BY 1;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE (SELECT array_agg(u.rid ORDER BY u.rid) FROM aisec.lineage_up(tj.aisec_rid, 1) u)
                              = ARRAY[least(so.aisec_rid, sh.aisec_rid), greatest(so.aisec_rid, sh.aisec_rid)]) AS exact_up,
       count(*) FILTER (WHERE (SELECT array_agg(d.rid) FROM aisec.lineage_down(sh.aisec_rid, 1) d) = ARRAY[tj.aisec_rid]
                          AND (SELECT array_agg(d.rid) FROM aisec.lineage_down(so.aisec_rid, 1) d) = ARRAY[tj.aisec_rid]) AS exact_down
FROM tj JOIN so USING (id) JOIN sh USING (id);
SELECT aisec.untrack(r) FROM unnest(ARRAY['so', 'sh', 'tj']::regclass[]) r;
DROP TABLE so, sh, tj;

--
-- 10. Row-level security on a source holds: a group's parents are the
--     rows the writer could see, and nothing else.
--
CREATE ROLE ls_writer;
GRANT USAGE ON SCHEMA ls TO ls_writer;
GRANT SELECT ON a TO ls_writer;
GRANT INSERT ON t TO ls_writer;
ALTER TABLE a ENABLE ROW LEVEL SECURITY;
CREATE POLICY low ON a TO ls_writer USING (id <= 3);
DELETE FROM t;
SET ROLE ls_writer;
INSERT INTO t SELECT count(*), 'rls' FROM a;
RESET ROLE;
SELECT * FROM ups ORDER BY y, parents;
ALTER TABLE a DISABLE ROW LEVEL SECURITY;
DROP POLICY low ON a;

--
-- 11. A cached generic plan of a join, executed twice.
--
DELETE FROM t;
SET plan_cache_mode = force_generic_plan;
PREPARE j(int) AS INSERT INTO t SELECT a.id, 'prep' || a.id FROM a JOIN b USING (id) WHERE a.id = $1;
EXECUTE j(1);
EXECUTE j(2);
RESET plan_cache_mode;
DEALLOCATE j;
SELECT * FROM ups ORDER BY y, parents;

--
-- 12. MERGE: an UPDATE or INSERT action's row gets the rows of the source
--     row it was written for; DELETE and DO NOTHING write no row.
--
DELETE FROM t;
INSERT INTO t VALUES (1, 'm1'), (2, 'm2');
MERGE INTO t USING (SELECT a.id, b.w FROM a JOIN b USING (id) WHERE id <= 4) s ON t.x = s.id
WHEN MATCHED AND s.id = 2 THEN DELETE
WHEN MATCHED THEN UPDATE SET y = t.y || '+'
WHEN NOT MATCHED AND s.id = 4 THEN DO NOTHING
WHEN NOT MATCHED THEN INSERT VALUES (s.id, 'new' || s.id);
MERGE INTO t USING (SELECT g, count(*) AS c FROM a GROUP BY g) s ON t.x = s.g + 100
WHEN NOT MATCHED THEN INSERT (x, y) VALUES (s.g + 100, 'mg' || s.g);
SELECT * FROM ups ORDER BY y, parents;
SELECT n, kind, level, edges FROM transforms WHERE n <= 2 ORDER BY n DESC;
-- lineage_mark is not callable from SQL.
SELECT aisec.lineage_mark(1, NULL::internal);

--
-- 13. The rewrite never changes what a statement computes: a whole-row
--     reference to a subquery, view or CTE (which would carry the added
--     columns) is not traced row by row; each statement writes what it
--     writes into an untracked copy of t.
--
CREATE TABLE u (x int, y text);
CREATE VIEW av2 AS SELECT id, v FROM a;
DELETE FROM t;
INSERT INTO t SELECT s.id, s::text FROM (SELECT id, v FROM a WHERE id <= 2) s;
INSERT INTO u SELECT s.id, s::text FROM (SELECT id, v FROM a WHERE id <= 2) s;
WITH c AS (SELECT id FROM a WHERE id = 3) INSERT INTO t SELECT c.id, to_jsonb(c)::text FROM c;
WITH c AS (SELECT id FROM a WHERE id = 3) INSERT INTO u SELECT c.id, to_jsonb(c)::text FROM c;
INSERT INTO t SELECT 0, (s IS NULL)::text FROM (SELECT NULL::int AS n FROM a WHERE id = 1) s;
INSERT INTO u SELECT 0, (s IS NULL)::text FROM (SELECT NULL::int AS n FROM a WHERE id = 1) s;
INSERT INTO t SELECT (z.s).g, 'distinct' FROM (SELECT DISTINCT s FROM (SELECT g FROM a) s) z;
INSERT INTO u SELECT (z.s).g, 'distinct' FROM (SELECT DISTINCT s FROM (SELECT g FROM a) s) z;
INSERT INTO t SELECT n.id, n::text FROM av2 n WHERE n.id = 4;
INSERT INTO u SELECT n.id, n::text FROM av2 n WHERE n.id = 4;
SELECT (SELECT array_agg(x || ':' || y ORDER BY x, y) FROM t) = (SELECT array_agg(x || ':' || y ORDER BY x, y) FROM u) AS same_rows,
       (SELECT count(*) FROM t) AS rows;
UPDATE t SET y = 'u' FROM (SELECT id FROM a WHERE id = 2) s WHERE t.x = s.id RETURNING s::text;
-- Subquery expressions anywhere in a level (VALUES, functions in FROM,
-- LIMIT) are not traced row by row either.
INSERT INTO t SELECT a.id, 'x:' || v.z FROM a, LATERAL (VALUES ((SELECT w FROM b WHERE b.id = a.id))) v(z) WHERE a.id = 2;
INSERT INTO t SELECT a.id, 'gs' FROM a, generate_series(1, (SELECT count(*)::int FROM b WHERE id = 1)) g WHERE a.id = 2;
INSERT INTO t SELECT id, 'lim' FROM a ORDER BY id LIMIT (SELECT count(*) FROM b WHERE id <= 2);
SELECT n, kind, level, edges FROM transforms WHERE n <= 3 ORDER BY n DESC;
-- A data-modifying CTE that writes t from a: table level, with a NOTICE
-- (it was not recorded at all before).
WITH w AS (INSERT INTO t SELECT id, 'cte' FROM a WHERE id <= 2 RETURNING x) SELECT count(*) FROM w;
SELECT n, kind, level, edges FROM transforms WHERE n = 1;
DROP VIEW av2;
DROP TABLE u;

--
-- 14. The setting and plans: a statement is planned with the lineage
--     columns only while aisec.lineage is on, and a change to or from on
--     makes cached plans (PREPARE, PL/pgSQL) be made again, so a plan
--     made while off costs nothing and one run while on traces rows.
--
DELETE FROM t;
-- The columns added: a group's parents, collected by
-- aisec.lineage_collect, while on; none otherwise.
CREATE FUNCTION plan_cols(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    line text;
    n int := 0;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
        n := n + (length(line) - length(replace(line, 'lineage_collect', ''))) / length('lineage_collect');
    END LOOP;
    RETURN CASE WHEN n > 0 THEN 'lineage columns' ELSE 'none' END;
END $$;
SELECT plan_cols('INSERT INTO t SELECT g, count(*)::text FROM a GROUP BY g') AS on_plan;
SET aisec.lineage = off;
SELECT plan_cols('INSERT INTO t SELECT g, count(*)::text FROM a GROUP BY g') AS off_plan;
SET aisec.lineage = 'table';
SELECT plan_cols('INSERT INTO t SELECT g, count(*)::text FROM a GROUP BY g') AS table_plan;
-- A generic plan prepared while off is made again once on, and traces.
SET aisec.lineage = off;
SET plan_cache_mode = force_generic_plan;
PREPARE p14(int) AS INSERT INTO t SELECT a.id, 'p14:' || a.id FROM a JOIN b USING (id) WHERE a.id = $1;
EXECUTE p14(1);
SET aisec.lineage = on;
EXECUTE p14(2);
-- PL/pgSQL's cached plan likewise: first call off, second on.
CREATE FUNCTION f14(i int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ls.t SELECT a.id, 'f14:' || a.id FROM ls.a WHERE a.id = i;
END $$;
SET aisec.lineage = off;
SELECT f14(3);
RESET aisec.lineage;
SELECT f14(4);
-- ... and back: a plan made while on, run off, writes nothing more.
SET aisec.lineage = off;
EXECUTE p14(5);
SELECT f14(6);
RESET aisec.lineage;
RESET plan_cache_mode;
DEALLOCATE p14;
SELECT * FROM ups ORDER BY y, parents;
SELECT n, kind, level, edges FROM transforms WHERE n <= 2 ORDER BY n DESC;
DROP FUNCTION f14(int), plan_cols(text);

-- PostgreSQL's functions that run a query (query_to_xml and the like)
-- read tables aisec cannot see: table level, with a NOTICE.
INSERT INTO t SELECT id, left(query_to_xml('SELECT 1 AS one', false, false, '')::text, 5) FROM a WHERE id = 1;
INSERT INTO t SELECT id, (SELECT count(*) FROM ts_stat('SELECT to_tsvector(''simple'', ''x'')'))::text FROM a WHERE id = 1;
SELECT n, kind, level, edges FROM transforms WHERE n <= 2 ORDER BY n DESC;

-- Clean up.
DROP VIEW ups, transforms, av, sbv;
RESET search_path;
SELECT aisec.drop_dataset('ls_ds', keep_history => false);
SELECT aisec.untrack(r) FROM unnest(ARRAY['ls.t', 'ls.t8', 'ls.big']::regclass[]) r;
DROP SCHEMA ls CASCADE;
DROP ROLE ls_writer;
