-- aisec demo, part 5b: the daily chores around dataset versions.
\set QUIET on
\pset footer off
\echo
\echo '=== 5b. Daily chores: status, keyed diff, revert, masked versions ========='
\echo 'March: a new load arrives.  It is bad -- 60 duplicated applicants and every'
\echo 'income in the north zeroed -- and it is committed before anyone notices.'
SELECT setseed(0.3) \g /dev/null
INSERT INTO loans (id, name, email, income, sex, age_band, region, approved, repaid, applied_on)
SELECT 9000 + id, name, email, income, sex, age_band, region, approved, repaid, date '2026-03-02'
FROM loans WHERE id BETWEEN 1 AND 60;
UPDATE loans SET income = 0 WHERE region = 'north';

\echo
\echo 'Like git status: what each table of the dataset has changed since its last commit:'
SELECT * FROM aisec.status('credit_training');
\echo 'And every tracked table at a glance (rows, history size, pending changes):'
SELECT "table", table_no, rows, pg_size_pretty(history_size) AS history, dataset, pending_changes
FROM aisec.tracked_tables;
SELECT aisec.commit('credit_training', 'March load') AS version;

\echo
\echo 'What did the load change?  Per column, how many values differ:'
SELECT "column", changed, added, removed
FROM aisec.diff_summary('loans', 2, 3) WHERE changed + added + removed > 0;

\echo
\echo 'Back to the tagged version 2: rows added since go, changed rows get their old'
\echo 'values back, as ordinary captured changes (run with the caller''s privileges):'
SELECT * FROM aisec.revert('credit_training', 2);
SELECT aisec.commit('credit_training', 'undo the March load') AS version;
SELECT version, message FROM aisec.versions
WHERE dataset = 'credit_training' ORDER BY version DESC LIMIT 2;
\echo 'Version 4 holds exactly the rows of version 2, with the same row ids:'
SELECT count(*) AS differences FROM aisec.diff('loans', 2, 4);
SELECT bool_and(ok) AS all_verified FROM aisec.verify('credit_training');

\echo
\echo 'Matching by a key instead of row ids: an applicant deleted and entered again'
\echo 'with the same content is a new row to diff by row id, and no change by key:'
CREATE TEMP TABLE applicant_10 AS SELECT * FROM loans WHERE id = 10;
DELETE FROM loans WHERE id = 10;
INSERT INTO loans (id, name, email, income, sex, age_band, region, approved, repaid, applied_on)
SELECT id, name, email, income, sex, age_band, region, approved, repaid, applied_on
FROM applicant_10;
UPDATE loans SET approved = NOT approved WHERE id = 11;
SELECT aisec.commit('credit_training', 'applicant 10 re-entered, 11 re-decided') AS version;
SELECT 'by row id' AS matched, change, count(*) FROM aisec.diff('loans', 4, 5) GROUP BY change
UNION ALL
SELECT 'by id', change, count(*) FROM aisec.diff('loans', 4, 5, ARRAY['id']) GROUP BY change
ORDER BY 1 DESC, 2;

\echo
\echo 'A masked role reads old versions too -- masked, with today''s rules:'
SET ROLE demo_analyst;
SELECT id, name, email, income
FROM aisec.checkout(NULL::aisec_masked.loans, 'credit-model-2026-01') ORDER BY income LIMIT 3;
\echo '... and never raw:'
\set ON_ERROR_STOP off
SELECT count(*) FROM aisec.checkout(NULL::loans, 'credit-model-2026-01');
\set ON_ERROR_STOP on
RESET ROLE;

\echo
\echo 'aisec never leaves personal data behind: while tables are tracked, a plain'
\echo 'DROP EXTENSION is refused and says what CASCADE would remove with it:'
\set ON_ERROR_STOP off
DROP EXTENSION aisec;
\set ON_ERROR_STOP on
