-- aisec demo, part 7: GDPR erasure (in progress: register, preview, erase).
\set QUIET on
\pset footer off
\echo
\echo '=== 7. GDPR erasure (in progress) ========================================='
\echo 'The DPO declares which column identifies a person, and registers an'
\echo 'Art. 17 request.  The register keeps a keyed hash of the person, never'
\echo 'the e-mail address itself; a second DPO can be required to approve.'
SELECT aisec.declare_subject('loans', 'email') IS NOT NULL AS declared;
SELECT email AS subject FROM loans ORDER BY id LIMIT 1 \gset
SELECT aisec.request_erasure(:'subject', 'TICKET-4711') AS request_id;
SELECT reference, left(subject_hash, 16) || '...' AS subject_hash, legal_basis, status, due
FROM aisec.erasure_requests;
\echo 'A dry run: what erase() would touch: live rows, history records in'
\echo 'dataset versions, and rows derived from them (through lineage).'
SELECT rel, live_rows, history_records, versions, derived_rows
FROM aisec.erasure_preview('TICKET-4711', :'subject');
\echo 'The erasure, in one transaction: live rows deleted, every history record'
\echo 'of them redacted (data and salt gone, hash kept), so every version still'
\echo 'verifies and checks out without the person.'
SELECT jsonb_pretty(aisec.erase('TICKET-4711', :'subject')) AS summary;
SELECT count(*) FILTER (WHERE NOT ok) AS versions_failing FROM aisec.verify('credit_training');
SELECT reference, status FROM aisec.erasure_requests;
\echo 'Still to come: erasing derived rows, the signed certificate,'
\echo 'verify_erasure and reapply_erasures (doc/erasure.md).'
