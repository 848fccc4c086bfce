-- versioning_values: diff forms its before/after jsonb exactly as
-- to_jsonb(row) does, for every kind of value: numbers (NaN, infinities,
-- big and negative ones), text with quotes, escapes and non-ASCII, padded
-- char, dates and times (infinite ones too), booleans and NULLs; and, for
-- tables with other column types, through to_jsonb itself.
SET client_min_messages = warning;
SET TimeZone = 'America/New_York';
CREATE TABLE vv_fast (
    id bigint PRIMARY KEY, i2 smallint, i4 integer, n numeric, n2 numeric(12,2),
    t text, vc varchar(20), c char(5), d date, ts timestamp, tz timestamptz, b boolean
);
INSERT INTO vv_fast VALUES
 (1, -32768, 2147483647, 'NaN', 0.00, E'quote " backslash \\ tab \t', 'ünïcødé', 'ab', '2025-01-02', '2025-01-02 03:04:05.678', '2025-01-02 03:04:05+00', true),
 (2, 0, -1, 'Infinity', -1234567890.12, '', 'x', NULL, 'infinity', '-infinity', 'infinity', false),
 (3, NULL, NULL, '-Infinity', NULL, NULL, NULL, 'abcde', '-infinity', 'infinity', '1999-12-31 23:59:59.999999-08', NULL),
 (4, 7, 42, 123456789012345678901234567890.123456789, 1e9, repeat('long ', 1000), '', ' ', '0001-01-01 BC', '2000-02-29 00:00', '2038-01-19 03:14:08+00', true),
 (5, NULL, NULL, -0.000001, 5, '{"json": "looking"}', NULL, NULL, NULL, NULL, NULL, NULL);
SELECT aisec.track('vv_fast') > 0 AS tracked;
CREATE TABLE vv_other (id bigint PRIMARY KEY, f float8, arr int[], j jsonb, nm name);
INSERT INTO vv_other VALUES
 (1, 'NaN', '{1,2}', '{"a": [1, 2]}', 'n1'), (2, 1.5e300, '{}', 'null', 'n2'), (3, -0.1, NULL, NULL, NULL);
SELECT aisec.track('vv_other') > 0 AS tracked;
SELECT aisec.create_dataset('vv_set', ARRAY['vv_fast'::regclass, 'vv_other'::regclass]) > 0 AS created;
SELECT aisec.commit('vv_set', 'values');

-- Every row is "added" between version 0 and 1, and its jsonb is to_jsonb's
-- without aisec_rid, matched by row id or by key.
SELECT d.change, count(*), bool_and(d.after::text = (to_jsonb(r) - 'aisec_rid')::text) AS same_text,
       bool_and(d.after = to_jsonb(r) - 'aisec_rid') AS same_jsonb
FROM aisec.diff('vv_fast', 0, 1) d JOIN vv_fast r ON r.aisec_rid = d.rid GROUP BY 1;
SELECT d.change, count(*), bool_and(d.after::text = (to_jsonb(r) - 'aisec_rid')::text) AS same_text
FROM aisec.diff('vv_other', 0, 1) d JOIN vv_other r ON r.aisec_rid = d.rid GROUP BY 1;
SELECT d.change, count(*), bool_and(d.after::text = (to_jsonb(r) - 'aisec_rid')::text) AS same_text
FROM aisec.diff('vv_fast', 0, 1, ARRAY['id']) d JOIN vv_fast r ON r.aisec_rid = d.rid GROUP BY 1;
SELECT d.change, count(*), bool_and(d.after::text = (to_jsonb(r) - 'aisec_rid')::text) AS same_text
FROM aisec.diff('vv_other', 0, 1, ARRAY['f', 'nm']) d JOIN vv_other r ON r.aisec_rid = d.rid GROUP BY 1;
-- Keyed by every fast column at once (row 1 holds no NULL): matched with
-- itself, the table is unchanged.
SELECT count(*) FROM aisec.diff('vv_fast', 1, 1, ARRAY['id', 'i2', 'i4', 'n', 'n2', 't', 'vc', 'c', 'd', 'ts', 'tz', 'b']);
-- The same the other way round (before, removed), and for changed rows.
UPDATE vv_fast SET n = n, t = coalesce(t, '') || '!' WHERE id IN (1, 3);
SELECT aisec.commit('vv_set', 'changed');
SELECT change, before->>'id' AS id, before->>'t' AS t_before, after->>'t' AS t_after,
       before->'n' AS n, before->'d' AS d, before->'tz' AS tz
FROM aisec.diff('vv_fast', 1, 2) ORDER BY rid;
SELECT change, before->>'id' AS id, after->>'t' AS t_after
FROM aisec.diff('vv_fast', 1, 2, ARRAY['id', 'n', 'ts']) ORDER BY rid;
SELECT count(*), bool_and(d.before::text = (to_jsonb(r) - 'aisec_rid')::text) AS same_text
FROM aisec.diff('vv_fast', 1, 0) d JOIN aisec.checkout(NULL::vv_fast, 1) r ON r.aisec_rid = d.rid;
SELECT count(*), bool_and(d.before::text = (to_jsonb(r) - 'aisec_rid')::text) AS same_text
FROM aisec.diff('vv_fast', 1, 0, ARRAY['id']) d JOIN aisec.checkout(NULL::vv_fast, 1) r ON r.aisec_rid = d.rid;
RESET TimeZone;
