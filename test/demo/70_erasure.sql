-- aisec demo, part 7: GDPR erasure.
\set QUIET on
\pset footer off
\echo
\echo '=== 7. GDPR erasure ======================================================='
\echo 'The DPO declares which column identifies a person (on a tracked table'
\echo 'this also indexes the history), and registers an Art. 17 request.  The'
\echo 'register keeps a keyed hash of the person, never the e-mail address'
\echo 'itself; a second DPO can be required to approve.'
SELECT aisec.declare_subject('loans', 'email') IS NOT NULL AS declared;
SELECT email AS subject FROM loans ORDER BY id LIMIT 1 \gset
SELECT aisec.request_erasure(:'subject', 'TICKET-4711') AS request_id;
SELECT reference, left(subject_hash, 16) || '...' AS subject_hash, legal_basis, status, due
FROM aisec.erasure_requests;
\echo 'Rows derived from the person''s rows (through lineage) are erased too,'
\echo 'except aggregates a table''s policy keeps: a count over at least 10'
\echo 'rows does not identify anyone.'
SELECT aisec.set_erasure_policy('region_counts', 'keep_aggregate', 10) IS NOT NULL AS policy_set;
\echo 'A dry run: what erase() would touch: live rows, history records in'
\echo 'dataset versions, and derived rows it would erase.'
SELECT rel, live_rows, history_records, versions, derived_rows
FROM aisec.erasure_preview('TICKET-4711', :'subject');
\echo 'The erasure, in one transaction: live rows deleted, every history record'
\echo 'of them redacted (data and salt gone, hash kept), derived rows erased'
\echo 'the same way.  It returns a certificate signed with the database''s'
\echo 'Ed25519 key; every version still verifies.'
SELECT aisec.erase('TICKET-4711', :'subject') AS cert \gset
SELECT t->>'table' AS "table", t->'live_rows_deleted' AS live_deleted,
       t->'history_records_redacted' AS history_redacted,
       t->'derived_rows_deleted' AS derived_deleted, t->'derived_rows_kept' AS derived_kept
FROM jsonb_array_elements((:'cert'::jsonb)->'tables') t;
SELECT (:'cert'::jsonb)->'post_check'->'ok' AS post_check_ok,
       (:'cert'::jsonb)->'signature'->>'algorithm' AS signed_with,
       aisec.verify_certificate(:'cert'::jsonb) AS certificate_verifies;
SELECT count(*) FILTER (WHERE NOT ok) AS versions_failing FROM aisec.verify('credit_training');
\echo 'Any time later, an auditor re-runs the post-check (with the subject, it'
\echo 'also looks for rows holding the person again):'
SELECT ok, rel, left(detail, 70) AS detail FROM aisec.verify_erasure('TICKET-4711', :'subject');
SELECT reference, status FROM aisec.erasure_requests;
\echo 'After restoring an older backup: SELECT * FROM aisec.reapply_erasures();'
\echo 'Then VACUUM FULL the tables and their history to remove the bytes'
\echo '(doc/erasure.md, "After a restore" and "Physical removal").'
