-- zzz_erasure.sql: the erasure register (src/erasure/, doc/erasure.md).
-- Subject columns, erasure requests and the approval setting.  The
-- register never holds a subject's identifier: only its keyed hash
-- (HMAC-SHA-256 under aisec's reserved key "$erasure").  (Named to sort
-- after every other src/*/*.sql, lineage's zz_ files included: an updated
-- database gets these objects in the last section of the update script,
-- and both orders must agree, as the upgrade test's catalog comparison
-- checks, pg_extension_config_dump's order included.)

-- Columns that identify a data subject, by table and column name (a name,
-- not an attnum: a dump restored without dropped columns renumbers
-- columns, and a renamed column must fail loudly, not point elsewhere).
-- No FOREIGN KEY to or from other aisec tables.
CREATE TABLE aisec.erasure_subject (
    rel         regclass    NOT NULL,
    attname     name        NOT NULL,
    declared_by text        NOT NULL,
    declared_at timestamptz NOT NULL,
    PRIMARY KEY (rel, attname)
) USING heap;
REVOKE ALL ON aisec.erasure_subject FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.erasure_subject', '');
COMMENT ON TABLE aisec.erasure_subject IS 'aisec erasure: the columns that identify a data subject (aisec.declare_subject); read through aisec.subject_columns';

-- Erasure requests.  subject_hash = HMAC-SHA-256(subject) under version
-- key_version of the reserved key $erasure; never the subject itself.
CREATE SEQUENCE aisec.erasure_request_seq;
REVOKE ALL ON SEQUENCE aisec.erasure_request_seq FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.erasure_request_seq', '');
COMMENT ON SEQUENCE aisec.erasure_request_seq IS 'aisec erasure request ids';

CREATE TABLE aisec.erasure_request (
    id           bigint      PRIMARY KEY,
    reference    text        NOT NULL UNIQUE,
    subject_hash bytea       NOT NULL,
    key_version  integer     NOT NULL,
    legal_basis  text        NOT NULL,
    requested_by text        NOT NULL,
    requested_at timestamptz NOT NULL,
    due          timestamptz NOT NULL,
    approved_by  text,
    approved_at  timestamptz,
    executed_at  timestamptz
) USING heap;
CREATE INDEX erasure_request_subject_hash ON aisec.erasure_request (subject_hash);
REVOKE ALL ON aisec.erasure_request FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.erasure_request', '');
COMMENT ON TABLE aisec.erasure_request IS 'aisec erasure register: one row per request (aisec.request_erasure): reference, keyed subject hash (HMAC-SHA-256 under the reserved key $erasure, never the identifier), legal basis, requester, due date, approval, execution; read through aisec.erasure_requests';

-- Whether a request needs a second DPO's approval (aisec.require_erasure_approval).
-- At most one row; none means no approval needed.
CREATE TABLE aisec.erasure_setting (
    singleton         boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    approval_required boolean     NOT NULL,
    changed_by        text        NOT NULL,
    changed_at        timestamptz NOT NULL
) USING heap;
REVOKE ALL ON aisec.erasure_setting FROM PUBLIC;
GRANT SELECT ON aisec.erasure_setting TO aisec_admin, aisec_dpo, aisec_auditor;
SELECT pg_catalog.pg_extension_config_dump('aisec.erasure_setting', '');
COMMENT ON TABLE aisec.erasure_setting IS 'aisec erasure settings: whether a second DPO must approve each request (aisec.require_erasure_approval); no row: not required';

CREATE FUNCTION aisec.erasure_refuse_change() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'aisec_erasure_refuse_change';
REVOKE ALL ON FUNCTION aisec.erasure_refuse_change() FROM PUBLIC;
COMMENT ON FUNCTION aisec.erasure_refuse_change() IS 'trigger: refuses UPDATE, DELETE and TRUNCATE of the erasure register by any role (aisec''s own functions excepted), and has each refusal recorded in the audit log';

-- INSERT is let through: pg_restore reloads these tables' rows.
CREATE TRIGGER erasure_subject_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE
    ON aisec.erasure_subject FOR EACH STATEMENT EXECUTE FUNCTION aisec.erasure_refuse_change();
ALTER TABLE aisec.erasure_subject ENABLE ALWAYS TRIGGER erasure_subject_refuse_change;
CREATE TRIGGER erasure_request_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE
    ON aisec.erasure_request FOR EACH STATEMENT EXECUTE FUNCTION aisec.erasure_refuse_change();
ALTER TABLE aisec.erasure_request ENABLE ALWAYS TRIGGER erasure_request_refuse_change;
CREATE TRIGGER erasure_setting_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE
    ON aisec.erasure_setting FOR EACH STATEMENT EXECUTE FUNCTION aisec.erasure_refuse_change();
ALTER TABLE aisec.erasure_setting ENABLE ALWAYS TRIGGER erasure_setting_refuse_change;

CREATE FUNCTION aisec.declare_subject(rel regclass, col name) RETURNS void
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_declare_subject';
REVOKE ALL ON FUNCTION aisec.declare_subject(regclass, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.declare_subject(regclass, name) TO aisec_admin, aisec_dpo;
COMMENT ON FUNCTION aisec.declare_subject(regclass, name) IS 'declare a column that identifies a data subject (customer id, e-mail, ...): erasure looks the subject up in it; needs SELECT on the column; warns when no index leads with it on a large table';

CREATE FUNCTION aisec.undeclare_subject(rel regclass, col name) RETURNS void
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_undeclare_subject';
REVOKE ALL ON FUNCTION aisec.undeclare_subject(regclass, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.undeclare_subject(regclass, name) TO aisec_admin, aisec_dpo;
COMMENT ON FUNCTION aisec.undeclare_subject(regclass, name) IS 'take back a subject column declaration (also of a dropped table, by its OID)';

CREATE FUNCTION aisec.request_erasure(subject text, reference text, legal_basis text DEFAULT 'GDPR Art. 17(1)')
    RETURNS bigint
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_request_erasure';
REVOKE ALL ON FUNCTION aisec.request_erasure(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.request_erasure(text, text, text) TO aisec_dpo;
COMMENT ON FUNCTION aisec.request_erasure(text, text, text) IS 'register an erasure request (reference unique, e.g. the ticket number), due in one month (GDPR Art. 12(3)); stores a keyed hash of the subject, never the subject; returns the request id';

CREATE FUNCTION aisec.require_erasure_approval(required boolean) RETURNS boolean
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_require_erasure_approval';
REVOKE ALL ON FUNCTION aisec.require_erasure_approval(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.require_erasure_approval(boolean) TO aisec_admin;
COMMENT ON FUNCTION aisec.require_erasure_approval(boolean) IS 'four-eyes rule: whether every erasure request needs aisec.approve_erasure by a second DPO before it is executed; returns the setting before the call';

CREATE FUNCTION aisec.approve_erasure(reference text) RETURNS void
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_approve_erasure';
REVOKE ALL ON FUNCTION aisec.approve_erasure(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.approve_erasure(text) TO aisec_dpo;
COMMENT ON FUNCTION aisec.approve_erasure(text) IS 'approve an erasure request, as a DPO other than its requester';

CREATE FUNCTION aisec.erasure_preview(reference text, subject text)
    RETURNS TABLE (rel regclass, live_rows bigint, history_records bigint, versions bigint[], derived_rows bigint)
    LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 10
    AS 'MODULE_PATHNAME', 'aisec_erasure_preview';
REVOKE ALL ON FUNCTION aisec.erasure_preview(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.erasure_preview(text, text) TO aisec_dpo;
COMMENT ON FUNCTION aisec.erasure_preview(text, text) IS 'dry run of an erasure request, changing nothing: per declared table, what aisec.erase would do for the subject (given again, checked against the request''s keyed hash): live rows deleted, history records redacted, committed versions touched, rows derived through lineage that erase would erase under the erasure policies (counted in the table they are in; a table reached only through lineage gets a row of its own); counts only, never row data; history, versions and derived rows NULL for an untracked table';

-- The register as a DPO and an auditor read it.  The view runs with its
-- owner's rights, so readers need no access to aisec.erasure_request.
CREATE VIEW aisec.erasure_requests AS
SELECT r.id, r.reference,
       pg_catalog.encode(r.subject_hash, 'hex') AS subject_hash,
       r.legal_basis, r.requested_by, r.requested_at, r.due,
       r.approved_by, r.approved_at, r.executed_at,
       CASE WHEN r.executed_at IS NOT NULL THEN 'executed'
            WHEN pg_catalog.now() OPERATOR(pg_catalog.>) r.due THEN 'overdue'
            WHEN r.approved_at IS NOT NULL THEN 'approved'
            ELSE 'requested' END AS status
FROM aisec.erasure_request r;
REVOKE ALL ON aisec.erasure_requests FROM PUBLIC;
GRANT SELECT ON aisec.erasure_requests TO aisec_admin, aisec_dpo, aisec_auditor;
COMMENT ON VIEW aisec.erasure_requests IS 'aisec erasure register: reference, keyed subject hash (hex), legal basis, requested by/at, due (one month), approved by/at, executed at, status (requested, approved, executed, overdue)';

CREATE VIEW aisec.subject_columns AS
SELECT s.rel, s.attname AS column_name,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
       s.declared_by, s.declared_at,
       EXISTS (SELECT FROM pg_catalog.pg_index i
               WHERE i.indrelid OPERATOR(pg_catalog.=) s.rel::pg_catalog.oid
                 AND i.indkey[0] OPERATOR(pg_catalog.=) a.attnum
                 AND i.indpred IS NULL AND i.indisvalid) AS indexed
FROM aisec.erasure_subject s
LEFT JOIN pg_catalog.pg_attribute a
       ON a.attrelid OPERATOR(pg_catalog.=) s.rel::pg_catalog.oid
      AND a.attname OPERATOR(pg_catalog.=) s.attname
      AND NOT a.attisdropped;
REVOKE ALL ON aisec.subject_columns FROM PUBLIC;
GRANT SELECT ON aisec.subject_columns TO aisec_admin, aisec_dpo, aisec_auditor;
COMMENT ON VIEW aisec.subject_columns IS 'aisec erasure: declared subject columns: table, column, type (NULL once the column no longer exists), declared by/at, whether a valid non-partial index leads with the column';

-- The row ids each executed erasure erased (issue 18 item 8): not personal
-- data without the rows.  aisec.verify accepts a redacted history record
-- exactly when its row id is here; reapply_erasures (a later slice)
-- re-erases them after a restore.
CREATE TABLE aisec.erasure_row (
    rid        bigint NOT NULL,
    request_id bigint NOT NULL,
    PRIMARY KEY (rid, request_id)
) USING heap;
REVOKE ALL ON aisec.erasure_row FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.erasure_row', '');
COMMENT ON TABLE aisec.erasure_row IS 'aisec erasure register: the row ids each executed erasure request erased (deleted live, history redacted); row ids only, no data';
CREATE TRIGGER erasure_row_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE
    ON aisec.erasure_row FOR EACH STATEMENT EXECUTE FUNCTION aisec.erasure_refuse_change();
ALTER TABLE aisec.erasure_row ENABLE ALWAYS TRIGGER erasure_row_refuse_change;

CREATE FUNCTION aisec.erase(reference text, subject text) RETURNS jsonb
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_erase';
REVOKE ALL ON FUNCTION aisec.erase(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.erase(text, text) TO aisec_dpo;
COMMENT ON FUNCTION aisec.erase(text, text) IS 'execute an erasure request (the subject given again, checked against its keyed hash; approved first if aisec.require_erasure_approval is on), in one transaction: deletes the subject''s live rows in every declared table, redacts every history record of those rows in every version (data and salt gone, hash kept: every version still verifies), and erases the same way the rows derived from them through lineage (aisec.set_erasure_policy keeps aggregates); returns the signed erasure certificate';

-- Erasure policies for derived rows (issue 18 item 5): per table, whether
-- aisec.erase deletes the rows derived from a subject's rows ('delete',
-- also for a table with no row here) or keeps those computed from at
-- least min_parents distinct parent rows ('keep_aggregate': an aggregate
-- does not identify a person).  No FOREIGN KEY to or from other aisec
-- tables.
CREATE TABLE aisec.erasure_policy (
    rel         regclass    PRIMARY KEY,
    policy      text        NOT NULL CHECK (policy IN ('delete', 'keep_aggregate')),
    min_parents integer     NOT NULL CHECK (min_parents >= 2),
    set_by      text        NOT NULL,
    set_at      timestamptz NOT NULL
) USING heap;
REVOKE ALL ON aisec.erasure_policy FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.erasure_policy', '');
COMMENT ON TABLE aisec.erasure_policy IS 'aisec erasure: per table, what aisec.erase does with rows derived from a subject''s rows (aisec.set_erasure_policy): delete them, or keep those computed from at least min_parents distinct parent rows; no row: delete; read through aisec.erasure_policies';
CREATE TRIGGER erasure_policy_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE
    ON aisec.erasure_policy FOR EACH STATEMENT EXECUTE FUNCTION aisec.erasure_refuse_change();
ALTER TABLE aisec.erasure_policy ENABLE ALWAYS TRIGGER erasure_policy_refuse_change;

CREATE FUNCTION aisec.set_erasure_policy(rel regclass, policy text, min_parents integer DEFAULT 10)
    RETURNS void
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_set_erasure_policy';
REVOKE ALL ON FUNCTION aisec.set_erasure_policy(regclass, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.set_erasure_policy(regclass, text, integer) TO aisec_admin, aisec_dpo;
COMMENT ON FUNCTION aisec.set_erasure_policy(regclass, text, integer) IS 'set what aisec.erase does with a table''s rows derived from a subject''s rows: ''delete'' (the default) or ''keep_aggregate'' (keep rows computed from at least min_parents distinct parent rows, min_parents >= 2)';

CREATE VIEW aisec.erasure_policies AS
SELECT p.rel, p.policy, p.min_parents, p.set_by, p.set_at
FROM aisec.erasure_policy p;
REVOKE ALL ON aisec.erasure_policies FROM PUBLIC;
GRANT SELECT ON aisec.erasure_policies TO aisec_admin, aisec_dpo, aisec_auditor;
COMMENT ON VIEW aisec.erasure_policies IS 'aisec erasure: per table, the policy for rows derived from a subject''s rows (delete, keep_aggregate) and min_parents, set by/at; a table not listed: delete';

-- Redaction of an audit log entry's detail (issue 18 item 10; the log
-- does it, src/audit/audit.c, doc/audit.md).
CREATE FUNCTION aisec.redact_audit(seq bigint, reason text) RETURNS void
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_redact_audit';
REVOKE ALL ON FUNCTION aisec.redact_audit(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.redact_audit(bigint, text) TO aisec_dpo;
COMMENT ON FUNCTION aisec.redact_audit(bigint, text) IS 'remove the detail of an audit log entry that names a person (written since 0.2.0); the chain and earlier digests still verify (the hash covers the detail''s SHA-256, kept); an audit.redact entry records the seq and reason, never the removed text';

CREATE FUNCTION aisec.reapply_erasures()
    RETURNS TABLE (reference text, rel regclass, live_rows_deleted bigint, history_records_redacted bigint)
    LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 10
    AS 'MODULE_PATHNAME', 'aisec_reapply_erasures';
REVOKE ALL ON FUNCTION aisec.reapply_erasures() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.reapply_erasures() TO aisec_dpo;
COMMENT ON FUNCTION aisec.reapply_erasures() IS 'after a restore of an older backup: re-erase every executed erasure request from the row ids kept in aisec.erasure_row (no subject needed): deletes live rows with those ids and redacts their history records in every version; returns what it found per request and table, and (counts NULL) the untracked declared tables whose rows need a new erasure with the subject';

-- Erasure certificates (issue 18 item 6): each executed request's signed
-- certificate, whole (it holds the keyed subject hash, never the subject);
-- read through aisec.erasure_certificate(reference).
CREATE TABLE aisec.erasure_certificate_store (
    request_id  bigint PRIMARY KEY,
    certificate jsonb  NOT NULL
) USING heap;
REVOKE ALL ON aisec.erasure_certificate_store FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.erasure_certificate_store', '');
COMMENT ON TABLE aisec.erasure_certificate_store IS 'aisec erasure register: the signed certificate aisec.erase issued for each executed request (keyed subject hash, counts, audit range, post-check, Ed25519 signature); read with aisec.erasure_certificate';
CREATE TRIGGER erasure_certificate_store_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE
    ON aisec.erasure_certificate_store FOR EACH STATEMENT EXECUTE FUNCTION aisec.erasure_refuse_change();
ALTER TABLE aisec.erasure_certificate_store ENABLE ALWAYS TRIGGER erasure_certificate_store_refuse_change;

CREATE FUNCTION aisec.erasure_certificate(reference text) RETURNS jsonb
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'aisec_erasure_certificate';
REVOKE ALL ON FUNCTION aisec.erasure_certificate(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.erasure_certificate(text) TO aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.erasure_certificate(text) IS 'the signed certificate aisec.erase issued for an executed erasure request, as it returned it';

CREATE FUNCTION aisec.verify_certificate(certificate jsonb) RETURNS boolean
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'aisec_verify_certificate';
REVOKE ALL ON FUNCTION aisec.verify_certificate(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.verify_certificate(jsonb) TO aisec_admin, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.verify_certificate(jsonb) IS 'true iff an erasure certificate''s Ed25519 signature verifies over its canonical form (its jsonb text without "signature") under the public key it carries, and that key is this database''s signing key; a NOTICE says why not';

CREATE FUNCTION aisec.verify_erasure(reference text, subject text DEFAULT NULL)
    RETURNS TABLE (ok boolean, rel regclass, detail text)
    LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 10
    AS 'MODULE_PATHNAME', 'aisec_verify_erasure';
REVOKE ALL ON FUNCTION aisec.verify_erasure(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.verify_erasure(text, text) TO aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.verify_erasure(text, text) IS 're-run the post-check of an executed erasure request: per table, no erased row id live again or with history data, no derived row beyond those kept by policy, and (subject given, checked against the keyed hash) no row holding the subject; then aisec.erasure_row against the erasure.execute audit entry and the stored certificate; ok NULL: not checked';
