-- aisec.revert(dataset, to_version) (issue 16): writing a dataset's live
-- tables back to a committed version as ordinary captured changes.  Rows
-- deleted since come back with their old aisec_rid, rows added since go,
-- changed rows get their old values, unchanged rows are not touched; the
-- next commit's message says "reverted to version N".

CREATE ROLE rv_adm IN ROLE aisec_admin;
CREATE ROLE rv_eng IN ROLE aisec_engineer;
CREATE ROLE rv_nobody;

-- Every committed version's rows, as text in row-id order (aisec_rid
-- included), to show that reverting changes no committed version.
CREATE FUNCTION rv_versions(ds text, rel regclass) RETURNS TABLE (version bigint, rows text)
LANGUAGE plpgsql AS $$
BEGIN
    FOR version IN SELECT v.version FROM aisec.versions v WHERE v.dataset = ds ORDER BY 1 LOOP
        EXECUTE format('SELECT string_agg(c::text, '' '' ORDER BY c.aisec_rid) FROM aisec.checkout(NULL::%s, $1) c', rel)
            INTO rows USING version;
        RETURN NEXT;
    END LOOP;
END $$;

-- Rows of version a not in version b, and the other way round (aisec_rid
-- included): empty when the two versions hold the same rows.
CREATE FUNCTION rv_differ(rel regclass, a bigint, b bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM ((SELECT * FROM aisec.checkout(NULL::%1$s, $1) EXCEPT ALL SELECT * FROM aisec.checkout(NULL::%1$s, $2))
                    UNION ALL (SELECT * FROM aisec.checkout(NULL::%1$s, $2) EXCEPT ALL SELECT * FROM aisec.checkout(NULL::%1$s, $1))) d', rel)
        INTO n USING a, b;
    RETURN n;
END $$;

--
-- 1. A table with many kinds of columns: a column dropped before tracking,
--    a generated column, an enum, an array, jsonb.
--
CREATE TYPE rv_mood AS ENUM ('calm', 'tense');
CREATE TABLE rv_t (id int, gone text, name text, mood rv_mood, tags text[], doc jsonb,
                   twice int GENERATED ALWAYS AS (id * 2) STORED);
ALTER TABLE rv_t DROP COLUMN gone;
INSERT INTO rv_t (id, name, mood, tags, doc)
SELECT g, 'n' || g, 'calm', ARRAY['a', 'b' || g], jsonb_build_object('k', g) FROM generate_series(1, 5) g;
SELECT aisec.track('rv_t') > 0 AS tracked;
SELECT aisec.create_dataset('rv', ARRAY['rv_t'::regclass]) > 0 AS created;
SELECT aisec.commit('rv', 'v1');

-- Nothing changed since version 1: revert changes nothing, leaves no note.
SELECT * FROM aisec.revert('rv', 1);
SELECT count(*) AS notes FROM aisec.pending_note;
SELECT aisec.commit('rv', 'nothing');

--
-- 2. Rows added since: deleted.
--
INSERT INTO rv_t (id, name) VALUES (6, 'six'), (7, 'seven');
SELECT * FROM aisec.revert('rv', 1);
SELECT id, name, twice FROM rv_t ORDER BY id;
SELECT aisec.commit('rv');
SELECT version, message FROM aisec.versions WHERE dataset = 'rv' ORDER BY version;

--
-- 3. Rows changed since: their old values back, the same row ids; rows
--    not changed are not touched (their ctid stays).
--
UPDATE rv_t SET name = 'changed', mood = 'tense', tags = NULL, doc = '{"x": 1}' WHERE id IN (1, 2);
UPDATE rv_t SET id = 30 WHERE id = 3;
CREATE TEMP TABLE rv_ctid AS SELECT id, ctid AS at FROM rv_t WHERE id IN (4, 5);
SELECT * FROM aisec.revert('rv', 1);
SELECT id, name, mood, tags, doc, twice FROM rv_t ORDER BY id;
SELECT count(*) AS untouched FROM rv_t JOIN rv_ctid ON rv_t.id = rv_ctid.id AND rv_t.ctid = rv_ctid.at;
SELECT aisec.commit('rv', 'undo the edits');
SELECT version, message FROM aisec.versions WHERE dataset = 'rv' ORDER BY version;
SELECT rv_differ('rv_t', 1, 3) AS differ_1_3;

--
-- 4. Rows deleted since: back with their old row ids.
--
CREATE TEMP TABLE rv_rids AS SELECT id, aisec_rid FROM rv_t;
DELETE FROM rv_t WHERE id IN (2, 4);
SELECT aisec.commit('rv', 'lost two');
SELECT * FROM aisec.revert('rv', 1);
SELECT count(*) AS same_rids FROM rv_t JOIN rv_rids USING (id, aisec_rid);
SELECT aisec.commit('rv');
SELECT rv_differ('rv_t', 1, 5) AS differ_1_5;
SELECT change, (before ->> 'id') AS before_id, (after ->> 'id') AS after_id
FROM aisec.diff('rv_t', 4, 5) ORDER BY rid;
SELECT bool_and(ok) AS verified FROM aisec.verify('rv');

--
-- 5. Mixed, across several versions, with the revert given back as one
--    row per table; then the same version again (nothing left to do).
--
INSERT INTO rv_t (id, name, mood, tags, doc) VALUES (8, 'eight', 'tense', '{}', '[]');
DELETE FROM rv_t WHERE id = 1;
SELECT aisec.commit('rv', 'v6');
UPDATE rv_t SET doc = '{"k": [1, 2]}' WHERE id = 5;
DELETE FROM rv_t WHERE id = 8;
INSERT INTO rv_t (id, name) VALUES (9, 'nine');
SELECT "table", inserted, updated, deleted FROM aisec.revert('rv', 2);
SELECT * FROM aisec.revert('rv', 2);
SELECT aisec.commit('rv', 'back to 2');
SELECT rv_differ('rv_t', 2, 7) AS differ_2_7;
SELECT message FROM aisec.versions WHERE dataset = 'rv' AND version = 7;
-- Going back to a later version works the same way.
SELECT * FROM aisec.revert('rv', 6);
SELECT aisec.commit('rv', 'forward to 6');
SELECT rv_differ('rv_t', 6, 8) AS differ_6_8;
SELECT bool_and(ok) AS verified FROM aisec.verify('rv');
CREATE TEMP TABLE rv_before AS SELECT * FROM rv_versions('rv', 'rv_t');

--
-- 6. Within one pending version: a row deleted and brought back before
--    the commit; brought back, then updated or deleted again before it;
--    two reverts in a row.
--
DELETE FROM rv_t WHERE id = 2;
SELECT * FROM aisec.revert('rv', 8);
SELECT count(*) AS same_rid FROM rv_t JOIN rv_rids USING (id, aisec_rid) WHERE id = 2;
UPDATE rv_t SET name = 'two again' WHERE id = 2;
DELETE FROM rv_t WHERE id = 5;
SELECT * FROM aisec.revert('rv', 8);
DELETE FROM rv_t WHERE id = 5;
SELECT * FROM aisec.revert('rv', 8);
SELECT aisec.commit('rv', 'churn');
SELECT rv_differ('rv_t', 8, 9) AS differ_8_9;
SELECT message FROM aisec.versions WHERE dataset = 'rv' AND version = 9;
SELECT bool_and(ok) AS verified FROM aisec.verify('rv');

-- A large UPDATE that is the first change since the commit leaves ending
-- the old records to the commit; a row it changed and a DELETE then
-- removed can be brought back too.
UPDATE rv_t SET name = name || '!';
DELETE FROM rv_t WHERE id = 5;
SELECT * FROM aisec.revert('rv', 9);
SELECT aisec.commit('rv', 'after a deferred update');
SELECT rv_differ('rv_t', 9, 10) AS differ_9_10;
SELECT bool_and(ok) AS verified FROM aisec.verify('rv');

-- Version 0 is the empty dataset: revert to it empties every table.
SELECT * FROM aisec.revert('rv', 0);
SELECT count(*) AS left_rows FROM rv_t;
SELECT aisec.commit('rv', 'empty');
SELECT * FROM aisec.revert('rv', 10);
SELECT aisec.commit('rv');
SELECT rv_differ('rv_t', 10, 12) AS differ_10_12;
SELECT version, message FROM aisec.versions WHERE dataset = 'rv' AND version > 10 ORDER BY version;
SELECT bool_and(ok) AS verified FROM aisec.verify('rv');

-- The audit log has each revert, with its counts.
SELECT object, detail FROM aisec.audit_log
WHERE action = 'version.revert' ORDER BY seq DESC LIMIT 2;

--
-- 7. Errors: NULLs, unknown datasets and versions, isolation level.
--
SELECT * FROM aisec.revert(NULL, 1);
SELECT * FROM aisec.revert('rv', NULL);
SELECT * FROM aisec.revert('no such dataset', 1);
SELECT * FROM aisec.revert('rv', 13);
SELECT * FROM aisec.revert('rv', -1);
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM aisec.revert('rv', 1);
ROLLBACK;
-- A row id another row already has (an explicit id since the commit).
INSERT INTO rv_t (aisec_rid, id) OVERRIDING SYSTEM VALUE
SELECT max(aisec_rid) + 1000, 99 FROM rv_t;
INSERT INTO rv_t (aisec_rid, id) OVERRIDING SYSTEM VALUE
SELECT aisec_rid, 100 FROM rv_t WHERE id = 99;
DO $$ BEGIN PERFORM aisec.revert('rv', 1);
EXCEPTION WHEN unique_violation THEN RAISE NOTICE 'refused: %', SQLSTATE;
END $$;
DELETE FROM rv_t WHERE id IN (99, 100);

--
-- 8. Roles and privileges.  revert is for admins and engineers; it writes
--    as the caller, who needs SELECT, INSERT, UPDATE and DELETE on the
--    table; row-level security must not apply to the caller at all.
--
SELECT has_function_privilege('rv_nobody', 'aisec.revert(text, bigint)', 'EXECUTE') AS nobody_may;
SET ROLE rv_nobody;
SELECT * FROM aisec.revert('rv', 1);
RESET ROLE;
DELETE FROM rv_t WHERE id = 2;
SET ROLE rv_eng;
SELECT * FROM aisec.revert('rv', 12);
RESET ROLE;
GRANT SELECT ON rv_t TO rv_eng;
SET ROLE rv_eng;
SELECT * FROM aisec.revert('rv', 12);
RESET ROLE;
-- Refused before any lock is taken, also when there would be nothing to
-- write: a role that may only read the table does not get to lock it
-- against writers (LOCK TABLE ... IN EXCLUSIVE MODE needs UPDATE, DELETE
-- or TRUNCATE), nor to learn what a revert would write.
BEGIN;
SELECT * FROM aisec.revert('rv', 12);
SET ROLE rv_eng;
SELECT * FROM aisec.revert('rv', 12);
ROLLBACK;
GRANT INSERT, UPDATE ON rv_t TO rv_eng;
SET ROLE rv_eng;
SELECT * FROM aisec.revert('rv', 12);
RESET ROLE;
GRANT INSERT, UPDATE, DELETE ON rv_t TO rv_eng;
SET ROLE rv_eng;
SELECT * FROM aisec.revert('rv', 12);
SELECT aisec.commit('rv');
RESET ROLE;
SELECT committed_by, message FROM aisec.versions WHERE dataset = 'rv' AND version = 13;

-- Row-level security: refused for a role it applies to, even one whose
-- policies would show every row.
ALTER TABLE rv_t ENABLE ROW LEVEL SECURITY;
CREATE POLICY everything ON rv_t USING (true);
DELETE FROM rv_t WHERE id = 2;
SET ROLE rv_eng;
SELECT * FROM aisec.revert('rv', 13);
RESET ROLE;
-- The owner (superuser here) is not subject to it.
SELECT * FROM aisec.revert('rv', 13);
ALTER TABLE rv_t DISABLE ROW LEVEL SECURITY;
DROP POLICY everything ON rv_t;

--
-- 9. Triggers on the table fire as for any write (with search_path set to
--    pg_catalog, pg_temp, as for every statement aisec runs: a trigger
--    function should qualify names); one that skips a row or changes a
--    row being brought back makes the revert fail whole.
--
CREATE FUNCTION rv_skip() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER rv_skip BEFORE DELETE ON rv_t FOR EACH ROW EXECUTE FUNCTION rv_skip();
INSERT INTO rv_t (id) VALUES (50);
SELECT * FROM aisec.revert('rv', 13);
SELECT count(*) AS still_there FROM rv_t WHERE id = 50;
DROP TRIGGER rv_skip ON rv_t;
CREATE FUNCTION rv_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN UPDATE public.rv_t SET name = 'touched' WHERE aisec_rid = NEW.aisec_rid; RETURN NULL; END $$;
CREATE TRIGGER rv_touch AFTER INSERT ON rv_t FOR EACH ROW EXECUTE FUNCTION rv_touch();
DELETE FROM rv_t WHERE id = 3;
SELECT * FROM aisec.revert('rv', 13);
SELECT count(*) AS three FROM rv_t WHERE id = 3;
DROP TRIGGER rv_touch ON rv_t;
SELECT * FROM aisec.revert('rv', 13);
SELECT aisec.commit('rv');
SELECT rv_differ('rv_t', 13, 14) AS differ_13_14;
SELECT bool_and(ok) AS verified FROM aisec.verify('rv');

-- No committed version changed on the way.
SELECT b.version, b.rows = a.rows AS unchanged
FROM rv_before b JOIN rv_versions('rv', 'rv_t') a USING (version) ORDER BY 1;

--
-- 10. Hostile names and two tables: each table of the dataset is
--     reverted; the counts come per table, in table number order.
--
CREATE SCHEMA "rv s""chema";
CREATE TABLE "rv s""chema"."ta""ble; DROP" ("co""l" int, "select" text, "r" int);
INSERT INTO "rv s""chema"."ta""ble; DROP" VALUES (1, 'a', 1), (2, 'b', 2);
CREATE TABLE rv_u (k int);
INSERT INTO rv_u VALUES (1);
SELECT aisec.track('"rv s""chema"."ta""ble; DROP"') > 0 AS tracked;
SELECT aisec.track('rv_u') > 0 AS tracked;
SELECT aisec.create_dataset('rv two', ARRAY['"rv s""chema"."ta""ble; DROP"'::regclass, 'rv_u']) > 0 AS created;
SELECT aisec.commit('rv two', 'v1');
UPDATE "rv s""chema"."ta""ble; DROP" SET "select" = 'z', "r" = 9 WHERE "co""l" = 1;
DELETE FROM "rv s""chema"."ta""ble; DROP" WHERE "co""l" = 2;
INSERT INTO rv_u VALUES (2);
SELECT * FROM aisec.revert('rv two', 1);
SELECT "co""l", "select", "r" FROM "rv s""chema"."ta""ble; DROP" ORDER BY 1;
SELECT aisec.commit('rv two', 'reverted both');
SELECT rv_differ('"rv s""chema"."ta""ble; DROP"', 1, 2) AS differ_t, rv_differ('rv_u', 1, 2) AS differ_u;
SELECT message FROM aisec.versions WHERE dataset = 'rv two' AND version = 2;
SELECT bool_and(ok) AS verified FROM aisec.verify('rv two');

-- A column added since the version: the version's rows have NULL there,
-- and so do the rows revert writes back.
ALTER TABLE rv_u ADD COLUMN extra text;
UPDATE rv_u SET extra = 'x';
SELECT * FROM aisec.revert('rv two', 2);
SELECT k, extra FROM rv_u ORDER BY k;
SELECT aisec.commit('rv two', 'column added');
SELECT rv_differ('rv_u', 2, 3) AS differ_u;

-- A table with no record in the version (it joined the dataset later;
-- here a superuser removed the record): refused, nothing changed.
BEGIN;
ALTER TABLE aisec.version_table DISABLE TRIGGER version_table_refuse_change;
DELETE FROM aisec.version_table v USING aisec.dataset d
WHERE d.id = v.dataset_id AND d.name = 'rv two' AND v.version = 1 AND v.table_name = 'public.rv_u';
SELECT * FROM aisec.revert('rv two', 1);
ROLLBACK;

-- The note cannot be written or removed except by aisec.
INSERT INTO rv_u VALUES (3);
SELECT * FROM aisec.revert('rv two', 2);
SELECT version, reverted_to, noted_by = current_user AS by_me FROM aisec.pending_note;
UPDATE aisec.pending_note SET reverted_to = 0;
DELETE FROM aisec.pending_note;
SELECT aisec.commit('rv two', 'with a note');
SELECT message FROM aisec.versions WHERE dataset = 'rv two' AND version = 4;
SELECT count(*) AS notes FROM aisec.pending_note;

--
-- 11. A table with masking rules: an engineer's revert writes the raw
--     values of the version back (what aisec.checkout() would show the
--     engineer does not matter: revert never returns rows).
--
CREATE TABLE rv_people (id int, email text);
INSERT INTO rv_people VALUES (1, 'ann@example.com'), (2, 'bob@example.com');
SELECT aisec.track('rv_people') > 0 AS tracked;
SELECT aisec.set_mask('rv_people', 'email', 'email') IS NOT NULL AS masked;
SELECT aisec.create_dataset('rv masked', ARRAY['rv_people'::regclass]) > 0 AS created;
SELECT aisec.commit('rv masked', 'v1');
UPDATE rv_people SET email = 'poisoned@example.com';
DELETE FROM rv_people WHERE id = 2;
GRANT SELECT, INSERT, UPDATE, DELETE ON rv_people TO rv_eng;
SET ROLE rv_eng;
SELECT * FROM aisec.revert('rv masked', 1);
RESET ROLE;
SELECT id, email FROM rv_people ORDER BY id;
SELECT aisec.commit('rv masked');
SELECT rv_differ('rv_people', 1, 2) AS differ_1_2;
SELECT bool_and(ok) AS verified FROM aisec.verify('rv masked');

--
-- 12. The permission to bring a row id back is revert's alone, for the
--     rows it brings back: a trigger that inserts another deleted row with
--     its old id during the revert is refused like any such INSERT.
--
CREATE TEMP TABLE rv_dead AS SELECT aisec_rid FROM rv_people WHERE id = 2;
DELETE FROM rv_people WHERE id = 2;
SELECT aisec.commit('rv masked', 'two gone');
DELETE FROM rv_people WHERE id = 1;
CREATE FUNCTION rv_sneak() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.rv_people (aisec_rid, id, email) OVERRIDING SYSTEM VALUE
    SELECT aisec_rid, 2, 'sneaky' FROM pg_temp.rv_dead;
    RETURN NULL;
END $$;
CREATE TRIGGER rv_sneak AFTER INSERT ON rv_people FOR EACH ROW WHEN (NEW.id = 1)
    EXECUTE FUNCTION rv_sneak();
DO $$ BEGIN PERFORM aisec.revert('rv masked', 3);
EXCEPTION WHEN unique_violation THEN
    RAISE NOTICE 'refused: % %', SQLSTATE, regexp_replace(SQLERRM, '[0-9]+', 'N');
END $$;
DROP TRIGGER rv_sneak ON rv_people;
SELECT * FROM aisec.revert('rv masked', 3);
SELECT id, email FROM rv_people ORDER BY id;
SELECT aisec.commit('rv masked');
SELECT rv_differ('rv_people', 3, 4) AS differ_3_4;
SELECT bool_and(ok) AS verified FROM aisec.verify('rv masked');

-- Not from inside a statement that writes a table of the dataset (its
-- rows are not all recorded yet), nor while deferred trigger events wait
-- on one (PostgreSQL refuses TRUNCATE then too).
CREATE FUNCTION rv_inside() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM aisec.revert('rv masked', 4); RETURN NULL; END $$;
CREATE TRIGGER rv_inside AFTER INSERT ON rv_people FOR EACH ROW EXECUTE FUNCTION rv_inside();
INSERT INTO rv_people VALUES (7, 'x@example.com');
DROP TRIGGER rv_inside ON rv_people;
CREATE FUNCTION rv_later() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER rv_later AFTER INSERT ON rv_people DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION rv_later();
BEGIN;
INSERT INTO rv_people VALUES (8, 'y@example.com');
SELECT * FROM aisec.revert('rv masked', 4);
ROLLBACK;
DROP TRIGGER rv_later ON rv_people;
SELECT id FROM rv_people ORDER BY id;

--
-- 13. A foreign key between two tables of a dataset: tables are written
--     one after another, so an immediate constraint can stop the revert
--     (nothing changes); a deferred one is checked at the end.
--
CREATE TABLE rv_p (id int PRIMARY KEY);
CREATE TABLE rv_c (id int PRIMARY KEY, p int REFERENCES rv_p);
SELECT aisec.track('rv_p') > 0 AND aisec.track('rv_c') > 0 AS tracked;
INSERT INTO rv_p VALUES (1);
INSERT INTO rv_c VALUES (10, 1);
SELECT aisec.create_dataset('rv fk', ARRAY['rv_p'::regclass, 'rv_c']) > 0 AS created;
SELECT aisec.commit('rv fk', 'v1');
INSERT INTO rv_p VALUES (2);
INSERT INTO rv_c VALUES (20, 2);
DELETE FROM rv_c WHERE id = 10;
DELETE FROM rv_p WHERE id = 1;
SELECT aisec.commit('rv fk', 'v2');
SELECT * FROM aisec.revert('rv fk', 1);
SELECT (SELECT string_agg(id::text, ' ') FROM rv_p) AS p, (SELECT string_agg(id::text, ' ') FROM rv_c) AS c;
ALTER TABLE rv_c ALTER CONSTRAINT rv_c_p_fkey DEFERRABLE INITIALLY DEFERRED;
SELECT * FROM aisec.revert('rv fk', 1);
SELECT aisec.commit('rv fk');
SELECT rv_differ('rv_p', 1, 3) AS differ_p, rv_differ('rv_c', 1, 3) AS differ_c;
SELECT bool_and(ok) AS verified FROM aisec.verify('rv fk');

--
-- 14. Dropping a dataset with a revert waiting for its commit drops the
--     note too (no commit of that dataset will use it).
--
DELETE FROM rv_c WHERE id = 10;
SELECT inserted, updated, deleted FROM aisec.revert('rv fk', 3);
SELECT count(*) AS notes FROM aisec.pending_note
WHERE dataset_id = (SELECT id FROM aisec.dataset WHERE name = 'rv fk');
SELECT aisec.drop_dataset('rv fk');
SELECT count(*) AS notes_left FROM aisec.pending_note;
