-- aisec demo, part 5: dataset versions of the loan data.
\set QUIET on
\pset footer off
\echo
\echo '=== 5. Dataset versions ==================================================='
\echo 'aisec.track() gives every row a stable id (aisec_rid) and records every'
\echo 'insert, update and delete in the table''s history, with a salted SHA-256'
\echo 'hash per row version.  A dataset is a set of tracked tables; a commit is'
\echo 'a cheap marker over that history, fingerprinted and hash-chained.'
\echo 'Updates and deletes are recorded as they happen; inserted rows are only'
\echo 'noted, and the next commit writes their history, so loading stays fast.'
\echo
SELECT aisec.track('loans') AS table_no;
SELECT aisec.create_dataset('credit_training', ARRAY['loans'::regclass],
                            'loan applications for the credit model') AS dataset_id;
SELECT aisec.commit('credit_training', 'initial load') AS version;
SELECT id, name, aisec_rid, aisec.rid_table(aisec_rid) AS rid_table
FROM loans ORDER BY id LIMIT 3;

\echo
\echo 'A month later: 200 new applications, 40 incomes corrected, 25 withdrawn.'
SELECT setseed(0.7) \g /dev/null
INSERT INTO loans (id, name, email, income, sex, age_band, region, approved, repaid, applied_on)
SELECT 5000 + g, 'Applicant ' || g, 'applicant' || g || '@example.com',
       round((20000 + random() * 80000)::numeric, 2),
       CASE WHEN random() < 0.5 THEN 'female' ELSE 'male' END,
       '26-40', 'east', random() < 0.5, random() < 0.7, date '2026-01-15'
FROM generate_series(1, 200) g;
UPDATE loans SET income = income * 1.05 WHERE id % 125 = 0;
DELETE FROM loans WHERE id % 200 = 7;
\echo 'Noted for the next commit: the 200 inserted rows (one entry per statement,'
\echo 'about 4 bytes a row), one of them since updated and one deleted:'
SELECT count(*) AS entries,
       sum((get_byte(entries, 1)::bigint << 24) | (get_byte(entries, 2) << 16)
           | (get_byte(entries, 3) << 8) | get_byte(entries, 4)) AS notes,
       sum(length(entries)) AS bytes
FROM aisec.pending_row;
SELECT aisec.commit('credit_training', 'January refresh') AS version;

\echo
\echo 'aisec.versions: each version with its parent, fingerprint and commit hash:'
SELECT version, parent, message, rows,
       left(fingerprint, 16) || '...' AS fingerprint,
       left(commit_hash, 16) || '...' AS commit_hash
FROM aisec.versions WHERE dataset = 'credit_training' ORDER BY version;

\echo
\echo 'What changed between the versions (aisec.diff, cost in proportion to the change):'
SELECT change, count(*) FROM aisec.diff('loans', 1, 2) GROUP BY change ORDER BY change;
SELECT change, rid, before->>'income' AS income_before, after->>'income' AS income_after
FROM aisec.diff('loans', 1, 2) WHERE change = 'changed' ORDER BY rid LIMIT 3;

\echo
\echo 'Version 1 is still there, exactly as committed:'
SELECT (SELECT count(*) FROM aisec.checkout(NULL::loans, 1)) AS rows_in_v1,
       (SELECT count(*) FROM loans) AS rows_now;

\echo
\echo 'Tag the training set of the model, and record its manifest with the model:'
SELECT aisec.tag('credit_training', 2, 'credit-model-2026-01') \g /dev/null
SELECT m->>'dataset' AS dataset, m->>'version' AS version, m->'tags' AS tags,
       m#>>'{tables,0,table}' AS "table", m#>>'{tables,0,rows}' AS rows,
       left(m->>'commit_hash', 16) || '...' AS commit_hash
FROM aisec.manifest('credit_training', 2) m;
\echo 'The manifest also records the masking rules in force at commit time:'
SELECT r->>'column' AS "column", r->>'rule' AS rule
FROM jsonb_array_elements(aisec.manifest('credit_training', 2)->'masking_rules') r;
\echo 'A training job reads the tagged version, or copies it to a plain table:'
SELECT count(*) AS training_rows FROM aisec.checkout(NULL::loans, 'credit-model-2026-01');
\echo 'The rows stream straight from history (a custom scan, no tuplestore in between):'
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id, income FROM aisec.checkout(NULL::loans, 'credit-model-2026-01') WHERE income > 50000;

\echo
\echo 'aisec.verify() recomputes every fingerprint from the stored rows and every'
\echo 'commit hash from the stored versions:'
SELECT version, "table", ok FROM aisec.verify('credit_training') ORDER BY version, "table";

\echo
\echo 'History cannot be edited, not even by its owner:'
SELECT history FROM aisec.tracked WHERE rel = 'loans'::regclass \gset
\set ON_ERROR_STOP off
UPDATE :history SET valid_from = 1;
TRUNCATE loans;
\set ON_ERROR_STOP on
\echo 'Nor can the table owner stop the recording or take history down with the table:'
\set ON_ERROR_STOP off
ALTER TABLE loans DISABLE TRIGGER ALL;
DROP TABLE loans CASCADE;
\set ON_ERROR_STOP on

\echo
\echo 'A superuser can switch that off -- and verify then names the damaged versions:'
BEGIN;
ALTER TABLE :history DISABLE TRIGGER ALL;
UPDATE :history SET data.income = 1000000 WHERE (data).id = 1 AND valid_from = 1;
SELECT version, "table", ok FROM aisec.verify('credit_training') ORDER BY version, "table";
ROLLBACK;
\echo '(rolled back: history is intact again)'
