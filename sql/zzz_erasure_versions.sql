-- Versions after an erasure (issue 18 item 5, doc/erasure.md "Versions
-- after an erasure"): aisec.erase() redacts every history record of the
-- subject's rows (data and salt NULL, hash kept).  Then manifest() counts
-- per version and table the rows redacted, without changing any hash;
-- diff() reports such a row as erased (diff_summary counts it); checkout,
-- masked checkout, status and verify leave the rows out and still agree.

SET client_min_messages = warning;
CREATE ROLE ev_adm IN ROLE aisec_admin;
CREATE ROLE ev_dpo IN ROLE aisec_dpo;
CREATE ROLE ev_eng IN ROLE aisec_engineer;
CREATE ROLE ev_aud IN ROLE aisec_auditor;
CREATE ROLE ev_analyst;
CREATE ROLE ev_nobody;
SELECT aisec.require_erasure_approval(false);
SELECT aisec.import_key('ev_key', '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hmac');

-- People and their orders, tracked in one dataset; four versions.
CREATE TABLE ev_people (id int PRIMARY KEY, email text, score int);
CREATE INDEX ev_people_email ON ev_people (email);
CREATE TABLE ev_orders (order_id int PRIMARY KEY, email text, amount int);
INSERT INTO ev_people VALUES (1, 'alice@example.com', 10), (2, 'bob@example.com', 20),
    (3, 'carol@example.com', 30);
INSERT INTO ev_orders VALUES (10, 'alice@example.com', 100), (11, 'alice@example.com', 110),
    (12, 'bob@example.com', 120);
SELECT aisec.track('ev_people') > 0 AS tracked, aisec.track('ev_orders') > 0 AS tracked;
SELECT aisec.create_dataset('ev_ds', ARRAY['ev_people', 'ev_orders']::regclass[]) > 0 AS created;
SELECT aisec.set_mask('ev_people', 'email', 'email');
SELECT aisec.mask_role('ev_analyst') > 0 AS masked;
GRANT SELECT ON ev_people, ev_orders TO ev_eng;
SELECT aisec.commit('ev_ds', 'v1');
-- Version 2: Alice's score changes (a second record of her row), Dave comes.
UPDATE ev_people SET score = 11 WHERE id = 1;
INSERT INTO ev_people VALUES (4, 'dave@example.com', 40);
SELECT aisec.commit('ev_ds', 'v2');
-- Version 3: Bob's score changes, Carol leaves; Alice's rows as they were.
UPDATE ev_people SET score = 21 WHERE id = 2;
DELETE FROM ev_people WHERE id = 3;
SELECT aisec.commit('ev_ds', 'v3');
SELECT aisec.tag('ev_ds', 3, 'ev-three');
SELECT aisec_rid AS alice_rid FROM ev_people WHERE id = 1 \gset

-- What every version says before the erasure, and what diff says.
CREATE TABLE ev_manifest_before AS
SELECT v, aisec.manifest('ev_ds', v) AS m FROM generate_series(1, 3) v;
CREATE TABLE ev_diff_before AS
SELECT change, rid = :alice_rid AS alice, before IS NULL AS no_before, after IS NULL AS no_after
FROM aisec.diff('ev_people', 1, 2);
SELECT * FROM ev_diff_before ORDER BY alice, change;
-- Before any erasure, every table of every version has 0 redacted rows.
SELECT v, m->'redacted_rows' AS total, jsonb_path_query_array(m, '$.tables[*].redacted_rows') AS per_table
FROM ev_manifest_before ORDER BY v;

-- Erase Alice (a DPO, with the subject column declared).
SELECT aisec.declare_subject('ev_people', 'email');
SELECT aisec.declare_subject('ev_orders', 'email');
SET SESSION AUTHORIZATION ev_dpo;
SELECT aisec.request_erasure('alice@example.com', 'EV-1') > 0 AS registered;
SELECT e->'live_rows_deleted' AS live, e->'history_records_redacted' AS redacted
FROM aisec.erase('EV-1', 'alice@example.com') e;
RESET SESSION AUTHORIZATION;

--
-- 1. manifest(): per table, the rows of the version whose records are
--    redacted, and their total.  Version 1 held Alice and her two orders;
--    versions 2 and 3 held her row's second record and the same orders.
--    rows (what the version's fingerprint covers) is unchanged, so
--    rows - redacted_rows is what checkout returns now.
--
SELECT v, m->'rows' AS rows, m->'redacted_rows' AS redacted,
       t->>'table' AS "table", t->'rows' AS table_rows, t->'redacted_rows' AS table_redacted,
       (t->>'rows')::bigint - (t->>'redacted_rows')::bigint =
         CASE t->>'table' WHEN 'public.ev_people' THEN (SELECT count(*) FROM aisec.checkout(NULL::ev_people, v))
                          ELSE (SELECT count(*) FROM aisec.checkout(NULL::ev_orders, v)) END AS checkout_agrees
FROM generate_series(1, 3) v, aisec.manifest('ev_ds', v) m, jsonb_array_elements(m->'tables') t
ORDER BY v, t->>'table';
-- The manifest is otherwise exactly as before: same fingerprints, commit
-- hashes, row counts, columns, tags; no key but redacted_rows changed.
SELECT b.v, (a.m - 'redacted_rows' - 'tables') = (b.m - 'redacted_rows' - 'tables') AS top_same,
       (SELECT bool_and((x - 'redacted_rows') = (y - 'redacted_rows'))
        FROM jsonb_array_elements(a.m->'tables') WITH ORDINALITY p(x, i)
        JOIN jsonb_array_elements(b.m->'tables') WITH ORDINALITY q(y, j) ON i = j) AS tables_same
FROM ev_manifest_before b CROSS JOIN LATERAL (SELECT aisec.manifest('ev_ds', b.v) AS m) a
ORDER BY b.v;
-- ... and every fingerprint and commit hash still verifies.
SELECT ok, count(*) FROM aisec.verify('ev_ds') GROUP BY ok;
-- The next commit records the deletion of Alice's live rows: nothing of
-- version 4 is redacted, and it verifies too.
SELECT (aisec.status('ev_ds')).*;
SELECT aisec.commit('ev_ds', 'after EV-1') AS v4;
SELECT m->'rows' AS rows, m->'redacted_rows' AS redacted FROM aisec.manifest('ev_ds', 4) m;
SELECT ok, count(*) FROM aisec.verify('ev_ds') GROUP BY ok;
-- Every role that reads manifests sees the counts; no other role.
SET ROLE ev_dpo;
SELECT aisec.manifest('ev_ds', 1)->'redacted_rows' AS dpo_sees;
SET ROLE ev_aud;
SELECT aisec.manifest('ev_ds', 1)->'redacted_rows' AS auditor_sees;
SET ROLE ev_eng;
SELECT aisec.manifest('ev_ds', 1)->'redacted_rows' AS engineer_sees;
SET ROLE ev_nobody;
SELECT aisec.manifest('ev_ds', 1);
RESET ROLE;

--
-- 2. diff(): a row with a redacted record in either version is 'erased',
--    by row id, with neither image.  Alice's row changed between versions
--    1 and 2 (it was 'changed' before the erasure); now it is erased.
--    Dave is added as before.
--
SELECT change, rid = :alice_rid AS alice, before IS NULL AS no_before, after IS NULL AS no_after
FROM aisec.diff('ev_people', 1, 2) ORDER BY alice, change;
-- Versions 2 and 3 hold the same redacted record of Alice's row: nothing
-- of hers is shown; only Bob's change and Carol's removal.
SELECT change, rid = :alice_rid AS alice, before->>'id' AS before_id, after->>'id' AS after_id
FROM aisec.diff('ev_people', 2, 3) ORDER BY change;
-- Version 3 to 4 (Alice's row deleted by the erasure), both directions,
-- from version 0, and her orders: erased, whichever way.
SELECT change, rid = :alice_rid AS alice, before, after FROM aisec.diff('ev_people', 3, 4);
SELECT change, rid = :alice_rid AS alice, before, after FROM aisec.diff('ev_people', 4, 3);
SELECT change, count(*), bool_and(before IS NULL AND after IS NULL) AS no_images
FROM aisec.diff('ev_orders', 0, 1) GROUP BY change ORDER BY change;
SELECT change, count(*) FROM aisec.diff('ev_orders', 1, 4) GROUP BY change ORDER BY change;
SELECT count(*) AS same_version FROM aisec.diff('ev_people', 2, 2);
-- Keyed diff: a redacted record has no key; it is matched by row id and
-- reported as erased in the same way.
SELECT change, rid = :alice_rid AS alice, before->>'id' AS before_id, after->>'id' AS after_id
FROM aisec.diff('ev_people', 1, 2, ARRAY['id']) ORDER BY change;
SELECT change, rid = :alice_rid AS alice FROM aisec.diff('ev_people', 2, 3, ARRAY['id']) ORDER BY change;
SELECT change, count(*) FROM aisec.diff('ev_orders', 4, 0, ARRAY['order_id', 'email']) GROUP BY change ORDER BY change;
SELECT change, count(*) FROM aisec.diff('ev_people', 1, 4, ARRAY['email']) GROUP BY change ORDER BY change;
-- diff_summary counts the erased rows in the first row; per column it
-- has no count for them (NULL): their values are gone.
SELECT * FROM aisec.diff_summary('ev_people', 1, 2);
SELECT * FROM aisec.diff_summary('ev_people', 1, 2, ARRAY['id']);
SELECT * FROM aisec.diff_summary('ev_orders', 0, 4) WHERE "column" IS NULL;
SELECT * FROM aisec.diff_summary('ev_people', 2, 3) WHERE "column" IS NULL;
-- diff still requires SELECT on the table: an engineer without it is refused.
REVOKE SELECT ON ev_people FROM ev_eng;
SET ROLE ev_eng;
SELECT * FROM aisec.diff('ev_people', 1, 2);
SELECT * FROM aisec.diff_summary('ev_people', 1, 2);
RESET ROLE;
GRANT SELECT ON ev_people TO ev_eng;
SET ROLE ev_dpo;
SELECT * FROM aisec.diff('ev_people', 1, 2);
RESET ROLE;

--
-- 3. checkout leaves Alice's rows out of every old version, raw and
--    masked, by number and by tag; the other rows are as they were.
--
SELECT v, array_agg(id ORDER BY id) AS people FROM generate_series(1, 4) v,
       aisec.checkout(NULL::ev_people, v) GROUP BY v ORDER BY v;
SELECT id, email, score FROM aisec.checkout(NULL::ev_people, 'ev-three') ORDER BY id;
SELECT v, array_agg(order_id ORDER BY order_id) AS orders FROM generate_series(1, 4) v,
       aisec.checkout(NULL::ev_orders, v) GROUP BY v ORDER BY v;
SET ROLE ev_analyst;
SELECT id, email, score FROM aisec.checkout(NULL::aisec_masked.ev_people, 1) ORDER BY id;
SELECT count(*) AS masked_v2 FROM aisec.checkout(NULL::aisec_masked.ev_people, 2);
RESET ROLE;
-- Revert to version 1 does not bring Alice back either.
SELECT * FROM aisec.revert('ev_ds', 1);
SELECT id, email, score FROM ev_people ORDER BY id;
SELECT (aisec.status('ev_ds')).*;
SELECT aisec.commit('ev_ds', 'back to v1') AS v5;

--
-- 4. A second erasure (Bob) later: the counts of the old versions grow,
--    their hashes do not move, every version verifies.
--
SET SESSION AUTHORIZATION ev_dpo;
SELECT aisec.request_erasure('bob@example.com', 'EV-2') > 0 AS registered;
SELECT e->'live_rows_deleted' AS live, e->'history_records_redacted' AS redacted
FROM aisec.erase('EV-2', 'bob@example.com') e;
RESET SESSION AUTHORIZATION;
SELECT v, m->'redacted_rows' AS redacted, jsonb_path_query_array(m, '$.tables[*].redacted_rows') AS per_table,
       m->>'commit_hash' = (SELECT commit_hash FROM aisec.versions WHERE dataset = 'ev_ds' AND version = v) AS hash_as_committed
FROM generate_series(1, 5) v, aisec.manifest('ev_ds', v) m ORDER BY v;
SELECT ok, count(*) FROM aisec.verify('ev_ds') GROUP BY ok;
SELECT change, count(*) FROM aisec.diff('ev_people', 1, 5) GROUP BY change ORDER BY change;

--
-- 5. A record blanked behind aisec's back (not by an erasure) is not
--    counted as redacted: verify reports it (checkout leaves it out).
--
SELECT aisec_rid AS dave_rid FROM aisec.checkout(NULL::ev_people, 2) WHERE id = 4 \gset
SELECT history AS hist_p FROM aisec.tracked WHERE rel = 'ev_people'::regclass \gset
ALTER TABLE :hist_p DISABLE TRIGGER ALL;
UPDATE :hist_p SET data = NULL, salt = NULL WHERE rid = :dave_rid;
ALTER TABLE :hist_p ENABLE TRIGGER ALL;
SELECT jsonb_path_query_array(aisec.manifest('ev_ds', 2), '$.tables[*].redacted_rows') AS per_table_v2;
SELECT ok, count(*) FROM aisec.verify('ev_ds', 2) GROUP BY ok;

--
-- 6. Nothing shown anywhere names the subjects.
--
SELECT count(*) AS manifests_naming FROM generate_series(1, 5) v
WHERE aisec.manifest('ev_ds', v)::text ~ '(alice|bob)@';
SELECT count(*) AS diffs_naming FROM generate_series(0, 5) a, generate_series(0, 5) b,
       aisec.diff('ev_people', a, b) d
WHERE d::text ~ '(alice|bob)@';

-- Clean up.
SELECT count(*) AS undeclared FROM (SELECT aisec.undeclare_subject(rel, attname) FROM aisec.erasure_subject) u;
SELECT aisec.drop_mask('ev_people', 'email');
SELECT aisec.unmask_role('ev_analyst');
SELECT aisec.drop_dataset('ev_ds', keep_history => false);
SELECT aisec.drop_key('ev_key');
DROP TABLE ev_people, ev_orders, ev_manifest_before, ev_diff_before;
DROP ROLE ev_adm, ev_dpo, ev_eng, ev_aud, ev_analyst, ev_nobody;
