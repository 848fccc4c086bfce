-- fuzz: the bounded fuzz test.  Mutated values of the four state types
-- through their binary input (bytea casts and binary COPY), their JSON
-- input and every consumer; extreme floats through every aggregate and
-- statistic; odd text, numbers, dates, keys and alphabets through every
-- mask; mutated rules through set_mask; hostile key names and secrets.
-- The engine is test/fuzz/lib.sql (shared with `make fuzz`, which runs it
-- longer, with other seeds); mutations are by position or from a fixed
-- seed, so this output is stable.  A crash fails the test (the server
-- restarts); every error must be of an expected SQLSTATE class
-- (unexpected = 0).
--
-- Known and reported, counted as roundtrip:XF002 below (the value was
-- accepted and every consumer ran, but it does not come back the same
-- from its text form):
--  * a few values whose binary form the fuzz planted a 32- or 64-bit word
--    in (fairness 5 + 5, histogram 2 + 2).  For histograms these are bounds
--    of -0, which print as -0 and read back as 0 (JSON numbers have no
--    negative zero; the aggregate no longer makes a -0 bound).  The
--    fairness cases are not yet investigated.
--  (Fixed: fairness_stats text input read cell row counts through float8,
--  so counts above 2^53 changed and counts above 2^62 were refused; it
--  reads them exactly now.)
--
-- It runs in a database of its own, so that its thousands of keys, rules
-- and audit entries change nothing the other tests see.
\set regress_db :DBNAME
CREATE DATABASE aisec_fuzz_regress;
\c aisec_fuzz_regress
CREATE EXTENSION aisec;
\set ECHO none
\i test/fuzz/lib.sql
\set ECHO all
SELECT aisec_fuzz.setup();

-- State types: every byte set to 6 values, every truncation, extensions,
-- 32- and 64-bit words at every offset, 200 random multi-byte edits; the
-- JSON form edited at every character, truncated, its numbers replaced by
-- extremes, hostile documents.
SELECT aisec_fuzz.states(0.15, 200);
SELECT aisec_fuzz.recv(0.15, 50, '/tmp/aisec_fuzz_recv.bin');
SELECT aisec_fuzz.aggregates();
SELECT aisec_fuzz.masks(false);
SELECT aisec_fuzz.rules(0.15, 300);
SELECT aisec_fuzz.keys();

SELECT * FROM aisec_fuzz.summary();
SELECT sum(cases) AS cases, sum(unexpected) AS unexpected FROM aisec_fuzz.summary();
SELECT * FROM aisec_fuzz.unexpected();

-- Nothing the fuzz did broke the audit chain or left a key or rule.
SELECT aisec_fuzz.teardown();
SELECT count(*) AS fuzz_keys_left FROM aisec.keys WHERE name LIKE 'fuzz%';
SELECT count(*) AS fuzz_rules_left FROM aisec.masks WHERE relation::text LIKE 'aisec_fuzz.%';
SELECT bool_and(ok) AS audit_chain_ok FROM aisec.audit_verify();
\c :regress_db
DROP DATABASE aisec_fuzz_regress;
