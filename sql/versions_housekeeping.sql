-- Dataset housekeeping (issue 16): what changed since the last commit
-- (aisec.status, aisec.tracked_tables), taking a table out of a dataset
-- (aisec.remove_table), dropping a dataset with or without its history
-- (aisec.drop_dataset), untracking, and tags (aisec.tag returns the
-- version, aisec.untag).  Table numbers depend on the files before this
-- one, so they are never printed.

CREATE ROLE hk_adm IN ROLE aisec_admin;
CREATE ROLE hk_eng IN ROLE aisec_engineer;
CREATE ROLE hk_dpo IN ROLE aisec_dpo;
CREATE ROLE hk_aud IN ROLE aisec_auditor;
CREATE ROLE hk_nobody;
SELECT coalesce(max(seq), 0) AS seq0 FROM aisec.audit_log \gset

-- Errors as SQLSTATE and message, one line each.
CREATE FUNCTION hk_try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

--
-- 1. Two tables in a dataset.  hk_small's history fits in one page, so the
--    first UPDATE after a commit writes the new records and leaves ending
--    the old ones to the commit (notes of kind 'e'); hk_big's history has
--    many pages, so an UPDATE of a row ends its record at once.  status()
--    must count both the same way.
--
CREATE TABLE hk_small (id int PRIMARY KEY, v text);
CREATE TABLE hk_big (id int PRIMARY KEY, v text);
INSERT INTO hk_small SELECT g, 's' || g FROM generate_series(1, 10) g;
INSERT INTO hk_big SELECT g, repeat('b', 200) FROM generate_series(1, 2000) g;
SELECT aisec.track('hk_small') > 0 AS tracked, aisec.track('hk_big') > 0 AS tracked;
SELECT aisec.create_dataset('hk', ARRAY['hk_small'::regclass, 'hk_big'::regclass]) > 0 AS created;
-- Before the first commit every row is new: all inserted.
SELECT * FROM aisec.status('hk') ORDER BY "table"::text;
SELECT aisec.commit('hk', 'v1') AS version;
-- Right after a commit: nothing.
SELECT * FROM aisec.status('hk') ORDER BY "table"::text;

--
-- 2. The counting rules, the same changes on both tables:
--      id 1    updated twice                -> 1 updated
--      id 2    updated, then deleted        -> 1 deleted
--      id 3    deleted                      -> 1 deleted
--      id 4    updated to the same value    -> 1 updated (a change)
--      id 5    untouched                    -> nothing
--      id 9101 inserted, then updated       -> 1 inserted
--      id 9102 inserted, then deleted       -> nothing
--      id 9103 inserted                     -> 1 inserted
--      id 9104 inserted, updated twice      -> 1 inserted
--    Expected for each table: inserted 3, updated 2, deleted 2.
--
UPDATE hk_small SET v = 'x' WHERE id IN (1, 2);
UPDATE hk_big SET v = 'x' WHERE id IN (1, 2);
-- hk_small took the deferred path (ids 1 and 2 noted 'e'), hk_big did not:
SELECT t.rel AS "table", (SELECT count(*) FROM aisec.pending_row p WHERE p.table_no = t.table_no) AS note_rows
FROM aisec.tracked t WHERE t.rel IN ('hk_small'::regclass, 'hk_big'::regclass) ORDER BY t.rel::text;
UPDATE hk_small SET v = 'y' WHERE id = 1;
UPDATE hk_big SET v = 'y' WHERE id = 1;
DELETE FROM hk_small WHERE id IN (2, 3);
DELETE FROM hk_big WHERE id IN (2, 3);
UPDATE hk_small SET v = v WHERE id = 4;
UPDATE hk_big SET v = v WHERE id = 4;
INSERT INTO hk_small VALUES (9101, 'n'), (9102, 'n'), (9103, 'n'), (9104, 'n');
INSERT INTO hk_big VALUES (9101, 'n'), (9102, 'n'), (9103, 'n'), (9104, 'n');
UPDATE hk_small SET v = 'm' WHERE id IN (9101, 9104);
UPDATE hk_big SET v = 'm' WHERE id IN (9101, 9104);
UPDATE hk_small SET v = 'mm' WHERE id = 9104;
UPDATE hk_big SET v = 'mm' WHERE id = 9104;
DELETE FROM hk_small WHERE id = 9102;
DELETE FROM hk_big WHERE id = 9102;
SELECT * FROM aisec.status('hk') ORDER BY "table"::text;
-- The same from the data: the live table against version 1 by row id
-- (rows changed to their own value look unchanged here: 1 updated).
SELECT count(*) FILTER (WHERE v1.aisec_rid IS NULL) AS inserted,
       count(*) FILTER (WHERE v1.aisec_rid IS NOT NULL AND t.aisec_rid IS NOT NULL
                          AND v1.v IS DISTINCT FROM t.v) AS updated_not_to_itself,
       count(*) FILTER (WHERE t.aisec_rid IS NULL) AS deleted
FROM hk_small t FULL JOIN aisec.checkout(NULL::hk_small, 1) v1 ON v1.aisec_rid = t.aisec_rid;
-- A transaction's own uncommitted changes count for it, not for others
-- (status reads with the statement's snapshot).
BEGIN;
DELETE FROM hk_small WHERE id = 5;
SELECT * FROM aisec.status('hk') WHERE "table" = 'hk_small'::regclass;
ROLLBACK;

-- tracked_tables: rows now = rows at version 1 + inserted - deleted, and
-- pending_changes = inserted + updated + deleted.
SELECT "table", rows, rows = (SELECT count(*) FROM hk_small) AS rows_exact,
       history_size > 0 AS has_size, dataset, pending_changes
FROM aisec.tracked_tables WHERE "table" = 'hk_small'::regclass;
SELECT "table", rows, rows = (SELECT count(*) FROM hk_big) AS rows_exact,
       history_size > 0 AS has_size,
       dataset, pending_changes
FROM aisec.tracked_tables WHERE "table" = 'hk_big'::regclass;
-- A table whose notes are damaged (the next commit refuses them) shows
-- NULL counts; the others are still counted.  status() refuses.
SELECT table_no AS small_no FROM aisec.tracked WHERE rel = 'hk_small'::regclass \gset
INSERT INTO aisec.pending_row VALUES (:small_no, 0, '\x01');
SELECT "table", rows, pending_changes FROM aisec.tracked_tables
WHERE "table" IN ('hk_small'::regclass, 'hk_big'::regclass) ORDER BY "table"::text;
SELECT hk_try($$SELECT * FROM aisec.status('hk')$$) AS status_damaged;
DELETE FROM aisec.pending_row WHERE table_no = :small_no AND seq = 0;
-- Its columns hold no row values.
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = 'aisec.tracked_tables'::regclass AND attnum > 0 ORDER BY attnum;

SELECT aisec.commit('hk', 'v2') AS version;
SELECT * FROM aisec.status('hk') ORDER BY "table"::text;
SELECT "table", rows, pending_changes FROM aisec.tracked_tables
WHERE "table" IN ('hk_small'::regclass, 'hk_big'::regclass) ORDER BY "table"::text;
SELECT bool_and(ok) AS all_ok FROM aisec.verify('hk');

--
-- 3. Who may do what.  status and tracked_tables: admin and engineer;
--    status also needs SELECT on every table of the dataset (counts tell
--    about rows), like checkout.  remove_table, drop_dataset, untag and
--    untrack: admin only.  tag: admin and engineer.
--
SET ROLE hk_eng;
SELECT hk_try($$SELECT * FROM aisec.status('hk')$$) AS eng_status_without_select;
SELECT count(*) AS eng_tracked_tables FROM aisec.tracked_tables
WHERE "table" IN ('hk_small'::regclass, 'hk_big'::regclass);
SELECT hk_try($$SELECT aisec.remove_table('hk', 'hk_big')$$) AS eng_remove;
SELECT hk_try($$SELECT aisec.drop_dataset('hk')$$) AS eng_drop;
SELECT hk_try($$SELECT aisec.untag('hk', 'x')$$) AS eng_untag;
SELECT hk_try($$SELECT aisec.untrack('hk_big')$$) AS eng_untrack;
SELECT aisec.tag('hk', 1, 'first') AS eng_tagged;
RESET ROLE;
GRANT SELECT ON hk_small TO hk_eng;
SET ROLE hk_eng;
SELECT hk_try($$SELECT * FROM aisec.status('hk')$$) AS eng_status_one_table;
RESET ROLE;
GRANT SELECT ON hk_big TO hk_eng;
SET ROLE hk_eng;
SELECT * FROM aisec.status('hk') ORDER BY "table"::text;
RESET ROLE;
SET ROLE hk_dpo;
SELECT hk_try($$SELECT * FROM aisec.status('hk')$$) AS dpo_status;
SELECT hk_try($$SELECT * FROM aisec.tracked_tables$$) AS dpo_tracked_tables;
SELECT hk_try($$SELECT aisec.untag('hk', 'first')$$) AS dpo_untag;
RESET ROLE;
SET ROLE hk_aud;
SELECT hk_try($$SELECT * FROM aisec.status('hk')$$) AS auditor_status;
SELECT hk_try($$SELECT * FROM aisec.tracked_tables$$) AS auditor_tracked_tables;
SELECT hk_try($$SELECT * FROM aisec.tracked_table_counts()$$) AS auditor_counts;
SELECT hk_try($$SELECT aisec.drop_dataset('hk')$$) AS auditor_drop;
RESET ROLE;
SET ROLE hk_nobody;
SELECT hk_try($$SELECT * FROM aisec.status('hk')$$) AS nobody_status;
SELECT hk_try($$SELECT * FROM aisec.tracked_tables$$) AS nobody_tracked_tables;
SELECT hk_try($$SELECT aisec.drop_dataset('hk')$$) AS nobody_drop;
SELECT hk_try($$SELECT aisec.remove_table('hk', 'hk_big')$$) AS nobody_remove;
SELECT hk_try($$SELECT aisec.untag('hk', 'first')$$) AS nobody_untag;
RESET ROLE;
-- Row-level security that applies to the caller: status refuses, as
-- checkout does.
ALTER TABLE hk_big ENABLE ROW LEVEL SECURITY;
SET ROLE hk_eng;
SELECT hk_try($$SELECT * FROM aisec.status('hk')$$) AS eng_status_rls;
RESET ROLE;
ALTER TABLE hk_big DISABLE ROW LEVEL SECURITY;

--
-- 4. NULLs, unknown and hostile names: errors with a SQLSTATE, nothing
--    changed.
--
SELECT hk_try($$SELECT * FROM aisec.status(NULL)$$) AS status_null;
SELECT hk_try($$SELECT * FROM aisec.status('nope')$$) AS status_unknown;
SELECT hk_try(format('SELECT * FROM aisec.status(%L)', repeat('x', 101))) AS status_long;
SELECT hk_try($$SELECT aisec.drop_dataset(NULL)$$) AS drop_null;
SELECT hk_try($$SELECT aisec.drop_dataset('hk', NULL)$$) AS drop_keep_null;
SELECT hk_try($$SELECT aisec.drop_dataset('nope')$$) AS drop_unknown;
SELECT hk_try($$SELECT aisec.drop_dataset('nope', false)$$) AS drop_unknown_no_history;
SELECT hk_try($$SELECT aisec.drop_dataset(E'hk\n')$$) AS drop_control_char;
SELECT hk_try($$SELECT aisec.remove_table(NULL, 'hk_big')$$) AS remove_null_dataset;
SELECT hk_try($$SELECT aisec.remove_table('hk', NULL)$$) AS remove_null_table;
SELECT hk_try($$SELECT aisec.remove_table('nope', 'hk_big')$$) AS remove_unknown_dataset;
CREATE TABLE hk_plain (id int);
SELECT hk_try($$SELECT aisec.remove_table('hk', 'hk_plain')$$) AS remove_untracked;
SELECT hk_try($$SELECT aisec.untag(NULL, 'x')$$) AS untag_null_dataset;
SELECT hk_try($$SELECT aisec.untag('hk', NULL)$$) AS untag_null_tag;
SELECT hk_try($$SELECT aisec.untag('hk', 'nope')$$) AS untag_unknown;
SELECT hk_try($$SELECT aisec.untag('nope', 'first')$$) AS untag_unknown_dataset;
SELECT hk_try($$SELECT aisec.untag('hk', '')$$) AS untag_empty;
SELECT hk_try($$SELECT aisec.untrack(NULL)$$) AS untrack_null;
SELECT hk_try($$SELECT aisec.untrack('hk_plain')$$) AS untrack_untracked;
-- A hostile dataset name and table name are data, never SQL.
CREATE TABLE "hk ""q""; DROP TABLE hk_small; --" (id int);
INSERT INTO "hk ""q""; DROP TABLE hk_small; --" VALUES (1), (2);
SELECT aisec.track('"hk ""q""; DROP TABLE hk_small; --"') > 0 AS tracked;
SELECT aisec.create_dataset($$hk'); DROP TABLE hk_small; --$$,
                            ARRAY['"hk ""q""; DROP TABLE hk_small; --"'::regclass]) > 0 AS created;
SELECT * FROM aisec.status($$hk'); DROP TABLE hk_small; --$$);
SELECT aisec.commit($$hk'); DROP TABLE hk_small; --$$) AS version;
DELETE FROM "hk ""q""; DROP TABLE hk_small; --" WHERE id = 1;
SELECT * FROM aisec.status($$hk'); DROP TABLE hk_small; --$$);
-- The refusals name both and quote them for the SQL they suggest.
SELECT aisec.untrack('"hk ""q""; DROP TABLE hk_small; --"');
SELECT hk_try($$SELECT aisec.remove_table($x$hk'); DROP TABLE hk_small; --$x$, '"hk ""q""; DROP TABLE hk_small; --"')$$) AS remove_last;
SELECT aisec.drop_dataset($$hk'); DROP TABLE hk_small; --$$, keep_history => false);
SELECT to_regclass('hk_small') IS NOT NULL AS hk_small_still_there,
       (SELECT count(*) FROM "hk ""q""; DROP TABLE hk_small; --") AS hostile_rows;
SELECT count(*) AS hostile_still_tracked FROM aisec.tracked
WHERE rel = '"hk ""q""; DROP TABLE hk_small; --"'::regclass;

--
-- 5. Tags: tag() returns the version it tagged; tags never move; untag()
--    removes one (audited) and returns its version; verify accepts that.
--
SELECT aisec.tag('hk', 2, 'release') AS tagged;
SELECT hk_try($$SELECT aisec.tag('hk', 1, 'release')$$) AS tag_again;
SELECT version, tags FROM aisec.versions WHERE dataset = 'hk' ORDER BY version;
SET ROLE hk_adm;   -- an admin who owns nothing
SELECT aisec.untag('hk', 'release') AS untagged;
SELECT count(*) AS adm_tracked_tables FROM aisec.tracked_tables
WHERE "table" IN ('hk_small'::regclass, 'hk_big'::regclass);
RESET ROLE;
SELECT version, tags FROM aisec.versions WHERE dataset = 'hk' ORDER BY version;
SELECT hk_try($$SELECT aisec.untag('hk', 'release')$$) AS untag_again;
SELECT bool_and(ok) AS all_ok FROM aisec.verify('hk');
-- The name is free again; the new tag is a new audited fact.
SELECT aisec.tag('hk', 1, 'release') AS tagged;
SELECT bool_and(ok) AS all_ok FROM aisec.verify('hk');

--
-- 6. remove_table: hk_big leaves the dataset.  Its uncommitted changes
--    stay captured in its pending version, which no version of the dataset
--    will include; later versions leave the table out, earlier ones keep
--    it and stay readable.
--
UPDATE hk_big SET v = 'after v2' WHERE id = 5;
INSERT INTO hk_big VALUES (9201, 'after v2');
SET ROLE hk_adm;   -- no ownership needed: only the registry changes
SELECT aisec.remove_table('hk', 'hk_big');
RESET ROLE;
SELECT tables FROM aisec.datasets WHERE dataset = 'hk';
SELECT * FROM aisec.status('hk') ORDER BY "table"::text;
SELECT "table", dataset, rows, rows = (SELECT count(*) FROM hk_big) AS rows_exact, pending_changes
FROM aisec.tracked_tables WHERE "table" = 'hk_big'::regclass;
-- Removing again, or the last table, is refused.
SELECT hk_try($$SELECT aisec.remove_table('hk', 'hk_big')$$) AS remove_again;
SELECT hk_try($$SELECT aisec.remove_table('hk', 'hk_small')$$) AS remove_last;
-- The next commit is a new version even though no row of hk_small changed:
-- the set of tables did.
SELECT aisec.commit('hk', 'v3 without hk_big') AS version;
SELECT aisec.commit('hk', 'nothing new') AS version;
SELECT jsonb_path_query_array(aisec.manifest('hk', 3), '$.tables[*].table') AS v3_tables,
       jsonb_path_query_array(aisec.manifest('hk', 2), '$.tables[*].table') AS v2_tables;
-- Versions 1 and 2 of hk_big: checkout, diff, materialize, tag, verify.
SELECT count(*) AS v2_rows FROM aisec.checkout(NULL::hk_big, 2);
SELECT count(*) AS tagged_v1_rows FROM aisec.checkout(NULL::hk_big, 'first');
SELECT count(*) FILTER (WHERE id = 9201) AS has_row_inserted_after_removal,
       count(*) FILTER (WHERE v = 'after v2') AS has_update_after_removal
FROM aisec.checkout(NULL::hk_big, 2);
SELECT change, count(*) FROM aisec.diff('hk_big', 1, 2) GROUP BY 1 ORDER BY 1;
SELECT aisec.materialize('hk_big', 2, 'hk_big_v2') AS materialized;
SELECT count(*) FROM hk_big_v2;
SELECT "table" IS NULL AS commit_row, "table", count(*), bool_and(ok) AS ok
FROM aisec.verify('hk') GROUP BY 1, 2 ORDER BY 1, "table"::text;
SELECT version, "table" FROM aisec.verify('hk', 3) WHERE "table" IS NOT NULL ORDER BY 1, "table"::text;
-- Version 3 does not include hk_big.
SELECT hk_try($$SELECT count(*) FROM aisec.checkout(NULL::hk_big, 3)$$) AS checkout_v3;
SELECT hk_try($$SELECT count(*) FROM aisec.diff('hk_big', 2, 3)$$) AS diff_v3;
SELECT aisec.tag('hk', 3, 'third') AS tagged;
SELECT hk_try($$SELECT count(*) FROM aisec.checkout(NULL::hk_big, 'third')$$) AS checkout_third;
-- hk_big cannot be untracked (committed versions include its history),
-- nor join another dataset (its history is numbered by hk's versions).
SELECT aisec.untrack('hk_big');
SELECT aisec.create_dataset('hk_other', ARRAY['hk_big'::regclass]);

-- A table removed before any commit included it can be untracked, or
-- join another dataset.
CREATE TABLE hk_c (id int);
CREATE TABLE hk_d (id int);
INSERT INTO hk_c VALUES (1);
SELECT aisec.track('hk_c') > 0 AS tracked, aisec.track('hk_d') > 0 AS tracked;
SELECT aisec.create_dataset('hk_cd', ARRAY['hk_c'::regclass, 'hk_d'::regclass]) > 0 AS created;
SELECT aisec.remove_table('hk_cd', 'hk_c');
SELECT aisec.untrack('hk_c');
SELECT attname FROM pg_attribute WHERE attrelid = 'hk_c'::regclass AND attnum > 0 AND NOT attisdropped;
SELECT hk_try($$SELECT aisec.remove_table('hk_cd', 'hk_d')$$) AS remove_last;
-- Another dataset's table: refused, naming it.
SELECT hk_try($$SELECT aisec.remove_table('hk', 'hk_d')$$) AS remove_other;

--
-- 7. drop_dataset keeping history: the dataset, its versions and tags go;
--    its tables (hk_small, and hk_big removed earlier) stay tracked in no
--    dataset, with their history; the audit entry records the head
--    version and its commit hash.  Then untrack works.
--
SELECT commit_hash AS head_hash FROM aisec.versions WHERE dataset = 'hk' AND version = 3 \gset
SELECT table_no AS big_no FROM aisec.tracked WHERE rel = 'hk_big'::regclass \gset
-- In a transaction that rolls back, nothing happens.
BEGIN;
SELECT aisec.drop_dataset('hk', keep_history => false);
SELECT count(*) AS tracked_in_xact FROM aisec.tracked WHERE table_no IN (:small_no, :big_no);
ROLLBACK;
SELECT count(*) AS tracked_after_rollback FROM aisec.tracked WHERE table_no IN (:small_no, :big_no);
SELECT bool_and(ok) AS all_ok FROM aisec.verify('hk');
SELECT aisec.drop_dataset('hk');
SELECT count(*) AS datasets FROM aisec.datasets WHERE dataset = 'hk';
SELECT count(*) AS versions FROM aisec.versions WHERE dataset = 'hk';
SELECT "table", dataset, rows, pending_changes, history_size > 0 AS has_history
FROM aisec.tracked_tables WHERE "table" IN ('hk_small'::regclass, 'hk_big'::regclass) ORDER BY "table"::text;
SELECT to_regclass('aisec.history_' || :small_no) IS NOT NULL AS small_history,
       to_regclass('aisec.history_' || :big_no) IS NOT NULL AS big_history;
SELECT hk_try($$SELECT * FROM aisec.verify('hk')$$) AS verify_dropped;
SELECT hk_try($$SELECT count(*) FROM aisec.checkout(NULL::hk_small, 1)$$) AS checkout_dropped;
-- Their history is numbered by the dropped versions: no new dataset.
SELECT hk_try($$SELECT aisec.create_dataset('hk_again', ARRAY['hk_small'::regclass])$$) AS join_again;
-- Capture goes on.
UPDATE hk_small SET v = 'after drop' WHERE id = 1;
-- Untracking drops the table's aisec_rid column: an admin who does not
-- own the table is refused before anything changes.
ALTER TABLE hk_small OWNER TO hk_eng;
SET ROLE hk_adm;
SELECT aisec.untrack('hk_small');
RESET ROLE;
SELECT aisec.untrack('hk_small');
SELECT aisec.untrack('hk_big');
SELECT to_regclass('aisec.history_' || :small_no) IS NULL AS small_history_gone,
       to_regclass('aisec.history_' || :big_no || '_ended') IS NULL AS big_ended_gone;
SELECT count(*) AS hk_small_rows FROM hk_small;

--
-- 8. drop_dataset without history: every table whose history the dataset
--    holds (hk_e, and hk_f removed from it after a commit) is untracked;
--    history, ended records, notes and deltas are gone, so none of their
--    rows remains in an aisec relation.  The tables keep their rows.
--
CREATE TABLE hk_e (id int, secret text);
CREATE TABLE hk_f (id int, secret text);
CREATE TABLE hk_g (id int, secret text);
INSERT INTO hk_e SELECT g, 'e-secret-' || g FROM generate_series(1, 50) g;
INSERT INTO hk_f SELECT g, 'f-secret-' || g FROM generate_series(1, 50) g;
SELECT aisec.track('hk_e') > 0, aisec.track('hk_f') > 0, aisec.track('hk_g') > 0;
SELECT aisec.create_dataset('hk3', ARRAY['hk_e'::regclass, 'hk_f'::regclass, 'hk_g'::regclass]) > 0 AS created;
SELECT aisec.commit('hk3', 'v1') AS version;
UPDATE hk_e SET secret = secret || '!' WHERE id <= 10;
DELETE FROM hk_f WHERE id > 40;
SELECT aisec.commit('hk3', 'v2') AS version;
SELECT aisec.tag('hk3', 2, 'two') AS tagged;
SELECT aisec.remove_table('hk3', 'hk_f');
-- Uncommitted changes: notes and deltas.
INSERT INTO hk_e VALUES (51, 'e-secret-51');
UPDATE hk_e SET secret = 'changed' WHERE id = 20;
INSERT INTO hk_f VALUES (99, 'f-secret-99');
SELECT table_no AS e_no FROM aisec.tracked WHERE rel = 'hk_e'::regclass \gset
SELECT table_no AS f_no FROM aisec.tracked WHERE rel = 'hk_f'::regclass \gset
SELECT table_no AS g_no FROM aisec.tracked WHERE rel = 'hk_g'::regclass \gset
SELECT commit_hash AS hk3_hash FROM aisec.versions WHERE dataset = 'hk3' AND version = 2 \gset
SELECT (SELECT count(*) FROM aisec.pending_row WHERE table_no IN (:e_no, :f_no)) > 0 AS has_notes,
       (SELECT count(*) FROM aisec.pending_delta WHERE table_no IN (:e_no, :f_no)) > 0 AS has_deltas;
-- An admin who does not own the tables may drop the dataset only keeping
-- their history.
SET ROLE hk_adm;
SELECT hk_try($$SELECT aisec.drop_dataset('hk3', keep_history => false)$$) AS adm_drop_no_history;
RESET ROLE;
SELECT count(*) AS versions_left FROM aisec.versions WHERE dataset = 'hk3';
SELECT aisec.drop_dataset('hk3', keep_history => false);
SELECT count(*) AS still_tracked FROM aisec.tracked WHERE table_no IN (:e_no, :f_no, :g_no);
SELECT count(*) FILTER (WHERE to_regclass('aisec.history_' || n) IS NOT NULL) AS histories,
       count(*) FILTER (WHERE to_regclass('aisec.history_' || n || '_ended') IS NOT NULL) AS ended_records
FROM unnest(ARRAY[:e_no, :f_no, :g_no]) n;
SELECT (SELECT count(*) FROM aisec.pending_row WHERE table_no IN (:e_no, :f_no, :g_no)) AS notes,
       (SELECT count(*) FROM aisec.pending_delta WHERE table_no IN (:e_no, :f_no, :g_no)) AS deltas,
       (SELECT count(*) FROM aisec.version_table WHERE table_no IN (:e_no, :f_no, :g_no)) AS version_records,
       (SELECT count(*) FROM aisec.versions WHERE dataset = 'hk3') AS versions,
       (SELECT count(*) FROM aisec.datasets WHERE dataset = 'hk3') AS datasets;
-- No relation of schema aisec has a row holding one of the secrets.
DO $$
DECLARE
    r record;
    c bigint;
BEGIN
    FOR r IN SELECT c.oid::regclass AS rel FROM pg_class c
             WHERE c.relnamespace = 'aisec'::regnamespace AND c.relkind = 'r' LOOP
        EXECUTE format('SELECT count(*) FROM %s t WHERE t::text ~ %L', r.rel, '[ef]-secret-')
            INTO c;
        IF c > 0 THEN
            RAISE NOTICE '% holds % rows with a secret', r.rel, c;
        END IF;
    END LOOP;
END $$;
SELECT attname FROM pg_attribute
WHERE attrelid IN ('hk_e'::regclass, 'hk_f'::regclass, 'hk_g'::regclass) AND attname = 'aisec_rid';
SELECT (SELECT count(*) FROM hk_e) AS e_rows, (SELECT count(*) FROM hk_f) AS f_rows;
-- The tables can be tracked again, with new numbers and a new history.
SELECT aisec.track('hk_e') > :e_no AS new_number;
SELECT aisec.untrack('hk_e');

--
-- 9. The audit trail of all this, in order (hashes compared, not shown).
--
SELECT action, object,
       detail - 'commit_hash' - 'dataset_id' - 'table_no' AS detail,
       CASE WHEN action = 'version.drop_dataset' THEN
            detail ->> 'commit_hash' = CASE object WHEN 'hk' THEN :'head_hash'
                                                   WHEN 'hk3' THEN :'hk3_hash' END
       END AS head_hash_recorded
FROM aisec.audit_log
WHERE seq > :seq0 AND action IN ('version.remove_table', 'version.drop_dataset',
                                 'version.untag', 'version.tag', 'version.untrack')
ORDER BY seq;

SELECT aisec.drop_dataset('hk_cd', false);
DROP TABLE hk_small, hk_big, hk_d, hk_big_v2, hk_plain, hk_c, hk_e, hk_f, hk_g,
    "hk ""q""; DROP TABLE hk_small; --";
DROP FUNCTION hk_try(text);
DROP ROLE hk_adm, hk_eng, hk_dpo, hk_aud, hk_nobody;
