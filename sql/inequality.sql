-- Inequality indices of individual benefit, b = y_pred - y_true + 1 (AIF360
-- definitions): aisec.generalized_entropy_index(y_true, y_pred, alpha) and
-- aisec.theil_index(y_true, y_pred).

-- AIF360's unit tests (tests/test_classification_metric.py in
-- Trusted-AI/AIF360): labels 1,0,0,1,0,0,1,0,1,1 and predictions
-- 1,0,0,0,1,1,1,0,1,0 give generalized_entropy_index() (alpha = 2) = 0.2 and
-- theil_index() = 4 ln 2 / 10 = 0.2772588722239781; predictions
-- 0,1,1,0,0,0,0,1,1,1 give GE(2) = 0.3.
CREATE TABLE ge (i int, y boolean, p1 boolean, p2 boolean);
INSERT INTO ge
SELECT i, (ARRAY[1,0,0,1,0,0,1,0,1,1])[i]::boolean,
          (ARRAY[1,0,0,0,1,1,1,0,1,0])[i]::boolean,
          (ARRAY[0,1,1,0,0,0,0,1,1,1])[i]::boolean
FROM generate_series(1, 10) i;
SELECT round(aisec.generalized_entropy_index(y, p1, 2)::numeric, 14) AS ge2_first,
       round(aisec.generalized_entropy_index(y, p2, 2)::numeric, 14) AS ge2_second,
       round(aisec.theil_index(y, p1)::numeric, 14) AS theil,
       round((4 * ln(2) / 10)::numeric, 14) AS theil_reference
FROM ge;

-- Hand-checked: b = 0, 1, 2 once each, mean 1.
-- GE(2) = ((0-1) + (1-1) + (4-1)) / (3 * 2 * 1) = 1/3; GE(1) = (2 ln 2) / 3;
-- GE(0) = infinity (a zero benefit), as AIF360; GE(0.5): sum(sqrt(b) - 1)
-- / (3 * 0.5 * -0.5) = (-1 + 0 + (sqrt 2 - 1)) / -0.75.
CREATE TABLE b3 (y boolean, p boolean);
INSERT INTO b3 VALUES (true, false), (true, true), (false, true);
SELECT aisec.generalized_entropy_index(y, p, 2) AS ge2,
       round(aisec.generalized_entropy_index(y, p, 1)::numeric, 14) AS ge1,
       round((2 * ln(2) / 3)::numeric, 14) AS ge1_reference,
       aisec.generalized_entropy_index(y, p, 0) AS ge0,
       round(aisec.generalized_entropy_index(y, p, 0.5)::numeric, 14) AS ge_half,
       round(((-1 + sqrt(2) - 1) / -0.75)::numeric, 14) AS ge_half_reference,
       aisec.generalized_entropy_index(y, p, -1) AS ge_negative
FROM b3;

-- Perfect predictions: every b = 1, no inequality.
SELECT aisec.generalized_entropy_index(y, y, 2) AS ge2, aisec.theil_index(y, y) AS theil FROM ge;

-- Rows with a NULL label are skipped; empty input and a zero mean benefit
-- (every row a false negative) give NULL.
SELECT aisec.theil_index(y, p) FROM (VALUES (true, NULL::boolean), (NULL, true)) v(y, p);
SELECT aisec.theil_index(y, p1) FROM ge WHERE false;
SELECT aisec.generalized_entropy_index(true, false, 2) FROM ge;
SELECT round(aisec.theil_index(y, p)::numeric, 14) AS with_nulls
FROM (SELECT y, p1 AS p FROM ge UNION ALL SELECT NULL, true UNION ALL SELECT false, NULL) q;

-- alpha must be finite, not NULL, and the same on every row.
SELECT aisec.generalized_entropy_index(y, p1, NULL) FROM ge;
SELECT aisec.generalized_entropy_index(y, p1, 'Infinity') FROM ge;
SELECT aisec.generalized_entropy_index(y, p1, i) FROM ge;
