-- zz_lineage.sql: row lineage (src/lineage/).  The design is in
-- doc/lineage.md ("Design note").  Lineage holds row ids, version numbers
-- and transform ids only, never row data.  (Named to sort after every
-- other src/*/*.sql: the install script declares objects in file-name
-- order, and an updated database gets them after 0.1.0's and the earlier
-- 0.2.0 sections, in section 11 of the update script; both orders must
-- agree, as the upgrade test's catalog comparison checks.)

-- One row per capturing statement or call.  No FOREIGN KEY to or from
-- other aisec tables: pg_restore -j loads their rows in any order.
CREATE SEQUENCE aisec.lineage_transform_seq;
REVOKE ALL ON SEQUENCE aisec.lineage_transform_seq FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.lineage_transform_seq', '');
COMMENT ON SEQUENCE aisec.lineage_transform_seq IS 'aisec lineage transform ids';

CREATE TABLE aisec.lineage_transform (
    id              bigint      PRIMARY KEY,
    kind            text        NOT NULL,
    name            text,
    fingerprint     bigint,
    level           text        NOT NULL,
    sources         integer[]   NOT NULL,
    source_versions bigint[]    NOT NULL,
    targets         integer[]   NOT NULL,
    target_rel      regclass,
    edges           bigint      NOT NULL,
    role            text        NOT NULL,
    xact            bigint      NOT NULL,
    at              timestamptz NOT NULL,
    untracked_sources text[]    NOT NULL DEFAULT '{}'
) USING heap;
CREATE INDEX lineage_transform_target_rel ON aisec.lineage_transform (target_rel) WHERE target_rel IS NOT NULL;
REVOKE ALL ON aisec.lineage_transform FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.lineage_transform', '');
COMMENT ON TABLE aisec.lineage_transform IS 'aisec row lineage: one row per transform (statement or call that recorded lineage): kind, name (aisec.transform), level (row or table), source tables (table numbers) with the versions read, target tables, edges, role, transaction, time';
COMMENT ON COLUMN aisec.lineage_transform.untracked_sources IS 'the relations the transform read that are not tracked (table-level lineage only), by their qualified names when it was recorded: names, not OIDs, so that a dump restores them and a dropped table never names another';

-- The edges, one row per child row version and block of 262,144 parent row
-- ids: the parents in that block delta-encoded, with the lowest and the
-- highest of them, whose range the second index finds for "which rows
-- name this parent" (doc/lineage.md).
CREATE TABLE aisec.lineage_edge (
    child      bigint NOT NULL,
    child_from bigint NOT NULL,
    parent_lo  bigint NOT NULL,
    parent_hi  bigint NOT NULL,
    parents    bytea  NOT NULL,
    transform  bigint NOT NULL
) USING heap;
CREATE INDEX lineage_edge_child ON aisec.lineage_edge (child);
-- Down (the rows whose parent range holds a rid): a btree on the range's
-- width class (0 a point, 1 a run or set up to 4,096 ids wide, 2 a set
-- within one block; 3 a run kept for lineage_up only, format 4, never
-- scanned) and its low end; lineage_down scans, per class, parent_lo from
-- the rid minus the class's widest range up to the rid (doc/lineage.md
-- "Indexes").
CREATE INDEX lineage_edge_parent ON aisec.lineage_edge
    ((CASE WHEN pg_catalog.get_byte(parents, 0) OPERATOR(pg_catalog.=) 4 THEN 3
           WHEN parent_hi OPERATOR(pg_catalog.=) parent_lo THEN 0
           WHEN parent_hi OPERATOR(pg_catalog.-) parent_lo OPERATOR(pg_catalog.<=) 4096 THEN 1
           ELSE 2 END), parent_lo);
REVOKE ALL ON aisec.lineage_edge FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.lineage_edge', '');
COMMENT ON TABLE aisec.lineage_edge IS 'aisec row lineage: child row version (child, child_from) <- its parents within one block of 262,144 row ids (parents: encoded (rid, valid_from) set, parent_lo and parent_hi its lowest and highest rid), by transform; read with aisec.lineage_up/lineage_down';

CREATE FUNCTION aisec.lineage_refuse_change() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'aisec_lineage_refuse_change';
REVOKE ALL ON FUNCTION aisec.lineage_refuse_change() FROM PUBLIC;
COMMENT ON FUNCTION aisec.lineage_refuse_change() IS 'trigger: refuses UPDATE, DELETE and TRUNCATE of lineage records, for every role, and has each refusal recorded in the audit log (version.refused)';

-- INSERT is let through: pg_restore reloads these tables' rows.
CREATE TRIGGER lineage_transform_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE
    ON aisec.lineage_transform FOR EACH STATEMENT EXECUTE FUNCTION aisec.lineage_refuse_change();
ALTER TABLE aisec.lineage_transform ENABLE ALWAYS TRIGGER lineage_transform_refuse_change;
CREATE TRIGGER lineage_edge_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE
    ON aisec.lineage_edge FOR EACH STATEMENT EXECUTE FUNCTION aisec.lineage_refuse_change();
ALTER TABLE aisec.lineage_edge ENABLE ALWAYS TRIGGER lineage_edge_refuse_change;

CREATE FUNCTION aisec.record_lineage(child_rids bigint[], parent_rids bigint[], transform text DEFAULT NULL)
    RETURNS bigint
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_record_lineage';
REVOKE ALL ON FUNCTION aisec.record_lineage(bigint[], bigint[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.record_lineage(bigint[], bigint[], text) TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.record_lineage(bigint[], bigint[], text) IS 'record row lineage made outside SQL: edge i links child_rids[i] to parent_rids[i] (each rid a row of a tracked table, live or in history, that the caller may read); returns the transform id';

CREATE FUNCTION aisec.lineage_up(rid bigint, depth integer DEFAULT NULL)
    RETURNS TABLE (depth integer, rid bigint, rel regclass, valid_from bigint, transform bigint)
    LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 100
    AS 'MODULE_PATHNAME', 'aisec_lineage_up';
REVOKE ALL ON FUNCTION aisec.lineage_up(bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.lineage_up(bigint, integer) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.lineage_up(bigint, integer) IS 'the row versions a row was made from, transitively (depth NULL: all the way), each once: depth, row id, table, version, transform; ids only, no row data';

CREATE FUNCTION aisec.lineage_up(rids bigint[], depth integer DEFAULT NULL)
    RETURNS TABLE (depth integer, rid bigint, rel regclass, valid_from bigint, transform bigint)
    LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 100
    AS 'MODULE_PATHNAME', 'aisec_lineage_up_array';
REVOKE ALL ON FUNCTION aisec.lineage_up(bigint[], integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.lineage_up(bigint[], integer) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.lineage_up(bigint[], integer) IS 'the row versions some rows were made from, transitively (depth NULL: all the way), each once; ids only, no row data';

CREATE FUNCTION aisec.lineage_down(rid bigint, depth integer DEFAULT NULL)
    RETURNS TABLE (depth integer, rid bigint, rel regclass, valid_from bigint, transform bigint)
    LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 100
    AS 'MODULE_PATHNAME', 'aisec_lineage_down';
REVOKE ALL ON FUNCTION aisec.lineage_down(bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.lineage_down(bigint, integer) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.lineage_down(bigint, integer) IS 'the row versions made from a row, transitively (depth NULL: all the way), each once: depth, row id, table, version, transform; ids only, no row data';

CREATE FUNCTION aisec.lineage_down(rids bigint[], depth integer DEFAULT NULL)
    RETURNS TABLE (depth integer, rid bigint, rel regclass, valid_from bigint, transform bigint)
    LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 100
    AS 'MODULE_PATHNAME', 'aisec_lineage_down_array';
REVOKE ALL ON FUNCTION aisec.lineage_down(bigint[], integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.lineage_down(bigint[], integer) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.lineage_down(bigint[], integer) IS 'the row versions made from some rows, transitively (depth NULL: all the way), each once; ids only, no row data';

-- Table-level lineage (issue item 10): one row per source table, target
-- table and transform name, over every transform recorded.  Tracked
-- sources are named through the registry (NULL once a table is no longer
-- tracked), untracked ones by the name recorded (source NULL once no
-- relation has that name); a materialize target, not tracked, through
-- target_rel.  Edges run from tracked sources only.
CREATE VIEW aisec.lineage_graph AS
SELECT src.source,
       coalesce(g.rel, t.target_rel) AS target,
       t.name AS transform,
       t.kind,
       t.fingerprint,
       pg_catalog.count(*) AS statements,
       pg_catalog.sum(CASE WHEN src.tracked THEN t.edges ELSE 0 END) AS edges,
       pg_catalog.min(t.at) AS first_seen,
       pg_catalog.max(t.at) AS last_seen,
       src.tracked AS source_tracked,
       src.name AS source_name
FROM aisec.lineage_transform t
CROSS JOIN LATERAL (
    SELECT s.rel, true,
           (SELECT pg_catalog.quote_ident(n.nspname::pg_catalog.text) OPERATOR(pg_catalog.||) '.'
                   OPERATOR(pg_catalog.||) pg_catalog.quote_ident(c.relname::pg_catalog.text)
            FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
            WHERE c.oid OPERATOR(pg_catalog.=) s.rel::pg_catalog.oid)
    FROM pg_catalog.unnest(t.sources) AS sn(no)
    LEFT JOIN aisec.tracked s ON s.table_no OPERATOR(pg_catalog.=) sn.no
    UNION ALL
    SELECT pg_catalog.to_regclass(u.name), false, u.name
    FROM pg_catalog.unnest(t.untracked_sources) AS u(name)
) AS src(source, tracked, name)
LEFT JOIN LATERAL pg_catalog.unnest(CASE WHEN pg_catalog.cardinality(t.targets) OPERATOR(pg_catalog.=) 0
                                         THEN '{NULL}'::integer[] ELSE t.targets END) AS tn(no) ON true
LEFT JOIN aisec.tracked g ON g.table_no OPERATOR(pg_catalog.=) tn.no
GROUP BY 1, 2, 3, 4, 5, 10, 11;
GRANT SELECT ON aisec.lineage_graph TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON VIEW aisec.lineage_graph IS 'aisec table-level lineage: source table, target table, transform name, kind and fingerprint, statements (transforms), edges, first and last seen, whether the source is tracked, and its name (for an untracked source the name recorded); table names only, no row data';
