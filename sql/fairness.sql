-- Bias statistics: aisec.fairness() fills per-group confusion matrices in one
-- scan; every metric is derived from the resulting aisec.fairness_stats.

-- The example arrays of Fairlearn's user guide ("Common fairness metrics"
-- and "Performing a Fairness Assessment", docs/user_guide/assessment/ in
-- fairlearn/fairlearn), one row per array position.
CREATE TABLE fl (i int, y_true boolean, y_pred boolean, sf text);
INSERT INTO fl
SELECT i,
       (ARRAY[0,1,1,1,1,0,1,0,1,0,0,0,1,1,1,1,1,1])[i]::int::boolean,
       (ARRAY[0,0,1,0,1,1,1,0,0,1,1,1,1,0,0,1,1,0])[i]::int::boolean,
       (ARRAY['b','b','a','b','b','c','c','c','a','a','c','a','b','c','c','b','c','c'])[i]
FROM generate_series(1, 18) i;
CREATE TABLE fl_stats AS SELECT aisec.fairness(sf, y_true, y_pred) AS s FROM fl;

-- The value prints as JSON: per group, row and weight totals and the
-- non-empty cells of the y_true x y_pred matrix.
SELECT s FROM fl_stats;

-- Per-group rates.  Fairlearn's MetricFrame.by_group for these arrays:
--   a: tpr 0.5, fpr 1.0, sel 0.75, count 4
--   b: tpr 0.6, fpr 0.0, sel 0.50, count 6
--   c: tpr 0.4, fpr 0.666667, sel 0.50, count 8
SELECT g,
       aisec.true_positive_rate(s, g) AS tpr,
       aisec.false_positive_rate(s, g) AS fpr,
       aisec.selection_rate(s, g) AS sel
FROM fl_stats, unnest(ARRAY['a', 'b', 'c']) g;

-- Fairlearn conventions: demographic_parity_difference 0.25,
-- demographic_parity_ratio 0.66666..., equalized_odds_difference 1.0,
-- equalized_odds_ratio 0.0 (common_fairness_metrics.rst); tpr difference
-- 0.20 and ratio 0.666667 (MetricFrame.difference() / ratio()).
SELECT aisec.demographic_parity_difference(s) AS dpd,
       aisec.demographic_parity_ratio(s) AS dpr,
       aisec.equalized_odds_difference(s) AS eod,
       aisec.equalized_odds_ratio(s) AS eor,
       round(aisec.equal_opportunity_difference(s)::numeric, 12) AS eopd,
       round(aisec.equal_opportunity_ratio(s)::numeric, 12) AS eopr
FROM fl_stats;

-- Every confusion-matrix rate of group c, checked by hand:
-- TP = 2, FP = 2, FN = 3, TN = 1 (8 rows).
SELECT aisec.selection_rate(s, 'c') AS sel,            -- 4/8
       aisec.base_rate(s, 'c') AS base,                -- 5/8
       aisec.true_positive_rate(s, 'c') AS tpr,        -- 2/5
       aisec.false_positive_rate(s, 'c') AS fpr,       -- 2/3
       aisec.false_negative_rate(s, 'c') AS fnr,       -- 3/5
       aisec.true_negative_rate(s, 'c') AS tnr,        -- 1/3
       aisec.positive_predictive_value(s, 'c') AS ppv, -- 2/4
       aisec.negative_predictive_value(s, 'c') AS npv, -- 1/4
       aisec.false_discovery_rate(s, 'c') AS fdr,      -- 2/4
       aisec.false_omission_rate(s, 'c') AS "for",     -- 3/4
       aisec.accuracy(s, 'c') AS acc,                  -- 3/8
       aisec.error_rate(s, 'c') AS err                 -- 5/8
FROM fl_stats;

-- AIF360 conventions, signed, unprivileged vs privileged; by hand from the
-- rates above with a unprivileged, b privileged:
--   disparate impact 0.75 / 0.5 = 1.5, statistical parity 0.75 - 0.5 = 0.25,
--   average odds ((1 - 0) + (0.5 - 0.6)) / 2 = 0.45,
--   average |odds| (|1 - 0| + |0.5 - 0.6|) / 2 = 0.55,
--   equal opportunity 0.5 - 0.6 = -0.1.
SELECT aisec.disparate_impact(s, 'a', 'b') AS di,
       aisec.statistical_parity_difference(s, 'a', 'b') AS spd,
       aisec.average_odds_difference(s, 'a', 'b') AS aod,
       aisec.average_abs_odds_difference(s, 'a', 'b') AS aaod,
       round(aisec.equal_opportunity_difference(s, 'a', 'b')::numeric, 12) AS eopd
FROM fl_stats;
-- Swapping the groups flips signs and inverts the ratio.
SELECT aisec.disparate_impact(s, 'b', 'a') AS di,
       aisec.statistical_parity_difference(s, 'b', 'a') AS spd
FROM fl_stats;

-- Intersectional groups: combine attributes into one group key.
SELECT aisec.selection_rate(aisec.fairness(concat_ws('|', sf, i % 2), y_true, y_pred), 'c|0')
FROM fl;

-- Weights: each row counts with its weight.  Group x: (true, true) w = 2,
-- (false, true) w = 1, (false, false) w = 1: selection rate 3/4, base rate
-- 2/4, TPR 2/2, FPR 1/2.  Weight 0 rows are counted (n) but weigh nothing.
CREATE TABLE wt (g text, y boolean, p boolean, w float8);
INSERT INTO wt VALUES ('x', true, true, 2), ('x', false, true, 1), ('x', false, false, 1),
                      ('y', true, false, 0.5), ('y', true, true, 0);
SELECT aisec.selection_rate(s, 'x') AS sel_x, aisec.base_rate(s, 'x') AS base_x,
       aisec.true_positive_rate(s, 'x') AS tpr_x, aisec.false_positive_rate(s, 'x') AS fpr_x,
       aisec.selection_rate(s, 'y') AS sel_y
FROM (SELECT aisec.fairness(g, y, p, w) AS s FROM wt) q;
-- n counts rows, weight sums weights.
SELECT grp, n, weight FROM aisec.fairness_report((SELECT aisec.fairness(g, y, p, w) FROM wt));

-- Zero denominators give NULL, never 0, NaN or infinity; so does any metric
-- built on them.  Group "pos" has only positive labels (no FPR) and group
-- "unscored" has no prediction at all (no selection rate).
CREATE TABLE zd (g text, y boolean, p boolean);
INSERT INTO zd VALUES ('pos', true, true), ('pos', true, false),
                      ('neg', false, true), ('neg', true, false),
                      ('unscored', true, NULL);
SELECT aisec.false_positive_rate(s, 'pos') AS fpr_pos,
       aisec.true_negative_rate(s, 'pos') AS tnr_pos,
       aisec.selection_rate(s, 'unscored') AS sel_unscored,
       aisec.base_rate(s, 'unscored') AS base_unscored,
       aisec.equalized_odds_difference(s) AS eod,
       aisec.demographic_parity_difference(s) AS dpd,
       aisec.equal_opportunity_difference(s) AS eopd
FROM (SELECT aisec.fairness(g, y, p) AS s FROM zd) q;
-- A ratio whose largest rate is 0 is undefined: NULL.
SELECT aisec.demographic_parity_ratio(aisec.fairness(g, y, false)) FROM zd;
-- Disparate impact against a privileged group selected at rate 0: NULL.
SELECT aisec.disparate_impact(aisec.fairness(g, y, g = 'neg'), 'neg', 'pos') FROM zd;

-- NULL group: rows whose group is NULL form a group of their own (listed
-- last); a NULL group name selects it.  NULL labels are kept as unknown:
-- each rate uses the rows whose labels it needs, so a row with a known
-- prediction but an unknown outcome counts for the selection rate only.
CREATE TABLE nl (g text, y boolean, p boolean);
INSERT INTO nl VALUES ('a', true, true), ('a', NULL, true), ('a', false, NULL),
                      (NULL, true, false), (NULL, NULL, NULL);
SELECT grp, n, base_rate, selection_rate, tpr, fpr
FROM aisec.fairness_report((SELECT aisec.fairness(g, y, p) FROM nl));
SELECT aisec.selection_rate(aisec.fairness(g, y, p), NULL) AS sel_null_group,
       aisec.base_rate(aisec.fairness(g, y, p), NULL) AS base_null_group
FROM nl;
-- Exclude them explicitly if they should not count.
SELECT aisec.demographic_parity_difference(aisec.fairness(g, y, p)) AS with_null_group,
       aisec.demographic_parity_difference(aisec.fairness(g, y, p) FILTER (WHERE g IS NOT NULL)) AS without
FROM nl;

-- Empty input gives NULL, and NULL gives NULL (or no rows).
SELECT aisec.fairness(sf, y_true, y_pred) IS NULL AS empty FROM fl WHERE false;
SELECT aisec.fairness_merge(s) IS NULL AS empty FROM fl_stats WHERE false;
SELECT aisec.selection_rate(NULL, 'a') AS sel,
       aisec.demographic_parity_difference(NULL) AS dpd,
       aisec.disparate_impact(NULL, 'a', 'b') AS di,
       aisec.fairness_svg(NULL) AS svg;
SELECT count(*) FROM aisec.fairness_report(NULL);
SELECT count(*) FROM aisec.reweighing(NULL);

-- One group: differences are 0, ratios 1.
SELECT aisec.demographic_parity_difference(s), aisec.demographic_parity_ratio(s)
FROM (SELECT aisec.fairness('only', y_true, y_pred) AS s FROM fl) q;

-- The report: one row per group with every rate, Wilson intervals for the
-- selection rate, TPR and FPR, the selection-rate ratio to the reference
-- group (default: the largest, here c) and the four-fifths verdict.
SELECT grp, is_reference, n, weight, round(base_rate::numeric, 4) AS base,
       selection_rate AS sel, round(selection_rate_low::numeric, 4) AS sel_low,
       round(selection_rate_high::numeric, 4) AS sel_high,
       tpr, fpr, fnr, round(tnr::numeric, 4) AS tnr, round(ppv::numeric, 4) AS ppv,
       round(npv::numeric, 4) AS npv, accuracy
FROM aisec.fairness_report((SELECT s FROM fl_stats));
SELECT grp, selection_rate_ratio AS ratio, round(ratio_low::numeric, 4) AS ratio_low,
       round(ratio_high::numeric, 4) AS ratio_high, four_fifths,
       round(tpr_low::numeric, 4) AS tpr_low, round(tpr_high::numeric, 4) AS tpr_high,
       round(fpr_low::numeric, 4) AS fpr_low, round(fpr_high::numeric, 4) AS fpr_high
FROM aisec.fairness_report((SELECT s FROM fl_stats), 'b');

-- Wilson score intervals against published values: Newcombe, "Two-sided
-- confidence intervals for the single proportion: comparison of seven
-- methods", Stat Med 1998;17:857-872, Table I, method 3 (score interval
-- without continuity correction), 95%:
--   81/263: 0.2553-0.3662   15/148: 0.0624-0.1605
--   0/20:   0.0000-0.1611   1/29:   0.0061-0.1718
CREATE TABLE newcombe (g text, p boolean);
INSERT INTO newcombe
SELECT 'n1', i <= 81 FROM generate_series(1, 263) i UNION ALL
SELECT 'n2', i <= 15 FROM generate_series(1, 148) i UNION ALL
SELECT 'n3', false FROM generate_series(1, 20) i UNION ALL
SELECT 'n4', i <= 1 FROM generate_series(1, 29) i;
SELECT grp, n, round(selection_rate_low::numeric, 4) AS low,
       round(selection_rate_high::numeric, 4) AS high
FROM aisec.fairness_report((SELECT aisec.fairness(g, NULL, p) FROM newcombe));
-- 99% intervals (z = 2.5758293035489): 81/263 gives 0.2401-0.3853 by the
-- same closed form (computed independently with Python's statistics.NormalDist).
SELECT grp, round(selection_rate_low::numeric, 4) AS low, round(selection_rate_high::numeric, 4) AS high
FROM aisec.fairness_report((SELECT aisec.fairness(g, NULL, p) FROM newcombe), 'n1', 0.99)
WHERE grp = 'n1';

-- Four-fifths verdicts.  "fail" when the whole interval of the ratio is
-- below 0.8, "pass" when it is at or above 0.8, "insufficient data" when
-- it straddles 0.8 or the ratio is undefined.  ref: 500/1000 selected;
-- low: 100/1000 (ratio 0.2); close: 490/1000 (0.98); small: 3/8 (0.75, few
-- rows); none: 0/1000 (0); unscored: no predictions.  The ratio intervals
-- (MOVER-R from the two Wilson intervals) were checked independently by
-- scanning theta for the set where the MOVER-D interval of p1 - theta p2
-- holds 0: low 0.1643-0.2430, close 0.8970-1.0707, small 0.2734-1.3943.
CREATE TABLE ff (g text, p boolean);
INSERT INTO ff
SELECT 'ref', i <= 500 FROM generate_series(1, 1000) i UNION ALL
SELECT 'low', i <= 100 FROM generate_series(1, 1000) i UNION ALL
SELECT 'close', i <= 490 FROM generate_series(1, 1000) i UNION ALL
SELECT 'small', i <= 3 FROM generate_series(1, 8) i UNION ALL
SELECT 'none', false FROM generate_series(1, 1000) i UNION ALL
SELECT 'unscored', NULL FROM generate_series(1, 5) i;
SELECT grp, is_reference, selection_rate_ratio AS ratio, round(ratio_low::numeric, 4) AS low,
       round(ratio_high::numeric, 4) AS high, four_fifths
FROM aisec.fairness_report((SELECT aisec.fairness(g, NULL, p) FROM ff), 'ref');
-- The default reference is the largest group (by weight, then rows); ties
-- go to the first in group order ("close" of the four 1000-row groups).
SELECT grp FROM aisec.fairness_report((SELECT aisec.fairness(g, NULL, p) FROM ff)) WHERE is_reference;
-- A reference selected at rate 0 leaves every ratio undefined.
SELECT grp, selection_rate_ratio, four_fifths
FROM aisec.fairness_report((SELECT aisec.fairness(g, NULL, p) FROM ff), 'none')
WHERE grp IN ('none', 'ref');

-- The SVG chart is well-formed XML, also with hostile group names.
SELECT xml_is_well_formed_document(aisec.fairness_svg(s)) AS ok,
       length(aisec.fairness_svg(s)) > 1000 AS sized
FROM fl_stats;
SELECT xml_is_well_formed_document(aisec.fairness_svg(aisec.fairness(g, NULL, p), NULL, 0.9)) AS ok
FROM (VALUES ('<script>alert(1)</script>', true), ('a & b "c" ''d''', false),
             (E'tab\there\x01ctl', true), (NULL, true), (repeat('é', 100), false),
             (']]>', true), ('unscored', NULL)) v(g, p);
-- Group names are escaped, not interpreted.
SELECT position('<script>' IN aisec.fairness_svg(aisec.fairness(g, NULL, true))) AS raw_tag,
       position('&lt;script&gt;' IN aisec.fairness_svg(aisec.fairness(g, NULL, true))) > 0 AS escaped
FROM (VALUES ('<script>')) v(g);

-- Stored states: daily partial states merged with aisec.fairness_merge()
-- equal the state of the whole (byte for byte: equal states encode
-- identically).
CREATE TABLE daily AS
SELECT i % 3 AS day, aisec.fairness(sf, y_true, y_pred) AS s FROM fl GROUP BY i % 3;
SELECT (SELECT aisec.fairness_merge(s) FROM daily)::bytea = (SELECT s FROM fl_stats)::bytea AS same;
SELECT aisec.fairness_merge(s) IS NULL AS all_null FROM (VALUES (NULL::aisec.fairness_stats)) v(s);

-- Text and binary forms round-trip.
SELECT s::text::aisec.fairness_stats::bytea = s::bytea AS text_round_trip,
       s::bytea::aisec.fairness_stats::text = s::text AS bytea_round_trip
FROM fl_stats;
SELECT '{"version": 1, "groups": [{"group": null, "cells": [{"y_true": null, "y_pred": true, "rows": 2, "weight": 0.5, "weight_sq": 0.125}]}, {"group": "z", "cells": [{"y_true": true, "y_pred": false, "rows": 1, "weight": 1, "weight_sq": 1}]}]}'::aisec.fairness_stats;
-- Binary format header: version 1, kind 'F', two zero bytes, 3 groups.
SELECT substring(s::bytea FROM 1 FOR 8) AS header FROM fl_stats;

-- Bad input.
-- Weights must be finite and >= 0, and not NULL.
SELECT aisec.fairness(g, y, p, -1) FROM wt;
SELECT aisec.fairness(g, y, p, 'NaN') FROM wt;
SELECT aisec.fairness(g, y, p, 'Infinity') FROM wt;
SELECT aisec.fairness(g, y, p, NULL) FROM wt;
SELECT aisec.fairness(g, y, p, 1e300) FROM wt;
-- Unknown groups are an error, not NULL.
SELECT aisec.selection_rate(s, 'nobody') FROM fl_stats;
SELECT aisec.selection_rate(s, NULL) FROM fl_stats;
SELECT aisec.disparate_impact(s, 'a', 'A') FROM fl_stats;
SELECT * FROM aisec.fairness_report((SELECT s FROM fl_stats), 'nobody');
-- A long unknown name is clipped to 64 bytes in the message, never inside a
-- character: 63 ASCII letters then a two-byte 'é' clip before the 'é' (a cut
-- after byte 64 would leave half a character, invalid UTF-8, which a LATIN1
-- client could not even receive).
SELECT aisec.selection_rate(s, repeat('a', 63) || 'éz') FROM fl_stats;
SET client_encoding = 'LATIN1';
SELECT aisec.selection_rate(s, repeat('a', 63) || 'éz') FROM fl_stats;
RESET client_encoding;
-- Confidence must be in (0, 1).
SELECT * FROM aisec.fairness_report((SELECT s FROM fl_stats), NULL, 1);
SELECT * FROM aisec.fairness_report((SELECT s FROM fl_stats), NULL, 0);
SELECT * FROM aisec.fairness_report((SELECT s FROM fl_stats), NULL, 'NaN');
SELECT aisec.fairness_svg(s, NULL, NULL) FROM fl_stats;
-- Over-long group names.
SELECT aisec.fairness(repeat('x', 1025), true, true);
-- Text input that is not fairness_stats JSON.
SELECT 'hello'::aisec.fairness_stats;
SELECT '[]'::aisec.fairness_stats;
SELECT '{"version": 2, "groups": []}'::aisec.fairness_stats;
SELECT '{"version": 1, "groups": []}'::aisec.fairness_stats;
SELECT '{"version": 1, "groups": [{"group": 1, "cells": []}]}'::aisec.fairness_stats;
SELECT '{"version": 1, "groups": [{"group": "a", "cells": []}]}'::aisec.fairness_stats;
SELECT '{"version": 1, "groups": [{"group": "a", "cells": [{"y_true": true, "y_pred": true, "rows": 1, "weight": -1, "weight_sq": 1}]}]}'::aisec.fairness_stats;
SELECT '{"version": 1, "groups": [{"group": "a", "cells": [{"y_true": true, "y_pred": true, "rows": 1, "weight": 1, "weight_sq": 2}]}]}'::aisec.fairness_stats;
SELECT '{"version": 1, "groups": [{"group": "a", "cells": [{"y_true": true, "y_pred": true, "rows": 1.5, "weight": 1, "weight_sq": 1}]}]}'::aisec.fairness_stats;
SELECT '{"version": 1, "groups": [{"group": "a", "rows": 2, "cells": [{"y_true": true, "y_pred": true, "rows": 1, "weight": 1, "weight_sq": 1}]}]}'::aisec.fairness_stats;
SELECT '{"version": 1, "groups": [{"group": "a", "cells": [{"y_true": "yes", "y_pred": true, "rows": 1, "weight": 1, "weight_sq": 1}]}]}'::aisec.fairness_stats;
SELECT '{"version": 1, "groups": [{"group": "a", "cells": [{"y_true": true, "y_pred": true, "rows": 1, "weight": 1, "weight_sq": 1}, {"y_true": true, "y_pred": true, "rows": 1, "weight": 1, "weight_sq": 1}]}]}'::aisec.fairness_stats;
SELECT '{"version": 1, "groups": [{"group": "a", "cells": [{"y_true": true, "y_pred": true, "rows": 1, "weight": 1, "weight_sq": 1}]}, {"group": "a", "cells": [{"y_true": true, "y_pred": true, "rows": 1, "weight": 1, "weight_sq": 1}]}]}'::aisec.fairness_stats;
SELECT '{"version": 1, "groups": {"group": "a"}}'::aisec.fairness_stats;
SELECT '{"version": 1, "groups": [{"group": "a", "cells": [{"y_true": true, "y_pred": true, "weight": 1, "weight_sq": 1}]}]}'::aisec.fairness_stats;
-- Corrupted binary values (the same checks guard parallel deserialization
-- and fairness_merge): truncated, trailing bytes, unknown version, wrong
-- kind, too many groups announced, a negative count, groups out of order.
SELECT substring(s::bytea FROM 1 FOR 5)::aisec.fairness_stats FROM fl_stats;
SELECT substring(s::bytea FROM 1 FOR 1)::aisec.fairness_stats FROM fl_stats;
SELECT substring(s::bytea FROM 1 FOR 100)::aisec.fairness_stats FROM fl_stats;
SELECT (s::bytea || '\x00'::bytea)::aisec.fairness_stats FROM fl_stats;
SELECT set_byte(s::bytea, 0, 9)::aisec.fairness_stats FROM fl_stats;
SELECT set_byte(s::bytea, 1, 71)::aisec.fairness_stats FROM fl_stats;
SELECT set_byte(s::bytea, 7, 1)::aisec.fairness_stats FROM fl_stats;
SELECT set_byte(s::bytea, 4, 0)::aisec.fairness_stats FROM fl_stats;
SELECT set_byte(s::bytea, 21, 255)::aisec.fairness_stats FROM fl_stats;
SELECT set_byte(s::bytea, 13, 98)::aisec.fairness_stats FROM fl_stats;
SELECT set_byte(s::bytea, 8, 2)::aisec.fairness_stats FROM fl_stats;
SELECT ''::bytea::aisec.fairness_stats;
SELECT aisec.fairness_merge(substring(s::bytea FROM 1 FOR 50)::aisec.fairness_stats) FROM fl_stats;
-- A one-group value cut inside its cells.
SELECT substring(aisec.fairness(repeat('x', 300), true, true)::bytea FROM 1 FOR 400)::aisec.fairness_stats;

-- Privileges: nothing in aisec is executable by PUBLIC (but the row
-- trigger condition capture_row_needed, see privileges.sql); the
-- governance roles compute statistics.
SELECT p.oid::regprocedure
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'aisec' AND has_function_privilege('public', p.oid, 'EXECUTE')
ORDER BY p.oid::regprocedure::text;
CREATE ROLE regress_fair_engineer IN ROLE aisec_engineer;
CREATE ROLE regress_fair_nobody;
GRANT SELECT ON fl TO regress_fair_engineer, regress_fair_nobody;
SET ROLE regress_fair_engineer;
SELECT aisec.demographic_parity_difference(aisec.fairness(sf, y_true, y_pred)) FROM fl;
SET ROLE regress_fair_nobody;
SELECT aisec.fairness(sf, y_true, y_pred) FROM fl;
RESET ROLE;
REVOKE ALL ON fl FROM regress_fair_engineer, regress_fair_nobody;
DROP ROLE regress_fair_engineer, regress_fair_nobody;
