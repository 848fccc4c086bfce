-- aisec demo, part 3: masking.  Engineers must not see raw identifiers but
-- still join and group on them; the loans table holds personal data.
\pset footer off
\echo
\echo '=== Masking: keys, rules, masked views, masked roles, masked exports ==='
\echo
\echo '-- Keys live in the database wrapped by a master key that is not in it.'
\echo '-- An HMAC key for pseudonyms and an AES key for FF1 tokens:'
SELECT aisec.create_key('customer_key', 'hmac') AS customer_key_version,
       aisec.create_key('card_key', 'ff1') AS card_key_version;
SELECT name, purpose, version, current FROM aisec.keys WHERE name NOT LIKE '$%' ORDER BY name;

\echo
\echo '-- The masking functions work in any query:'
SELECT aisec.mask_email('jane.doe@example.com')                      AS mask_email,
       aisec.mask_partial('Jonathan Smith', 1, 0)                    AS mask_partial,
       aisec.mask_digits('4111-1111-1111-1234')                      AS mask_digits,
       aisec.generalize(52345.67, 10000)                             AS generalize;
SELECT aisec.ff1_encrypt('4111111111111111', 'card_key') AS ff1_token,
       aisec.ff1_decrypt(aisec.ff1_encrypt('4111111111111111', 'card_key'), 'card_key') AS decrypted_by_admin;

\echo
\echo '-- Rules per column, in a small language parsed in C (never run as SQL):'
SELECT aisec.set_mask('loans', 'id', 'pseudonym(customer_key)');
SELECT aisec.set_mask('loans', 'name', 'partial(1, 0)');
SELECT aisec.set_mask('loans', 'email', 'email');
SELECT aisec.set_mask('loans', 'income', 'generalize(10000)');
SELECT aisec.set_mask('loans', 'applied_on', 'generalize(''month'')');
SELECT "column", rule, key_name FROM aisec.masks WHERE relation = 'loans'::regclass ORDER BY "column";

\echo
\echo '-- A bad rule is refused with a clear error:'
\set ON_ERROR_STOP off
SELECT aisec.set_mask('loans', 'income', 'email');
SELECT aisec.set_mask('loans', 'name', 'partial(1); DROP TABLE loans');
\set ON_ERROR_STOP on

\echo
\echo '-- The masked view aisec_masked.loans applies them (other columns pass through):'
SELECT left(id, 14) || '...' AS id, name, email, income, sex, age_band, region, applied_on
  FROM aisec_masked.loans ORDER BY email LIMIT 5;

\echo
\echo '-- Pseudonyms are deterministic, so grouping and joining still work:'
SELECT count(DISTINCT id) AS distinct_pseudonyms, count(*) AS rows FROM aisec_masked.loans;

\echo
\echo '-- A masked role reads governed tables only through masked views:'
CREATE ROLE demo_analyst NOLOGIN;
GRANT SELECT ON loans TO demo_analyst;
SELECT aisec.mask_role('demo_analyst') AS governed_tables;
SET ROLE demo_analyst;
\set ON_ERROR_STOP off
SELECT count(*) FROM loans;
\set ON_ERROR_STOP on
SELECT count(*) AS rows_matching_a_raw_email FROM aisec_masked.loans WHERE email = 'user1@example.com';
SELECT name, email FROM aisec_masked.loans ORDER BY email LIMIT 2;
RESET ROLE;

\echo
\echo '-- k-anonymity of the quasi-identifiers, then a masked export for a'
\echo '-- training job that leaves out classes smaller than 10:'
SELECT aisec.k_anonymity('loans', ARRAY['sex', 'age_band', 'region']) AS k;
SELECT * FROM aisec.export_masked('loans', 'loans_training', 10, ARRAY['sex', 'age_band', 'region']);
SELECT aisec.k_anonymity('loans_training', ARRAY['sex', 'age_band', 'region']) AS k_of_export;

\echo
\echo '-- Every key, rule, role and export change is in the audit log:'
SELECT seq, action, object, detail FROM aisec.audit_log
 WHERE action LIKE 'mask.%' OR action LIKE 'key.%' ORDER BY seq;
SELECT ok, entries FROM aisec.audit_verify();
