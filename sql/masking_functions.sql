-- masking_functions: keyless masks, keyed pseudonyms, sticky noise,
-- generalization and k-anonymity.
CREATE ROLE regress_mf_admin NOLOGIN IN ROLE aisec_admin;
CREATE ROLE regress_mf_engineer NOLOGIN IN ROLE aisec_engineer;
CREATE ROLE regress_mf_auditor NOLOGIN IN ROLE aisec_auditor;
CREATE ROLE regress_mf_nobody NOLOGIN;

-- mask_partial: characters, not bytes; each hidden character becomes pad.
SELECT aisec.mask_partial('Jonathan', 1, 2) AS partial,
       aisec.mask_partial('Jonathan', 0, 0) AS all_hidden,
       aisec.mask_partial('Jonathan', 2, 0, '#') AS prefix_only,
       aisec.mask_partial('Jonathan', 1, 1, '••') AS wide_pad,
       aisec.mask_partial('Jonathan', 1, 1, '') AS empty_pad;
SELECT aisec.mask_partial('Zoë Ångström', 2, 3) AS multibyte,
       length(aisec.mask_partial('Zoë Ångström', 2, 3)) AS chars;
-- Too short to hide anything while keeping both ends: hidden entirely.
SELECT aisec.mask_partial('abc', 2, 1) AS hidden, aisec.mask_partial('abc', 1, 1) AS kept_ends,
       aisec.mask_partial('', 1, 1) AS empty, aisec.mask_partial('abc', 2147483647, 2147483647) AS huge_keep;
SELECT aisec.mask_partial('abc', -1, 1);
SELECT aisec.mask_partial('abc', 1, -1);
SELECT aisec.mask_partial(NULL, 1, 1) IS NULL AS null_in_null_out;
SELECT length(aisec.mask_partial(repeat('x', 1000000), 3, 3)) AS one_mb;
-- A result over 1 GB (a long pad on a long value) hides everything: NULL.
SELECT aisec.mask_partial(repeat('x', 1000000), 0, 0, repeat('y', 2000)) IS NULL AS over_1gb_hidden;

-- mask_email: the first character of the local part and the TLD survive.
SELECT v, aisec.mask_email(v)
  FROM (VALUES ('jane.doe@example.com'), ('a@b.co'), ('J.Smith+tag@mail.example.co.uk'),
               ('Élodie@exämple.fr'), ('UPPER@EXAMPLE.ORG'),
               -- not well-formed: fully masked, never passed through
               ('jane.doe'), ('@example.com'), ('jane@'), ('jane@example'), ('jane@@example.com'),
               ('jane doe@example.com'), ('jane@example.c'), ('jane@example.c0m'), ('jane@.com'),
               ('jane@ex..com'), ('jane@example.com.'), (E'jane@exa\nmple.com'), (''),
               ('a@b.' || repeat('c', 64)), (repeat('a', 250) || '@b.com')) t(v);
SELECT aisec.mask_email(NULL) IS NULL AS null_in_null_out,
       length(aisec.mask_email(repeat('x', 1000000))) AS one_mb_fully_masked;

-- mask_digits: digits only, separators kept.
SELECT aisec.mask_digits('4111-1111-1111-1234') AS card,
       aisec.mask_digits('+1 (555) 010-9999', 2) AS phone,
       aisec.mask_digits('4111-1111-1111-1234', 0, 'X') AS all_digits,
       aisec.mask_digits('Zip: 75001, Paris', 1, '•') AS multibyte_pad,
       aisec.mask_digits('no digits here') AS none,
       aisec.mask_digits('1234') AS only_kept_digits_are_hidden_too,
       aisec.mask_digits('٣٤٥ 123 ４５６') AS only_ascii_digits_masked;
SELECT aisec.mask_digits('123', -1);
SELECT aisec.mask_digits('', 4) AS empty;

-- generalize: buckets of the same type, rounding down (also below zero).
SELECT aisec.generalize(37, 10) AS int4, aisec.generalize(-3, 10) AS negative,
       aisec.generalize(40, 10) AS on_edge, aisec.generalize(37::smallint, 5::smallint) AS int2,
       aisec.generalize(9007199254740993::bigint, 1000) AS int8,
       aisec.generalize(52345.67, 10000) AS numeric, aisec.generalize(-0.5, 0.25) AS numeric_neg,
       aisec.generalize(12.345::numeric, 0.1) AS numeric_step;
SELECT pg_typeof(aisec.generalize(37::smallint, 5::smallint)), pg_typeof(aisec.generalize(37::bigint, 5)),
       pg_typeof(aisec.generalize(1.5, 1.0));
SELECT aisec.generalize('NaN'::numeric, 10) AS nan, aisec.generalize('Infinity'::numeric, 10) AS inf;
-- A bucket that would start below the type's range hides the value: NULL.
SELECT aisec.generalize(-2147483648, 10) IS NULL AS below_int4,
       aisec.generalize((-32768)::smallint, 7::smallint) IS NULL AS below_int2,
       aisec.generalize(-9223372036854775808, 10) IS NULL AS below_int8;
SELECT aisec.generalize(5, 0);
SELECT aisec.generalize(5, -10);
SELECT aisec.generalize(5.0, 0);
SELECT aisec.generalize(5.0, 'NaN');
SELECT aisec.generalize(DATE '2024-08-17', 'month') AS month, aisec.generalize(DATE '2024-08-17', 'year') AS year,
       aisec.generalize(DATE '2024-08-17', 'quarter') AS quarter, aisec.generalize(DATE '2024-08-17', 'week') AS week,
       aisec.generalize(DATE '2024-08-17', 'decade') AS decade, aisec.generalize('infinity'::date, 'year') AS inf;
SELECT aisec.generalize(TIMESTAMP '2024-08-17 13:45:12', 'hour') AS ts_hour,
       pg_typeof(aisec.generalize(TIMESTAMP '2024-08-17 13:45:12', 'day'));
SET TimeZone = 'Europe/Paris';
SELECT aisec.generalize(TIMESTAMPTZ '2024-08-17 01:30:00+00', 'day') AS tstz_day_in_paris;
RESET TimeZone;
SELECT aisec.generalize(DATE '2024-08-17', 'hour');
SELECT aisec.generalize(DATE '2024-08-17', 'Month');
SELECT aisec.generalize(TIMESTAMP '2024-08-17', 'fortnight');

-- pseudonymize: 'v<version>:' || hex(HMAC-SHA-256(key, value)), the same
-- as pgcrypto's hmac() with the key's bytes (imported here so we know them).
CREATE EXTENSION IF NOT EXISTS pgcrypto;
SET ROLE regress_mf_admin;
SELECT aisec.import_key('mf_customer', '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hmac');
RESET ROLE;
SELECT aisec.pseudonymize('jane.doe@example.com', 'mf_customer') AS pseudonym;
SELECT bool_and(aisec.pseudonymize(v, 'mf_customer') =
                'v1:' || encode(hmac(convert_to(v, 'UTF8'), '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'::bytea, 'sha256'), 'hex'))
       AS matches_pgcrypto, count(*)
  FROM (SELECT md5(g::text) || repeat('é', g % 70) AS v FROM generate_series(1, 500) g
        UNION ALL VALUES (''), (repeat('x', 100000))) s;
-- A key of exactly one SHA-256 block (64 bytes), the longest 'hmac' key.
SET ROLE regress_mf_admin;
SELECT aisec.import_key('rfc4231_long', decode(repeat('aa', 64), 'hex'), 'hmac');
RESET ROLE;
SELECT aisec.pseudonymize('Test Using Larger Than Block-Size Key - Hash Key First', 'rfc4231_long') =
       'v1:' || encode(hmac('Test Using Larger Than Block-Size Key - Hash Key First', decode(repeat('aa', 64), 'hex'), 'sha256'), 'hex')
       AS block_size_key_matches;
-- Deterministic: joins and GROUP BY on pseudonyms work.
CREATE TABLE mf_people (id int, email text);
INSERT INTO mf_people VALUES (1, 'a@x.com'), (2, 'b@x.com'), (3, 'a@x.com');
SELECT count(DISTINCT aisec.pseudonymize(email, 'mf_customer')) AS distinct_pseudonyms FROM mf_people;
SELECT p.id, q.id FROM mf_people p JOIN mf_people q
    ON aisec.pseudonymize(p.email, 'mf_customer') = aisec.pseudonymize(q.email, 'mf_customer')
 WHERE p.id < q.id;
-- Rotation shows in the prefix.
SET ROLE regress_mf_admin;
SELECT aisec.rotate_key('mf_customer');
RESET ROLE;
SELECT left(aisec.pseudonymize('jane.doe@example.com', 'mf_customer'), 3) AS prefix_after_rotation,
       aisec.pseudonymize('jane.doe@example.com', 'mf_customer') <> 'v1:' || encode(hmac('jane.doe@example.com', '\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'::bytea, 'sha256'), 'hex') AS new_key;
-- Bad input: unknown keys, wrong purposes, invalid names, NULLs.
SELECT aisec.pseudonymize('x', 'no_such_key');
SET ROLE regress_mf_admin;
SELECT aisec.create_key('mf_card', 'ff1');
RESET ROLE;
SELECT aisec.pseudonymize('x', 'mf_card');
SELECT aisec.pseudonymize('x', 'Robert''); DROP TABLE mf_people; --');
SELECT aisec.pseudonymize(NULL, 'mf_customer') IS NULL AS null_in_null_out;
-- A wrapped key moved to another row does not unwrap (bound to its name).
SET allow_system_table_mods = on;
CREATE TABLE mf_stolen AS SELECT * FROM aisec.key_store WHERE name = 'mf_customer' AND version = 2;
INSERT INTO aisec.key_store (name, version, purpose, created_by, wrapped)
    SELECT 'mf_thief', 1, purpose, created_by, wrapped FROM mf_stolen;
SELECT aisec.pseudonymize('x', 'mf_thief');
DELETE FROM aisec.key_store WHERE name = 'mf_thief';
DROP TABLE mf_stolen;
RESET allow_system_table_mods;

-- sticky_noise: the same value always gets the same noise, within ratio.
SELECT count(DISTINCT aisec.sticky_noise(52000, 'mf_customer', 0.1)) AS one_value_one_noise
  FROM generate_series(1, 100);
SELECT bool_and(abs(n - v) <= 0.1 * abs(v)) AS within_ratio,
       count(DISTINCT n) AS distinct_noisy, count(*) FILTER (WHERE n = v) AS unchanged,
       abs(avg(n - v)) < 0.01 * avg(v) AS roughly_unbiased
  FROM (SELECT v, aisec.sticky_noise(v, 'mf_customer', 0.1) AS n
          FROM generate_series(1000, 11000) v) s;
SELECT aisec.sticky_noise(0, 'mf_customer', 0.5) AS zero, aisec.sticky_noise(-0.0, 'mf_customer', 0.5) AS minus_zero,
       aisec.sticky_noise('NaN', 'mf_customer', 0.5) AS nan, aisec.sticky_noise('Infinity', 'mf_customer', 0.5) AS inf,
       aisec.sticky_noise(10, 'mf_customer', 0) AS ratio_zero;
SELECT aisec.sticky_noise(10, 'mf_customer', -0.1);
SELECT aisec.sticky_noise(10, 'mf_customer', 'NaN');
SELECT aisec.sticky_noise(10, 'mf_card', 0.1);

-- k_anonymity: size of the smallest equivalence class.
CREATE TABLE mf_census (age_band text, zip text, sex text, income int);
INSERT INTO mf_census VALUES ('30-39', '750', 'F', 1), ('30-39', '750', 'F', 2), ('30-39', '750', 'F', 3),
    ('40-49', '751', 'M', 4), ('40-49', '751', 'M', 5), ('50-59', NULL, 'F', 6), ('50-59', NULL, 'F', 7);
SELECT aisec.k_anonymity('mf_census', ARRAY['age_band', 'zip']) AS k_2cols,
       aisec.k_anonymity('mf_census', ARRAY['age_band']) AS k_1col,
       aisec.k_anonymity('mf_census', ARRAY['income']) AS k_unique;
CREATE TABLE mf_empty (a int);
SELECT aisec.k_anonymity('mf_empty', ARRAY['a']) AS k_empty;
SELECT aisec.k_anonymity('mf_census', ARRAY['nope']);
SELECT aisec.k_anonymity('mf_census', ARRAY['zip', 'zip']);
SELECT aisec.k_anonymity('mf_census', ARRAY[]::text[]);
SELECT aisec.k_anonymity('mf_census', ARRAY['zip', NULL]);
SELECT aisec.k_anonymity('mf_census', ARRAY['zip"; DROP TABLE mf_census; --']);
SELECT aisec.k_anonymity('mf_census', ARRAY[['zip'], ['sex']]);
-- It runs as the caller: no SELECT privilege, no answer.
GRANT SELECT ON mf_census TO regress_mf_engineer;
SET ROLE regress_mf_engineer;
SELECT aisec.k_anonymity('mf_census', ARRAY['sex']) AS engineer_k;
SELECT aisec.k_anonymity('mf_empty', ARRAY['a']);
RESET ROLE;

-- Who may run what: pure masks every aisec role; keyed masks admin and
-- engineer (the C code checks too); nobody else.
SET ROLE regress_mf_auditor;
SELECT aisec.mask_email('jane.doe@example.com'), aisec.generalize(37, 10);
SELECT aisec.pseudonymize('x', 'mf_customer');
RESET ROLE;
GRANT EXECUTE ON FUNCTION aisec.pseudonymize(text, text), aisec.sticky_noise(float8, text, float8) TO regress_mf_auditor;
SET ROLE regress_mf_auditor;
SELECT aisec.pseudonymize('x', 'mf_customer');
SELECT aisec.sticky_noise(1, 'mf_customer', 0.1);
RESET ROLE;
REVOKE EXECUTE ON FUNCTION aisec.pseudonymize(text, text), aisec.sticky_noise(float8, text, float8) FROM regress_mf_auditor;
SET ROLE regress_mf_engineer;
SELECT left(aisec.pseudonymize('x', 'mf_customer'), 3) AS engineer_pseudonym;
RESET ROLE;
SET ROLE regress_mf_nobody;
SELECT aisec.mask_email('jane.doe@example.com');
RESET ROLE;

-- Labels: pure masks IMMUTABLE, keyed ones STABLE; all PARALLEL SAFE and STRICT.
SELECT p.oid::regprocedure AS function, p.provolatile AS volatility, p.proparallel AS parallel, p.proisstrict AS strict
  FROM pg_proc p
 WHERE p.pronamespace = 'aisec'::regnamespace
   AND p.proname IN ('mask_partial', 'mask_email', 'mask_digits', 'generalize', 'pseudonymize',
                     'sticky_noise', 'ff1_encrypt', 'ff1_decrypt', 'k_anonymity')
 ORDER BY 1::text;

DROP TABLE mf_people, mf_census, mf_empty;
DROP EXTENSION pgcrypto;
DROP ROLE regress_mf_admin, regress_mf_engineer, regress_mf_auditor, regress_mf_nobody;
