-- aisec demo, part 4: a bias review of the loan decisions.
--
-- Reads table loans (00_intro.sql): approved is the decision (the
-- prediction), repaid the outcome (the ground truth), sex and age_band the
-- protected attributes.
\set QUIET on
\pset footer off
\echo
\echo '=== 4. Bias review ======================================================='
\echo 'One scan fills a mergeable state: per group, the confusion matrix of'
\echo '(repaid, approved).  Every metric is derived from it; nothing leaves the'
\echo 'database.'
\echo

CREATE TABLE bias_review (
    attribute  text PRIMARY KEY,
    stats      aisec.fairness_stats NOT NULL
);
INSERT INTO bias_review
SELECT 'sex', aisec.fairness(sex, repaid, approved) FROM loans;

\echo 'That scan is aisec''s own: an aggregate-only query over a whole table runs'
\echo 'as one loop over its pages that hands each row''s columns straight to the'
\echo 'aggregate (the same answer as PostgreSQL''s Aggregate node, at about the'
\echo 'cost of a count(*)):'
EXPLAIN (COSTS OFF) SELECT aisec.fairness(sex, repaid, approved) FROM loans;
SELECT (SELECT aisec.fairness(sex, repaid, approved) FROM loans)::bytea
         = (SELECT stats FROM bias_review WHERE attribute = 'sex')::bytea AS same_state;
\echo

\echo 'Per-group report by sex, with 95% Wilson intervals and the four-fifths'
\echo 'verdict on the approval-rate ratio to the reference group (the default is'
\echo 'the largest group; the four-fifths rule compares with the most-favoured one,'
\echo 'so name it):'
SELECT grp, n, round(base_rate::numeric, 3) AS repaid_rate,
       round(selection_rate::numeric, 3) AS approval_rate,
       round(selection_rate_low::numeric, 3) || '-' || round(selection_rate_high::numeric, 3) AS approval_ci,
       round(tpr::numeric, 3) AS tpr, round(fpr::numeric, 3) AS fpr,
       round(selection_rate_ratio::numeric, 3) AS ratio,
       round(ratio_low::numeric, 3) || '-' || round(ratio_high::numeric, 3) AS ratio_ci,
       four_fifths
FROM bias_review, aisec.fairness_report(stats, reference => 'male')
WHERE attribute = 'sex';
\echo 'Women are approved at 0.8 times the rate of men.  On 5000 rows the interval'
\echo 'of that ratio still straddles 0.8: "insufficient data", not a pass.'
\echo

\echo 'Headline metrics.  Fairlearn conventions (max - min, min / max over groups)'
\echo 'and AIF360 conventions (female = unprivileged, male = privileged):'
SELECT round(aisec.demographic_parity_difference(stats)::numeric, 3) AS dp_difference,
       round(aisec.demographic_parity_ratio(stats)::numeric, 3) AS dp_ratio,
       round(aisec.equalized_odds_difference(stats)::numeric, 3) AS eo_difference,
       round(aisec.disparate_impact(stats, 'female', 'male')::numeric, 3) AS disparate_impact,
       round(aisec.statistical_parity_difference(stats, 'female', 'male')::numeric, 3) AS spd,
       round(aisec.average_odds_difference(stats, 'female', 'male')::numeric, 3) AS aod,
       round(aisec.equal_opportunity_difference(stats, 'female', 'male')::numeric, 3) AS eod
FROM bias_review WHERE attribute = 'sex';
\echo 'Women who went on to repay were approved less often than men who did'
\echo '(equal opportunity difference < 0): the decisions, not the outcomes, differ.'
\echo

\echo 'Intersectional groups: combine attributes into one group key.'
SELECT grp, n, round(selection_rate::numeric, 3) AS approval_rate,
       round(selection_rate_ratio::numeric, 3) AS ratio, four_fifths
FROM aisec.fairness_report((SELECT aisec.fairness(concat_ws('|', sex, age_band), repaid, approved) FROM loans),
                           'male|26-40')
ORDER BY selection_rate;
\echo 'Every female intersection is approved less often than the reference; on a'
\echo 'few hundred rows each, their intervals straddle 0.8.'
\echo

\echo 'States merge: monthly partial states, stored, rolled up into the year,'
\echo 'give exactly the state of a single scan.'
CREATE TABLE bias_monthly AS
SELECT date_trunc('month', applied_on)::date AS month, aisec.fairness(sex, repaid, approved) AS stats
FROM loans GROUP BY 1;
SELECT count(*) AS months,
       (SELECT aisec.fairness_merge(stats) FROM bias_monthly)::bytea
         = (SELECT stats FROM bias_review WHERE attribute = 'sex')::bytea AS merged_equals_single_scan
FROM bias_monthly;
\echo 'A stored state prints as JSON (and reads back from it, so pg_dump keeps it):'
SELECT left(stats::text, 150) || ' ...' AS state FROM bias_review WHERE attribute = 'sex';
\echo

\echo 'Individual fairness: generalized entropy (alpha = 2) and Theil index of the'
\echo 'benefit b = approved - repaid + 1 (AIF360 definitions).'
SELECT round(aisec.generalized_entropy_index(repaid, approved, 2)::numeric, 4) AS ge_2,
       round(aisec.theil_index(repaid, approved)::numeric, 4) AS theil
FROM loans;
\echo

\echo 'Mitigation before training: Kamiran-Calders reweighing over (sex, repaid).'
\echo 'A training job multiplies each row''s weight by weight(sex, repaid):'
CREATE TABLE loan_weights AS
SELECT grp AS sex, label AS repaid, weight
FROM aisec.reweighing((SELECT aisec.fairness(sex, repaid, NULL) FROM loans));
SELECT sex, repaid, round(weight::numeric, 4) AS weight FROM loan_weights ORDER BY 1, 2;
\echo 'In the reweighted training set, repayment no longer depends on sex'
\echo '(statistical parity difference of the labels, before and after):'
SELECT round(aisec.statistical_parity_difference(aisec.fairness(l.sex, l.repaid, l.repaid), 'female', 'male')::numeric, 4) AS before,
       round(aisec.statistical_parity_difference(aisec.fairness(l.sex, l.repaid, l.repaid, w.weight), 'female', 'male')::numeric, 12) AS after
FROM loans l JOIN loan_weights w ON w.sex = l.sex AND w.repaid = l.repaid;
\echo 'Training view: SELECT l.*, w.weight AS sample_weight FROM loans l JOIN loan_weights w USING (sex, repaid);'
\echo

\echo 'For the reviewer: an SVG chart of approval rates, intervals and the'
\echo 'four-fifths band, written to /tmp/aisec_bias_by_sex.svg:'
SELECT aisec.fairness_svg(stats) AS svg FROM bias_review WHERE attribute = 'sex'
\g (format=unaligned tuples_only=on) /tmp/aisec_bias_by_sex.svg
SELECT xml_is_well_formed_document(aisec.fairness_svg(stats)) AS well_formed_svg,
       length(aisec.fairness_svg(stats)) AS bytes
FROM bias_review WHERE attribute = 'sex';
