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
