-- GDPR erasure after a restore (issue 18 item 8, doc/erasure.md "After a
-- restore"): aisec.reapply_erasures() re-erases every executed request
-- from the row ids aisec.erasure_row keeps, without the subjects.  The
-- restore of an older backup is played here by a superuser who puts the
-- erased history data back, triggers off (test/t/082_erasure_reapply.pl
-- restores a real dump, live rows included).  Other tests' requests stay in the register: output is
-- filtered to this test's references (RA-...).

CREATE ROLE ra_adm IN ROLE aisec_admin;
CREATE ROLE ra_dpo IN ROLE aisec_dpo;
CREATE ROLE ra_eng IN ROLE aisec_engineer;
CREATE ROLE ra_aud IN ROLE aisec_auditor;
SELECT coalesce(max(seq), 0) AS seq0 FROM aisec.audit_log \gset
SELECT aisec.require_erasure_approval(false) IS NOT NULL AS approval_off;

CREATE TABLE ra_customers (id int PRIMARY KEY, email text, name text);
CREATE INDEX ON ra_customers (email);
CREATE TABLE ra_orders (order_id int PRIMARY KEY, email text, amount numeric);
CREATE TABLE ra_log (email text, note text);
INSERT INTO ra_customers VALUES (1, 'ra-alice@example.com', 'Alice'), (2, 'bob@example.com', 'Bob');
INSERT INTO ra_orders VALUES (10, 'ra-alice@example.com', 100), (11, 'ra-alice@example.com', 250),
    (12, 'bob@example.com', 75);
INSERT INTO ra_log VALUES ('ra-alice@example.com', 'alice called'), ('bob@example.com', 'bob wrote');
SELECT aisec.track('ra_customers') > 0 AS tracked, aisec.track('ra_orders') > 0 AS tracked;
SELECT aisec.create_dataset('ra_ds', ARRAY['ra_customers', 'ra_orders']::regclass[]) > 0 AS created;
SELECT aisec.commit('ra_ds', 'v1');
UPDATE ra_customers SET name = 'Alice A.' WHERE id = 1;
DELETE FROM ra_orders WHERE order_id = 11;
SELECT aisec.commit('ra_ds', 'v2');
SELECT aisec.declare_subject('ra_customers', 'email');
SELECT aisec.declare_subject('ra_orders', 'email');
SELECT aisec.declare_subject('ra_log', 'email');

SELECT history AS hist_c FROM aisec.tracked WHERE rel = 'ra_customers'::regclass \gset
SELECT history AS hist_o FROM aisec.tracked WHERE rel = 'ra_orders'::regclass \gset

-- "The backup": the history as they are before the erasure.
CREATE TABLE ra_backup_hc AS SELECT * FROM :hist_c;
CREATE TABLE ra_backup_ho AS SELECT * FROM :hist_o;

SET SESSION AUTHORIZATION ra_dpo;
SELECT aisec.request_erasure('ra-alice@example.com', 'RA-1') > 0 AS registered;
SELECT (aisec.erase('RA-1', 'ra-alice@example.com'))->'live_rows_deleted' AS deleted;
RESET SESSION AUTHORIZATION;
SELECT aisec.commit('ra_ds', 'v3 after erasure');

-- Nothing to reapply yet: only the untracked table is reported (its rows
-- have no ids), with NULL counts.
SET client_min_messages = warning;
SET SESSION AUTHORIZATION ra_dpo;
SELECT * FROM aisec.reapply_erasures() WHERE reference LIKE 'RA-%';
RESET SESSION AUTHORIZATION;

--
-- 1. Who may reapply: DPO only, read-write, at READ COMMITTED.
--
SET SESSION AUTHORIZATION ra_eng;
SELECT * FROM aisec.reapply_erasures();
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION ra_adm;
SELECT * FROM aisec.reapply_erasures();
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION ra_aud;
SELECT * FROM aisec.reapply_erasures();
RESET SESSION AUTHORIZATION;
-- The role is checked in C too: an EXECUTE granted by mistake does not
-- let an engineer in.
GRANT EXECUTE ON FUNCTION aisec.reapply_erasures() TO ra_eng;
SET SESSION AUTHORIZATION ra_eng;
SELECT * FROM aisec.reapply_erasures();
RESET SESSION AUTHORIZATION;
REVOKE EXECUTE ON FUNCTION aisec.reapply_erasures() FROM ra_eng;
SET SESSION AUTHORIZATION ra_dpo;
BEGIN READ ONLY;
SELECT * FROM aisec.reapply_erasures();
ROLLBACK;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM aisec.reapply_erasures();
ROLLBACK;
RESET SESSION AUTHORIZATION;

--
-- 2. "The restore": the history data of Alice's rows comes back, and the
--    register shows her request as not executed (the backup's row kept
--    when the newer register was merged in).  Her live rows cannot be put
--    back with their row ids here (capture refuses an id its history
--    names; pg_restore may): test/t/082_erasure_reapply.pl restores a
--    real dump, live rows included, and plays the DELETE trigger refusal.
--
ALTER TABLE ra_log DISABLE TRIGGER ALL;
ALTER TABLE :hist_c DISABLE TRIGGER ALL;
ALTER TABLE :hist_o DISABLE TRIGGER ALL;
ALTER TABLE aisec.erasure_request DISABLE TRIGGER ALL;
INSERT INTO ra_log VALUES ('ra-alice@example.com', 'alice called');
UPDATE :hist_c h SET data = b.data, salt = b.salt FROM ra_backup_hc b
WHERE h.rid = b.rid AND h.valid_from = b.valid_from AND h.data IS NULL;
UPDATE :hist_o h SET data = b.data, salt = b.salt FROM ra_backup_ho b
WHERE h.rid = b.rid AND h.valid_from = b.valid_from AND h.data IS NULL;
UPDATE aisec.erasure_request SET executed_at = NULL WHERE reference = 'RA-1';
ALTER TABLE ra_log ENABLE TRIGGER ALL;
ALTER TABLE :hist_c ENABLE TRIGGER ALL;
ALTER TABLE :hist_o ENABLE TRIGGER ALL;
ALTER TABLE aisec.erasure_request ENABLE TRIGGER ALL;
SELECT (SELECT count(*) FROM :hist_c h WHERE h.data::text LIKE '%alice%') AS hist_c,
       (SELECT count(*) FROM :hist_o h WHERE h.data::text LIKE '%alice%') AS hist_o,
       (SELECT status FROM aisec.erasure_requests WHERE reference = 'RA-1') AS status;

--
-- 3. A DELETE trigger a table owner wrote would run with the extension
--    owner's rights; with no live row to delete, it is not in the way of
--    the history's redaction.
--
CREATE FUNCTION ra_trigger() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN OLD; END$$;
ALTER FUNCTION ra_trigger() OWNER TO ra_eng;
CREATE TRIGGER ra_del BEFORE DELETE ON ra_orders FOR EACH ROW EXECUTE FUNCTION ra_trigger();

--
-- 4. Reapply: per request and table, the live rows deleted and history
--    records redacted; the untracked log reported with NULL counts (its
--    rows have no ids: a new request, erased with the subject, is needed).
--    The request is marked executed again.
--
SET SESSION AUTHORIZATION ra_dpo;
SELECT * FROM aisec.reapply_erasures() WHERE reference LIKE 'RA-%';
SELECT status, executed_at > now() - interval '1 hour' AS executed_now
FROM aisec.erasure_requests WHERE reference = 'RA-1';
-- Idempotent: a second call finds nothing.
SELECT * FROM aisec.reapply_erasures() WHERE reference LIKE 'RA-%';
RESET SESSION AUTHORIZATION;

--
-- 5. The post-check: no live row holds an erased id, no history record of
--    one holds data, every version verifies, the preview finds only the
--    untracked log's row; the subject is in no audit entry.
--
SELECT count(*) AS live_erased_ids FROM (
    SELECT aisec_rid FROM ra_customers UNION ALL SELECT aisec_rid FROM ra_orders) l
WHERE aisec_rid IN (SELECT rid FROM aisec.erasure_row);
SELECT count(*) AS history_with_data FROM (
    SELECT rid, data::text AS data, salt FROM :hist_c UNION ALL SELECT rid, data::text, salt FROM :hist_o) h
WHERE h.rid IN (SELECT rid FROM aisec.erasure_row) AND (h.data IS NOT NULL OR h.salt IS NOT NULL);
SELECT ok, count(*) FROM aisec.verify('ra_ds') GROUP BY ok;
SET SESSION AUTHORIZATION ra_dpo;
SELECT * FROM aisec.erasure_preview('RA-1', 'ra-alice@example.com');
RESET SESSION AUTHORIZATION;
SELECT id, email, name FROM ra_customers ORDER BY id;
SELECT * FROM ra_log ORDER BY email;
-- No live row changed (capture recorded nothing): a commit now makes no
-- new version, and every version still verifies.
SELECT aisec.commit('ra_ds', 'nothing new');
SELECT ok, count(*) FROM aisec.verify('ra_ds') GROUP BY ok;

-- The audit entries: counts only, never the subject.
SELECT action, object, detail->'requests' AS requests, detail->'marked_executed' AS marked,
       detail->'live_rows_deleted' AS live, detail->'history_records_redacted' AS redacted,
       detail->'tables' AS tables
FROM aisec.audit_log WHERE seq > :seq0 AND action = 'erasure.reapply' ORDER BY seq;
SELECT count(*) AS audit_with_alice FROM aisec.audit_log
WHERE seq > :seq0 AND (detail::text ILIKE '%alice%' OR object ILIKE '%alice%');
SELECT ok AS chain_ok FROM aisec.audit_verify();
RESET client_min_messages;

-- Clean up.
SELECT aisec.undeclare_subject('ra_customers', 'email'), aisec.undeclare_subject('ra_orders', 'email'),
       aisec.undeclare_subject('ra_log', 'email');
SELECT aisec.drop_dataset('ra_ds', keep_history => false);
DROP TABLE ra_customers, ra_orders, ra_log, ra_backup_hc, ra_backup_ho;
DROP FUNCTION ra_trigger();
DROP ROLE ra_adm, ra_dpo, ra_eng, ra_aud;
