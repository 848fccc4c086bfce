-- GDPR erasure, second slice (issue 18, doc/erasure.md): the dry run over
-- history, versions and lineage, and aisec.erase(): live rows deleted,
-- every history record of the subject's rows redacted in every version,
-- while every version still verifies.

CREATE ROLE ex_adm IN ROLE aisec_admin;
CREATE ROLE ex_dpo1 IN ROLE aisec_dpo;
CREATE ROLE ex_dpo2 IN ROLE aisec_dpo;
CREATE ROLE ex_eng IN ROLE aisec_engineer;
SELECT coalesce(max(seq), 0) AS seq0 FROM aisec.audit_log \gset
SELECT aisec.require_erasure_approval(false);

-- Training data: customers and orders (tracked, one dataset), features
-- derived from orders by INSERT ... SELECT (tracked, lineage recorded),
-- and an untracked contact log.
CREATE TABLE ex_customers (id int PRIMARY KEY, email text, name text);
CREATE INDEX ex_customers_email ON ex_customers (email);
CREATE TABLE ex_orders (order_id int PRIMARY KEY, email text, amount numeric);
CREATE TABLE ex_features (order_id int, amount_band int);
CREATE TABLE ex_log (email text, note text);
INSERT INTO ex_customers VALUES (1, 'alice@example.com', 'Alice'), (2, 'bob@example.com', 'Bob'),
    (3, 'carol@example.com', 'Carol');
INSERT INTO ex_orders VALUES (10, 'alice@example.com', 100), (11, 'alice@example.com', 250),
    (12, 'bob@example.com', 75), (13, 'carol@example.com', 20);
INSERT INTO ex_log VALUES ('alice@example.com', 'called about alice'), ('bob@example.com', 'bob wrote');
SELECT aisec.track('ex_customers') > 0 AS tracked, aisec.track('ex_orders') > 0 AS tracked,
       aisec.track('ex_features') > 0 AS tracked;
SELECT aisec.create_dataset('ex_ds', ARRAY['ex_customers', 'ex_orders', 'ex_features']::regclass[]) > 0 AS created;
INSERT INTO ex_features SELECT order_id, (amount / 100)::int FROM ex_orders;
SELECT aisec.commit('ex_ds', 'v1');
-- Version 2: Alice renamed, one of her orders gone.
UPDATE ex_customers SET name = 'Alice A.' WHERE id = 1;
DELETE FROM ex_orders WHERE order_id = 11;
SELECT aisec.commit('ex_ds', 'v2');
-- Version 3: Alice's customer row no longer holds her old e-mail; only
-- its history does.
UPDATE ex_customers SET email = 'alice.new@example.com' WHERE id = 1;
SELECT aisec.commit('ex_ds', 'v3');
-- Uncommitted: a new order of Alice's, Bob renamed.
INSERT INTO ex_orders VALUES (14, 'alice@example.com', 5);
UPDATE ex_customers SET name = 'Bobby' WHERE id = 2;

SELECT history AS hist_c, ended AS ended_c FROM aisec.tracked WHERE rel = 'ex_customers'::regclass \gset
SELECT history AS hist_o FROM aisec.tracked WHERE rel = 'ex_orders'::regclass \gset
SELECT history AS hist_f FROM aisec.tracked WHERE rel = 'ex_features'::regclass \gset

-- What the history holds before: records with data, per table.
CREATE TABLE ex_before AS
SELECT 'c' AS t, rid, valid_from, hash, data::text AS data FROM :hist_c
UNION ALL SELECT 'o', rid, valid_from, hash, data::text FROM :hist_o
UNION ALL SELECT 'f', rid, valid_from, hash, data::text FROM :hist_f;
CREATE TABLE ex_checkout_before AS
SELECT v, 'c' AS t, c.aisec_rid AS rid, to_jsonb(c) AS row FROM generate_series(1, 3) v,
       aisec.checkout(NULL::ex_customers, v) c
UNION ALL
SELECT v, 'o', o.aisec_rid, to_jsonb(o) FROM generate_series(1, 3) v, aisec.checkout(NULL::ex_orders, v) o;
SELECT aisec_rid AS alice_rid FROM ex_customers WHERE id = 1 \gset

SELECT aisec.declare_subject('ex_customers', 'email');
SELECT aisec.declare_subject('ex_orders', 'email');
SELECT aisec.declare_subject('ex_log', 'email');

SET SESSION AUTHORIZATION ex_dpo1;
SELECT aisec.request_erasure('alice@example.com', 'EX-1') > 0 AS registered;

--
-- 1. The dry run: per table the live rows erase deletes (the customer row
--    found through its history, though it no longer holds the e-mail;
--    the uncommitted order too), the history records it redacts (the
--    uncommitted order has none), the committed versions holding them,
--    and the rows derived from them, counted in the table they are in (the
--    two features made from Alice's orders; sql/zzz_erasure_derived.sql).
--    The untracked log has no history: NULL.
--
SELECT * FROM aisec.erasure_preview('EX-1', 'alice@example.com');
RESET SESSION AUTHORIZATION;

--
-- 2. Who may erase, and when.
--
SET SESSION AUTHORIZATION ex_eng;
SELECT aisec.erase('EX-1', 'alice@example.com');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION ex_adm;
SELECT aisec.erase('EX-1', 'alice@example.com');
SELECT aisec.require_erasure_approval(true);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION ex_dpo1;
-- Not approved while approval is required.
SELECT aisec.erase('EX-1', 'alice@example.com');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION ex_dpo2;
SELECT aisec.approve_erasure('EX-1');
-- The wrong subject, a NULL or empty one, an unknown request.
SELECT aisec.erase('EX-1', 'bob@example.com');
SELECT aisec.erase('EX-1', 'ALICE@example.com');
SELECT aisec.erase('EX-1', NULL);
SELECT aisec.erase('EX-1', '');
SELECT aisec.erase('EX-404', 'alice@example.com');
-- Read-only transactions change nothing.
BEGIN READ ONLY;
SELECT aisec.erase('EX-1', 'alice@example.com');
ROLLBACK;
-- A transaction snapshot could miss rows committed before the tables
-- were locked: only READ COMMITTED.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT aisec.erase('EX-1', 'alice@example.com');
ROLLBACK;

--
-- 3. An erasure rolled back leaves everything as it was.
--
BEGIN;
SELECT (aisec.erase('EX-1', 'alice@example.com'))->'live_rows_deleted' AS deleted;
ROLLBACK;
RESET SESSION AUTHORIZATION;
SELECT (SELECT count(*) FROM ex_customers) AS customers, (SELECT count(*) FROM ex_orders) AS orders,
       (SELECT count(*) FROM ex_log) AS log;
SELECT count(*) AS records_with_data FROM (
    SELECT data::text AS data FROM :hist_c UNION ALL SELECT data::text FROM :hist_o) h WHERE data IS NOT NULL;
SELECT status FROM aisec.erasure_requests WHERE reference = 'EX-1';
SELECT count(*) AS erased_ids FROM aisec.erasure_row WHERE request_id IN (SELECT id FROM aisec.erasure_requests WHERE reference LIKE 'EX-%');

--
-- 4. The erasure.  A DELETE trigger a table owner wrote would run with the
--    extension owner's rights: refused, nothing changed.
--
CREATE FUNCTION ex_log_trigger() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN OLD; END$$;
ALTER FUNCTION ex_log_trigger() OWNER TO ex_eng;
CREATE TRIGGER ex_log_del BEFORE DELETE ON ex_log FOR EACH ROW EXECUTE FUNCTION ex_log_trigger();
SET SESSION AUTHORIZATION ex_dpo1;
SELECT aisec.erase('EX-1', 'alice@example.com');
RESET SESSION AUTHORIZATION;
SELECT count(*) AS customers FROM ex_customers;
-- Disabled, it no longer runs: erasure goes ahead.
ALTER TABLE ex_log DISABLE TRIGGER ex_log_del;
SET SESSION AUTHORIZATION ex_dpo1;
SELECT jsonb_pretty(aisec.erase('EX-1', 'alice@example.com') - 'id' - 'subject_hash' - 'row_ids_sha256' - '{format,legal_basis,requested_by,requested_at,due,approved_by,approved_at,executed_at,executed_by,audit,vacuum,post_check,signature}'::text[]);
-- A second erasure of the same request is refused.
SELECT aisec.erase('EX-1', 'alice@example.com');
SELECT reference, status, approved_by FROM aisec.erasure_requests WHERE reference = 'EX-1';
-- The preview now finds nothing left.
SELECT * FROM aisec.erasure_preview('EX-1', 'alice@example.com');
RESET SESSION AUTHORIZATION;

--
-- 5. What is left.  The subject's value is in no live table, no history
--    record and no audit entry; the erased row ids are kept.
--
SELECT count(*) AS live_with_alice FROM (
    SELECT c::text AS r FROM ex_customers c UNION ALL SELECT o::text FROM ex_orders o
    UNION ALL SELECT l::text FROM ex_log l) x WHERE r LIKE '%alice%';
SELECT count(*) AS history_with_alice FROM (
    SELECT h::text AS r FROM :hist_c h UNION ALL SELECT h::text FROM :hist_o h) x
WHERE r LIKE '%alice%' OR r LIKE '%Alice%';
SELECT count(*) AS audit_with_alice FROM aisec.audit_log
WHERE seq > :seq0 AND (detail::text LIKE '%alice%' OR object LIKE '%alice%');
SELECT rid = :alice_rid AS is_alices_customer_row, rid >> 40 = (SELECT table_no FROM aisec.tracked WHERE rel = 'ex_customers'::regclass) AS customers
FROM aisec.erasure_row WHERE request_id IN (SELECT id FROM aisec.erasure_requests WHERE reference LIKE 'EX-%') ORDER BY rid LIMIT 1;
SELECT count(*) AS erased_ids FROM aisec.erasure_row WHERE request_id IN (SELECT id FROM aisec.erasure_requests WHERE reference LIKE 'EX-%');
-- Redacted records keep rid, valid_from and hash; data and salt are gone.
SELECT b.t, count(*) AS records, count(*) FILTER (WHERE h.hash = b.hash) AS hash_kept,
       count(*) FILTER (WHERE h.data IS NULL AND h.salt IS NULL) AS redacted
FROM ex_before b
JOIN (SELECT 'c' AS t, rid, valid_from, salt, hash, data::text AS data FROM :hist_c
      UNION ALL SELECT 'o', rid, valid_from, salt, hash, data::text FROM :hist_o) h
  ON h.t = b.t AND h.rid = b.rid AND h.valid_from = b.valid_from
WHERE b.data LIKE '%alice@%' OR b.rid = :alice_rid
GROUP BY b.t ORDER BY b.t;
-- Every other record is exactly as it was (Bob's uncommitted rename
-- included), but for the features derived from Alice's orders, erased
-- too (sql/zzz_erasure_derived.sql).
SELECT count(*) AS other_records_changed
FROM ex_before b
LEFT JOIN (SELECT 'c' AS t, rid, valid_from, hash, data::text AS data FROM :hist_c
           UNION ALL SELECT 'o', rid, valid_from, hash, data::text FROM :hist_o
           UNION ALL SELECT 'f', rid, valid_from, hash, data::text FROM :hist_f) h
  ON h.t = b.t AND h.rid = b.rid AND h.valid_from = b.valid_from
WHERE NOT (b.data LIKE '%alice@%' OR b.rid = :alice_rid)
  AND NOT (b.t = 'f' AND EXISTS (SELECT FROM aisec.erasure_row e WHERE e.rid = b.rid AND e.request_id IN (SELECT id FROM aisec.erasure_requests WHERE reference LIKE 'EX-%')))
  AND (h.data IS DISTINCT FROM b.data OR h.hash IS DISTINCT FROM b.hash);
SELECT id, email, name FROM ex_customers ORDER BY id;
SELECT order_id, email, amount FROM ex_orders ORDER BY order_id;
SELECT * FROM ex_log;
SELECT count(*) AS features FROM ex_features;

--
-- 6. Every version still verifies; old versions check out without the
--    subject's rows and with every other row as before; diff works.
--
SELECT ok, count(*) FROM aisec.verify('ex_ds') GROUP BY ok;
SELECT v, t, count(*) AS rows_left_out
FROM ex_checkout_before b
WHERE NOT EXISTS (
    SELECT FROM aisec.checkout(NULL::ex_customers, b.v) c WHERE b.t = 'c' AND to_jsonb(c) = b.row
    UNION ALL
    SELECT FROM aisec.checkout(NULL::ex_orders, b.v) o WHERE b.t = 'o' AND to_jsonb(o) = b.row)
GROUP BY v, t ORDER BY v, t;
SELECT v, count(*) AS rows_now FROM generate_series(1, 3) v, aisec.checkout(NULL::ex_customers, v)
GROUP BY v ORDER BY v;
-- Alice's customer row changed between versions 1 and 3: diff cannot
-- compare redacted records, so it reports the row as erased (doc/erasure.md,
-- "Versions after an erasure").
SELECT change, count(*) FROM aisec.diff('ex_customers', 1, 3) GROUP BY change ORDER BY change;
-- Diff by row id or by key reports her order 10 (in version 2) as
-- erased, with no image, and diff_summary counts her order 11 (removed by
-- version 2) as erased.
SELECT change, before IS NULL AS no_before, after IS NULL AS no_after, count(*)
FROM aisec.diff('ex_orders', 0, 2) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
SELECT change, count(*) FROM aisec.diff('ex_orders', 0, 2, ARRAY['order_id']) GROUP BY change ORDER BY change;
SELECT * FROM aisec.diff_summary('ex_orders', 1, 2);
-- The next commit records the deletions; it verifies too.
SELECT aisec.commit('ex_ds', 'after erasure');
SELECT count(*) AS rows_v4 FROM aisec.checkout(NULL::ex_customers, 4);
SELECT ok, count(*) FROM aisec.verify('ex_ds') GROUP BY ok;

--
-- 7. Reverting to a version from before the erasure does not bring the
--    subject's rows back: their records are redacted, so they are in no
--    version.
--
SELECT * FROM aisec.revert('ex_ds', 1);
SELECT id, email, name FROM ex_customers ORDER BY id;
SELECT order_id, email FROM ex_orders ORDER BY order_id;

--
-- 8. verify accepts a redacted record only where an erasure authorizes
--    it: a superuser who blanks Bob's record behind aisec's back is
--    reported.
--
SELECT aisec_rid AS bob_rid FROM ex_customers WHERE id = 2 \gset
ALTER TABLE :hist_c DISABLE TRIGGER ALL;
UPDATE :hist_c SET data = NULL, salt = NULL WHERE rid = :bob_rid AND valid_from = 1;
ALTER TABLE :hist_c ENABLE TRIGGER ALL;
SELECT version, ok, replace(regexp_replace(actual, '[0-9a-f]{64}', '<fingerprint>'), :'bob_rid', '<Bob''s row>') AS actual
FROM aisec.verify('ex_ds') WHERE NOT ok ORDER BY version NULLS FIRST, actual LIMIT 3;

--
-- 9. With approval off, a request runs without it; a subject in no row
--    erases nothing, and says so.
--
SET SESSION AUTHORIZATION ex_adm;
SELECT aisec.require_erasure_approval(false);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION ex_dpo1;
SELECT aisec.request_erasure('dave@example.com', 'EX-2') > 0 AS registered;
SELECT aisec.erase('EX-2', 'dave@example.com') - 'id' - 'subject_hash' - 'row_ids_sha256' - '{format,legal_basis,requested_by,requested_at,due,approved_by,approved_at,executed_at,executed_by,audit,vacuum,post_check,signature}'::text[];
SELECT aisec.request_erasure('carol@example.com', 'EX-3') > 0 AS registered;
SELECT (aisec.erase('EX-3', 'carol@example.com'))->'live_rows_deleted' AS deleted;
RESET SESSION AUTHORIZATION;
SELECT count(*) AS carol_left FROM ex_customers WHERE email LIKE 'carol%';

--
-- 10. Hostile names: a tracked table and a subject column that need
--    quoting, in live rows and in the history's row data.
--
CREATE SCHEMA "ex.s""x";
CREATE TABLE "ex.s""x"."odd ""tab.le" ("e.mail""" text, n int);
INSERT INTO "ex.s""x"."odd ""tab.le" VALUES ('erin@example.com', 1), ('erin@example.com', 2), ('frank@example.com', 3);
SELECT aisec.track('"ex.s""x"."odd ""tab.le"') > 0 AS tracked;
SELECT aisec.create_dataset('ex_odd', ARRAY['"ex.s""x"."odd ""tab.le"']::regclass[]) > 0 AS created;
SELECT aisec.commit('ex_odd', 'v1');
UPDATE "ex.s""x"."odd ""tab.le" SET "e.mail""" = 'erin.new@example.com' WHERE n = 2;
SELECT aisec.commit('ex_odd', 'v2');
SELECT aisec.declare_subject('"ex.s""x"."odd ""tab.le"', 'e.mail"');
SET SESSION AUTHORIZATION ex_dpo1;
SELECT aisec.request_erasure('erin@example.com', 'EX-4') > 0 AS registered;
SELECT * FROM aisec.erasure_preview('EX-4', 'erin@example.com') WHERE rel::text LIKE '%odd%';
SELECT (aisec.erase('EX-4', 'erin@example.com'))->'tables' @> '[{"live_rows_deleted": 2, "history_records_redacted": 3, "versions": [1, 2]}]' AS as_previewed;
RESET SESSION AUTHORIZATION;
SELECT "e.mail""", n FROM "ex.s""x"."odd ""tab.le";
SELECT ok, count(*) FROM aisec.verify('ex_odd') GROUP BY ok;
SELECT n FROM aisec.checkout(NULL::"ex.s""x"."odd ""tab.le", 1) ORDER BY n;
SELECT aisec.drop_dataset('ex_odd', keep_history => false);

-- The audit entries: keyed hash and counts, never the subject.
SELECT action, object, detail->'live_rows_deleted' AS live, detail->'history_records_redacted' AS redacted,
       detail->'row_ids' AS row_ids, detail->>'subject_hash' = r.subject_hash AS hash_as_in_register
FROM aisec.audit_log a JOIN aisec.erasure_requests r ON r.reference = a.object
WHERE a.seq > :seq0 AND a.action = 'erasure.execute' ORDER BY a.seq;
SELECT ok AS chain_ok FROM aisec.audit_verify();

-- Direct writes to the erased row ids are refused.
DELETE FROM aisec.erasure_row;

-- Clean up.
SELECT count(*) AS undeclared FROM (SELECT aisec.undeclare_subject(rel, attname) FROM aisec.erasure_subject) u;
SELECT aisec.drop_dataset('ex_ds', keep_history => false);
DROP TABLE ex_customers, ex_orders, ex_features, ex_log, ex_before, ex_checkout_before,
    "ex.s""x"."odd ""tab.le";
DROP SCHEMA "ex.s""x";
DROP FUNCTION ex_log_trigger();
DROP ROLE ex_adm, ex_dpo1, ex_dpo2, ex_eng;
