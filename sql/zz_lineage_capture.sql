-- Automatic row lineage capture, first shape (issue 17 item 1,
-- doc/lineage.md "Automatic capture"): INSERT INTO t ... SELECT ... FROM s
-- with t and s tracked records each inserted row's parent; every other
-- statement writing a tracked table from tracked tables is recorded at
-- table level with one NOTICE.  (Runs after zz_lineage.)

CREATE ROLE lc_writer;
CREATE ROLE lc_eng IN ROLE aisec_engineer;
CREATE FUNCTION lc_name(rid bigint) RETURNS text LANGUAGE sql
    AS $$ SELECT coalesce(aisec.rid_table(rid)::text, '?') || '#' || (rid & ((1::bigint << 40) - 1)) $$;
CREATE TABLE lc_t0 AS SELECT coalesce(max(id), 0) AS t0 FROM aisec.lineage_transform;
SELECT t0 FROM lc_t0 \gset
-- The transforms this test recorded, from the latest (n = 1) back.
CREATE VIEW lc_transforms AS
SELECT row_number() OVER (ORDER BY id DESC) AS n, kind, name, level, edges,
       (SELECT array_agg(aisec.rid_table(s.no::bigint << 40)::text ORDER BY s.no) FROM unnest(sources) s(no)) AS sources,
       (SELECT array_agg(aisec.rid_table(s.no::bigint << 40)::text ORDER BY s.no) FROM unnest(targets) s(no)) AS targets
FROM aisec.lineage_transform WHERE id > (SELECT t0 FROM lc_t0);
CREATE FUNCTION lc_counts(OUT transforms bigint, OUT edge_rows bigint) LANGUAGE sql
    AS $$ SELECT (SELECT count(*) FROM aisec.lineage_transform WHERE id > (SELECT t0 FROM lc_t0)),
                 (SELECT count(*) FROM aisec.lineage_edge WHERE transform > (SELECT t0 FROM lc_t0)) $$;

-- A source in a schema of its own, a target whose columns come in
-- another order, both tracked.
CREATE SCHEMA lc;
CREATE TABLE lc.src (id int, v text, keep boolean, score int);
INSERT INTO lc.src SELECT g, 'v' || g, g % 2 = 0, 100 - g FROM generate_series(1, 10) g;
CREATE TABLE lc_dst (label text, src_id int, note text);
CREATE TABLE lc_other (id int, w text);
INSERT INTO lc_other SELECT g, 'w' || g FROM generate_series(1, 10) g;
CREATE TABLE lc_plain (id int, v text);
INSERT INTO lc_plain SELECT g, 'p' || g FROM generate_series(1, 3) g;
SELECT aisec.track('lc.src') > 0 AS s, aisec.track('lc_dst') > 0 AS t, aisec.track('lc_other') > 0 AS o;
-- Every row of lc_dst whose src_id names a row of lc.src: does its
-- lineage one level up name exactly that row?  (Rows with note 'none'
-- must have no parent.)
CREATE VIEW lc_check AS
SELECT count(*) AS rows,
       count(*) FILTER (WHERE (SELECT array_agg(u.rid) FROM aisec.lineage_up(d.aisec_rid, 1) u)
                              IS NOT DISTINCT FROM
                              CASE WHEN d.note = 'none' THEN NULL ELSE ARRAY[s.aisec_rid] END) AS exact
FROM lc_dst d LEFT JOIN lc.src s ON s.id = d.src_id;

--
-- 1. The first shape: filters, projections, columns in any order, an
--    alias, a schema-qualified source, ORDER BY and LIMIT.
--
INSERT INTO lc_dst (src_id, label) SELECT id, upper(v) FROM lc.src WHERE keep;
SET aisec.transform = 'clean_v2';
INSERT INTO lc_dst (label, src_id) SELECT s.v || '!', s.id FROM lc.src AS s WHERE s.id > 6 ORDER BY s.score LIMIT 2;
RESET aisec.transform;
INSERT INTO lc_dst SELECT 'x', src.id FROM lc.src WHERE src.id IN (1, 3);
SELECT * FROM lc_check;
SELECT n, kind, name, level, edges, sources, targets FROM lc_transforms ORDER BY n DESC;
-- The edges: child version = lc_dst's pending version, parent version =
-- lc.src's pending version when read (both 1: nothing committed yet).
SELECT d.label, lc_name(u.rid) = lc_name(s.aisec_rid) AS parent_ok, u.rel, u.valid_from, u.depth
FROM lc_dst d JOIN lc.src s ON s.id = d.src_id, aisec.lineage_up(d.aisec_rid) u
ORDER BY d.label;
-- Down: a source row's children.
SELECT s.id, (SELECT array_agg(d.label ORDER BY d.label) FROM aisec.lineage_down(s.aisec_rid) x
              JOIN lc_dst d ON d.aisec_rid = x.rid) AS children
FROM lc.src s WHERE s.id IN (1, 8) ORDER BY 1;
-- Audited, one entry per statement (each its own transaction here).
SELECT action, object, detail->>'kinds' AS kinds, detail->>'transforms' AS transforms, detail->>'edges' AS edges, detail->>'name' AS name
FROM aisec.audit_log WHERE action = 'lineage.capture' ORDER BY seq DESC LIMIT 3;
-- A statement that inserts nothing records a transform without edges.
INSERT INTO lc_dst (src_id, label) SELECT id, v FROM lc.src WHERE id < 0;
SELECT n, kind, level, edges FROM lc_transforms WHERE n = 1;

-- The target as its own source: the parent is the older row.
INSERT INTO lc_dst (src_id, label, note) SELECT src_id, label || '^', 'self' FROM lc_dst WHERE label = 'V2';
SELECT d.label, lc_name(u.rid) = lc_name(o.aisec_rid) AS parent_is_v2, u.depth
FROM lc_dst d JOIN lc_dst o ON o.label = 'V2', aisec.lineage_up(d.aisec_rid, 1) u WHERE d.note = 'self';
DELETE FROM lc_dst WHERE note = 'self';
-- EXPLAIN shows the Result node that drops the parent column before the
-- insert; EXPLAIN alone records nothing.
SELECT * FROM lc_counts() \gset before_
EXPLAIN (COSTS OFF) INSERT INTO lc_dst (src_id, label) SELECT id, v FROM lc.src WHERE keep;
SELECT transforms - :before_transforms AS new_transforms FROM lc_counts();

--
-- 2. Settings: table level records the transform only; off records
--    nothing and audits the skip; no NOTICE for either.
--
SET aisec.lineage = 'table';
INSERT INTO lc_dst (src_id, label, note) SELECT id, 'tbl', 'none' FROM lc.src WHERE id = 5;
SELECT n, kind, level, edges, sources FROM lc_transforms WHERE n = 1;
SET aisec.lineage = off;
SELECT * FROM lc_counts() \gset before_
INSERT INTO lc_dst (src_id, label, note) SELECT id, 'off', 'none' FROM lc.src WHERE id = 5;
SELECT transforms - :before_transforms AS new_transforms, edge_rows - :before_edge_rows AS new_edge_rows FROM lc_counts();
SELECT action, object, detail - 'xact' AS detail FROM aisec.audit_log WHERE action = 'lineage.off' ORDER BY seq DESC LIMIT 1;
RESET aisec.lineage;
SELECT * FROM lc_check;

--
-- 3. Shapes not traced row by row: table level, one NOTICE each naming
--    the shape, their rows without parents.
--
CREATE TABLE lc_agg (label text, n bigint);
CREATE TABLE lc_uni (k int PRIMARY KEY, v text);
CREATE TABLE lc_trg (src_id int, v text);
CREATE FUNCTION lc_trg_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.v := NEW.v || '*'; RETURN NEW; END $$;
CREATE TRIGGER lc_trg_before BEFORE INSERT ON lc_trg FOR EACH ROW EXECUTE FUNCTION lc_trg_fn();
SELECT aisec.track('lc_agg') > 0 AS a, aisec.track('lc_uni') > 0 AS u, aisec.track('lc_trg') > 0 AS g;
-- (joins, grouping, DISTINCT, UNION ALL, CTEs, views and UPDATE ... FROM
-- are traced row by row: zz_lineage_shapes)
-- a subquery that filters
INSERT INTO lc_dst (src_id, label, note) SELECT id, 'in', 'none' FROM lc.src WHERE id IN (SELECT id FROM lc_other WHERE id = 4);
-- a window function
INSERT INTO lc_agg SELECT v, row_number() OVER (ORDER BY id) FROM lc.src WHERE id = 2;
-- UNION without ALL
INSERT INTO lc_dst (src_id, label, note) SELECT id, 'u', 'none' FROM lc.src WHERE id = 2 UNION SELECT id, 'u', 'none' FROM lc_other WHERE id = 3;
-- ON CONFLICT
INSERT INTO lc_uni SELECT id, v FROM lc.src WHERE id <= 2 ON CONFLICT (k) DO NOTHING;
-- a BEFORE ROW trigger on the target
INSERT INTO lc_trg SELECT id, v FROM lc.src WHERE id = 1;
-- a function that may read tables itself
CREATE FUNCTION lc_sqlfn(int) RETURNS int LANGUAGE sql AS $$ SELECT $1 $$;
INSERT INTO lc_dst (src_id, label, note) SELECT lc_sqlfn(id), 'fn', 'none' FROM lc.src WHERE id = 6;
-- a row id the statement supplies
SELECT aisec_rid >> 40 AS dst_no FROM lc_dst LIMIT 1 \gset
INSERT INTO lc_dst (aisec_rid, src_id, label, note) OVERRIDING SYSTEM VALUE
    SELECT (:dst_no::bigint << 40) + 1000000 + id, id, 'own', 'none' FROM lc.src WHERE id = 5;
-- a recursive CTE
INSERT INTO lc_dst (src_id, label, note)
    WITH RECURSIVE r(i) AS (SELECT id FROM lc.src WHERE id = 7 UNION ALL SELECT i + 1 FROM r WHERE i < 7)
    SELECT i, 'rec', 'none' FROM r;
-- MERGE is traced (zz_lineage_shapes): its inserted row gets its source row
MERGE INTO lc_uni u USING lc.src s ON s.id = u.k WHEN NOT MATCHED AND s.id = 3 THEN INSERT VALUES (s.id, s.v);
-- an UPDATE of the target alone records nothing (no NOTICE)
UPDATE lc_uni SET v = v || '-';
-- an untracked source records nothing (no NOTICE)
INSERT INTO lc_dst (src_id, label, note) SELECT id, 'plain', 'none' FROM lc_plain WHERE id = 1;
SELECT n, kind, level, edges, sources, targets FROM lc_transforms WHERE n <= 9 ORDER BY n DESC;
SELECT * FROM lc_check;
-- Under aisec.lineage = 'table' such a shape records the same, silently.
SET aisec.lineage = 'table';
INSERT INTO lc_agg SELECT keep::text, count(*) FROM lc.src GROUP BY keep;
RESET aisec.lineage;
SELECT n, kind, level, edges FROM lc_transforms WHERE n = 1;

--
-- 4. A rolled-back statement leaves nothing.
--
SELECT * FROM lc_counts() \gset before_
BEGIN;
SAVEPOINT s;
INSERT INTO lc_dst (src_id, label) SELECT id, 'gone' FROM lc.src WHERE id <= 4;
SELECT transforms - :before_transforms AS new_transforms, edge_rows - :before_edge_rows AS new_edge_rows FROM lc_counts();
ROLLBACK TO SAVEPOINT s;
SELECT transforms - :before_transforms AS new_transforms, edge_rows - :before_edge_rows AS new_edge_rows FROM lc_counts();
COMMIT;
-- A failing statement too.
INSERT INTO lc_dst (src_id, label) SELECT id, (1 / (id - 3))::text FROM lc.src WHERE id <= 4;
SELECT transforms - :before_transforms AS new_transforms, edge_rows - :before_edge_rows AS new_edge_rows FROM lc_counts();

--
-- 5. Cached plans: a prepared statement executed with a generic plan, and
--    a PL/pgSQL function, each twice; the settings are read when the
--    statement runs, not when it was planned.
--
SET plan_cache_mode = force_generic_plan;
PREPARE lc_p(int) AS INSERT INTO lc_dst (src_id, label) SELECT id, 'prep' FROM lc.src WHERE id = $1;
EXECUTE lc_p(7);
EXECUTE lc_p(9);
SET aisec.lineage = 'table';
EXECUTE lc_p(10);
RESET aisec.lineage;
UPDATE lc_dst SET note = 'none' WHERE label = 'prep' AND src_id = 10;
RESET plan_cache_mode;
CREATE FUNCTION lc_copy(i int) RETURNS void LANGUAGE plpgsql
    AS $$ BEGIN INSERT INTO lc_dst (src_id, label) SELECT s.id, 'fn' FROM lc.src s WHERE s.id = i; END $$;
SELECT lc_copy(3), lc_copy(4);
SELECT n, kind, level, edges FROM lc_transforms WHERE n <= 5 ORDER BY n DESC;
SELECT * FROM lc_check;

--
-- 6. A role with INSERT on the target and SELECT on the source but no
--    aisec role: capture happens (it is automatic), and the role still
--    cannot read lineage.
--
GRANT USAGE ON SCHEMA lc TO lc_writer;
GRANT SELECT ON lc.src TO lc_writer;
GRANT INSERT ON lc_dst TO lc_writer;
SET ROLE lc_writer;
INSERT INTO lc_dst (src_id, label) SELECT id, 'writer' FROM lc.src WHERE id = 8;
SELECT count(*) FROM aisec.lineage_edge;
SELECT count(*) FROM aisec.lineage_transform;
SELECT count(*) FROM aisec.lineage_up(1);
SELECT count(*) FROM aisec.lineage_graph;
RESET ROLE;
SELECT n, kind, level, edges, sources, targets FROM lc_transforms WHERE n = 1;
SELECT * FROM lc_check;
-- Row-level security on the source holds: the writer's statement reads,
-- writes and records only the rows it may see.
ALTER TABLE lc.src ENABLE ROW LEVEL SECURITY;
CREATE POLICY lc_low ON lc.src FOR SELECT TO lc_writer USING (id <= 2);
SET ROLE lc_writer;
INSERT INTO lc_dst (src_id, label) SELECT id, 'rls' FROM lc.src;
RESET ROLE;
SELECT n, kind, level, edges FROM lc_transforms WHERE n = 1;
SELECT array_agg(src_id ORDER BY src_id) AS rls_rows FROM lc_dst WHERE label = 'rls';
DROP POLICY lc_low ON lc.src;
ALTER TABLE lc.src DISABLE ROW LEVEL SECURITY;
SELECT * FROM lc_check;
-- An engineer reads it; the graph shows the table-level edges.
SET ROLE lc_eng;
SELECT source, target, transform, kind, statements, edges FROM aisec.lineage_graph
WHERE target::text = 'lc_dst' AND source::text = 'lc.src' ORDER BY kind, transform NULLS FIRST;
RESET ROLE;

--
-- 7. After a commit, new rows' versions follow: child = lc_dst's new
--    pending version (2), parent = the version lc.src was read at: its
--    last commit (1), as it has not changed since.
--
SELECT aisec.create_dataset('lc_ds', ARRAY['lc.src'::regclass, 'lc_dst'::regclass]) > 0 AS created;
SELECT aisec.commit('lc_ds', 'v1') AS v1;
INSERT INTO lc_dst (src_id, label) SELECT id, 'after' FROM lc.src WHERE id = 2;
SELECT u.valid_from AS parent_version, x.valid_from AS child_version
FROM lc_dst d, aisec.lineage_up(d.aisec_rid) u, aisec.lineage_down(u.rid, 1) x
WHERE d.label = 'after' AND x.rid = d.aisec_rid;
SELECT * FROM lc_check;

-- The version's manifest names the captured INSERT ... SELECT as upstream
-- of lc_dst (its edges are run rows, whose first child is stored negated).
SELECT aisec.commit('lc_ds', 'v2') AS v2;
SELECT u->>'table' AS "table", t->>'kind' AS kind, t->>'level' AS level,
       (SELECT string_agg(s->>'table', ',') FROM jsonb_array_elements(t->'sources') s) AS sources,
       count(*) AS transforms
FROM jsonb_array_elements(aisec.manifest('lc_ds', 2)->'upstream') u,
     jsonb_array_elements(u->'transforms') t
WHERE t->>'kind' = 'insert_select'
GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4;
-- ... as many row-level ones as lc_dst has insert_select transforms that
-- recorded edges (a statement that inserted no row links nothing).
SELECT count(*) FILTER (WHERE edges > 0) AS with_edges, count(*) FILTER (WHERE edges = 0) AS without
FROM aisec.lineage_transform
WHERE kind = 'insert_select' AND level = 'row'
  AND (SELECT table_no FROM aisec.tracked WHERE rel = 'lc_dst'::regclass) = ANY (targets);

--
-- 8. Runs: a statement's edges are stored as runs of consecutive
--    children (at most 1,024 a row, parents within 4,096 ids); scans in
--    any order, gaps in the source, every row exact both ways.
--
CREATE TABLE lc_big (id int);
INSERT INTO lc_big SELECT g FROM generate_series(1, 3000) g;
CREATE TABLE lc_bigdst (src int, how text);
SELECT aisec.track('lc_big') > 0 AS b, aisec.track('lc_bigdst') > 0 AS d;
INSERT INTO lc_bigdst SELECT id, 'seq' FROM lc_big WHERE id % 7 <> 0;
INSERT INTO lc_bigdst SELECT id, 'desc' FROM lc_big WHERE id % 3 = 0 ORDER BY id DESC;
INSERT INTO lc_bigdst SELECT id, 'scattered' FROM lc_big ORDER BY (id * 7919) % 3001;
SELECT n, kind, level, edges FROM lc_transforms WHERE n <= 3 ORDER BY n DESC;
SELECT count(*) AS edge_rows, max(length(parents)) <= 1024 * 3 + 16 AS compact
FROM aisec.lineage_edge WHERE transform > (SELECT max(id) - 3 FROM aisec.lineage_transform);
SELECT d.how, count(*) AS rows,
       count(*) FILTER (WHERE (SELECT array_agg(u.rid) FROM aisec.lineage_up(d.aisec_rid, 1) u) = ARRAY[s.aisec_rid]) AS exact_up,
       count(*) FILTER (WHERE (SELECT array_agg(x.rid) FROM aisec.lineage_down(s.aisec_rid, 1) x
                               JOIN lc_bigdst o ON o.aisec_rid = x.rid AND o.how = d.how) = ARRAY[d.aisec_rid]) AS exact_down
FROM lc_bigdst d JOIN lc_big s ON s.id = d.src GROUP BY d.how ORDER BY d.how;
SELECT aisec.untrack('lc_big'), aisec.untrack('lc_bigdst');
DROP TABLE lc_big, lc_bigdst;

--
-- Clean up.
--
DEALLOCATE lc_p;
DROP VIEW lc_check, lc_transforms;
SELECT aisec.drop_dataset('lc_ds', keep_history => false);
SELECT aisec.untrack(t) FROM unnest(ARRAY['lc_other', 'lc_agg', 'lc_uni', 'lc_trg']::regclass[]) t;
DROP TABLE lc.src, lc_dst, lc_other, lc_plain, lc_agg, lc_uni, lc_trg, lc_t0;
DROP SCHEMA lc;
DROP FUNCTION lc_name(bigint), lc_counts(), lc_copy(int), lc_trg_fn(), lc_sqlfn(int);
SELECT count(*) AS still_tracked FROM aisec.tracked WHERE rel::text LIKE 'lc%';
DROP ROLE lc_writer, lc_eng;
