-- GDPR erasure, first slice (issue 18, doc/erasure.md): subject columns,
-- the erasure register, four-eyes approval, the register's view and the
-- dry run over live rows.  (Named zzz_ so that it runs last: it creates
-- aisec's reserved key $erasure, which the key tests before it do not
-- expect in the key store.)

CREATE ROLE er_adm IN ROLE aisec_admin;
CREATE ROLE er_dpo1 IN ROLE aisec_dpo;
CREATE ROLE er_dpo2 IN ROLE aisec_dpo;
CREATE ROLE er_eng IN ROLE aisec_engineer;
CREATE ROLE er_aud IN ROLE aisec_auditor;
CREATE ROLE er_nobody;
SELECT coalesce(max(seq), 0) AS seq0 FROM aisec.audit_log \gset

-- Training data: customers (e-mail indexed), a table with hostile names
-- and no index, orders with an integer and a varchar subject column, and
-- a partitioned table.
CREATE TABLE customers (id int PRIMARY KEY, email text, name text);
CREATE INDEX customers_email ON customers (email);
INSERT INTO customers VALUES (1, 'alice@example.com', 'Alice'), (2, 'bob@example.com', 'Bob'),
    (3, 'alice@example.com', 'Alice again'), (4, 'carol@example.com', NULL), (5, NULL, 'nobody');
CREATE SCHEMA "er.s""x";
CREATE TABLE "er.s""x"."odd ""tab.le" ("e.mail""" text, n int);
INSERT INTO "er.s""x"."odd ""tab.le" VALUES ('alice@example.com', 1), ('alice@example.com', 2),
    ('alice@example.com', 3), ('bob@example.com', 4), ('ALICE@example.com', 5), ('', 6);
CREATE TABLE orders (order_id int, customer_id int, email varchar(40));
INSERT INTO orders VALUES (10, 1, 'alice@example.com'), (11, 42, 'bob@example.com'), (12, 42, NULL);
CREATE TABLE events (email text, at date) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO events VALUES ('alice@example.com', '2025-03-01'), ('alice@example.com', '2026-03-01'),
    ('bob@example.com', '2026-04-01');

--
-- 1. declare_subject: admin or DPO, with SELECT on the column.
--
SET SESSION AUTHORIZATION er_eng;
SELECT aisec.declare_subject('customers', 'email');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION er_nobody;
SELECT aisec.declare_subject('customers', 'email');
RESET SESSION AUTHORIZATION;
-- An admin who may not read the table may not make its column searchable.
SET SESSION AUTHORIZATION er_adm;
SELECT aisec.declare_subject('customers', 'email');
RESET SESSION AUTHORIZATION;
GRANT SELECT (email) ON customers TO er_adm;
GRANT SELECT ON "er.s""x"."odd ""tab.le", orders, events TO er_dpo1;
GRANT USAGE ON SCHEMA "er.s""x" TO er_dpo1;
SET SESSION AUTHORIZATION er_adm;
SELECT aisec.declare_subject('customers', 'email');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION er_dpo1;
SELECT aisec.declare_subject('"er.s""x"."odd ""tab.le"', 'e.mail"');
SELECT aisec.declare_subject('orders', 'customer_id');
SELECT aisec.declare_subject('orders', 'email');
SELECT aisec.declare_subject('events', 'email');
RESET SESSION AUTHORIZATION;
-- Declaring twice is an error, not a no-op.
SELECT aisec.declare_subject('customers', 'email');

-- What is refused, each with its SQLSTATE.
\set VERBOSITY sqlstate
SELECT aisec.declare_subject(NULL, 'email');
SELECT aisec.declare_subject('customers', NULL);
\set VERBOSITY default
SELECT aisec.declare_subject('customers', 'no_such_column');
SELECT aisec.declare_subject('customers', 'ctid');
CREATE TABLE er_with_rid (aisec_rid bigint, email text);
SELECT aisec.declare_subject('er_with_rid', 'aisec_rid');
CREATE VIEW er_view AS SELECT email FROM customers;
SELECT aisec.declare_subject('er_view', 'email');
CREATE MATERIALIZED VIEW er_matview AS SELECT email FROM customers;
SELECT aisec.declare_subject('er_matview', 'email');
CREATE SEQUENCE er_seq;
SELECT aisec.declare_subject('er_seq', 'last_value');
SELECT aisec.declare_subject('pg_catalog.pg_authid', 'rolname');
SELECT aisec.declare_subject('aisec.audit_log', 'actor');
SELECT aisec.declare_subject('aisec.erasure_request', 'reference');
SELECT aisec.declare_subject('events_2025', 'email');
CREATE TEMP TABLE er_temp (email text);
SELECT aisec.declare_subject('er_temp', 'email');
-- A type with no equality operator, and one whose default equality
-- operator a user made (a preview would run it as the extension owner).
CREATE TABLE er_points (p point, q point);
SELECT aisec.declare_subject('er_points', 'p');
CREATE FUNCTION er_point_eq(point, point) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 ~= $2';
CREATE OPERATOR public.= (LEFTARG = point, RIGHTARG = point, FUNCTION = er_point_eq);
CREATE FUNCTION er_point_hash(point) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT hashtext($1::text)';
CREATE OPERATOR CLASS er_point_ops DEFAULT FOR TYPE point USING hash AS
    OPERATOR 1 public.= (point, point), FUNCTION 1 er_point_hash(point);
SELECT aisec.declare_subject('er_points', 'q');
DROP OPERATOR CLASS er_point_ops USING hash;
DROP OPERATOR public.= (point, point);
-- A domain over text is fine: compared as text.
CREATE DOMAIN er_email AS text CHECK (VALUE LIKE '%@%');
CREATE TABLE er_domain (email er_email);
INSERT INTO er_domain VALUES ('alice@example.com');
SELECT aisec.declare_subject('er_domain', 'email');
-- In a read-only transaction: refused.
BEGIN READ ONLY;
SELECT aisec.declare_subject('er_with_rid', 'email');
ROLLBACK;

-- A large table with no index on the column: a warning, which an index
-- answers.
CREATE TABLE er_big (email text);
INSERT INTO er_big SELECT 'user' || g || '@example.com' FROM generate_series(1, 20000) g;
ANALYZE er_big;
SELECT aisec.declare_subject('er_big', 'email');
CREATE INDEX ON er_big (email);

-- The declarations.  indexed: a valid, non-partial index leads with the
-- column (the partitioned table's has none).
SELECT rel, column_name, type,
       CASE WHEN declared_by = session_user THEN '(session user)' ELSE declared_by END AS declared_by,
       declared_at IS NOT NULL AS at_set, indexed
FROM aisec.subject_columns ORDER BY rel::text, column_name;
-- Readable by admin, DPO and auditor; not by an engineer.
SET ROLE er_aud;
SELECT count(*) AS auditor_sees FROM aisec.subject_columns;
RESET ROLE;
SET ROLE er_eng;
SELECT count(*) FROM aisec.subject_columns;
RESET ROLE;

--
-- 2. request_erasure: DPO only.  The register keeps an HMAC of the
--    subject under aisec's reserved key $erasure, made on first need.
--
SELECT count(*) AS erasure_keys FROM aisec.keys WHERE name = '$erasure';
SET ROLE er_adm;
SELECT aisec.request_erasure('alice@example.com', 'TICKET-1');
RESET ROLE;
SET ROLE er_eng;
SELECT aisec.request_erasure('alice@example.com', 'TICKET-1');
RESET ROLE;
SET ROLE er_aud;
SELECT aisec.request_erasure('alice@example.com', 'TICKET-1');
RESET ROLE;
SET SESSION AUTHORIZATION er_dpo1;
SELECT aisec.request_erasure('alice@example.com', 'TICKET-1') AS id1 \gset
SELECT :id1 > 0 AS registered;
-- The same subject again under another reference: allowed (a person may
-- ask twice), with a notice naming the open request, never the subject.
SELECT aisec.request_erasure('alice@example.com', 'TICKET-2', 'GDPR Art. 17(1)(a)') > :id1 AS registered_again;
-- A duplicate reference: refused, naming the reference only.
SELECT aisec.request_erasure('bob@example.com', 'TICKET-1');
-- NULLs, empty strings, an over-long reference, a read-only transaction.
SELECT aisec.request_erasure(NULL, 'TICKET-3');
SELECT aisec.request_erasure('', 'TICKET-3');
SELECT aisec.request_erasure('bob@example.com', NULL);
SELECT aisec.request_erasure('bob@example.com', '');
SELECT aisec.request_erasure('bob@example.com', repeat('r', 201));
SELECT aisec.request_erasure('bob@example.com', 'TICKET-3', NULL);
SELECT aisec.request_erasure('bob@example.com', 'TICKET-3', '');
BEGIN READ ONLY;
SELECT aisec.request_erasure('bob@example.com', 'TICKET-3');
ROLLBACK;
-- A reference of 200 characters, a subject of a million, an integer id,
-- and a subject with quotes, a backslash and non-ASCII letters.
SELECT aisec.request_erasure(repeat('z', 1000000), repeat('R', 200)) > 0 AS long_ok;
SELECT aisec.request_erasure('42', 'TICKET-42') > 0 AS id_ok;
SELECT aisec.request_erasure(E'o''br\\ien"@ex\u00e4mple.com', 'TICKET-Ä') > 0 AS odd_ok;
RESET SESSION AUTHORIZATION;
-- The key: one version, purpose hmac, no user may use it, drop or rotate it.
SELECT name, purpose, version, current FROM aisec.keys WHERE name = '$erasure';
SELECT aisec.pseudonymize('alice@example.com', '$erasure');
SELECT aisec.drop_key('$erasure');
SELECT aisec.rotate_key('$erasure');

-- The register: the hash is 32 bytes, the same for the same subject,
-- different for others, and not the plain SHA-256 of the subject (it is
-- keyed); requested by the session user; due one month later.
SELECT reference, octet_length(subject_hash) AS hash_bytes, key_version, legal_basis,
       requested_by, due = requested_at + interval '1 month' AS due_in_a_month,
       approved_by, approved_at, executed_at
FROM aisec.erasure_request WHERE length(reference) < 50 ORDER BY id;
SELECT count(DISTINCT subject_hash) AS distinct_hashes, count(*) AS requests FROM aisec.erasure_request;
SELECT (SELECT subject_hash FROM aisec.erasure_request WHERE reference = 'TICKET-1')
     = (SELECT subject_hash FROM aisec.erasure_request WHERE reference = 'TICKET-2') AS same_subject_same_hash;
SELECT count(*) AS unkeyed_sha256 FROM aisec.erasure_request
WHERE subject_hash = sha256(convert_to('alice@example.com', 'UTF8'));

-- The view, readable by admin, DPO and auditor; not by an engineer or
-- anyone else.
SELECT reference, length(subject_hash) AS hex_digits, legal_basis, requested_by,
       due > requested_at AS due_later, approved_by, executed_at, status
FROM aisec.erasure_requests WHERE length(reference) < 50 ORDER BY id;
SET ROLE er_adm;
SELECT count(*) AS admin_sees FROM aisec.erasure_requests;
RESET ROLE;
SET ROLE er_aud;
SELECT count(*) AS auditor_sees FROM aisec.erasure_requests;
RESET ROLE;
SET ROLE er_eng;
SELECT count(*) FROM aisec.erasure_requests;
SELECT count(*) FROM aisec.erasure_request;
RESET ROLE;
SET ROLE er_dpo1;
SELECT count(*) FROM aisec.erasure_request;
RESET ROLE;

--
-- 3. Four-eyes approval.
--
SET ROLE er_dpo1;
SELECT aisec.require_erasure_approval(true);
RESET ROLE;
SET ROLE er_adm;
SELECT aisec.require_erasure_approval(NULL);
SELECT aisec.require_erasure_approval(true) AS was_required;
SELECT aisec.require_erasure_approval(true) AS was_required;
SELECT approval_required, changed_by = session_user AS by_session_user FROM aisec.erasure_setting;
RESET ROLE;
-- The requester may not approve their own request, whatever role they
-- take; an engineer may not approve at all.
GRANT er_dpo2 TO er_dpo1;
SET SESSION AUTHORIZATION er_dpo1;
SELECT aisec.approve_erasure('TICKET-1');
SET ROLE er_dpo2;
SELECT aisec.approve_erasure('TICKET-1');
RESET ROLE;
RESET SESSION AUTHORIZATION;
REVOKE er_dpo2 FROM er_dpo1;
SET SESSION AUTHORIZATION er_eng;
SELECT aisec.approve_erasure('TICKET-1');
RESET SESSION AUTHORIZATION;
-- A second DPO approves, once.
SET SESSION AUTHORIZATION er_dpo2;
SELECT aisec.approve_erasure('TICKET-1');
SELECT aisec.approve_erasure('TICKET-1');
SELECT aisec.approve_erasure('NO-SUCH-TICKET');
SELECT aisec.approve_erasure(NULL);
RESET SESSION AUTHORIZATION;
-- Approval not required: approving is still allowed, and recorded.
SET ROLE er_adm;
SELECT aisec.require_erasure_approval(false) AS was_required;
RESET ROLE;
SET SESSION AUTHORIZATION er_dpo2;
SELECT aisec.approve_erasure('TICKET-2');
RESET SESSION AUTHORIZATION;
-- A request restored from a dump (INSERT is let through for pg_restore)
-- two months old and not executed: overdue.
INSERT INTO aisec.erasure_request (id, reference, subject_hash, key_version, legal_basis,
                                   requested_by, requested_at, due)
VALUES (nextval('aisec.erasure_request_seq'), 'TICKET-OLD', '\x00000000000000000000000000000000000000000000000000000000000000ff',
        1, 'GDPR Art. 17(1)', 'er_dpo1', now() - interval '2 months', now() - interval '1 month');
SELECT reference, requested_by, approved_by, approved_at IS NOT NULL AS approved, status
FROM aisec.erasure_requests WHERE length(reference) < 50 ORDER BY id;
-- Overdue requests are one query away.
SELECT reference FROM aisec.erasure_requests WHERE status = 'overdue';

--
-- 4. erasure_preview: DPO only; the subject is given again and must
--    match the request's keyed hash.
--
SET ROLE er_eng;
SELECT * FROM aisec.erasure_preview('TICKET-1', 'alice@example.com');
RESET ROLE;
SET ROLE er_adm;
SELECT * FROM aisec.erasure_preview('TICKET-1', 'alice@example.com');
RESET ROLE;
-- A DPO who may read none of the tables sees counts, nothing else.
SET ROLE er_dpo2;
SELECT count(*) FROM customers;
SELECT * FROM aisec.erasure_preview('TICKET-1', 'alice@example.com');
-- Wrong subject, NULL, empty, unknown reference.
SELECT * FROM aisec.erasure_preview('TICKET-1', 'bob@example.com');
SELECT * FROM aisec.erasure_preview('TICKET-1', 'ALICE@example.com');
SELECT * FROM aisec.erasure_preview('TICKET-1', NULL);
SELECT * FROM aisec.erasure_preview('TICKET-1', '');
SELECT * FROM aisec.erasure_preview('NO-SUCH-TICKET', 'alice@example.com');
-- An integer identifier: found in the integer column only (42 is no
-- e-mail address, but a valid text: the text columns just hold no '42').
SELECT * FROM aisec.erasure_preview('TICKET-42', '42');
-- The million-character subject and the odd one: no rows, no error.
SELECT * FROM aisec.erasure_preview(repeat('R', 200), repeat('z', 1000000));
SELECT * FROM aisec.erasure_preview('TICKET-Ä', E'o''br\\ien"@ex\u00e4mple.com');
RESET ROLE;

-- The counts are the rows a superuser counts: with the index on
-- customers.email and without one on the odd table.
SELECT (SELECT count(*) FROM customers WHERE email = 'alice@example.com') AS customers,
       (SELECT count(*) FROM "er.s""x"."odd ""tab.le" WHERE "e.mail""" = 'alice@example.com') AS odd,
       (SELECT count(*) FROM orders WHERE email = 'alice@example.com') AS orders,
       (SELECT count(*) FROM events WHERE email = 'alice@example.com') AS events;
-- The same with the index dropped, and with one on the odd table.
DROP INDEX customers_email;
CREATE INDEX ON "er.s""x"."odd ""tab.le" ("e.mail""");
SET ROLE er_dpo2;
SELECT rel, live_rows FROM aisec.erasure_preview('TICKET-1', 'alice@example.com');
RESET ROLE;
-- The preview uses an index where there is one: the statement it runs,
-- planned the same way, is an index scan on the big table.
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT pg_catalog.count(*) FROM ONLY public.er_big WHERE email OPERATOR(pg_catalog.=) 'user7@example.com';
RESET enable_seqscan;
SET ROLE er_dpo2;
SELECT rel, live_rows FROM aisec.erasure_preview('TICKET-1', 'alice@example.com') WHERE rel = 'er_big'::regclass;
RESET ROLE;

-- Row-level security does not shorten the count (the extension owner, a
-- superuser here, reads every row).
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE orders FORCE ROW LEVEL SECURITY;
CREATE POLICY nothing ON orders USING (false);
SET ROLE er_dpo2;
SELECT rel, live_rows FROM aisec.erasure_preview('TICKET-1', 'alice@example.com') WHERE rel = 'orders'::regclass;
RESET ROLE;
DROP POLICY nothing ON orders;
ALTER TABLE orders DISABLE ROW LEVEL SECURITY;

-- The preview changes nothing: the tables, the register and the audit
-- log are as they were.
CREATE FUNCTION er_state() RETURNS text LANGUAGE sql AS $$
    SELECT md5(string_agg(t, '|' ORDER BY t)) FROM (
        SELECT c::text AS t FROM customers c UNION ALL
        SELECT o::text FROM "er.s""x"."odd ""tab.le" o UNION ALL
        SELECT o::text FROM orders o UNION ALL
        SELECT e::text FROM events e UNION ALL
        SELECT r::text FROM aisec.erasure_request r UNION ALL
        SELECT s::text FROM aisec.erasure_subject s UNION ALL
        SELECT (SELECT max(seq) FROM aisec.audit_log)::text) x
$$;
SELECT er_state() AS before \gset
SET ROLE er_dpo2;
SELECT count(*) AS tables FROM aisec.erasure_preview('TICKET-1', 'alice@example.com');
RESET ROLE;
SELECT er_state() = :'before' AS unchanged;

-- A renamed subject column: the preview fails loudly rather than miss
-- rows; declaring the new name mends it.  A dropped table is skipped and
-- its declaration can be taken back by its OID.
ALTER TABLE orders RENAME COLUMN email TO mail;
SET ROLE er_dpo2;
SELECT * FROM aisec.erasure_preview('TICKET-1', 'alice@example.com');
RESET ROLE;
SELECT aisec.undeclare_subject('orders', 'email');
SELECT aisec.declare_subject('orders', 'mail');
SELECT aisec.undeclare_subject('orders', 'email');
SELECT 'er_domain'::regclass::oid AS domain_oid \gset
DROP TABLE er_domain;
SELECT rel::text ~ '^[0-9]+$' AS shown_by_oid, column_name, type FROM aisec.subject_columns
WHERE rel::oid = :domain_oid;
SET ROLE er_dpo2;
SELECT rel, live_rows FROM aisec.erasure_preview('TICKET-1', 'alice@example.com');
RESET ROLE;
SELECT aisec.undeclare_subject(:domain_oid, 'email');
SET ROLE er_eng;
SELECT aisec.undeclare_subject('orders', 'mail');
RESET ROLE;

--
-- 5. The subject never appears: not in the register, its view, the
--    audit log, nor an error or notice.
--
CREATE FUNCTION er_messages() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    stmt text;
    msg text; det text; hnt text;
BEGIN
    FOREACH stmt IN ARRAY ARRAY[
        $q$SELECT aisec.request_erasure('alice@example.com', 'TICKET-1')$q$,
        $q$SELECT * FROM aisec.erasure_preview('TICKET-1', 'alice@example.org')$q$,
        $q$SELECT * FROM aisec.erasure_preview('TICKET-2', 'alice@example.com.')$q$,
        $q$SELECT aisec.request_erasure('alice@example.com', repeat('x', 300))$q$]
    LOOP
        BEGIN
            EXECUTE stmt;
            RETURN NEXT 'no error';
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
            RETURN NEXT SQLSTATE || ': ' || msg || ' / ' || coalesce(det, '') || ' / ' || coalesce(hnt, '');
        END;
    END LOOP;
END
$$;
SET ROLE er_dpo1;
SELECT m, m LIKE '%alice%' AS names_subject FROM er_messages() m;
RESET ROLE;
SELECT count(*) AS in_register FROM aisec.erasure_request r
WHERE r::text LIKE '%alice%' OR r::text LIKE '%' || encode(convert_to('alice@example.com', 'UTF8'), 'hex') || '%'
   OR r::text LIKE '%o''br%' OR r::text LIKE '%zzzzzzzz%';
SELECT count(*) AS in_view FROM aisec.erasure_requests r
WHERE r::text LIKE '%alice%' OR r::text LIKE '%' || encode(convert_to('alice@example.com', 'UTF8'), 'hex') || '%';
SELECT count(*) AS in_audit_log FROM aisec.audit_log
WHERE seq > :seq0 AND (detail::text LIKE '%alice%' OR object LIKE '%alice%'
   OR detail::text LIKE '%' || encode(convert_to('alice@example.com', 'UTF8'), 'hex') || '%'
   OR detail::text LIKE '%zzzzzzzz%' OR detail::text LIKE '%br\\\\ien%');

-- What the audit log records: the keyed hash (as the register's view
-- shows it), the reference, the basis, never the subject.
SELECT a.action, CASE WHEN a.object ~ '^[0-9]+$' THEN '<oid>' ELSE a.object END AS object, a.detail - 'subject_hash' - 'id' AS detail,
       a.detail->>'subject_hash' = r.subject_hash AS hash_as_in_register
FROM aisec.audit_log a LEFT JOIN aisec.erasure_requests r ON r.reference = a.detail->>'reference'
WHERE a.seq > :seq0 AND (a.action LIKE 'erasure.%' OR a.object = '$erasure')
  AND length(a.object) < 50
ORDER BY a.seq;
SELECT ok AS chain_ok FROM aisec.audit_verify();

--
-- 6. Direct writes to the register: refused for every role, the
--    extension owner included, and recorded.
--
UPDATE aisec.erasure_request SET approved_by = 'er_dpo1' WHERE reference = 'TICKET-2';
DELETE FROM aisec.erasure_request;
TRUNCATE aisec.erasure_request;
DELETE FROM aisec.erasure_subject;
UPDATE aisec.erasure_setting SET approval_required = false;
SELECT object, detail->>'operation' AS operation FROM aisec.audit_log
WHERE seq > :seq0 AND action = 'version.refused' ORDER BY seq;

-- Clean up (requests stay: the register is append-only).
SELECT count(*) AS undeclared FROM (SELECT aisec.undeclare_subject(rel, attname) FROM aisec.erasure_subject) u;
DROP TABLE customers, "er.s""x"."odd ""tab.le", orders, events, er_with_rid, er_points, er_big, er_temp CASCADE;
DROP SCHEMA "er.s""x";
DROP SEQUENCE er_seq;
DROP FUNCTION er_state(), er_messages(), er_point_eq(point, point), er_point_hash(point);
DROP DOMAIN er_email;
DROP ROLE er_adm, er_dpo1, er_dpo2, er_eng, er_aud, er_nobody;
