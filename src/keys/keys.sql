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
) USING heap;
REVOKE ALL ON aisec.key_store FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.key_store', '');
COMMENT ON TABLE aisec.key_store IS 'aisec keys, wrapped (AES-256-GCM) by the master key outside the database; owner-only';

CREATE FUNCTION aisec.signing_public_key() RETURNS text
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_signing_public_key';
REVOKE ALL ON FUNCTION aisec.signing_public_key() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.signing_public_key() TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.signing_public_key() IS 'PEM public key of this database''s Ed25519 signing key (created on first need), for verifying aisec signatures offline with openssl';

-- User keys.  Every change is audited; only aisec_admin may make one, and
-- the C code checks that itself too.
CREATE FUNCTION aisec.create_key(name text, purpose text) RETURNS integer
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_create_key';
REVOKE ALL ON FUNCTION aisec.create_key(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.create_key(text, text) TO aisec_admin;
COMMENT ON FUNCTION aisec.create_key(text, text) IS 'create a random key: purpose ''hmac'' (256-bit, pseudonyms and sticky noise) or ''ff1'' (AES-256, format-preserving tokens); returns its version, 1';

CREATE FUNCTION aisec.import_key(name text, secret bytea, purpose text) RETURNS integer
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_import_key';
REVOKE ALL ON FUNCTION aisec.import_key(text, bytea, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.import_key(text, bytea, text) TO aisec_admin;
COMMENT ON FUNCTION aisec.import_key(text, bytea, text) IS 'store a given secret as version 1 of a new key (migrations, test vectors): ''hmac'' 16-64 bytes, ''ff1'' 16, 24 or 32 bytes';

CREATE FUNCTION aisec.rotate_key(name text) RETURNS integer
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_rotate_key';
REVOKE ALL ON FUNCTION aisec.rotate_key(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.rotate_key(text) TO aisec_admin;
COMMENT ON FUNCTION aisec.rotate_key(text) IS 'add a random new version and make it current; older versions stay for decryption; returns the new version';

CREATE FUNCTION aisec.drop_key(name text) RETURNS integer
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_drop_key';
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

-- Keys on Citus (keys_sync.c; doc/scale-out.md): the coordinator sends its
-- wrapped key rows to the workers, which share its master key file.
CREATE FUNCTION aisec.citus_sync_keys(node_name text DEFAULT NULL, node_port integer DEFAULT NULL) RETURNS integer
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_citus_sync_keys';
REVOKE ALL ON FUNCTION aisec.citus_sync_keys(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.citus_sync_keys(text, integer) TO aisec_admin;
COMMENT ON FUNCTION aisec.citus_sync_keys(text, integer) IS 'on a Citus coordinator: copy every user key (wrapped) to every active worker, or to the one named, removing keys the coordinator does not have; returns how many nodes took them';

CREATE FUNCTION aisec.citus_receive_keys(keys bytea, key_name text) RETURNS integer
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_citus_receive_keys';
REVOKE ALL ON FUNCTION aisec.citus_receive_keys(bytea, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.citus_receive_keys(bytea, text) TO aisec_admin;
COMMENT ON FUNCTION aisec.citus_receive_keys(bytea, text) IS 'on a Citus worker: replace one key (every user key if key_name is NULL) with the coordinator''s wrapped rows; sent by the coordinator, not called by hand';
