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

-- A schema check of OpenLineage RunEvents, written in SQL, after the
-- 2-0-2 specification, https://openlineage.io/spec/2-0-2/OpenLineage.json
-- (JSON Schema 2020-12; read at OpenLineage/OpenLineage spec/OpenLineage.json,
-- git tag 1.24.2, "$id" .../spec/2-0-2/OpenLineage.json), and its schema
-- dataset facet, https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json:
--   BaseEvent: eventTime (string, format date-time), producer (string,
--     format uri), schemaURL (string, format uri), all three required;
--   RunEvent = BaseEvent + eventType (string, enum START RUNNING COMPLETE
--     ABORT FAIL OTHER), run (Run), job (Job), inputs (array of
--     InputDataset), outputs (array of OutputDataset); run, job required;
--   Run: runId (string, format uuid, required), facets (object of RunFacet);
--   Job: namespace, name (strings, required), facets (object of JobFacet);
--   Dataset: namespace, name (strings, required), facets (object of
--     DatasetFacet); InputDataset adds inputFacets, OutputDataset
--     outputFacets (objects of facets);
--   every facet is a BaseFacet: an object with _producer and _schemaURL
--     (strings, format uri, required); job and dataset facets may carry
--     _deleted (boolean);
--   SchemaDatasetFacet: fields, an array of objects with name (string,
--     required), type and description (strings), fields (nested, array).
-- Formats as regular expressions: date-time as RFC 3339 (and a real
-- time), uri as RFC 3986's scheme ":" then no space or character a URI
-- cannot hold, uuid as RFC 4122's 8-4-4-4-12 hex digits.
-- aisec promises more than the spec asks, checked too and marked
-- "(aisec)": no key the spec does not define (the spec allows extra
-- keys; a consumer could drop them silently), eventType COMPLETE, eventTime
-- in UTC, schemaURL the 2-0-2 RunEvent, runId a lowercase version 5 UUID,
-- a non-empty job name, inputs and outputs present, every field with a
-- type.  ol_violations(e) returns the violations, sorted ('{}': valid).
CREATE FUNCTION ol_is_uri(t text) RETURNS boolean LANGUAGE sql IMMUTABLE
    AS $$ SELECT coalesce(t ~ '^[A-Za-z][A-Za-z0-9+.-]*:[^\s"<>\\^`{|}]+$', false) $$;
CREATE FUNCTION ol_is_date_time(t text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF t IS NULL OR t !~ '^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$' THEN
        RETURN false;
    END IF;
    PERFORM t::timestamptz;         -- 2026-02-30T00:00:00Z matches, but is no time
    RETURN true;
EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
    RETURN false;
END $$;
-- The keys of obj that are not in allowed.
CREATE FUNCTION ol_unexpected(path text, obj jsonb, allowed text[]) RETURNS SETOF text LANGUAGE sql AS $$
    SELECT path || ': unexpected key "' || k || '" (aisec)'
    FROM jsonb_object_keys(CASE WHEN jsonb_typeof(obj) = 'object' THEN obj END) k
    WHERE k <> ALL (allowed) $$;
-- A required (or optional) string member.
CREATE FUNCTION ol_string(path text, obj jsonb, key text, required boolean DEFAULT true) RETURNS SETOF text LANGUAGE sql AS $$
    SELECT path || '.' || key || CASE WHEN obj->key IS NULL THEN ': missing' ELSE ': not a string' END
    WHERE jsonb_typeof(obj) = 'object' AND jsonb_typeof(obj->key) IS DISTINCT FROM 'string'
      AND (required OR obj->key IS NOT NULL) $$;
-- A facets object: every facet an object with _producer and _schemaURL
-- URIs (and _deleted, if there, a boolean).
CREATE FUNCTION ol_facets(path text, fs jsonb) RETURNS SETOF text LANGUAGE sql AS $$
    SELECT path || ': not an object' WHERE fs IS NOT NULL AND jsonb_typeof(fs) <> 'object'
    UNION ALL
    SELECT path || '.' || f.key || ': not an object'
    FROM jsonb_each(CASE WHEN jsonb_typeof(fs) = 'object' THEN fs END) f
    WHERE jsonb_typeof(f.value) <> 'object'
    UNION ALL
    SELECT v FROM jsonb_each(CASE WHEN jsonb_typeof(fs) = 'object' THEN fs END) f,
           LATERAL (SELECT ol_string(path || '.' || f.key, f.value, '_producer')
                    UNION ALL SELECT ol_string(path || '.' || f.key, f.value, '_schemaURL')) x(v)
    UNION ALL
    SELECT path || '.' || f.key || '.' || m || ': not a URI'
    FROM jsonb_each(CASE WHEN jsonb_typeof(fs) = 'object' THEN fs END) f,
         unnest(ARRAY['_producer', '_schemaURL']) m
    WHERE jsonb_typeof(f.value->m) = 'string' AND NOT ol_is_uri(f.value->>m)
    UNION ALL
    SELECT path || '.' || f.key || '._deleted: not a boolean'
    FROM jsonb_each(CASE WHEN jsonb_typeof(fs) = 'object' THEN fs END) f
    WHERE f.value ? '_deleted' AND jsonb_typeof(f.value->'_deleted') <> 'boolean' $$;
-- (JIT off: the planner's estimates for the set-returning helpers would
-- have each call compiled, a second apiece.)
CREATE FUNCTION ol_violations(e jsonb) RETURNS text[] LANGUAGE sql SET jit = off AS $$
WITH ds AS (                    -- the datasets, named inputs[i] / outputs[i]
    SELECT side, side || '[' || (o - 1) || ']' AS path, d, side = 'inputs' AS input
    FROM unnest(ARRAY['inputs', 'outputs']) side,
         jsonb_array_elements(CASE WHEN jsonb_typeof(e->side) = 'array' THEN e->side END) WITH ORDINALITY x(d, o)
)
SELECT coalesce(array_agg(DISTINCT v ORDER BY v), '{}') FROM (
  SELECT 'event: not an object' AS v WHERE jsonb_typeof(e) IS DISTINCT FROM 'object'
  UNION ALL SELECT ol_unexpected('event', e, ARRAY['eventTime', 'producer', 'schemaURL', 'eventType',
                                                   'run', 'job', 'inputs', 'outputs'])
  -- BaseEvent
  UNION ALL SELECT ol_string('event', e, 'eventTime')
  UNION ALL SELECT 'event.eventTime: not a date-time' WHERE jsonb_typeof(e->'eventTime') = 'string'
      AND NOT ol_is_date_time(e->>'eventTime')
  UNION ALL SELECT 'event.eventTime: not in UTC (aisec)' WHERE ol_is_date_time(e->>'eventTime')
      AND e->>'eventTime' !~ '[Zz]$'
  UNION ALL SELECT ol_string('event', e, 'producer')
  UNION ALL SELECT 'event.producer: not a URI' WHERE jsonb_typeof(e->'producer') = 'string'
      AND NOT ol_is_uri(e->>'producer')
  UNION ALL SELECT ol_string('event', e, 'schemaURL')
  UNION ALL SELECT 'event.schemaURL: not a URI' WHERE jsonb_typeof(e->'schemaURL') = 'string'
      AND NOT ol_is_uri(e->>'schemaURL')
  UNION ALL SELECT 'event.schemaURL: not the 2-0-2 RunEvent (aisec)' WHERE ol_is_uri(e->>'schemaURL')
      AND e->>'schemaURL' <> 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent'
  -- RunEvent
  UNION ALL SELECT ol_string('event', e, 'eventType', false)
  UNION ALL SELECT 'event.eventType: not in the enum' WHERE jsonb_typeof(e->'eventType') = 'string'
      AND e->>'eventType' NOT IN ('START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL', 'OTHER')
  UNION ALL SELECT 'event.eventType: not COMPLETE (aisec)' WHERE jsonb_typeof(e) = 'object' AND e->>'eventType' IS DISTINCT FROM 'COMPLETE'
      AND (e->'eventType' IS NULL OR e->>'eventType' IN ('START', 'RUNNING', 'ABORT', 'FAIL', 'OTHER'))
  UNION ALL SELECT 'event.' || m || CASE WHEN e->m IS NULL THEN ': missing' ELSE ': not an object' END
      FROM unnest(ARRAY['run', 'job']) m
      WHERE jsonb_typeof(e) = 'object' AND jsonb_typeof(e->m) IS DISTINCT FROM 'object'
  UNION ALL SELECT 'event.' || m || CASE WHEN e->m IS NULL THEN ': missing (aisec)' ELSE ': not an array' END
      FROM unnest(ARRAY['inputs', 'outputs']) m
      WHERE jsonb_typeof(e) = 'object' AND jsonb_typeof(e->m) IS DISTINCT FROM 'array'
  -- Run
  UNION ALL SELECT ol_unexpected('event.run', e->'run', ARRAY['runId', 'facets'])
  UNION ALL SELECT ol_string('event.run', e->'run', 'runId')
  UNION ALL SELECT 'event.run.runId: not a UUID' WHERE jsonb_typeof(e#>'{run,runId}') = 'string'
      AND e#>>'{run,runId}' !~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
  UNION ALL SELECT 'event.run.runId: not a lowercase version 5 UUID (aisec)'
      WHERE e#>>'{run,runId}' ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
        AND e#>>'{run,runId}' !~ '^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
  UNION ALL SELECT ol_facets('event.run.facets', e#>'{run,facets}')
  -- Job
  UNION ALL SELECT ol_unexpected('event.job', e->'job', ARRAY['namespace', 'name', 'facets'])
  UNION ALL SELECT ol_string('event.job', e->'job', 'namespace')
  UNION ALL SELECT ol_string('event.job', e->'job', 'name')
  UNION ALL SELECT 'event.job.name: empty (aisec)' WHERE e#>>'{job,name}' = ''
  UNION ALL SELECT ol_facets('event.job.facets', e#>'{job,facets}')
  -- InputDataset, OutputDataset
  UNION ALL SELECT 'event.' || path || ': not an object' FROM ds WHERE jsonb_typeof(d) <> 'object'
  UNION ALL SELECT ol_unexpected('event.' || path, d, ARRAY['namespace', 'name', 'facets',
                                 CASE WHEN input THEN 'inputFacets' ELSE 'outputFacets' END]) FROM ds
  UNION ALL SELECT ol_string('event.' || path, d, 'namespace') FROM ds
  UNION ALL SELECT ol_string('event.' || path, d, 'name') FROM ds
  UNION ALL SELECT ol_facets('event.' || path || '.facets', d->'facets') FROM ds
  UNION ALL SELECT ol_facets('event.' || path || '.' || k, d->k)
      FROM ds, unnest(ARRAY['inputFacets', 'outputFacets']) k WHERE jsonb_typeof(d) = 'object'
  -- SchemaDatasetFacet
  UNION ALL SELECT 'event.' || path || '.facets.schema.fields: not an array' FROM ds
      WHERE jsonb_typeof(d#>'{facets,schema}') = 'object' AND d#>'{facets,schema}' ? 'fields'
        AND jsonb_typeof(d#>'{facets,schema,fields}') <> 'array'
  UNION ALL SELECT 'event.' || path || '.facets.schema.fields: missing (aisec)' FROM ds
      WHERE jsonb_typeof(d#>'{facets,schema}') = 'object' AND NOT d#>'{facets,schema}' ? 'fields'
  UNION ALL SELECT 'event.' || path || '.facets.schema.fields[' || (o - 1) || ']: not an object'
      FROM ds, jsonb_array_elements(CASE WHEN jsonb_typeof(d#>'{facets,schema,fields}') = 'array'
                                         THEN d#>'{facets,schema,fields}' END) WITH ORDINALITY c(f, o)
      WHERE jsonb_typeof(f) <> 'object'
  UNION ALL SELECT v FROM ds,
      jsonb_array_elements(CASE WHEN jsonb_typeof(d#>'{facets,schema,fields}') = 'array'
                                THEN d#>'{facets,schema,fields}' END) WITH ORDINALITY c(f, o),
      LATERAL (SELECT ol_string('event.' || path || '.facets.schema.fields[' || (o - 1) || ']', f, 'name')
               UNION ALL SELECT ol_string('event.' || path || '.facets.schema.fields[' || (o - 1) || ']', f, 'type', false)
               UNION ALL SELECT ol_string('event.' || path || '.facets.schema.fields[' || (o - 1) || ']', f, 'description', false)
               UNION ALL SELECT 'event.' || path || '.facets.schema.fields[' || (o - 1) || '].type: missing (aisec)'
                        WHERE jsonb_typeof(f) = 'object' AND NOT f ? 'type'
               UNION ALL SELECT 'event.' || path || '.facets.schema.fields[' || (o - 1) || '].fields: not an array'
                        WHERE f ? 'fields' AND jsonb_typeof(f->'fields') <> 'array') x(v)
) x WHERE v IS NOT NULL $$;

-- The checks can fail: the empty event, and an event breaking a rule of
-- each part (the valid event each rule is broken in, one at a time, is in
-- section 4).
SELECT unnest(ol_violations('{}')) AS empty_event;
SELECT unnest(ol_violations('[]')) AS array_event;
SELECT unnest(ol_violations('{"eventType": "DONE", "eventTime": "yesterday", "producer": "me",
  "schemaURL": "x", "run": {"runId": "6ba7b811-9dad-11d1-80b4-00c04fd430c8"},
  "job": {"namespace": 1, "name": ""}, "inputs": [{"name": "t", "facets": {"f": {"_producer": "https://x"}}}],
  "outputs": {}}')) AS broken_event;

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
-- The check rejects what the spec rejects: event 1 (valid, with an input
-- carrying the schema facet), broken one rule at a time; each row must
-- name exactly the rule broken.
WITH v AS (SELECT e FROM ol_ev WHERE n = 1),
m(n, what, bad) AS (
    SELECT 1, 'no eventTime', e - 'eventTime' FROM v
    UNION ALL SELECT 2, 'eventTime with a space', jsonb_set(e, '{eventTime}', '"2026-12-07 00:05:53Z"') FROM v
    UNION ALL SELECT 3, 'eventTime no real day', jsonb_set(e, '{eventTime}', '"2026-02-30T00:05:53Z"') FROM v
    UNION ALL SELECT 4, 'eventTime with an offset', jsonb_set(e, '{eventTime}', '"2026-12-07T01:05:53+01:00"') FROM v
    UNION ALL SELECT 5, 'eventTime a number', jsonb_set(e, '{eventTime}', '1765065953') FROM v
    UNION ALL SELECT 6, 'producer no URI', jsonb_set(e, '{producer}', '"aisec 0.2.0"') FROM v
    UNION ALL SELECT 7, 'no schemaURL', e - 'schemaURL' FROM v
    UNION ALL SELECT 8, 'schemaURL 1-0-5', jsonb_set(e, '{schemaURL}', '"https://openlineage.io/spec/1-0-5/OpenLineage.json#/$defs/RunEvent"') FROM v
    UNION ALL SELECT 9, 'eventType DONE', jsonb_set(e, '{eventType}', '"DONE"') FROM v
    UNION ALL SELECT 10, 'eventType RUNNING', jsonb_set(e, '{eventType}', '"RUNNING"') FROM v
    UNION ALL SELECT 11, 'no run', e - 'run' FROM v
    UNION ALL SELECT 12, 'runId no UUID', jsonb_set(e, '{run,runId}', '"run-1"') FROM v
    UNION ALL SELECT 13, 'runId version 4', jsonb_set(e, '{run,runId}', '"1B4E28BA-2FA1-41D2-883F-0016D3CCA427"') FROM v
    UNION ALL SELECT 14, 'run with an extra key', jsonb_set(e, '{run,id}', '1') FROM v
    UNION ALL SELECT 15, 'run facet no _producer', e #- '{run,facets,aisec_transform,_producer}' FROM v
    UNION ALL SELECT 16, 'job no namespace', e #- '{job,namespace}' FROM v
    UNION ALL SELECT 17, 'job name a number', jsonb_set(e, '{job,name}', '7') FROM v
    UNION ALL SELECT 18, 'job facet a string', jsonb_set(e, '{job,facets}', '{"sql": "SELECT 1"}') FROM v
    UNION ALL SELECT 19, 'an extra top-level key', e || '{"message": "hi"}' FROM v
    UNION ALL SELECT 20, 'inputs an object', jsonb_set(e, '{inputs}', '{}') FROM v
    UNION ALL SELECT 21, 'no outputs', e - 'outputs' FROM v
    UNION ALL SELECT 22, 'input not an object', jsonb_set(e, '{inputs,0}', '"t"') FROM v
    UNION ALL SELECT 23, 'input no name', e #- '{inputs,0,name}' FROM v
    UNION ALL SELECT 24, 'input with outputFacets', jsonb_set(e, '{inputs,0,outputFacets}', '{}') FROM v
    UNION ALL SELECT 25, 'inputFacets a facet without _schemaURL', jsonb_set(e, '{inputs,0,inputFacets}', '{"x": {"_producer": "https://example.com"}}') FROM v
    UNION ALL SELECT 26, 'schema facet _schemaURL no URI', jsonb_set(e, '{inputs,0,facets,schema,_schemaURL}', '"SchemaDatasetFacet.json"') FROM v
    UNION ALL SELECT 27, 'dataset facet a number', jsonb_set(e, '{outputs,0,facets,aisec_version}', '1') FROM v
    UNION ALL SELECT 28, 'dataset facet _deleted a string', jsonb_set(e, '{outputs,0,facets,aisec_version,_deleted}', '"yes"') FROM v
    UNION ALL SELECT 29, 'schema fields an object', jsonb_set(e, '{inputs,0,facets,schema,fields}', '{}') FROM v
    UNION ALL SELECT 30, 'schema field no name', e #- '{inputs,0,facets,schema,fields,1,name}' FROM v
    UNION ALL SELECT 31, 'schema field no type', e #- '{inputs,0,facets,schema,fields,1,type}' FROM v
    UNION ALL SELECT 32, 'schema field type a number', jsonb_set(e, '{inputs,0,facets,schema,fields,1,type}', '23') FROM v
    UNION ALL SELECT 33, 'schema field not an object', jsonb_set(e, '{inputs,0,facets,schema,fields,0}', '"id"') FROM v
    UNION ALL SELECT 34, 'the event unchanged', e FROM v
)
SELECT n, what, ol_violations(bad) AS violations FROM m ORDER BY n;
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
DROP FUNCTION ol_violations(jsonb), ol_facets(text, jsonb), ol_string(text, jsonb, text, boolean),
    ol_unexpected(text, jsonb, text[]), ol_is_date_time(text), ol_is_uri(text);
DROP ROLE ol_adm, ol_eng, ol_dpo, ol_aud, ol_nobody;
