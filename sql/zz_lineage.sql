-- Row lineage (issue 17, doc/lineage.md): explicit edges with
-- aisec.record_lineage, transitive queries up and down, lineage of
-- materialize() and of tracking a copy, the settings, and what is refused.
-- (Named zz_ so that it runs last: the versioning tests before it expect
-- the table numbers they get in a fresh database.)

CREATE ROLE ln_adm IN ROLE aisec_admin;
CREATE ROLE ln_eng IN ROLE aisec_engineer;
CREATE ROLE ln_dpo IN ROLE aisec_dpo;
CREATE ROLE ln_aud IN ROLE aisec_auditor;
CREATE ROLE ln_nobody;

-- Row ids shown as table#n, which stays the same whatever table numbers
-- earlier tests took.
CREATE FUNCTION ln_name(rid bigint) RETURNS text LANGUAGE sql
    AS $$ SELECT coalesce(aisec.rid_table(rid)::text, '?') || '#' || (rid & ((1::bigint << 40) - 1)) $$;
CREATE FUNCTION ln_rid(t regclass, i int) RETURNS bigint LANGUAGE plpgsql
    AS $$ DECLARE r bigint; BEGIN EXECUTE format('SELECT aisec_rid FROM %s WHERE id = $1', t) INTO r USING i; RETURN r; END $$;
-- Earlier tests' materialize() calls left transforms: count only ours.
CREATE TABLE ln_t0 AS SELECT coalesce(max(id), 0) AS t0 FROM aisec.lineage_transform;
SELECT t0 FROM ln_t0 \gset
CREATE FUNCTION ln_counts(OUT transforms bigint, OUT edge_rows bigint) LANGUAGE sql
    AS $$ SELECT (SELECT count(*) FROM aisec.lineage_transform WHERE id > (SELECT t0 FROM ln_t0)),
                 (SELECT count(*) FROM aisec.lineage_edge WHERE transform > (SELECT t0 FROM ln_t0)) $$;
-- Run a statement; its error with row ids shown as <rid>.
CREATE FUNCTION ln_try(sql text) RETURNS text LANGUAGE plpgsql
    AS $$ BEGIN EXECUTE sql; RETURN 'ok'; EXCEPTION WHEN OTHERS THEN
          RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '[0-9]{7,}', '<rid>', 'g'); END $$;

-- Three tracked tables: raw rows, cleaned rows, features.
CREATE TABLE ln_raw (id int, email text);
INSERT INTO ln_raw SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 5) g;
CREATE TABLE ln_clean (id int, ok boolean);
INSERT INTO ln_clean SELECT g, true FROM generate_series(1, 3) g;
CREATE TABLE ln_feat (id int, score float8);
INSERT INTO ln_feat VALUES (1, 0.5), (2, 0.25);
SELECT aisec.track('ln_raw') > 0 AS t1, aisec.track('ln_clean') > 0 AS t2, aisec.track('ln_feat') > 0 AS t3;
GRANT SELECT ON ln_raw, ln_clean, ln_feat TO ln_eng;

--
-- 1. record_lineage: clean 1 <- raw 1, raw 2; clean 2 <- raw 3;
--    clean 3 <- raw 4, raw 5; feat 1 <- clean 1, clean 2; feat 2 <- clean 3.
--
SET ROLE ln_eng;
SELECT aisec.record_lineage(
    ARRAY[ln_rid('ln_clean', 1), ln_rid('ln_clean', 1), ln_rid('ln_clean', 2), ln_rid('ln_clean', 3), ln_rid('ln_clean', 3)],
    ARRAY[ln_rid('ln_raw', 1), ln_rid('ln_raw', 2), ln_rid('ln_raw', 3), ln_rid('ln_raw', 4), ln_rid('ln_raw', 5)],
    'clean_v1') > 0 AS recorded;
SELECT aisec.record_lineage(
    ARRAY[ln_rid('ln_feat', 1), ln_rid('ln_feat', 1), ln_rid('ln_feat', 2), ln_rid('ln_feat', 2)],
    ARRAY[ln_rid('ln_clean', 1), ln_rid('ln_clean', 2), ln_rid('ln_clean', 3), ln_rid('ln_clean', 3)]) > 0 AS recorded_with_duplicate;
RESET ROLE;

-- One transform per call; the duplicate edge is recorded once; rows
-- tracked at the start are in version 1.
SELECT kind, name, level, edges, role,
       (SELECT array_agg(aisec.rid_table(t.no::bigint << 40)::text ORDER BY t.no) FROM unnest(sources) t(no)) AS sources,
       source_versions,
       (SELECT array_agg(aisec.rid_table(t.no::bigint << 40)::text ORDER BY t.no) FROM unnest(targets) t(no)) AS targets
FROM aisec.lineage_transform WHERE id > :t0 ORDER BY id;
-- Edge rows: one per child version and parent block (here, per child).
SELECT ln_name(child) AS child, child_from, length(parents) AS bytes FROM aisec.lineage_edge WHERE transform > :t0 ORDER BY child;

--
-- 2. Up and down, transitively, each row once.
--
SELECT depth, ln_name(rid) AS rid, rel, valid_from, transform > 0 AS has_transform
FROM aisec.lineage_up(ln_rid('ln_feat', 1)) ORDER BY depth, 2;
SELECT depth, ln_name(rid) AS rid, rel, valid_from
FROM aisec.lineage_down(ln_rid('ln_raw', 5)) ORDER BY depth, 2;
-- depth limits the walk; 0 gives nothing; NULL goes all the way.
SELECT depth, ln_name(rid) AS rid FROM aisec.lineage_up(ln_rid('ln_feat', 1), 1) ORDER BY 1, 2;
SELECT count(*) AS at_depth_0 FROM aisec.lineage_up(ln_rid('ln_feat', 1), 0);
SELECT count(*) AS all_the_way FROM aisec.lineage_down(ln_rid('ln_raw', 1), NULL);
-- Array forms: every descendant of several rows, each once.
SELECT depth, ln_name(rid) AS rid
FROM aisec.lineage_down(ARRAY[ln_rid('ln_raw', 1), ln_rid('ln_raw', 2), ln_rid('ln_raw', 3)]) ORDER BY 1, 2;
SELECT depth, ln_name(rid) AS rid
FROM aisec.lineage_up(ARRAY[ln_rid('ln_feat', 1), ln_rid('ln_feat', 2)], 1) ORDER BY 1, 2;
-- A start row reached again from another start row is not reported.
SELECT depth, ln_name(rid) AS rid
FROM aisec.lineage_up(ARRAY[ln_rid('ln_feat', 1), ln_rid('ln_clean', 1)], 1) ORDER BY 1, 2;
-- Rows without lineage, unknown ids, NULLs: nothing.
SELECT count(*) AS none FROM aisec.lineage_up(ln_rid('ln_raw', 1));
SELECT count(*) AS none FROM aisec.lineage_down(ln_rid('ln_feat', 2));
SELECT count(*) AS none FROM aisec.lineage_up(-1);
SELECT count(*) AS none FROM aisec.lineage_up(NULL::bigint);
SELECT count(*) AS none FROM aisec.lineage_down('{}'::bigint[]);
SELECT * FROM aisec.lineage_up(ln_rid('ln_feat', 1), -1);
SELECT * FROM aisec.lineage_down(ARRAY[1, NULL]::bigint[]);
SELECT * FROM aisec.lineage_down('{{1},{2}}'::bigint[]);

--
-- 3. Cycles: raw 1 <- feat 1 closes a loop; walks still end, each row once,
--    and the start row is not its own ancestor.
--
SELECT aisec.record_lineage(ARRAY[ln_rid('ln_raw', 1)], ARRAY[ln_rid('ln_feat', 1)], 'loop') > 0 AS loop;
SELECT depth, ln_name(rid) AS rid FROM aisec.lineage_up(ln_rid('ln_feat', 1)) ORDER BY 1, 2;
SELECT depth, ln_name(rid) AS rid FROM aisec.lineage_down(ln_rid('ln_raw', 2)) ORDER BY 1, 2;

--
-- 4. Row versions: a row updated since the last commit is recorded at the
--    pending version; a row inserted since (no history record yet) too.
--
SELECT aisec.create_dataset('ln_ds', ARRAY['ln_raw'::regclass]) > 0 AS created;
SELECT aisec.commit('ln_ds', 'v1') AS v1;
UPDATE ln_raw SET email = 'changed@example.com' WHERE id = 2;
INSERT INTO ln_raw VALUES (6, 'new@example.com');
SELECT aisec.record_lineage(ARRAY[ln_rid('ln_clean', 2), ln_rid('ln_clean', 2), ln_rid('ln_clean', 2)],
                            ARRAY[ln_rid('ln_raw', 1), ln_rid('ln_raw', 2), ln_rid('ln_raw', 6)], 'versions') > 0 AS recorded;
SELECT depth, ln_name(rid) AS rid, valid_from FROM aisec.lineage_up(ln_rid('ln_clean', 2), 1) ORDER BY 1, 2, 3;
-- A deleted row is still a row (its history holds it).
SELECT ln_rid('ln_raw', 5) AS raw5 \gset
DELETE FROM ln_raw WHERE id = 5;
SELECT aisec.record_lineage(ARRAY[ln_rid('ln_feat', 2)], ARRAY[:raw5], 'deleted parent') > 0 AS recorded;
SELECT depth, ln_name(rid) AS rid, valid_from FROM aisec.lineage_up(ln_rid('ln_feat', 2), 1) ORDER BY 1, 2;

--
-- 5. Bad input: a clear error, and nothing written.
--
SELECT * FROM ln_counts();
SELECT aisec.record_lineage(NULL, ARRAY[1]::bigint[]);
SELECT aisec.record_lineage(ARRAY[ln_rid('ln_clean', 1)], ARRAY[ln_rid('ln_raw', 1), ln_rid('ln_raw', 2)]);
SELECT aisec.record_lineage(ARRAY[ln_rid('ln_clean', 1), NULL], ARRAY[ln_rid('ln_raw', 1), ln_rid('ln_raw', 2)]);
SELECT aisec.record_lineage('{}', '{}');
SELECT aisec.record_lineage(ARRAY[[ln_rid('ln_clean', 1)]], ARRAY[[ln_rid('ln_raw', 1)]]);
-- an id that is no aisec row id, one of an untracked table number, one
-- past the table's rows, a row linked to itself
SELECT aisec.record_lineage(ARRAY[ln_rid('ln_clean', 1)], ARRAY[-7]::bigint[]);
SELECT aisec.record_lineage(ARRAY[ln_rid('ln_clean', 1)], ARRAY[(8388607::bigint << 40) + 1]);
SELECT ln_try(format('SELECT aisec.record_lineage(%L, %L)', ARRAY[ln_rid('ln_clean', 1), ln_rid('ln_clean', 2)],
                     ARRAY[ln_rid('ln_raw', 1), ln_rid('ln_raw', 1) + 100000]));
SELECT ln_try(format('SELECT aisec.record_lineage(%L, %L)', ARRAY[ln_rid('ln_clean', 1)], ARRAY[ln_rid('ln_clean', 1)]));
-- a name longer than 200 bytes
SELECT aisec.record_lineage(ARRAY[ln_rid('ln_clean', 1)], ARRAY[ln_rid('ln_raw', 1)], repeat('x', 201));
SELECT * FROM ln_counts();
-- A rolled-back call leaves nothing.
BEGIN;
SELECT aisec.record_lineage(ARRAY[ln_rid('ln_clean', 3)], ARRAY[ln_rid('ln_raw', 3)]) > 0 AS recorded;
ROLLBACK;
SELECT * FROM ln_counts();

--
-- 6. Privileges.  Reading lineage: the four aisec roles; recording: admin
--    and engineer, with SELECT on every table named; nobody else.
--
CREATE TABLE ln_secret (id int);
INSERT INTO ln_secret VALUES (1);
SELECT aisec.track('ln_secret') > 0 AS tracked;
SET ROLE ln_eng;
SELECT aisec.record_lineage(ARRAY[ln_rid('ln_clean', 1)], ARRAY[(SELECT aisec_rid FROM ln_secret)]);
RESET ROLE;
SELECT ln_rid('ln_secret', 1) AS secret1 \gset
SET ROLE ln_eng;
SELECT aisec.record_lineage(ARRAY[ln_rid('ln_clean', 1)], ARRAY[:secret1]);
RESET ROLE;
-- Row-level security holds: a live row the caller may not see (and that
-- has no history record yet) is no row.
SELECT ln_rid('ln_raw', 6) AS raw6 \gset
ALTER TABLE ln_raw ENABLE ROW LEVEL SECURITY;
CREATE POLICY ln_raw_low ON ln_raw TO ln_eng USING (id < 6);
SET ROLE ln_eng;
SELECT ln_try(format('SELECT aisec.record_lineage(%L, %L)', ARRAY[ln_rid('ln_clean', 3)], ARRAY[:raw6]));
SELECT aisec.record_lineage(ARRAY[ln_rid('ln_clean', 3)], ARRAY[ln_rid('ln_raw', 4)]) > 0 AS visible_row_ok;
RESET ROLE;
DROP POLICY ln_raw_low ON ln_raw;
ALTER TABLE ln_raw DISABLE ROW LEVEL SECURITY;
SELECT ln_rid('ln_raw', 1) AS raw1, ln_rid('ln_feat', 1) AS feat1 \gset
SET ROLE ln_dpo;
SELECT count(*) AS dpo_reads FROM aisec.lineage_down(:raw1);
SELECT aisec.record_lineage(ARRAY[1]::bigint[], ARRAY[2]::bigint[]);
SELECT * FROM aisec.lineage_edge;
RESET ROLE;
SET ROLE ln_aud;
SELECT count(*) AS auditor_reads FROM aisec.lineage_up(ARRAY[:feat1]);
RESET ROLE;
SET ROLE ln_adm;
SELECT count(*) AS admin_reads FROM aisec.lineage_up(:feat1);
INSERT INTO aisec.lineage_transform VALUES (0, 'forged', NULL, NULL, 'row', '{}', '{}', '{}', NULL, 0, 'x', 0, now());
RESET ROLE;
GRANT SELECT ON ln_raw TO ln_nobody;
SET ROLE ln_nobody;
SELECT * FROM aisec.lineage_up(1);
SELECT * FROM aisec.lineage_down(ARRAY[1]::bigint[]);
SELECT aisec.record_lineage(ARRAY[1]::bigint[], ARRAY[2]::bigint[]);
RESET ROLE;
-- Lineage records never change, not even for a superuser.
UPDATE aisec.lineage_edge SET transform = 0;
DELETE FROM aisec.lineage_transform;
TRUNCATE aisec.lineage_edge;
SELECT * FROM ln_counts();

--
-- 7. Settings: aisec.transform names the transforms; aisec.lineage = table
--    records the transform without edges; off records nothing and audits
--    the skip.
--
SET aisec.transform = 'dedupe "v2"';
SELECT aisec.record_lineage(ARRAY[ln_rid('ln_clean', 3)], ARRAY[ln_rid('ln_raw', 3)]) AS id \gset
SELECT name, level, edges FROM aisec.lineage_transform WHERE id = :id;
SELECT action, detail->>'name' AS name, detail->>'edges' AS edges
FROM aisec.audit_log WHERE action = 'lineage.record' ORDER BY seq DESC LIMIT 1;
SET aisec.lineage = 'table';
SELECT aisec.record_lineage(ARRAY[ln_rid('ln_clean', 3)], ARRAY[ln_rid('ln_raw', 4)]) AS id \gset
SELECT name, level, edges FROM aisec.lineage_transform WHERE id = :id;
SET aisec.lineage = off;
SELECT * FROM ln_counts();
SELECT aisec.record_lineage(ARRAY[ln_rid('ln_clean', 3)], ARRAY[ln_rid('ln_raw', 4)]) AS skipped;
SELECT * FROM ln_counts();
-- (one entry per transaction, transform name and action: doc/lineage.md "Audit")
SELECT action, object, detail - 'xact' AS detail FROM aisec.audit_log WHERE action = 'lineage.off' ORDER BY seq DESC LIMIT 1;
SET aisec.lineage = sometimes;
SELECT set_config('aisec.transform', repeat('x', 201), false);
RESET aisec.lineage;
RESET aisec.transform;

--
-- 8. Copies.  materialize() records what it copied; tracking the copy
--    gives its rows new ids, each linked to the version row it copies.
--
SELECT aisec.materialize('ln_raw', 1, 'ln_copy') AS copied;
SELECT kind, level, source_versions, target_rel FROM aisec.lineage_transform WHERE kind = 'materialize' AND id > :t0;
SELECT aisec.track('ln_copy') > 0 AS tracked;
SELECT c.id, depth, ln_name(u.rid) AS parent, u.valid_from
FROM ln_copy c, aisec.lineage_up(c.aisec_rid, 1) u ORDER BY c.id;
-- The copy's own column became the row id: nothing dropped, nothing added.
SELECT attnum, attidentity, (SELECT count(*) FROM pg_attribute a2 WHERE a2.attrelid = a.attrelid AND a2.attisdropped) AS dropped
FROM pg_attribute a WHERE attrelid = 'ln_copy'::regclass AND attname = 'aisec_rid';
-- CREATE TABLE AS from live rows: parents at their current versions; a
-- carried id that names no row gets no parent.
CREATE TABLE ln_ctas AS SELECT * FROM ln_raw WHERE id <= 4;
UPDATE ln_ctas SET aisec_rid = 42 WHERE id = 3;
UPDATE ln_ctas SET aisec_rid = NULL WHERE id = 4;
SELECT aisec.track('ln_ctas') > 0 AS tracked;
SELECT c.id, ln_name(u.rid) AS parent, u.valid_from
FROM ln_ctas c LEFT JOIN LATERAL aisec.lineage_up(c.aisec_rid, 1) u ON true ORDER BY c.id;
SELECT kind, level, edges FROM aisec.lineage_transform WHERE kind = 'track_copy' AND id > :t0 ORDER BY id;
SELECT action, detail->>'edges' AS edges FROM aisec.audit_log
WHERE action LIKE 'lineage.%' AND action <> 'lineage.record' AND coalesce((detail->'ids'->>0)::bigint, :t0 + 1) > :t0 ORDER BY seq;
-- The table-level graph: sources, targets, transforms (ours only).
SELECT source, target, transform, kind, statements, edges
FROM aisec.lineage_graph g
WHERE coalesce(source::text, '') LIKE 'ln\_%' OR coalesce(target::text, '') LIKE 'ln\_%'
ORDER BY 1, 2, 3, 4;
SET ROLE ln_aud;
SELECT count(*) > 0 AS auditor_reads_graph FROM aisec.lineage_graph;
RESET ROLE;
SET ROLE ln_nobody;
SELECT count(*) FROM aisec.lineage_graph;
RESET ROLE;
-- A table whose aisec_rid is not a plain bigint is still refused; so is a
-- plain bigint aisec_rid of the user's own, whose values name no tracked
-- table (they are left as they were).
CREATE TABLE ln_odd (id int, aisec_rid text);
SELECT aisec.track('ln_odd');
CREATE TABLE ln_own (id int, aisec_rid bigint);
INSERT INTO ln_own VALUES (1, 1), (2, 2), (3, NULL);
SELECT aisec.track('ln_own');
SELECT id, aisec_rid FROM ln_own ORDER BY id;
-- Lineage down from a raw row now reaches the copies.
SELECT depth, ln_name(rid) AS rid FROM aisec.lineage_down(ln_rid('ln_raw', 1)) ORDER BY 1, 2;

--
-- Clean up: nothing of this test stays tracked, and its roles go.  Its
-- lineage records stay: they name row ids, never data.
--
SELECT aisec.drop_dataset('ln_ds', keep_history => false);
SELECT aisec.untrack(t) FROM unnest(ARRAY['ln_clean', 'ln_feat', 'ln_secret', 'ln_copy', 'ln_ctas']::regclass[]) t;
DROP TABLE ln_raw, ln_clean, ln_feat, ln_secret, ln_copy, ln_ctas, ln_odd, ln_own, ln_t0;
SELECT count(*) AS still_tracked FROM aisec.tracked WHERE rel::text LIKE 'ln\_%';
DROP ROLE ln_adm, ln_eng, ln_dpo, ln_aud, ln_nobody;
