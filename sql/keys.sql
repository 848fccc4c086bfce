-- The key store and the signing key.
CREATE ROLE regress_keys_engineer IN ROLE aisec_engineer;
CREATE ROLE regress_keys_admin IN ROLE aisec_admin;
CREATE ROLE regress_keys_nobody;

-- The signing key's public half, as PEM (SubjectPublicKeyInfo, Ed25519:
-- 44 bytes of DER, 60 characters of base64).  Created on first need; the
-- same on every call.
SELECT aisec.signing_public_key() AS pem \gset
SELECT :'pem' ~ '^-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA[A-Za-z0-9+/]{43}=\n-----END PUBLIC KEY-----\n$' AS is_ed25519_pem;
SELECT aisec.signing_public_key() = :'pem' AS stable;

-- The key store holds it wrapped: 32 secret bytes + 12-byte nonce + 16-byte
-- tag = 60 bytes; the public half is 32 bytes.  No plaintext secret.
SELECT name, version, purpose, octet_length(public_key) AS public_bytes,
       octet_length(wrapped) AS wrapped_bytes
FROM aisec.key_store;

-- Every aisec role may fetch the public key; nobody else.
SET ROLE regress_keys_engineer;
SELECT aisec.signing_public_key() = :'pem' AS engineer_sees_same_key;
-- The key store itself is for the extension owner only: not even aisec_admin.
SELECT * FROM aisec.key_store;
RESET ROLE;
SET ROLE regress_keys_admin;
SELECT * FROM aisec.key_store;
RESET ROLE;
SET ROLE regress_keys_nobody;
SELECT aisec.signing_public_key();
RESET ROLE;

-- The master key's file name is a superuser-only setting; the key itself is
-- in no setting at all.
SELECT name, context FROM pg_settings WHERE name LIKE 'aisec.%' ORDER BY name;
SET ROLE regress_keys_nobody;
-- Only the SQLSTATE (42501, insufficient_privilege): PG 16 reworded the message.
\set VERBOSITY sqlstate
SHOW aisec.master_key_file;
\set VERBOSITY default
-- (aisec.lineage, aisec.transform and aisec.openlineage_namespace, row
-- lineage's, are ordinary user settings.)
SELECT count(*) AS visible_aisec_settings FROM pg_settings WHERE name LIKE 'aisec.%'
  AND name NOT IN ('aisec.lineage', 'aisec.lineage_memory', 'aisec.transform', 'aisec.openlineage_namespace', 'aisec.citus_partial_aggregates', 'aisec.aggregate_scan');
RESET ROLE;
-- A session cannot point aisec at another key file.
SET aisec.master_key_file = '/tmp/other.key';
-- The aisec. prefix is reserved: misspelled settings are refused.
SET aisec.no_such_setting = 'x';

DROP ROLE regress_keys_engineer, regress_keys_admin, regress_keys_nobody;
