-- Attacks on dataset versions (issue 15): a role that row-level security
-- holds back reading rows through aisec, and a superuser editing committed
-- versions with triggers disabled.  Runs last, so the table numbers and
-- audit entries of the other versioning files stay as they are.

CREATE ROLE vs_adm IN ROLE aisec_admin;
CREATE ROLE vs_eng IN ROLE aisec_engineer;
CREATE ROLE vs_bypass BYPASSRLS IN ROLE aisec_engineer;

--
-- 1. Row-level security.  rls_t shows each role its own rows; vs_eng may
--    SELECT it and sees one row.  No aisec function returns rows of a
--    version to a role the table's row-level security applies to: they
--    refuse (42501), because aisec does not apply policies to versions.
--
CREATE TABLE rls_t (id int, owner name, secret text);
INSERT INTO rls_t VALUES (1, 'vs_eng', 'visible'), (2, 'vs_adm', 'hidden');
SELECT aisec.track('rls_t') > 0 AS tracked;
SELECT aisec.create_dataset('vs_rls', ARRAY['rls_t'::regclass]) > 0 AS created;
SELECT aisec.commit('vs_rls', 'v1');
ALTER TABLE rls_t OWNER TO vs_adm;
ALTER TABLE rls_t ENABLE ROW LEVEL SECURITY;
CREATE POLICY p ON rls_t FOR SELECT USING (owner = current_user);
GRANT SELECT ON rls_t TO vs_eng, vs_bypass;
PREPARE co AS SELECT id, secret FROM aisec.checkout(NULL::rls_t, 1) ORDER BY id;
SET ROLE vs_eng;
SELECT id, secret FROM rls_t ORDER BY id;
-- Refused: the custom scan, the function scan, a prepared plan, diff and
-- materialize (which creates nothing).
SELECT id, secret FROM aisec.checkout(NULL::rls_t, 1) ORDER BY id;
SELECT count(*) FROM aisec.checkout(NULL::rls_t, 1);
SELECT id, secret FROM aisec.checkout(NULL::rls_t, 1) WITH ORDINALITY ORDER BY id;
EXECUTE co;
SELECT * FROM aisec.diff('rls_t', 0, 1);
SELECT aisec.materialize('rls_t', 1, 'rls_copy');
SELECT to_regclass('rls_copy') AS no_copy;
-- row_security = off: PostgreSQL refuses the SELECT, aisec refuses too.
SET row_security = off;
SELECT id FROM rls_t;
SELECT count(*) FROM aisec.checkout(NULL::rls_t, 1);
RESET row_security;
-- Manifest and verify show counts, fingerprints and names, no row data:
-- they stay open to every aisec role.
SELECT aisec.manifest('vs_rls', 1) -> 'rows' AS manifest_rows;
SELECT bool_and(ok) AS all_ok FROM aisec.verify('vs_rls');
RESET ROLE;
-- The owner of a table that does not force row-level security is not
-- subject to it: allowed.
SET ROLE vs_adm;
SELECT id, secret FROM aisec.checkout(NULL::rls_t, 1) ORDER BY id;
EXECUTE co;
SELECT change, (after ->> 'id') AS id FROM aisec.diff('rls_t', 0, 1) ORDER BY rid;
RESET ROLE;
-- A role with BYPASSRLS, and a superuser: allowed.
SET ROLE vs_bypass;
SELECT count(*) FROM aisec.checkout(NULL::rls_t, 1);
RESET ROLE;
SELECT count(*) FROM aisec.checkout(NULL::rls_t, 1);
-- FORCE ROW LEVEL SECURITY: the owner is subject to it, so refused.
ALTER TABLE rls_t FORCE ROW LEVEL SECURITY;
SET ROLE vs_adm;
SELECT id, secret FROM rls_t ORDER BY id;
SELECT count(*) FROM aisec.checkout(NULL::rls_t, 1);
SELECT count(*) FROM aisec.checkout(NULL::rls_t, 1) WITH ORDINALITY;
EXECUTE co;
SELECT * FROM aisec.diff('rls_t', 0, 1);
SELECT aisec.materialize('rls_t', 1, 'rls_copy');
RESET ROLE;
SET ROLE vs_bypass;
SELECT count(*) FROM aisec.checkout(NULL::rls_t, 1);
RESET ROLE;
-- Row-level security switched off again: vs_eng reads the version.
ALTER TABLE rls_t NO FORCE ROW LEVEL SECURITY;
ALTER TABLE rls_t DISABLE ROW LEVEL SECURITY;
SET ROLE vs_eng;
SELECT id, secret FROM aisec.checkout(NULL::rls_t, 1) ORDER BY id;
RESET ROLE;
DEALLOCATE co;

--
-- 2. Edits to committed versions (a superuser, triggers disabled).  verify
--    must name every one.  Hashes are salted, so they print as <hash>;
--    row ids and audit entry numbers depend on the files run before this
--    one, so they print as N.
--
CREATE TABLE vs_t (id int PRIMARY KEY, name text);
INSERT INTO vs_t VALUES (1, 'one'), (2, 'two'), (3, 'three');
SELECT 'aisec.history_' || n AS h, 'aisec.history_' || n || '_ended' AS e
FROM aisec.track('vs_t') n \gset
SELECT aisec.create_dataset('vs_ver', ARRAY['vs_t'::regclass]) AS ds \gset
SELECT aisec.commit('vs_ver', 'v1');
SELECT aisec.tag('vs_ver', 1, 'model-1');
UPDATE vs_t SET name = 'TWO' WHERE id = 2;
INSERT INTO vs_t VALUES (4, 'four');
SELECT aisec.commit('vs_ver', 'v2');
CREATE FUNCTION pg_temp.report(ds text, v bigint DEFAULT NULL)
RETURNS TABLE (version bigint, "table" regclass, ok boolean, expected text, actual text)
LANGUAGE sql AS $$
  SELECT version, "table", ok,
         regexp_replace(regexp_replace(expected, '[0-9a-f]{64}', '<hash>', 'g'),
                        '(rid|entry) [0-9]+', '\1 N', 'g'),
         regexp_replace(regexp_replace(actual, '[0-9a-f]{64}', '<hash>', 'g'),
                        '(rid|entry) [0-9]+', '\1 N', 'g')
  FROM aisec.verify(ds, v) ORDER BY ok, version NULLS FIRST, "table" NULLS FIRST, expected $$;
-- Intact: every row ok.
SELECT version, "table", ok FROM pg_temp.report('vs_ver');
SELECT version, "table", ok FROM pg_temp.report('vs_ver', 1);

-- a. A record's salt dropped and its row changed: checkout shows the
--    changed row; verify reports the record (no salt, no recorded
--    erasure: it does not count) and the versions it is in.
BEGIN;
ALTER TABLE :h DISABLE TRIGGER ALL;
UPDATE :h SET salt = NULL, data.name = 'forged' WHERE (data).id = 1;
SELECT id, name FROM aisec.checkout(NULL::vs_t, 1) WHERE id = 1;
SELECT * FROM pg_temp.report('vs_ver') WHERE NOT ok;
ROLLBACK;

-- b. A forged record with valid_from 0 appears in every checkout; verify
--    counts it where checkout shows it and reports it.
BEGIN;
ALTER TABLE :h DISABLE TRIGGER ALL;
INSERT INTO :h SELECT rid + 100, 0, salt, hash, data FROM :h WHERE (data).id = 3;
UPDATE :h SET data.aisec_rid = rid, data.id = 99 WHERE valid_from = 0;
SELECT count(*) FROM aisec.checkout(NULL::vs_t, 2);
SELECT * FROM pg_temp.report('vs_ver') WHERE NOT ok;
ROLLBACK;

-- c. A fake "erasure" (data and salt gone, hash kept) silently drops a row
--    from checkouts: without a recorded erasure it is tampering.
BEGIN;
ALTER TABLE :h DISABLE TRIGGER ALL;
UPDATE :h SET salt = NULL, data = NULL WHERE (data).id = 3;
SELECT count(*) FROM aisec.checkout(NULL::vs_t, 1);
SELECT * FROM pg_temp.report('vs_ver') WHERE NOT ok;
ROLLBACK;

-- d. An "immutable" tag moved: the audit log's version.tag entry says
--    otherwise.
BEGIN;
ALTER TABLE aisec.tag DISABLE TRIGGER ALL;
UPDATE aisec.tag SET version = 2 WHERE tag = 'model-1';
SELECT count(*) FROM aisec.checkout(NULL::vs_t, 'model-1');
SELECT * FROM pg_temp.report('vs_ver') WHERE NOT ok;
ROLLBACK;
-- ... and a tag added behind aisec's back has no entry.
BEGIN;
ALTER TABLE aisec.tag DISABLE TRIGGER ALL;
INSERT INTO aisec.tag VALUES (:ds, 'model-2', 2, now(), 'someone');
SELECT * FROM pg_temp.report('vs_ver') WHERE NOT ok;
ROLLBACK;

-- e. An extra version_table record (a table outside the dataset): manifest
--    would list it; the commit hash, recomputed over every record of the
--    version, no longer matches, and the record is named.
BEGIN;
INSERT INTO aisec.version_table
VALUES (:ds, 1, 999, 'public.payroll', 10, sha256('x'), '[]');
SELECT jsonb_array_length(aisec.manifest('vs_ver', 1) -> 'tables') AS manifest_tables;
SELECT * FROM pg_temp.report('vs_ver') WHERE NOT ok;
ROLLBACK;

-- f. A record's rid changed: diff would report the wrong row id; the row
--    inside the record still holds its own aisec_rid.
BEGIN;
ALTER TABLE :h DISABLE TRIGGER ALL;
UPDATE :h SET rid = rid + 500 WHERE (data).id = 3;
SELECT * FROM pg_temp.report('vs_ver') WHERE NOT ok;
ROLLBACK;
-- ... and an ended record that ends nothing, or ends before it began.
BEGIN;
ALTER TABLE :e DISABLE TRIGGER ALL;
UPDATE :e SET valid_to = valid_from;
SELECT * FROM pg_temp.report('vs_ver') WHERE NOT ok;
ROLLBACK;

-- g. The newest version deleted (records, ended records, commit records)
--    and the dataset's head and pending version lowered: consistent in
--    itself, but the audit log holds version 2's version.commit entry.
BEGIN;
ALTER TABLE :h DISABLE TRIGGER ALL;
ALTER TABLE :e DISABLE TRIGGER ALL;
ALTER TABLE aisec.version DISABLE TRIGGER ALL;
ALTER TABLE aisec.version_table DISABLE TRIGGER ALL;
ALTER TABLE aisec.dataset DISABLE TRIGGER ALL;
ALTER TABLE aisec.tracked DISABLE TRIGGER ALL;
DELETE FROM :h WHERE valid_from = 2;
DELETE FROM :e WHERE valid_to = 2;
DELETE FROM aisec.version_table WHERE dataset_id = :ds AND version = 2;
DELETE FROM aisec.version WHERE dataset_id = :ds AND version = 2;
UPDATE aisec.dataset SET head = 1 WHERE id = :ds;
UPDATE aisec.tracked SET pending_version = 2 WHERE dataset_id = :ds;
SELECT * FROM pg_temp.report('vs_ver') WHERE NOT ok;
-- Lowering only the pending version is named too.
UPDATE aisec.tracked SET pending_version = 7 WHERE dataset_id = :ds;
SELECT version, "table", ok, actual FROM pg_temp.report('vs_ver') WHERE NOT ok AND "table" IS NOT NULL;
ROLLBACK;

-- The audit log itself: an entry rewritten breaks its chain, and verify
-- says so (its cross-checks rely on that chain).
BEGIN;
ALTER TABLE aisec.audit_log DISABLE TRIGGER ALL;
UPDATE aisec.audit_log SET detail = jsonb_set(detail, '{tag}', '"model-x"')
WHERE action = 'version.tag' AND object = 'vs_ver';
SELECT version, "table", ok, actual FROM pg_temp.report('vs_ver') WHERE NOT ok;
ROLLBACK;

-- Untouched again: every row ok, for every role that may verify.
SELECT bool_and(ok) AS all_ok, count(*) FILTER (WHERE version IS NULL) AS damage_rows
FROM aisec.verify('vs_ver');
SET ROLE vs_eng;
SELECT bool_and(ok) AS all_ok FROM aisec.verify('vs_ver');
RESET ROLE;

REVOKE ALL ON rls_t FROM vs_eng, vs_bypass;
ALTER TABLE rls_t OWNER TO CURRENT_USER;
DROP ROLE vs_adm, vs_eng, vs_bypass;
