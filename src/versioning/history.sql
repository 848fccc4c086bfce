-- history.sql: tracked tables, their row ids and change capture (track.c,
-- capture.c, notes.c, pending.c, guard.c).
-- The design is in doc/versioning.md ("Design note").

-- Table numbers: the high bits of every aisec_rid.  Never reused.
CREATE SEQUENCE aisec.table_no_seq AS integer MINVALUE 1 MAXVALUE 8388607;
REVOKE ALL ON SEQUENCE aisec.table_no_seq FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.table_no_seq', '');
COMMENT ON SEQUENCE aisec.table_no_seq IS 'aisec table numbers (aisec_rid >> 40); never reused';

-- Datasets are declared in version.sql; tracked tables point at them.
CREATE SEQUENCE aisec.dataset_id_seq AS integer;
REVOKE ALL ON SEQUENCE aisec.dataset_id_seq FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.dataset_id_seq', '');
COMMENT ON SEQUENCE aisec.dataset_id_seq IS 'aisec dataset ids';

CREATE TABLE aisec.dataset (
    id          integer     PRIMARY KEY DEFAULT pg_catalog.nextval('aisec.dataset_id_seq'),
    name        text        NOT NULL UNIQUE,
    description text,
    created_at  timestamptz NOT NULL,
    created_by  text        NOT NULL,
    head        bigint      NOT NULL DEFAULT 0
) USING heap;
REVOKE ALL ON aisec.dataset FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.dataset', '');
COMMENT ON TABLE aisec.dataset IS 'aisec datasets: named sets of tracked tables versioned together (read aisec.datasets)';
COMMENT ON COLUMN aisec.dataset.head IS 'latest committed version, 0 before the first commit';

-- The registry of tracked tables.  No FOREIGN KEY among aisec's tables:
-- pg_restore -j loads their rows in any order, and a key would refuse some
-- (doc/versioning.md, "Dump and restore"); aisec's functions are their only
-- writers, and aisec.verify() reports a record naming a missing dataset or
-- version.
CREATE TABLE aisec.tracked (
    table_no        integer     PRIMARY KEY,
    rel             regclass    NOT NULL UNIQUE,
    history         regclass    NOT NULL,
    pending_version bigint      NOT NULL DEFAULT 1,
    dataset_id      integer,
    columns         smallint[]  NOT NULL,
    tracked_at      timestamptz NOT NULL,
    tracked_by      text        NOT NULL,
    ended           regclass    NOT NULL,
    hash_columns    smallint[]
) USING heap;
REVOKE ALL ON aisec.tracked FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.tracked', '');
COMMENT ON TABLE aisec.tracked IS 'aisec tracked tables: row-id range, history table, pending version (see doc/versioning.md)';
COMMENT ON COLUMN aisec.tracked.table_no IS 'table number: every aisec_rid of this table is table_no << 40 | n';
COMMENT ON COLUMN aisec.tracked.pending_version IS 'version that row changes are stamped with now; a commit closes it';
COMMENT ON COLUMN aisec.tracked.ended IS 'the table recording when each history record ended (history_<n>_ended)';
COMMENT ON COLUMN aisec.tracked.columns IS 'attnums of the columns whose values history holds (dropping one is refused)';
COMMENT ON COLUMN aisec.tracked.hash_columns IS 'the numbers row hashes give the columns (their attnums where the table was tracked) when a restore renumbered them; NULL: the attnums';

-- One row per capturing statement: its net effect on the pending version's
-- row count and fingerprint.  A commit sums them (cost: O(change)).
CREATE TABLE aisec.pending_delta (
    table_no    integer NOT NULL,
    version     bigint  NOT NULL,
    rows        bigint  NOT NULL,
    fingerprint bytea   NOT NULL
) USING heap;
CREATE INDEX pending_delta_version ON aisec.pending_delta (table_no, version);
REVOKE ALL ON aisec.pending_delta FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.pending_delta', '');
COMMENT ON TABLE aisec.pending_delta IS 'aisec: per-statement change to a pending version (rows added minus removed; sum of added minus removed row hashes mod 2^256)';

-- Rows written since the last commit that have no history record yet, or
-- whose old record the next commit ends: each flush of a statement's row
-- notes appends one row.  A note is a kind ('i' inserted at a ctid, 'u'
-- updated, 'd' deleted, 'e' updated by a large UPDATE that wrote the new
-- record and left ending the old one to the commit), a row id and a ctid;
-- entries holds them delta-encoded (byte 1, the count, then per note its
-- kind and varints; about 4 bytes a note) or, as an earlier aisec wrote
-- them, 15 bytes each (doc/versioning.md).  The next commit of the
-- table's dataset gives those rows their records, ends the old records,
-- and deletes these rows.
CREATE SEQUENCE aisec.pending_row_seq;
REVOKE ALL ON SEQUENCE aisec.pending_row_seq FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.pending_row_seq', '');
COMMENT ON SEQUENCE aisec.pending_row_seq IS 'aisec: the order of aisec.pending_row entries';
CREATE TABLE aisec.pending_row (
    table_no integer NOT NULL,
    seq      bigint  NOT NULL,
    entries  bytea   NOT NULL
) USING heap;
ALTER TABLE aisec.pending_row ALTER COLUMN entries SET STORAGE EXTERNAL;
CREATE INDEX pending_row_table ON aisec.pending_row (table_no, seq);
REVOKE ALL ON aisec.pending_row FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.pending_row', '');
COMMENT ON TABLE aisec.pending_row IS 'aisec: rows of tracked tables written since the last commit that the next commit gives history records (doc/versioning.md)';

CREATE FUNCTION aisec.capture() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'aisec_capture';
REVOKE ALL ON FUNCTION aisec.capture() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.capture() TO aisec_admin;
COMMENT ON FUNCTION aisec.capture() IS 'statement trigger on tracked tables: records updated and deleted rows in their history; notes the rows an INSERT wrote into the blocks it added and writes those notes and the ones aisec.capture_row() took of other inserted rows for the next commit; refuses TRUNCATE';

CREATE FUNCTION aisec.capture_row() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'aisec_capture_row';
REVOKE ALL ON FUNCTION aisec.capture_row() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.capture_row() TO aisec_admin;
COMMENT ON FUNCTION aisec.capture_row() IS 'row trigger on tracked tables: notes where each inserted row is, for the next commit to give it a history record';

-- The WHEN condition of the row trigger above, evaluated as the inserting
-- role, so every role may execute it: it only compares a ctid with the
-- size the table had when the session's current INSERT into it started.
CREATE FUNCTION aisec.capture_row_needed(oid, tid) RETURNS boolean
    LANGUAGE C STRICT PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'aisec_capture_row_needed';
GRANT EXECUTE ON FUNCTION aisec.capture_row_needed(oid, tid) TO PUBLIC;
COMMENT ON FUNCTION aisec.capture_row_needed(oid, tid) IS 'WHEN condition of the aisec_capture_insert_row trigger: whether an inserted row (table OID, ctid) lies in a block the table had when the INSERT started; rows in the blocks it added are noted by its statement trigger (doc/versioning.md)';

CREATE FUNCTION aisec.history_refuse_change() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'aisec_history_refuse_change';
REVOKE ALL ON FUNCTION aisec.history_refuse_change() FROM PUBLIC;
COMMENT ON FUNCTION aisec.history_refuse_change() IS 'trigger: refuses direct writes to history and version records, for every role, and has each refusal recorded in the audit log (version.refused)';

-- Registry tables are written only by aisec's own functions.  INSERT is let
-- through: pg_dump restores these tables' rows into the extension's tables
-- (a forged row is found by aisec.verify); what is there never changes.
CREATE TRIGGER tracked_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE
    ON aisec.tracked FOR EACH STATEMENT EXECUTE FUNCTION aisec.history_refuse_change();
ALTER TABLE aisec.tracked ENABLE ALWAYS TRIGGER tracked_refuse_change;

-- A registry row pg_restore puts back keeps the numbers its row hashes
-- were made with (hash_columns) and takes the restored table's attnums.
CREATE FUNCTION aisec.tracked_restore() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'aisec_tracked_restore';
REVOKE ALL ON FUNCTION aisec.tracked_restore() FROM PUBLIC;
COMMENT ON FUNCTION aisec.tracked_restore() IS 'trigger: a row of aisec.tracked that aisec does not write itself (pg_restore) takes the attnums of the restored table, which has no dropped columns, and keeps the old ones as hash_columns';
CREATE TRIGGER tracked_restore BEFORE INSERT ON aisec.tracked
    FOR EACH ROW EXECUTE FUNCTION aisec.tracked_restore();
ALTER TABLE aisec.tracked ENABLE ALWAYS TRIGGER tracked_restore;
CREATE TRIGGER dataset_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE
    ON aisec.dataset FOR EACH STATEMENT EXECUTE FUNCTION aisec.history_refuse_change();
ALTER TABLE aisec.dataset ENABLE ALWAYS TRIGGER dataset_refuse_change;

CREATE FUNCTION aisec.track(rel regclass) RETURNS integer
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_track';
REVOKE ALL ON FUNCTION aisec.track(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.track(regclass) TO aisec_admin;
COMMENT ON FUNCTION aisec.track(regclass) IS 'govern a table: add aisec_rid, capture every row change into history; returns the table number';

CREATE FUNCTION aisec.untrack(rel regclass) RETURNS void
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_untrack';
REVOKE ALL ON FUNCTION aisec.untrack(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.untrack(regclass) TO aisec_admin;
COMMENT ON FUNCTION aisec.untrack(regclass) IS 'stop governing a table that is in no dataset and whose history no committed version includes: drops its history and its aisec_rid column';

CREATE FUNCTION aisec.rid_table(rid bigint) RETURNS regclass
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_rid_table';
REVOKE ALL ON FUNCTION aisec.rid_table(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.rid_table(bigint) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.rid_table(bigint) IS 'the tracked table an aisec_rid belongs to (NULL if that table is no longer tracked)';

CREATE FUNCTION aisec.track_ddl_check() RETURNS event_trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'aisec_track_ddl_check';
REVOKE ALL ON FUNCTION aisec.track_ddl_check() FROM PUBLIC;
COMMENT ON FUNCTION aisec.track_ddl_check() IS 'event trigger: refuses ALTER TABLE changes that would make a tracked table''s history unreadable (dropped columns, defaults, aisec_rid no longer an identity or renamed) or put it into table inheritance or partitioning, disabling, renaming or replacing its capture triggers, and renaming an enum value it holds';

CREATE EVENT TRIGGER aisec_track_ddl ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'ALTER FOREIGN TABLE', 'ALTER TRIGGER', 'ALTER TYPE',
                 'CREATE TABLE', 'CREATE FOREIGN TABLE', 'CREATE TRIGGER')
    EXECUTE FUNCTION aisec.track_ddl_check();

CREATE FUNCTION aisec.track_drop_check() RETURNS event_trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'aisec_track_drop_check';
REVOKE ALL ON FUNCTION aisec.track_drop_check() FROM PUBLIC;
COMMENT ON FUNCTION aisec.track_drop_check() IS 'event trigger: refuses dropping a tracked table, its history or its capture triggers (DROP TRIGGER, DROP ... CASCADE, DROP SCHEMA ... CASCADE, DROP OWNED)';

CREATE EVENT TRIGGER aisec_track_drop ON sql_drop
    EXECUTE FUNCTION aisec.track_drop_check();

CREATE FUNCTION aisec.track_ddl_start_check() RETURNS event_trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'aisec_track_ddl_start_check';
REVOKE ALL ON FUNCTION aisec.track_ddl_start_check() FROM PUBLIC;
COMMENT ON FUNCTION aisec.track_ddl_start_check() IS 'event trigger: before PostgreSQL''s own errors, refuses ALTER TABLE ... ADD COLUMN with a default (or serial, identity, generated) on a tracked table and DROP TABLE of a tracked table, saying what to run instead';

CREATE EVENT TRIGGER aisec_track_ddl_start ON ddl_command_start
    WHEN TAG IN ('ALTER TABLE', 'DROP TABLE')
    EXECUTE FUNCTION aisec.track_ddl_start_check();

-- History tables are not extension members (pg_dump keeps them with their
-- rows), so PostgreSQL would leave them behind a DROP EXTENSION: this
-- trigger drops them, with every aisec_rid column and capture trigger, when
-- the extension's owner drops it with CASCADE, and refuses without CASCADE
-- while tables are tracked.  ENABLE ALWAYS: it fires under any
-- session_replication_role.
CREATE FUNCTION aisec.drop_extension_check() RETURNS event_trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'aisec_drop_extension_check';
REVOKE ALL ON FUNCTION aisec.drop_extension_check() FROM PUBLIC;
COMMENT ON FUNCTION aisec.drop_extension_check() IS 'event trigger: DROP EXTENSION aisec (or DROP SCHEMA aisec) CASCADE drops every history table, aisec_rid column and capture trigger of tracked tables first; without CASCADE it is refused while tables are tracked';

CREATE EVENT TRIGGER aisec_drop_extension ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA')
    EXECUTE FUNCTION aisec.drop_extension_check();
ALTER EVENT TRIGGER aisec_drop_extension ENABLE ALWAYS;
