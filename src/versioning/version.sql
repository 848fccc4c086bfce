-- version.sql: datasets, commits, tags, reading and verifying versions
-- (dataset.c, commit.c, checkout.c, diff.c, verify.c).  The design is in
-- doc/versioning.md.  No FOREIGN KEY among these tables (see aisec.tracked
-- in history.sql): pg_restore -j loads their rows in any order.

CREATE TABLE aisec.version (
    dataset_id   integer     NOT NULL,
    version      bigint      NOT NULL,
    parent       bigint,
    committed_at timestamptz NOT NULL,
    committed_by text        NOT NULL,
    message      text,
    rows         bigint      NOT NULL,
    fingerprint  bytea       NOT NULL,
    commit_hash  bytea       NOT NULL,
    PRIMARY KEY (dataset_id, version)
) USING heap;
REVOKE ALL ON aisec.version FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.version', '');
COMMENT ON TABLE aisec.version IS 'aisec committed dataset versions (read aisec.versions); never change once written';
COMMENT ON COLUMN aisec.version.fingerprint IS 'sum mod 2^256 of the tables'' fingerprints';
COMMENT ON COLUMN aisec.version.commit_hash IS 'SHA-256(parent commit_hash || canonical commit encoding); see doc/versioning.md';

CREATE TABLE aisec.version_table (
    dataset_id  integer NOT NULL,
    version     bigint  NOT NULL,
    table_no    integer NOT NULL,
    table_name  text    NOT NULL,
    rows        bigint  NOT NULL,
    fingerprint bytea   NOT NULL,
    columns     jsonb   NOT NULL,
    PRIMARY KEY (dataset_id, version, table_no)
) USING heap;
REVOKE ALL ON aisec.version_table FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.version_table', '');
COMMENT ON TABLE aisec.version_table IS 'aisec: each table of each committed version: name, row count, fingerprint (sum mod 2^256 of row hashes), columns';

CREATE TABLE aisec.tag (
    dataset_id  integer     NOT NULL,
    tag         text        NOT NULL,
    version     bigint      NOT NULL,
    created_at  timestamptz NOT NULL,
    created_by  text        NOT NULL,
    PRIMARY KEY (dataset_id, tag)
) USING heap;
REVOKE ALL ON aisec.tag FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.tag', '');
COMMENT ON TABLE aisec.tag IS 'aisec version tags: immutable names for versions';

-- As for the registry (history.sql): INSERT is let through for pg_dump.
CREATE TRIGGER version_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE
    ON aisec.version FOR EACH STATEMENT EXECUTE FUNCTION aisec.history_refuse_change();
ALTER TABLE aisec.version ENABLE ALWAYS TRIGGER version_refuse_change;
CREATE TRIGGER version_table_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE
    ON aisec.version_table FOR EACH STATEMENT EXECUTE FUNCTION aisec.history_refuse_change();
ALTER TABLE aisec.version_table ENABLE ALWAYS TRIGGER version_table_refuse_change;
CREATE TRIGGER tag_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE
    ON aisec.tag FOR EACH STATEMENT EXECUTE FUNCTION aisec.history_refuse_change();
ALTER TABLE aisec.tag ENABLE ALWAYS TRIGGER tag_refuse_change;

CREATE VIEW aisec.datasets AS
SELECT d.name AS dataset,
       d.description,
       d.head AS latest_version,
       ARRAY(SELECT t.rel FROM aisec.tracked t
             WHERE t.dataset_id OPERATOR(pg_catalog.=) d.id
             ORDER BY t.table_no) AS tables,
       d.created_at,
       d.created_by
FROM aisec.dataset d;
GRANT SELECT ON aisec.datasets TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON VIEW aisec.datasets IS 'aisec datasets: name, description, latest version, tables';

CREATE VIEW aisec.versions AS
SELECT d.name AS dataset,
       v.version,
       v.parent,
       v.committed_at,
       v.committed_by,
       v.message,
       v.rows,
       pg_catalog.encode(v.fingerprint, 'hex') AS fingerprint,
       pg_catalog.encode(v.commit_hash, 'hex') AS commit_hash,
       ARRAY(SELECT g.tag FROM aisec.tag g
             WHERE g.dataset_id OPERATOR(pg_catalog.=) v.dataset_id
               AND g.version OPERATOR(pg_catalog.=) v.version
             ORDER BY g.tag) AS tags
FROM aisec.version v
JOIN aisec.dataset d ON d.id OPERATOR(pg_catalog.=) v.dataset_id;
GRANT SELECT ON aisec.versions TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON VIEW aisec.versions IS 'aisec committed versions: parent, author, time, message, rows, fingerprint and commit hash (hex), tags';

CREATE FUNCTION aisec.create_dataset(name text, tables regclass[], description text DEFAULT NULL)
    RETURNS integer
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_create_dataset';
REVOKE ALL ON FUNCTION aisec.create_dataset(text, regclass[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.create_dataset(text, regclass[], text) TO aisec_admin;
COMMENT ON FUNCTION aisec.create_dataset(text, regclass[], text) IS 'declare a dataset: tracked tables versioned together (each table in one dataset); returns its id';

CREATE FUNCTION aisec.commit(dataset text, message text DEFAULT NULL) RETURNS bigint
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_version_commit';
REVOKE ALL ON FUNCTION aisec.commit(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.commit(text, text) TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.commit(text, text) IS 'commit a consistent version of a dataset (waits for in-flight writers); returns the version number';

CREATE FUNCTION aisec.tag(dataset text, version bigint, tag text) RETURNS bigint
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_version_tag';
REVOKE ALL ON FUNCTION aisec.tag(text, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.tag(text, bigint, text) TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.tag(text, bigint, text) IS 'name a committed version; returns it; tags are immutable and unique per dataset (only aisec.untag() removes one)';

CREATE FUNCTION aisec.checkout_support(internal) RETURNS internal
    LANGUAGE C STRICT STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_checkout_support';
REVOKE ALL ON FUNCTION aisec.checkout_support(internal) FROM PUBLIC;
COMMENT ON FUNCTION aisec.checkout_support(internal) IS 'planner support of aisec.checkout(): estimates its rows as the table''s and loads the custom scan that reads a version without a tuplestore';

-- Masked roles read versions masked, aisec.checkout(NULL::aisec_masked.t, v):
-- they call checkout in schema aisec.  USAGE lets them name what aisec
-- grants aisec_masked_reader (checkout, the masking functions), nothing else.
GRANT USAGE ON SCHEMA aisec TO aisec_masked_reader;

CREATE FUNCTION aisec.checkout(rel anyelement, version bigint) RETURNS SETOF anyelement
    LANGUAGE C STABLE PARALLEL RESTRICTED
    SUPPORT aisec.checkout_support
    AS 'MODULE_PATHNAME', 'aisec_checkout';
REVOKE ALL ON FUNCTION aisec.checkout(anyelement, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.checkout(anyelement, bigint) TO aisec_admin, aisec_engineer, aisec_masked_reader;
COMMENT ON FUNCTION aisec.checkout(anyelement, bigint) IS 'the rows of a tracked table as they were at a committed version: SELECT * FROM aisec.checkout(NULL::t, 3); masked as its masked view masks them: aisec.checkout(NULL::aisec_masked.t, 3)';

CREATE FUNCTION aisec.checkout(rel anyelement, tag text) RETURNS SETOF anyelement
    LANGUAGE C STABLE PARALLEL RESTRICTED
    SUPPORT aisec.checkout_support
    AS 'MODULE_PATHNAME', 'aisec_checkout';
REVOKE ALL ON FUNCTION aisec.checkout(anyelement, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.checkout(anyelement, text) TO aisec_admin, aisec_engineer, aisec_masked_reader;
COMMENT ON FUNCTION aisec.checkout(anyelement, text) IS 'the rows of a tracked table as they were at a tagged version: SELECT * FROM aisec.checkout(NULL::t, ''v1''); masked: aisec.checkout(NULL::aisec_masked.t, ''v1'')';

-- checkout('t', ...) with a name: only an error that says to write NULL::t
-- (without it, PostgreSQL reports an unresolvable polymorphic type).
CREATE FUNCTION aisec.checkout(rel text, version bigint) RETURNS SETOF void
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'aisec_checkout_by_name';
REVOKE ALL ON FUNCTION aisec.checkout(text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.checkout(text, bigint) TO aisec_admin, aisec_engineer, aisec_masked_reader;
COMMENT ON FUNCTION aisec.checkout(text, bigint) IS 'not a checkout: raises an error saying to pass the table''s row type, aisec.checkout(NULL::t, 3), instead of its name';

CREATE FUNCTION aisec.checkout(rel text, tag text) RETURNS SETOF void
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'aisec_checkout_by_name';
REVOKE ALL ON FUNCTION aisec.checkout(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.checkout(text, text) TO aisec_admin, aisec_engineer, aisec_masked_reader;
COMMENT ON FUNCTION aisec.checkout(text, text) IS 'not a checkout: raises an error saying to pass the table''s row type, aisec.checkout(NULL::t, ''v1''), instead of its name';

CREATE FUNCTION aisec.materialize(rel regclass, version bigint, target name) RETURNS bigint
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_materialize';
REVOKE ALL ON FUNCTION aisec.materialize(regclass, bigint, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.materialize(regclass, bigint, name) TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.materialize(regclass, bigint, name) IS 'copy a committed version of a table (or, given its masked view, the version masked) into a new plain table (for a training job); returns the row count';

CREATE FUNCTION aisec.manifest(dataset text, version bigint) RETURNS jsonb
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'aisec_manifest';
REVOKE ALL ON FUNCTION aisec.manifest(text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.manifest(text, bigint) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.manifest(text, bigint) IS 'what a training pipeline records about a version: commit hash, per-table rows, fingerprints and columns, tags; redacted_rows: rows an erasure redacted since (counted, not hashed)';

CREATE FUNCTION aisec.diff(rel regclass, from_version bigint, to_version bigint, key text[] DEFAULT NULL)
    RETURNS TABLE (change text, rid bigint, before jsonb, after jsonb)
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'aisec_diff';
REVOKE ALL ON FUNCTION aisec.diff(regclass, bigint, bigint, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.diff(regclass, bigint, bigint, text[]) TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.diff(regclass, bigint, bigint, text[]) IS 'rows added, removed and changed in a table between two versions (version 0 is the empty table), matched by row id, or by the columns named in key; a row an erasure redacted in either version is erased (by row id, no images)';

CREATE FUNCTION aisec.diff_summary(rel regclass, from_version bigint, to_version bigint, key text[] DEFAULT NULL)
    RETURNS TABLE ("column" name, changed bigint, added bigint, removed bigint, erased bigint)
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'aisec_diff_summary';
REVOKE ALL ON FUNCTION aisec.diff_summary(regclass, bigint, bigint, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.diff_summary(regclass, bigint, bigint, text[]) TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.diff_summary(regclass, bigint, bigint, text[]) IS 'counts of aisec.diff: a first row ("column" NULL) with the rows changed, added, removed and erased, then per column the changed rows whose value in it differs and the added and removed rows with a value in it (erased NULL)';

CREATE FUNCTION aisec.verify(dataset text, version bigint DEFAULT NULL)
    RETURNS TABLE (version bigint, "table" regclass, ok boolean, expected text, actual text)
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'aisec_verify';
REVOKE ALL ON FUNCTION aisec.verify(text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.verify(text, bigint) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.verify(text, bigint) IS 'recompute fingerprints from stored rows and commit hashes from stored versions; one row per version and table (table NULL: the commit hash)';
