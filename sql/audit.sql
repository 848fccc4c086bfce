-- The tamper-evident audit log: appending, verifying, refusing changes,
-- catching tampering, and signed digests.
--
-- Tests run as a superuser; roles below stand in for people.
CREATE ROLE regress_audit_admin IN ROLE aisec_admin;
CREATE ROLE regress_audit_auditor IN ROLE aisec_auditor;
CREATE ROLE regress_audit_engineer IN ROLE aisec_engineer;
CREATE ROLE regress_audit_nobody;
GRANT USAGE ON SCHEMA aisec TO regress_audit_nobody;

-- An empty log verifies, with nothing in it.
SELECT * FROM aisec.audit_verify();

--
-- Appending.  aisec.audit() returns the new entry's seq: 1, 2, 3, ...
--
SELECT aisec.audit('dataset.register', 'public.loans', '{"rows": 5000}');
SELECT aisec.audit('note', NULL);                      -- object may be NULL; detail defaults to {}
SELECT aisec.audit('note', 'x', NULL);                 -- NULL detail is {} too
SET ROLE regress_audit_admin;
SELECT aisec.audit('example.set', 'public.loans.email', '{"rule": "email", "n": [1, 2.5, null, true]}');
RESET ROLE;

-- actor is the session user and login the role that logged in: SET ROLE
-- changes neither.  Times are increasing.
SELECT seq, actor = session_user AS actor_ok, login = session_user AS login_ok,
       action, object, detail,
       at <= clock_timestamp() AND at >= lag(at, 1, at) OVER (ORDER BY seq) AS at_ok
FROM aisec.audit_log ORDER BY seq;

-- The chain: the first prev_hash is 32 zero bytes, every other prev_hash is
-- the hash of the entry before.
SELECT seq, prev_hash = coalesce(lag(hash) OVER (ORDER BY seq), '\x'::bytea || decode(repeat('00', 32), 'hex')) AS linked,
       octet_length(hash) AS hash_bytes
FROM aisec.audit_log ORDER BY seq;

-- Recompute every hash here, in SQL, from the encoding documented in
-- doc/audit.md (v2: the hash covers SHA-256 of the detail's text, kept in
-- detail_sha256), with PostgreSQL's own sha256(): an independent check
-- that the C code implements the documented format.
CREATE FUNCTION pg_temp.field(t text) RETURNS bytea LANGUAGE sql AS $$
    SELECT CASE WHEN t IS NULL THEN '\xffffffff'::bytea
                ELSE int4send(octet_length(convert_to(t, 'UTF8'))) || convert_to(t, 'UTF8') END
$$;
SELECT seq,
       detail_sha256 = sha256(convert_to(detail::text, 'UTF8')) AS detail_sha256_ok,
       hash = sha256(prev_hash || convert_to('aisec.audit.v2', 'UTF8')
                     || int8send(seq)
                     || int8send((extract(epoch FROM at) * 1000000)::bigint)
                     || pg_temp.field(actor) || pg_temp.field(login)
                     || pg_temp.field(action) || pg_temp.field(object)
                     || sha256(convert_to(detail::text, 'UTF8'))) AS hash_matches_documented_encoding
FROM aisec.audit_log ORDER BY seq;

SELECT * FROM aisec.audit_verify();

--
-- Rolled-back appends leave nothing behind: the next entry reuses the seq,
-- and the chain stays intact.
--
BEGIN;
SELECT aisec.audit('will.roll.back', NULL);
ROLLBACK;
BEGIN;
SELECT aisec.audit('kept', NULL);
SAVEPOINT s;
SELECT aisec.audit('will.roll.back.to.savepoint', NULL);
ROLLBACK TO SAVEPOINT s;
SELECT aisec.audit('kept.after.savepoint', NULL);
COMMIT;
SELECT seq, action FROM aisec.audit_log WHERE seq > 4 ORDER BY seq;
SELECT * FROM aisec.audit_verify();

--
-- Bad input: clear errors, nothing appended.
--
SELECT aisec.audit(NULL, 'x');
SELECT aisec.audit('', 'x');
SELECT aisec.audit(E'two\nlines', 'x');
SELECT aisec.audit(repeat('a', 101), 'x');
SELECT aisec.audit('ok', repeat('o', 1025));
SELECT aisec.audit('ok', E'bell\x07');
SELECT aisec.audit('ok', 'x', '[1, 2]');
SELECT aisec.audit('ok', 'x', '"a string"');
SELECT aisec.audit('ok', 'x', '{"not json"');
SELECT aisec.audit('ok', 'x', jsonb_build_object('blob', repeat('x', 70000)));
SELECT max(seq) AS still_6 FROM aisec.audit_log;

-- Writing is refused in a read-only transaction.
BEGIN READ ONLY;
SELECT aisec.audit('ro', NULL);
ROLLBACK;

--
-- Who may do what.  audit() is for aisec_admin; verify and digests are for
-- aisec_admin, aisec_dpo and aisec_auditor.
--
SET ROLE regress_audit_auditor;
SELECT aisec.audit('auditor.write', NULL);
SELECT ok, entries FROM aisec.audit_verify();
SELECT count(*) FROM aisec.audit_log;
RESET ROLE;
SET ROLE regress_audit_engineer;
SELECT * FROM aisec.audit_verify();
SELECT count(*) FROM aisec.audit_log;
RESET ROLE;
SET ROLE regress_audit_nobody;
SELECT aisec.audit('nobody.write', NULL);
RESET ROLE;
-- A stray GRANT EXECUTE does not open the function: it checks roles in C.
GRANT EXECUTE ON FUNCTION aisec.audit(text, text, jsonb) TO regress_audit_nobody;
GRANT EXECUTE ON FUNCTION aisec.audit_verify() TO regress_audit_nobody;
SET ROLE regress_audit_nobody;
SELECT aisec.audit('nobody.write', NULL);
SELECT * FROM aisec.audit_verify();
RESET ROLE;
REVOKE EXECUTE ON FUNCTION aisec.audit(text, text, jsonb) FROM regress_audit_nobody;
REVOKE EXECUTE ON FUNCTION aisec.audit_verify() FROM regress_audit_nobody;

--
-- The log is append-only for every role, the owner (a superuser) included.
--
UPDATE aisec.audit_log SET detail = '{}' WHERE seq = 1;
UPDATE aisec.audit_log SET detail = '{}' WHERE false;
DELETE FROM aisec.audit_log WHERE seq = 6;
TRUNCATE aisec.audit_log;
-- session_replication_role = replica does not switch the refusal off.
SET session_replication_role = replica;
DELETE FROM aisec.audit_log;
RESET session_replication_role;
-- Nobody but the owner may insert directly.
SET ROLE regress_audit_admin;
INSERT INTO aisec.audit_log VALUES (7, now(), 'x', 'x', 'forged', NULL, '{}', '\x00', '\x00');
RESET ROLE;
SELECT * FROM aisec.audit_verify();

--
-- A superuser who switches the refusal off is caught by verify, which
-- names the first bad entry.  Each case is rolled back.
--
-- An entry changed:
BEGIN;
ALTER TABLE aisec.audit_log DISABLE TRIGGER ALL;
UPDATE aisec.audit_log SET detail = '{"rows": 4999}' WHERE seq = 1;
SELECT * FROM aisec.audit_verify();
ROLLBACK;
-- An entry deleted from the middle:
BEGIN;
ALTER TABLE aisec.audit_log DISABLE TRIGGER ALL;
DELETE FROM aisec.audit_log WHERE seq = 3;
SELECT * FROM aisec.audit_verify();
ROLLBACK;
-- An entry deleted and the rest renumbered to hide the gap:
BEGIN;
ALTER TABLE aisec.audit_log DISABLE TRIGGER ALL;
DELETE FROM aisec.audit_log WHERE seq = 3;
UPDATE aisec.audit_log SET seq = seq - 1 WHERE seq > 3;
SELECT * FROM aisec.audit_verify();
ROLLBACK;
-- Two entries swapped:
BEGIN;
ALTER TABLE aisec.audit_log DISABLE TRIGGER ALL;
UPDATE aisec.audit_log SET seq = -2 WHERE seq = 2;
UPDATE aisec.audit_log SET seq = 2 WHERE seq = 3;
UPDATE aisec.audit_log SET seq = 3 WHERE seq = -2;
SELECT * FROM aisec.audit_verify();
ROLLBACK;
-- A forged entry inserted in the middle:
BEGIN;
ALTER TABLE aisec.audit_log DISABLE TRIGGER ALL;
UPDATE aisec.audit_log SET seq = -seq WHERE seq >= 4;
UPDATE aisec.audit_log SET seq = 1 - seq WHERE seq < 0;
INSERT INTO aisec.audit_log
SELECT 4, at, actor, login, 'forged', object, detail, hash, hash FROM aisec.audit_log WHERE seq = 3;
SELECT * FROM aisec.audit_verify();
ROLLBACK;
-- A hash replaced by garbage:
BEGIN;
ALTER TABLE aisec.audit_log DISABLE TRIGGER ALL;
UPDATE aisec.audit_log SET hash = '\xdeadbeef' WHERE seq = 5;
SELECT * FROM aisec.audit_verify();
ROLLBACK;
SELECT * FROM aisec.audit_verify();

--
-- Signed digests.  A digest names the chain head (seq, hash), when it was
-- taken, and carries an Ed25519 signature over them.
--
SELECT aisec.audit_digest() AS d \gset
SELECT (:'d'::jsonb) ->> 'format' AS format,
       (:'d'::jsonb) -> 'seq' AS seq,
       (:'d'::jsonb) ->> 'hash' = (SELECT encode(hash, 'hex') FROM aisec.audit_log ORDER BY seq DESC LIMIT 1) AS hash_is_head,
       length(decode((:'d'::jsonb) ->> 'signature', 'base64')) AS signature_bytes;
-- The first digest created the signing key, which is itself audited.
SELECT seq, action, object, detail FROM aisec.audit_log WHERE action = 'key.create';
SELECT aisec.audit_verify_digest(:'d');

-- Later appends keep an earlier digest valid.
SELECT aisec.audit('after.digest', NULL);
SELECT aisec.audit_verify_digest(:'d');

-- Forged digests: any field changed breaks the signature.
SELECT aisec.audit_verify_digest(jsonb_set(:'d', '{seq}', '3'));
SELECT aisec.audit_verify_digest(jsonb_set(:'d', '{hash}', to_jsonb(repeat('ab', 32))));
SELECT aisec.audit_verify_digest(jsonb_set(:'d', '{at}', '"2020-01-01T00:00:00.000000Z"'));
SELECT aisec.audit_verify_digest(jsonb_set(:'d', '{signature}', to_jsonb(encode(decode(repeat('00', 64), 'hex'), 'base64'))));
SELECT aisec.audit_verify_digest(jsonb_set(:'d', '{signature}', '"not base64 at all!"'));
SELECT aisec.audit_verify_digest(jsonb_set(:'d', '{signature}', '""'));
SELECT aisec.audit_verify_digest(jsonb_set(:'d', '{seq}', '-1'));
-- Malformed digests are errors, not false.
SELECT aisec.audit_verify_digest(NULL);
SELECT aisec.audit_verify_digest('[]');
SELECT aisec.audit_verify_digest('{}');
SELECT aisec.audit_verify_digest((:'d'::jsonb) - 'signature');
SELECT aisec.audit_verify_digest(jsonb_set(:'d', '{seq}', '"7"'));
SELECT aisec.audit_verify_digest(jsonb_set(:'d', '{seq}', '1e30'));
SELECT aisec.audit_verify_digest(jsonb_set(:'d', '{seq}', '7.5'));
SELECT aisec.audit_verify_digest(jsonb_set(:'d', '{format}', '"aisec-audit-digest-v0"'));

-- A log rewritten after the digest was taken is detected, even when the
-- rewriter recomputes every hash after the change so verify alone passes.
BEGIN;
ALTER TABLE aisec.audit_log DISABLE TRIGGER ALL;
UPDATE aisec.audit_log SET detail = '{"rows": 1}',
    detail_sha256 = sha256(convert_to('{"rows": 1}', 'UTF8')) WHERE seq = 1;
-- recompute the chain from seq 1 on, as a careful forger would
DO $$
DECLARE
    r record;
    prev bytea := decode(repeat('00', 32), 'hex');
    h bytea;
BEGIN
    FOR r IN SELECT * FROM aisec.audit_log ORDER BY seq LOOP
        h := sha256(prev || convert_to('aisec.audit.v2', 'UTF8') || int8send(r.seq)
                    || int8send((extract(epoch FROM r.at) * 1000000)::bigint)
                    || pg_temp.field(r.actor) || pg_temp.field(r.login)
                    || pg_temp.field(r.action) || pg_temp.field(r.object)
                    || r.detail_sha256);
        UPDATE aisec.audit_log SET prev_hash = prev, hash = h WHERE seq = r.seq;
        prev := h;
    END LOOP;
END
$$;
SELECT ok FROM aisec.audit_verify();
SELECT aisec.audit_verify_digest(:'d');
ROLLBACK;
SELECT aisec.audit_verify_digest(:'d');

-- No digest is issued over a damaged chain; the error says what is wrong.
BEGIN;
ALTER TABLE aisec.audit_log DISABLE TRIGGER ALL;
UPDATE aisec.audit_log SET detail = '{"rows": 4999}' WHERE seq = 1;
SELECT aisec.audit_digest();
ROLLBACK;
BEGIN;
ALTER TABLE aisec.audit_log DISABLE TRIGGER ALL;
DELETE FROM aisec.audit_log WHERE seq = 3;
SELECT aisec.audit_digest();
ROLLBACK;
BEGIN;
ALTER TABLE aisec.audit_log DISABLE TRIGGER ALL;
DELETE FROM aisec.audit_log WHERE seq = 3;
UPDATE aisec.audit_log SET seq = seq - 1 WHERE seq > 3;
SELECT aisec.audit_digest();
ROLLBACK;

-- Digests are for aisec_admin, aisec_dpo and aisec_auditor.
SET ROLE regress_audit_auditor;
SELECT aisec.audit_verify_digest(aisec.audit_digest());
RESET ROLE;
SET ROLE regress_audit_engineer;
SELECT aisec.audit_digest();
RESET ROLE;

DROP OWNED BY regress_audit_nobody;
DROP ROLE regress_audit_admin, regress_audit_auditor, regress_audit_engineer, regress_audit_nobody;
