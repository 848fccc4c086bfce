-- Redaction of audit log entries (issue 18 item 10, doc/erasure.md and
-- doc/audit.md): aisec.audit() is user-callable, so a detail may name a
-- person; aisec.redact_audit(seq, reason) (DPO) removes it while the chain
-- and earlier digests still verify, since the hash covers SHA-256(detail).

CREATE ROLE ra_adm IN ROLE aisec_admin;
CREATE ROLE ra_dpo IN ROLE aisec_dpo;
CREATE ROLE ra_aud IN ROLE aisec_auditor;
CREATE ROLE ra_eng IN ROLE aisec_engineer;
CREATE ROLE ra_nobody;
GRANT USAGE ON SCHEMA aisec TO ra_nobody;
CREATE FUNCTION pg_temp.field(t text) RETURNS bytea LANGUAGE sql AS $$
    SELECT CASE WHEN t IS NULL THEN '\xffffffff'::bytea
                ELSE int4send(octet_length(convert_to(t, 'UTF8'))) || convert_to(t, 'UTF8') END
$$;
-- The documented encoding v2 (doc/audit.md), recomputed in SQL.
CREATE FUNCTION pg_temp.v2(l aisec.audit_log) RETURNS bytea LANGUAGE sql AS $$
    SELECT sha256(l.prev_hash || convert_to('aisec.audit.v2', 'UTF8')
                  || int8send(l.seq) || int8send((extract(epoch FROM l.at) * 1000000)::bigint)
                  || pg_temp.field(l.actor) || pg_temp.field(l.login)
                  || pg_temp.field(l.action) || pg_temp.field(l.object)
                  || l.detail_sha256)
$$;
-- Run a statement, show its error's SQLSTATE and message (seqs depend on
-- the tests before: they read N).
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '-?\d+', 'N', 'g');
END
$$;

-- An admin records a note that names a person (as aisec.audit() allows).
SET ROLE ra_adm;
SELECT aisec.audit('support.note', 'ticket 4711',
                   '{"note": "called back dana.doe@example.com", "n": 1}') AS pii_seq \gset
SELECT aisec.audit('support.note', 'ticket 4712', '{"n": 2}') AS other_seq \gset
RESET ROLE;
-- Every entry written today is encoding v2: detail_sha256 is SHA-256 of
-- the detail's text and the hash covers it (recomputed here in SQL).
SELECT detail_sha256 = sha256(convert_to(detail::text, 'UTF8')) AS sha_of_detail,
       hash = pg_temp.v2(l) AS v2_hash, redacted_in
FROM aisec.audit_log l WHERE seq = :pii_seq;
SELECT bool_and(hash = pg_temp.v2(l)) AS every_entry_v2 FROM aisec.audit_log l;
SELECT aisec.audit_digest() AS d \gset

--
-- Redaction.  The DPO redacts the entry; an audit.redact entry records
-- seq and reason (never the removed text); the entry keeps everything
-- but its detail and points to that record.
--
SET ROLE ra_dpo;
SELECT aisec.redact_audit(:pii_seq, 'GDPR Art. 17 request ER-2026-001');
RESET ROLE;
SELECT seq = :pii_seq AS is_entry, action, object, detail, detail_sha256 IS NOT NULL AS sha_kept,
       redacted_in = (SELECT max(seq) FROM aisec.audit_log) AS points_to_record
FROM aisec.audit_log WHERE seq = :pii_seq;
SELECT action, object, (detail ->> 'seq')::bigint = :pii_seq AS names_seq, detail ->> 'reason' AS reason,
       actor = session_user AS by_dpo_session
FROM aisec.audit_log WHERE seq = (SELECT redacted_in FROM aisec.audit_log WHERE seq = :pii_seq);
-- The chain and the digest taken before still verify; so does a new one.
SELECT ok, first_bad_seq, detail LIKE '%chain intact' AS intact FROM aisec.audit_verify();
SELECT aisec.audit_verify_digest(:'d') AS old_digest_verifies;
SELECT aisec.audit_verify_digest(aisec.audit_digest()) AS new_digest_verifies;
-- The e-mail is gone from the log, every column of every entry.
SELECT count(*) AS rows_with_email FROM aisec.audit_log l WHERE l::text LIKE '%dana.doe%';
-- Other entries are untouched.
SELECT detail FROM aisec.audit_log WHERE seq = :other_seq;

--
-- Refusals: nothing changes.
--
SELECT count(*) AS entries_before FROM aisec.audit_log \gset
SET ROLE ra_dpo;
SELECT pg_temp.try(format('SELECT aisec.redact_audit(%L::bigint, %L)', seq, reason)) AS result, what
FROM (VALUES (:pii_seq, 'again', 'already redacted'),
             (0, 'x', 'unknown seq'), (-5, 'x', 'unknown seq'),
             (:entries_before + 100, 'x', 'unknown seq'),
             (NULL, 'x', 'NULL seq'),
             (:other_seq, NULL, 'NULL reason'), (:other_seq, '', 'empty reason'),
             (:other_seq, E'  \t ', 'blank reason'), (:other_seq, repeat('r', 1001), 'long reason'),
             ((SELECT redacted_in FROM aisec.audit_log WHERE seq = :pii_seq), 'x', 'a redaction record'))
     AS t(seq, reason, what);
RESET ROLE;
-- version.* and erasure.* entries, which aisec reads back.
SELECT aisec.audit('version.note', 'ds', '{}') AS version_seq \gset
SELECT aisec.audit('erasure.note', 'ds', '{}') AS erasure_seq \gset
SET ROLE ra_dpo;
SELECT pg_temp.try('SELECT aisec.redact_audit(' || :version_seq || ', ''x'')') AS version_entry;
SELECT pg_temp.try('SELECT aisec.redact_audit(' || :erasure_seq || ', ''x'')') AS erasure_entry;
-- Read-only transactions.
BEGIN READ ONLY;
SELECT pg_temp.try('SELECT aisec.redact_audit(' || :other_seq || ', ''x'')') AS read_only;
ROLLBACK;
RESET ROLE;
-- Roles: only aisec_dpo (checked in C, so a stray GRANT does not open it).
SET ROLE ra_adm;
SELECT pg_temp.try('SELECT aisec.redact_audit(' || :other_seq || ', ''x'')') AS admin;
RESET ROLE;
SET ROLE ra_aud;
SELECT pg_temp.try('SELECT aisec.redact_audit(' || :other_seq || ', ''x'')') AS auditor;
RESET ROLE;
SET ROLE ra_eng;
SELECT pg_temp.try('SELECT aisec.redact_audit(' || :other_seq || ', ''x'')') AS engineer;
RESET ROLE;
SET ROLE ra_nobody;
SELECT pg_temp.try('SELECT aisec.redact_audit(' || :other_seq || ', ''x'')') AS nobody;
RESET ROLE;
GRANT EXECUTE ON FUNCTION aisec.redact_audit(bigint, text) TO ra_nobody;
SET ROLE ra_nobody;
SELECT aisec.redact_audit(:other_seq, 'x');
RESET ROLE;
REVOKE EXECUTE ON FUNCTION aisec.redact_audit(bigint, text) FROM ra_nobody;
SELECT count(*) - :entries_before AS entries_added, count(detail) FILTER (WHERE seq = :other_seq) AS other_kept
FROM aisec.audit_log;

-- Still no other way: direct UPDATE is refused for every role, the owner
-- (a superuser) included, and a DPO has no UPDATE privilege either.
UPDATE aisec.audit_log SET detail = NULL WHERE seq = :other_seq;
SET ROLE ra_dpo;
UPDATE aisec.audit_log SET detail = NULL WHERE seq = :other_seq;
RESET ROLE;

-- A redaction rolled back leaves nothing: no record, the detail is back.
BEGIN;
SET LOCAL ROLE ra_dpo;
SELECT aisec.redact_audit(:other_seq, 'changed my mind');
ROLLBACK;
SELECT count(*) - :entries_before AS entries_added,
       (SELECT detail FROM aisec.audit_log WHERE seq = :other_seq) AS detail
FROM aisec.audit_log;

--
-- Tampering around redaction (a superuser with the triggers off) is caught.
--
-- A detail removed behind aisec's back, with no audit.redact record:
BEGIN;
ALTER TABLE aisec.audit_log DISABLE TRIGGER ALL;
UPDATE aisec.audit_log SET detail = NULL WHERE seq = :other_seq;
SELECT ok, first_bad_seq = :other_seq AS names_entry, regexp_replace(detail, '\d+', 'N') AS detail
FROM aisec.audit_verify();
SELECT aisec.audit_verify_digest(:'d');
ROLLBACK;
-- ... pointing to the record of another entry's redaction:
BEGIN;
ALTER TABLE aisec.audit_log DISABLE TRIGGER ALL;
UPDATE aisec.audit_log SET detail = NULL,
    redacted_in = (SELECT redacted_in FROM aisec.audit_log WHERE seq = :pii_seq)
WHERE seq = :other_seq;
SELECT ok, first_bad_seq = :other_seq AS names_entry FROM aisec.audit_verify();
ROLLBACK;
-- ... or to an entry before it:
BEGIN;
ALTER TABLE aisec.audit_log DISABLE TRIGGER ALL;
UPDATE aisec.audit_log SET detail = NULL, redacted_in = 1 WHERE seq = :other_seq;
SELECT ok, first_bad_seq = :other_seq AS names_entry FROM aisec.audit_verify();
ROLLBACK;
-- A detail changed, its detail_sha256 left alone:
BEGIN;
ALTER TABLE aisec.audit_log DISABLE TRIGGER ALL;
UPDATE aisec.audit_log SET detail = '{"n": 3}' WHERE seq = :other_seq;
SELECT ok, first_bad_seq = :other_seq AS names_entry, regexp_replace(detail, '\d+', 'N') AS detail
FROM aisec.audit_verify();
ROLLBACK;
-- ... and with detail_sha256 recomputed to match (the hash covers it):
BEGIN;
ALTER TABLE aisec.audit_log DISABLE TRIGGER ALL;
UPDATE aisec.audit_log SET detail = '{"n": 3}', detail_sha256 = sha256(convert_to('{"n": 3}', 'UTF8'))
WHERE seq = :other_seq;
SELECT ok, first_bad_seq = :other_seq AS names_entry FROM aisec.audit_verify();
ROLLBACK;
-- An entry passed off as v1 (detail_sha256 removed):
BEGIN;
ALTER TABLE aisec.audit_log DISABLE TRIGGER ALL;
UPDATE aisec.audit_log SET detail_sha256 = NULL WHERE seq = :other_seq;
SELECT ok, first_bad_seq = :other_seq AS names_entry FROM aisec.audit_verify();
ROLLBACK;
-- The redaction record's reason rewritten:
BEGIN;
ALTER TABLE aisec.audit_log DISABLE TRIGGER ALL;
UPDATE aisec.audit_log SET detail = jsonb_set(detail, '{reason}', '"nothing"')
WHERE seq = (SELECT redacted_in FROM aisec.audit_log WHERE seq = :pii_seq);
SELECT ok, first_bad_seq = :pii_seq AS names_redacted_entry FROM aisec.audit_verify();
ROLLBACK;
-- The redacted entry's other fields changed:
BEGIN;
ALTER TABLE aisec.audit_log DISABLE TRIGGER ALL;
UPDATE aisec.audit_log SET object = 'ticket 1' WHERE seq = :pii_seq;
SELECT ok, first_bad_seq = :pii_seq AS names_entry FROM aisec.audit_verify();
SELECT aisec.audit_verify_digest(:'d');
ROLLBACK;
-- A damaged entry is not redacted (that would hide the damage):
BEGIN;
ALTER TABLE aisec.audit_log DISABLE TRIGGER ALL;
UPDATE aisec.audit_log SET object = 'ticket 1' WHERE seq = :other_seq;
SET LOCAL ROLE ra_dpo;
SELECT pg_temp.try('SELECT aisec.redact_audit(' || :other_seq || ', ''x'')') AS damaged;
ROLLBACK;
SELECT ok FROM aisec.audit_verify();

DROP OWNED BY ra_nobody;
DROP ROLE ra_adm, ra_dpo, ra_aud, ra_eng, ra_nobody;
