-- aisec demo, part 0: the sample data.
--
-- A lender's loan-application table: names, emails, incomes, protected
-- attributes, the decision, and the later outcome.  Generated with a fixed
-- seed so every run tells the same story.
\set QUIET on
\pset footer off
\echo
\echo '=== aisec demo ==========================================================='
\echo 'aisec makes PostgreSQL the governed home of ML training data.'
\echo 'This walkthrough runs on a throwaway cluster with generated loan data.'
\echo

CREATE EXTENSION aisec;
\echo 'CREATE EXTENSION aisec: schema aisec, roles aisec_admin, aisec_engineer,'
\echo 'aisec_dpo and aisec_auditor (NOLOGIN, granted to people).'
\echo
SELECT rolname AS role FROM pg_roles WHERE rolname LIKE 'aisec\_%' ORDER BY 1;

SELECT setseed(0.42);
CREATE TABLE loans (
    id          bigint PRIMARY KEY,
    name        text NOT NULL,
    email       text NOT NULL,
    income      numeric(12,2) NOT NULL,
    sex         text NOT NULL,
    age_band    text NOT NULL,
    region      text NOT NULL,
    approved    boolean NOT NULL,   -- the model's (or officer's) decision
    repaid      boolean NOT NULL,   -- what actually happened
    applied_on  date NOT NULL
);

WITH people AS (
    SELECT g AS id,
           (ARRAY['Ada','Ben','Chloe','Dmitri','Elif','Farah','Goran','Hana','Ivan','Jia',
                  'Kofi','Lena','Mateo','Nora','Omar','Priya','Quinn','Rosa','Sven','Tariq'])[1 + (random() * 19)::int] AS first,
           (ARRAY['Smith','Garcia','Nguyen','Kowalski','Okafor','Larsen','Rossi','Tanaka',
                  'Haddad','Novak','Silva','Meyer'])[1 + (random() * 11)::int] AS last,
           CASE WHEN random() < 0.52 THEN 'female' ELSE 'male' END AS sex,
           (ARRAY['18-25','26-40','41-60','61+'])[1 + (random() * 3)::int] AS age_band,
           (ARRAY['north','south','east','west'])[1 + (random() * 3)::int] AS region,
           round((18000 + random() * 90000)::numeric, 2) AS income,
           random() AS r1, random() AS r2,
           date '2025-01-01' + (random() * 364)::int AS applied_on
    FROM generate_series(1, 5000) AS g
)
INSERT INTO loans
SELECT id,
       first || ' ' || last,
       lower(first) || '.' || lower(last) || id || '@example.com',
       income, sex, age_band, region,
       -- decisions lean on income, and (the bias a review should catch) on sex
       r1 < 0.25 + income / 200000 - CASE WHEN sex = 'female' THEN 0.12 ELSE 0 END,
       r2 < 0.55 + income / 250000,
       applied_on
FROM people;
ANALYZE loans;

\echo 'Table loans: 5000 generated applications.'
SELECT id, name, email, income, sex, age_band, region, approved, repaid, applied_on
FROM loans ORDER BY id LIMIT 5;
