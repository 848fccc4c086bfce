-- versions_masked: reading dataset versions masked (issue 16, items 8 and 9).
-- A role that may not read a table's raw rows (a masked role, or a role
-- without SELECT on the table that may read its masked view) reads its
-- versions through the masked view's row type,
-- aisec.checkout(NULL::aisec_masked.t, v), masked with the table's current
-- rules and, for columns without a rule now, the rules recorded with the
-- version.  Raw reads refuse it on every path.
SET client_min_messages = warning;
CREATE ROLE regress_vm_adm NOLOGIN IN ROLE aisec_admin;
CREATE ROLE regress_vm_eng NOLOGIN IN ROLE aisec_engineer;
CREATE ROLE regress_vm_analyst NOLOGIN;
CREATE ROLE regress_vm_meng NOLOGIN IN ROLE aisec_engineer;
SELECT aisec.import_key('vm_key', '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hmac');
SELECT aisec.import_key('vm_gone', '\x1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100', 'hmac');

--
-- 1. A table and two versions.  At version 1 name is pseudonymized,
--    email masked, salary generalized, note redacted, code (an integer)
--    pseudonymized, city partially masked and zip pseudonymized with key
--    vm_gone.  After it, the rules on note, code, city and zip are
--    dropped (and key vm_gone with them), and phone gets a rule.
--
CREATE TABLE vmx_people (id int, name text, email text, phone varchar(20), salary int,
                         note text, code int, city varchar(8), zip text);
INSERT INTO vmx_people VALUES
  (1, 'Ann',  'ann@example.com', '+1 555 0101', 52000, 'likes cats', 4711, 'Lisbon', '1000'),
  (2, 'Bo',   'bo@example.com',  '+1 555 0202', 61000, 'allergic',   4712, 'Porto',  '4000'),
  (3, 'Cy',   'cy@example.com',  '+1 555 0303', 47000, NULL,         NULL, 'Faro',   '8000');
SELECT aisec.track('vmx_people') > 0 AS tracked;
SELECT aisec.create_dataset('vmx_set', ARRAY['vmx_people'::regclass]) > 0 AS created;
SELECT aisec.set_mask('vmx_people', 'name', 'pseudonym(vm_key)');
SELECT aisec.set_mask('vmx_people', 'email', 'email');
SELECT aisec.set_mask('vmx_people', 'salary', 'generalize(10000)');
SELECT aisec.set_mask('vmx_people', 'note', 'redact');
SELECT aisec.set_mask('vmx_people', 'code', 'pseudonym(vm_key)');
SELECT aisec.set_mask('vmx_people', 'city', 'partial(2, 0)');
SELECT aisec.set_mask('vmx_people', 'zip', 'pseudonym(vm_gone)');
SELECT aisec.mask_role('regress_vm_analyst');
SELECT aisec.mask_role('regress_vm_meng');
GRANT SELECT ON vmx_people TO regress_vm_adm;
SELECT aisec.commit('vmx_set', 'v1');
SELECT aisec.tag('vmx_set', 1, 'vmx-first');
SELECT aisec.drop_mask('vmx_people', 'note');
SELECT aisec.drop_mask('vmx_people', 'code');
SELECT aisec.drop_mask('vmx_people', 'city');
SELECT aisec.drop_mask('vmx_people', 'zip');
SELECT aisec.drop_key('vm_gone');
SELECT aisec.set_mask('vmx_people', 'phone', 'digits(2)');
UPDATE vmx_people SET salary = 63000, note = 'moved' WHERE id = 2;
DELETE FROM vmx_people WHERE id = 3;
INSERT INTO vmx_people VALUES (4, 'Dee', 'dee@example.com', '+1 555 0404', 58000, 'new', 4714, 'Braga', '4700');
SELECT aisec.commit('vmx_set', 'v2');

-- The masked view has the table's columns, masked by today's rules.
SELECT id, left(name, 12) AS name, email, phone, salary, note, code, city, zip
FROM aisec_masked.vmx_people ORDER BY id;

--
-- 2. A masked role reads versions masked.  The latest version equals the
--    live table, so its masked form equals the masked view, row for row.
--
SET ROLE regress_vm_analyst;
SELECT count(*) AS rows FROM aisec.checkout(NULL::aisec_masked.vmx_people, 2);
(SELECT * FROM aisec.checkout(NULL::aisec_masked.vmx_people, 2) EXCEPT ALL SELECT * FROM aisec_masked.vmx_people)
UNION ALL
(SELECT * FROM aisec_masked.vmx_people EXCEPT ALL SELECT * FROM aisec.checkout(NULL::aisec_masked.vmx_people, 2));
-- Version 1: phone is masked by the rule added after it was committed;
-- note, code, city and zip by the rules recorded with it, which are
-- dropped now: note redacted, city partial (its text cast back to
-- varchar(8)), code NULL (a pseudonym is text, code an integer) and zip
-- NULL (its key is gone).  Row 3, deleted since, is masked too.
SELECT id, left(name, 12) AS name, email, phone, salary, note, code, city, zip
FROM aisec.checkout(NULL::aisec_masked.vmx_people, 1) ORDER BY id;
-- The same by tag, with the function scan (WITH ORDINALITY), and LATERAL.
SELECT id, email, note FROM aisec.checkout(NULL::aisec_masked.vmx_people, 'vmx-first') ORDER BY id;
SELECT count(*) FROM aisec.checkout(NULL::aisec_masked.vmx_people, 1) WITH ORDINALITY;
SELECT v.v, c.id, c.note
FROM (VALUES (1::bigint), (2::bigint)) v(v), LATERAL aisec.checkout(NULL::aisec_masked.vmx_people, v.v) c
ORDER BY 1, 2;
-- Pseudonyms of the version are those of the view (same key, same value).
SELECT c.name = m.name AS same_pseudonym
FROM aisec.checkout(NULL::aisec_masked.vmx_people, 1) c JOIN aisec_masked.vmx_people m USING (id)
ORDER BY id;
-- Predicates see masked values only: no row has email 'ann@example.com'.
SELECT count(*) FROM aisec.checkout(NULL::aisec_masked.vmx_people, 1) WHERE email = 'ann@example.com';

--
-- 3. Raw reads refuse the masked role on every path (42501).
--
\set VERBOSITY default
SELECT id, email FROM aisec.checkout(NULL::vmx_people, 1);
\set VERBOSITY terse
SELECT count(*) FROM aisec.checkout(NULL::vmx_people, 1);
SELECT count(*) FROM aisec.checkout(NULL::vmx_people, 'vmx-first') WITH ORDINALITY;
SELECT c.email FROM (VALUES (1::bigint)) v(v), LATERAL aisec.checkout(NULL::vmx_people, v.v) c;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT * FROM aisec.checkout(NULL::vmx_people, 1);
BEGIN;
DECLARE cur CURSOR FOR SELECT email FROM aisec.checkout(NULL::vmx_people, 1);
FETCH 1 FROM cur;
ROLLBACK;
-- diff and materialize are not granted to masked roles.
SELECT * FROM aisec.diff('vmx_people', 1, 2);
SELECT aisec.materialize('vmx_people', 1, 'vm_copy');
SELECT aisec.materialize('aisec_masked.vmx_people', 1, 'vm_copy');
-- Nor does a privilege on the table granted after mask_role let it in.
RESET ROLE;
GRANT SELECT ON vmx_people TO regress_vm_analyst;
SET ROLE regress_vm_analyst;
SELECT count(*) FROM vmx_people;
SELECT count(*) FROM aisec.checkout(NULL::vmx_people, 1);
RESET ROLE;
REVOKE SELECT ON vmx_people FROM regress_vm_analyst;

--
-- 4. An engineer registered as masked: diff and materialize of the table
--    refuse it; materialize of the masked view makes a masked copy.
--
GRANT CREATE ON SCHEMA public TO regress_vm_meng;
SET ROLE regress_vm_meng;
\set VERBOSITY default
SELECT * FROM aisec.diff('vmx_people', 1, 2);
\set VERBOSITY terse
SELECT aisec.materialize('vmx_people', 1, 'vm_copy');
SELECT to_regclass('vm_copy') AS no_copy;
SELECT aisec.materialize('aisec_masked.vmx_people', 1, 'vm_copy');
(SELECT * FROM vm_copy EXCEPT ALL SELECT * FROM aisec.checkout(NULL::aisec_masked.vmx_people, 1))
UNION ALL
(SELECT * FROM aisec.checkout(NULL::aisec_masked.vmx_people, 1) EXCEPT ALL SELECT * FROM vm_copy);
SELECT id, email, note, code FROM vm_copy ORDER BY id;
DROP TABLE vm_copy;
RESET ROLE;
REVOKE CREATE ON SCHEMA public FROM regress_vm_meng;
SELECT object, detail->>'masked' AS masked FROM aisec.audit_log
WHERE action = 'version.materialize' AND object = 'public.vm_copy';

--
-- 5. An engineer without SELECT on the table reads it masked, like its
--    masked view, and is pointed there when it asks for the raw rows.
--
SET ROLE regress_vm_eng;
SELECT count(*) FROM vmx_people;
\set VERBOSITY default
SELECT count(*) FROM aisec.checkout(NULL::vmx_people, 1);
\set VERBOSITY terse
SELECT * FROM aisec.diff('vmx_people', 1, 2);
SELECT aisec.materialize('vmx_people', 1, 'vm_copy');
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT * FROM aisec.checkout(NULL::vmx_people, 1);
(SELECT * FROM aisec.checkout(NULL::aisec_masked.vmx_people, 2) EXCEPT ALL SELECT * FROM aisec_masked.vmx_people)
UNION ALL
(SELECT * FROM aisec_masked.vmx_people EXCEPT ALL SELECT * FROM aisec.checkout(NULL::aisec_masked.vmx_people, 2));
SELECT id, email, phone, salary, note, code, city, zip
FROM aisec.checkout(NULL::aisec_masked.vmx_people, 'vmx-first') ORDER BY id;
RESET ROLE;

--
-- 6. An administrator with SELECT on the table reads it raw, as before,
--    and may read the masked form too.  The masked form runs in the
--    custom scan as well.
--
SET ROLE regress_vm_adm;
SELECT id, name, email, phone, salary, note, code, city, zip
FROM aisec.checkout(NULL::vmx_people, 1) ORDER BY id;
SELECT id, email, note FROM aisec.checkout(NULL::aisec_masked.vmx_people, 1) ORDER BY id;
SELECT change, rid IS NOT NULL AS has_rid FROM aisec.diff('vmx_people', 1, 2) ORDER BY rid;
RESET ROLE;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id, email FROM aisec.checkout(NULL::aisec_masked.vmx_people, 1);

--
-- 7. Bad arguments: an unknown version or tag, NULL, a view that is not
--    a masked view.
--
SELECT count(*) FROM aisec.checkout(NULL::aisec_masked.vmx_people, 99);
SELECT count(*) FROM aisec.checkout(NULL::aisec_masked.vmx_people, 'no-such-tag');
SELECT count(*) FROM aisec.checkout(NULL::aisec_masked.vmx_people, NULL::bigint);
CREATE VIEW vm_plain_view AS SELECT * FROM vmx_people;
SELECT count(*) FROM aisec.checkout(NULL::vm_plain_view, 1);
DROP VIEW vm_plain_view;

--
-- 8. Row-level security: a masked view of a table with row-level security
--    applies the reader's own privileges and policies, so a masked role
--    reads nothing of it, and no version either; nor does a role the
--    policies apply to.  The owner reads the masked form.
--
CREATE TABLE vmx_rls (id int, who name, secret text);
INSERT INTO vmx_rls VALUES (1, 'regress_vm_eng', 'mine'), (2, 'regress_vm_adm', 'theirs');
SELECT aisec.track('vmx_rls') > 0 AS tracked;
SELECT aisec.create_dataset('vmx_rls_set', ARRAY['vmx_rls'::regclass]) > 0 AS created;
SELECT aisec.commit('vmx_rls_set', 'v1');
ALTER TABLE vmx_rls ENABLE ROW LEVEL SECURITY;
CREATE POLICY vm_p ON vmx_rls FOR SELECT USING (who = current_user);
GRANT SELECT ON vmx_rls TO regress_vm_eng;
SELECT aisec.set_mask('vmx_rls', 'secret', 'partial(1, 0)');
SET ROLE regress_vm_analyst;
SELECT count(*) FROM aisec_masked.vmx_rls;
SELECT count(*) FROM aisec.checkout(NULL::aisec_masked.vmx_rls, 1);
SELECT count(*) FROM aisec.checkout(NULL::vmx_rls, 1);
RESET ROLE;
SET ROLE regress_vm_eng;
SELECT id, secret FROM aisec_masked.vmx_rls;
SELECT count(*) FROM aisec.checkout(NULL::aisec_masked.vmx_rls, 1);
RESET ROLE;
SELECT id, secret FROM aisec.checkout(NULL::aisec_masked.vmx_rls, 1) ORDER BY id;

--
-- 9. checkout() with the table's name instead of its row type: an error
--    that says what to write (issue 16, item 9).  NULL::t, a regclass and
--    the masked form still reach the real checkout.
--
\set VERBOSITY default
SELECT * FROM aisec.checkout('vmx_people', 1);
SELECT * FROM aisec.checkout('public.vmx_people', 'vmx-first');
SELECT * FROM aisec.checkout('vmx_rls', 1);
SELECT * FROM aisec.checkout('no_such_table', 1);
SELECT * FROM aisec.checkout(NULL, 1);
-- The masked view's name gets the masked form; a name of three parts, or
-- in a schema the caller may not use (below), only the general hint: the
-- lookup raises no error of its own.
SELECT * FROM aisec.checkout('aisec_masked.vmx_people', 1);
SELECT * FROM aisec.checkout('otherdb.public.vmx_people', 1);
CREATE SCHEMA vmx_hidden;
CREATE TABLE vmx_hidden.t (i int);
SELECT count(*) FROM aisec.checkout('vmx_people'::regclass, 1);
\set VERBOSITY terse
SELECT count(*) FROM aisec.checkout(NULL::vmx_people, 1);
SELECT count(*) FROM aisec.checkout(NULL::vmx_people, 'vmx-first');
SELECT count(*) FROM aisec.checkout(NULL::aisec_masked.vmx_people, 'vmx-first');
-- The hint is for the roles that may read versions (a masked role too);
-- PUBLIC may not even name it.
-- Those that may read the table only masked are shown only that form.
SET ROLE regress_vm_analyst;
\set VERBOSITY default
SELECT * FROM aisec.checkout('vmx_people', 1);
-- A table without a masked view: not pointed to a raw read it is refused.
SELECT * FROM aisec.checkout('pg_catalog.pg_class', 1);
RESET ROLE;
SET ROLE regress_vm_eng;
SELECT * FROM aisec.checkout('vmx_people', 'vmx-first');
SELECT * FROM aisec.checkout('vmx_hidden.t', 1);
\set VERBOSITY terse
RESET ROLE;
DROP SCHEMA vmx_hidden CASCADE;
CREATE ROLE regress_vm_nobody NOLOGIN;
SET ROLE regress_vm_nobody;
SELECT * FROM aisec.checkout('vmx_people', 1);
RESET ROLE;

--
-- 10. Keyed masks in a masked version: FF1 tokens and sticky noise, read
--     by the masked role (masked roles may use keyed masks), equal the
--     view's; the whole-row form of the custom scan is masked too.  A
--     member of a masked role is masked as well, even with SELECT on the
--     table.
--
SELECT aisec.import_key('vm_card', '\x2b7e151628aed2a6abf7158809cf4f3c', 'ff1');
CREATE TABLE vmx_cards (id int, card text, score float8);
INSERT INTO vmx_cards VALUES (1, '4111111111111111', 0.5), (2, '5500000000000004', 0.75);
SELECT aisec.track('vmx_cards') > 0 AS tracked;
SELECT aisec.create_dataset('vmx_cards_set', ARRAY['vmx_cards'::regclass]) > 0 AS created;
SELECT aisec.set_mask('vmx_cards', 'card', 'ff1(vm_card)');
SELECT aisec.set_mask('vmx_cards', 'score', 'noise(vm_key, 0.1)');
SELECT aisec.commit('vmx_cards_set', 'v1');
CREATE ROLE regress_vm_member NOLOGIN IN ROLE regress_vm_analyst;
GRANT SELECT ON vmx_cards TO regress_vm_member;
SET ROLE regress_vm_analyst;
(SELECT * FROM aisec.checkout(NULL::aisec_masked.vmx_cards, 1) EXCEPT ALL SELECT * FROM aisec_masked.vmx_cards)
UNION ALL
(SELECT * FROM aisec_masked.vmx_cards EXCEPT ALL SELECT * FROM aisec.checkout(NULL::aisec_masked.vmx_cards, 1));
SELECT (c).id, (c).card <> '4111111111111111' AND (c).card <> '5500000000000004' AS card_masked,
       (c).score NOT IN (0.5, 0.75) AS score_noisy
FROM aisec.checkout(NULL::aisec_masked.vmx_cards, 1) c ORDER BY 1;
RESET ROLE;
SET ROLE regress_vm_member;
SELECT count(*) FROM vmx_cards;
SELECT count(*) FROM aisec.checkout(NULL::vmx_cards, 1);
SELECT count(*) FROM aisec.checkout(NULL::aisec_masked.vmx_cards, 1);
RESET ROLE;
REVOKE ALL ON vmx_cards FROM regress_vm_member;
DROP ROLE regress_vm_member;

-- Clean up what later files would see.
SELECT aisec.unmask_role('regress_vm_analyst');
SELECT aisec.unmask_role('regress_vm_meng');
DROP ROLE regress_vm_nobody;
