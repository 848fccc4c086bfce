-- GDPR erasure of derived rows (issue 18 item 5, doc/erasure.md): rows
-- derived from a subject's rows through lineage are erased with them, in
-- every version, except aggregates a table's policy keeps
-- (aisec.set_erasure_policy ... 'keep_aggregate'); lineage is not
-- followed below a kept aggregate.

CREATE ROLE dr_adm IN ROLE aisec_admin;
CREATE ROLE dr_dpo IN ROLE aisec_dpo;
CREATE ROLE dr_eng IN ROLE aisec_engineer;
CREATE ROLE dr_aud IN ROLE aisec_auditor;
SELECT coalesce(max(seq), 0) AS seq0 FROM aisec.audit_log \gset
SELECT aisec.require_erasure_approval(false);

-- Raw rows (the subject column: email), two levels derived from them by
-- INSERT ... SELECT (dr_raw <- dr_clean <- dr_feat), an aggregate by
-- GROUP BY (dr_agg) and a report copied from the aggregate (dr_report).
-- Alice has a row in group a (with Bob and Carol: 3 rows) and one in
-- group b (with Dave: 2 rows); Erin alone is in group c.
CREATE TABLE dr_raw (id int PRIMARY KEY, email text, grp text, v int);
CREATE INDEX ON dr_raw (email);
CREATE TABLE dr_clean (id int, v2 int);
CREATE TABLE dr_feat (id int, f int);
CREATE TABLE dr_agg (grp text, n bigint, total bigint);
CREATE TABLE dr_report (grp text, total bigint);
-- A hostile name, derived from dr_raw too.
CREATE TABLE "dr odd""tab.le" (id int);
SELECT count(*) AS tracked FROM unnest(ARRAY['dr_raw', 'dr_clean', 'dr_feat', 'dr_agg', 'dr_report', '"dr odd""tab.le"']) t,
       aisec.track(t::regclass);
SELECT aisec.create_dataset('dr_ds', ARRAY['dr_raw', 'dr_clean', 'dr_feat', 'dr_agg', 'dr_report', '"dr odd""tab.le"']::regclass[]) > 0 AS created;
INSERT INTO dr_raw VALUES (1, 'alice@dr.example', 'a', 10), (2, 'alice@dr.example', 'b', 20),
    (3, 'bob@dr.example', 'a', 30), (4, 'carol@dr.example', 'a', 40),
    (5, 'dave@dr.example', 'b', 50), (6, 'erin@dr.example', 'c', 60);
INSERT INTO dr_clean SELECT id, v * 2 FROM dr_raw;
INSERT INTO dr_feat SELECT id, v2 + 1 FROM dr_clean;
INSERT INTO dr_agg SELECT grp, count(*), sum(v) FROM dr_raw GROUP BY grp;
INSERT INTO dr_report SELECT grp, total FROM dr_agg;
INSERT INTO "dr odd""tab.le" SELECT id FROM dr_raw WHERE grp = 'a';
SELECT aisec.commit('dr_ds', 'v1');
-- Version 2: one of Alice's features deleted (its history still holds it).
DELETE FROM dr_feat WHERE id = 2;
SELECT aisec.commit('dr_ds', 'v2');
-- Uncommitted: a new feature derived from Alice's clean row 1.
INSERT INTO dr_feat SELECT id, v2 + 100 FROM dr_clean WHERE id = 1;

SELECT aisec_rid AS agg_a FROM dr_agg WHERE grp = 'a' \gset
SELECT aisec_rid AS agg_b FROM dr_agg WHERE grp = 'b' \gset
-- Every row version's data before, by table name.
CREATE TABLE dr_before (rel text, rid bigint, valid_from bigint, hash bytea, data text);
CREATE PROCEDURE dr_snapshot(tab text) LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
    FOR r IN SELECT rel, history FROM aisec.tracked WHERE rel::text LIKE 'dr\_%' OR rel::text LIKE '"dr odd%' LOOP
        EXECUTE format('INSERT INTO %I SELECT %L, rid, valid_from, hash, data::text FROM %s',
                       tab, r.rel::text, r.history);
    END LOOP;
END$$;
CALL dr_snapshot('dr_before');
SELECT rel, count(*) AS records FROM dr_before GROUP BY rel ORDER BY rel;
CREATE TABLE dr_checkout_before AS
SELECT v, f.id, f.f FROM generate_series(1, 2) v, aisec.checkout(NULL::dr_feat, v) f;

SELECT aisec.declare_subject('dr_raw', 'email');

--
-- 1. The policy: who may set it, and what it accepts.
--
SET SESSION AUTHORIZATION dr_eng;
SELECT aisec.set_erasure_policy('dr_agg', 'keep_aggregate', 3);
SELECT * FROM aisec.erasure_policies;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION dr_aud;
SELECT aisec.set_erasure_policy('dr_agg', 'keep_aggregate', 3);
SELECT count(*) AS policies FROM aisec.erasure_policies;
RESET SESSION AUTHORIZATION;
CREATE VIEW dr_view AS SELECT * FROM dr_agg;
SET SESSION AUTHORIZATION dr_adm;
SELECT aisec.set_erasure_policy('dr_agg', 'keep', 3);
SELECT aisec.set_erasure_policy('dr_agg', 'KEEP_AGGREGATE', 3);
SELECT aisec.set_erasure_policy('dr_agg', 'keep_aggregate', 1);
SELECT aisec.set_erasure_policy('dr_agg', 'keep_aggregate', -5);
SELECT aisec.set_erasure_policy('dr_agg', NULL, 3);
SELECT aisec.set_erasure_policy('dr_agg', 'keep_aggregate', NULL);
SELECT aisec.set_erasure_policy(NULL, 'delete');
SELECT aisec.set_erasure_policy('dr_view', 'keep_aggregate');
SELECT aisec.set_erasure_policy('pg_class', 'keep_aggregate');
SELECT aisec.set_erasure_policy('aisec.erasure_policy', 'keep_aggregate');
SELECT aisec.set_erasure_policy(12345678::oid::regclass, 'keep_aggregate');
BEGIN READ ONLY;
SELECT aisec.set_erasure_policy('dr_agg', 'keep_aggregate');
ROLLBACK;
RESET SESSION AUTHORIZATION;
-- The role check is made in C too: EXECUTE alone is not enough.
BEGIN;
GRANT EXECUTE ON FUNCTION aisec.set_erasure_policy(regclass, text, integer) TO dr_eng;
SET SESSION AUTHORIZATION dr_eng;
SELECT aisec.set_erasure_policy('dr_agg', 'keep_aggregate');
ROLLBACK;
SET SESSION AUTHORIZATION dr_adm;
-- Set (default min_parents 10), then changed by a DPO.
SELECT aisec.set_erasure_policy('dr_agg', 'keep_aggregate');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION dr_dpo;
SELECT aisec.set_erasure_policy('dr_agg', 'keep_aggregate', 4);
SELECT aisec.set_erasure_policy('dr_report', 'delete');
SELECT rel, policy, min_parents, set_by FROM aisec.erasure_policies ORDER BY rel::text;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION dr_aud;
SELECT rel, policy, min_parents FROM aisec.erasure_policies ORDER BY rel::text;
RESET SESSION AUTHORIZATION;
-- Only through the function, for every role.
UPDATE aisec.erasure_policy SET min_parents = 2;
DELETE FROM aisec.erasure_policy;
SELECT action, object, detail FROM aisec.audit_log
WHERE seq > :seq0 AND action = 'erasure.policy' ORDER BY seq;

--
-- 2. The dry run.  With min_parents 4, both of Alice's aggregates have too
--    few parents (3 and 2): derived, erased, and so is the report below
--    them.  Derived rows are counted in the table they are in; tables
--    with no subject column get rows of their own, after the declared
--    ones.  dr_feat: Alice's two features of version 1 (one deleted since)
--    and the uncommitted one.
--
SET SESSION AUTHORIZATION dr_dpo;
SELECT aisec.request_erasure('alice@dr.example', 'DR-1') > 0 AS registered;
SELECT rel, live_rows, history_records, versions, derived_rows
FROM aisec.erasure_preview('DR-1', 'alice@dr.example');
-- With min_parents 3, group a's aggregate (3 parents) is kept, and the
-- report row made from it is not followed; group b's (2 parents) is not.
SELECT aisec.set_erasure_policy('dr_agg', 'keep_aggregate', 3);
RESET SESSION AUTHORIZATION;
CREATE TABLE dr_preview AS SELECT * FROM aisec.erasure_preview('DR-1', 'alice@dr.example');
SELECT rel, live_rows, history_records, versions, derived_rows FROM dr_preview;

--
-- 3. The erasure.  Per table: derived rows erased (live rows deleted,
--    history records redacted) and kept, with the policy and why.
--
SET SESSION AUTHORIZATION dr_dpo;
SELECT aisec.erase('DR-1', 'alice@dr.example') AS summary \gset
RESET SESSION AUTHORIZATION;
SELECT t->>'table' AS "table", t->'live_rows_deleted' AS live, t->'history_records_redacted' AS hist,
       t->'derived_rows_deleted' AS derived, t->'derived_live_rows_deleted' AS derived_live,
       t->'derived_history_records_redacted' AS derived_hist, t->'derived_rows_kept' AS kept,
       t->>'policy' AS policy, t->'min_parents' AS min_parents
FROM jsonb_array_elements(:'summary'::jsonb->'tables') t;
SELECT (k->>'rid')::bigint = :agg_a AS is_group_a, k->'parents' AS parents, k->>'reason' AS reason
FROM jsonb_array_elements(:'summary'::jsonb->'tables') t, jsonb_array_elements(t->'kept') k;
-- The preview said exactly this.
SELECT p.rel, p.live_rows = (t->>'live_rows_deleted')::bigint AS live_same,
       p.history_records = (t->>'history_records_redacted')::bigint AS history_same,
       p.derived_rows = (t->>'derived_rows_deleted')::bigint AS derived_same
FROM dr_preview p FULL JOIN jsonb_array_elements(:'summary'::jsonb->'tables') t
  ON (t->>'table')::regclass = p.rel;
SELECT (:'summary'::jsonb->>'row_ids')::int AS row_ids,
       (SELECT count(*) FROM aisec.erasure_row e JOIN aisec.erasure_requests r ON r.id = e.request_id
        WHERE r.reference = 'DR-1') AS erasure_rows;

--
-- 4. What is left: live rows, and history records by table (erased:
--    data and salt NULL, hash kept).  Bob, Carol, Dave and Erin's rows,
--    the kept aggregate and the report made from it are untouched.
--
SELECT id, email, grp FROM dr_raw ORDER BY id;
SELECT id, v2 FROM dr_clean ORDER BY id;
SELECT id, f FROM dr_feat ORDER BY id, f;
SELECT grp, n, total FROM dr_agg ORDER BY grp;
SELECT grp, total FROM dr_report ORDER BY grp;
SELECT id FROM "dr odd""tab.le" ORDER BY id;
CREATE TABLE dr_after AS SELECT * FROM dr_before WHERE false;
CALL dr_snapshot('dr_after');
SELECT b.rel, count(*) AS records,
       count(*) FILTER (WHERE a.data IS NULL) AS redacted,
       count(*) FILTER (WHERE a.hash = b.hash) AS hash_kept,
       count(*) FILTER (WHERE a.rid IS NULL) AS gone,
       count(*) FILTER (WHERE a.data IS NOT NULL AND a.data <> b.data) AS changed
FROM dr_before b LEFT JOIN dr_after a ON a.rid = b.rid AND a.valid_from = b.valid_from
GROUP BY b.rel ORDER BY b.rel;
-- Redacted records are exactly those of erased row ids.
SELECT count(*) AS redacted_not_erased FROM dr_after a
WHERE a.data IS NULL AND NOT EXISTS (SELECT FROM aisec.erasure_row e WHERE e.rid = a.rid
                  AND e.request_id IN (SELECT id FROM aisec.erasure_requests WHERE reference LIKE 'DR-%'));
SELECT count(*) AS erased_with_data FROM dr_after a
WHERE a.data IS NOT NULL AND EXISTS (SELECT FROM aisec.erasure_row e WHERE e.rid = a.rid
                  AND e.request_id IN (SELECT id FROM aisec.erasure_requests WHERE reference LIKE 'DR-%'));
SELECT count(*) AS history_with_alice FROM dr_after WHERE data LIKE '%alice%';
SELECT count(*) AS audit_with_alice FROM aisec.audit_log
WHERE seq > :seq0 AND (detail::text LIKE '%alice%' OR object LIKE '%alice%');

--
-- 5. Every version verifies; old versions check out without the erased
--    derived rows and with every other row.
--
SELECT ok, count(*) FROM aisec.verify('dr_ds') GROUP BY ok;
SELECT b.v, count(*) AS before, count(c.id) AS now
FROM dr_checkout_before b
LEFT JOIN LATERAL (SELECT f.id FROM aisec.checkout(NULL::dr_feat, b.v) f
                   WHERE f.id = b.id AND f.f = b.f) c ON true
GROUP BY b.v ORDER BY b.v;
SELECT v, array_agg(id ORDER BY id) AS feat_ids FROM generate_series(1, 2) v, aisec.checkout(NULL::dr_feat, v)
GROUP BY v ORDER BY v;
SELECT grp FROM aisec.checkout(NULL::dr_agg, 1) ORDER BY grp;
SELECT grp FROM aisec.checkout(NULL::dr_report, 1) ORDER BY grp;
SELECT aisec.commit('dr_ds', 'after erasure');
SELECT ok, count(*) FROM aisec.verify('dr_ds') GROUP BY ok;
-- The certificate's post-check and verify_erasure, later: no derived
-- row beyond the aggregate kept by policy (group a) holds data.
SELECT :'summary'::jsonb->'post_check'->'ok' AS post_check_ok;
SET SESSION AUTHORIZATION dr_dpo;
SELECT ok, rel FROM aisec.verify_erasure('DR-1', 'alice@dr.example') WHERE ok IS DISTINCT FROM true;
SELECT bool_and(ok) AS verified FROM aisec.verify_erasure('DR-1', 'alice@dr.example');
RESET SESSION AUTHORIZATION;
-- A row derived from an erased row after the erasure (here by
-- record_lineage, in a transaction rolled back) is reported.
BEGIN;
INSERT INTO dr_feat VALUES (99, 99);
SELECT aisec.record_lineage(ARRAY[(SELECT aisec_rid FROM dr_feat WHERE id = 99)],
                            ARRAY[(SELECT min(e.rid) FROM aisec.erasure_row e JOIN aisec.erasure_requests r ON r.id = e.request_id
                                   WHERE r.reference = 'DR-1')]) IS NOT NULL AS recorded;
SELECT ok, rel FROM aisec.verify_erasure('DR-1') WHERE ok IS DISTINCT FROM true;
ROLLBACK;

--
-- 6. A second subject whose derived rows an earlier erasure erased
--    already: Dave's aggregate (group b) and its report are not erased
--    twice; his own clean and feature rows are.
--
SET SESSION AUTHORIZATION dr_dpo;
SELECT aisec.request_erasure('dave@dr.example', 'DR-2') > 0 AS registered;
SELECT rel, live_rows, derived_rows FROM aisec.erasure_preview('DR-2', 'dave@dr.example');
SELECT t->>'table' AS "table", t->'derived_rows_deleted' AS derived, t->'derived_rows_kept' AS kept
FROM jsonb_array_elements(aisec.erase('DR-2', 'dave@dr.example')->'tables') t;
RESET SESSION AUTHORIZATION;
SELECT id FROM dr_clean ORDER BY id;
SELECT ok, count(*) FROM aisec.verify('dr_ds') GROUP BY ok;

--
-- 7. A DELETE trigger a table owner wrote on a table holding derived rows
--    would run with the extension owner's rights: refused, nothing changed.
--
CREATE FUNCTION dr_trigger() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN OLD; END$$;
ALTER FUNCTION dr_trigger() OWNER TO dr_eng;
CREATE TRIGGER dr_feat_del BEFORE DELETE ON dr_feat FOR EACH ROW EXECUTE FUNCTION dr_trigger();
SET SESSION AUTHORIZATION dr_dpo;
SELECT aisec.request_erasure('bob@dr.example', 'DR-3') > 0 AS registered;
SELECT aisec.erase('DR-3', 'bob@dr.example');
RESET SESSION AUTHORIZATION;
SELECT count(*) AS feats FROM dr_feat;
SELECT status FROM aisec.erasure_requests WHERE reference = 'DR-3';

--
-- 8. Many tables derived from one row, each with a keep_aggregate policy
--    its single-parent rows do not meet: all erased.
--
DROP TRIGGER dr_feat_del ON dr_feat;
INSERT INTO dr_raw VALUES (7, 'frank@dr.example', 'f', 70);
DO $$BEGIN
    FOR i IN 1..12 LOOP
        EXECUTE format('CREATE TABLE dr_w%s (id int)', i);
        PERFORM aisec.track(format('dr_w%s', i)::regclass);
        EXECUTE format('INSERT INTO dr_w%s SELECT id FROM dr_raw WHERE id = 7', i);
        PERFORM aisec.set_erasure_policy(format('dr_w%s', i)::regclass, 'keep_aggregate', 2);
    END LOOP;
END$$;
SET SESSION AUTHORIZATION dr_dpo;
SELECT aisec.request_erasure('frank@dr.example', 'DR-4') > 0 AS registered;
SELECT count(*) AS tables, sum(derived_rows) AS derived FROM aisec.erasure_preview('DR-4', 'frank@dr.example')
WHERE rel::text LIKE 'dr\_w%';
SELECT count(*) AS tables, sum((t->>'derived_rows_deleted')::int) AS derived,
       sum((t->>'derived_rows_kept')::int) AS kept
FROM jsonb_array_elements(aisec.erase('DR-4', 'frank@dr.example')->'tables') t
WHERE t->>'table' LIKE 'public.dr\_w%';
RESET SESSION AUTHORIZATION;
CREATE TABLE dr_w_oids AS SELECT format('dr_w%s', i)::regclass::oid AS oid FROM generate_series(1, 12) i;
DO $$BEGIN
    FOR i IN 1..12 LOOP
        PERFORM aisec.untrack(format('dr_w%s', i)::regclass);
        EXECUTE format('DROP TABLE dr_w%s', i);
    END LOOP;
END$$;
SELECT count(*) AS taken_back FROM dr_w_oids, aisec.set_erasure_policy(oid::regclass, 'delete');
DROP TABLE dr_w_oids;

-- The audit entries: the summaries, never the subject.
SELECT object, detail->'tables' @> '[{"derived_rows_kept": 1, "policy": "keep_aggregate", "min_parents": 3}]' AS kept_recorded
FROM aisec.audit_log WHERE seq > :seq0 AND action = 'erasure.execute' ORDER BY seq;
SELECT count(*) AS audit_with_subjects FROM aisec.audit_log
WHERE seq > :seq0 AND (detail::text ~ '(alice|bob|dave|frank)@' OR object ~ '(alice|bob|dave|frank)@');
SELECT ok AS chain_ok FROM aisec.audit_verify();

-- Clean up.  A dropped table's policy is taken back by its OID ('delete').
SELECT aisec.undeclare_subject('dr_raw', 'email');
DROP VIEW dr_view;
SELECT aisec.drop_dataset('dr_ds', keep_history => false);
SELECT 'dr_agg'::regclass::oid AS agg_oid, 'dr_report'::regclass::oid AS report_oid \gset
DROP TABLE dr_raw, dr_clean, dr_feat, dr_agg, dr_report, "dr odd""tab.le", dr_before, dr_after, dr_checkout_before,
    dr_preview CASCADE;
SELECT count(*) AS dropped_tables_policies FROM aisec.erasure_policies WHERE rel IN (:agg_oid, :report_oid);
SELECT aisec.set_erasure_policy(:agg_oid, 'delete'), aisec.set_erasure_policy(:report_oid, 'delete');
SELECT count(*) AS dropped_tables_policies FROM aisec.erasure_policies WHERE rel IN (:agg_oid, :report_oid);
-- None left to take back: an error (its message names the OID).
\set VERBOSITY sqlstate
SELECT aisec.set_erasure_policy(:agg_oid, 'delete');
\set VERBOSITY default
DROP FUNCTION dr_trigger();
DROP PROCEDURE dr_snapshot(text);
DROP ROLE dr_adm, dr_dpo, dr_eng, dr_aud;
