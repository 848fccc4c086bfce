-- aisec demo, part 45: data-level checks before training — class balance,
-- association between a protected attribute and the label, and drift
-- between two slices of the data.  Uses table loans from 00_intro.sql.
\set QUIET on
\pset footer off
\echo
\echo '=== Drift and association (doc/drift.md) ================================'
\echo 'Each statistic is one aggregate pass; states merge across parallel workers,'
\echo 'partitions and stored daily states, and give identical results.'
\echo

\echo '-- How balanced is the label?  (imbalance ratio = majority / minority;'
\echo '-- balance = normalized entropy, 1 = perfectly balanced)'
SELECT * FROM aisec.class_imbalance((SELECT aisec.category_counts(approved::text) FROM loans));

\echo
\echo '-- Is the decision independent of sex?  One scan builds the table ...'
SELECT aisec.contingency(sex, approved::text) AS sex_by_approved FROM loans;
SELECT a AS sex, b AS approved, count, round(expected::numeric, 1) AS expected_if_independent
  FROM aisec.contingency_cells((SELECT aisec.contingency(sex, approved::text) FROM loans));
\echo '-- ... and Pearson''s chi-square test (no Yates correction) and Cramer''s V read it:'
SELECT round(t.statistic::numeric, 2) AS chi2, t.dof, t.p_value,
       round(aisec.cramers_v(c)::numeric, 3) AS cramers_v
  FROM (SELECT aisec.contingency(sex, approved::text) AS c FROM loans) s,
       aisec.chi2_test(c) t;
\echo 'A p-value this small says approval depends on sex; Cramer''s V says how strongly.'
\echo 'Region, by contrast (generated independently of the decision):'
SELECT round(t.statistic::numeric, 2) AS chi2, t.dof, round(t.p_value::numeric, 3) AS p_value,
       round(aisec.cramers_v(c)::numeric, 3) AS cramers_v
  FROM (SELECT aisec.contingency(region, approved::text) AS c FROM loans) s,
       aisec.chi2_test(c) t;

\echo
\echo '-- Drift: applications of the first half of the year vs the second half.'
\echo '-- Income in 20 bins over a fixed range; categories aligned by value.'
CREATE TEMP TABLE halves AS
SELECT applied_on < date '2025-07-01' AS first_half,
       aisec.histogram(income::float8, 0, 120000, 20) AS income,
       aisec.category_counts(region) AS region,
       aisec.category_counts(age_band) AS age_band
  FROM loans GROUP BY 1;
SELECT round(aisec.psi(a.income, b.income)::numeric, 4) AS psi_income,
       round(aisec.ks_statistic(a.income, b.income)::numeric, 4) AS ks_income,
       round(aisec.psi(a.region, b.region)::numeric, 4) AS psi_region,
       round(aisec.js_divergence(a.age_band, b.age_band)::numeric, 5) AS js_age_band
  FROM halves a, halves b WHERE a.first_half AND NOT b.first_half;
\echo 'PSI below 0.1 is conventionally "stable": the two halves look alike.'

\echo
\echo '-- A training extract that silently dropped low incomes and the south:'
SELECT round(aisec.psi(p.income, s.income)::numeric, 4) AS psi_income,
       round(aisec.ks_statistic(p.income, s.income)::numeric, 4) AS ks_income,
       round(aisec.psi(p.region, s.region)::numeric, 4) AS psi_region,
       round(aisec.kl_divergence(s.region, p.region)::numeric, 4) AS kl_region
  FROM (SELECT aisec.histogram(income::float8, 0, 120000, 20) AS income,
               aisec.category_counts(region) AS region FROM loans) p,
       (SELECT aisec.histogram(income::float8, 0, 120000, 20) AS income,
               aisec.category_counts(region) AS region FROM loans
         WHERE income > 40000 AND region <> 'south') s;
\echo 'PSI above 0.25 is conventionally a significant shift.  A category missing on'
\echo 'one side is smoothed (epsilon 1e-4) so PSI and KL stay finite; pass 0 to get'
\echo 'NULL (infinite) instead.'

\echo
\echo '-- States are values: keep a baseline, compare later batches against it.'
CREATE TEMP TABLE baseline AS
SELECT aisec.histogram(income::float8, 0, 120000, 20) AS income FROM loans
 WHERE applied_on < date '2025-04-01';
SELECT income FROM baseline;
SELECT date_trunc('month', applied_on)::date AS month,
       round(aisec.psi((SELECT income FROM baseline),
                       aisec.histogram(income::float8, 0, 120000, 20))::numeric, 4) AS psi_vs_baseline
  FROM loans
 WHERE applied_on >= date '2025-04-01'
 GROUP BY 1 ORDER BY 1 LIMIT 4;
