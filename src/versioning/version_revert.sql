-- version_revert.sql: aisec.revert() (revert.c) and the note it leaves for the
-- next commit.  The design is in doc/versioning.md ("aisec.revert").

-- What the next commit of a dataset records about a revert made since the
-- last one: its message gets "reverted to version N" (and so does its
-- commit hash, which covers the message).  One row per dataset at most,
-- written by aisec.revert() and deleted by aisec.commit(); like the
-- registry, it refuses UPDATE, DELETE and TRUNCATE from everyone else.
CREATE TABLE aisec.pending_note (
    dataset_id  integer     PRIMARY KEY,
    version     bigint      NOT NULL,
    reverted_to bigint      NOT NULL,
    noted_at    timestamptz NOT NULL,
    noted_by    text        NOT NULL
) USING heap;
REVOKE ALL ON aisec.pending_note FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.pending_note', '');
COMMENT ON TABLE aisec.pending_note IS 'aisec: a revert made since the last commit of a dataset (pending version, version reverted to), which the next commit names in its message';
CREATE TRIGGER pending_note_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE
    ON aisec.pending_note FOR EACH STATEMENT EXECUTE FUNCTION aisec.history_refuse_change();
ALTER TABLE aisec.pending_note ENABLE ALWAYS TRIGGER pending_note_refuse_change;

CREATE FUNCTION aisec.revert(dataset text, to_version bigint)
    RETURNS TABLE ("table" regclass, inserted bigint, updated bigint, deleted bigint)
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_revert';
REVOKE ALL ON FUNCTION aisec.revert(text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.revert(text, bigint) TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.revert(text, bigint) IS 'write every table of a dataset back to a committed version (0: empty) as ordinary captured changes, deleted rows back with their row ids; the next commit''s message says "reverted to version N"; one row per table with the rows inserted, updated and deleted';
