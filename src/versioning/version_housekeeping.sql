-- version_housekeeping.sql: taking tables, datasets and tags out of
-- versioning, and what changed since the last commit (housekeeping.c,
-- status.c).  The design is in doc/versioning.md ("Housekeeping").

-- Which dataset's versions include a table (untrack, remove_table, checkout
-- of a removed table) is looked up by table number.
CREATE INDEX version_table_table_no ON aisec.version_table (table_no, dataset_id);

CREATE FUNCTION aisec.remove_table(dataset text, rel regclass) RETURNS void
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_remove_table';
REVOKE ALL ON FUNCTION aisec.remove_table(text, regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.remove_table(text, regclass) TO aisec_admin;
COMMENT ON FUNCTION aisec.remove_table(text, regclass) IS 'take a table out of a dataset: later versions leave it out, earlier ones keep it; it stays tracked, in no dataset';

CREATE FUNCTION aisec.drop_dataset(name text, keep_history boolean DEFAULT true) RETURNS void
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_drop_dataset';
REVOKE ALL ON FUNCTION aisec.drop_dataset(text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.drop_dataset(text, boolean) TO aisec_admin;
COMMENT ON FUNCTION aisec.drop_dataset(text, boolean) IS 'drop a dataset, its versions and tags; its tables stay tracked with their history, or with keep_history => false are untracked and their history dropped';

CREATE FUNCTION aisec.untag(dataset text, tag text) RETURNS bigint
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_untag';
REVOKE ALL ON FUNCTION aisec.untag(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.untag(text, text) TO aisec_admin;
COMMENT ON FUNCTION aisec.untag(text, text) IS 'remove a tag; returns the version it named (audited)';

CREATE FUNCTION aisec.status(dataset text)
    RETURNS TABLE ("table" regclass, inserted bigint, updated bigint, deleted bigint)
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'aisec_status';
REVOKE ALL ON FUNCTION aisec.status(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.status(text) TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.status(text) IS 'per table of a dataset, the rows inserted, updated and deleted since the last commit (needs SELECT on each table)';

-- PARALLEL UNSAFE: it counts each table in a subtransaction (so that one
-- table's damaged notes only blank its own counts), which parallel mode
-- forbids.
CREATE FUNCTION aisec.tracked_table_counts()
    RETURNS TABLE (table_no integer, "rows" bigint, pending_changes bigint)
    LANGUAGE C STABLE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_tracked_table_counts';
REVOKE ALL ON FUNCTION aisec.tracked_table_counts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.tracked_table_counts() TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.tracked_table_counts() IS 'the row counts of aisec.tracked_tables: per tracked table, its rows now and the rows changed since its last commit';

CREATE VIEW aisec.tracked_tables AS
SELECT t.rel AS "table",
       t.table_no,
       c.rows,
       pg_catalog.pg_total_relation_size(t.history)
         OPERATOR(pg_catalog.+) pg_catalog.pg_total_relation_size(t.ended) AS history_size,
       d.name AS dataset,
       c.pending_changes
FROM aisec.tracked t
LEFT JOIN aisec.dataset d ON d.id OPERATOR(pg_catalog.=) t.dataset_id
LEFT JOIN aisec.tracked_table_counts() c ON c.table_no OPERATOR(pg_catalog.=) t.table_no;
GRANT SELECT ON aisec.tracked_tables TO aisec_admin, aisec_engineer;
COMMENT ON VIEW aisec.tracked_tables IS 'aisec tracked tables: table, table number, rows now (rows of the last committed version that includes the table, 0 before any, plus rows inserted minus rows deleted since, from the history records and notes of the pending version: O(changes); NULL once no version records it, after drop_dataset keeping history), history size in bytes (history and ended records with their indexes), dataset (NULL if none), pending changes (rows inserted, updated or deleted since the last commit, each row once, as aisec.status counts them)';
