-- Lineage bookkeeping (issue 17 items 2-4, doc/lineage.md "Untracked
-- sources" and "Audit"): untracked sources recorded at table level; one
-- audit entry per transaction, action and transform name; SET
-- aisec.lineage = off audited.  (Sorts after zz_lineage; needs nothing of it.)

CREATE ROLE lb_writer;
CREATE TABLE lb_t0 AS SELECT coalesce(max(id), 0) AS t0 FROM aisec.lineage_transform;
SELECT t0 FROM lb_t0 \gset
-- The audit entries written from now on: CALL lb_seq() marks a point, lb_audit
-- lists the lineage entries after the last mark (xact left out: it
-- changes from run to run; lb_xact_ok checks it instead).
CREATE TABLE lb_mark (seq bigint);
INSERT INTO lb_mark SELECT max(seq) FROM aisec.audit_log;
CREATE PROCEDURE lb_seq() LANGUAGE sql
    AS $$ UPDATE lb_mark SET seq = (SELECT max(seq) FROM aisec.audit_log) $$;
CREATE VIEW lb_audit AS
SELECT action, object, detail->>'name' AS name,
       coalesce(detail->>'transforms', detail->>'skipped') AS n,
       detail->'kinds' AS kinds, detail->'levels' AS levels, detail->>'edges' AS edges,
       detail->'tables' AS tables
FROM aisec.audit_log WHERE action LIKE 'lineage.%' AND seq > (SELECT seq FROM lb_mark) ORDER BY seq;
-- Does each transform entry name exactly the transforms of its
-- transaction, action and name?
CREATE VIEW lb_xact_ok AS
SELECT a.seq, a.detail->>'name' AS name,
       (SELECT array_agg(t.id ORDER BY t.id) FROM aisec.lineage_transform t
        WHERE t.xact = (a.detail->>'xact')::bigint AND t.name IS NOT DISTINCT FROM a.detail->>'name'
          AND CASE a.action WHEN 'lineage.capture' THEN t.kind IN ('insert_select', 'insert', 'update', 'merge')
                            ELSE t.kind = substr(a.action, 9) END)
       = ARRAY(SELECT jsonb_array_elements_text(a.detail->'ids')::bigint) AS ids_exact
FROM aisec.audit_log a
WHERE a.action IN ('lineage.capture', 'lineage.record') AND a.seq > (SELECT seq FROM lb_mark) ORDER BY a.seq;

-- Tracked: a source and a target.  Untracked: a table, a view over it, a
-- partitioned table, a materialized view, and a table with a hostile name.
CREATE TABLE lb_s (id int, v text);
INSERT INTO lb_s SELECT g, 's' || g FROM generate_series(1, 6) g;
CREATE TABLE lb_t (id int, w text);
SELECT aisec.track('lb_s') > 0 AS s, aisec.track('lb_t') > 0 AS t;
CREATE TABLE lb_u (id int, w text);
INSERT INTO lb_u SELECT g, 'u' || g FROM generate_series(1, 6) g;
CREATE VIEW lb_uv AS SELECT id, upper(w) AS w FROM lb_u;
CREATE TABLE lb_p (id int, w text) PARTITION BY RANGE (id);
CREATE TABLE lb_p1 PARTITION OF lb_p FOR VALUES FROM (1) TO (4);
CREATE TABLE lb_p2 PARTITION OF lb_p FOR VALUES FROM (4) TO (100);
INSERT INTO lb_p SELECT g, 'p' || g FROM generate_series(1, 6) g;
CREATE MATERIALIZED VIEW lb_m AS SELECT id, w FROM lb_u;
CREATE SCHEMA "lb odd";
CREATE TABLE "lb odd"."u.""2" (id int);
INSERT INTO "lb odd"."u.""2" VALUES (1), (2);
CREATE VIEW lb_transforms AS
SELECT row_number() OVER (ORDER BY id DESC) AS n, kind, name, level, edges, untracked_sources
FROM aisec.lineage_transform WHERE id > (SELECT t0 FROM lb_t0);

--
-- 1. Untracked sources: recorded at table level, by name, on the
--    transform (untracked_sources), whatever the level of the tracked ones.
--
INSERT INTO lb_t SELECT s.id, u.w FROM lb_s s JOIN lb_u u ON u.id = s.id WHERE s.id <= 2;
SELECT n, kind, level, edges, untracked_sources FROM lb_transforms WHERE n = 1;
-- A view (and the table under it), a partitioned table (not its
-- partitions), a materialized view, a hostile name; each once.
INSERT INTO lb_t
SELECT s.id, v.w || p.w || m.w FROM lb_s s
JOIN lb_uv v ON v.id = s.id JOIN lb_p p ON p.id = s.id JOIN lb_m m ON m.id = s.id
JOIN lb_u u ON u.id = s.id
WHERE s.id IN (3, 5) AND EXISTS (SELECT 1 FROM "lb odd"."u.""2" o WHERE o.id = 1);
SELECT n, kind, level, untracked_sources FROM lb_transforms WHERE n = 1;
-- UPDATE ... FROM an untracked table; table level setting.
UPDATE lb_t SET w = u.w || '+' FROM lb_s s, lb_u u WHERE s.id = lb_t.id AND u.id = s.id AND s.id = 1;
SET aisec.lineage = 'table';
INSERT INTO lb_t SELECT s.id, u.w FROM lb_s s JOIN lb_u u USING (id) WHERE s.id = 6;
RESET aisec.lineage;
SELECT n, kind, level, untracked_sources FROM lb_transforms WHERE n <= 2 ORDER BY n DESC;
-- Tracked sources only, and record_lineage: none.
INSERT INTO lb_t SELECT id, v FROM lb_s WHERE id = 4;
SELECT aisec.record_lineage(ARRAY[(SELECT aisec_rid FROM lb_t WHERE id = 4)],
                            ARRAY[(SELECT aisec_rid FROM lb_s WHERE id = 4)], 'by hand') > 0 AS recorded;
SELECT n, kind, level, edges, untracked_sources FROM lb_transforms WHERE n <= 2 ORDER BY n DESC;
-- A statement reading only untracked tables records nothing (no tracked
-- source: see doc/lineage.md).
INSERT INTO lb_t SELECT id, w FROM lb_u WHERE id = 2;
SELECT n, kind FROM lb_transforms WHERE n = 1;

-- The graph: untracked sources are rows of their own (source_tracked
-- false, named as recorded), with no edges.
SELECT source, target, transform, kind, statements, edges, source_tracked, source_name
FROM aisec.lineage_graph WHERE target = 'lb_t'::regclass ORDER BY source_tracked DESC, source_name, kind;

-- OpenLineage: the untracked sources are inputs after the tracked ones,
-- with their schema facet and aisec_version.tracked false.
CREATE VIEW lb_inputs AS
SELECT (e->'run'->'facets'->'aisec_transform'->>'transform')::bigint AS transform, i.ord,
       substr(i.ds->>'name', length(current_database()) + 2) AS name,
       i.ds->'facets'->'aisec_version'->'tracked' AS tracked,
       i.ds->'facets'->'aisec_version'->'table_no' IS NOT DISTINCT FROM 'null' AS no_table_no,
       (SELECT array_agg(f->>'name' ORDER BY f->>'name') FROM jsonb_array_elements(i.ds->'facets'->'schema'->'fields') f) AS fields
FROM aisec.openlineage_events() e, jsonb_array_elements(e->'inputs') WITH ORDINALITY AS i(ds, ord);
SELECT ord, name, tracked, no_table_no, fields FROM lb_inputs
WHERE transform = (SELECT max(id) FROM aisec.lineage_transform WHERE kind = 'insert_select' AND level = 'table' AND untracked_sources @> ARRAY['public.lb_m'])
ORDER BY ord;

-- A dropped untracked table: its name stays in the record; the graph has
-- no regclass for it; OpenLineage names it as recorded, without schema.
-- No other relation takes its place, even one created later under
-- another name (names, not OIDs, are stored).
DROP TABLE "lb odd"."u.""2";
CREATE TABLE lb_later (id int);
SELECT source, source_name, source_tracked FROM aisec.lineage_graph
WHERE target = 'lb_t'::regclass AND NOT source_tracked AND source_name LIKE '%lb odd%';
SELECT ord, name, tracked, fields FROM lb_inputs
WHERE transform = (SELECT max(id) FROM aisec.lineage_transform WHERE untracked_sources @> ARRAY['public.lb_m'])
  AND name LIKE 'lb odd%';
DROP TABLE lb_later;

--
-- 2. Audit: one entry per transaction, action and transform name,
--    written at commit, with totals and the transform ids.
--
CALL lb_seq();
BEGIN;
SET LOCAL aisec.transform = 'a';
INSERT INTO lb_t SELECT id, 'a1' FROM lb_s WHERE id = 1;
INSERT INTO lb_t SELECT id, 'a2' FROM lb_s WHERE id <= 2;
INSERT INTO lb_t SELECT s.id, 'a3' FROM lb_s s JOIN lb_u u USING (id) WHERE s.id = 3;
SET LOCAL aisec.transform = 'b';
INSERT INTO lb_t SELECT id, 'b1' FROM lb_s WHERE id = 4;
SELECT aisec.record_lineage(ARRAY[(SELECT aisec_rid FROM lb_t WHERE w = 'b1')],
                            ARRAY[(SELECT aisec_rid FROM lb_s WHERE id = 5)]) > 0 AS recorded;
INSERT INTO lb_t SELECT id, 'b2' FROM lb_s WHERE id = 5;
-- Nothing is written before the commit.
SELECT count(*) AS entries_before_commit FROM lb_audit;
COMMIT;
SELECT * FROM lb_audit;
SELECT name, ids_exact FROM lb_xact_ok;
-- A call writing rows of two tables: no single object, both listed.
CALL lb_seq();
SELECT aisec.record_lineage(
    ARRAY[(SELECT aisec_rid FROM lb_t WHERE w = 'b1'), (SELECT aisec_rid FROM lb_s WHERE id = 6)],
    ARRAY[(SELECT aisec_rid FROM lb_s WHERE id = 1), (SELECT aisec_rid FROM lb_t WHERE w = 'b2')], 'two') > 0 AS recorded;
SELECT * FROM lb_audit;

-- Savepoints: a transform rolled back to a savepoint is not counted, and
-- a name whose only transform was rolled back gets no entry; a released
-- savepoint's transforms count with the rest.
CALL lb_seq();
BEGIN;
SET LOCAL aisec.transform = 'c';
SAVEPOINT first;
INSERT INTO lb_t SELECT id, 'c-gone' FROM lb_s WHERE id = 1;
ROLLBACK TO SAVEPOINT first;
INSERT INTO lb_t SELECT id, 'c1' FROM lb_s WHERE id = 1;
SAVEPOINT sp;
INSERT INTO lb_t SELECT id, 'c2' FROM lb_s WHERE id = 2;
SAVEPOINT inner_sp;
SET LOCAL aisec.transform = 'd';
INSERT INTO lb_t SELECT id, 'd-gone' FROM lb_s WHERE id = 3;
RELEASE SAVEPOINT inner_sp;
ROLLBACK TO SAVEPOINT sp;
SAVEPOINT kept;
INSERT INTO lb_t SELECT id, 'c3' FROM lb_s WHERE id = 3;
RELEASE SAVEPOINT kept;
COMMIT;
SELECT * FROM lb_audit;
SELECT name, ids_exact FROM lb_xact_ok;
SELECT count(*) AS gone_rows FROM lb_t WHERE w LIKE '%gone';

-- PL/pgSQL: an exception block is a subtransaction too.
CALL lb_seq();
SET aisec.transform = 'e';
DO $$
BEGIN
    INSERT INTO lb_t SELECT id, 'e1' FROM lb_s WHERE id = 1;
    BEGIN
        INSERT INTO lb_t SELECT id, 'e-gone' FROM lb_s WHERE id = 2;
        RAISE EXCEPTION 'undo';
    EXCEPTION WHEN raise_exception THEN NULL;
    END;
END $$;
RESET aisec.transform;
SELECT * FROM lb_audit;
SELECT name, ids_exact FROM lb_xact_ok;

-- A transaction rolled back writes nothing; autocommit statements get an
-- entry each.
CALL lb_seq();
BEGIN;
INSERT INTO lb_t SELECT id, 'gone' FROM lb_s WHERE id = 1;
ROLLBACK;
INSERT INTO lb_t SELECT id, 'auto1' FROM lb_s WHERE id = 1;
INSERT INTO lb_t SELECT id, 'auto2' FROM lb_s WHERE id = 2;
SELECT * FROM lb_audit;
SELECT name, ids_exact FROM lb_xact_ok;

-- Skips under aisec.lineage = off: one lineage.off entry per transaction
-- and name, counting them (and the SET LOCAL that turned it off).
CALL lb_seq();
BEGIN;
SET LOCAL aisec.lineage = off;
INSERT INTO lb_t SELECT id, 'off1' FROM lb_s WHERE id = 1;
INSERT INTO lb_t SELECT s.id, 'off2' FROM lb_s s JOIN lb_u u USING (id) WHERE s.id = 2;
UPDATE lb_t SET w = 'off3' FROM lb_s s WHERE s.id = lb_t.id AND lb_t.w = 'off2';
COMMIT;
SELECT * FROM lb_audit;
SELECT action, object, detail - 'xact' AS detail FROM aisec.audit_log
WHERE action = 'lineage.off_set' AND seq > (SELECT seq FROM lb_mark);

--
-- 3. SET aisec.lineage = off is audited (lineage.off_set), before the
--    statement runs and in its transaction; other values and RESET are not.
--
CALL lb_seq();
SET aisec.lineage = off;
SET aisec.lineage = 'table';
SET aisec.lineage = on;
RESET aisec.lineage;
SET aisec.lineage TO OFF;
SET "aisec.lineage" = 'off';
SET SESSION aisec.lineage = 'Off';
SET aisec.lineage TO DEFAULT;
-- A role without any aisec role: audited with the role in "by".
GRANT SELECT ON lb_s TO lb_writer;
SET ROLE lb_writer;
SET aisec.lineage = off;
RESET ROLE;
RESET aisec.lineage;
-- A SET that fails, or whose transaction rolls back, leaves no entry;
-- SET LOCAL outside a transaction block does nothing, and is not audited.
SET aisec.lineage = sometimes;
BEGIN;
SET aisec.lineage = off;
ROLLBACK;
SHOW aisec.lineage;
SET LOCAL aisec.lineage = off;
SELECT action, object, detail->>'scope' AS scope, detail->>'by' AS by, detail->>'role' AS role,
       detail->>'database' AS database
FROM aisec.audit_log WHERE action LIKE 'lineage.%' AND seq > (SELECT seq FROM lb_mark) ORDER BY seq;
-- Inside a transaction the entry is written at commit, like the others.
CALL lb_seq();
BEGIN;
SET aisec.lineage = off;
SELECT count(*) AS entries_before_commit FROM lb_audit;
COMMIT;
SELECT action, object, n FROM lb_audit;
RESET aisec.lineage;

-- ALTER ROLE, ALTER DATABASE, ALTER SYSTEM.
CALL lb_seq();
SELECT current_database() AS db \gset
ALTER ROLE lb_writer SET aisec.lineage = off;
ALTER ROLE lb_writer IN DATABASE :"db" SET aisec.lineage = off;
ALTER ROLE lb_writer RESET aisec.lineage;
ALTER ROLE lb_writer IN DATABASE :"db" RESET aisec.lineage;
ALTER ROLE lb_writer SET aisec.lineage = 'table';
ALTER ROLE lb_writer RESET ALL;
ALTER DATABASE :"db" SET aisec.lineage = off;
ALTER DATABASE :"db" RESET aisec.lineage;
ALTER SYSTEM SET aisec.lineage = off;
ALTER SYSTEM RESET aisec.lineage;
ALTER ROLE ALL IN DATABASE :"db" SET aisec.lineage = off;
ALTER ROLE ALL IN DATABASE :"db" RESET aisec.lineage;
-- SET ... FROM CURRENT takes the session's value: audited when it is off.
SET aisec.lineage = 'table';
ALTER ROLE lb_writer SET aisec.lineage FROM CURRENT;
SET aisec.lineage = off;
ALTER ROLE lb_writer SET aisec.lineage FROM CURRENT;
RESET aisec.lineage;
ALTER ROLE lb_writer RESET ALL;
SELECT action, object, detail->>'scope' AS scope, detail->>'role' AS role,
       detail->>'database' = current_database() AS this_database
FROM aisec.audit_log WHERE action LIKE 'lineage.%' AND seq > (SELECT seq FROM lb_mark) ORDER BY seq;

-- What the hook cannot see: set_config() and a read-only transaction (no
-- write is possible there).  The captures the setting skips are audited
-- all the same (lineage.off).
CALL lb_seq();
SELECT set_config('aisec.lineage', 'off', false);
INSERT INTO lb_t SELECT id, 'unseen1' FROM lb_s WHERE id = 1;
RESET aisec.lineage;
BEGIN READ ONLY;
SET aisec.lineage = off;
COMMIT;
INSERT INTO lb_t SELECT id, 'unseen2' FROM lb_s WHERE id = 2;
RESET aisec.lineage;
SELECT action, object, n, kinds FROM lb_audit;

-- A transaction that turns read-only after capturing still commits, with
-- its entry.
CALL lb_seq();
BEGIN;
INSERT INTO lb_t SELECT id, 'late ro' FROM lb_s WHERE id = 3;
SET TRANSACTION READ ONLY;
COMMIT;
SELECT action, object, n, kinds FROM lb_audit;

-- The audit log's chain still verifies.
SELECT ok FROM aisec.audit_verify();

--
-- Clean up.
--
DROP VIEW lb_inputs, lb_transforms, lb_audit, lb_xact_ok;
SELECT aisec.untrack('lb_s'), aisec.untrack('lb_t');
DROP MATERIALIZED VIEW lb_m;
DROP VIEW lb_uv;
DROP TABLE lb_s, lb_t, lb_u, lb_p, lb_t0, lb_mark;
DROP SCHEMA "lb odd";
DROP PROCEDURE lb_seq();
DROP ROLE lb_writer;
