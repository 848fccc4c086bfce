-- audit.sql: the hash-chained audit log (audit.c).

CREATE TABLE aisec.audit_log (
    seq        bigint      PRIMARY KEY,
    at         timestamptz NOT NULL,
    actor      text        NOT NULL,
    login      text        NOT NULL,
    action     text        NOT NULL,
    object     text,
    detail     jsonb,
    prev_hash  bytea       NOT NULL,
    hash       bytea       NOT NULL,
    detail_sha256 bytea,
    redacted_in bigint
) USING heap;
REVOKE ALL ON aisec.audit_log FROM PUBLIC;
GRANT SELECT ON aisec.audit_log TO aisec_admin, aisec_dpo, aisec_auditor;
SELECT pg_catalog.pg_extension_config_dump('aisec.audit_log', '');
COMMENT ON TABLE aisec.audit_log IS 'aisec audit log: append-only, hash-chained (hash = SHA-256(prev_hash || canonical entry)); see doc/audit.md';
COMMENT ON COLUMN aisec.audit_log.seq IS 'position in the chain, 1, 2, 3, ... without gaps';
COMMENT ON COLUMN aisec.audit_log.actor IS 'session user that made the change';
COMMENT ON COLUMN aisec.audit_log.login IS 'role that originally logged in';
COMMENT ON COLUMN aisec.audit_log.detail IS 'what was done: identifiers and counts, never personal data; NULL once redacted (aisec.redact_audit)';
COMMENT ON COLUMN aisec.audit_log.prev_hash IS 'hash of the entry before (32 zero bytes for the first)';
COMMENT ON COLUMN aisec.audit_log.hash IS 'SHA-256(prev_hash || canonical encoding of this entry)';
COMMENT ON COLUMN aisec.audit_log.detail_sha256 IS 'SHA-256 of detail''s text, which the hash covers instead of the detail (encoding aisec.audit.v2); NULL for entries written before 0.2.0 (v1, whose hash covers the detail itself)';
COMMENT ON COLUMN aisec.audit_log.redacted_in IS 'seq of the audit.redact entry that removed this entry''s detail (who, when, why); NULL if not redacted';

CREATE FUNCTION aisec.audit_refuse_change() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'aisec_audit_refuse_change';
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
    AS 'MODULE_PATHNAME', 'aisec_audit';
REVOKE ALL ON FUNCTION aisec.audit(text, text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.audit(text, text, jsonb) TO aisec_admin;
COMMENT ON FUNCTION aisec.audit(text, text, jsonb) IS 'append an entry to the hash-chained audit log; returns its seq';

CREATE FUNCTION aisec.audit_verify(
    OUT ok boolean, OUT entries bigint, OUT first_bad_seq bigint, OUT detail text)
    RETURNS record
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'aisec_audit_verify';
REVOKE ALL ON FUNCTION aisec.audit_verify() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.audit_verify() TO aisec_admin, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.audit_verify() IS 'recompute the audit chain; names the first entry changed, deleted, inserted or reordered';

CREATE FUNCTION aisec.audit_digest() RETURNS jsonb
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_audit_digest';
REVOKE ALL ON FUNCTION aisec.audit_digest() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.audit_digest() TO aisec_admin, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.audit_digest() IS 'signed (Ed25519) digest of the audit chain head: seq, hash, time; keep a copy outside the database';

CREATE FUNCTION aisec.audit_verify_digest(digest jsonb) RETURNS boolean
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'aisec_audit_verify_digest';
REVOKE ALL ON FUNCTION aisec.audit_verify_digest(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.audit_verify_digest(jsonb) TO aisec_admin, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.audit_verify_digest(jsonb) IS 'true if a digest from aisec.audit_digest() carries a valid signature and today''s chain still leads to it';
