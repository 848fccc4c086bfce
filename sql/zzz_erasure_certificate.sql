-- GDPR erasure: the signed certificate aisec.erase() returns (issue 18
-- item 6), aisec.verify_certificate(), aisec.erasure_certificate(), and
-- aisec.verify_erasure(), the post-check re-run any time later (item 7).
-- doc/erasure.md; the openssl check outside the database is in
-- test/t/070_erasure_certificate.pl.

CREATE ROLE ec_adm IN ROLE aisec_admin;
CREATE ROLE ec_dpo IN ROLE aisec_dpo;
CREATE ROLE ec_aud IN ROLE aisec_auditor;
CREATE ROLE ec_eng IN ROLE aisec_engineer;
SELECT aisec.require_erasure_approval(false);

-- People (tracked, two versions), an untracked notes table, and scores
-- derived from people by INSERT ... SELECT (tracked, lineage recorded).
CREATE TABLE ec_people (id int PRIMARY KEY, email text, score int);
CREATE INDEX ec_people_email ON ec_people (email);
CREATE TABLE ec_notes (email text, note text);
CREATE TABLE ec_scores (id int, band int);
INSERT INTO ec_people VALUES (1, 'frank@example.com', 10), (2, 'gina@example.com', 20),
    (3, 'hank@example.com', 30);
INSERT INTO ec_notes VALUES ('frank@example.com', 'frank called'), ('hank@example.com', 'hank wrote');
SELECT aisec.track('ec_people') > 0 AS tracked, aisec.track('ec_scores') > 0 AS tracked;
SELECT aisec.create_dataset('ec_ds', ARRAY['ec_people', 'ec_scores']::regclass[]) > 0 AS created;
INSERT INTO ec_scores SELECT id, score / 10 FROM ec_people WHERE id = 2;
SELECT aisec.commit('ec_ds', 'v1');
UPDATE ec_people SET score = 11 WHERE id = 1;
SELECT aisec.commit('ec_ds', 'v2');
SELECT aisec_rid AS frank_rid FROM ec_people WHERE id = 1 \gset
SELECT aisec_rid AS hank_rid FROM ec_people WHERE id = 3 \gset
SELECT history AS hist_p FROM aisec.tracked WHERE rel = 'ec_people'::regclass \gset
SELECT aisec.declare_subject('ec_people', 'email');
SELECT aisec.declare_subject('ec_notes', 'email');

SET SESSION AUTHORIZATION ec_dpo;
SELECT aisec.request_erasure('frank@example.com', 'EC-1', 'GDPR Art. 17(1)(a)') > 0 AS registered;
SELECT aisec.request_erasure('gina@example.com', 'EC-2') > 0 AS registered;
SELECT aisec.request_erasure('ivan@example.com', 'EC-3') > 0 AS registered;
-- Not executed yet: no certificate, nothing to verify.
SELECT aisec.erasure_certificate('EC-1');
SELECT * FROM aisec.verify_erasure('EC-1');
SELECT aisec.erase('EC-1', 'frank@example.com') AS cert \gset
RESET SESSION AUTHORIZATION;

--
-- 1. The certificate: erase's summary, the register's facts, who executed
--    it, the audit range, the post-check, VACUUM not yet run, and the
--    signature.  Never the subject.
--
SELECT k FROM jsonb_object_keys(:'cert'::jsonb) k ORDER BY k;
SELECT c->>'format' AS format, c->>'reference' AS reference, c->>'legal_basis' AS basis,
       c->>'requested_by' AS requested_by, c->'approved_by' AS approved_by, c->'approved_at' AS approved_at,
       c->'executed_by' AS executed_by, c->'live_rows_deleted' AS live, c->'history_records_redacted' AS redacted,
       c->'row_ids' AS row_ids
FROM (SELECT :'cert'::jsonb AS c) s;
SELECT jsonb_pretty(c->'tables') AS tables, jsonb_pretty(c->'post_check') AS post_check,
       c->'vacuum'->'run_since' AS vacuum_run_since
FROM (SELECT :'cert'::jsonb AS c) s;
-- Times are UTC, as the register holds them.
SELECT (c->>'executed_at')::timestamptz = r.executed_at AS executed_at_as_registered,
       (c->>'requested_at')::timestamptz = r.requested_at AS requested_at_as_registered,
       (c->>'due')::timestamptz = r.due AS due_as_registered,
       c->>'subject_hash' = r.subject_hash AS subject_hash_as_registered,
       c->>'executed_at' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$' AS utc_format
FROM (SELECT :'cert'::jsonb AS c) s JOIN aisec.erasure_requests r ON r.reference = 'EC-1';
-- The audit range ends with erase's erasure.execute entry; every entry in
-- it is the erasure's (or the signing key's creation).
SELECT (c->'audit'->>'last_seq')::bigint = (SELECT seq FROM aisec.audit_log WHERE action = 'erasure.execute' AND object = 'EC-1') AS last_is_execute,
       (SELECT array_agg(DISTINCT action ORDER BY action) FROM aisec.audit_log
        WHERE seq BETWEEN (c->'audit'->>'first_seq')::bigint AND (c->'audit'->>'last_seq')::bigint) <@ ARRAY['erasure.execute', 'key.create'] AS range_is_erasures
FROM (SELECT :'cert'::jsonb AS c) s;
-- The signature block: Ed25519, this database's key (the one audit
-- digests use: aisec.signing_public_key() is its PEM form), 64 bytes.
SELECT c->'signature'->>'algorithm' AS algorithm,
       decode(c->'signature'->>'public_key', 'hex') =
         substr(decode(regexp_replace(aisec.signing_public_key(), '-----[A-Z ]+-----|\s', '', 'g'), 'base64'), 13) AS database_key,
       length(decode(c->'signature'->>'value', 'hex')) AS signature_bytes
FROM (SELECT :'cert'::jsonb AS c) s;
-- The subject appears nowhere: not in the certificate, not in the store.
SELECT :'cert' NOT LIKE '%frank%' AS cert_clean,
       (SELECT count(*) FROM aisec.erasure_certificate_store WHERE certificate::text LIKE '%frank%') AS stored_with_subject,
       (SELECT count(*) FROM aisec.audit_log WHERE detail::text LIKE '%frank%' OR object LIKE '%frank%') AS audit_with_subject;

--
-- 2. Fetched again, verified: by the DPO, the auditor, the admin.
--
SET SESSION AUTHORIZATION ec_aud;
SELECT aisec.erasure_certificate('EC-1') = :'cert'::jsonb AS same_certificate;
SELECT aisec.verify_certificate(:'cert') AS auditor_verifies;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION ec_adm;
SELECT aisec.verify_certificate(:'cert') AS admin_verifies;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION ec_dpo;
SELECT aisec.verify_certificate(aisec.erasure_certificate('EC-1')) AS dpo_verifies;
RESET SESSION AUTHORIZATION;
-- The canonical form is the jsonb value, not the text: other spacing and
-- key order verify all the same.
SELECT aisec.verify_certificate(
    ('{"signature": ' || (:'cert'::jsonb->'signature')::text || ',' ||
     substr(replace((:'cert'::jsonb - 'signature')::text, ', "', ',"'), 2))::jsonb) AS reordered_verifies;

--
-- 3. Tampering: any change is caught (false, with a NOTICE).
--
SELECT aisec.verify_certificate(jsonb_set(:'cert', '{live_rows_deleted}', '0')) AS total_changed;
SELECT aisec.verify_certificate(jsonb_set(:'cert', '{tables,0,live_rows_deleted}', '0')) AS table_count_changed;
SELECT aisec.verify_certificate(jsonb_set(:'cert', '{reference}', '"EC-9"')) AS reference_changed;
SELECT aisec.verify_certificate(jsonb_set(:'cert', '{post_check,ok}', 'false')) AS post_check_changed;
SELECT aisec.verify_certificate(:'cert'::jsonb - 'vacuum') AS field_removed;
SELECT aisec.verify_certificate(:'cert'::jsonb || '{"note": "x"}') AS field_added;
SELECT aisec.verify_certificate(jsonb_set(:'cert', '{signature,public_key}',
    to_jsonb(repeat('ab', 32)))) AS key_changed;
SELECT aisec.verify_certificate(jsonb_set(:'cert', '{signature,value}',
    to_jsonb(overlay(:'cert'::jsonb->'signature'->>'value' PLACING
                     CASE WHEN substr(:'cert'::jsonb->'signature'->>'value', 1, 1) = '0' THEN '1' ELSE '0' END
                     FROM 1 FOR 1)))) AS signature_changed;
-- Another request's signature on this content.
SET SESSION AUTHORIZATION ec_dpo;
SELECT aisec.erase('EC-3', 'ivan@example.com') AS cert3 \gset
RESET SESSION AUTHORIZATION;
SELECT aisec.verify_certificate(:'cert3') AS other_verifies,
       (:'cert3'::jsonb)->'post_check'->'ok' AS nothing_erased_post_check_ok,
       (:'cert3'::jsonb)->'row_ids' AS nothing_erased;
SELECT aisec.verify_certificate(jsonb_set(:'cert', '{signature}', :'cert3'::jsonb->'signature')) AS signature_swapped;

--
-- 4. Malformed certificates: errors naming what is missing.
--
SELECT aisec.verify_certificate(NULL);
SELECT aisec.verify_certificate('[1]');
SELECT aisec.verify_certificate('"x"');
SELECT aisec.verify_certificate('{}');
SELECT aisec.verify_certificate(:'cert'::jsonb - 'format');
SELECT aisec.verify_certificate(jsonb_set(:'cert', '{format}', '"v0"'));
SELECT aisec.verify_certificate(:'cert'::jsonb - 'reference');
SELECT aisec.verify_certificate(:'cert'::jsonb - 'subject_hash');
SELECT aisec.verify_certificate(:'cert'::jsonb - 'signature');
SELECT aisec.verify_certificate(jsonb_set(:'cert', '{signature}', '"abc"'));
SELECT aisec.verify_certificate(:'cert'::jsonb #- '{signature,value}');
SELECT aisec.verify_certificate(:'cert'::jsonb #- '{signature,public_key}');
SELECT aisec.verify_certificate(jsonb_set(:'cert', '{signature,algorithm}', '"rsa"'));
SELECT aisec.verify_certificate(jsonb_set(:'cert', '{signature,public_key}', '"zz"'));
SELECT aisec.verify_certificate(jsonb_set(:'cert', '{signature,value}', '12'));

--
-- 5. Who may: verify_certificate admin, DPO, auditor; the certificate and
--    verify_erasure DPO and auditor.
--
SET SESSION AUTHORIZATION ec_eng;
SELECT aisec.verify_certificate(:'cert');
SELECT aisec.erasure_certificate('EC-1');
SELECT * FROM aisec.verify_erasure('EC-1');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION ec_adm;
SELECT aisec.erasure_certificate('EC-1');
SELECT * FROM aisec.verify_erasure('EC-1');
RESET SESSION AUTHORIZATION;
-- The checks are made in C as well: granted EXECUTE, the engineer and
-- the admin are still refused.
BEGIN;
GRANT EXECUTE ON FUNCTION aisec.verify_certificate(jsonb), aisec.erasure_certificate(text),
    aisec.verify_erasure(text, text) TO ec_eng, ec_adm;
SET LOCAL ROLE ec_eng;
SAVEPOINT s;
SELECT aisec.verify_certificate(:'cert');
ROLLBACK TO s;
SELECT aisec.erasure_certificate('EC-1');
ROLLBACK TO s;
SELECT * FROM aisec.verify_erasure('EC-1');
ROLLBACK TO s;
SET LOCAL ROLE ec_adm;
SELECT aisec.erasure_certificate('EC-1');
ROLLBACK TO s;
SELECT * FROM aisec.verify_erasure('EC-1');
ROLLBACK;
SET ROLE ec_aud;
SELECT aisec.erasure_certificate(NULL);
SELECT aisec.erasure_certificate('EC-404');
SELECT * FROM aisec.verify_erasure('EC-404');
SELECT * FROM aisec.verify_erasure('EC-1', 'gina@example.com');
SELECT * FROM aisec.verify_erasure('EC-1', '');
RESET ROLE;

--
-- 6. verify_erasure after the erasure: all ok.  Without the subject, the
--    untracked table cannot be checked (ok NULL); with it, it is.
--
SET SESSION AUTHORIZATION ec_aud;
SELECT ok, rel, regexp_replace(detail, 'seq \d+', 'seq N') AS detail FROM aisec.verify_erasure('EC-1');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION ec_dpo;
SELECT ok, rel, regexp_replace(detail, 'seq \d+', 'seq N') AS detail FROM aisec.verify_erasure('EC-1', 'frank@example.com');
RESET SESSION AUTHORIZATION;
-- VACUUM: reported per table and history.
VACUUM ec_people;
SELECT rel, substring(detail FROM 'VACUUM.*$') AS vacuum FROM aisec.verify_erasure('EC-1') WHERE rel = 'ec_people'::regclass;
VACUUM :hist_p;
SELECT rel, substring(detail FROM 'VACUUM.*$') AS vacuum FROM aisec.verify_erasure('EC-1') WHERE rel = 'ec_people'::regclass;

--
-- 7. Attacks, each caught by verify_erasure (each rolled back after).
--
-- a. A superuser puts a row back under the erased row id.  Capture
--    refuses a row id its history already names; so the superuser first
--    deletes that history behind aisec's back.
BEGIN;
\set VERBOSITY sqlstate
INSERT INTO ec_people (id, email, score, aisec_rid) OVERRIDING SYSTEM VALUE VALUES (1, 'frank@example.com', 11, :frank_rid);
\set VERBOSITY default
ROLLBACK;
BEGIN;
ALTER TABLE :hist_p DISABLE TRIGGER ALL;
DELETE FROM :hist_p WHERE rid = :frank_rid;
INSERT INTO ec_people (id, email, score, aisec_rid) OVERRIDING SYSTEM VALUE VALUES (1, 'frank@example.com', 11, :frank_rid);
SELECT ok, rel, regexp_replace(regexp_replace(detail, '; VACUUM.*$', ''), 'seq \d+', 'seq N') AS detail FROM aisec.verify_erasure('EC-1');
ROLLBACK;
-- b. A row with the subject, inserted after the erasure (through capture:
--    a new row id): only a check with the subject sees it; likewise in
--    the untracked table.
BEGIN;
INSERT INTO ec_people VALUES (7, 'frank@example.com', 1);
INSERT INTO ec_notes VALUES ('frank@example.com', 'frank again');
SELECT ok, rel FROM aisec.verify_erasure('EC-1') ORDER BY rel NULLS LAST;
SELECT ok, rel, regexp_replace(regexp_replace(detail, '; VACUUM.*$', ''), 'seq \d+', 'seq N') AS detail FROM aisec.verify_erasure('EC-1', 'frank@example.com');
ROLLBACK;
-- c. A superuser adds a row id to aisec.erasure_row (INSERT is let
--    through for pg_restore), so that aisec.verify would accept Hank's
--    record blanked behind aisec's back: the register no longer matches
--    the erasure.execute audit entry.
BEGIN;
INSERT INTO aisec.erasure_row (rid, request_id)
SELECT :hank_rid, id FROM aisec.erasure_request WHERE reference = 'EC-1';
SELECT ok, rel, regexp_replace(regexp_replace(detail, '; VACUUM.*$', ''), 'seq \d+', 'seq N') AS detail FROM aisec.verify_erasure('EC-1') WHERE rel IS NULL;
ROLLBACK;
-- d. A superuser edits the stored certificate.
BEGIN;
ALTER TABLE aisec.erasure_certificate_store DISABLE TRIGGER ALL;
UPDATE aisec.erasure_certificate_store SET certificate = jsonb_set(certificate, '{live_rows_deleted}', '5')
WHERE certificate->>'reference' = 'EC-1';
SELECT ok, rel, regexp_replace(detail, 'seq \d+', 'seq N') AS detail FROM aisec.verify_erasure('EC-1') WHERE rel IS NULL;
ROLLBACK;
-- e. A superuser restores Frank's data into his redacted history record.
BEGIN;
ALTER TABLE :hist_p DISABLE TRIGGER ALL;
UPDATE :hist_p SET salt = '\x00'::bytea WHERE rid = :frank_rid;
SELECT ok, rel, regexp_replace(regexp_replace(detail, '; VACUUM.*$', ''), 'seq \d+', 'seq N') AS detail FROM aisec.verify_erasure('EC-1') WHERE rel = 'ec_people'::regclass;
ROLLBACK;
-- Direct writes to the certificates are refused.
DELETE FROM aisec.erasure_certificate_store;
UPDATE aisec.erasure_certificate_store SET certificate = '{}';

--
-- 8. Derived rows: Gina's score was derived from her row; erase erases
--    it too (its row id is kept with hers), and the post-check finds no
--    derived row still holding data.
--
SET SESSION AUTHORIZATION ec_dpo;
SELECT aisec.erase('EC-2', 'gina@example.com') AS cert2 \gset
SELECT jsonb_pretty((:'cert2'::jsonb)->'post_check') AS post_check;
SELECT ok, rel, regexp_replace(regexp_replace(detail, '; VACUUM.*$', ''), 'seq \d+', 'seq N') AS detail FROM aisec.verify_erasure('EC-2', 'gina@example.com');
RESET SESSION AUTHORIZATION;

SELECT ok AS chain_ok FROM aisec.audit_verify();
SELECT ok, count(*) FROM aisec.verify('ec_ds') GROUP BY ok;

-- Clean up.
SELECT aisec.undeclare_subject('ec_people', 'email');
SELECT aisec.undeclare_subject('ec_notes', 'email');
SELECT aisec.drop_dataset('ec_ds', keep_history => false);
DROP TABLE ec_people, ec_notes, ec_scores;
-- The register keeps its rows for good; this test takes its erased row ids
-- back out (a superuser, the trigger off) so later tests count only theirs.
ALTER TABLE aisec.erasure_row DISABLE TRIGGER erasure_row_refuse_change;
DELETE FROM aisec.erasure_row
WHERE request_id IN (SELECT id FROM aisec.erasure_request WHERE reference LIKE 'EC-%');
ALTER TABLE aisec.erasure_row ENABLE ALWAYS TRIGGER erasure_row_refuse_change;
DROP ROLE ec_adm, ec_dpo, ec_aud, ec_eng;
