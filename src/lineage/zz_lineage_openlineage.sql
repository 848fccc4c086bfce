-- zz_lineage_openlineage.sql: row lineage for other tools (src/lineage/
-- lineage_openlineage.c): OpenLineage RunEvents, one per transform
-- (doc/lineage.md "OpenLineage").  Names, numbers and hashes only, never
-- row data.  (Sorts after zz_lineage.sql, whose tables it reads.)

CREATE FUNCTION aisec.openlineage_events(since timestamptz DEFAULT '-infinity')
    RETURNS SETOF jsonb
    LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 100
    AS 'MODULE_PATHNAME', 'aisec_openlineage_events';
REVOKE ALL ON FUNCTION aisec.openlineage_events(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.openlineage_events(timestamptz) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.openlineage_events(timestamptz) IS 'one OpenLineage 2-0-2 RunEvent (COMPLETE) per lineage transform recorded at or after since: run id, job, input and output datasets with schema and aisec version facets; names, versions and hashes only, no row data';
