-- keys: the key store API (create, import, rotate, drop, the keys view).
-- Only aisec_admin may change keys; secrets never appear anywhere readable.
CREATE ROLE regress_key_admin NOLOGIN IN ROLE aisec_admin;
CREATE ROLE regress_key_engineer NOLOGIN IN ROLE aisec_engineer;
CREATE ROLE regress_key_nobody NOLOGIN;

SET ROLE regress_key_admin;

-- Create keys: a 256-bit HMAC key and an AES-256 key for FF1.
SELECT aisec.create_key('customer_key', 'hmac');
SELECT aisec.create_key('card_key', 'ff1');
-- Import the AES-128 key of NIST's FF1 samples (SP 800-38G, FF1samples.pdf).
SELECT aisec.import_key('nist_ff1_128', '\x2b7e151628aed2a6abf7158809cf4f3c', 'ff1');
SELECT name, purpose, version, current, created_by FROM aisec.keys
 WHERE name NOT LIKE '$%' ORDER BY name, version;

-- Rotate: version 2 becomes current, version 1 stays.
SELECT aisec.rotate_key('customer_key');
SELECT name, version, current FROM aisec.keys WHERE name = 'customer_key' ORDER BY version;

-- The view shows no secret material: these are all its columns.
SELECT attname FROM pg_attribute
 WHERE attrelid = 'aisec.keys'::regclass AND attnum > 0 ORDER BY attnum;

-- The key store itself is readable by the extension owner only.
SELECT count(*) FROM aisec.key_store;

-- Bad names: only ^[a-z_][a-z0-9_]{0,62}$, so no collision with '$signing'.
SELECT aisec.create_key('$signing', 'hmac');
SELECT aisec.create_key('Customer', 'hmac');
SELECT aisec.create_key('1key', 'hmac');
SELECT aisec.create_key('', 'hmac');
SELECT aisec.create_key(repeat('k', 64), 'hmac');
SELECT aisec.create_key(repeat('k', 63), 'hmac');
SELECT aisec.create_key('k''; DROP TABLE aisec.key_store; --', 'hmac');
SELECT aisec.create_key(E'k\nx', 'hmac');
SELECT aisec.create_key('clé', 'hmac');
-- Duplicates, unknown purposes, NULLs.
SELECT aisec.create_key('customer_key', 'hmac');
SELECT aisec.create_key('other_key', 'aes');
SELECT aisec.create_key('other_key', 'HMAC');
SELECT aisec.create_key(NULL, 'hmac');
SELECT aisec.create_key('other_key', NULL);
-- Import: lengths that fit the purpose only.
SELECT aisec.import_key('short_hmac', '\x00112233', 'hmac');
SELECT aisec.import_key('long_hmac', decode(repeat('ab', 65), 'hex'), 'hmac');
SELECT aisec.import_key('odd_aes', decode(repeat('ab', 20), 'hex'), 'ff1');
SELECT aisec.import_key('null_secret', NULL, 'ff1');
SELECT aisec.import_key('aes192', decode(repeat('ab', 24), 'hex'), 'ff1');
-- Rotating or dropping a key that does not exist.
SELECT aisec.rotate_key('no_such_key');
SELECT aisec.drop_key('no_such_key');
SELECT aisec.drop_key('$signing');

-- Drop destroys every version.
SELECT aisec.drop_key('customer_key');
SELECT count(*) FROM aisec.keys WHERE name = 'customer_key';
SELECT aisec.create_key('customer_key', 'hmac');
RESET ROLE;

-- Every change is in the audit log, with no secret in it.
SELECT action, object, detail FROM aisec.audit_log
 WHERE action LIKE 'key.%' AND object NOT LIKE '$%' ORDER BY seq;
SELECT count(*) AS audit_entries_with_secret FROM aisec.audit_log
 WHERE detail::text LIKE '%2b7e1516%' OR detail::text ILIKE '%wrapped%';

-- Other roles cannot change keys, not even with a stray GRANT: C checks too.
SET ROLE regress_key_engineer;
SELECT name, version FROM aisec.keys WHERE name = 'card_key';
SELECT aisec.create_key('eng_key', 'hmac');
RESET ROLE;
GRANT EXECUTE ON FUNCTION aisec.create_key(text, text), aisec.drop_key(text)
    TO regress_key_engineer;
SET ROLE regress_key_engineer;
SELECT aisec.create_key('eng_key', 'hmac');
SELECT aisec.drop_key('card_key');
RESET ROLE;
REVOKE EXECUTE ON FUNCTION aisec.create_key(text, text), aisec.drop_key(text)
    FROM regress_key_engineer;
SET ROLE regress_key_nobody;
SELECT * FROM aisec.keys;
SELECT aisec.rotate_key('card_key');
RESET ROLE;

-- Read-only transactions cannot change keys.
BEGIN READ ONLY;
SELECT aisec.rotate_key('card_key');
ROLLBACK;

-- The wrapped secret is bound to its row: moved to another row, it does
-- not unwrap (checked through aisec.pseudonymize in masking_functions).
-- The signing key keeps working beside user keys.
SELECT aisec.signing_public_key() LIKE '-----BEGIN PUBLIC KEY-----%' AS signing_key_ok;
SELECT (aisec.audit_verify()).ok;

-- Keys on Citus (doc/scale-out.md): without the citus extension there is
-- no coordinator to send from and no worker to receive; both say so and
-- change nothing.  Only an admin may call them (C checks too).
SET ROLE regress_key_admin;
SELECT aisec.citus_sync_keys();
SELECT aisec.citus_sync_keys('127.0.0.1', NULL);
SELECT aisec.citus_receive_keys('\x5b5d', NULL);
SELECT aisec.citus_receive_keys(NULL, 'card_key');
RESET ROLE;
GRANT EXECUTE ON FUNCTION aisec.citus_receive_keys(bytea, text), aisec.citus_sync_keys(text, integer)
    TO regress_key_engineer;
SET ROLE regress_key_engineer;
SELECT aisec.citus_receive_keys('\x5b5d', NULL);
SELECT aisec.citus_sync_keys();
RESET ROLE;
REVOKE EXECUTE ON FUNCTION aisec.citus_receive_keys(bytea, text), aisec.citus_sync_keys(text, integer)
    FROM regress_key_engineer;
SELECT name, version FROM aisec.keys ORDER BY name, version;

DROP ROLE regress_key_admin, regress_key_engineer, regress_key_nobody;
