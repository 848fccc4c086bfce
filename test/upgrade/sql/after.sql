-- Upgrade, part 2 of 2: the database before.sql made with aisec 0.1.0, now
-- served by today's library.  Update it, then check that every capability's
-- state survived and still works.  (test/run.sh then compares its aisec
-- objects with a fresh install's.)

-- Until the update, 0.1.0's declarations name C symbols today's library no
-- longer exports (the library's path is cut out, it differs by system).
DO $$
BEGIN
    PERFORM aisec.audit_verify();
EXCEPTION WHEN undefined_function THEN
    RAISE NOTICE '%', regexp_replace(SQLERRM, 'in file ".*"', 'in file "..."');
END
$$;

-- The update replaces aisec's functions in place (CREATE OR REPLACE), so
-- it refuses to run while schema aisec holds a function that is not the
-- extension's: here one taken out of the extension, as a planted one
-- would be.  Nothing changes (the transaction is rolled back).
BEGIN;
ALTER EXTENSION aisec DROP FUNCTION aisec.mask_email(text);
ALTER EXTENSION aisec UPDATE;
ROLLBACK;
SELECT extversion FROM pg_extension WHERE extname = 'aisec';

ALTER EXTENSION aisec UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'aisec';
SELECT prosrc FROM pg_proc WHERE oid = 'aisec.audit_verify'::regproc;
SELECT obj_description('aisec'::regnamespace, 'pg_namespace');
SELECT obj_description(oid, 'pg_extension') FROM pg_extension WHERE extname = 'aisec';

-- Audit log: the chain from before the update verifies, the digest taken
-- then still leads to today's chain, and new entries extend it.
SELECT ok, entries, first_bad_seq FROM aisec.audit_verify();
SELECT aisec.audit_verify_digest(digest) FROM upg_digest;
SELECT aisec.audit('upgrade.test', 'after', '{"step": 2}');
SELECT action, object FROM aisec.audit_log ORDER BY seq DESC LIMIT 2;
SELECT ok, entries, first_bad_seq FROM aisec.audit_verify();
-- Issue 18: entries written before the update (and during it) keep
-- encoding v1 (detail_sha256 NULL), those appended since are v2; one
-- chain, v1 first.  A v1 entry cannot be redacted (its hash covers the
-- detail itself); a v2 entry naming a person can, and the chain and the
-- digest taken before the update still verify.
SELECT count(*) FILTER (WHERE detail_sha256 IS NULL) > 0 AS has_v1,
       max(seq) FILTER (WHERE detail_sha256 IS NULL) < min(seq) FILTER (WHERE detail_sha256 IS NOT NULL) AS v1_then_v2,
       bool_and(detail_sha256 = sha256(convert_to(detail::text, 'UTF8'))) AS v2_sha_ok
FROM aisec.audit_log;
DO $$
BEGIN
    PERFORM aisec.redact_audit(seq, 'GDPR request UPG-1') FROM upg_audit_pii;
EXCEPTION WHEN object_not_in_prerequisite_state THEN
    RAISE NOTICE 'v1 entry: %', regexp_replace(SQLERRM, '\d+', 'N');
END
$$;
SELECT aisec.audit('support.note', 'after', '{"who": "nina.new@example.com"}') AS pii_seq \gset
SELECT aisec.redact_audit(:pii_seq, 'GDPR request UPG-2');
SELECT detail IS NULL AS redacted, (SELECT action FROM aisec.audit_log r WHERE r.seq = l.redacted_in) AS recorded_by
FROM aisec.audit_log l WHERE seq = :pii_seq;
SELECT ok, first_bad_seq FROM aisec.audit_verify();
SELECT aisec.audit_verify_digest(digest) AS digest_from_0_1_0_verifies FROM upg_digest;
SELECT count(*) FILTER (WHERE l::text LIKE '%nina.new%') AS new_email_rows,
       count(*) FILTER (WHERE l::text LIKE '%olga.old%') AS old_email_rows
FROM aisec.audit_log l;

-- Keys: the same keys give the same pseudonym and token; the token decrypts.
SELECT pseudonym = aisec.pseudonymize('alice', 'upg_hmac') AS same_pseudonym,
       token = aisec.ff1_encrypt('4111111111111111', 'upg_ff1') AS same_token,
       aisec.ff1_decrypt(token, 'upg_ff1') AS card
FROM upg_keyed;

-- Masking: the update built the masked view again (0.1.0 made it owned by
-- the extension owner; 0.2.0's belongs to the table's owner, is no
-- extension member, so pg_dump keeps dumping it as before, and calls
-- aisec.mask_ff1, which never fails on a value) and checked the masked role
-- again, and audited both.
SELECT pg_get_userbyid(c.relowner) = pg_get_userbyid(t.relowner) AS owned_by_table_owner,
       NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e') AS not_a_member,
       pg_get_viewdef(c.oid) LIKE '%aisec.mask_ff1(%' AS calls_mask_ff1
FROM pg_class c, pg_class t
WHERE c.oid = 'aisec_masked.customers'::regclass AND t.oid = 'customers'::regclass;
SELECT action, object FROM aisec.audit_log
WHERE action IN ('mask.view', 'mask.role') ORDER BY seq DESC LIMIT 2;
-- The masked view still masks, exactly as before; the masked role still
-- cannot read the table itself; a rule's stored column name follows a
-- rename (the aisec_mask_rule_sync event trigger).
SET ROLE upg_analyst;
SELECT name, email, card FROM aisec_masked.customers ORDER BY name;
SELECT count(*) FROM customers;
RESET ROLE;
SELECT count(*) AS rows_changed_by_update
FROM (SELECT * FROM upg_masked EXCEPT SELECT * FROM aisec_masked.customers) d;
ALTER TABLE customers RENAME COLUMN email TO mail;
SELECT col, rule FROM aisec.mask_rule ORDER BY attnum;
-- A key rotates; pseudonyms follow its new version.
SELECT aisec.rotate_key('upg_hmac');
SELECT name, purpose, version, current FROM aisec.keys ORDER BY name, version;
SELECT count(*) AS pseudonyms_changed
FROM upg_masked o JOIN aisec_masked.customers n ON n.name = o.name
WHERE n.id <> o.id;

-- Dataset versions: both versions verify, the tag checks out, the diff is
-- the one committed, and the changes pending since before the update
-- commit now; so does a new write.
SELECT version, "table", ok FROM aisec.verify('credit') ORDER BY version;
SELECT id, amount, approved FROM aisec.checkout(NULL::loans, 'v1') ORDER BY id;
SELECT change, coalesce(before, after) ->> 'id' AS id, before ->> 'amount' AS before,
       after ->> 'amount' AS after
FROM aisec.diff('loans', 1, 2) ORDER BY id;
-- 0.2.0's manifest adds upstream (no lineage recorded here) and
-- redacted_rows (none, per table too); the rest is as before.
SELECT jsonb_set(x - 'upstream' - 'redacted_rows', '{tables}',
                 (SELECT jsonb_agg(t - 'redacted_rows' ORDER BY i)
                  FROM jsonb_array_elements(x -> 'tables') WITH ORDINALITY e(t, i))) = m AS same_manifest,
       x -> 'upstream' AS upstream, x -> 'redacted_rows' AS redacted_rows,
       jsonb_path_query_array(x, '$.tables[*].redacted_rows') AS per_table
FROM upg_manifest, aisec.manifest('credit', 2) x;
-- OpenLineage events on an updated database: one per transform.
SELECT count(*) = (SELECT count(*) FROM aisec.lineage_transform) AS one_event_per_transform
FROM aisec.openlineage_events();
SELECT aisec.commit('credit', 'pending since 0.1.0');
SELECT change, coalesce(before, after) ->> 'id' AS id FROM aisec.diff('loans', 2, 3) ORDER BY id;
-- 0.2.0's keyed diff and diff_summary read versions committed under 0.1.0.
SELECT change, coalesce(before, after) ->> 'id' AS id, after ? 'aisec_rid' AS has_rid
FROM aisec.diff('loans', 1, 3, ARRAY['id']) ORDER BY id;
SELECT * FROM aisec.diff_summary('loans', 1, 3, ARRAY['id']);
UPDATE loans SET amount = 0 WHERE id = 3;
SELECT aisec.commit('credit', 'after the update');
SELECT aisec.tag('credit', 4, 'v4');
SELECT id, amount, approved FROM aisec.checkout(NULL::loans, 'v4') ORDER BY id;
SELECT version, "table", ok FROM aisec.verify('credit') ORDER BY version;
SELECT version, parent, message, rows FROM aisec.versions ORDER BY version;
-- 0.2.0: a masked role reads versions masked, through the masked view's
-- row type; a rule set now protects the versions committed before it, and
-- raw reads of versions refuse the masked role.
SELECT aisec.set_mask('loans', 'amount', 'generalize(1000)');
SET ROLE upg_analyst;
SELECT id, amount, approved FROM aisec.checkout(NULL::aisec_masked.loans, 'v1') ORDER BY id;
SELECT count(*) FROM aisec.checkout(NULL::loans, 'v1');
RESET ROLE;
SELECT aisec.drop_mask('loans', 'amount');
-- Housekeeping (issue 16) on the updated database: status and
-- tracked_tables read what 0.1.0 captured, untag removes a tag, verify
-- accepts it.
UPDATE loans SET amount = amount + 1 WHERE id = 3;
SELECT * FROM aisec.status('credit');
SELECT "table", rows, rows = (SELECT count(*) FROM loans) AS rows_exact, dataset, pending_changes
FROM aisec.tracked_tables;
SELECT aisec.untag('credit', 'v4');
SELECT bool_and(ok) AS all_ok FROM aisec.verify('credit');
-- aisec.revert() (0.2.0) on the updated database: back to version 1, rows
-- deleted since come back with their row ids; the commit says so.
SELECT inserted, updated, deleted FROM aisec.revert('credit', 1);
SELECT aisec.commit('credit') AS reverted;
SELECT message FROM aisec.versions WHERE version = 5;
SELECT count(*) AS differ_1_5
FROM ((SELECT * FROM aisec.checkout(NULL::loans, 1) EXCEPT ALL SELECT * FROM aisec.checkout(NULL::loans, 5))
      UNION ALL (SELECT * FROM aisec.checkout(NULL::loans, 5) EXCEPT ALL SELECT * FROM aisec.checkout(NULL::loans, 1))) d;
SELECT bool_and(ok) AS verified FROM aisec.verify('credit');
-- The tracking event triggers still guard the table.
ALTER TABLE loans DROP COLUMN approved;
DROP TRIGGER aisec_capture_delete ON loans;
-- And the extension is not dropped from under tracked tables (0.2.0).
DROP EXTENSION aisec;

-- Bias and drift statistics: the values stored under 0.1.0 read back, and
-- the aggregates give the same result today.
SELECT aisec.selection_rate(fairness, 'a'),
       aisec.demographic_parity_difference(fairness)
FROM upg_stats;
SELECT s.fairness::text = n.fairness::text AS same_fairness,
       s.histogram::text = n.histogram::text AS same_histogram,
       s.contingency::text = n.contingency::text AS same_contingency,
       s.categories::text = n.categories::text AS same_categories
FROM upg_stats s,
     (SELECT aisec.fairness(grp, y_true, y_pred) AS fairness,
             aisec.histogram(score, 0, 1, 4) AS histogram,
             aisec.contingency(grp, y_pred::text) AS contingency,
             aisec.category_counts(grp) AS categories
      FROM upg_outcomes) n;
SELECT aisec.fairness_merge(fairness)::text = (SELECT fairness::text FROM upg_stats) AS merge_reads_old
FROM upg_stats;

-- mask_role granted the analyst EXECUTE on the masking functions; take
-- that back, so that test/run.sh's comparison of aisec's objects with a
-- fresh install's sees only what the extension itself declares.
SELECT aisec.unmask_role('upg_analyst');

-- The BRIN indexes of the histories 0.1.0 created now summarize themselves.
SELECT c.relname, c.reloptions
  FROM aisec.tracked t
  JOIN pg_index i ON i.indrelid IN (t.history, t.ended)
  JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_am a ON a.oid = c.relam AND a.amname = 'brin'
 ORDER BY 1;

-- Row lineage (issue 17) on the updated database: a copy of a version
-- committed under 0.1.0, once tracked, links each of its rows to the row
-- of that version it copies.
SELECT aisec.materialize('loans', 1, 'upg_loans_v1');
SELECT aisec.track('upg_loans_v1') > 0 AS tracked;
SELECT c.id, u.depth, u.rel, u.valid_from
FROM upg_loans_v1 c, aisec.lineage_up(c.aisec_rid) u ORDER BY c.id;
SELECT c.id AS copied_id, d.rel
FROM loans l, aisec.lineage_down(l.aisec_rid) d JOIN upg_loans_v1 c ON c.aisec_rid = d.rid
WHERE l.id = 3;
-- An untracked source is recorded at table level, and a transaction's
-- transforms of one name make one audit entry.
CREATE TABLE upg_side (id int);
INSERT INTO upg_side VALUES (1), (2);
BEGIN;
SET LOCAL aisec.transform = 'upg';
INSERT INTO upg_loans_v1 (id, amount, approved)
SELECT l.id + 100, l.amount, l.approved FROM loans l JOIN upg_side s ON s.id = l.id;
INSERT INTO upg_loans_v1 (id, amount, approved)
SELECT l.id + 200, l.amount, l.approved FROM loans l JOIN upg_side s ON s.id = l.id;
COMMIT;
SELECT kind, level, untracked_sources FROM aisec.lineage_transform WHERE name = 'upg' ORDER BY id;
SELECT action, object, detail->>'transforms' AS transforms, detail->'kinds' AS kinds
FROM aisec.audit_log WHERE action = 'lineage.capture' AND detail->>'name' = 'upg';
DROP TABLE upg_side;
SELECT aisec.untrack('upg_loans_v1');

-- Erasure (issue 18) on the updated database: a subject column of a
-- table tracked under 0.1.0, a request (its keyed hash under the reserved
-- key $erasure, made now), its preview, its execution: the row's
-- history written under 0.1.0 is redacted and every version, 0.1.0's
-- included, still verifies.  The row derived from loan 3 (upg_loans_v1,
-- untracked above) is in no tracked table: not counted.  An erasure
-- policy is set and shown, then set back.
CREATE ROLE upg_dpo IN ROLE aisec_dpo;
SELECT aisec.declare_subject('loans', 'id');
SELECT aisec.set_erasure_policy('loans', 'keep_aggregate', 5);
SELECT rel, policy, min_parents FROM aisec.erasure_policies;
SELECT aisec.set_erasure_policy('loans', 'delete');
SET ROLE upg_dpo;
SELECT aisec.request_erasure('3', 'UPG-1') > 0 AS registered;
SELECT rel, live_rows, history_records, versions, derived_rows FROM aisec.erasure_preview('UPG-1', '3');
SELECT aisec.erase('UPG-1', '3') AS upg_cert \gset
SELECT :'upg_cert'::jsonb - 'id' - 'subject_hash' - 'row_ids_sha256'
    - '{format,legal_basis,requested_by,requested_at,due,approved_by,approved_at,executed_at,executed_by,audit,vacuum,post_check,signature}'::text[] AS erased;
-- The signed certificate, on an updated database (issue 18 item 6), and
-- the post-check re-run (item 7): the copy of loan 3 made above is in a
-- table untracked since, so its row can no longer be named; the check
-- says so.
SELECT aisec.verify_certificate(:'upg_cert') AS cert_verifies,
       aisec.erasure_certificate('UPG-1') = :'upg_cert'::jsonb AS cert_stored;
SELECT ok, rel, regexp_replace(regexp_replace(detail, '; VACUUM.*$', ''), 'seq \d+', 'seq N') AS detail FROM aisec.verify_erasure('UPG-1', '3');
RESET ROLE;
SELECT reference, status FROM aisec.erasure_requests;
SELECT count(*) AS loan_3 FROM loans WHERE id = 3;
SELECT ok, count(*) FROM aisec.verify('credit') GROUP BY ok;
-- The versions say what the erasure left of them: manifest counts the
-- redacted rows, diff reports loan 3's row as erased.
SELECT v, aisec.manifest('credit', v) -> 'redacted_rows' AS redacted_rows FROM generate_series(1, 4) v;
SELECT change, before, after FROM aisec.diff('loans', 1, 4) WHERE change = 'erased';
SELECT "column", erased FROM aisec.diff_summary('loans', 1, 4) WHERE "column" IS NULL;
SELECT aisec.undeclare_subject('loans', 'id');
DROP ROLE upg_dpo;

-- Last, the whole audit chain, with every entry the checks above wrote.
SELECT ok, first_bad_seq FROM aisec.audit_verify();
