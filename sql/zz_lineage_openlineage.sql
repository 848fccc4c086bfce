-- Lineage for other tools (issue 17 items 11-12, doc/lineage.md
-- "OpenLineage" and "Manifest"): aisec.openlineage_events() gives one
-- OpenLineage 2-0-2 RunEvent per transform, checked here against the
-- spec's required fields and types; aisec.manifest() lists each table's
-- upstream.  Hostile names travel as JSON strings; no row data leaves.
-- (Runs after zz_lineage, whose transforms, of tables since dropped, are
-- still there: every event is checked, those too.)

CREATE ROLE ol_adm IN ROLE aisec_admin;
CREATE ROLE ol_eng IN ROLE aisec_engineer;
CREATE ROLE ol_dpo IN ROLE aisec_dpo;
CREATE ROLE ol_aud IN ROLE aisec_auditor;
CREATE ROLE ol_nobody;

-- The checks of https://openlineage.io/spec/2-0-2/OpenLineage.json, as
-- SQL: a RunEvent is a BaseEvent (eventTime date-time, producer uri,
-- schemaURL uri: all required) with eventType in the enum, run (runId
-- uuid, required), job (namespace, name: required), inputs and outputs
-- arrays of datasets (namespace, name: required; facets an object of
-- objects, each with _producer and _schemaURL, uri strings).  Returns the
-- violations (empty: valid).  Our own stricter checks: eventType
-- COMPLETE, a version 5 RFC 4122 UUID, eventTime in UTC.
CREATE FUNCTION ol_violations(e jsonb) RETURNS text[] LANGUAGE sql AS $$
SELECT coalesce(array_agg(v ORDER BY v), '{}') FROM (
  SELECT 'event not an object' AS v WHERE jsonb_typeof(e) IS DISTINCT FROM 'object'
  UNION ALL SELECT 'eventType' WHERE jsonb_typeof(e->'eventType') IS DISTINCT FROM 'string'
      OR e->>'eventType' NOT IN ('START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL', 'OTHER')
  UNION ALL SELECT 'eventType not COMPLETE' WHERE e->>'eventType' IS DISTINCT FROM 'COMPLETE'
  UNION ALL SELECT 'eventTime' WHERE jsonb_typeof(e->'eventTime') IS DISTINCT FROM 'string'
      OR e->>'eventTime' !~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$'
      OR (e->>'eventTime')::timestamptz IS NULL
  UNION ALL SELECT 'producer' WHERE jsonb_typeof(e->'producer') IS DISTINCT FROM 'string'
      OR e->>'producer' !~ '^https://\S+$'
  UNION ALL SELECT 'schemaURL' WHERE e->>'schemaURL' IS DISTINCT FROM
      'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent'
  UNION ALL SELECT 'run' WHERE jsonb_typeof(e->'run') IS DISTINCT FROM 'object'
  UNION ALL SELECT 'run.runId' WHERE jsonb_typeof(e#>'{run,runId}') IS DISTINCT FROM 'string'
      OR e#>>'{run,runId}' !~ '^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
  UNION ALL SELECT 'job' WHERE jsonb_typeof(e->'job') IS DISTINCT FROM 'object'
      OR jsonb_typeof(e#>'{job,namespace}') IS DISTINCT FROM 'string'
      OR jsonb_typeof(e#>'{job,name}') IS DISTINCT FROM 'string'
      OR e#>>'{job,name}' = ''
  UNION ALL SELECT 'inputs' WHERE jsonb_typeof(e->'inputs') IS DISTINCT FROM 'array'
  UNION ALL SELECT 'outputs' WHERE jsonb_typeof(e->'outputs') IS DISTINCT FROM 'array'
  UNION ALL SELECT 'dataset namespace/name'
      FROM jsonb_array_elements(coalesce(e->'inputs', '[]') || coalesce(e->'outputs', '[]')) d
      WHERE jsonb_typeof(d->'namespace') IS DISTINCT FROM 'string'
         OR jsonb_typeof(d->'name') IS DISTINCT FROM 'string'
         OR jsonb_typeof(coalesce(d->'facets', '{}')) <> 'object'
  UNION ALL SELECT 'facet ' || f.key
      FROM (SELECT e#>'{run,facets}' AS fs
            UNION ALL SELECT d->'facets'
            FROM jsonb_array_elements(coalesce(e->'inputs', '[]') || coalesce(e->'outputs', '[]')) d) x,
           jsonb_each(coalesce(x.fs, '{}')) f
      WHERE jsonb_typeof(f.value) IS DISTINCT FROM 'object'
         OR jsonb_typeof(f.value->'_producer') IS DISTINCT FROM 'string'
         OR jsonb_typeof(f.value->'_schemaURL') IS DISTINCT FROM 'string'
         OR f.value->>'_producer' !~ '^https://\S+$' OR f.value->>'_schemaURL' !~ '^https://\S+$'
  UNION ALL SELECT 'schema facet fields'
      FROM jsonb_array_elements(coalesce(e->'inputs', '[]') || coalesce(e->'outputs', '[]')) d
      WHERE d#>'{facets,schema}' IS NOT NULL
        AND (jsonb_typeof(d#>'{facets,schema,fields}') IS DISTINCT FROM 'array'
             OR EXISTS (SELECT 1 FROM jsonb_array_elements(d#>'{facets,schema,fields}') c
                        WHERE jsonb_typeof(c->'name') IS DISTINCT FROM 'string'
                           OR jsonb_typeof(c->'type') IS DISTINCT FROM 'string'))
) x $$;

-- The checks can fail: a few broken events.
SELECT ol_violations('{}') AS empty_event;
SELECT ol_violations('{"eventType": "DONE", "eventTime": "yesterday", "producer": "me",
  "schemaURL": "x", "run": {"runId": "6ba7b811-9dad-11d1-80b4-00c04fd430c8"},
  "job": {"namespace": 1, "name": ""}, "inputs": [{"name": "t", "facets": {"f": {"_producer": "https://x"}}}],
  "outputs": {}}') AS broken_event;

-- Every event there is, also of transforms whose tables are gone, is valid.
SELECT count(*) > 0 AS some_events, count(*) FILTER (WHERE ol_violations(e) <> '{}') AS invalid
FROM aisec.openlineage_events() e;

--
-- 1. Hostile names: a schema, table and column with quotes, a dot,
--    spaces and non-ASCII letters.  Raw rows in dataset ol_raw_ds, and a
--    derived table in ol_train_ds, both committed.
--
CREATE SCHEMA "ol ""s.ch";
CREATE TABLE "ol ""s.ch"."ra""w.é✓" (id int, "e""mail ✓" text, score numeric(6,2));
INSERT INTO "ol ""s.ch"."ra""w.é✓" SELECT g, 'person' || g || '@example.com', g FROM generate_series(1, 4) g;
CREATE TABLE ol_train (id int, label boolean);
INSERT INTO ol_train SELECT g, g % 2 = 0 FROM generate_series(1, 2) g;
SELECT aisec.track('"ol ""s.ch"."ra""w.é✓"') > 0 AS t1, aisec.track('ol_train') > 0 AS t2;
SELECT aisec.create_dataset('ol_raw_ds', ARRAY['"ol ""s.ch"."ra""w.é✓"'::regclass]) > 0 AS raw_ds,
       aisec.create_dataset('ol_train_ds', ARRAY['ol_train'::regclass]) > 0 AS train_ds;
SELECT aisec.commit('ol_raw_ds', 'raw v1') AS raw_v1, aisec.commit('ol_train_ds', 'train v1') AS train_v1;
GRANT USAGE ON SCHEMA "ol ""s.ch" TO ol_eng;
GRANT SELECT ON "ol ""s.ch"."ra""w.é✓", ol_train TO ol_eng;

SELECT clock_timestamp() AS before_record \gset
SELECT max(id) AS t0 FROM aisec.lineage_transform \gset

-- 2. A pipeline outside SQL records its lineage: train 1 <- raw 1, raw 2;
--    train 2 <- raw 3.  The transform's name is hostile too.
SET ROLE ol_eng;
SELECT aisec.record_lineage(
    (SELECT array_agg(t.aisec_rid ORDER BY t.id, r.id) FROM ol_train t JOIN "ol ""s.ch"."ra""w.é✓" r ON r.id IN (2 * t.id - 1, 2 * t.id) AND r.id <> 4),
    (SELECT array_agg(r.aisec_rid ORDER BY t.id, r.id) FROM ol_train t JOIN "ol ""s.ch"."ra""w.é✓" r ON r.id IN (2 * t.id - 1, 2 * t.id) AND r.id <> 4),
    'clean "v2" \ ✓') > 0 AS recorded;
RESET ROLE;

SELECT clock_timestamp() AS before_copy \gset

-- 3. A copy made with materialize() and tracked: two more transforms.
SELECT aisec.materialize('"ol ""s.ch"."ra""w.é✓"', 1, 'ol_copy') AS copied;
SELECT aisec.track('ol_copy') > 0 AS tracked_copy;
SELECT aisec.create_dataset('ol_copy_ds', ARRAY['ol_copy'::regclass]) > 0 AS copy_ds;
SELECT aisec.commit('ol_copy_ds', 'copy v1') AS copy_v1;

--
-- 4. The events of our three transforms: all valid; job names; datasets.
--
CREATE TABLE ol_ev AS
SELECT row_number() OVER () AS n, e FROM aisec.openlineage_events(:'before_record') e;
SELECT n, ol_violations(e) AS violations, e->>'eventType' AS type, e#>>'{job,name}' AS job,
       e#>>'{job,namespace}' = current_database() AS job_ns_is_db,
       e#>>'{run,facets,aisec_transform,kind}' AS kind,
       e#>>'{run,facets,aisec_transform,edges}' AS edges,
       (SELECT array_agg(d->>'name' ORDER BY o) FROM jsonb_array_elements(e->'inputs') WITH ORDINALITY x(d, o)) AS inputs,
       (SELECT array_agg(d->>'name' ORDER BY o) FROM jsonb_array_elements(e->'outputs') WITH ORDINALITY x(d, o)) AS outputs
FROM ol_ev ORDER BY n;
-- Events come in transform order, one per transform, and only ours.
SELECT array_agg((e#>>'{run,facets,aisec_transform,transform}')::bigint - :t0 ORDER BY n) AS transforms FROM ol_ev;
-- Hostile names round-trip: the dataset name is db.schema.table of the
-- raw catalog names (OpenLineage's naming, no quoting), the job name is
-- the transform name as given.
SELECT e#>'{inputs,0,name}' = to_jsonb(current_database() || '.ol "s.ch.ra"w.é✓') AS raw_name_exact,
       e#>>'{job,name}' = 'clean "v2" \ ✓' AS job_name_exact
FROM ol_ev WHERE n = 1;
-- The schema facet: every column with its catalog type, hostile name too.
SELECT c->>'name' AS name, c->>'type' AS type
FROM ol_ev, jsonb_array_elements(e#>'{inputs,0,facets,schema,fields}') c WHERE n = 1;
SELECT e#>>'{inputs,0,facets,schema,_schemaURL}' AS schema_facet_url FROM ol_ev WHERE n = 1;
-- aisec's facet: the version read and the last commit at or below it,
-- whose hash is the version's commit hash.  record_lineage read raw's
-- pending version 2 (last commit 1); materialize copied version 1.
SELECT n, d->>'name' AS dataset, f->'tracked' AS tracked, f->>'dataset' AS aisec_dataset,
       f->'version' AS version, f->'committed' AS committed, f->'commit_version' AS commit_version,
       f->>'commit_hash' = (SELECT commit_hash FROM aisec.versions v WHERE v.dataset = f->>'dataset'
                            AND v.version = (f->>'commit_version')::bigint) AS hash_matches
FROM ol_ev, jsonb_array_elements(e->'inputs') d, LATERAL (SELECT d#>'{facets,aisec_version}' AS f) x
ORDER BY n;
SELECT n, d->>'name' AS dataset, f->'tracked' AS tracked, f->>'dataset' AS aisec_dataset,
       f->'version' AS version, f->'committed' AS committed, f->'commit_version' AS commit_version,
       d#>'{facets,schema}' IS NOT NULL AS has_schema
FROM ol_ev, jsonb_array_elements(e->'outputs') d, LATERAL (SELECT d#>'{facets,aisec_version}' AS f) x
ORDER BY n;
-- Dataset namespace: postgres://host:port; this test cluster listens on
-- a unix socket only, so the host is localhost.
SELECT DISTINCT d->>'namespace' = 'postgres://localhost:' || current_setting('port') AS namespace_ok
FROM ol_ev, jsonb_array_elements((e->'inputs') || (e->'outputs')) d;
-- No row data: no value of the raw rows appears anywhere in the events.
SELECT count(*) AS events_holding_row_values FROM ol_ev WHERE e::text LIKE '%@example.com%' OR e::text LIKE '%person%';
-- eventTime is the transform's time, in UTC.
SELECT bool_and((e->>'eventTime')::timestamptz = t.at) AS event_time_is_transform_time
FROM ol_ev JOIN aisec.lineage_transform t ON t.id = (e#>>'{run,facets,aisec_transform,transform}')::bigint;

-- Run ids: stable from call to call, one per transform.
SELECT count(DISTINCT e#>>'{run,runId}') AS run_ids,
       bool_and(e#>>'{run,runId}' IN (SELECT x#>>'{run,runId}' FROM aisec.openlineage_events(:'before_record') x)) AS stable
FROM ol_ev;

--
-- 5. since: transforms recorded at or after it.
--
SELECT count(*) AS since_copy FROM aisec.openlineage_events(:'before_copy');
SELECT count(*) AS since_future FROM aisec.openlineage_events('infinity');
SELECT count(*) AS since_null FROM aisec.openlineage_events(NULL);
SELECT count(*) >= 3 AS all_of_them FROM aisec.openlineage_events();
-- It turns JIT off for its own queries only: the setting is as it was.
SET jit = on;
SELECT count(*) >= 3 AS all_of_them FROM aisec.openlineage_events();
SHOW jit;
RESET jit;

--
-- 6. The namespace setting, and what it refuses.
--
SET aisec.openlineage_namespace = 'postgres://db.example.com:5432';
SELECT DISTINCT d->>'namespace' AS namespace
FROM aisec.openlineage_events(:'before_record') e, jsonb_array_elements(e->'inputs') d;
RESET aisec.openlineage_namespace;
SET aisec.openlineage_namespace = 'no scheme';
SET aisec.openlineage_namespace = 'db.example.com';

--
-- 7. Roles: the four aisec roles read events; no other role, also not
--    one given EXECUTE (and the schema) directly: the C check refuses it.
--
SET ROLE ol_aud;
SELECT count(*) AS auditor_events FROM aisec.openlineage_events(:'before_record');
RESET ROLE;
SET ROLE ol_dpo;
SELECT count(*) AS dpo_events FROM aisec.openlineage_events(:'before_record');
RESET ROLE;
SET ROLE ol_adm;
SELECT count(*) AS admin_events FROM aisec.openlineage_events(:'before_record');
RESET ROLE;
SET ROLE ol_nobody;
SELECT count(*) FROM aisec.openlineage_events();
RESET ROLE;
GRANT USAGE ON SCHEMA aisec TO ol_nobody;
GRANT EXECUTE ON FUNCTION aisec.openlineage_events(timestamptz) TO ol_nobody;
SET ROLE ol_nobody;
SELECT count(*) FROM aisec.openlineage_events();
RESET ROLE;
REVOKE EXECUTE ON FUNCTION aisec.openlineage_events(timestamptz) FROM ol_nobody;
REVOKE USAGE ON SCHEMA aisec FROM ol_nobody;

--
-- 8. manifest()'s upstream.  Its existing keys are unchanged.
--
SELECT array_agg(k ORDER BY k) AS keys FROM jsonb_object_keys(aisec.manifest('ol_train_ds', 1)) k;
-- record_lineage's edges name train's rows of version 1: version 1 of
-- ol_train_ds derives from the raw table, read at its pending version 2,
-- whose last commit is raw's version 1.
SELECT u->>'table' AS "table", t->>'kind' AS kind, t->>'name' AS name, t->>'level' AS level,
       s->>'table' AS source, s->>'dataset' AS dataset, s->'version' AS version,
       s->'committed' AS committed, s->'commit_version' AS commit_version,
       s->>'commit_hash' = (SELECT commit_hash FROM aisec.versions WHERE dataset = 'ol_raw_ds' AND version = 1) AS hash_is_raw_v1
FROM jsonb_array_elements(aisec.manifest('ol_train_ds', 1)->'upstream') u,
     jsonb_array_elements(u->'transforms') t, jsonb_array_elements(t->'sources') s;
-- The tracked materialize copy derives from raw version 1 (committed).
SELECT u->>'table' AS "table", t->>'kind' AS kind, t->'edges' IS NULL AS no_edges_key,
       s->>'table' AS source, s->>'dataset' AS dataset, s->'version' AS version,
       s->'committed' AS committed,
       s->>'commit_hash' = (SELECT commit_hash FROM aisec.versions WHERE dataset = 'ol_raw_ds' AND version = 1) AS hash_is_raw_v1
FROM jsonb_array_elements(aisec.manifest('ol_copy_ds', 1)->'upstream') u,
     jsonb_array_elements(u->'transforms') t, jsonb_array_elements(t->'sources') s;
-- Raw data derives from nothing: its table is listed, with no transforms.
SELECT u->>'table' AS "table", u->'transforms' AS transforms, u->'table_no' IS NOT NULL AS has_table_no
FROM jsonb_array_elements(aisec.manifest('ol_raw_ds', 1)->'upstream') u;
-- Lineage recorded after a version for rows of a later version only does
-- not change that version's upstream: a row inserted into train now is
-- in version 2, and so is its edge.
INSERT INTO ol_train VALUES (3, true);
SELECT aisec.record_lineage(ARRAY[(SELECT aisec_rid FROM ol_train WHERE id = 3)],
                            ARRAY[(SELECT aisec_rid FROM "ol ""s.ch"."ra""w.é✓" WHERE id = 4)], 'late') > 0 AS recorded;
SELECT aisec.commit('ol_train_ds', 'train v2') AS train_v2;
SELECT v, (SELECT array_agg(t->>'name' ORDER BY (t->>'transform')::bigint)
           FROM jsonb_array_elements(aisec.manifest('ol_train_ds', v)#>'{upstream,0,transforms}') t) AS transforms
FROM generate_series(1, 2) v;
-- The versions still verify: no commit hash covers the manifest.
SELECT bool_and(ok) AS verified FROM aisec.verify('ol_train_ds');

--
-- Clean up.
--
SELECT aisec.drop_dataset(d, keep_history => false) FROM unnest(ARRAY['ol_copy_ds', 'ol_train_ds', 'ol_raw_ds']) d;
DROP TABLE ol_copy, ol_train, "ol ""s.ch"."ra""w.é✓", ol_ev;
DROP SCHEMA "ol ""s.ch";
DROP FUNCTION ol_violations(jsonb);
DROP ROLE ol_adm, ol_eng, ol_dpo, ol_aud, ol_nobody;
