-- masking_threats: the attacks of issue 15 on masking, each played by its
-- attacker: an administrator reaching for a table that is not theirs, a
-- reader hidden by row-level security, a masked role going round the view
-- through partitions, a hostile table owner planting a cast, a reader
-- using errors as an oracle.  Every one must fail safely.
CREATE ROLE regress_mh_adm NOLOGIN IN ROLE aisec_admin;
CREATE ROLE regress_mh_owner NOLOGIN IN ROLE aisec_admin;
CREATE ROLE regress_mh_eng NOLOGIN IN ROLE aisec_engineer;
CREATE ROLE regress_mh_analyst NOLOGIN;
SELECT aisec.import_key('mh_key', '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hmac');
SELECT aisec.import_key('mh_card', '\x2b7e151628aed2a6abf7158809cf4f3c', 'ff1');

-- 2. Masking a table needs its ownership.  regress_mh_adm administers
-- aisec but has no right on schema mh_hr: it can neither mask its table
-- (which would publish it through aisec_masked) nor drop or rebuild the
-- rules its owner set.
CREATE SCHEMA mh_hr;
CREATE TABLE mh_hr.secret (id int, note text, salary int);
INSERT INTO mh_hr.secret VALUES (1, 'raise due', 99000);
SET ROLE regress_mh_adm;
SELECT aisec.set_mask((SELECT oid FROM pg_class WHERE relname = 'secret' AND relnamespace = 'mh_hr'::regnamespace)::regclass, 'note', 'redact');
SELECT * FROM aisec_masked.secret;
RESET ROLE;
SET ROLE regress_mh_eng;
SELECT * FROM aisec_masked.secret;
RESET ROLE;
-- The owner masks its table; the admin cannot undo or rebuild that.
SELECT aisec.set_mask('mh_hr.secret', 'salary', 'null');
SET ROLE regress_mh_adm;
SELECT aisec.drop_mask((SELECT oid FROM pg_class WHERE relname = 'secret' AND relnamespace = 'mh_hr'::regnamespace)::regclass, 'salary');
SELECT aisec.masked_view((SELECT oid FROM pg_class WHERE relname = 'secret' AND relnamespace = 'mh_hr'::regnamespace)::regclass);
SELECT * FROM aisec_masked.secret;
RESET ROLE;
-- The view belongs to the table's owner and follows it: it never reads
-- with more rights than the table's owner has.
SELECT relowner::regrole = current_user::regrole AS view_owned_by_table_owner
  FROM pg_class WHERE oid = 'aisec_masked.secret'::regclass;
ALTER TABLE mh_hr.secret OWNER TO regress_mh_owner;
SELECT relowner::regrole AS view_owner FROM pg_class WHERE oid = 'aisec_masked.secret'::regclass;
-- A member of the owning role may mask it.
GRANT USAGE ON SCHEMA mh_hr TO regress_mh_owner;
SET ROLE regress_mh_owner;
SELECT aisec.set_mask('mh_hr.secret', 'note', 'partial(1, 0)');
SELECT aisec.drop_mask('mh_hr.secret', 'note');
RESET ROLE;

-- 3. Row-level security applies through masked views.  regress_mh_eng
-- may read its own rows of mh_rls only; through the masked view it sees
-- the same rows, masked.
CREATE TABLE mh_rls (who name, note text);
INSERT INTO mh_rls VALUES ('regress_mh_eng', 'mine'), ('regress_mh_owner', 'hidden note');
ALTER TABLE mh_rls ENABLE ROW LEVEL SECURITY;
CREATE POLICY mh_p ON mh_rls FOR SELECT USING (who = current_user);
GRANT SELECT ON mh_rls TO regress_mh_eng;
SELECT aisec.set_mask('mh_rls', 'note', 'partial(1, 0)');
SELECT reloptions FROM pg_class WHERE oid = 'aisec_masked.mh_rls'::regclass;
SET ROLE regress_mh_eng;
SELECT * FROM mh_rls;
SELECT * FROM aisec_masked.mh_rls;
RESET ROLE;
-- The owner is not subject to its policies (unless forced): it sees all.
SELECT * FROM aisec_masked.mh_rls ORDER BY 1;
-- An admin with no SELECT on the table reads nothing through the view.
SET ROLE regress_mh_adm;
SELECT * FROM aisec_masked.mh_rls;
RESET ROLE;
-- FORCE ROW LEVEL SECURITY: the owner, too, sees only its own rows.
CREATE TABLE mh_forced (who name, note text);
INSERT INTO mh_forced VALUES ('regress_mh_eng', 'mine'), ('regress_mh_owner', 'owner''s');
ALTER TABLE mh_forced OWNER TO regress_mh_owner;
SET ROLE regress_mh_owner;
ALTER TABLE mh_forced ENABLE ROW LEVEL SECURITY;
ALTER TABLE mh_forced FORCE ROW LEVEL SECURITY;
CREATE POLICY mh_fp ON mh_forced FOR SELECT USING (who = current_user);
GRANT SELECT ON mh_forced TO regress_mh_eng;
SELECT aisec.set_mask('mh_forced', 'note', 'redact');
SELECT * FROM mh_forced;
SELECT * FROM aisec_masked.mh_forced;
RESET ROLE;
SET ROLE regress_mh_eng;
SELECT * FROM aisec_masked.mh_forced;
RESET ROLE;
-- Row-level security enabled after the view was made: the view is
-- rebuilt to apply it.
CREATE TABLE mh_late (who name, note text);
INSERT INTO mh_late VALUES ('regress_mh_eng', 'mine'), ('regress_mh_owner', 'hidden note');
GRANT SELECT ON mh_late TO regress_mh_eng;
SELECT aisec.set_mask('mh_late', 'note', 'partial(1, 0)');
SET ROLE regress_mh_eng;
SELECT count(*) AS rows_before_rls FROM aisec_masked.mh_late;
RESET ROLE;
-- (by an owner that is no aisec role at all)
CREATE ROLE regress_mh_plain NOLOGIN;
ALTER TABLE mh_late OWNER TO regress_mh_plain;
SET ROLE regress_mh_plain;
ALTER TABLE mh_late ENABLE ROW LEVEL SECURITY;
CREATE POLICY mh_lp ON mh_late FOR SELECT USING (who = current_user);
RESET ROLE;
SET ROLE regress_mh_eng;
SELECT * FROM aisec_masked.mh_late;
RESET ROLE;
-- and disabled again: back to a plain masked view.
SET ROLE regress_mh_plain;
ALTER TABLE mh_late DISABLE ROW LEVEL SECURITY;
RESET ROLE;
SELECT relowner::regrole, reloptions FROM pg_class WHERE oid = 'aisec_masked.mh_late'::regclass;
SET ROLE regress_mh_eng;
SELECT count(*) AS rows_after_rls FROM aisec_masked.mh_late;
RESET ROLE;
-- Without row-level security nothing changes: an engineer reads every
-- row, masked, with no privilege on the table.
CREATE TABLE mh_plain (who name, note text);
INSERT INTO mh_plain VALUES ('a', 'first'), ('b', 'second');
SELECT aisec.set_mask('mh_plain', 'note', 'partial(1, 0)');
SELECT reloptions FROM pg_class WHERE oid = 'aisec_masked.mh_plain'::regclass;
SET ROLE regress_mh_eng;
SELECT * FROM aisec_masked.mh_plain ORDER BY 1;
RESET ROLE;

-- 4. A masked role holds no privilege on any relation holding or showing
-- a governed table's rows: partitions, inheritance children, parents.
CREATE TABLE mh_pt (id int, email text) PARTITION BY RANGE (id);
CREATE TABLE mh_pt_1 PARTITION OF mh_pt FOR VALUES FROM (0) TO (100);
INSERT INTO mh_pt VALUES (1, 'alice@example.com');
GRANT SELECT ON mh_pt_1 TO PUBLIC;
SELECT aisec.set_mask('mh_pt', 'email', 'email');
SET ROLE regress_mh_adm;
SELECT aisec.mask_role('regress_mh_analyst');
RESET ROLE;
REVOKE SELECT ON mh_pt_1 FROM PUBLIC;
GRANT SELECT ON mh_pt_1 TO regress_mh_analyst;
SET ROLE regress_mh_adm;
SELECT aisec.mask_role('regress_mh_analyst');
RESET ROLE;
SET ROLE regress_mh_analyst;
SELECT * FROM mh_pt_1;
SELECT * FROM aisec_masked.mh_pt;
RESET ROLE;
-- An inheritance child, when its parent gets its first rule.
CREATE TABLE mh_parent (id int, email text);
CREATE TABLE mh_child () INHERITS (mh_parent);
INSERT INTO mh_child VALUES (2, 'bob@example.com');
GRANT SELECT ON mh_child TO regress_mh_analyst;
SELECT aisec.set_mask('mh_parent', 'email', 'email');
SET ROLE regress_mh_analyst;
SELECT * FROM mh_child;
RESET ROLE;
-- A parent of a governed partition shows the partition's rows.
CREATE TABLE mh_top (id int, email text) PARTITION BY RANGE (id);
CREATE TABLE mh_top_1 PARTITION OF mh_top FOR VALUES FROM (0) TO (100);
INSERT INTO mh_top VALUES (3, 'dan@example.com');
GRANT SELECT ON mh_top TO regress_mh_analyst;
SELECT aisec.set_mask('mh_top_1', 'email', 'email');
SET ROLE regress_mh_analyst;
SELECT * FROM mh_top;
RESET ROLE;
-- Partitions and children that join later: attached, inheriting, created.
CREATE TABLE mh_pt_2 (id int, email text);
INSERT INTO mh_pt_2 VALUES (150, 'carol@example.com');
GRANT SELECT ON mh_pt_2 TO regress_mh_analyst;
ALTER TABLE mh_pt ATTACH PARTITION mh_pt_2 FOR VALUES FROM (100) TO (200);
CREATE TABLE mh_child2 (id int, email text);
GRANT SELECT ON mh_child2 TO regress_mh_analyst;
ALTER TABLE mh_child2 INHERIT mh_parent;
SET ROLE regress_mh_analyst;
SELECT * FROM mh_pt_2;
SELECT * FROM mh_child2;
RESET ROLE;
-- A privilege that would come from PUBLIC refuses the command.
CREATE TABLE mh_pt_3 (id int, email text);
GRANT SELECT ON mh_pt_3 TO PUBLIC;
ALTER TABLE mh_pt ATTACH PARTITION mh_pt_3 FOR VALUES FROM (200) TO (300);
ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC;
CREATE TABLE mh_pt_4 PARTITION OF mh_pt FOR VALUES FROM (300) TO (400);
CREATE TABLE mh_child3 () INHERITS (mh_parent);
ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM PUBLIC;
SELECT to_regclass('mh_pt_4') AS pt_4, to_regclass('mh_child3') AS child3,
       (SELECT count(*) FROM pg_inherits WHERE inhrelid = 'mh_pt_3'::regclass) AS pt_3_attached;
-- A masked role cannot own a relation sharing a governed table's rows.
CREATE TABLE mh_pt_5 PARTITION OF mh_pt FOR VALUES FROM (500) TO (600);
ALTER TABLE mh_pt_5 OWNER TO regress_mh_analyst;
SET ROLE regress_mh_adm;
SELECT aisec.mask_role('regress_mh_analyst');
RESET ROLE;
DROP TABLE mh_pt_5;
-- Row-level security reaches masked roles too: with none of their own
-- privileges on the table, they read nothing of mh_rls.
SET ROLE regress_mh_analyst;
SELECT * FROM aisec_masked.mh_rls;
RESET ROLE;

-- 5. A hostile table owner plants a cast from its own types to text,
-- hoping the masked view runs it with its reader's rights.  Generated
-- views resolve no object a table owner can create: the pseudonym goes
-- through the type's output function, and the view names only aisec's
-- functions and built-in casts.
CREATE ROLE regress_mh_evil NOLOGIN IN ROLE aisec_admin;
CREATE SCHEMA mh_s AUTHORIZATION regress_mh_evil;
SET ROLE regress_mh_evil;
CREATE TYPE mh_s.comp AS (a int, b text);
CREATE TYPE mh_s.mood AS ENUM ('sad', 'happy');
CREATE DOMAIN mh_s.dcomp AS mh_s.comp;
CREATE FUNCTION mh_s.leak(mh_s.comp) RETURNS text LANGUAGE plpgsql AS
  $$BEGIN RAISE NOTICE 'leak ran as %', current_user; RETURN 'x'; END$$;
CREATE FUNCTION mh_s.leak(mh_s.mood) RETURNS text LANGUAGE plpgsql AS
  $$BEGIN RAISE NOTICE 'leak ran as %', current_user; RETURN 'x'; END$$;
CREATE CAST (mh_s.comp AS text) WITH FUNCTION mh_s.leak(mh_s.comp) AS IMPLICIT;
CREATE CAST (mh_s.mood AS text) WITH FUNCTION mh_s.leak(mh_s.mood) AS IMPLICIT;
CREATE TABLE mh_s.t (c mh_s.comp, m mh_s.mood, d mh_s.dcomp, n int);
INSERT INTO mh_s.t VALUES ((1, 'x'), 'happy', (2, 'y'), 7);
SELECT aisec.set_mask('mh_s.t', 'c', 'pseudonym(mh_key)');
SELECT aisec.set_mask('mh_s.t', 'm', 'pseudonym(mh_key)');
SELECT aisec.set_mask('mh_s.t', 'd', 'pseudonym(mh_key)');
SELECT aisec.set_mask('mh_s.t', 'n', 'pseudonym(mh_key)');
RESET ROLE;
SET ROLE regress_mh_adm;
SELECT c = aisec.pseudonymize('(1,x)', 'mh_key') AS c_ok,
       m = aisec.pseudonymize('happy', 'mh_key') AS m_ok,
       d = aisec.pseudonymize('(2,y)', 'mh_key') AS d_ok,
       n = aisec.pseudonymize('7', 'mh_key') AS n_ok
  FROM aisec_masked.t;
RESET ROLE;
-- The owner owns the view, but cannot redefine it.
SET ROLE regress_mh_evil;
CREATE OR REPLACE VIEW aisec_masked.t AS SELECT mh_s.leak(c) AS c, m, d, n FROM mh_s.t;
RESET ROLE;
-- What the view calls: aisec's functions only.
SELECT DISTINCT p.oid::regprocedure AS called
  FROM pg_depend d JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
  JOIN pg_proc p ON d.refclassid = 'pg_proc'::regclass AND d.refobjid = p.oid
 WHERE r.ev_class = 'aisec_masked.t'::regclass ORDER BY 1;

-- 7. A mask never fails on a value: inside masked views every rule returns
-- a masked value or NULL for any input, so no error can tell a reader
-- anything about a raw value, and no value can break the view.
CREATE TABLE mh_loans (id int, ssn text, tiny smallint, big int, amount numeric(6, 2),
                       f4 real, born date, seen timestamp);
INSERT INTO mh_loans VALUES
  (1000, '123-45-6789', -32768, 2147483647, 9999.99, 3e38, '4700-01-01 BC', '4714-11-24 00:00:00 BC'),
  (1001, '12', 5, -2147483648, -9999.99, -3e38, '5000000-01-01', '294276-12-31 23:59:59'),
  (1002, repeat('1', 2000), 32767, 1, 0.01, 1e-38, '2024-08-17', '2024-08-17 12:34:56'),
  (1003, '123456789', NULL, 0, 0, 0, 'infinity', '-infinity');
SELECT aisec.set_mask('mh_loans', 'ssn', 'ff1(mh_card)');
SELECT aisec.set_mask('mh_loans', 'tiny', 'generalize(10)');
SELECT aisec.set_mask('mh_loans', 'big', 'noise(mh_key, 1)');
SELECT aisec.set_mask('mh_loans', 'amount', 'noise(mh_key, 1)');
SELECT aisec.set_mask('mh_loans', 'f4', 'noise(mh_key, 1)');
SELECT aisec.set_mask('mh_loans', 'born', 'generalize(''century'')');
SELECT aisec.set_mask('mh_loans', 'seen', 'generalize(''year'')');
SET ROLE regress_mh_analyst;
SELECT ssn FROM aisec_masked.mh_loans WHERE id = 1000;
SELECT id, left(ssn, 12) AS ssn, tiny, big, amount, f4, born, seen FROM aisec_masked.mh_loans ORDER BY id;
RESET ROLE;
-- Within range, noise stays within its ratio and in the column's type.
SELECT bool_and(m.big IS NULL OR abs(m.big::numeric - l.big) <= abs(l.big::numeric)) AS big_within_ratio,
       bool_and(m.amount IS NULL OR abs(m.amount - l.amount) <= abs(l.amount) + 0.01) AS amount_within_ratio
  FROM aisec_masked.mh_loans m JOIN mh_loans l USING (id);
-- An alphabet FF1 cannot use would fail on every row: refused when set.
SELECT aisec.set_mask('mh_loans', 'ssn', 'ff1(mh_card, ''01234567890'')');
-- A domain over an integer is noised as its base type.
CREATE DOMAIN mh_dint AS int CHECK (VALUE >= 0);
CREATE TABLE mh_dom (v mh_dint);
INSERT INTO mh_dom VALUES (100);
SELECT aisec.set_mask('mh_dom', 'v', 'noise(mh_key, 0.1)');
SELECT v BETWEEN 90 AND 110 AS within_ratio, pg_typeof(v) FROM aisec_masked.mh_dom;
-- Called directly, ff1_encrypt still refuses a value it cannot encrypt,
-- with an error that names no value; a result over 1 GB is hidden.
SELECT aisec.ff1_encrypt('123-45-6789', 'mh_card');
SELECT aisec.mask_partial(repeat('x', 11000000), 0, 0, repeat('*', 100)) IS NULL AS over_1gb_hidden;

-- A superuser's direct INSERT of a rule with no table or column (found by
-- make fuzz's sqlsmith: the resolving trigger read the NULL name and
-- crashed the server) is refused as the NOT NULL constraint would refuse
-- it, and leaves nothing behind.
INSERT INTO aisec.mask_rule (rel, attnum, col, kind, rule, set_by)
VALUES ('pg_class', 1, NULL, 'email', 'email', 'x');
INSERT INTO aisec.mask_rule (rel, attnum, col, kind, rule, set_by)
VALUES (NULL, 1, 'relname', 'email', 'email', 'x');
SELECT count(*) AS rules_on_pg_class FROM aisec.mask_rule WHERE rel = 'pg_class'::regclass;

-- Clean up.
SET ROLE regress_mh_adm;
SELECT aisec.unmask_role('regress_mh_analyst');
RESET ROLE;
SELECT count(*) FILTER (WHERE aisec.drop_mask(rel, col)) AS rules_dropped FROM aisec.mask_rule
 WHERE rel::text LIKE 'mh%';
SELECT count(*) AS leftover_views FROM pg_class WHERE relnamespace = 'aisec_masked'::regnamespace;
DROP SCHEMA mh_hr, mh_s CASCADE;
DROP TABLE mh_rls, mh_forced, mh_late, mh_plain, mh_pt, mh_parent, mh_child, mh_child2, mh_top, mh_pt_3, mh_loans, mh_dom;
DROP DOMAIN mh_dint;
SELECT aisec.drop_key('mh_key'), aisec.drop_key('mh_card');
DROP ROLE regress_mh_adm, regress_mh_owner, regress_mh_eng, regress_mh_analyst, regress_mh_evil, regress_mh_plain;
