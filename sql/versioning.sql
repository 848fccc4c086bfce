-- Dataset versions: track a table, commit versions, read them back, diff
-- them, verify them.  Hashes and fingerprints are salted with random bytes,
-- so this file compares them instead of printing them.

-- A table with awkward values: NULLs, a TOASTed text, jsonb, arrays, floats.
CREATE TABLE applicants (
    id       bigint PRIMARY KEY,
    name     text,
    income   numeric(12,2),
    score    float8,
    approved boolean,
    applied  date,
    at       timestamptz,
    tags     text[],
    extra    jsonb,
    essay    text
);
INSERT INTO applicants VALUES
 (1, 'Ada',   52000.00, 0.91, true,  '2025-01-02', '2025-01-02 10:00+00', '{a,b}', '{"k": 1}', NULL),
 (2, 'Ben',   31000.50, 0.42, false, '2025-01-03', NULL,                  NULL,    NULL,       'short'),
 (3, NULL,    NULL,     NULL, NULL,  NULL,         NULL,                  NULL,    NULL,       NULL),
 (4, 'Dmitri', 78000.00, 0.77, true, '2025-02-10', '2025-02-10 09:30+00', '{}',    '[]',       repeat('long essay ', 20000));

-- 1. Tracking adds aisec_rid (table number in the high bits) and captures
--    the rows already there into the pending version 1.
SELECT aisec.track('applicants') AS table_no;
SELECT attname, format_type(atttypid, atttypmod), attidentity
FROM pg_attribute WHERE attrelid = 'applicants'::regclass AND attname = 'aisec_rid';
SELECT id, aisec_rid >> 40 AS table_no, aisec_rid & ((1::bigint << 40) - 1) AS n,
       aisec.rid_table(aisec_rid)
FROM applicants ORDER BY id;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'applicants'::regclass ORDER BY 1;
SELECT h.rid = a.aisec_rid AS same_rid, h.valid_from,
       (SELECT e.valid_to FROM aisec.history_1_ended e
        WHERE e.rid = h.rid AND e.valid_from = h.valid_from) AS valid_to,
       length(h.salt) AS salt_bytes, length(h.hash) AS hash_bytes,
       h.data = a AS same_row
FROM aisec.history_1 h JOIN applicants a ON a.aisec_rid = h.rid ORDER BY a.id;
-- The TOASTed essay is kept whole.
SELECT length((data).essay) FROM aisec.history_1 WHERE (data).id = 4;

-- 2. A dataset, and its first commit.
SELECT aisec.create_dataset('credit', ARRAY['applicants'::regclass], 'loan applications') AS dataset_id;
SELECT dataset, description, latest_version, tables, created_by FROM aisec.datasets WHERE dataset = 'credit';
SELECT aisec.commit('credit', 'initial load') AS version;
SELECT dataset, version, parent, committed_by, message, rows, length(fingerprint) AS fp_hex,
       length(commit_hash) AS hash_hex, tags
FROM aisec.versions ORDER BY version;

-- 3. Changes of every kind, then a second version.
UPDATE applicants SET income = income + 1000 WHERE id = 1;
UPDATE applicants SET essay = essay || '!' WHERE id = 4;
DELETE FROM applicants WHERE id = 2;
INSERT INTO applicants (id, name, income) VALUES (5, 'Elif', 45000);
INSERT INTO applicants (id, name) VALUES (3, 'Chloe')
    ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name;
-- Changed twice before the commit: only its last state becomes history.
UPDATE applicants SET score = 0.5 WHERE id = 5;
UPDATE applicants SET score = 0.6 WHERE id = 5;
-- A rolled-back savepoint leaves no trace.
BEGIN;
SAVEPOINT s;
DELETE FROM applicants;
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT aisec.commit('credit', 'March update') AS version;
-- Nothing changed since: no new version.
SELECT aisec.commit('credit', 'again') AS version;
SELECT version, parent, message, rows FROM aisec.versions ORDER BY version;
-- History grows with committed change: 4 original rows, 4 new row versions.
-- History records are never updated: when a row version ends, the version
-- it ended in is appended to history_1_ended (here: rows 1, 2, 3 and 4).
SELECT count(*) AS row_versions,
       count(*) FILTER (WHERE NOT EXISTS (SELECT FROM aisec.history_1_ended e
                        WHERE e.rid = h.rid AND e.valid_from = h.valid_from)) AS current
FROM aisec.history_1 h;
SELECT (SELECT (h.data).id FROM aisec.history_1 h
        WHERE h.rid = e.rid AND h.valid_from = e.valid_from) AS id, e.valid_from, e.valid_to
FROM aisec.history_1_ended e ORDER BY 1;

-- 4. Reading versions back.
SELECT id, name, income, score, approved, applied, at, tags, extra, length(essay)
FROM aisec.checkout(NULL::applicants, 1) ORDER BY id;
SELECT id, name, income, score, length(essay)
FROM aisec.checkout(NULL::applicants, 2) ORDER BY id;
-- Version 2 is what the table holds now.
SELECT count(*) AS differences FROM (
    (SELECT * FROM aisec.checkout(NULL::applicants, 2) EXCEPT SELECT * FROM applicants)
    UNION ALL
    (SELECT * FROM applicants EXCEPT SELECT * FROM aisec.checkout(NULL::applicants, 2))) d;
SELECT aisec.tag('credit', 1, 'train-2025-01');
SELECT count(*) FROM aisec.checkout(NULL::applicants, 'train-2025-01');
SELECT version, tags FROM aisec.versions ORDER BY version;
SELECT aisec.materialize('applicants', 1, 'applicants_v1') AS rows;
SELECT id, name, income FROM applicants_v1 ORDER BY id;

-- 5. Diff: before is the row at from_version, after the row at to_version.
SELECT change, coalesce(after->>'id', before->>'id') AS id,
       before->>'income' AS income_before, after->>'income' AS income_after,
       before->>'name' AS name_before, after->>'name' AS name_after
FROM aisec.diff('applicants', 1, 2) ORDER BY id;
SELECT change, coalesce(after->>'id', before->>'id') AS id
FROM aisec.diff('applicants', 2, 1) ORDER BY id;
SELECT change, count(*) FROM aisec.diff('applicants', 0, 2) GROUP BY 1;
SELECT count(*) FROM aisec.diff('applicants', 2, 2);

-- 6. Manifest: what a training pipeline records.
SELECT m->>'format' AS format, m->>'dataset' AS dataset, m->>'version' AS version,
       m->>'rows' AS rows, m->'tags' AS tags, m->'masking_rules' AS masking_rules,
       length(m->>'commit_hash') AS hash_hex,
       m#>>'{tables,0,table}' AS table, m#>>'{tables,0,rows}' AS table_rows,
       jsonb_array_length(m#>'{tables,0,columns}') AS columns,
       m->>'commit_hash' = (SELECT commit_hash FROM aisec.versions WHERE version = 1) AS same_hash
FROM aisec.manifest('credit', 1) m;

-- 7. Anyone can check a row hash and a fingerprint without aisec
--    (doc/versioning.md): row hash = SHA-256(salt || encoding), the encoding
--    being attnum, length and binary send form of each non-NULL column
--    (an array's with its element type OID, bytes 9-12, written as zeros).
CREATE FUNCTION pg_temp.enc(attnum int, v bytea) RETURNS bytea LANGUAGE sql
    AS $$ SELECT CASE WHEN v IS NULL THEN '\x'::bytea
                 ELSE int2send(attnum::int2) || int4send(length(v)) || v END $$;
SELECT h.hash = sha256(h.salt
        || pg_temp.enc(1, int8send((h.data).id))
        || pg_temp.enc(2, textsend((h.data).name))
        || pg_temp.enc(3, numeric_send((h.data).income))
        || pg_temp.enc(4, float8send((h.data).score))
        || pg_temp.enc(5, boolsend((h.data).approved))
        || pg_temp.enc(6, date_send((h.data).applied))
        || pg_temp.enc(7, timestamptz_send((h.data).at))
        || pg_temp.enc(8, overlay(array_send((h.data).tags) placing '\x00000000' from 9 for 4))
        || pg_temp.enc(9, jsonb_send((h.data).extra))
        || pg_temp.enc(10, textsend((h.data).essay))
        || pg_temp.enc(11, int8send((h.data).aisec_rid))) AS hash_checks
FROM aisec.history_1 h ORDER BY (h.data).id, h.valid_from;
-- fingerprint = sum of the row hashes of the version, mod 2^256
CREATE FUNCTION pg_temp.num(b bytea) RETURNS numeric LANGUAGE sql
    AS $$ SELECT sum(get_byte(b, i)::numeric * 256::numeric ^ (31 - i))
          FROM generate_series(0, 31) i $$;
SELECT v.version,
       mod((SELECT sum(pg_temp.num(h.hash)) FROM aisec.history_1 h
            WHERE h.valid_from <= v.version
              AND NOT EXISTS (SELECT FROM aisec.history_1_ended e
                              WHERE e.rid = h.rid AND e.valid_from = h.valid_from
                                AND e.valid_to <= v.version)),
           2::numeric ^ 256) = pg_temp.num(decode(v.fingerprint, 'hex')) AS fingerprint_checks
FROM aisec.versions v ORDER BY v.version;

-- 8. verify recomputes every fingerprint and commit hash.
SELECT version, "table", ok, expected = actual AS same FROM aisec.verify('credit') ORDER BY 1, 2;
SELECT version, "table", ok FROM aisec.verify('credit', 2) ORDER BY 1, 2;

-- Tampering: a superuser edits history behind aisec's back ...
ALTER TABLE aisec.history_1 DISABLE TRIGGER ALL;
UPDATE aisec.history_1 SET data.income = 1.00 WHERE (data).id = 3 AND valid_from = 1;
ALTER TABLE aisec.history_1 ENABLE ALWAYS TRIGGER refuse_change;
-- ... and verify names the versions that no longer match.
SELECT version, "table", ok FROM aisec.verify('credit') ORDER BY 1, 2;
ALTER TABLE aisec.history_1 DISABLE TRIGGER ALL;
UPDATE aisec.history_1 SET data.income = NULL WHERE (data).id = 3 AND valid_from = 1;
ALTER TABLE aisec.history_1 ENABLE ALWAYS TRIGGER refuse_change;
SELECT bool_and(ok) AS all_ok FROM aisec.verify('credit');
-- Removing the record that row 2 was deleted in brings it back into
-- version 2, which verify notices too.
ALTER TABLE aisec.history_1_ended DISABLE TRIGGER ALL;
DELETE FROM aisec.history_1_ended e USING aisec.history_1 h
WHERE h.rid = e.rid AND h.valid_from = e.valid_from AND (h.data).id = 2;
SELECT version, "table", ok FROM aisec.verify('credit') ORDER BY 1, 2;
SELECT count(*) AS rows_in_v2 FROM aisec.checkout(NULL::applicants, 2);
INSERT INTO aisec.history_1_ended
SELECT rid, valid_from, 2 FROM aisec.history_1 WHERE (data).id = 2;
ALTER TABLE aisec.history_1_ended ENABLE ALWAYS TRIGGER refuse_change;
SELECT bool_and(ok) AS all_ok FROM aisec.verify('credit');
-- A rewritten commit record no longer matches its commit hash.
ALTER TABLE aisec.version DISABLE TRIGGER ALL;
UPDATE aisec.version SET message = 'rewritten' WHERE version = 1;
SELECT version, "table", ok FROM aisec.verify('credit') WHERE "table" IS NULL ORDER BY 1;
UPDATE aisec.version SET message = 'initial load' WHERE version = 1;
ALTER TABLE aisec.version ENABLE ALWAYS TRIGGER version_refuse_change;
SELECT bool_and(ok) AS all_ok FROM aisec.verify('credit');

-- 9. History refuses direct writes, and committed version records refuse
--    changes, even from their owner.
INSERT INTO aisec.history_1 (rid, valid_from, hash) VALUES (1, 1, '\x00');
UPDATE aisec.history_1 SET valid_from = 1;
DELETE FROM aisec.history_1;
TRUNCATE aisec.history_1;
INSERT INTO aisec.history_1_ended VALUES (1, 1, 2);
DELETE FROM aisec.history_1_ended;
UPDATE aisec.version SET message = 'x';
DELETE FROM aisec.version_table;
UPDATE aisec.tag SET version = 2;
UPDATE aisec.dataset SET head = 0;
DELETE FROM aisec.tracked;
-- TRUNCATE of a tracked table is refused; DELETE is recorded instead.
TRUNCATE applicants;

-- 10. Schema changes: ADD COLUMN without a default is followed; old
--     versions read NULL there and still verify.
ALTER TABLE applicants ADD COLUMN region text;
UPDATE applicants SET region = 'north' WHERE id = 1;
SELECT aisec.commit('credit', 'regions') AS version;
SELECT id, region FROM aisec.checkout(NULL::applicants, 1) ORDER BY id;
SELECT id, region FROM aisec.checkout(NULL::applicants, 3) ORDER BY id;
SELECT bool_and(ok) AS all_ok FROM aisec.verify('credit');
SELECT jsonb_array_length(aisec.manifest('credit', 2)#>'{tables,0,columns}') AS v2_columns,
       jsonb_array_length(aisec.manifest('credit', 3)#>'{tables,0,columns}') AS v3_columns;
-- Refused: anything that would change or lose what history holds.
ALTER TABLE applicants DROP COLUMN essay;
ALTER TABLE applicants DROP COLUMN aisec_rid;
ALTER TABLE applicants ADD COLUMN flag boolean NOT NULL DEFAULT false;
ALTER TABLE applicants ALTER COLUMN income TYPE numeric(14,2);
-- Row ids are stable.
UPDATE applicants SET aisec_rid = DEFAULT WHERE id = 1;
UPDATE applicants SET aisec_rid = 5 WHERE id = 1;
INSERT INTO applicants (id, aisec_rid) OVERRIDING SYSTEM VALUE VALUES (99, 42);

-- 11. Bad input: clear errors, nothing changed.
SELECT aisec.commit('nosuch');
SELECT aisec.commit(NULL);
SELECT aisec.commit('credit', repeat('m', 10001));
SELECT * FROM aisec.checkout(NULL::applicants, 4);
SELECT * FROM aisec.checkout(NULL::applicants, 0);
SELECT * FROM aisec.checkout(NULL::applicants, -1);
SELECT * FROM aisec.checkout(NULL::applicants, 'nosuch');
SELECT * FROM aisec.checkout(NULL::applicants, NULL::bigint);
SELECT * FROM aisec.checkout(NULL::int, 1);
SELECT * FROM aisec.checkout(NULL::applicants_v1, 1);
SELECT * FROM aisec.diff('applicants', 1, 9);
SELECT * FROM aisec.diff('applicants_v1', 1, 2);
SELECT * FROM aisec.diff('applicants', NULL, 2);
SELECT aisec.tag('credit', 2, 'train-2025-01');
SELECT aisec.tag('credit', 9, 'later');
SELECT aisec.tag('credit', 2, '');
SELECT aisec.tag('credit', 2, E'bad\ttag');
SELECT aisec.tag('credit', 2, repeat('t', 101));
SELECT aisec.tag('nosuch', 1, 'x');
SELECT aisec.manifest('credit', 99);
SELECT * FROM aisec.verify('nosuch');
SELECT * FROM aisec.verify('credit', 0);
SELECT aisec.materialize('applicants', 1, 'applicants_v1');
SELECT aisec.materialize('applicants', 9, 'applicants_v9');
SELECT to_regclass('applicants_v9');
CREATE TABLE other (id int);
CREATE TABLE other2 (id int);
SELECT aisec.create_dataset('credit', ARRAY['other'::regclass]);
SELECT aisec.create_dataset('d2', ARRAY['other'::regclass]);
SELECT aisec.create_dataset('d2', ARRAY['applicants'::regclass]);
SELECT aisec.track('other');
SELECT aisec.create_dataset('d2', ARRAY['other'::regclass, 'other'::regclass]);
SELECT aisec.create_dataset('d2', ARRAY['other'::regclass, NULL]);
SELECT aisec.create_dataset('d2', ARRAY[]::regclass[]);
SELECT aisec.create_dataset('', ARRAY['other'::regclass]);
SELECT aisec.create_dataset(NULL, ARRAY['other'::regclass]);
SELECT aisec.create_dataset('d2', NULL);
SELECT dataset FROM aisec.datasets ORDER BY 1;
-- Tracking what cannot be tracked.
SELECT aisec.track('applicants');
SELECT aisec.track('aisec.audit_log');
SELECT aisec.track('pg_class');
CREATE VIEW applicants_view AS SELECT * FROM applicants;
SELECT aisec.track('applicants_view');
CREATE TABLE parted (id int) PARTITION BY RANGE (id);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (10);
SELECT aisec.track('parted');
SELECT aisec.track('parted_1');
CREATE TEMP TABLE scratch (id int);
SELECT aisec.track('scratch');
CREATE TABLE has_rid (aisec_rid bigint);
SELECT aisec.track('has_rid');
SELECT aisec.track(NULL);
-- untrack: refused for a table in a dataset; otherwise history goes too.
SELECT aisec.untrack('applicants');
INSERT INTO other VALUES (1), (2);
SELECT aisec.untrack('other');
SELECT attname FROM pg_attribute WHERE attrelid = 'other'::regclass AND attnum > 0 AND NOT attisdropped;
SELECT count(*) FROM aisec.tracked WHERE rel = 'other'::regclass;
SELECT aisec.untrack('other');
TRUNCATE other;

-- 12. Roles.  An engineer commits, tags and reads versions of tables it may
--     read; an auditor verifies; neither governs tables or datasets.
CREATE ROLE ver_engineer IN ROLE aisec_engineer;
CREATE ROLE ver_auditor IN ROLE aisec_auditor;
CREATE ROLE ver_nobody;
GRANT SELECT, INSERT, UPDATE, DELETE ON applicants TO ver_engineer;
SET ROLE ver_engineer;
UPDATE applicants SET income = 1 WHERE id = 5;
SELECT aisec.commit('credit', 'engineer change') AS version;
SELECT aisec.tag('credit', 4, 'eng');
SELECT count(*) FROM aisec.checkout(NULL::applicants, 4);
SELECT count(*) FROM aisec.diff('applicants', 3, 4);
SELECT aisec.create_dataset('mine', ARRAY['other'::regclass]);
SELECT aisec.track('other');
SELECT count(*) FROM aisec.history_1;
RESET ROLE;
REVOKE SELECT ON applicants FROM ver_engineer;
SET ROLE ver_engineer;
SELECT count(*) FROM aisec.checkout(NULL::applicants, 4);
RESET ROLE;
SET ROLE ver_auditor;
SELECT bool_and(ok) AS all_ok FROM aisec.verify('credit');
SELECT version, committed_by, message FROM aisec.versions ORDER BY version;
SELECT count(*) FROM aisec.checkout(NULL::applicants, 4);
SELECT aisec.commit('credit');
RESET ROLE;
SET ROLE ver_nobody;
SELECT * FROM aisec.verify('credit');
RESET ROLE;
DROP ROLE ver_nobody;

-- 13. Every step above left an audit entry (identifiers and counts only),
--     the writes refused in section 9 included (version.refused; their
--     detail also names the current_user, here the test's login).
SELECT action, object, detail - 'commit_hash' - 'current_user' AS detail
FROM aisec.audit_log WHERE action LIKE 'version.%' ORDER BY seq;
SELECT ok FROM aisec.audit_verify();
