-- aisec.checkout() as the only function of a FROM item runs as a custom
-- scan that reads the history without a tuplestore (src/checkout_scan.c).
-- It must return exactly the rows of the function scan, which WITH
-- ORDINALITY keeps, under the same checks.

CREATE TABLE cs (id int PRIMARY KEY, name text, score float8, note text, tags text[]);
INSERT INTO cs
SELECT g, 'n' || g, g / 4.0,
       CASE WHEN g % 3 = 0 THEN NULL WHEN g = 7 THEN repeat('toast ', 5000) ELSE 'note ' || g END,
       ARRAY[g::text]
FROM generate_series(1, 50) g;
SELECT aisec.track('cs') > 0 AS tracked;
SELECT aisec.create_dataset('cs_data', ARRAY['cs'::regclass]) > 0 AS created;
SELECT aisec.commit('cs_data', 'v1');
-- Version 2: ten rows updated (one of them deleted too), seven deleted,
-- a column added and two rows with it.
UPDATE cs SET score = score * 2 WHERE id % 5 = 0;
DELETE FROM cs WHERE id % 7 = 0;
ALTER TABLE cs ADD COLUMN extra int;
INSERT INTO cs (id, name, extra) VALUES (100, 'late', 1), (101, NULL, NULL);
SELECT aisec.commit('cs_data', 'v2');
SELECT aisec.tag('cs_data', 2, 'cs-train');

-- 1. The plan: a custom scan, unless the query needs the function scan's
--    own features (WITH ORDINALITY).  VERBOSE shows the call.
EXPLAIN (COSTS OFF) SELECT * FROM aisec.checkout(NULL::cs, 1);
EXPLAIN (VERBOSE, COSTS OFF) SELECT id, length(note) FROM aisec.checkout(NULL::cs, 'cs-train');
EXPLAIN (COSTS OFF) SELECT * FROM aisec.checkout(NULL::cs, 1) WITH ORDINALITY;
-- Row marks keep the function scan too (EvalPlanQual may recheck a joined
-- row: FOR UPDATE, the other FROM items of UPDATE or DELETE); writing a
-- version into a table reads it through the custom scan.
CREATE FUNCTION pg_temp.scans(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text; found text[] := '{}';
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
        IF line ~ 'Custom Scan \(aisec_checkout\)' THEN found := found || 'custom scan'::text; END IF;
        IF line ~ 'Function Scan on checkout' THEN found := found || 'function scan'::text; END IF;
    END LOOP;
    RETURN array_to_string(found, ', ');
END $$;
SELECT pg_temp.scans('SELECT c.id FROM cs JOIN aisec.checkout(NULL::cs, 1) c USING (id) FOR UPDATE OF cs') AS for_update,
       pg_temp.scans('UPDATE cs SET score = c.score FROM aisec.checkout(NULL::cs, 1) c WHERE cs.id = c.id') AS update_from,
       pg_temp.scans('DELETE FROM cs USING aisec.checkout(NULL::cs, 1) c WHERE cs.id = c.id') AS delete_using,
       pg_temp.scans('SELECT c.id FROM cs JOIN aisec.checkout(NULL::cs, 1) c USING (id)') AS join,
       pg_temp.scans('CREATE TABLE cs_copy AS SELECT * FROM aisec.checkout(NULL::cs, 1)') AS create_as;

-- 2. The same rows as the function scan, for each version and the tag:
--    50 rows in version 1; 50 - 7 + 2 = 45 in version 2.
SELECT v,
       (SELECT count(*) FROM aisec.checkout(NULL::cs, v)) AS scan_rows,
       (SELECT count(*) FROM aisec.checkout(NULL::cs, v) WITH ORDINALITY) AS function_rows,
       (SELECT count(*) FROM (
            (SELECT * FROM aisec.checkout(NULL::cs, v)
             EXCEPT ALL
             SELECT id, name, score, note, tags, aisec_rid, extra
             FROM aisec.checkout(NULL::cs, v) WITH ORDINALITY)
            UNION ALL
            (SELECT id, name, score, note, tags, aisec_rid, extra
             FROM aisec.checkout(NULL::cs, v) WITH ORDINALITY
             EXCEPT ALL
             SELECT * FROM aisec.checkout(NULL::cs, v))) d) AS differences
FROM generate_series(1, 2) v;
SELECT count(*) AS differences FROM (
    (SELECT * FROM aisec.checkout(NULL::cs, 'cs-train') EXCEPT ALL SELECT * FROM cs)
    UNION ALL
    (SELECT * FROM cs EXCEPT ALL SELECT * FROM aisec.checkout(NULL::cs, 'cs-train'))) d;
-- The TOASTed note comes back whole; the added column is NULL in version 1.
SELECT id, length(note), extra FROM aisec.checkout(NULL::cs, 1) WHERE id IN (7, 8, 9) ORDER BY id;

-- 3. Whole rows, quals on columns that are not selected, no columns at all,
--    LIMIT, and a join with the live table (the rows updated since
--    version 1 and still there: ids 5, 10, ..., 50 but 35).
SELECT to_jsonb(c) - 'aisec_rid' AS row FROM aisec.checkout(NULL::cs, 2) c
WHERE id IN (1, 100, 101) ORDER BY id;
SELECT count(*) AS differ FROM aisec.checkout(NULL::cs, 2) c
WHERE c IS DISTINCT FROM ROW(c.id, c.name, c.score, c.note, c.tags, c.aisec_rid, c.extra)::cs;
SELECT id FROM aisec.checkout(NULL::cs, 1) WHERE score > 10 AND note IS NULL ORDER BY id;
SELECT count(*) FROM aisec.checkout(NULL::cs, 1);
SELECT id FROM aisec.checkout(NULL::cs, 1) ORDER BY id LIMIT 3;
SELECT array_agg(o.id ORDER BY o.id) AS updated
FROM aisec.checkout(NULL::cs, 1) o JOIN cs n USING (id) WHERE o.score <> n.score;
-- An UPDATE that restores version 1's scores (through the function scan),
-- rolled back.
BEGIN;
UPDATE cs SET score = o.score FROM aisec.checkout(NULL::cs, 1) o
WHERE cs.id = o.id AND cs.score <> o.score;
SELECT count(*) AS still_differ FROM aisec.checkout(NULL::cs, 1) o JOIN cs n USING (id)
WHERE o.score <> n.score;
ROLLBACK;

-- 4. Arguments from other FROM items (LATERAL) and from an outer query:
--    the scan starts over for each new version.  A nested loop that
--    rescans it with the same version reads it again from the start.
SELECT v.version, count(c.*) AS rows
FROM aisec.versions v, LATERAL aisec.checkout(NULL::cs, v.version) c
WHERE v.dataset = 'cs_data' GROUP BY 1 ORDER BY 1;
SELECT v.version, (SELECT count(*) FROM aisec.checkout(NULL::cs, v.version)) AS rows,
       (SELECT count(*) FROM aisec.checkout(NULL::cs, 2) c WHERE c.id <= v.version) AS upto
FROM aisec.versions v WHERE v.dataset = 'cs_data' ORDER BY 1;
BEGIN;
SET LOCAL enable_hashjoin = off;
SET LOCAL enable_mergejoin = off;
SET LOCAL enable_material = off;
EXPLAIN (COSTS OFF)
SELECT x.k, count(*) FROM (VALUES (0), (1), (2)) x(k)
JOIN aisec.checkout(NULL::cs, 1) c ON c.id % 3 = x.k GROUP BY 1 ORDER BY 1;
SELECT x.k, count(*) FROM (VALUES (0), (1), (2)) x(k)
JOIN aisec.checkout(NULL::cs, 1) c ON c.id % 3 = x.k GROUP BY 1 ORDER BY 1;
COMMIT;

-- 5. Prepared statements: the version as a parameter, and a generic plan
--    that is made again when the table's columns change.
PREPARE cs_count(bigint) AS SELECT count(*) FROM aisec.checkout(NULL::cs, $1);
EXECUTE cs_count(1);
EXECUTE cs_count(2);
SET plan_cache_mode = force_generic_plan;
PREPARE cs_cols(bigint) AS SELECT id, extra FROM aisec.checkout(NULL::cs, $1) WHERE id > 99 ORDER BY id;
EXECUTE cs_cols(2);
ALTER TABLE cs ADD COLUMN later text;
EXECUTE cs_cols(2);
RESET plan_cache_mode;
DEALLOCATE cs_count;
DEALLOCATE cs_cols;

-- 6. A scrollable cursor can go back (the planner puts a Material node
--    above the scan, which reads forward only).
BEGIN;
DECLARE cs_cur SCROLL CURSOR FOR SELECT id FROM aisec.checkout(NULL::cs, 1) WHERE id <= 4;
FETCH 3 FROM cs_cur;
FETCH BACKWARD 2 FROM cs_cur;
FETCH ALL FROM cs_cur;
COMMIT;

-- 7. The row estimate is the table's row count as the planner knows it
--    (pg_class.reltuples: 50 when aisec.track() rewrote the table, 45
--    after ANALYZE), not a set-returning function's default of 1000.
CREATE FUNCTION pg_temp.plan_rows(q text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO j;
    RETURN (j -> 0 -> 'Plan' ->> 'Plan Rows')::float8;
END $$;
SELECT pg_temp.plan_rows('SELECT * FROM aisec.checkout(NULL::cs, 1)') AS before_analyze;
ANALYZE cs;
SELECT pg_temp.plan_rows('SELECT * FROM aisec.checkout(NULL::cs, 1)') AS after_analyze;

-- 8. The same checks and errors as the function: EXECUTE on the function
--    (even for EXPLAIN), the role, SELECT on the table, the version.
CREATE ROLE cs_engineer IN ROLE aisec_engineer;
CREATE ROLE cs_nobody;
GRANT USAGE ON SCHEMA aisec TO cs_nobody;
GRANT SELECT ON cs TO cs_nobody;
SET ROLE cs_nobody;
SELECT count(*) FROM aisec.checkout(NULL::cs, 1);
SELECT count(*) FROM aisec.checkout(NULL::cs, 1) WITH ORDINALITY;
EXPLAIN (COSTS OFF) SELECT * FROM aisec.checkout(NULL::cs, 1);
RESET ROLE;
GRANT EXECUTE ON FUNCTION aisec.checkout(anyelement, bigint) TO cs_nobody;
SET ROLE cs_nobody;
SELECT count(*) FROM aisec.checkout(NULL::cs, 1);
SELECT count(*) FROM aisec.checkout(NULL::cs, 1) WITH ORDINALITY;
RESET ROLE;
SET ROLE cs_engineer;
SELECT count(*) FROM aisec.checkout(NULL::cs, 1);
SELECT count(*) FROM aisec.checkout(NULL::cs, 1) WITH ORDINALITY;
RESET ROLE;
GRANT SELECT ON cs TO cs_engineer;
SET ROLE cs_engineer;
SELECT count(*) FROM aisec.checkout(NULL::cs, 1);
RESET ROLE;
SELECT * FROM aisec.checkout(NULL::cs, 3);
SELECT * FROM aisec.checkout(NULL::cs, 'nosuch');
SELECT * FROM aisec.checkout(NULL::cs, NULL::bigint);
SELECT * FROM aisec.checkout(NULL::cs, NULL::text);
SELECT * FROM aisec.checkout(NULL::int, 1);
-- An error while the scan runs leaves nothing behind: the next one works.
SELECT 1 / (id - 3) FROM aisec.checkout(NULL::cs, 1);
SELECT count(*) FROM aisec.checkout(NULL::cs, 1);
REVOKE ALL ON cs FROM cs_nobody, cs_engineer;
REVOKE EXECUTE ON FUNCTION aisec.checkout(anyelement, bigint) FROM cs_nobody;
REVOKE USAGE ON SCHEMA aisec FROM cs_nobody;
DROP ROLE cs_nobody;
DROP ROLE cs_engineer;
