-- test/fuzz/smith_setup.sql: a database for sqlsmith to fuzz (make fuzz,
-- test/fuzz/run.sh).  aisec objects of every capability, so that the
-- random queries sqlsmith builds from the catalog meet aisec's functions,
-- types and tables: a tracked table with versions, tags and masking rules,
-- its masked view, keys, and stored statistics of all four state types.
--
-- sqlsmith connects as aisec_fuzz_smith, which holds every aisec role and
-- owns the tables, but is no superuser: it calls what aisec's users can
-- call.  (AISEC_FUZZ_SUPERUSER=1 connects as the superuser instead, who
-- can also write aisec's own tables directly.)
CREATE EXTENSION aisec;
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'aisec_fuzz_smith') THEN
        CREATE ROLE aisec_fuzz_smith LOGIN IN ROLE aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
    END IF;
END $$;
GRANT CREATE ON SCHEMA public TO aisec_fuzz_smith;
SET ROLE aisec_fuzz_smith;
SELECT aisec.create_key('smith_hmac', 'hmac');
SELECT aisec.create_key('smith_ff1', 'ff1');

CREATE TABLE loans (id bigint PRIMARY KEY, email text, card text, region text, income numeric,
                    age int, born date, score float8, approved boolean, predicted boolean);
INSERT INTO loans
SELECT i, 'user' || i || '@example.com', lpad((i * 7919 % 10000000000000000)::text, 16, '0'),
       (ARRAY['north', 'south', 'east', 'west', NULL])[1 + i % 5], (i * 37 % 120000)::numeric,
       18 + i % 60, date '1950-01-01' + i * 7, (i % 100) / 100.0, i % 3 = 0, i % 4 = 0
  FROM generate_series(1, 500) i;
SELECT aisec.track('loans');
SELECT aisec.create_dataset('smith', ARRAY['loans'::regclass], 'sqlsmith target');
SELECT aisec.commit('smith', 'first');
UPDATE loans SET income = income + 1 WHERE id % 10 = 0;
DELETE FROM loans WHERE id % 50 = 0;
SELECT aisec.commit('smith', 'second');
SELECT aisec.tag('smith', 1, 'v1');

SELECT aisec.set_mask('loans', 'email', 'email');
SELECT aisec.set_mask('loans', 'card', 'ff1(smith_ff1)');
SELECT aisec.set_mask('loans', 'id', 'pseudonym(smith_hmac)');
SELECT aisec.set_mask('loans', 'income', 'generalize(10000)');
SELECT aisec.set_mask('loans', 'born', 'generalize(''year'')');
SELECT aisec.set_mask('loans', 'score', 'noise(smith_hmac, 0.1)');

CREATE TABLE stats AS
SELECT region,
       aisec.fairness(region, approved, predicted, score) AS fair,
       aisec.histogram(income::float8, 0, 120000, 12) AS hist,
       aisec.category_counts(region) AS cats,
       aisec.contingency(region, approved::text) AS cont
  FROM loans GROUP BY region;
INSERT INTO stats
SELECT 'all', aisec.fairness(region, approved, predicted), aisec.histogram(age, 0, 100, 10),
       aisec.category_counts(age::text), aisec.contingency(region, predicted::text)
  FROM loans;
RESET ROLE;
ANALYZE;
