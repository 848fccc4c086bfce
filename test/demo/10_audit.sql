-- aisec demo, part 1: the tamper-evident audit log.
\set QUIET on
\pset footer off
\echo
\echo '=== 1. Audit log ========================================================='
\echo 'Every governance action is appended to aisec.audit_log. Each entry holds'
\echo 'hash = SHA-256(prev_hash || canonical entry), so changing, deleting or'
\echo 'reordering any entry breaks the chain.'
\echo
SELECT aisec.audit('dataset.register', 'public.loans',
                   '{"rows": 5000, "purpose": "credit model training"}') AS seq;
SELECT aisec.audit('review.scheduled', 'public.loans', '{"reviewer": "dpo"}') AS seq;
SELECT seq, actor, action, object, detail, left(encode(hash, 'hex'), 16) || '...' AS hash
FROM aisec.audit_log ORDER BY seq;

\echo
\echo 'aisec.audit_verify() recomputes the chain:'
SELECT * FROM aisec.audit_verify();

\echo
\echo 'A signed digest (Ed25519) of the chain head, to keep outside the database:'
SELECT aisec.audit_digest() AS digest \gset
SELECT jsonb_pretty(:'digest'::jsonb) AS digest;
\echo 'Anyone can check the signature offline with openssl and this public key:'
SELECT aisec.signing_public_key() AS public_key;

\echo
\echo 'UPDATE, DELETE and TRUNCATE are refused for every role, the owner included:'
\set ON_ERROR_STOP off
UPDATE aisec.audit_log SET detail = '{}' WHERE seq = 1;
\set ON_ERROR_STOP on

\echo
\echo 'A superuser can switch the refusal off. Tampering is then caught:'
BEGIN;
ALTER TABLE aisec.audit_log DISABLE TRIGGER ALL;
UPDATE aisec.audit_log SET detail = '{"rows": 4999}' WHERE seq = 1;
SELECT * FROM aisec.audit_verify();
\echo 'and the digest taken before no longer matches the log:'
SELECT aisec.audit_verify_digest(:'digest'::jsonb) AS digest_still_valid;
ROLLBACK;
\echo '(rolled back: the log is intact again)'
SELECT ok, entries FROM aisec.audit_verify();
SELECT aisec.audit_verify_digest(:'digest'::jsonb) AS digest_still_valid;
