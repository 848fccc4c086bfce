-- masking_ff1: FF1 format-preserving tokens (NIST SP 800-38G).
--
-- The nine samples below are NIST's published FF1 examples ("FF1samples.pdf",
-- NIST Cryptographic Standards and Guidelines, Examples with Intermediate
-- Values, FF1-AES128/192/256, samples #1-#9).  Keys, tweaks, plaintexts and
-- ciphertexts are copied from that document; every one must match exactly.
CREATE ROLE regress_ff1_admin NOLOGIN IN ROLE aisec_admin;
CREATE ROLE regress_ff1_engineer NOLOGIN IN ROLE aisec_engineer;
SET ROLE regress_ff1_admin;
SELECT aisec.import_key('nist_aes128', '\x2b7e151628aed2a6abf7158809cf4f3c', 'ff1');
SELECT aisec.import_key('nist_aes192', '\x2b7e151628aed2a6abf7158809cf4f3cef4359d8d580aa4f', 'ff1');
SELECT aisec.import_key('nist_aes256', '\x2b7e151628aed2a6abf7158809cf4f3cef4359d8d580aa4f7f036d6f04fc6a94', 'ff1');

CREATE TEMP TABLE nist (sample int, key text, alphabet text, tweak bytea, pt text, ct text);
INSERT INTO nist VALUES
 (1, 'nist_aes128', '0123456789', '', '0123456789', '2433477484'),
 (2, 'nist_aes128', '0123456789', '\x39383736353433323130', '0123456789', '6124200773'),
 (3, 'nist_aes128', '0123456789abcdefghijklmnopqrstuvwxyz', '\x3737373770717273373737', '0123456789abcdefghi', 'a9tv40mll9kdu509eum'),
 (4, 'nist_aes192', '0123456789', '', '0123456789', '2830668132'),
 (5, 'nist_aes192', '0123456789', '\x39383736353433323130', '0123456789', '2496655549'),
 (6, 'nist_aes192', '0123456789abcdefghijklmnopqrstuvwxyz', '\x3737373770717273373737', '0123456789abcdefghi', 'xbj3kv35jrawxv32ysr'),
 (7, 'nist_aes256', '0123456789', '', '0123456789', '6657667009'),
 (8, 'nist_aes256', '0123456789', '\x39383736353433323130', '0123456789', '1001623463'),
 (9, 'nist_aes256', '0123456789abcdefghijklmnopqrstuvwxyz', '\x3737373770717273373737', '0123456789abcdefghi', 'xs8a0azh2avyalyzuwd');

SELECT sample,
       aisec.ff1_encrypt(pt, key, alphabet, tweak) AS encrypted,
       aisec.ff1_encrypt(pt, key, alphabet, tweak) = ct AS matches_nist,
       aisec.ff1_decrypt(ct, key, alphabet, tweak) = pt AS decrypts
  FROM nist ORDER BY sample;

-- Round trips at many lengths and with a long tweak (several Q blocks,
-- d > 16 so S spans several AES blocks).
SELECT count(*) AS round_trips,
       count(*) FILTER (WHERE aisec.ff1_decrypt(aisec.ff1_encrypt(v, 'nist_aes256', '0123456789', t), 'nist_aes256', '0123456789', t) = v) AS ok,
       count(*) FILTER (WHERE length(aisec.ff1_encrypt(v, 'nist_aes256', '0123456789', t)) = length(v)) AS same_length
  FROM (SELECT substr(repeat('9081726354', 20), 1, n) AS v,
               decode(repeat('ab', n), 'hex') AS t
          FROM generate_series(6, 200) n) s;

-- Other alphabets: hexadecimal (radix 16, a power of two), and non-ASCII
-- characters, counted as characters.
SELECT aisec.ff1_encrypt('deadbeef', 'nist_aes128', '0123456789abcdef') AS hex_token;
SELECT aisec.ff1_decrypt(aisec.ff1_encrypt('deadbeef', 'nist_aes128', '0123456789abcdef'),
                         'nist_aes128', '0123456789abcdef') AS hex_back;
SELECT length(t) AS chars, aisec.ff1_decrypt(t, 'nist_aes128', 'αβγδεζηθικ') AS back
  FROM (SELECT aisec.ff1_encrypt('αβγδεζηθ', 'nist_aes128', 'αβγδεζηθικ') AS t) s;

-- A 16-digit card number stays a 16-digit number; deterministic.
SELECT aisec.ff1_encrypt('4111111111111111', 'nist_aes256') ~ '^[0-9]{16}$' AS sixteen_digits,
       aisec.ff1_encrypt('4111111111111111', 'nist_aes256') = aisec.ff1_encrypt('4111111111111111', 'nist_aes256') AS deterministic;

-- Domain below 10^6: refused (radix^length must be >= 10^6).
SELECT aisec.ff1_encrypt('12345', 'nist_aes128');
SELECT aisec.ff1_encrypt('101010101010101010', 'nist_aes128', '01');
SELECT aisec.ff1_encrypt('10101010101010101010', 'nist_aes128', '01') ~ '^[01]{20}$' AS radix2_ok;
SELECT aisec.ff1_encrypt('', 'nist_aes128');
-- Bad input: characters outside the alphabet (the value is not echoed),
-- bad alphabets, huge values and tweaks, NULLs.
SELECT aisec.ff1_encrypt('4111-1111-1111-1111', 'nist_aes128');
SELECT aisec.ff1_encrypt('0123456789', 'nist_aes128', '0');
SELECT aisec.ff1_encrypt('0123456789', 'nist_aes128', '');
SELECT aisec.ff1_encrypt('0123456789', 'nist_aes128', '01234567899');
-- Repeats among non-ASCII characters too, whatever their byte lengths; and
-- the largest alphabet, 65,536 distinct characters, is checked by sorting
-- (not by comparing every pair, which took seconds): accepted, and refused
-- with one character repeated.
SELECT aisec.ff1_encrypt('αβγδ', 'nist_aes128', 'αβγ€δ𝄞α');
CREATE TEMP TABLE big_alphabet AS
SELECT string_agg(chr(c), '' ORDER BY c) AS a
  FROM (SELECT c FROM generate_series(256, 256 + 65535 + 2048) c
         WHERE c NOT BETWEEN 55296 AND 57343 LIMIT 65536) cs;
SELECT length(a) AS chars,
       length(aisec.ff1_encrypt(substr(a, 1, 6), 'nist_aes128', a)) AS token_chars
  FROM big_alphabet;
SELECT aisec.ff1_encrypt(substr(a, 1, 6), 'nist_aes128', substr(a, 1, 65535) || chr(300))
  FROM big_alphabet;
DROP TABLE big_alphabet;
SELECT aisec.ff1_encrypt(repeat('1', 1025), 'nist_aes128');
SELECT aisec.ff1_encrypt(repeat('1', 1000000), 'nist_aes128');
SELECT aisec.ff1_encrypt('0123456789', 'nist_aes128', '0123456789', decode(repeat('00', 1025), 'hex'));
SELECT aisec.ff1_encrypt(NULL, 'nist_aes128') IS NULL AS null_in_null_out;
SELECT aisec.ff1_encrypt('0123456789', NULL) IS NULL AS null_key_null_out;
-- Unknown keys, wrong purposes, invalid key names.
SELECT aisec.ff1_encrypt('0123456789', 'no_such_key');
SELECT aisec.create_key('ff1_hmac_key', 'hmac');
SELECT aisec.ff1_encrypt('0123456789', 'ff1_hmac_key');
SELECT aisec.ff1_encrypt('0123456789', '$signing');
SELECT aisec.ff1_decrypt('0123456789', 'nist_aes128', '0123456789', '', -1);
SELECT aisec.ff1_decrypt('0123456789', 'nist_aes128', '0123456789', '', 7);

-- Rotation: tokens made before it decrypt with the old version.
SELECT aisec.import_key('card_ff1', '\x000102030405060708090a0b0c0d0e0f', 'ff1');
CREATE TEMP TABLE tok AS SELECT aisec.ff1_encrypt('4111111111111111', 'card_ff1') AS t;
SELECT aisec.rotate_key('card_ff1');
SELECT aisec.ff1_decrypt(t, 'card_ff1') = '4111111111111111' AS current_version_decrypts,
       aisec.ff1_decrypt(t, 'card_ff1', '0123456789', '', 1) AS version_1_decrypts
  FROM tok;
GRANT SELECT ON tok TO regress_ff1_engineer;
RESET ROLE;

-- Engineers may make tokens, never reverse them (C checks too).
SET ROLE regress_ff1_engineer;
SELECT aisec.ff1_encrypt('0123456789', 'nist_aes128');
SELECT aisec.ff1_decrypt(t, 'card_ff1', '0123456789', '', 1) FROM tok;
RESET ROLE;
GRANT EXECUTE ON FUNCTION aisec.ff1_decrypt(text, text, text, bytea, integer) TO regress_ff1_engineer;
SET ROLE regress_ff1_engineer;
SELECT aisec.ff1_decrypt(t, 'card_ff1', '0123456789', '', 1) FROM tok;
RESET ROLE;
REVOKE EXECUTE ON FUNCTION aisec.ff1_decrypt(text, text, text, bytea, integer) FROM regress_ff1_engineer;

-- Parallel workers compute the same tokens (the plan below is parallel).
CREATE TABLE ff1_par AS SELECT lpad(g::text, 12, '0') AS v FROM generate_series(1, 5000) g;
ALTER TABLE ff1_par ADD COLUMN t text;
UPDATE ff1_par SET t = aisec.ff1_encrypt(v, 'nist_aes192');
ANALYZE ff1_par;
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2; SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FILTER (WHERE aisec.ff1_encrypt(v, 'nist_aes192') = t) FROM ff1_par;
SELECT count(*) FILTER (WHERE aisec.ff1_encrypt(v, 'nist_aes192') = t) FROM ff1_par;
SELECT count(DISTINCT t) AS distinct_tokens FROM ff1_par;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather; RESET parallel_leader_participation;
DROP TABLE ff1_par, nist, tok;
DROP ROLE regress_ff1_admin, regress_ff1_engineer;
