-- aisec demo, part 6: row lineage.
\set QUIET on
\pset footer off
\echo
\echo '=== 6. Row lineage ======================================================='
\echo 'A training job copies the tagged version into a plain table, and tracks'
\echo 'the copy: every training row gets its own row id and remembers the raw'
\echo 'row version it was copied from.'
SELECT aisec.materialize('loans', 2, 'loans_train') AS rows_copied;
SELECT aisec.track('loans_train') AS table_no;

\echo
\echo 'The engineer: which raw row, at which version, made this training row?'
SELECT aisec_rid AS training_rid FROM loans_train WHERE id = 42 \gset
SELECT u.depth, u.rel, u.rid, u.valid_from, t.kind AS made_by
FROM aisec.lineage_up(:training_rid) u
JOIN aisec.lineage_transform t ON t.id = u.transform
ORDER BY u.depth, u.rel::text;

\echo
\echo 'A cleaning step in SQL: INSERT ... SELECT between tracked tables records'
\echo 'each new row''s parent by itself (automatic capture, in C):'
CREATE TABLE loans_clean (id int, email text, income numeric);
SELECT aisec.track('loans_clean') AS table_no;
SET aisec.transform = 'clean_v2';
INSERT INTO loans_clean (id, email, income)
SELECT id, lower(email), income FROM loans_train WHERE income > 0;
RESET aisec.transform;
SELECT c.id, u.depth, u.rel, t.kind, t.name AS transform
FROM loans_clean c, aisec.lineage_up(c.aisec_rid) u
JOIN aisec.lineage_transform t ON t.id = u.transform
WHERE c.id = 42 ORDER BY u.depth;
\echo 'Joins, GROUP BY, DISTINCT, UNION ALL, CTEs, subqueries, UPDATE ... FROM'
\echo 'and MERGE are traced row by row too: each region''s count remembers every'
\echo 'row it counted, on both sides of the join.'
CREATE TABLE region_counts (region text, n bigint);
SELECT aisec.track('region_counts') AS table_no;
INSERT INTO region_counts SELECT region, count(*) FROM loans_clean JOIN loans_train USING (id) GROUP BY region;
SELECT r.region, r.n AS rows_counted, count(*) FILTER (WHERE u.rel = 'loans_clean'::regclass) AS clean_parents,
       count(*) FILTER (WHERE u.rel = 'loans_train'::regclass) AS train_parents
FROM region_counts r, aisec.lineage_up(r.aisec_rid, 1) u
GROUP BY r.region, r.n ORDER BY r.region LIMIT 3;
\echo 'A shape that cannot be traced row by row (here a subquery that only'
\echo 'filters) is recorded at table level, with a NOTICE that says so:'
INSERT INTO region_counts SELECT region, 0 FROM loans_train
WHERE id IN (SELECT id FROM loans_clean WHERE income > 100000) GROUP BY region;

\echo
\echo 'A feature step that runs outside SQL (a Python job) reports its rows:'
CREATE TABLE loan_features (id int PRIMARY KEY, income_band int);
INSERT INTO loan_features SELECT id, (income / 10000)::int FROM loans_train WHERE id <= 100;
SELECT aisec.track('loan_features') AS table_no;
SELECT aisec.record_lineage(array_agg(f.aisec_rid ORDER BY f.id),
                            array_agg(t.aisec_rid ORDER BY f.id),
                            'income_bands_v1') AS transform
FROM loan_features f JOIN loans_train t USING (id) \g /dev/null

\echo
\echo 'The DPO: everything derived from this applicant''s raw row, in every table:'
SELECT aisec_rid AS raw_rid FROM loans WHERE id = 42 \gset
SELECT d.depth, d.rel, t.kind, t.name AS transform
FROM aisec.lineage_down(:raw_rid) d
JOIN aisec.lineage_transform t ON t.id = d.transform
ORDER BY d.depth;

\echo
\echo 'And the table-level picture (what catalogs such as OpenLineage show):'
SELECT source, target, coalesce(transform, kind) AS transform, statements, edges
FROM aisec.lineage_graph ORDER BY first_seen;
\echo
\echo 'The same transforms as OpenLineage 2-0-2 run events, for Marquez or DataHub:'
SELECT e->>'eventType' AS event, e#>>'{job,name}' AS job,
       e#>>'{inputs,0,name}' AS input, e#>>'{outputs,0,name}' AS output,
       jsonb_array_length(e#>'{outputs,0,facets,schema,fields}') AS output_fields
FROM aisec.openlineage_events() e;
\echo 'The training table is versioned too, and its manifest says what it derives from:'
SELECT aisec.create_dataset('credit_model_input', ARRAY['loans_train'::regclass]) \g /dev/null
SELECT aisec.commit('credit_model_input', 'training copy of credit-model-2026-01') AS version;
SELECT u->>'table' AS "table", t->>'kind' AS transform, s->>'table' AS source,
       s->>'dataset' AS dataset, s->>'version' AS version_read
FROM jsonb_array_elements(aisec.manifest('credit_model_input', 1)->'upstream') u,
     jsonb_array_elements(u->'transforms') t,
     jsonb_array_elements(t->'sources') s;
\echo 'Lineage holds row ids and version numbers only, never row data.'
\echo 'Every shape and what it records: doc/lineage.md.'
