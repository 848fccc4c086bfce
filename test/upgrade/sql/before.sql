-- Upgrade, part 1 of 2: a database made by aisec 0.1.0, with state in every
-- capability that keeps some.  test/run.sh runs this with a library that has
-- 0.1.0's C symbols (test/upgrade/legacy_library.sh), then installs today's
-- library and runs after.sql, which updates the extension and checks that
-- all of this still works.

CREATE EXTENSION aisec VERSION '0.1.0';
SELECT extversion FROM pg_extension WHERE extname = 'aisec';
-- The extension's comment comes from the control file of the day it was
-- created; this was 0.1.0's.
COMMENT ON EXTENSION aisec IS 'governed ML training data: audit log, keys, masking, versions, lineage, bias statistics, erasure';
SELECT prosrc FROM pg_proc WHERE oid = 'aisec.audit_verify'::regproc;

-- Audit log: an entry of our own (every governance action below adds one).
SELECT aisec.audit('upgrade.test', 'before', '{"step": 1}');

-- Keys: a random HMAC key and a known FF1 key.  The pseudonym and the token
-- are kept to compare with what the same keys give after the update.
SELECT aisec.create_key('upg_hmac', 'hmac');
SELECT aisec.import_key('upg_ff1', '\x2b7e151628aed2a6abf7158809cf4f3c', 'ff1');
CREATE TABLE upg_keyed AS
    SELECT aisec.pseudonymize('alice', 'upg_hmac') AS pseudonym,
           aisec.ff1_encrypt('4111111111111111', 'upg_ff1') AS token;
SELECT length(pseudonym), token FROM upg_keyed;

-- Masking: rules, a masked view, and a role that reads only through it.
CREATE ROLE upg_analyst NOLOGIN;
CREATE TABLE customers (id bigint, name text, email text, card text);
INSERT INTO customers VALUES
    (1, 'Jonathan Smith', 'jon.smith@example.com', '4111111111111111'),
    (2, 'Ada Lovelace', 'ada@analytical.org', '5500005555555559');
GRANT SELECT ON customers TO upg_analyst;
SELECT aisec.set_mask('customers', 'name', 'partial(1,2)');
SELECT aisec.set_mask('customers', 'email', 'EMAIL');
SELECT aisec.set_mask('customers', 'card', 'ff1(upg_ff1)');
SELECT aisec.set_mask('customers', 'id', 'pseudonym(upg_hmac)');
SELECT aisec.masked_view('customers');
SELECT aisec.mask_role('upg_analyst');
SET ROLE upg_analyst;
SELECT name, email, card FROM aisec_masked.customers ORDER BY name;
RESET ROLE;
CREATE TABLE upg_masked AS SELECT * FROM aisec_masked.customers;

-- Dataset versions: a tracked table in a dataset, two commits, a tag, and
-- changes not committed yet.
CREATE TABLE loans (id int PRIMARY KEY, amount numeric, approved boolean);
INSERT INTO loans VALUES (1, 1000, true), (2, 2500, false), (3, 400, true);
SELECT aisec.track('loans');
SELECT aisec.create_dataset('credit', ARRAY['loans'::regclass], 'loan decisions');
SELECT aisec.commit('credit', 'first load');
UPDATE loans SET amount = 1100 WHERE id = 1;
DELETE FROM loans WHERE id = 2;
INSERT INTO loans VALUES (4, 900, false);
SELECT aisec.commit('credit', 'second');
SELECT aisec.tag('credit', 1, 'v1');
UPDATE loans SET approved = true WHERE id = 4;
INSERT INTO loans VALUES (5, 50, true);
SELECT version, "table", ok FROM aisec.verify('credit') ORDER BY version;
CREATE TABLE upg_manifest AS SELECT aisec.manifest('credit', 2) AS m;

-- Bias and drift statistics kept in tables (their types' I/O and the
-- aggregates' support functions get new symbols).
CREATE TABLE upg_outcomes (grp text, y_true boolean, y_pred boolean, score float8);
INSERT INTO upg_outcomes VALUES
    ('a', true, true, 0.9), ('a', false, true, 0.6), ('a', true, false, 0.4),
    ('b', true, true, 0.8), ('b', false, false, 0.1), ('b', false, false, 0.2);
CREATE TABLE upg_stats AS
    SELECT aisec.fairness(grp, y_true, y_pred) AS fairness,
           aisec.histogram(score, 0, 1, 4) AS histogram,
           aisec.contingency(grp, y_pred::text) AS contingency,
           aisec.category_counts(grp) AS categories
    FROM upg_outcomes;
SELECT aisec.selection_rate(fairness, 'a') FROM upg_stats;

-- An entry whose detail names a person, written under 0.1.0's encoding
-- (after the update it verifies but cannot be redacted).
CREATE TABLE upg_audit_pii AS
SELECT aisec.audit('support.note', 'before', '{"who": "olga.old@example.com"}') AS seq;

-- A signed digest of the audit chain, to check after the update.
CREATE TABLE upg_digest AS SELECT aisec.audit_digest() AS digest;
SELECT ok, entries, first_bad_seq FROM aisec.audit_verify();
