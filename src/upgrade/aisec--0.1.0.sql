-- aisec 0.1.0: generated from src/*.sql by the Makefile; edit those files.
\echo Use "CREATE EXTENSION aisec" to load this file. \quit

-- ==== src/schema.sql ====
-- schema.sql: the aisec schema, the governance roles, and what every other
-- part of the install script relies on.  The Makefile puts this file first.

-- Roles are cluster-wide: create each one only if it is not there yet, so a
-- second database (or a re-install) reuses them.  They cannot log in; people
-- are granted them.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'aisec_admin') THEN
        CREATE ROLE aisec_admin NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'aisec_engineer') THEN
        CREATE ROLE aisec_engineer NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'aisec_dpo') THEN
        CREATE ROLE aisec_dpo NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'aisec_auditor') THEN
        CREATE ROLE aisec_auditor NOLOGIN;
    END IF;
END
$$;

COMMENT ON SCHEMA aisec IS 'aisec: governed machine-learning training data (audit log, keys, masking, versions, lineage, bias statistics, erasure)';

-- Nobody but the owner creates objects in aisec's schema; the governance
-- roles may use it.  Every function is revoked from PUBLIC below, one by
-- one, and granted to the roles that need it.
REVOKE ALL ON SCHEMA aisec FROM PUBLIC;
GRANT USAGE ON SCHEMA aisec TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;

-- ==== src/anonymity.sql ====
-- anonymity.sql: k-anonymity (anonymity.c).

CREATE FUNCTION aisec.k_anonymity(rel regclass, quasi_identifiers text[])
    RETURNS bigint
    LANGUAGE C STABLE STRICT PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'k_anonymity';
REVOKE ALL ON FUNCTION aisec.k_anonymity(regclass, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.k_anonymity(regclass, text[]) TO aisec_admin, aisec_engineer, aisec_dpo;
COMMENT ON FUNCTION aisec.k_anonymity(regclass, text[]) IS 'size of the smallest group of rows sharing the same quasi-identifier values (NULL for an empty relation); runs with the caller''s privileges';

-- ==== src/audit.sql ====
-- audit.sql: the hash-chained audit log (audit.c).

CREATE TABLE aisec.audit_log (
    seq        bigint      PRIMARY KEY,
    at         timestamptz NOT NULL,
    actor      text        NOT NULL,
    login      text        NOT NULL,
    action     text        NOT NULL,
    object     text,
    detail     jsonb       NOT NULL,
    prev_hash  bytea       NOT NULL,
    hash       bytea       NOT NULL
);
REVOKE ALL ON aisec.audit_log FROM PUBLIC;
GRANT SELECT ON aisec.audit_log TO aisec_admin, aisec_dpo, aisec_auditor;
SELECT pg_catalog.pg_extension_config_dump('aisec.audit_log', '');
COMMENT ON TABLE aisec.audit_log IS 'aisec audit log: append-only, hash-chained (hash = SHA-256(prev_hash || canonical entry)); see doc/audit.md';
COMMENT ON COLUMN aisec.audit_log.seq IS 'position in the chain, 1, 2, 3, ... without gaps';
COMMENT ON COLUMN aisec.audit_log.actor IS 'session user that made the change';
COMMENT ON COLUMN aisec.audit_log.login IS 'role that originally logged in';
COMMENT ON COLUMN aisec.audit_log.detail IS 'what was done: identifiers and counts, never personal data';
COMMENT ON COLUMN aisec.audit_log.prev_hash IS 'hash of the entry before (32 zero bytes for the first)';
COMMENT ON COLUMN aisec.audit_log.hash IS 'SHA-256(prev_hash || canonical encoding of this entry)';

CREATE FUNCTION aisec.audit_refuse_change() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'audit_refuse_change';
REVOKE ALL ON FUNCTION aisec.audit_refuse_change() FROM PUBLIC;
COMMENT ON FUNCTION aisec.audit_refuse_change() IS 'trigger: refuses UPDATE, DELETE and TRUNCATE on aisec.audit_log';

-- Statement-level, so even a change that matches no row is refused; ENABLE
-- ALWAYS, so session_replication_role = replica does not switch them off.
CREATE TRIGGER audit_log_no_update_delete
    BEFORE UPDATE OR DELETE ON aisec.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION aisec.audit_refuse_change();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON aisec.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION aisec.audit_refuse_change();
ALTER TABLE aisec.audit_log ENABLE ALWAYS TRIGGER audit_log_no_update_delete;
ALTER TABLE aisec.audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate;

CREATE FUNCTION aisec.audit(action text, object text, detail jsonb DEFAULT '{}')
    RETURNS bigint
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'audit';
REVOKE ALL ON FUNCTION aisec.audit(text, text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.audit(text, text, jsonb) TO aisec_admin;
COMMENT ON FUNCTION aisec.audit(text, text, jsonb) IS 'append an entry to the hash-chained audit log; returns its seq';

CREATE FUNCTION aisec.audit_verify(
    OUT ok boolean, OUT entries bigint, OUT first_bad_seq bigint, OUT detail text)
    RETURNS record
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'audit_verify';
REVOKE ALL ON FUNCTION aisec.audit_verify() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.audit_verify() TO aisec_admin, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.audit_verify() IS 'recompute the audit chain; names the first entry changed, deleted, inserted or reordered';

CREATE FUNCTION aisec.audit_digest() RETURNS jsonb
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'audit_digest';
REVOKE ALL ON FUNCTION aisec.audit_digest() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.audit_digest() TO aisec_admin, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.audit_digest() IS 'signed (Ed25519) digest of the audit chain head: seq, hash, time; keep a copy outside the database';

CREATE FUNCTION aisec.audit_verify_digest(digest jsonb) RETURNS boolean
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'audit_verify_digest';
REVOKE ALL ON FUNCTION aisec.audit_verify_digest(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.audit_verify_digest(jsonb) TO aisec_admin, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.audit_verify_digest(jsonb) IS 'true if a digest from aisec.audit_digest() carries a valid signature and today''s chain still leads to it';

-- ==== src/contingency.sql ====
-- contingency.sql: the contingency-table aggregate and the tests of
-- independence computed from it (contingency.c, specfun.c; doc/drift.md).

CREATE TYPE aisec.contingency_stats;

CREATE FUNCTION aisec.contingency_stats_in(cstring) RETURNS aisec.contingency_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'contingency_stats_in';
CREATE FUNCTION aisec.contingency_stats_out(aisec.contingency_stats) RETURNS cstring
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'contingency_stats_out';
CREATE FUNCTION aisec.contingency_stats_recv(internal) RETURNS aisec.contingency_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'contingency_stats_recv';
CREATE FUNCTION aisec.contingency_stats_send(aisec.contingency_stats) RETURNS bytea
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'contingency_stats_send';

CREATE TYPE aisec.contingency_stats (
    INPUT = aisec.contingency_stats_in,
    OUTPUT = aisec.contingency_stats_out,
    RECEIVE = aisec.contingency_stats_recv,
    SEND = aisec.contingency_stats_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4,
    STORAGE = extended
);
COMMENT ON TYPE aisec.contingency_stats IS 'A contingency table of counts (rows: values of a, columns: values of b); printed as JSON';

REVOKE ALL ON FUNCTION aisec.contingency_stats_in(cstring) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.contingency_stats_out(aisec.contingency_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.contingency_stats_recv(internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.contingency_stats_send(aisec.contingency_stats) FROM PUBLIC;
COMMENT ON FUNCTION aisec.contingency_stats_in(cstring) IS 'Input function of aisec.contingency_stats (the JSON form it prints)';
COMMENT ON FUNCTION aisec.contingency_stats_out(aisec.contingency_stats) IS 'Output function of aisec.contingency_stats (JSON)';
COMMENT ON FUNCTION aisec.contingency_stats_recv(internal) IS 'Binary input function of aisec.contingency_stats (validated)';
COMMENT ON FUNCTION aisec.contingency_stats_send(aisec.contingency_stats) IS 'Binary output function of aisec.contingency_stats (the serialized state)';

-- Casts to and from the binary form (what the aggregate serializes).
CREATE FUNCTION aisec.contingency_stats_from_bytea(bytea) RETURNS aisec.contingency_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'contingency_stats_from_bytea';
REVOKE ALL ON FUNCTION aisec.contingency_stats_from_bytea(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.contingency_stats_from_bytea(bytea) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.contingency_stats_from_bytea(bytea) IS 'Read the binary form of aisec.contingency_stats, rejecting truncated, oversized, inconsistent or unknown-version input';
GRANT EXECUTE ON FUNCTION aisec.contingency_stats_send(aisec.contingency_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
CREATE CAST (bytea AS aisec.contingency_stats) WITH FUNCTION aisec.contingency_stats_from_bytea(bytea);
CREATE CAST (aisec.contingency_stats AS bytea) WITH FUNCTION aisec.contingency_stats_send(aisec.contingency_stats);
COMMENT ON CAST (bytea AS aisec.contingency_stats) IS 'Validated conversion from the binary form';
COMMENT ON CAST (aisec.contingency_stats AS bytea) IS 'The binary form (format in doc/drift.md)';

-- Aggregate support.  Executable by the extension owner only: aggregates
-- check their support functions against their owner, not the caller.
CREATE FUNCTION aisec.contingency_transfn(internal, text, text) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'contingency_transfn';
CREATE FUNCTION aisec.contingency_merge_transfn(internal, aisec.contingency_stats) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'contingency_merge_transfn';
CREATE FUNCTION aisec.contingency_combinefn(internal, internal) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'contingency_combinefn';
CREATE FUNCTION aisec.contingency_serialfn(internal) RETURNS bytea
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'contingency_serialfn';
CREATE FUNCTION aisec.contingency_deserialfn(bytea, internal) RETURNS internal
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'contingency_deserialfn';
CREATE FUNCTION aisec.contingency_finalfn(internal) RETURNS aisec.contingency_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'contingency_finalfn';
REVOKE ALL ON FUNCTION aisec.contingency_transfn(internal, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.contingency_merge_transfn(internal, aisec.contingency_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.contingency_combinefn(internal, internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.contingency_serialfn(internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.contingency_deserialfn(bytea, internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.contingency_finalfn(internal) FROM PUBLIC;
COMMENT ON FUNCTION aisec.contingency_transfn(internal, text, text) IS 'Transition function of aisec.contingency';
COMMENT ON FUNCTION aisec.contingency_merge_transfn(internal, aisec.contingency_stats) IS 'Transition function of aisec.contingency_merge';
COMMENT ON FUNCTION aisec.contingency_combinefn(internal, internal) IS 'Combine function of aisec.contingency and aisec.contingency_merge';
COMMENT ON FUNCTION aisec.contingency_serialfn(internal) IS 'Serialize function of aisec.contingency and aisec.contingency_merge';
COMMENT ON FUNCTION aisec.contingency_deserialfn(bytea, internal) IS 'Deserialize function of aisec.contingency and aisec.contingency_merge (validates its input)';
COMMENT ON FUNCTION aisec.contingency_finalfn(internal) IS 'Final function of aisec.contingency and aisec.contingency_merge';

CREATE AGGREGATE aisec.contingency(a text, b text) (
    SFUNC = aisec.contingency_transfn,
    STYPE = internal,
    FINALFUNC = aisec.contingency_finalfn,
    COMBINEFUNC = aisec.contingency_combinefn,
    SERIALFUNC = aisec.contingency_serialfn,
    DESERIALFUNC = aisec.contingency_deserialfn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.contingency(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.contingency(text, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.contingency(text, text) IS 'Contingency table of counts of (a, b) pairs; rows where a or b is NULL are skipped; NULL for no rows';

CREATE AGGREGATE aisec.contingency_merge(aisec.contingency_stats) (
    SFUNC = aisec.contingency_merge_transfn,
    STYPE = internal,
    FINALFUNC = aisec.contingency_finalfn,
    COMBINEFUNC = aisec.contingency_combinefn,
    SERIALFUNC = aisec.contingency_serialfn,
    DESERIALFUNC = aisec.contingency_deserialfn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.contingency_merge(aisec.contingency_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.contingency_merge(aisec.contingency_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.contingency_merge(aisec.contingency_stats) IS 'Sum stored contingency tables (for example daily partial tables) into one';

-- Statistics over a table.
CREATE FUNCTION aisec.chi2_test(c aisec.contingency_stats,
                                OUT statistic float8, OUT dof integer, OUT p_value float8)
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'chi2_test';
REVOKE ALL ON FUNCTION aisec.chi2_test(aisec.contingency_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.chi2_test(aisec.contingency_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.chi2_test(aisec.contingency_stats) IS 'Pearson chi-square test of independence (no Yates correction): statistic, degrees of freedom (R-1)(C-1), p-value (NULL when dof = 0)';

CREATE FUNCTION aisec.cramers_v(c aisec.contingency_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'cramers_v';
REVOKE ALL ON FUNCTION aisec.cramers_v(aisec.contingency_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.cramers_v(aisec.contingency_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.cramers_v(aisec.contingency_stats) IS 'Cramer''s V = sqrt(chi2 / (n (min(R, C) - 1))), no bias correction; NULL for a table with one row or one column';

CREATE FUNCTION aisec.chi2_p_value(statistic float8, dof integer) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'chi2_p_value';
REVOKE ALL ON FUNCTION aisec.chi2_p_value(float8, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.chi2_p_value(float8, integer) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.chi2_p_value(float8, integer) IS 'Upper tail P(X >= statistic) of the chi-square distribution with dof degrees of freedom';

CREATE FUNCTION aisec.contingency_cells(c aisec.contingency_stats,
                                        OUT a text, OUT b text, OUT count bigint, OUT expected float8)
    RETURNS SETOF record
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 16
    AS 'MODULE_PATHNAME', 'contingency_cells';
REVOKE ALL ON FUNCTION aisec.contingency_cells(aisec.contingency_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.contingency_cells(aisec.contingency_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.contingency_cells(aisec.contingency_stats) IS 'The cells of a contingency table: a, b, observed count, and count expected under independence';

-- ==== src/divergence.sql ====
-- divergence.sql: drift measures (divergence.c) and the two aggregates they
-- compare: aisec.histogram (histogram.c) and aisec.category_counts
-- (category.c).  doc/drift.md has the formulas and conventions.

-- ==== Histograms (histogram.c)
CREATE TYPE aisec.histogram_stats;

CREATE FUNCTION aisec.histogram_stats_in(cstring) RETURNS aisec.histogram_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'histogram_stats_in';
CREATE FUNCTION aisec.histogram_stats_out(aisec.histogram_stats) RETURNS cstring
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'histogram_stats_out';
CREATE FUNCTION aisec.histogram_stats_recv(internal) RETURNS aisec.histogram_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'histogram_stats_recv';
CREATE FUNCTION aisec.histogram_stats_send(aisec.histogram_stats) RETURNS bytea
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'histogram_stats_send';

CREATE TYPE aisec.histogram_stats (
    INPUT = aisec.histogram_stats_in,
    OUTPUT = aisec.histogram_stats_out,
    RECEIVE = aisec.histogram_stats_recv,
    SEND = aisec.histogram_stats_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4,
    STORAGE = extended
);
COMMENT ON TYPE aisec.histogram_stats IS 'Counts of a numeric column in equal-width bins over [lower, upper), plus below-range and above-range counts; printed as JSON';

REVOKE ALL ON FUNCTION aisec.histogram_stats_in(cstring) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.histogram_stats_out(aisec.histogram_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.histogram_stats_recv(internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.histogram_stats_send(aisec.histogram_stats) FROM PUBLIC;
COMMENT ON FUNCTION aisec.histogram_stats_in(cstring) IS 'Input function of aisec.histogram_stats (the JSON form it prints)';
COMMENT ON FUNCTION aisec.histogram_stats_out(aisec.histogram_stats) IS 'Output function of aisec.histogram_stats (JSON)';
COMMENT ON FUNCTION aisec.histogram_stats_recv(internal) IS 'Binary input function of aisec.histogram_stats (validated)';
COMMENT ON FUNCTION aisec.histogram_stats_send(aisec.histogram_stats) IS 'Binary output function of aisec.histogram_stats (the serialized state)';

-- Casts to and from the binary form (what the aggregate serializes).
CREATE FUNCTION aisec.histogram_stats_from_bytea(bytea) RETURNS aisec.histogram_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'histogram_stats_from_bytea';
REVOKE ALL ON FUNCTION aisec.histogram_stats_from_bytea(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.histogram_stats_from_bytea(bytea) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.histogram_stats_from_bytea(bytea) IS 'Read the binary form of aisec.histogram_stats, rejecting truncated, oversized, inconsistent or unknown-version input';
GRANT EXECUTE ON FUNCTION aisec.histogram_stats_send(aisec.histogram_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
CREATE CAST (bytea AS aisec.histogram_stats) WITH FUNCTION aisec.histogram_stats_from_bytea(bytea);
CREATE CAST (aisec.histogram_stats AS bytea) WITH FUNCTION aisec.histogram_stats_send(aisec.histogram_stats);
COMMENT ON CAST (bytea AS aisec.histogram_stats) IS 'Validated conversion from the binary form';
COMMENT ON CAST (aisec.histogram_stats AS bytea) IS 'The binary form (format in doc/drift.md)';

-- Aggregate support.  Executable by the extension owner only: aggregates
-- check their support functions against their owner, not the caller.
CREATE FUNCTION aisec.histogram_transfn(internal, float8, float8, float8, integer) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'histogram_transfn';
CREATE FUNCTION aisec.histogram_merge_transfn(internal, aisec.histogram_stats) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'histogram_merge_transfn';
CREATE FUNCTION aisec.histogram_combinefn(internal, internal) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'histogram_combinefn';
CREATE FUNCTION aisec.histogram_serialfn(internal) RETURNS bytea
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'histogram_serialfn';
CREATE FUNCTION aisec.histogram_deserialfn(bytea, internal) RETURNS internal
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'histogram_deserialfn';
CREATE FUNCTION aisec.histogram_finalfn(internal) RETURNS aisec.histogram_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'histogram_finalfn';
REVOKE ALL ON FUNCTION aisec.histogram_transfn(internal, float8, float8, float8, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.histogram_merge_transfn(internal, aisec.histogram_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.histogram_combinefn(internal, internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.histogram_serialfn(internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.histogram_deserialfn(bytea, internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.histogram_finalfn(internal) FROM PUBLIC;
COMMENT ON FUNCTION aisec.histogram_transfn(internal, float8, float8, float8, integer) IS 'Transition function of aisec.histogram';
COMMENT ON FUNCTION aisec.histogram_merge_transfn(internal, aisec.histogram_stats) IS 'Transition function of aisec.histogram_merge';
COMMENT ON FUNCTION aisec.histogram_combinefn(internal, internal) IS 'Combine function of aisec.histogram and aisec.histogram_merge';
COMMENT ON FUNCTION aisec.histogram_serialfn(internal) IS 'Serialize function of aisec.histogram and aisec.histogram_merge';
COMMENT ON FUNCTION aisec.histogram_deserialfn(bytea, internal) IS 'Deserialize function of aisec.histogram and aisec.histogram_merge (validates its input)';
COMMENT ON FUNCTION aisec.histogram_finalfn(internal) IS 'Final function of aisec.histogram and aisec.histogram_merge';

CREATE AGGREGATE aisec.histogram(value float8, lower float8, upper float8, bins integer) (
    SFUNC = aisec.histogram_transfn,
    STYPE = internal,
    FINALFUNC = aisec.histogram_finalfn,
    COMBINEFUNC = aisec.histogram_combinefn,
    SERIALFUNC = aisec.histogram_serialfn,
    DESERIALFUNC = aisec.histogram_deserialfn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.histogram(float8, float8, float8, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.histogram(float8, float8, float8, integer) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.histogram(float8, float8, float8, integer) IS 'Histogram of value in bins equal-width bins over [lower, upper) (bin rule of width_bucket), with underflow and overflow counts; NULL values skipped; NULL for no values';

CREATE AGGREGATE aisec.histogram_merge(aisec.histogram_stats) (
    SFUNC = aisec.histogram_merge_transfn,
    STYPE = internal,
    FINALFUNC = aisec.histogram_finalfn,
    COMBINEFUNC = aisec.histogram_combinefn,
    SERIALFUNC = aisec.histogram_serialfn,
    DESERIALFUNC = aisec.histogram_deserialfn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.histogram_merge(aisec.histogram_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.histogram_merge(aisec.histogram_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.histogram_merge(aisec.histogram_stats) IS 'Sum stored histograms with the same bins into one';

CREATE FUNCTION aisec.histogram_bins(h aisec.histogram_stats, OUT bin integer, OUT lower float8, OUT upper float8, OUT count bigint, OUT proportion float8) RETURNS SETOF record
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 12
    AS 'MODULE_PATHNAME', 'histogram_bins';
REVOKE ALL ON FUNCTION aisec.histogram_bins(aisec.histogram_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.histogram_bins(aisec.histogram_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.histogram_bins(aisec.histogram_stats) IS 'The bins of a histogram: bin number (0 = below lower, bins + 1 = at or above upper), bounds, count, proportion';

-- ==== Category counts (category.c)
CREATE TYPE aisec.category_stats;

CREATE FUNCTION aisec.category_stats_in(cstring) RETURNS aisec.category_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'category_stats_in';
CREATE FUNCTION aisec.category_stats_out(aisec.category_stats) RETURNS cstring
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'category_stats_out';
CREATE FUNCTION aisec.category_stats_recv(internal) RETURNS aisec.category_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'category_stats_recv';
CREATE FUNCTION aisec.category_stats_send(aisec.category_stats) RETURNS bytea
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'category_stats_send';

CREATE TYPE aisec.category_stats (
    INPUT = aisec.category_stats_in,
    OUTPUT = aisec.category_stats_out,
    RECEIVE = aisec.category_stats_recv,
    SEND = aisec.category_stats_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4,
    STORAGE = extended
);
COMMENT ON TYPE aisec.category_stats IS 'Counts of each distinct value of a text column; printed as JSON';

REVOKE ALL ON FUNCTION aisec.category_stats_in(cstring) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.category_stats_out(aisec.category_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.category_stats_recv(internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.category_stats_send(aisec.category_stats) FROM PUBLIC;
COMMENT ON FUNCTION aisec.category_stats_in(cstring) IS 'Input function of aisec.category_stats (the JSON form it prints)';
COMMENT ON FUNCTION aisec.category_stats_out(aisec.category_stats) IS 'Output function of aisec.category_stats (JSON)';
COMMENT ON FUNCTION aisec.category_stats_recv(internal) IS 'Binary input function of aisec.category_stats (validated)';
COMMENT ON FUNCTION aisec.category_stats_send(aisec.category_stats) IS 'Binary output function of aisec.category_stats (the serialized state)';

-- Casts to and from the binary form (what the aggregate serializes).
CREATE FUNCTION aisec.category_stats_from_bytea(bytea) RETURNS aisec.category_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'category_stats_from_bytea';
REVOKE ALL ON FUNCTION aisec.category_stats_from_bytea(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.category_stats_from_bytea(bytea) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.category_stats_from_bytea(bytea) IS 'Read the binary form of aisec.category_stats, rejecting truncated, oversized, inconsistent or unknown-version input';
GRANT EXECUTE ON FUNCTION aisec.category_stats_send(aisec.category_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
CREATE CAST (bytea AS aisec.category_stats) WITH FUNCTION aisec.category_stats_from_bytea(bytea);
CREATE CAST (aisec.category_stats AS bytea) WITH FUNCTION aisec.category_stats_send(aisec.category_stats);
COMMENT ON CAST (bytea AS aisec.category_stats) IS 'Validated conversion from the binary form';
COMMENT ON CAST (aisec.category_stats AS bytea) IS 'The binary form (format in doc/drift.md)';

-- Aggregate support.  Executable by the extension owner only: aggregates
-- check their support functions against their owner, not the caller.
CREATE FUNCTION aisec.category_counts_transfn(internal, text) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'category_counts_transfn';
CREATE FUNCTION aisec.category_counts_merge_transfn(internal, aisec.category_stats) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'category_counts_merge_transfn';
CREATE FUNCTION aisec.category_counts_combinefn(internal, internal) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'category_counts_combinefn';
CREATE FUNCTION aisec.category_counts_serialfn(internal) RETURNS bytea
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'category_counts_serialfn';
CREATE FUNCTION aisec.category_counts_deserialfn(bytea, internal) RETURNS internal
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'category_counts_deserialfn';
CREATE FUNCTION aisec.category_counts_finalfn(internal) RETURNS aisec.category_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'category_counts_finalfn';
REVOKE ALL ON FUNCTION aisec.category_counts_transfn(internal, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.category_counts_merge_transfn(internal, aisec.category_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.category_counts_combinefn(internal, internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.category_counts_serialfn(internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.category_counts_deserialfn(bytea, internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.category_counts_finalfn(internal) FROM PUBLIC;
COMMENT ON FUNCTION aisec.category_counts_transfn(internal, text) IS 'Transition function of aisec.category_counts';
COMMENT ON FUNCTION aisec.category_counts_merge_transfn(internal, aisec.category_stats) IS 'Transition function of aisec.category_counts_merge';
COMMENT ON FUNCTION aisec.category_counts_combinefn(internal, internal) IS 'Combine function of aisec.category_counts and aisec.category_counts_merge';
COMMENT ON FUNCTION aisec.category_counts_serialfn(internal) IS 'Serialize function of aisec.category_counts and aisec.category_counts_merge';
COMMENT ON FUNCTION aisec.category_counts_deserialfn(bytea, internal) IS 'Deserialize function of aisec.category_counts and aisec.category_counts_merge (validates its input)';
COMMENT ON FUNCTION aisec.category_counts_finalfn(internal) IS 'Final function of aisec.category_counts and aisec.category_counts_merge';

CREATE AGGREGATE aisec.category_counts(value text) (
    SFUNC = aisec.category_counts_transfn,
    STYPE = internal,
    FINALFUNC = aisec.category_counts_finalfn,
    COMBINEFUNC = aisec.category_counts_combinefn,
    SERIALFUNC = aisec.category_counts_serialfn,
    DESERIALFUNC = aisec.category_counts_deserialfn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.category_counts(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.category_counts(text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.category_counts(text) IS 'Count of each distinct value; NULL values skipped; NULL for no values';

CREATE AGGREGATE aisec.category_counts_merge(aisec.category_stats) (
    SFUNC = aisec.category_counts_merge_transfn,
    STYPE = internal,
    FINALFUNC = aisec.category_counts_finalfn,
    COMBINEFUNC = aisec.category_counts_combinefn,
    SERIALFUNC = aisec.category_counts_serialfn,
    DESERIALFUNC = aisec.category_counts_deserialfn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.category_counts_merge(aisec.category_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.category_counts_merge(aisec.category_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.category_counts_merge(aisec.category_stats) IS 'Sum stored category counts into one';

CREATE FUNCTION aisec.category_frequencies(c aisec.category_stats, OUT value text, OUT count bigint, OUT proportion float8) RETURNS SETOF record
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 12
    AS 'MODULE_PATHNAME', 'category_frequencies';
REVOKE ALL ON FUNCTION aisec.category_frequencies(aisec.category_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.category_frequencies(aisec.category_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.category_frequencies(aisec.category_stats) IS 'The categories of a category count: value, count, proportion';

-- ==== Drift measures (divergence.c)
CREATE FUNCTION aisec.psi(expected aisec.histogram_stats, actual aisec.histogram_stats, epsilon float8 DEFAULT 0.0001) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'psi';
REVOKE ALL ON FUNCTION aisec.psi(aisec.histogram_stats, aisec.histogram_stats, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.psi(aisec.histogram_stats, aisec.histogram_stats, float8) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.psi(aisec.histogram_stats, aisec.histogram_stats, float8) IS 'Population stability index sum((a - e) ln(a / e)) over bins; proportions below epsilon are raised to epsilon and renormalized; NULL when infinite (epsilon = 0)';

CREATE FUNCTION aisec.kl_divergence(p aisec.histogram_stats, q aisec.histogram_stats, epsilon float8 DEFAULT 0.0001) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kl_divergence';
REVOKE ALL ON FUNCTION aisec.kl_divergence(aisec.histogram_stats, aisec.histogram_stats, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.kl_divergence(aisec.histogram_stats, aisec.histogram_stats, float8) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.kl_divergence(aisec.histogram_stats, aisec.histogram_stats, float8) IS 'Kullback-Leibler divergence D(p || q) = sum(p ln(p / q)), natural log; smoothing as for psi; NULL when infinite (epsilon = 0)';

CREATE FUNCTION aisec.js_divergence(p aisec.histogram_stats, q aisec.histogram_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'js_divergence';
REVOKE ALL ON FUNCTION aisec.js_divergence(aisec.histogram_stats, aisec.histogram_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.js_divergence(aisec.histogram_stats, aisec.histogram_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.js_divergence(aisec.histogram_stats, aisec.histogram_stats) IS 'Jensen-Shannon divergence (D(p || m) + D(q || m)) / 2 with m = (p + q) / 2, natural log, in [0, ln 2]; no smoothing needed';

CREATE FUNCTION aisec.psi(expected aisec.category_stats, actual aisec.category_stats, epsilon float8 DEFAULT 0.0001) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'psi';
REVOKE ALL ON FUNCTION aisec.psi(aisec.category_stats, aisec.category_stats, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.psi(aisec.category_stats, aisec.category_stats, float8) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.psi(aisec.category_stats, aisec.category_stats, float8) IS 'Population stability index sum((a - e) ln(a / e)) over bins; proportions below epsilon are raised to epsilon and renormalized; NULL when infinite (epsilon = 0)';

CREATE FUNCTION aisec.kl_divergence(p aisec.category_stats, q aisec.category_stats, epsilon float8 DEFAULT 0.0001) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'kl_divergence';
REVOKE ALL ON FUNCTION aisec.kl_divergence(aisec.category_stats, aisec.category_stats, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.kl_divergence(aisec.category_stats, aisec.category_stats, float8) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.kl_divergence(aisec.category_stats, aisec.category_stats, float8) IS 'Kullback-Leibler divergence D(p || q) = sum(p ln(p / q)), natural log; smoothing as for psi; NULL when infinite (epsilon = 0)';

CREATE FUNCTION aisec.js_divergence(p aisec.category_stats, q aisec.category_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'js_divergence';
REVOKE ALL ON FUNCTION aisec.js_divergence(aisec.category_stats, aisec.category_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.js_divergence(aisec.category_stats, aisec.category_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.js_divergence(aisec.category_stats, aisec.category_stats) IS 'Jensen-Shannon divergence (D(p || m) + D(q || m)) / 2 with m = (p + q) / 2, natural log, in [0, ln 2]; no smoothing needed';

CREATE FUNCTION aisec.ks_statistic(p aisec.histogram_stats, q aisec.histogram_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'ks_statistic';
REVOKE ALL ON FUNCTION aisec.ks_statistic(aisec.histogram_stats, aisec.histogram_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.ks_statistic(aisec.histogram_stats, aisec.histogram_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.ks_statistic(aisec.histogram_stats, aisec.histogram_stats) IS 'Two-sample Kolmogorov-Smirnov D = max |F_p - F_q| evaluated at the bin edges (a lower bound of D over the raw values)';

CREATE FUNCTION aisec.ks_statistic(x float8[], y float8[]) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'ks_statistic_values';
REVOKE ALL ON FUNCTION aisec.ks_statistic(float8[], float8[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.ks_statistic(float8[], float8[]) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.ks_statistic(float8[], float8[]) IS 'Exact two-sample Kolmogorov-Smirnov D = max |F_x - F_y| over raw values (as scipy.stats.ks_2samp); NULL elements skipped; NULL if a sample is empty';

CREATE FUNCTION aisec.class_imbalance(labels aisec.category_stats, OUT classes integer, OUT majority text, OUT minority text, OUT imbalance_ratio float8, OUT normalized_difference float8, OUT balance float8) RETURNS record
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'class_imbalance';
REVOKE ALL ON FUNCTION aisec.class_imbalance(aisec.category_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.class_imbalance(aisec.category_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.class_imbalance(aisec.category_stats) IS 'Class imbalance of a label distribution: majority / minority count ratio, (majority - minority) / (majority + minority), and normalized Shannon entropy (1 = balanced)';

-- ==== src/fairness.sql ====
-- fairness.sql: the aisec.fairness_stats type and the aggregates that build
-- it (fairness.c).  Metric functions are in fairness_metrics.sql, the report
-- and chart in fairness_report.sql.

CREATE TYPE aisec.fairness_stats;

CREATE FUNCTION aisec.fairness_stats_in(cstring) RETURNS aisec.fairness_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'fairness_stats_in';
CREATE FUNCTION aisec.fairness_stats_out(aisec.fairness_stats) RETURNS cstring
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'fairness_stats_out';
CREATE FUNCTION aisec.fairness_stats_recv(internal) RETURNS aisec.fairness_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'fairness_stats_recv';
CREATE FUNCTION aisec.fairness_stats_send(aisec.fairness_stats) RETURNS bytea
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'fairness_stats_send';

CREATE TYPE aisec.fairness_stats (
    INPUT = aisec.fairness_stats_in,
    OUTPUT = aisec.fairness_stats_out,
    RECEIVE = aisec.fairness_stats_recv,
    SEND = aisec.fairness_stats_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4,
    STORAGE = extended
);
COMMENT ON TYPE aisec.fairness_stats IS 'per-group weighted confusion matrices (y_true x y_pred, each false/true/NULL), from aisec.fairness(); text form is JSON; see doc/bias.md';

-- Type I/O functions run without an EXECUTE check; the revokes keep the
-- rule "nothing in aisec is executable by PUBLIC".
REVOKE ALL ON FUNCTION aisec.fairness_stats_in(cstring) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.fairness_stats_out(aisec.fairness_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.fairness_stats_recv(internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.fairness_stats_send(aisec.fairness_stats) FROM PUBLIC;
COMMENT ON FUNCTION aisec.fairness_stats_in(cstring) IS 'text input of aisec.fairness_stats: the JSON printed by its output function, validated';
COMMENT ON FUNCTION aisec.fairness_stats_out(aisec.fairness_stats) IS 'text output of aisec.fairness_stats: JSON';
COMMENT ON FUNCTION aisec.fairness_stats_recv(internal) IS 'binary input of aisec.fairness_stats (format version 1), validated';
COMMENT ON FUNCTION aisec.fairness_stats_send(aisec.fairness_stats) IS 'binary output of aisec.fairness_stats (format version 1)';

-- bytea <-> fairness_stats: the bytes are the binary format; reading them
-- back validates them (truncation, version, consistency).
CREATE FUNCTION aisec.fairness_stats(bytea) RETURNS aisec.fairness_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'fairness_stats_from_bytes';
REVOKE ALL ON FUNCTION aisec.fairness_stats(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.fairness_stats(bytea) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.fairness_stats(bytea) IS 'validate bytes in the aisec.fairness_stats binary format and return them as a value';
CREATE CAST (bytea AS aisec.fairness_stats) WITH FUNCTION aisec.fairness_stats(bytea);
COMMENT ON CAST (bytea AS aisec.fairness_stats) IS 'validating cast from the binary format';
CREATE CAST (aisec.fairness_stats AS bytea) WITHOUT FUNCTION;
COMMENT ON CAST (aisec.fairness_stats AS bytea) IS 'the value''s bytes in the binary format (doc/bias.md)';

-- Aggregate support functions: internal state, callable only by aggregates.
CREATE FUNCTION aisec.fairness_transfn(internal, text, boolean, boolean) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'fairness_transfn';
CREATE FUNCTION aisec.fairness_weighted_transfn(internal, text, boolean, boolean, float8) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'fairness_weighted_transfn';
CREATE FUNCTION aisec.fairness_merge_transfn(internal, aisec.fairness_stats) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'fairness_merge_transfn';
CREATE FUNCTION aisec.fairness_combinefn(internal, internal) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'fairness_combinefn';
CREATE FUNCTION aisec.fairness_serialfn(internal) RETURNS bytea
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'fairness_serialfn';
CREATE FUNCTION aisec.fairness_deserialfn(bytea, internal) RETURNS internal
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'fairness_deserialfn';
CREATE FUNCTION aisec.fairness_finalfn(internal) RETURNS aisec.fairness_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'fairness_finalfn';
REVOKE ALL ON FUNCTION aisec.fairness_transfn(internal, text, boolean, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.fairness_weighted_transfn(internal, text, boolean, boolean, float8) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.fairness_merge_transfn(internal, aisec.fairness_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.fairness_combinefn(internal, internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.fairness_serialfn(internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.fairness_deserialfn(bytea, internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.fairness_finalfn(internal) FROM PUBLIC;
COMMENT ON FUNCTION aisec.fairness_transfn(internal, text, boolean, boolean) IS 'aisec.fairness support: add an unweighted row';
COMMENT ON FUNCTION aisec.fairness_weighted_transfn(internal, text, boolean, boolean, float8) IS 'aisec.fairness support: add a weighted row';
COMMENT ON FUNCTION aisec.fairness_merge_transfn(internal, aisec.fairness_stats) IS 'aisec.fairness_merge support: add a stored value';
COMMENT ON FUNCTION aisec.fairness_combinefn(internal, internal) IS 'aisec.fairness support: merge two partial states';
COMMENT ON FUNCTION aisec.fairness_serialfn(internal) IS 'aisec.fairness support: serialize a partial state';
COMMENT ON FUNCTION aisec.fairness_deserialfn(bytea, internal) IS 'aisec.fairness support: validate and deserialize a partial state';
COMMENT ON FUNCTION aisec.fairness_finalfn(internal) IS 'aisec.fairness support: return the state as aisec.fairness_stats';

CREATE AGGREGATE aisec.fairness(grp text, y_true boolean, y_pred boolean) (
    SFUNC = aisec.fairness_transfn,
    STYPE = internal,
    SSPACE = 2048,
    FINALFUNC = aisec.fairness_finalfn,
    COMBINEFUNC = aisec.fairness_combinefn,
    SERIALFUNC = aisec.fairness_serialfn,
    DESERIALFUNC = aisec.fairness_deserialfn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.fairness(text, boolean, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.fairness(text, boolean, boolean) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.fairness(text, boolean, boolean) IS 'per-group confusion matrices of (y_true, y_pred) in one scan; NULL group is its own group, NULL labels are kept as unknown';

CREATE AGGREGATE aisec.fairness(grp text, y_true boolean, y_pred boolean, weight float8) (
    SFUNC = aisec.fairness_weighted_transfn,
    STYPE = internal,
    SSPACE = 2048,
    FINALFUNC = aisec.fairness_finalfn,
    COMBINEFUNC = aisec.fairness_combinefn,
    SERIALFUNC = aisec.fairness_serialfn,
    DESERIALFUNC = aisec.fairness_deserialfn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.fairness(text, boolean, boolean, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.fairness(text, boolean, boolean, float8) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.fairness(text, boolean, boolean, float8) IS 'per-group weighted confusion matrices of (y_true, y_pred) in one scan; weights must be finite and >= 0';

CREATE AGGREGATE aisec.fairness_merge(aisec.fairness_stats) (
    SFUNC = aisec.fairness_merge_transfn,
    STYPE = internal,
    SSPACE = 2048,
    FINALFUNC = aisec.fairness_finalfn,
    COMBINEFUNC = aisec.fairness_combinefn,
    SERIALFUNC = aisec.fairness_serialfn,
    DESERIALFUNC = aisec.fairness_deserialfn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.fairness_merge(aisec.fairness_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.fairness_merge(aisec.fairness_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.fairness_merge(aisec.fairness_stats) IS 'merge stored aisec.fairness_stats values (e.g. daily partial states) into one';

-- ==== src/fairness_metrics.sql ====
-- fairness_metrics.sql: rates and fairness metrics over aisec.fairness_stats
-- (fairness_metrics.c).  A rate whose denominator is 0 is NULL, and so is
-- any metric built on it.  Functions that take a group name are CALLED ON
-- NULL INPUT: a NULL group name selects the NULL group.

-- Per group.
CREATE FUNCTION aisec.selection_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'selection_rate';
REVOKE ALL ON FUNCTION aisec.selection_rate(aisec.fairness_stats, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.selection_rate(aisec.fairness_stats, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.selection_rate(aisec.fairness_stats, text) IS 'P(y_pred) in the group: predicted positives over rows with a known y_pred; NULL when the denominator is 0';

CREATE FUNCTION aisec.base_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'base_rate';
REVOKE ALL ON FUNCTION aisec.base_rate(aisec.fairness_stats, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.base_rate(aisec.fairness_stats, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.base_rate(aisec.fairness_stats, text) IS 'P(y_true) in the group: actual positives over rows with a known y_true; NULL when the denominator is 0';

CREATE FUNCTION aisec.true_positive_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'true_positive_rate';
REVOKE ALL ON FUNCTION aisec.true_positive_rate(aisec.fairness_stats, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.true_positive_rate(aisec.fairness_stats, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.true_positive_rate(aisec.fairness_stats, text) IS 'TP / (TP + FN) in the group (recall, sensitivity); NULL when the denominator is 0';

CREATE FUNCTION aisec.false_positive_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'false_positive_rate';
REVOKE ALL ON FUNCTION aisec.false_positive_rate(aisec.fairness_stats, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.false_positive_rate(aisec.fairness_stats, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.false_positive_rate(aisec.fairness_stats, text) IS 'FP / (FP + TN) in the group; NULL when the denominator is 0';

CREATE FUNCTION aisec.false_negative_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'false_negative_rate';
REVOKE ALL ON FUNCTION aisec.false_negative_rate(aisec.fairness_stats, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.false_negative_rate(aisec.fairness_stats, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.false_negative_rate(aisec.fairness_stats, text) IS 'FN / (TP + FN) in the group; NULL when the denominator is 0';

CREATE FUNCTION aisec.true_negative_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'true_negative_rate';
REVOKE ALL ON FUNCTION aisec.true_negative_rate(aisec.fairness_stats, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.true_negative_rate(aisec.fairness_stats, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.true_negative_rate(aisec.fairness_stats, text) IS 'TN / (FP + TN) in the group (specificity); NULL when the denominator is 0';

CREATE FUNCTION aisec.positive_predictive_value(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'positive_predictive_value';
REVOKE ALL ON FUNCTION aisec.positive_predictive_value(aisec.fairness_stats, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.positive_predictive_value(aisec.fairness_stats, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.positive_predictive_value(aisec.fairness_stats, text) IS 'TP / (TP + FP) in the group (precision); NULL when the denominator is 0';

CREATE FUNCTION aisec.negative_predictive_value(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'negative_predictive_value';
REVOKE ALL ON FUNCTION aisec.negative_predictive_value(aisec.fairness_stats, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.negative_predictive_value(aisec.fairness_stats, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.negative_predictive_value(aisec.fairness_stats, text) IS 'TN / (TN + FN) in the group; NULL when the denominator is 0';

CREATE FUNCTION aisec.false_discovery_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'false_discovery_rate';
REVOKE ALL ON FUNCTION aisec.false_discovery_rate(aisec.fairness_stats, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.false_discovery_rate(aisec.fairness_stats, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.false_discovery_rate(aisec.fairness_stats, text) IS 'FP / (TP + FP) in the group; NULL when the denominator is 0';

CREATE FUNCTION aisec.false_omission_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'false_omission_rate';
REVOKE ALL ON FUNCTION aisec.false_omission_rate(aisec.fairness_stats, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.false_omission_rate(aisec.fairness_stats, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.false_omission_rate(aisec.fairness_stats, text) IS 'FN / (TN + FN) in the group; NULL when the denominator is 0';

CREATE FUNCTION aisec.accuracy(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'accuracy';
REVOKE ALL ON FUNCTION aisec.accuracy(aisec.fairness_stats, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.accuracy(aisec.fairness_stats, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.accuracy(aisec.fairness_stats, text) IS '(TP + TN) / (TP + FP + FN + TN) in the group; NULL when the denominator is 0';

CREATE FUNCTION aisec.error_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'error_rate';
REVOKE ALL ON FUNCTION aisec.error_rate(aisec.fairness_stats, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.error_rate(aisec.fairness_stats, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.error_rate(aisec.fairness_stats, text) IS '(FP + FN) / (TP + FP + FN + TN) in the group; NULL when the denominator is 0';

-- Between all groups, Fairlearn conventions: difference = max - min >= 0,
-- ratio = min / max <= 1.
CREATE FUNCTION aisec.demographic_parity_difference(s aisec.fairness_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'demographic_parity_difference';
REVOKE ALL ON FUNCTION aisec.demographic_parity_difference(aisec.fairness_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.demographic_parity_difference(aisec.fairness_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.demographic_parity_difference(aisec.fairness_stats) IS 'largest minus smallest selection rate over groups (Fairlearn)';

CREATE FUNCTION aisec.demographic_parity_ratio(s aisec.fairness_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'demographic_parity_ratio';
REVOKE ALL ON FUNCTION aisec.demographic_parity_ratio(aisec.fairness_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.demographic_parity_ratio(aisec.fairness_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.demographic_parity_ratio(aisec.fairness_stats) IS 'smallest over largest selection rate over groups (Fairlearn)';

CREATE FUNCTION aisec.equalized_odds_difference(s aisec.fairness_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'equalized_odds_difference';
REVOKE ALL ON FUNCTION aisec.equalized_odds_difference(aisec.fairness_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.equalized_odds_difference(aisec.fairness_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.equalized_odds_difference(aisec.fairness_stats) IS 'larger of the TPR and FPR differences between groups (Fairlearn)';

CREATE FUNCTION aisec.equalized_odds_ratio(s aisec.fairness_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'equalized_odds_ratio';
REVOKE ALL ON FUNCTION aisec.equalized_odds_ratio(aisec.fairness_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.equalized_odds_ratio(aisec.fairness_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.equalized_odds_ratio(aisec.fairness_stats) IS 'smaller of the TPR and FPR ratios between groups (Fairlearn)';

CREATE FUNCTION aisec.equal_opportunity_difference(s aisec.fairness_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'equal_opportunity_difference';
REVOKE ALL ON FUNCTION aisec.equal_opportunity_difference(aisec.fairness_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.equal_opportunity_difference(aisec.fairness_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.equal_opportunity_difference(aisec.fairness_stats) IS 'largest minus smallest true positive rate over groups (Fairlearn)';

CREATE FUNCTION aisec.equal_opportunity_ratio(s aisec.fairness_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'equal_opportunity_ratio';
REVOKE ALL ON FUNCTION aisec.equal_opportunity_ratio(aisec.fairness_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.equal_opportunity_ratio(aisec.fairness_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.equal_opportunity_ratio(aisec.fairness_stats) IS 'smallest over largest true positive rate over groups (Fairlearn)';

-- Unprivileged vs privileged group, AIF360 conventions (signed).
CREATE FUNCTION aisec.disparate_impact(s aisec.fairness_stats, unprivileged text, privileged text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'disparate_impact';
REVOKE ALL ON FUNCTION aisec.disparate_impact(aisec.fairness_stats, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.disparate_impact(aisec.fairness_stats, text, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.disparate_impact(aisec.fairness_stats, text, text) IS 'selection rate of the unprivileged group over the privileged group''s (AIF360)';

CREATE FUNCTION aisec.statistical_parity_difference(s aisec.fairness_stats, unprivileged text, privileged text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'statistical_parity_difference';
REVOKE ALL ON FUNCTION aisec.statistical_parity_difference(aisec.fairness_stats, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.statistical_parity_difference(aisec.fairness_stats, text, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.statistical_parity_difference(aisec.fairness_stats, text, text) IS 'selection rate of the unprivileged group minus the privileged group''s (AIF360)';

CREATE FUNCTION aisec.average_odds_difference(s aisec.fairness_stats, unprivileged text, privileged text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'average_odds_difference';
REVOKE ALL ON FUNCTION aisec.average_odds_difference(aisec.fairness_stats, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.average_odds_difference(aisec.fairness_stats, text, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.average_odds_difference(aisec.fairness_stats, text, text) IS 'mean of the FPR and TPR differences, unprivileged minus privileged (AIF360)';

CREATE FUNCTION aisec.average_abs_odds_difference(s aisec.fairness_stats, unprivileged text, privileged text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'average_abs_odds_difference';
REVOKE ALL ON FUNCTION aisec.average_abs_odds_difference(aisec.fairness_stats, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.average_abs_odds_difference(aisec.fairness_stats, text, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.average_abs_odds_difference(aisec.fairness_stats, text, text) IS 'mean of the absolute FPR and TPR differences (AIF360)';

CREATE FUNCTION aisec.equal_opportunity_difference(s aisec.fairness_stats, unprivileged text, privileged text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'equal_opportunity_difference_pair';
REVOKE ALL ON FUNCTION aisec.equal_opportunity_difference(aisec.fairness_stats, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.equal_opportunity_difference(aisec.fairness_stats, text, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.equal_opportunity_difference(aisec.fairness_stats, text, text) IS 'true positive rate of the unprivileged group minus the privileged group''s (AIF360)';

-- ==== src/fairness_report.sql ====
-- fairness_report.sql: the per-group fairness report and its SVG chart
-- (fairness_report.c).

CREATE FUNCTION aisec.fairness_report(
    s aisec.fairness_stats,
    reference text DEFAULT NULL,
    confidence float8 DEFAULT 0.95)
    RETURNS TABLE (
        grp text,
        is_reference boolean,
        n bigint,
        weight float8,
        base_rate float8,
        selection_rate float8,
        selection_rate_low float8,
        selection_rate_high float8,
        tpr float8,
        tpr_low float8,
        tpr_high float8,
        fpr float8,
        fpr_low float8,
        fpr_high float8,
        fnr float8,
        tnr float8,
        ppv float8,
        npv float8,
        accuracy float8,
        selection_rate_ratio float8,
        ratio_low float8,
        ratio_high float8,
        four_fifths text)
    LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 8
    AS 'MODULE_PATHNAME', 'fairness_report';
REVOKE ALL ON FUNCTION aisec.fairness_report(aisec.fairness_stats, text, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.fairness_report(aisec.fairness_stats, text, float8) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.fairness_report(aisec.fairness_stats, text, float8) IS 'one row per group: rates, Wilson intervals, selection-rate ratio to the reference group (default: the largest) with its MOVER-R interval, and a four-fifths verdict (pass, fail, insufficient data)';

CREATE FUNCTION aisec.fairness_svg(
    s aisec.fairness_stats,
    reference text DEFAULT NULL,
    confidence float8 DEFAULT 0.95)
    RETURNS text
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'fairness_svg';
REVOKE ALL ON FUNCTION aisec.fairness_svg(aisec.fairness_stats, text, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.fairness_svg(aisec.fairness_stats, text, float8) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.fairness_svg(aisec.fairness_stats, text, float8) IS 'SVG chart of per-group selection rates with Wilson intervals and the four-fifths band';

-- ==== src/fpe.sql ====
-- fpe.sql: FF1 format-preserving encryption (fpe.c), NIST SP 800-38G.

CREATE FUNCTION aisec.ff1_encrypt(value text, key text, alphabet text DEFAULT '0123456789', tweak bytea DEFAULT '')
    RETURNS text
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'ff1_encrypt';
REVOKE ALL ON FUNCTION aisec.ff1_encrypt(text, text, text, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.ff1_encrypt(text, text, text, bytea) TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.ff1_encrypt(text, text, text, bytea) IS 'FF1 token (NIST SP 800-38G) of value under an ''ff1'' key''s current version: same length, same alphabet; radix^length must be at least 10^6';

CREATE FUNCTION aisec.ff1_decrypt(value text, key text, alphabet text DEFAULT '0123456789', tweak bytea DEFAULT '', key_version integer DEFAULT 0)
    RETURNS text
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'ff1_decrypt';
REVOKE ALL ON FUNCTION aisec.ff1_decrypt(text, text, text, bytea, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.ff1_decrypt(text, text, text, bytea, integer) TO aisec_admin;
COMMENT ON FUNCTION aisec.ff1_decrypt(text, text, text, bytea, integer) IS 'reverse an FF1 token (aisec_admin only); key_version 0 means the current version, give the old version for tokens made before a rotation';

-- ==== src/history.sql ====
-- history.sql: tracked tables, their row ids and change capture (history.c).
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
);
REVOKE ALL ON aisec.dataset FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.dataset', '');
COMMENT ON TABLE aisec.dataset IS 'aisec datasets: named sets of tracked tables versioned together (read aisec.datasets)';
COMMENT ON COLUMN aisec.dataset.head IS 'latest committed version, 0 before the first commit';

-- The registry of tracked tables.
CREATE TABLE aisec.tracked (
    table_no        integer     PRIMARY KEY,
    rel             regclass    NOT NULL UNIQUE,
    history         regclass    NOT NULL,
    pending_version bigint      NOT NULL DEFAULT 1,
    dataset_id      integer     REFERENCES aisec.dataset (id),
    columns         smallint[]  NOT NULL,
    tracked_at      timestamptz NOT NULL,
    tracked_by      text        NOT NULL,
    ended           regclass    NOT NULL
);
REVOKE ALL ON aisec.tracked FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.tracked', '');
COMMENT ON TABLE aisec.tracked IS 'aisec tracked tables: row-id range, history table, pending version (see doc/versioning.md)';
COMMENT ON COLUMN aisec.tracked.table_no IS 'table number: every aisec_rid of this table is table_no << 40 | n';
COMMENT ON COLUMN aisec.tracked.pending_version IS 'version that row changes are stamped with now; a commit closes it';
COMMENT ON COLUMN aisec.tracked.ended IS 'the table recording when each history record ended (history_<n>_ended)';
COMMENT ON COLUMN aisec.tracked.columns IS 'attnums of the columns whose values history holds (dropping one is refused)';

-- One row per capturing statement: its net effect on the pending version's
-- row count and fingerprint.  A commit sums them (cost: O(change)).
CREATE TABLE aisec.pending_delta (
    table_no    integer NOT NULL,
    version     bigint  NOT NULL,
    rows        bigint  NOT NULL,
    fingerprint bytea   NOT NULL
);
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
);
ALTER TABLE aisec.pending_row ALTER COLUMN entries SET STORAGE EXTERNAL;
CREATE INDEX pending_row_table ON aisec.pending_row (table_no, seq);
REVOKE ALL ON aisec.pending_row FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.pending_row', '');
COMMENT ON TABLE aisec.pending_row IS 'aisec: rows of tracked tables written since the last commit that the next commit gives history records (doc/versioning.md)';

CREATE FUNCTION aisec.capture() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'capture';
REVOKE ALL ON FUNCTION aisec.capture() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.capture() TO aisec_admin;
COMMENT ON FUNCTION aisec.capture() IS 'statement trigger on tracked tables: records updated and deleted rows in their history; notes the rows an INSERT wrote into the blocks it added and writes those notes and the ones aisec.capture_row() took of other inserted rows for the next commit; refuses TRUNCATE';

CREATE FUNCTION aisec.capture_row() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'capture_row';
REVOKE ALL ON FUNCTION aisec.capture_row() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.capture_row() TO aisec_admin;
COMMENT ON FUNCTION aisec.capture_row() IS 'row trigger on tracked tables: notes where each inserted row is, for the next commit to give it a history record';

-- The WHEN condition of the row trigger above, evaluated as the inserting
-- role, so every role may execute it: it only compares a ctid with the
-- size the table had when the session's current INSERT into it started.
CREATE FUNCTION aisec.capture_row_needed(oid, tid) RETURNS boolean
    LANGUAGE C STRICT PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'capture_row_needed';
GRANT EXECUTE ON FUNCTION aisec.capture_row_needed(oid, tid) TO PUBLIC;
COMMENT ON FUNCTION aisec.capture_row_needed(oid, tid) IS 'WHEN condition of the aisec_capture_insert_row trigger: whether an inserted row (table OID, ctid) lies in a block the table had when the INSERT started; rows in the blocks it added are noted by its statement trigger (doc/versioning.md)';

CREATE FUNCTION aisec.history_refuse_change() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'history_refuse_change';
REVOKE ALL ON FUNCTION aisec.history_refuse_change() FROM PUBLIC;
COMMENT ON FUNCTION aisec.history_refuse_change() IS 'trigger: refuses direct writes to history and version records, for every role, and has each refusal recorded in the audit log (version.refused)';

-- Registry tables are written only by aisec's own functions.  INSERT is let
-- through: pg_dump restores these tables' rows into the extension's tables
-- (a forged row is found by aisec.verify); what is there never changes.
CREATE TRIGGER tracked_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE
    ON aisec.tracked FOR EACH STATEMENT EXECUTE FUNCTION aisec.history_refuse_change();
ALTER TABLE aisec.tracked ENABLE ALWAYS TRIGGER tracked_refuse_change;
CREATE TRIGGER dataset_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE
    ON aisec.dataset FOR EACH STATEMENT EXECUTE FUNCTION aisec.history_refuse_change();
ALTER TABLE aisec.dataset ENABLE ALWAYS TRIGGER dataset_refuse_change;

CREATE FUNCTION aisec.track(rel regclass) RETURNS integer
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'track';
REVOKE ALL ON FUNCTION aisec.track(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.track(regclass) TO aisec_admin;
COMMENT ON FUNCTION aisec.track(regclass) IS 'govern a table: add aisec_rid, capture every row change into history; returns the table number';

CREATE FUNCTION aisec.untrack(rel regclass) RETURNS void
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'untrack';
REVOKE ALL ON FUNCTION aisec.untrack(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.untrack(regclass) TO aisec_admin;
COMMENT ON FUNCTION aisec.untrack(regclass) IS 'stop governing a table that is in no dataset: drops its uncommitted history and its aisec_rid column';

CREATE FUNCTION aisec.rid_table(rid bigint) RETURNS regclass
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'rid_table';
REVOKE ALL ON FUNCTION aisec.rid_table(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.rid_table(bigint) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.rid_table(bigint) IS 'the tracked table an aisec_rid belongs to (NULL if that table is no longer tracked)';

CREATE FUNCTION aisec.track_ddl_check() RETURNS event_trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'track_ddl_check';
REVOKE ALL ON FUNCTION aisec.track_ddl_check() FROM PUBLIC;
COMMENT ON FUNCTION aisec.track_ddl_check() IS 'event trigger: refuses ALTER TABLE changes that would make a tracked table''s history unreadable (dropped columns, defaults, aisec_rid no longer an identity or renamed) or put it into table inheritance or partitioning, disabling, renaming or replacing its capture triggers, and renaming an enum value it holds';

CREATE EVENT TRIGGER aisec_track_ddl ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'ALTER FOREIGN TABLE', 'ALTER TRIGGER', 'ALTER TYPE',
                 'CREATE TABLE', 'CREATE FOREIGN TABLE', 'CREATE TRIGGER')
    EXECUTE FUNCTION aisec.track_ddl_check();

CREATE FUNCTION aisec.track_drop_check() RETURNS event_trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'track_drop_check';
REVOKE ALL ON FUNCTION aisec.track_drop_check() FROM PUBLIC;
COMMENT ON FUNCTION aisec.track_drop_check() IS 'event trigger: refuses dropping a tracked table, its history or its capture triggers (DROP TRIGGER, DROP ... CASCADE, DROP SCHEMA ... CASCADE, DROP OWNED)';

CREATE EVENT TRIGGER aisec_track_drop ON sql_drop
    EXECUTE FUNCTION aisec.track_drop_check();

-- ==== src/inequality.sql ====
-- inequality.sql: generalized entropy and Theil indices of the benefit
-- b = y_pred - y_true + 1 (inequality.c; AIF360 definitions).

CREATE FUNCTION aisec.generalized_entropy_transfn(internal, boolean, boolean, float8) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'generalized_entropy_transfn';
CREATE FUNCTION aisec.theil_transfn(internal, boolean, boolean) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'theil_transfn';
CREATE FUNCTION aisec.inequality_combinefn(internal, internal) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'inequality_combinefn';
CREATE FUNCTION aisec.inequality_serialfn(internal) RETURNS bytea
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'inequality_serialfn';
CREATE FUNCTION aisec.inequality_deserialfn(bytea, internal) RETURNS internal
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'inequality_deserialfn';
CREATE FUNCTION aisec.generalized_entropy_finalfn(internal) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'generalized_entropy_finalfn';
REVOKE ALL ON FUNCTION aisec.generalized_entropy_transfn(internal, boolean, boolean, float8) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.theil_transfn(internal, boolean, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.inequality_combinefn(internal, internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.inequality_serialfn(internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.inequality_deserialfn(bytea, internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.generalized_entropy_finalfn(internal) FROM PUBLIC;
COMMENT ON FUNCTION aisec.generalized_entropy_transfn(internal, boolean, boolean, float8) IS 'aisec.generalized_entropy_index support: count a row''s benefit';
COMMENT ON FUNCTION aisec.theil_transfn(internal, boolean, boolean) IS 'aisec.theil_index support: count a row''s benefit';
COMMENT ON FUNCTION aisec.inequality_combinefn(internal, internal) IS 'inequality index support: merge two partial states';
COMMENT ON FUNCTION aisec.inequality_serialfn(internal) IS 'inequality index support: serialize a partial state';
COMMENT ON FUNCTION aisec.inequality_deserialfn(bytea, internal) IS 'inequality index support: validate and deserialize a partial state';
COMMENT ON FUNCTION aisec.generalized_entropy_finalfn(internal) IS 'inequality index support: compute GE(alpha) from the benefit counts';

CREATE AGGREGATE aisec.generalized_entropy_index(y_true boolean, y_pred boolean, alpha float8) (
    SFUNC = aisec.generalized_entropy_transfn,
    STYPE = internal,
    SSPACE = 40,
    FINALFUNC = aisec.generalized_entropy_finalfn,
    COMBINEFUNC = aisec.inequality_combinefn,
    SERIALFUNC = aisec.inequality_serialfn,
    DESERIALFUNC = aisec.inequality_deserialfn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.generalized_entropy_index(boolean, boolean, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.generalized_entropy_index(boolean, boolean, float8) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.generalized_entropy_index(boolean, boolean, float8) IS 'generalized entropy index GE(alpha) of b = y_pred - y_true + 1 (AIF360); rows with a NULL label are skipped';

CREATE AGGREGATE aisec.theil_index(y_true boolean, y_pred boolean) (
    SFUNC = aisec.theil_transfn,
    STYPE = internal,
    SSPACE = 40,
    FINALFUNC = aisec.generalized_entropy_finalfn,
    COMBINEFUNC = aisec.inequality_combinefn,
    SERIALFUNC = aisec.inequality_serialfn,
    DESERIALFUNC = aisec.inequality_deserialfn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.theil_index(boolean, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.theil_index(boolean, boolean) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.theil_index(boolean, boolean) IS 'Theil index, GE(1), of b = y_pred - y_true + 1 (AIF360); rows with a NULL label are skipped';

-- ==== src/keys.sql ====
-- keys.sql: the key store (keys.c).

-- Secrets, each wrapped with AES-256-GCM under the master key named by
-- aisec.master_key_file.  Readable by the extension owner only.
CREATE TABLE aisec.key_store (
    name        text        NOT NULL,
    version     integer     NOT NULL CHECK (version > 0),
    purpose     text        NOT NULL,
    created     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by  text        NOT NULL,
    public_key  bytea,
    wrapped     bytea       NOT NULL,
    PRIMARY KEY (name, version)
);
REVOKE ALL ON aisec.key_store FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.key_store', '');
COMMENT ON TABLE aisec.key_store IS 'aisec keys, wrapped (AES-256-GCM) by the master key outside the database; owner-only';

CREATE FUNCTION aisec.signing_public_key() RETURNS text
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'signing_public_key';
REVOKE ALL ON FUNCTION aisec.signing_public_key() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.signing_public_key() TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.signing_public_key() IS 'PEM public key of this database''s Ed25519 signing key (created on first need), for verifying aisec signatures offline with openssl';

-- User keys.  Every change is audited; only aisec_admin may make one, and
-- the C code checks that itself too.
CREATE FUNCTION aisec.create_key(name text, purpose text) RETURNS integer
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'create_key';
REVOKE ALL ON FUNCTION aisec.create_key(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.create_key(text, text) TO aisec_admin;
COMMENT ON FUNCTION aisec.create_key(text, text) IS 'create a random key: purpose ''hmac'' (256-bit, pseudonyms and sticky noise) or ''ff1'' (AES-256, format-preserving tokens); returns its version, 1';

CREATE FUNCTION aisec.import_key(name text, secret bytea, purpose text) RETURNS integer
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'import_key';
REVOKE ALL ON FUNCTION aisec.import_key(text, bytea, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.import_key(text, bytea, text) TO aisec_admin;
COMMENT ON FUNCTION aisec.import_key(text, bytea, text) IS 'store a given secret as version 1 of a new key (migrations, test vectors): ''hmac'' 16-64 bytes, ''ff1'' 16, 24 or 32 bytes';

CREATE FUNCTION aisec.rotate_key(name text) RETURNS integer
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'rotate_key';
REVOKE ALL ON FUNCTION aisec.rotate_key(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.rotate_key(text) TO aisec_admin;
COMMENT ON FUNCTION aisec.rotate_key(text) IS 'add a random new version and make it current; older versions stay for decryption; returns the new version';

CREATE FUNCTION aisec.drop_key(name text) RETURNS integer
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'drop_key';
REVOKE ALL ON FUNCTION aisec.drop_key(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.drop_key(text) TO aisec_admin;
COMMENT ON FUNCTION aisec.drop_key(text) IS 'destroy every version of a key (crypto-shredding: its tokens can no longer be reversed or re-derived); returns the number of versions destroyed';

-- The keys that exist, never their secrets.  The view runs with its
-- owner's rights, so readers need no access to aisec.key_store.
CREATE VIEW aisec.keys AS
    SELECT k.name, k.purpose, k.version,
           k.version OPERATOR(pg_catalog.=) pg_catalog.max(k.version) OVER (PARTITION BY k.name) AS current,
           k.created, k.created_by
      FROM aisec.key_store k;
REVOKE ALL ON aisec.keys FROM PUBLIC;
GRANT SELECT ON aisec.keys TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON VIEW aisec.keys IS 'aisec keys and their versions (name, purpose, version, current, created, created_by); never secret material';

-- ==== src/mask.sql ====
-- mask.sql: keyless masking functions (mask.c).  Pure functions of their
-- arguments: every aisec role may run them.

CREATE FUNCTION aisec.mask_partial(value text, keep_prefix integer, keep_suffix integer, pad text DEFAULT '*')
    RETURNS text
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'mask_partial';
REVOKE ALL ON FUNCTION aisec.mask_partial(text, integer, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.mask_partial(text, integer, integer, text) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.mask_partial(text, integer, integer, text) IS 'keep the first keep_prefix and last keep_suffix characters, each other character becomes pad; a value too short to hide anything is hidden entirely';

CREATE FUNCTION aisec.mask_email(value text)
    RETURNS text
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'mask_email';
REVOKE ALL ON FUNCTION aisec.mask_email(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.mask_email(text) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.mask_email(text) IS 'jane.doe@example.com -> j*******@*******.com; anything not a well-formed address is masked entirely';

CREATE FUNCTION aisec.mask_digits(value text, keep_last integer DEFAULT 4, pad text DEFAULT '*')
    RETURNS text
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'mask_digits';
REVOKE ALL ON FUNCTION aisec.mask_digits(text, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.mask_digits(text, integer, text) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.mask_digits(text, integer, text) IS 'replace every ASCII digit but the last keep_last with pad, keeping separators: 4111-1111-1111-1234 -> ****-****-****-1234';

CREATE FUNCTION aisec.generalize(value smallint, step smallint)
    RETURNS smallint
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'generalize_int2';
REVOKE ALL ON FUNCTION aisec.generalize(smallint, smallint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.generalize(smallint, smallint) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.generalize(smallint, smallint) IS 'round down to the start of the step-wide bucket: generalize(37, 10) = 30, generalize(-3, 10) = -10';

CREATE FUNCTION aisec.generalize(value integer, step integer)
    RETURNS integer
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'generalize_int4';
REVOKE ALL ON FUNCTION aisec.generalize(integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.generalize(integer, integer) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.generalize(integer, integer) IS 'round down to the start of the step-wide bucket: generalize(37, 10) = 30, generalize(-3, 10) = -10';

CREATE FUNCTION aisec.generalize(value bigint, step bigint)
    RETURNS bigint
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'generalize_int8';
REVOKE ALL ON FUNCTION aisec.generalize(bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.generalize(bigint, bigint) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.generalize(bigint, bigint) IS 'round down to the start of the step-wide bucket: generalize(37, 10) = 30, generalize(-3, 10) = -10';

CREATE FUNCTION aisec.generalize(value numeric, step numeric)
    RETURNS numeric
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'generalize_numeric';
REVOKE ALL ON FUNCTION aisec.generalize(numeric, numeric) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.generalize(numeric, numeric) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.generalize(numeric, numeric) IS 'round down, exactly, to the start of the step-wide bucket: generalize(52345.67, 10000) = 50000';

CREATE FUNCTION aisec.generalize(value date, unit text)
    RETURNS date
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'generalize_date';
REVOKE ALL ON FUNCTION aisec.generalize(date, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.generalize(date, text) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.generalize(date, text) IS 'truncate a date to the start of its day, week, month, quarter, year, decade or century';

CREATE FUNCTION aisec.generalize(value timestamp, unit text)
    RETURNS timestamp
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'generalize_timestamp';
REVOKE ALL ON FUNCTION aisec.generalize(timestamp, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.generalize(timestamp, text) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.generalize(timestamp, text) IS 'truncate a timestamp to the start of its minute, hour, day, week, month, quarter, year, decade or century';

-- STABLE: truncation happens in the session's TimeZone.
CREATE FUNCTION aisec.generalize(value timestamptz, unit text)
    RETURNS timestamptz
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'generalize_timestamptz';
REVOKE ALL ON FUNCTION aisec.generalize(timestamptz, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.generalize(timestamptz, text) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.generalize(timestamptz, text) IS 'truncate a timestamptz, in the session time zone, to the start of its minute, hour, day, week, month, quarter, year, decade or century';

-- ==== src/masking_rules.sql ====
-- masking_rules.sql: masking rules, masked views, masked roles and masked
-- exports (masking_rules.c).

-- Masked views live here, one per governed table, owned by the extension
-- owner.  Only aisec creates objects in it.
CREATE SCHEMA aisec_masked;
REVOKE ALL ON SCHEMA aisec_masked FROM PUBLIC;
GRANT USAGE ON SCHEMA aisec_masked TO aisec_admin, aisec_engineer;
COMMENT ON SCHEMA aisec_masked IS 'aisec masked views: aisec_masked.<table> applies the table''s masking rules (generated by aisec; do not edit)';

-- One rule per column, in canonical form.  rel is a regclass and attnum
-- follows the column through renames; col (kept current by an event
-- trigger) lets a restored dump find the column again by name.
CREATE TABLE aisec.mask_rule (
    rel       regclass    NOT NULL,
    attnum    smallint    NOT NULL,
    col       name        NOT NULL,
    kind      text        NOT NULL,
    rule      text        NOT NULL,
    key_name  text,
    set_by    text        NOT NULL,
    set_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (rel, attnum)
);
REVOKE ALL ON aisec.mask_rule FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.mask_rule', '');
COMMENT ON TABLE aisec.mask_rule IS 'aisec masking rules, one per column, parsed and checked by aisec.set_mask; never executed as SQL';

CREATE FUNCTION aisec.mask_rule_resolve() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'mask_rule_resolve';
REVOKE ALL ON FUNCTION aisec.mask_rule_resolve() FROM PUBLIC;
COMMENT ON FUNCTION aisec.mask_rule_resolve() IS 'trigger: on insert into aisec.mask_rule, find the column''s attnum from its name (restores renumber columns)';
CREATE TRIGGER mask_rule_resolve BEFORE INSERT ON aisec.mask_rule
    FOR EACH ROW EXECUTE FUNCTION aisec.mask_rule_resolve();

CREATE FUNCTION aisec.mask_rule_sync() RETURNS event_trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'mask_rule_sync';
REVOKE ALL ON FUNCTION aisec.mask_rule_sync() FROM PUBLIC;
COMMENT ON FUNCTION aisec.mask_rule_sync() IS 'event trigger: after ALTER TABLE, keep masking rules'' stored column names current';
CREATE EVENT TRIGGER aisec_mask_rule_sync ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE')
    EXECUTE FUNCTION aisec.mask_rule_sync();

-- Roles that read governed tables only through masked views.  regrole
-- follows renames and is dumped by name.
CREATE TABLE aisec.masked_role (
    role       regrole     PRIMARY KEY,
    masked_by  text        NOT NULL,
    masked_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
REVOKE ALL ON aisec.masked_role FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.masked_role', '');
COMMENT ON TABLE aisec.masked_role IS 'roles registered with aisec.mask_role: no privilege on governed tables, SELECT on their masked views';

-- Which table each masked view belongs to.
CREATE TABLE aisec.mask_view (
    rel        regclass    PRIMARY KEY,
    view_name  name        NOT NULL UNIQUE,
    refreshed  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
REVOKE ALL ON aisec.mask_view FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.mask_view', '');
COMMENT ON TABLE aisec.mask_view IS 'the masked view aisec_masked.<view_name> of each governed table';

CREATE VIEW aisec.masks AS
    SELECT m.rel AS relation, a.attname AS "column", m.rule, m.key_name,
           pg_catalog.format_type(a.atttypid, a.atttypmod) AS column_type,
           v.view_name IS NOT NULL AS has_view, m.set_by, m.set_at
      FROM aisec.mask_rule m
      JOIN pg_catalog.pg_attribute a
        ON a.attrelid OPERATOR(pg_catalog.=) m.rel::pg_catalog.oid
       AND a.attnum OPERATOR(pg_catalog.=) m.attnum
      LEFT JOIN aisec.mask_view v ON v.rel OPERATOR(pg_catalog.=) m.rel;
REVOKE ALL ON aisec.masks FROM PUBLIC;
GRANT SELECT ON aisec.masks TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON VIEW aisec.masks IS 'masking rules per column (relation, column, rule, key_name, column_type, has_view, set_by, set_at)';

CREATE FUNCTION aisec.set_mask(rel regclass, col name, rule text) RETURNS text
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'set_mask';
REVOKE ALL ON FUNCTION aisec.set_mask(regclass, name, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.set_mask(regclass, name, text) TO aisec_admin;
COMMENT ON FUNCTION aisec.set_mask(regclass, name, text) IS 'set a column''s masking rule (e.g. partial(1, 2), email, digits(4), pseudonym(key), ff1(key), generalize(10), generalize(''month''), noise(key, 0.1), null, redact); refreshes the masked view; returns the rule in canonical form';

CREATE FUNCTION aisec.drop_mask(rel regclass, col name) RETURNS boolean
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'drop_mask';
REVOKE ALL ON FUNCTION aisec.drop_mask(regclass, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.drop_mask(regclass, name) TO aisec_admin;
COMMENT ON FUNCTION aisec.drop_mask(regclass, name) IS 'remove a column''s masking rule and refresh the masked view (dropped with the last rule); false if there was none';

CREATE FUNCTION aisec.masked_view(rel regclass) RETURNS regclass
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'masked_view';
REVOKE ALL ON FUNCTION aisec.masked_view(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.masked_view(regclass) TO aisec_admin;
COMMENT ON FUNCTION aisec.masked_view(regclass) IS 'create or refresh aisec_masked.<table>: each ruled column masked, the others passed through';

CREATE FUNCTION aisec.mask_role(role name) RETURNS integer
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'mask_role';
REVOKE ALL ON FUNCTION aisec.mask_role(name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.mask_role(name) TO aisec_admin;
COMMENT ON FUNCTION aisec.mask_role(name) IS 'make a role read governed tables only through masked views: revokes and proves absent every privilege on them; returns the number of governed tables';

CREATE FUNCTION aisec.unmask_role(role name) RETURNS boolean
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'unmask_role';
REVOKE ALL ON FUNCTION aisec.unmask_role(name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.unmask_role(name) TO aisec_admin;
COMMENT ON FUNCTION aisec.unmask_role(name) IS 'stop treating a role as masked and revoke its masked-view grants (base-table privileges are not restored)';

CREATE FUNCTION aisec.export_masked(rel regclass, target name, min_k integer DEFAULT NULL,
                                    quasi_identifiers text[] DEFAULT NULL,
                                    OUT exported bigint, OUT suppressed bigint)
    RETURNS record
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'export_masked';
REVOKE ALL ON FUNCTION aisec.export_masked(regclass, name, integer, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.export_masked(regclass, name, integer, text[]) TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.export_masked(regclass, name, integer, text[]) IS 'statically masked copy of a table into a new table target (for a training job); with min_k, rows in quasi-identifier classes smaller than min_k are suppressed; returns rows exported and suppressed';

-- ==== src/pseudonym.sql ====
-- pseudonym.sql: keyed deterministic masks (pseudonym.c).  STABLE: they
-- read the key store (a rotation changes their result).  aisec_admin and
-- aisec_engineer may run them (and masked roles, through aisec.mask_role);
-- the key itself is never exposed.

CREATE FUNCTION aisec.pseudonymize(value text, key text)
    RETURNS text
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'pseudonymize';
REVOKE ALL ON FUNCTION aisec.pseudonymize(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.pseudonymize(text, text) TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.pseudonymize(text, text) IS 'keyed pseudonym ''v<key version>:'' || hex(HMAC-SHA-256(key, value)); deterministic, so joins and GROUP BY on pseudonyms work';

CREATE FUNCTION aisec.sticky_noise(value double precision, key text, ratio double precision)
    RETURNS double precision
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'sticky_noise';
REVOKE ALL ON FUNCTION aisec.sticky_noise(double precision, text, double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.sticky_noise(double precision, text, double precision) TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.sticky_noise(double precision, text, double precision) IS 'value * (1 + ratio * u), u in [-1, 1) derived from HMAC(key, value): the same value always gets the same noise, so repeating a query does not average it away';

-- ==== src/reweighing.sql ====
-- reweighing.sql: Kamiran-Calders reweighing weights (reweighing.c).

CREATE FUNCTION aisec.reweighing(s aisec.fairness_stats)
    RETURNS TABLE (grp text, label boolean, weight float8)
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 16
    AS 'MODULE_PATHNAME', 'reweighing';
REVOKE ALL ON FUNCTION aisec.reweighing(aisec.fairness_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.reweighing(aisec.fairness_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.reweighing(aisec.fairness_stats) IS 'Kamiran-Calders reweighing (AIF360 Reweighing): weight(g, y) = P(g) P(y) / P(g, y) over y_true; multiply each row''s weight by it';

-- ==== src/version.sql ====
-- version.sql: datasets, commits, tags, reading and verifying versions
-- (version.c).  The design is in doc/versioning.md.

CREATE TABLE aisec.version (
    dataset_id   integer     NOT NULL REFERENCES aisec.dataset (id),
    version      bigint      NOT NULL,
    parent       bigint,
    committed_at timestamptz NOT NULL,
    committed_by text        NOT NULL,
    message      text,
    rows         bigint      NOT NULL,
    fingerprint  bytea       NOT NULL,
    commit_hash  bytea       NOT NULL,
    PRIMARY KEY (dataset_id, version)
);
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
    PRIMARY KEY (dataset_id, version, table_no),
    FOREIGN KEY (dataset_id, version) REFERENCES aisec.version (dataset_id, version)
);
REVOKE ALL ON aisec.version_table FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.version_table', '');
COMMENT ON TABLE aisec.version_table IS 'aisec: each table of each committed version: name, row count, fingerprint (sum mod 2^256 of row hashes), columns';

CREATE TABLE aisec.tag (
    dataset_id  integer     NOT NULL,
    tag         text        NOT NULL,
    version     bigint      NOT NULL,
    created_at  timestamptz NOT NULL,
    created_by  text        NOT NULL,
    PRIMARY KEY (dataset_id, tag),
    FOREIGN KEY (dataset_id, version) REFERENCES aisec.version (dataset_id, version)
);
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
    AS 'MODULE_PATHNAME', 'create_dataset';
REVOKE ALL ON FUNCTION aisec.create_dataset(text, regclass[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.create_dataset(text, regclass[], text) TO aisec_admin;
COMMENT ON FUNCTION aisec.create_dataset(text, regclass[], text) IS 'declare a dataset: tracked tables versioned together (each table in one dataset); returns its id';

CREATE FUNCTION aisec.commit(dataset text, message text DEFAULT NULL) RETURNS bigint
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'version_commit';
REVOKE ALL ON FUNCTION aisec.commit(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.commit(text, text) TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.commit(text, text) IS 'commit a consistent version of a dataset (waits for in-flight writers); returns the version number';

CREATE FUNCTION aisec.tag(dataset text, version bigint, tag text) RETURNS void
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'version_tag';
REVOKE ALL ON FUNCTION aisec.tag(text, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.tag(text, bigint, text) TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.tag(text, bigint, text) IS 'name a committed version; tags are immutable and unique per dataset';

CREATE FUNCTION aisec.checkout_support(internal) RETURNS internal
    LANGUAGE C STRICT STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'checkout_support';
REVOKE ALL ON FUNCTION aisec.checkout_support(internal) FROM PUBLIC;
COMMENT ON FUNCTION aisec.checkout_support(internal) IS 'planner support of aisec.checkout(): estimates its rows as the table''s and loads the custom scan that reads a version without a tuplestore';

CREATE FUNCTION aisec.checkout(rel anyelement, version bigint) RETURNS SETOF anyelement
    LANGUAGE C STABLE PARALLEL RESTRICTED
    SUPPORT aisec.checkout_support
    AS 'MODULE_PATHNAME', 'checkout';
REVOKE ALL ON FUNCTION aisec.checkout(anyelement, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.checkout(anyelement, bigint) TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.checkout(anyelement, bigint) IS 'the rows of a tracked table as they were at a committed version: SELECT * FROM aisec.checkout(NULL::t, 3)';

CREATE FUNCTION aisec.checkout(rel anyelement, tag text) RETURNS SETOF anyelement
    LANGUAGE C STABLE PARALLEL RESTRICTED
    SUPPORT aisec.checkout_support
    AS 'MODULE_PATHNAME', 'checkout';
REVOKE ALL ON FUNCTION aisec.checkout(anyelement, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.checkout(anyelement, text) TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.checkout(anyelement, text) IS 'the rows of a tracked table as they were at a tagged version: SELECT * FROM aisec.checkout(NULL::t, ''v1'')';

CREATE FUNCTION aisec.materialize(rel regclass, version bigint, target name) RETURNS bigint
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'materialize';
REVOKE ALL ON FUNCTION aisec.materialize(regclass, bigint, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.materialize(regclass, bigint, name) TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.materialize(regclass, bigint, name) IS 'copy a committed version of a table into a new plain table (for a training job); returns the row count';

CREATE FUNCTION aisec.manifest(dataset text, version bigint) RETURNS jsonb
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'manifest';
REVOKE ALL ON FUNCTION aisec.manifest(text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.manifest(text, bigint) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.manifest(text, bigint) IS 'what a training pipeline records about a version: commit hash, per-table rows, fingerprints and columns, tags';

CREATE FUNCTION aisec.diff(rel regclass, from_version bigint, to_version bigint)
    RETURNS TABLE (change text, rid bigint, before jsonb, after jsonb)
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'diff';
REVOKE ALL ON FUNCTION aisec.diff(regclass, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.diff(regclass, bigint, bigint) TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.diff(regclass, bigint, bigint) IS 'rows added, removed and changed in a table between two versions (version 0 is the empty table)';

CREATE FUNCTION aisec.verify(dataset text, version bigint DEFAULT NULL)
    RETURNS TABLE (version bigint, "table" regclass, ok boolean, expected text, actual text)
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'verify';
REVOKE ALL ON FUNCTION aisec.verify(text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.verify(text, bigint) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.verify(text, bigint) IS 'recompute fingerprints from stored rows and commit hashes from stored versions; one row per version and table (table NULL: the commit hash)';
