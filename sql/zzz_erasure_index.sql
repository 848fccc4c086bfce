-- GDPR erasure (issue 18, doc/erasure.md): the subject index on each
-- tracked table's history, ((data).col) per declared column, through which
-- erasure finds the history records naming a subject.

CREATE ROLE ei_dpo IN ROLE aisec_dpo;
SELECT coalesce(max(seq), 0) AS seq0 FROM aisec.audit_log \gset
SELECT aisec.require_erasure_approval(false);

CREATE TABLE ei_people (id int PRIMARY KEY, email text, name text, "Odd col" text);
CREATE INDEX ON ei_people (email);
INSERT INTO ei_people
SELECT g, 'p' || g || '@example.com', 'Name ' || g, 'odd' || g FROM generate_series(1, 2000) g;
SELECT aisec.track('ei_people') > 0 AS tracked;
SELECT aisec.create_dataset('ei_ds', ARRAY['ei_people']::regclass[]) > 0 AS created;
SELECT aisec.commit('ei_ds', 'v1');
SELECT history AS hist, history::regclass::text AS hist_name FROM aisec.tracked
WHERE rel = 'ei_people'::regclass \gset

-- The subject indexes of the history, by definition.
CREATE VIEW ei_indexes AS
SELECT regexp_replace(pg_get_indexdef(i.indexrelid), 'history_[0-9]+', 'history_N', 'g') AS def
FROM pg_index i JOIN aisec.tracked t ON i.indrelid = t.history
WHERE t.rel = 'ei_people'::regclass AND pg_get_indexdef(i.indexrelid) LIKE '%(data)%'
ORDER BY 1;

-- Declaring builds it, for each declared column; none before.
SELECT * FROM ei_indexes;
SELECT aisec.declare_subject('ei_people', 'email');
SELECT aisec.declare_subject('ei_people', 'Odd col');
SELECT * FROM ei_indexes;
-- Owned by the extension owner, like the history.
SELECT c.relowner = h.relowner AS owned_as_history
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class h ON h.oid = i.indrelid
WHERE i.indrelid = :'hist'::regclass AND pg_get_indexdef(i.indexrelid) LIKE '%(data).email%';

-- Capture keeps it: records written since (an update, an insert, a
-- delete's old record) are found through it.  Person 5 changes e-mail away
-- from the subject, person 6 is deleted, person 2001 is new.
UPDATE ei_people SET email = 'p5.new@example.com' WHERE id = 5;
DELETE FROM ei_people WHERE id = 6;
INSERT INTO ei_people VALUES (2001, 'p2001@example.com', 'New', 'odd2001');
UPDATE ei_people SET name = 'Seven' WHERE id = 7;
SELECT aisec.commit('ei_ds', 'v2');
SET enable_seqscan = off;
SELECT (h.data).id, h.valid_from FROM :hist h
WHERE (h.data).email IN ('p5@example.com', 'p5.new@example.com', 'p6@example.com',
                         'p2001@example.com', 'p7@example.com')
ORDER BY 1, 2;
-- The plan: the subject index, not a scan of the history (erase's
-- history search has this condition).
CREATE FUNCTION ei_plan(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    RETURN NEXT regexp_replace(r."QUERY PLAN", 'history_[0-9]+', 'history_N', 'g');
  END LOOP;
END $$;
SELECT ei_plan(format('SELECT h.rid FROM %s h WHERE (h.data).email OPERATOR(pg_catalog.=) %L',
                      :'hist', 'p5@example.com'));
RESET enable_seqscan;
-- With sequential scans allowed too, once the history is analyzed.
ANALYZE :hist;
SELECT ei_plan(format('SELECT h.rid FROM %s h WHERE (h.data).email OPERATOR(pg_catalog.=) %L',
                      :'hist', 'p5@example.com'));

-- Erasure through it: the subject's row that changed away from the
-- subject (person 5) is found by its earlier record, and erased.
SET SESSION AUTHORIZATION ei_dpo;
SELECT aisec.request_erasure('p5@example.com', 'EI-1') > 0 AS registered;
SELECT rel, live_rows, history_records, versions FROM aisec.erasure_preview('EI-1', 'p5@example.com');
SELECT e->'live_rows_deleted' AS live, e->'history_records_redacted' AS redacted
FROM aisec.erase('EI-1', 'p5@example.com') e;
RESET SESSION AUTHORIZATION;
SELECT count(*) AS person5_live FROM ei_people WHERE id = 5;
SELECT count(*) AS person5_unredacted FROM :hist h WHERE (h.data).id = 5;
-- A redacted record's key is NULL: the index no longer finds it.
SET enable_seqscan = off;
SELECT count(*) AS found_by_index FROM :hist h WHERE (h.data).email = 'p5@example.com';
RESET enable_seqscan;
SELECT ok, count(*) FROM aisec.verify('ei_ds') GROUP BY ok;

-- Undeclaring drops the column's index; the other stays.
SELECT aisec.undeclare_subject('ei_people', 'Odd col');
SELECT * FROM ei_indexes;

-- DROP COLUMN of a declared column of a tracked table: the index depends
-- on it, so PostgreSQL refuses until it is undeclared.
\set VERBOSITY terse
ALTER TABLE ei_people DROP COLUMN email;
\set VERBOSITY default
SELECT aisec.undeclare_subject('ei_people', 'email');
SELECT * FROM ei_indexes;

-- A table tracked after its column was declared gets the index when it
-- is tracked; one dropped by hand is built again by the next erase (the
-- preview works without it, by a scan).
CREATE TABLE ei_later (id int, email text);
INSERT INTO ei_later VALUES (1, 'later@example.com'), (2, 'other@example.com');
SELECT aisec.declare_subject('ei_later', 'email');
SELECT aisec.track('ei_later') > 0 AS tracked;
CREATE VIEW ei_later_index AS
SELECT i.indexrelid::regclass AS idx FROM pg_index i JOIN aisec.tracked t ON i.indrelid = t.history
WHERE t.rel = 'ei_later'::regclass AND pg_get_indexdef(i.indexrelid) LIKE '%(data).email%';
SELECT count(*) AS later_indexes FROM ei_later_index;
SELECT idx AS later_idx FROM ei_later_index \gset
DROP INDEX :later_idx;
SELECT count(*) AS later_indexes FROM ei_later_index;
SET SESSION AUTHORIZATION ei_dpo;
SELECT aisec.request_erasure('later@example.com', 'EI-2') > 0 AS registered;
SELECT rel, live_rows, history_records FROM aisec.erasure_preview('EI-2', 'later@example.com')
WHERE rel = 'ei_later'::regclass;
SELECT e->'live_rows_deleted' AS live FROM aisec.erase('EI-2', 'later@example.com') e;
RESET SESSION AUTHORIZATION;
SELECT count(*) AS later_indexes FROM ei_later_index;
SELECT id FROM ei_later;

-- Untracking drops the history with its index (declared or not).
SELECT idx::oid AS later_index FROM ei_later_index \gset
SELECT aisec.untrack('ei_later');
SELECT count(*) AS index_left FROM pg_class WHERE oid = :later_index;
SELECT aisec.undeclare_subject('ei_later', 'email');

-- The subject appears in no audit entry.
SELECT count(*) AS subject_in_audit FROM aisec.audit_log
WHERE seq > :seq0 AND (detail::text LIKE '%p5@%' OR object LIKE '%p5@%'
                       OR detail::text LIKE '%later@%' OR object LIKE '%later@%');

-- Clean up.
DROP VIEW ei_indexes, ei_later_index;
DROP FUNCTION ei_plan(text);
SELECT aisec.drop_dataset('ei_ds', keep_history => false);
DROP TABLE ei_people, ei_later;
DROP ROLE ei_dpo;
