--
-- What aisec refuses on Citus tables (issue 19, item 4; doc/scale-out.md).
--
-- Versioning, lineage and erasure keep row ids, history and records on one
-- node, so they refuse a Citus table up front with feature_not_supported
-- (0A000) naming Citus, before changing anything; a statement that reads
-- a Citus table into a tracked table is traced at table level.
--
SET citus.shard_count = 4;
SET citus.next_shard_id = 1940000;
\set SHOW_CONTEXT never
\set VERBOSITY default

CREATE TABLE dist_orders (id bigint, email text, amount numeric);
SELECT create_distributed_table('dist_orders', 'id');
INSERT INTO dist_orders SELECT i, 'c' || i || '@example.org', i FROM generate_series(1, 100) i;
CREATE TABLE ref_codes (code text, label text);
SELECT create_reference_table('ref_codes');
INSERT INTO ref_codes VALUES ('a', 'alpha');
CREATE TABLE citus_local_t (id bigint);
SELECT citus_add_local_table_to_metadata('citus_local_t');

-- 1. track() refuses distributed, reference and Citus local tables, and
--    leaves them as they were: no aisec_rid column, no aisec trigger, not
--    tracked.
\set VERBOSITY sqlstate
SELECT aisec.track('dist_orders');
\set VERBOSITY default
SELECT aisec.track('dist_orders');
SELECT aisec.track('ref_codes');
SELECT aisec.track('citus_local_t');
SELECT count(*) AS rid_columns FROM pg_attribute
WHERE attname = 'aisec_rid' AND attrelid IN ('dist_orders'::regclass, 'ref_codes'::regclass, 'citus_local_t'::regclass);
SELECT count(*) AS aisec_triggers FROM pg_trigger
WHERE tgfoid::regproc::text LIKE 'aisec.%' AND tgrelid IN ('dist_orders'::regclass, 'ref_codes'::regclass, 'citus_local_t'::regclass);
SELECT count(*) AS tracked FROM aisec.tracked_tables;
SELECT aisec.create_dataset('dist_set', ARRAY['dist_orders'::regclass]);

-- 2. Erasure: subject columns and erasure policies are refused on Citus
--    tables.
SELECT aisec.declare_subject('dist_orders', 'email');
SELECT aisec.declare_subject('ref_codes', 'code');
SELECT aisec.set_erasure_policy('dist_orders', 'keep_aggregate');
SELECT count(*) AS subject_columns FROM aisec.subject_columns;

-- A table declared while local and distributed afterwards (it is not
-- tracked, so it has no history or lineage) is erased through Citus: the
-- subject's rows go from every shard, and the post-check holds.
CREATE TABLE subjects_later (id bigint, email text);
INSERT INTO subjects_later SELECT i, 'p' || (i % 10) || '@example.org' FROM generate_series(1, 100) i;
SELECT aisec.declare_subject('subjects_later', 'email');
SELECT create_distributed_table('subjects_later', 'id');
SELECT aisec.request_erasure('p3@example.org', 'CITUS-1') > 0 AS requested;
SELECT rel, live_rows FROM aisec.erasure_preview('CITUS-1', 'p3@example.org');
SELECT aisec.erase('CITUS-1', 'p3@example.org') IS NOT NULL AS erased;
SELECT count(*) FILTER (WHERE email = 'p3@example.org') AS subject_rows, count(*) AS rows FROM subjects_later;
SELECT ok, rel FROM aisec.verify_erasure('CITUS-1', 'p3@example.org') ORDER BY rel NULLS LAST;
SELECT aisec.undeclare_subject('subjects_later', 'email');
DROP TABLE subjects_later;

-- 3. A tracked local table cannot be distributed afterwards: Citus itself
--    refuses a table with triggers (aisec's capture triggers).
CREATE TABLE local_tracked (id bigint, email text);
SELECT aisec.track('local_tracked') > 0 AS tracked;
SELECT create_distributed_table('local_tracked', 'id');
SELECT create_reference_table('local_tracked');

-- 4. Lineage: a statement that reads a Citus table and a tracked table
--    into a tracked table is recorded at table level, with a NOTICE
--    naming Citus; the Citus table appears as an untracked source.
CREATE TABLE local_source (id bigint, email text);
SELECT aisec.track('local_source') > 0 AS tracked;
INSERT INTO local_source SELECT i, 's' || i FROM generate_series(1, 10) i;
SET aisec.lineage = on;
INSERT INTO local_tracked SELECT d.id, s.email FROM dist_orders d JOIN local_source s USING (id);
INSERT INTO local_tracked SELECT id, email FROM dist_orders WHERE id <= 3;
SELECT source, target, kind, edges, source_tracked
FROM aisec.lineage_graph ORDER BY source, target;
-- Only the statement reading tracked rows got a transform; it is at table
-- level.
SELECT kind, level, edges FROM aisec.lineage_transform ORDER BY id;
RESET aisec.lineage;

SELECT aisec.untrack('local_tracked');
SELECT aisec.untrack('local_source');
DROP TABLE dist_orders, ref_codes, citus_local_t, local_tracked, local_source;
