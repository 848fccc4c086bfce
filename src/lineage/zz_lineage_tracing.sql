-- zz_lineage_tracing.sql: the aggregate automatic capture adds to
-- statements that group rows while writing a tracked table
-- (src/lineage/lineage_rewrite.c, lineage_collect.c; doc/lineage.md
-- "Automatic capture").  (Sorts after zz_lineage_openlineage.sql, as its
-- section follows that one's in the update script.)

CREATE FUNCTION aisec.lineage_collect_step(internal, bigint) RETURNS internal
    LANGUAGE C PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_lineage_collect_step';
REVOKE ALL ON FUNCTION aisec.lineage_collect_step(internal, bigint) FROM PUBLIC;
COMMENT ON FUNCTION aisec.lineage_collect_step(internal, bigint) IS 'transition function of aisec.lineage_collect(bigint)';

CREATE FUNCTION aisec.lineage_collect_step(internal, bigint[]) RETURNS internal
    LANGUAGE C PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_lineage_collect_step_array';
REVOKE ALL ON FUNCTION aisec.lineage_collect_step(internal, bigint[]) FROM PUBLIC;
COMMENT ON FUNCTION aisec.lineage_collect_step(internal, bigint[]) IS 'transition function of aisec.lineage_collect(bigint[])';

CREATE FUNCTION aisec.lineage_collect_final(internal) RETURNS bigint[]
    LANGUAGE C PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_lineage_collect_final';
REVOKE ALL ON FUNCTION aisec.lineage_collect_final(internal) FROM PUBLIC;
COMMENT ON FUNCTION aisec.lineage_collect_final(internal) IS 'final function of aisec.lineage_collect: the row ids collected, ascending and distinct';

-- Executable by every role: aisec adds it to the statements of any role
-- that writes a tracked table from grouped rows.  It reads nothing but
-- its input and returns the distinct row ids of it.  SSPACE: a group's
-- state is about 2 bytes per row (lineage_collect.c), so the planner may
-- keep a hash aggregate.
CREATE AGGREGATE aisec.lineage_collect(bigint) (
    SFUNC = aisec.lineage_collect_step,
    STYPE = internal,
    SSPACE = 256,
    FINALFUNC = aisec.lineage_collect_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE aisec.lineage_collect(bigint) IS 'row lineage of a group: the distinct row ids of its rows, ascending (added by aisec to statements that write a tracked table from grouped rows)';

CREATE AGGREGATE aisec.lineage_collect(bigint[]) (
    SFUNC = aisec.lineage_collect_step,
    STYPE = internal,
    SSPACE = 256,
    FINALFUNC = aisec.lineage_collect_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE aisec.lineage_collect(bigint[]) IS 'row lineage of a group of groups: the distinct row ids of its rows'' sets, ascending (added by aisec to statements that write a tracked table from grouped rows)';

-- Executable by every role, not callable from SQL (its internal argument):
-- aisec puts it around the row id of MERGE's INSERT and UPDATE actions on
-- a tracked table, in the statements of any role.
CREATE FUNCTION aisec.lineage_mark(bigint, internal) RETURNS bigint
    LANGUAGE C VOLATILE PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'aisec_lineage_mark';
COMMENT ON FUNCTION aisec.lineage_mark(bigint, internal) IS 'row lineage of MERGE: returns its first argument, telling aisec''s capture which row the action writes (added by aisec to MERGE statements on tracked tables; not callable from SQL)';
