-- Rows written since the last commit: inserted rows get their history
-- records from the next commit, which finds them through the ctids a row
-- trigger noted (following HOT chains and update links) or, when the
-- table was rewritten meanwhile, by scanning it.  Every version must check
-- out exactly as the table was when it was committed.

CREATE TABLE wr (id int PRIMARY KEY, v text, n int);
SELECT aisec.track('wr') IS NOT NULL AS tracked;
SELECT table_no AS wr_no FROM aisec.tracked WHERE rel = 'wr'::regclass \gset
SELECT aisec.create_dataset('writes', ARRAY['wr'::regclass]) IS NOT NULL AS created;

-- checkout(v) must equal the table now; run after each commit.
CREATE FUNCTION pg_temp.same_as_table(version bigint) RETURNS bigint
LANGUAGE sql AS $$
    SELECT count(*) FROM (
        (SELECT * FROM aisec.checkout(NULL::wr, version) EXCEPT ALL SELECT * FROM wr)
        UNION ALL
        (SELECT * FROM wr EXCEPT ALL SELECT * FROM aisec.checkout(NULL::wr, version))) d
$$;
-- History records and pending entries of the table.
CREATE FUNCTION pg_temp.counts(OUT history bigint, OUT pending bigint)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('SELECT count(*) FROM %s',
                   (SELECT t.history FROM aisec.tracked t WHERE t.rel = 'wr'::regclass)) INTO history;
    SELECT count(*) INTO pending FROM aisec.pending_row p
    JOIN aisec.tracked t USING (table_no) WHERE t.rel = 'wr'::regclass;
END $$;
CREATE FUNCTION pg_temp.records_per_version() RETURNS TABLE (valid_from bigint, records bigint)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format('SELECT valid_from, count(*) FROM %s GROUP BY 1 ORDER BY 1',
                   (SELECT t.history FROM aisec.tracked t WHERE t.rel = 'wr'::regclass));
END $$;

-- 1. An INSERT writes no history, only a note; the commit writes history.
INSERT INTO wr SELECT g, 'row ' || g, g FROM generate_series(1, 1000) g;
SELECT * FROM pg_temp.counts();
SELECT aisec.commit('writes', 'load') AS version;
SELECT * FROM pg_temp.counts();
SELECT pg_temp.same_as_table(1) AS differences;

-- 2. Inserted, then changed before the commit: a HOT update (same page),
--    a non-HOT one (the new version goes elsewhere), two updates in a row,
--    a delete, and an insert that a later statement deletes again.
INSERT INTO wr SELECT g, 'new ' || g, g FROM generate_series(1001, 1100) g;
UPDATE wr SET n = -n WHERE id BETWEEN 1001 AND 1010;
UPDATE wr SET v = repeat('x', 3000) WHERE id BETWEEN 1011 AND 1015;
UPDATE wr SET n = 0 WHERE id = 1016;
UPDATE wr SET n = 1 WHERE id = 1016;
DELETE FROM wr WHERE id BETWEEN 1090 AND 1100;
INSERT INTO wr VALUES (5000, 'short-lived', 0);
DELETE FROM wr WHERE id = 5000;
SELECT aisec.commit('writes', 'inserted and changed') AS version;
SELECT pg_temp.same_as_table(2) AS differences;
SELECT pg_temp.same_as_table(1) = 0 AS v1_is_table_now;
SELECT rows FROM aisec.versions WHERE dataset = 'writes' ORDER BY version;

-- 3. Savepoints: notes of a rolled-back subtransaction are dropped, the
--    outer ones kept; so are notes of a failed plpgsql block.
BEGIN;
INSERT INTO wr VALUES (2001, 'outer', 1);
SAVEPOINT s;
INSERT INTO wr VALUES (2002, 'rolled back', 1);
ROLLBACK TO SAVEPOINT s;
INSERT INTO wr VALUES (2003, 'after rollback', 1);
SAVEPOINT t;
INSERT INTO wr VALUES (2004, 'released', 1);
RELEASE SAVEPOINT t;
DO $$
BEGIN
    INSERT INTO wr VALUES (2005, 'failed block', 1);
    RAISE EXCEPTION 'undo the block';
EXCEPTION WHEN raise_exception THEN
    INSERT INTO wr VALUES (2006, 'handler', 1);
END $$;
COMMIT;
SELECT aisec.commit('writes', 'savepoints') AS version;
SELECT id, v FROM aisec.checkout(NULL::wr, 3) WHERE id > 2000 ORDER BY id;
SELECT pg_temp.same_as_table(3) AS differences;

-- 4. A rewrite between the writes and the commit moves every row, so the
--    noted ctids point at other rows or nowhere: commit scans instead.
INSERT INTO wr SELECT g, 'moved ' || g, g FROM generate_series(3001, 3200) g;
UPDATE wr SET n = n + 1 WHERE id BETWEEN 3001 AND 3050;
DELETE FROM wr WHERE id < 500;
VACUUM FULL wr;
SELECT aisec.commit('writes', 'after a rewrite') AS version;
SELECT pg_temp.same_as_table(4) AS differences;
SELECT rows FROM aisec.versions WHERE dataset = 'writes' AND version = 4;

-- 5. Update chains broken by VACUUM: the row is found by the scan.
INSERT INTO wr VALUES (4001, 'chain', 0);
UPDATE wr SET v = repeat('y', 3000), n = 1 WHERE id = 4001;
VACUUM wr;
UPDATE wr SET n = 2 WHERE id = 4001;
VACUUM wr;
SELECT aisec.commit('writes', 'broken chain') AS version;
SELECT n FROM aisec.checkout(NULL::wr, 5) WHERE id = 4001;

-- 6. COPY, INSERT ... ON CONFLICT, and a commit in the writing transaction.
COPY wr (id, v, n) FROM stdin;
6001	copied	1
6002	copied	2
\.
INSERT INTO wr VALUES (6002, 'upserted', 20), (6003, 'upsert new', 3)
    ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v, n = EXCLUDED.n;
BEGIN;
INSERT INTO wr VALUES (6004, 'same transaction', 4);
SELECT aisec.commit('writes', 'copy and upsert') AS version;
COMMIT;
SELECT id, v, n FROM aisec.checkout(NULL::wr, 6) WHERE id > 6000 ORDER BY id;
SELECT pg_temp.same_as_table(6) AS differences;

-- 7. Another trigger that updates each inserted row before aisec's row
--    trigger runs (names fire in order): the commit follows the update.
CREATE FUNCTION pg_temp.bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE wr SET n = n + 100 WHERE id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER a_bump AFTER INSERT ON wr FOR EACH ROW EXECUTE FUNCTION pg_temp.bump();
INSERT INTO wr VALUES (7001, 'bumped', 1);
DROP TRIGGER a_bump ON wr;
SELECT aisec.commit('writes', 'bumped') AS version;
SELECT n FROM aisec.checkout(NULL::wr, 7) WHERE id = 7001;

-- 8. Explicit row ids.  An id the table's history holds, a current row's
--    or a deleted one's, is refused when the statement ends (INSERT or
--    COPY), before anything could update the row under that id's history;
--    nothing is written.  So is an id from an identity sequence that was
--    reset.
SELECT aisec_rid AS rid_10 FROM wr WHERE id = 1000 \gset
INSERT INTO wr (id, v, n, aisec_rid) OVERRIDING SYSTEM VALUE VALUES (8001, 'twin', 1, :rid_10);
\set VERBOSITY sqlstate
COPY wr (id, v, n, aisec_rid) FROM stdin;
8001	copied twin	1	8796093023208
\.
\set VERBOSITY default
SELECT aisec_rid AS rid_1000 FROM wr WHERE id = 999 \gset
DELETE FROM wr WHERE id = 999;
SELECT aisec.commit('writes', 'one deleted') AS version;
SELECT pg_temp.same_as_table(8) AS differences;
\set VERBOSITY sqlstate
INSERT INTO wr (id, v, n, aisec_rid) OVERRIDING SYSTEM VALUE VALUES (999, 'back', 1, :rid_1000);
-- Another trigger updates the row before the check: that is undone too.
CREATE TRIGGER a_bump AFTER INSERT ON wr FOR EACH ROW EXECUTE FUNCTION pg_temp.bump();
INSERT INTO wr (id, v, n, aisec_rid) OVERRIDING SYSTEM VALUE VALUES (999, 'back', 1, :rid_1000);
DROP TRIGGER a_bump ON wr;
\set VERBOSITY default
SELECT * FROM pg_temp.counts();
-- An id no row had is fine; two new rows with one id are refused by the
-- commit, which changes nothing, until one of them is gone.
INSERT INTO wr (id, v, n, aisec_rid) OVERRIDING SYSTEM VALUE VALUES
    (8002, 'one', 1, (:wr_no::bigint << 40) + 999999),
    (8003, 'two', 1, (:wr_no::bigint << 40) + 999999);
\set VERBOSITY sqlstate
SELECT aisec.commit('writes', 'two of a kind');
\set VERBOSITY default
SELECT max(version) AS head FROM aisec.versions WHERE dataset = 'writes';
DELETE FROM wr WHERE id = 8003;
SELECT aisec.commit('writes', 'one of a kind') AS version;
SELECT pg_temp.same_as_table(9) AS differences;
-- A reset identity sequence hands out ids of recorded rows: refused.
SELECT (:wr_no::bigint << 40) + 1 AS rid_first \gset
ALTER TABLE wr ALTER COLUMN aisec_rid RESTART WITH :rid_first;
\set VERBOSITY sqlstate
INSERT INTO wr (id, v, n) VALUES (8005, 'reset', 1);
\set VERBOSITY default
SELECT (:wr_no::bigint << 40) + 2000000 AS rid_next \gset
ALTER TABLE wr ALTER COLUMN aisec_rid RESTART WITH :rid_next;
INSERT INTO wr (id, v, n) VALUES (8005, 'restarted', 1);
SELECT aisec.commit('writes', 'restarted') AS version;
SELECT pg_temp.same_as_table(10) AS differences;
-- Outside the table's range: refused when written.
INSERT INTO wr (id, v, n, aisec_rid) OVERRIDING SYSTEM VALUE VALUES (8004, 'alien', 1, 7);

-- 9. Every version still checks out as committed, and verifies.
SELECT version, rows, (SELECT count(*) FROM aisec.checkout(NULL::wr, version)) = rows AS rows_match
FROM aisec.versions WHERE dataset = 'writes' ORDER BY version;
SELECT bool_and(ok) AS all_ok, count(*) FROM aisec.verify('writes');
-- History holds one record per row a version added: the rows inserted
-- (updates of rows not yet committed add none).
SELECT * FROM pg_temp.counts();
SELECT * FROM pg_temp.records_per_version();

-- 10. Hand-written notes that do not decode are refused by the commit,
--     which changes nothing.
INSERT INTO aisec.pending_row VALUES (:wr_no, 0, '\x01');
SELECT aisec.commit('writes', 'malformed');
INSERT INTO wr VALUES (9001, 'after a bad note', 1);
DELETE FROM aisec.pending_row WHERE seq = 0;
INSERT INTO aisec.pending_row VALUES (:wr_no, 0, '\x7a0000000000000001000000000001');
SELECT aisec.commit('writes', 'malformed');
DELETE FROM aisec.pending_row WHERE seq = 0;
SELECT aisec.commit('writes', 'good again') AS version;
SELECT pg_temp.same_as_table(11) AS differences;

-- 11. Untracking drops the notes of a table with rows not yet committed;
--     tracking it again starts over.
CREATE TABLE wr_loose (id int PRIMARY KEY);
SELECT aisec.track('wr_loose') IS NOT NULL AS tracked;
BEGIN;
INSERT INTO wr_loose SELECT generate_series(1, 10);
SELECT aisec.untrack('wr_loose');
INSERT INTO wr_loose VALUES (11);
COMMIT;
SELECT count(*) AS notes_left FROM aisec.pending_row p
WHERE NOT EXISTS (SELECT FROM aisec.tracked t WHERE t.table_no = p.table_no);
SELECT aisec.track('wr_loose') IS NOT NULL AS tracked_again;
SELECT aisec.create_dataset('loose', ARRAY['wr_loose'::regclass]) IS NOT NULL AS created;
SELECT aisec.commit('loose') AS version;
SELECT count(*) FROM aisec.checkout(NULL::wr_loose, 1);

-- 12. Many subtransactions (a loop with an exception block), one in seven
--     rolled back: the commit records exactly the rows that stayed.
DO $$
BEGIN
    FOR i IN 1..2000 LOOP
        BEGIN
            INSERT INTO wr VALUES (10000 + i, 'loop', i);
            IF i % 7 = 0 THEN
                RAISE EXCEPTION 'skip';
            END IF;
        EXCEPTION WHEN raise_exception THEN
            NULL;
        END;
    END LOOP;
END $$;
SELECT aisec.commit('writes', 'loop') AS version;
SELECT count(*) AS loop_rows FROM aisec.checkout(NULL::wr, 12) WHERE id > 10000;
SELECT pg_temp.same_as_table(12) AS differences;
SELECT bool_and(ok) AS all_ok FROM aisec.verify('writes');

-- 13. A row inserted and deleted again before the commit is a change (as
--     an update that is undone is): a new version with the same rows.
INSERT INTO wr VALUES (20000, 'brief', 1);
DELETE FROM wr WHERE id = 20000;
SELECT aisec.commit('writes', 'inserted and deleted') AS version;
SELECT v.rows = p.rows AS same_rows, v.fingerprint = p.fingerprint AS same_fingerprint
FROM aisec.versions v JOIN aisec.versions p ON p.dataset = v.dataset AND p.version = v.parent
WHERE v.dataset = 'writes' AND v.version = 13;
-- Nothing since: no new version.
SELECT aisec.commit('writes', 'nothing') AS version;

-- 14. A table tracked by an earlier aisec (its INSERT trigger has a
--     transition table and no row trigger, as a dump of that version
--     restores it) still has its inserted rows recorded, when written.
CREATE TABLE wr_old (id int PRIMARY KEY, v text);
SELECT aisec.track('wr_old') IS NOT NULL AS tracked;
-- (Dropping a capture trigger is refused, section 15: a superuser turns
-- that guard off to set the table up.)
ALTER EVENT TRIGGER aisec_track_drop DISABLE;
DROP TRIGGER aisec_capture_insert_row ON wr_old;
DROP TRIGGER aisec_capture_insert_begin ON wr_old;
DROP TRIGGER aisec_capture_insert ON wr_old;
ALTER EVENT TRIGGER aisec_track_drop ENABLE;
CREATE TRIGGER aisec_capture_insert AFTER INSERT ON wr_old
    REFERENCING NEW TABLE AS aisec_new
    FOR EACH STATEMENT EXECUTE FUNCTION aisec.capture();
INSERT INTO wr_old VALUES (1, 'a'), (2, 'b');
SELECT count(*) AS notes FROM aisec.pending_row p JOIN aisec.tracked t USING (table_no)
WHERE t.rel = 'wr_old'::regclass;
SELECT history AS wr_old_history FROM aisec.tracked WHERE rel = 'wr_old'::regclass \gset
SELECT count(*) AS records, min(valid_from) AS valid_from FROM :wr_old_history;
SELECT aisec.untrack('wr_old');
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid = 'wr_old'::regclass;

-- 15. Capture cannot be switched off while a table is tracked: disabling
--     (by name, ALL, USER, or ENABLE REPLICA), dropping, renaming or
--     replacing a capture trigger is refused, and so is dropping the
--     table or its history with CASCADE (which would take the history's
--     row column); those three are refused writes to history, audited
--     (version.refused).  So is making the table part of table inheritance
--     or partitioning, changing aisec_rid, and renaming an enum value the
--     table holds.  Nothing changes; every version still verifies.
SELECT max(seq) AS seq15 FROM aisec.audit_log \gset
\set VERBOSITY terse
ALTER TABLE wr DISABLE TRIGGER aisec_capture_update;
ALTER TABLE wr DISABLE TRIGGER ALL;
ALTER TABLE wr DISABLE TRIGGER USER;
ALTER TABLE wr ENABLE REPLICA TRIGGER aisec_capture_delete;
DROP TRIGGER aisec_capture_update ON wr;
DROP TRIGGER IF EXISTS aisec_capture_none ON wr;
ALTER TRIGGER aisec_capture_insert_row ON wr RENAME TO capture_off;
CREATE OR REPLACE TRIGGER aisec_capture_delete AFTER DELETE ON wr
    FOR EACH STATEMENT EXECUTE FUNCTION pg_catalog.suppress_redundant_updates_trigger();
DROP TABLE wr CASCADE;
CREATE SCHEMA wr_schema;
CREATE TABLE wr_schema.gone (id int);
SELECT aisec.track('wr_schema.gone') IS NOT NULL AS tracked;
DROP SCHEMA wr_schema CASCADE;
SELECT history AS wr_history FROM aisec.tracked WHERE rel = 'wr'::regclass \gset
DROP TABLE :wr_history;
-- Table inheritance and partitioning around a tracked table: an UPDATE
-- through a parent would change its rows without its triggers firing.
CREATE TABLE wr_child () INHERITS (wr);
CREATE TABLE wr_parent (id int, v text, n int);
ALTER TABLE wr INHERIT wr_parent;
CREATE TABLE wr_other (id int NOT NULL, v text, n int, aisec_rid bigint NOT NULL);
ALTER TABLE wr_other INHERIT wr;
CREATE TABLE wr_parts (id int, v text, n int, aisec_rid bigint NOT NULL) PARTITION BY RANGE (id);
-- (PostgreSQL 17 refuses this itself: aisec_rid is an identity column.)
DO $$
BEGIN
    ALTER TABLE wr_parts ATTACH PARTITION wr FOR VALUES FROM (0) TO (100000);
    RAISE NOTICE 'attached';
EXCEPTION WHEN feature_not_supported OR object_not_in_prerequisite_state THEN
    RAISE NOTICE 'attaching wr as a partition is refused';
END $$;
\set VERBOSITY default
SELECT count(*) AS inheritance FROM pg_inherits
WHERE 'wr'::regclass IN (inhrelid, inhparent);
DROP TABLE wr_parent, wr_other, wr_parts;
SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'wr'::regclass ORDER BY 1;
SELECT object, detail->>'operation' AS operation FROM aisec.audit_log
WHERE seq > :seq15 AND action = 'version.refused' ORDER BY seq;
-- aisec_rid keeps its name and stays an identity column GENERATED ALWAYS
-- (RESTART is fine); other columns may be renamed.
\set VERBOSITY terse
ALTER TABLE wr RENAME COLUMN aisec_rid TO rid;
ALTER TABLE wr ALTER COLUMN aisec_rid DROP IDENTITY;
ALTER TABLE wr ALTER COLUMN aisec_rid SET GENERATED BY DEFAULT;
\set VERBOSITY default
ALTER TABLE wr RENAME COLUMN v TO label;
ALTER TABLE wr RENAME COLUMN label TO v;
-- An enum value a tracked table can hold (directly, or in an array, a
-- domain or a composite) keeps its label: row hashes encode it.  Adding
-- values and renaming values of other enums are fine.
CREATE TYPE wr_mood AS ENUM ('sad', 'fine');
CREATE DOMAIN wr_mood_d AS wr_mood;
CREATE TYPE wr_feel AS ENUM ('calm');
CREATE TYPE wr_pair AS (n int, f wr_feel[]);
CREATE TYPE wr_other AS ENUM ('x');
CREATE TABLE wr_moods (id int PRIMARY KEY, moods wr_mood_d[], p wr_pair);
SELECT aisec.track('wr_moods') IS NOT NULL AS tracked;
ALTER TYPE wr_mood RENAME VALUE 'sad' TO 'unhappy';
\set VERBOSITY terse
ALTER TYPE wr_feel RENAME VALUE 'calm' TO 'still';
\set VERBOSITY default
ALTER TYPE wr_mood ADD VALUE 'glad';
ALTER TYPE wr_other RENAME VALUE 'x' TO 'y';
SELECT enumlabel FROM pg_enum WHERE enumtypid = 'wr_mood'::regtype ORDER BY enumsortorder;
SELECT aisec.untrack('wr_moods');
DROP TABLE wr_moods;
DROP DOMAIN wr_mood_d;
DROP TYPE wr_pair;
DROP TYPE wr_mood, wr_feel, wr_other;
-- A column whose values have no binary send form (aclitem), also inside
-- an array, cannot be hashed: refused when tracking and when added.
CREATE TABLE wr_acl (id int PRIMARY KEY, acl aclitem[]);
SELECT aisec.track('wr_acl');
ALTER TABLE wr ADD COLUMN acl aclitem;
DROP TABLE wr_acl;
-- The same for a table's owner who is not a superuser.
CREATE ROLE wr_owner;
GRANT aisec_admin TO wr_owner;
GRANT CREATE ON SCHEMA public TO wr_owner;
SET ROLE wr_owner;
CREATE TABLE wr_owned (id int PRIMARY KEY);
SELECT aisec.track('wr_owned') IS NOT NULL AS tracked;
\set VERBOSITY terse
ALTER TABLE wr_owned DISABLE TRIGGER ALL;
DROP TRIGGER aisec_capture_delete ON wr_owned;
DROP TABLE wr_owned CASCADE;
\set VERBOSITY default
SELECT aisec.untrack('wr_owned');
DROP TABLE wr_owned;
RESET ROLE;
REVOKE CREATE ON SCHEMA public FROM wr_owner;
DROP ROLE wr_owner;
-- Other triggers on the table come and go as before; untracking removes
-- the capture triggers (and then the table can go).
CREATE TRIGGER wr_other AFTER UPDATE ON wr FOR EACH ROW
    EXECUTE FUNCTION pg_catalog.suppress_redundant_updates_trigger();
DROP TRIGGER wr_other ON wr;
SELECT aisec.untrack('wr_schema.gone');
DROP SCHEMA wr_schema CASCADE;
SELECT bool_and(ok) AS all_ok FROM aisec.verify('writes');
-- 16. An UPDATE or DELETE of at least as many rows as the history has
-- pages finds the rows' open records with one pass over the history (a
-- seq scan of it) instead of an index probe per row, in parts of at most
-- hash_mem's worth of row ids: 2730 with work_mem at its minimum of 64kB
-- and hash_mem_multiplier 2 (its default from PostgreSQL 15 on).  Either
-- way the versions are the same.
CREATE TABLE wr_big (id int PRIMARY KEY, v int);
SELECT aisec.track('wr_big') IS NOT NULL AS tracked;
SELECT aisec.create_dataset('big', ARRAY['wr_big'::regclass]);
INSERT INTO wr_big SELECT g, 0 FROM generate_series(1, 6000) g;
SELECT aisec.commit('big', 'all zero');
-- Passes over the history (seq scans) and probes of its rid index (index
-- scans) since history_scans_begin, in the same transaction.
CREATE TEMP TABLE wr_scans_base (seq bigint, idx bigint);
CREATE FUNCTION pg_temp.history_scans(rel regclass, OUT passes bigint, OUT probes bigint)
LANGUAGE sql AS $$
    SELECT s.seq_scan - b.seq, s.idx_scan - b.idx
    FROM pg_catalog.pg_stat_xact_all_tables s, wr_scans_base b
    WHERE s.relid = (SELECT history FROM aisec.tracked WHERE tracked.rel = $1)
$$;
CREATE FUNCTION pg_temp.history_scans_begin(rel regclass) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM wr_scans_base;
    INSERT INTO wr_scans_base SELECT s.seq_scan, s.idx_scan
    FROM pg_catalog.pg_stat_xact_all_tables s
    WHERE s.relid = (SELECT history FROM aisec.tracked WHERE tracked.rel = $1);
$$;
SELECT pg_relation_size(history) / 8192 < 6000 / 20 AS history_pages_few
FROM aisec.tracked WHERE rel = 'wr_big'::regclass;
SET work_mem = '64kB';
SET hash_mem_multiplier = 2;
SELECT ended AS wr_big_ended, pending_version AS wr_big_pending, table_no AS wr_big_no
FROM aisec.tracked WHERE rel = 'wr_big'::regclass \gset
BEGIN;
SELECT pg_temp.history_scans_begin('wr_big') \gset
-- 6000 rows, the table's first change since the commit: no pass.  The
-- new records are written; ending the old ones is left to the commit.
UPDATE wr_big SET v = 1;
SELECT * FROM pg_temp.history_scans('wr_big');
SELECT count(*) AS ended_so_far FROM :wr_big_ended WHERE valid_to = :wr_big_pending;
-- 3000 of them again: their records, new in the pending version, are
-- deleted (two passes, of 2730 and 270 ids).
SELECT pg_temp.history_scans_begin('wr_big') \gset
UPDATE wr_big SET v = 2 WHERE id % 2 = 0;
SELECT * FROM pg_temp.history_scans('wr_big');
COMMIT;
-- The commit ends the 6000 old records: three passes (2730, 2730 and
-- 540 ids); its one probe of the rid index finds the highest row id
-- recorded.
BEGIN;
SELECT pg_temp.history_scans_begin('wr_big') \gset
SELECT aisec.commit('big', 'odd one, even two') AS v2 \gset
SELECT * FROM pg_temp.history_scans('wr_big');
COMMIT;
SELECT count(*) AS ended FROM :wr_big_ended WHERE valid_to = :v2;
RESET work_mem;
RESET hash_mem_multiplier;
-- One row: an index probe.
BEGIN;
SELECT pg_temp.history_scans_begin('wr_big') \gset
UPDATE wr_big SET v = 3 WHERE id = 17;
SELECT * FROM pg_temp.history_scans('wr_big');
COMMIT;
-- 1000 rows, each with two records (one ended): one pass, which meets
-- the older record first and gives its hash back when it meets the later.
BEGIN;
SELECT pg_temp.history_scans_begin('wr_big') \gset
DELETE FROM wr_big WHERE id > 5000;
SELECT * FROM pg_temp.history_scans('wr_big');
COMMIT;
-- Under SERIALIZABLE a pass would take a predicate lock on the whole
-- history, so even a large statement probes.
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT pg_temp.history_scans_begin('wr_big') \gset
UPDATE wr_big SET v = 5 WHERE id <= 1000;
SELECT * FROM pg_temp.history_scans('wr_big');
COMMIT;
-- A part smaller than the history's page count is probed: 2740 rows in
-- parts of 2730 are one pass, then 10 probes.
SET work_mem = '64kB';
SET hash_mem_multiplier = 2;
BEGIN;
SELECT pg_temp.history_scans_begin('wr_big') \gset
UPDATE wr_big SET v = 6 WHERE id <= 2740;
SELECT * FROM pg_temp.history_scans('wr_big');
COMMIT;
RESET work_mem;
RESET hash_mem_multiplier;
-- A rolled-back pass leaves nothing behind.
BEGIN;
SELECT pg_temp.history_scans_begin('wr_big') \gset
UPDATE wr_big SET v = 4;
ROLLBACK;
SELECT aisec.commit('big', 'deleted the last thousand') AS v3 \gset
-- A deferred UPDATE rolled back takes its notes with it.
BEGIN;
UPDATE wr_big SET v = 7;
SELECT count(*) AS note_rows FROM aisec.pending_row WHERE table_no = :wr_big_no;
ROLLBACK;
SELECT count(*) AS note_rows FROM aisec.pending_row WHERE table_no = :wr_big_no;
-- A deferred UPDATE, then rows deleted and updated again before the
-- commit: their new records are deleted or replaced, and the commit
-- still ends each row's committed record once.
UPDATE wr_big SET v = 8;
DELETE FROM wr_big WHERE id <= 10;
UPDATE wr_big SET v = 9 WHERE id = 20;
UPDATE wr_big SET v = 10 WHERE id > 4000;
SELECT aisec.commit('big', 'eight, nine, ten') AS v4 \gset
SELECT count(*) AS ended FROM :wr_big_ended WHERE valid_to = :v4;
-- Rows inserted since the last commit wait for their records: the
-- UPDATE does not defer (one pass).
INSERT INTO wr_big SELECT g, 0 FROM generate_series(6001, 6010) g;
BEGIN;
SELECT pg_temp.history_scans_begin('wr_big') \gset
UPDATE wr_big SET v = 11;
SELECT * FROM pg_temp.history_scans('wr_big');
COMMIT;
SELECT aisec.commit('big', 'eleven') AS v5 \gset
SELECT v, count(*) FROM aisec.checkout(NULL::wr_big, :v4) GROUP BY v ORDER BY v;
SELECT v, count(*) FROM aisec.checkout(NULL::wr_big, :v5) GROUP BY v ORDER BY v;
SELECT v, count(*) FROM aisec.checkout(NULL::wr_big, 1) GROUP BY v ORDER BY v;
SELECT v, count(*) FROM aisec.checkout(NULL::wr_big, :v2) GROUP BY v ORDER BY v;
SELECT count(*) AS differs FROM (
    (SELECT * FROM aisec.checkout(NULL::wr_big, :v5) EXCEPT ALL SELECT * FROM wr_big)
    UNION ALL
    (SELECT * FROM wr_big EXCEPT ALL SELECT * FROM aisec.checkout(NULL::wr_big, :v5))) d;
SELECT version, "table", ok FROM aisec.verify('big') ORDER BY version, "table";

-- 17. Inserted rows in the blocks an INSERT adds are noted by its
--     statement trigger, rows in older blocks (with free space) by the
--     row trigger: each inserted row is noted once either way.
CREATE TABLE wr_ins (id int PRIMARY KEY, v text);
SELECT aisec.track('wr_ins') IS NOT NULL AS tracked;
SELECT aisec.create_dataset('ins', ARRAY['wr_ins'::regclass]) IS NOT NULL AS created;
SELECT table_no AS wr_ins_no FROM aisec.tracked WHERE rel = 'wr_ins'::regclass \gset
-- The notes waiting for the next commit: an entry list starts with byte 1
-- and the number of notes, 4 bytes big-endian (doc/versioning.md).
CREATE FUNCTION pg_temp.wr_ins_notes() RETURNS bigint LANGUAGE sql AS $$
    SELECT coalesce(sum((get_byte(entries, 1)::bigint << 24) | (get_byte(entries, 2) << 16)
                        | (get_byte(entries, 3) << 8) | get_byte(entries, 4)), 0)
    FROM aisec.pending_row
    WHERE table_no = (SELECT table_no FROM aisec.tracked WHERE rel = 'wr_ins'::regclass)
      AND get_byte(entries, 0) = 1
$$;
INSERT INTO wr_ins SELECT g, repeat('x', 100) FROM generate_series(1, 2000) g;
SELECT pg_temp.wr_ins_notes() AS notes;
SELECT aisec.commit('ins', 'two thousand') AS i1 \gset
-- Free space in every block, then rows into it and into new blocks.
DELETE FROM wr_ins WHERE id % 2 = 0;
VACUUM wr_ins;
SELECT pg_relation_size('wr_ins') / current_setting('block_size')::int AS blocks_before \gset
INSERT INTO wr_ins SELECT g, repeat('y', 100) FROM generate_series(2001, 5000) g;
SELECT pg_relation_size('wr_ins') / current_setting('block_size')::int > :blocks_before AS grew,
       (SELECT count(*) FROM wr_ins WHERE id > 2000 AND (ctid::text::point)[0] < :blocks_before) > 0 AS old_blocks_used,
       (SELECT count(*) FROM wr_ins WHERE id > 2000 AND (ctid::text::point)[0] >= :blocks_before) > 0 AS new_blocks_used;
SELECT pg_temp.wr_ins_notes() AS notes;
-- In one transaction: a row inserted and updated (its note leads along the
-- update chain), one inserted and deleted, and an INSERT ... ON CONFLICT
-- whose updated rows (new versions in new blocks) are not inserted rows.
BEGIN;
INSERT INTO wr_ins VALUES (5001, 'to update'), (5002, 'to delete');
UPDATE wr_ins SET v = 'updated' WHERE id = 5001;
DELETE FROM wr_ins WHERE id = 5002;
INSERT INTO wr_ins SELECT g, 'upserted' FROM generate_series(4991, 5010) g
    ON CONFLICT (id) DO UPDATE SET v = 'conflict';
COMMIT;
-- A subtransaction rolled back takes its rows' notes with it.
BEGIN;
SAVEPOINT s;
INSERT INTO wr_ins SELECT g, 'rolled back' FROM generate_series(6001, 7000) g;
ROLLBACK TO SAVEPOINT s;
INSERT INTO wr_ins VALUES (7001, 'kept');
COMMIT;
-- An INSERT into the table from a trigger on another table, during an
-- INSERT into the table: rows of the inner statement in blocks the outer
-- one added are noted by both, which the commit takes as one.
CREATE TABLE wr_ins_log (id int);
CREATE FUNCTION pg_temp.wr_ins_more() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO wr_ins SELECT g, 'inner' FROM generate_series(NEW.id * 100 + 1, NEW.id * 100 + 49) g;
    RETURN NULL;
END $$;
CREATE TRIGGER wr_ins_more AFTER INSERT ON wr_ins_log FOR EACH ROW
    EXECUTE FUNCTION pg_temp.wr_ins_more();
CREATE FUNCTION pg_temp.wr_ins_outer(n int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO wr_ins_log VALUES (n);
    RETURN n;
END $$;
INSERT INTO wr_ins
SELECT g, CASE WHEN g % 100 = 0 THEN 'outer ' || pg_temp.wr_ins_outer(g / 100) ELSE 'outer' END
FROM generate_series(8000, 8199) g WHERE g % 100 = 0 OR g % 100 > 49;
SELECT aisec.commit('ins', 'old and new blocks') AS i2 \gset
SELECT count(*) AS differs FROM (
    (SELECT * FROM aisec.checkout(NULL::wr_ins, :i2) EXCEPT ALL SELECT * FROM wr_ins)
    UNION ALL
    (SELECT * FROM wr_ins EXCEPT ALL SELECT * FROM aisec.checkout(NULL::wr_ins, :i2))) d;
SELECT count(*) AS rows, count(*) FILTER (WHERE v = 'updated') AS updated,
       count(*) FILTER (WHERE v = 'conflict') AS conflict,
       count(*) FILTER (WHERE v = 'upserted') AS upserted,
       count(*) FILTER (WHERE v = 'inner') AS inner_rows,
       count(*) FILTER (WHERE v LIKE 'outer%') AS outer_rows
FROM aisec.checkout(NULL::wr_ins, :i2);
SELECT version, ok FROM aisec.verify('ins') ORDER BY version;
-- A table tracked before INSERTs noted rows in new blocks by statement
-- (its row trigger has no WHEN condition and there is no BEFORE INSERT
-- trigger, as a dump of that version restores them) notes every row by
-- the row trigger.
CREATE TABLE wr_prev (id int PRIMARY KEY, v text);
SELECT aisec.track('wr_prev') IS NOT NULL AS tracked;
SELECT aisec.create_dataset('prev', ARRAY['wr_prev'::regclass]) IS NOT NULL AS created;
ALTER EVENT TRIGGER aisec_track_drop DISABLE;
DROP TRIGGER aisec_capture_insert_begin ON wr_prev;
DROP TRIGGER aisec_capture_insert_row ON wr_prev;
ALTER EVENT TRIGGER aisec_track_drop ENABLE;
CREATE TRIGGER aisec_capture_insert_row AFTER INSERT ON wr_prev
    FOR EACH ROW EXECUTE FUNCTION aisec.capture_row();
INSERT INTO wr_prev SELECT g, 'p' FROM generate_series(1, 500) g;
SELECT aisec.commit('prev', 'five hundred') AS p1 \gset
SELECT count(*) AS rows FROM aisec.checkout(NULL::wr_prev, :p1);
SELECT version, ok FROM aisec.verify('prev') ORDER BY version;
-- capture_row_needed() only compares a ctid with this session's own
-- record of a table's size; outside an INSERT it says the row trigger
-- must note the row.
SELECT aisec.capture_row_needed('wr_ins'::regclass, '(0,1)') AS needed;
SELECT aisec.capture_row_needed(NULL, '(0,1)') AS needed;
-- An entry list in the fixed form an earlier aisec wrote (15 bytes a
-- note: kind, row id, block, offset), as a dump of that version restores
-- it, is still read by the commit.
INSERT INTO wr_prev VALUES (501, 'fixed form');
UPDATE aisec.pending_row SET entries = (
    SELECT decode('69' || lpad(to_hex(aisec_rid), 16, '0')
                  || lpad(to_hex((ctid::text::point)[0]::int), 8, '0')
                  || lpad(to_hex((ctid::text::point)[1]::int), 4, '0'), 'hex')
    FROM wr_prev WHERE id = 501)
WHERE table_no = (SELECT table_no FROM aisec.tracked WHERE rel = 'wr_prev'::regclass);
SELECT length(entries) AS fixed_form_bytes FROM aisec.pending_row
WHERE table_no = (SELECT table_no FROM aisec.tracked WHERE rel = 'wr_prev'::regclass);
SELECT aisec.commit('prev', 'one more') AS p2 \gset
SELECT count(*) AS rows, count(*) FILTER (WHERE v = 'fixed form') AS fixed_form
FROM aisec.checkout(NULL::wr_prev, :p2);
SELECT version, ok FROM aisec.verify('prev') ORDER BY version;
-- A malformed entry list is refused, and the commit changes nothing.
INSERT INTO wr_prev VALUES (502, 'bad notes');
UPDATE aisec.pending_row SET entries = '\x01000000050a'
WHERE table_no = (SELECT table_no FROM aisec.tracked WHERE rel = 'wr_prev'::regclass);
SELECT aisec.commit('prev', 'refused');
SELECT max(version) AS last_version FROM aisec.versions WHERE dataset = 'prev';

-- 18. A self-referencing foreign key with ON UPDATE CASCADE changes a row
--     twice in one UPDATE (the cascade comes back to the row), so the
--     transition tables hold it twice: its open record is ended once and
--     its last version recorded, whether the UPDATE leaves the ending to
--     the commit, makes a pass or probes.
CREATE TABLE wr_tree (id int PRIMARY KEY, parent int REFERENCES wr_tree (id) ON UPDATE CASCADE, v text);
INSERT INTO wr_tree SELECT g, CASE WHEN g <= 2 THEN g ELSE 1 END, repeat('t', 50)
FROM generate_series(1, 2000) g;
SELECT aisec.track('wr_tree') IS NOT NULL AS tracked;
SELECT aisec.create_dataset('tree', ARRAY['wr_tree'::regclass]) IS NOT NULL AS created;
SELECT aisec.commit('tree', 'one') AS t1 \gset
-- Left to the commit (the first change): row 1 and the 1998 rows under it.
UPDATE wr_tree SET id = 20001 WHERE id = 1;
-- Probed (few rows): row 2, which refers to itself.
UPDATE wr_tree SET id = 20002 WHERE id = 2;
SELECT aisec.commit('tree', 'two') AS t2 \gset
-- Probed first this time, then a pass.
UPDATE wr_tree SET id = 30002 WHERE id = 20002;
UPDATE wr_tree SET id = 30001 WHERE id = 20001;
SELECT aisec.commit('tree', 'three') AS t3 \gset
SELECT version, rows FROM aisec.versions WHERE dataset = 'tree' ORDER BY version;
SELECT id, parent FROM aisec.checkout(NULL::wr_tree, :t2) WHERE id > 10000 ORDER BY id;
SELECT parent, count(*) FROM aisec.checkout(NULL::wr_tree, :t3) GROUP BY parent ORDER BY parent;
SELECT count(*) AS differs FROM (
    (SELECT * FROM aisec.checkout(NULL::wr_tree, :t3) EXCEPT ALL SELECT * FROM wr_tree)
    UNION ALL
    (SELECT * FROM wr_tree EXCEPT ALL SELECT * FROM aisec.checkout(NULL::wr_tree, :t3))) d;
SELECT version, ok FROM aisec.verify('tree') ORDER BY version;
-- More rows than one part of the lookup (here 2730 ids, with 64 kB of
-- work_mem) in an UPDATE that changes a row twice: refused, nothing
-- changed.
INSERT INTO wr_tree SELECT g, 30001, 'u' FROM generate_series(3001, 4000) g;
SELECT aisec.commit('tree', 'four') AS t4 \gset
SET work_mem = '64kB';
SET hash_mem_multiplier = 2;
UPDATE wr_tree SET id = 40001 WHERE id = 30001;
RESET work_mem;
RESET hash_mem_multiplier;
SELECT count(*) FILTER (WHERE id = 30001) AS root_kept, count(*) FILTER (WHERE parent = 30001) AS under_it
FROM wr_tree;
SELECT count(*) AS pending FROM aisec.pending_delta d JOIN aisec.tracked t USING (table_no)
WHERE t.rel = 'wr_tree'::regclass;

-- 12. History is always heap.  Capture writes history and ended records
--     with heap_multi_insert and reads their pages as heap pages, so
--     aisec.track() creates them USING heap whatever the session's
--     default_table_access_method names.  heap2 is a second table access
--     method (heap's own handler under another name); the tracked table
--     itself takes it, aisec's two tables do not.
CREATE ACCESS METHOD heap2 TYPE TABLE HANDLER heap_tableam_handler;
SET default_table_access_method = heap2;
CREATE TABLE wr_am (id int PRIMARY KEY, v text);
INSERT INTO wr_am VALUES (1, 'a'), (2, 'b');
SELECT aisec.track('wr_am') AS wr_am_no \gset
SELECT regexp_replace(c.relname, '^history_[0-9]+', 'history_N') AS relname, a.amname
FROM pg_class c JOIN pg_am a ON a.oid = c.relam
WHERE c.oid IN ('wr_am'::regclass, (SELECT history FROM aisec.tracked WHERE table_no = :wr_am_no),
                (SELECT ended FROM aisec.tracked WHERE table_no = :wr_am_no))
ORDER BY c.relname;
-- Capture works as on any tracked table.
UPDATE wr_am SET v = 'c' WHERE id = 2;
DELETE FROM wr_am WHERE id = 1;
SELECT aisec.create_dataset('am', ARRAY['wr_am'::regclass]) IS NOT NULL AS created;
SELECT aisec.commit('am', 'one') AS am1 \gset
SELECT id, v FROM aisec.checkout(NULL::wr_am, :am1) ORDER BY id;
SELECT version, ok FROM aisec.verify('am') ORDER BY version;
RESET default_table_access_method;

-- 13. aisec's trigger functions refuse to run as any other kind of trigger
--     (SQLSTATE 39P01, trigger protocol violated).
CREATE TABLE wr_misfire (id int);
INSERT INTO wr_misfire VALUES (1);
CREATE TRIGGER misfire BEFORE UPDATE ON wr_misfire
FOR EACH ROW EXECUTE FUNCTION aisec.capture();
UPDATE wr_misfire SET id = 2;
DROP TRIGGER misfire ON wr_misfire;
CREATE TRIGGER misfire AFTER UPDATE ON wr_misfire
FOR EACH STATEMENT EXECUTE FUNCTION aisec.capture_row();
UPDATE wr_misfire SET id = 2;
\set VERBOSITY sqlstate
UPDATE wr_misfire SET id = 2;
\set VERBOSITY default
DROP TABLE wr_misfire;
