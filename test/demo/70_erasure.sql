-- aisec demo, part 7: GDPR erasure (in progress: the request register).
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
\echo 'A dry run: what erase() would delete from the live tables.'
SELECT rel, live_rows FROM aisec.erasure_preview('TICKET-4711', :'subject');
\echo 'erase() itself (live rows, every dataset version, derived rows through'
\echo 'lineage, a signed certificate) is the next step: doc/erasure.md.'
