-- versions_diff: aisec.diff() and aisec.diff_summary(), rows matched by
-- row id (key NULL) or by the values of key columns.  Row ids print as n,
-- their part below the table number (rid & (2^40 - 1)): the rows there
-- when a table is tracked get 1, 2, ...; rows inserted later 1001, 1002,
-- ... (a new block of the identity sequence's 1000 cached ids).
SET client_min_messages = warning;
CREATE ROLE vd_adm IN ROLE aisec_admin;
CREATE ROLE vd_eng IN ROLE aisec_engineer;
CREATE ROLE vd_dpo IN ROLE aisec_dpo;
CREATE ROLE vd_nobody;

--
-- 1. A person table, no primary key (so that a later version can hold a
--    repeated id).  v1 has four people; v2: ann deleted and inserted again
--    with the same content, bob's score changed, cy's id changed (the key),
--    eve added.
--
CREATE TABLE vd (id int, name text, city text, score numeric);
INSERT INTO vd VALUES (1, 'ann', 'oslo', 10), (2, 'bob', 'rome', 20),
                      (3, 'cy', 'oslo', 30), (4, 'dee', NULL, 40);
SELECT aisec.track('vd') > 0 AS tracked;
SELECT aisec.create_dataset('vd_set', ARRAY['vd'::regclass]) > 0 AS created;
SELECT aisec.commit('vd_set', 'v1');
DELETE FROM vd WHERE id = 1;
INSERT INTO vd VALUES (1, 'ann', 'oslo', 10);     -- n = 1001
UPDATE vd SET score = 25 WHERE id = 2;
UPDATE vd SET id = 30 WHERE id = 3;
INSERT INTO vd VALUES (5, 'eve', 'paris', 50);    -- n = 1002
SELECT aisec.commit('vd_set', 'v2');

-- By row id: ann's old row removed (n 1) and her new one added (n 1001), bob
-- and cy changed, eve added.  before and after leave out aisec_rid.
SELECT change, rid & 1099511627775 AS n, before, after
FROM aisec.diff('vd', 1, 2) ORDER BY rid, change;
-- By id: ann is unchanged; bob changed; cy's id changed, so id 3 was
-- removed and id 30 added (both under cy's row id, n 3: a removed row by
-- its id in from_version, an added one by its id in to_version); eve
-- added.
SELECT change, rid & 1099511627775 AS n, before, after
FROM aisec.diff('vd', 1, 2, ARRAY['id']) ORDER BY rid, change;
-- The same key by name and city: cy is only changed (its key kept).
SELECT change, rid & 1099511627775 AS n, before ->> 'id' AS id_before, after ->> 'id' AS id_after
FROM aisec.diff('vd', 1, 2, ARRAY['name', 'city']) ORDER BY rid, change;
-- from > to: before is still the row at from_version; added and removed
-- swap; a changed row is reported under its id in to_version.
SELECT change, rid & 1099511627775 AS n, before ->> 'id' AS id_before, after ->> 'id' AS id_after
FROM aisec.diff('vd', 2, 1, ARRAY['id']) ORDER BY rid, change;
SELECT change, rid & 1099511627775 AS n FROM aisec.diff('vd', 2, 1) ORDER BY rid, change;
-- Version 0 is the empty version: every row added (or removed).
SELECT change, count(*) FROM aisec.diff('vd', 0, 2, ARRAY['id']) GROUP BY 1;
SELECT change, count(*) FROM aisec.diff('vd', 2, 0, ARRAY['id']) GROUP BY 1;
-- Equal versions: nothing.
SELECT count(*) FROM aisec.diff('vd', 2, 2, ARRAY['id']);
-- The rid of an added or changed row names the row in to_version.
SELECT d.change, c.id, c.name FROM aisec.diff('vd', 1, 2, ARRAY['id']) d
JOIN aisec.checkout(NULL::vd, 2) c ON c.aisec_rid = d.rid
WHERE d.change <> 'removed' ORDER BY c.id;

-- diff_summary: first the rows ("column" NULL), then per column, in column
-- order, the changed rows whose value in it differs and the added and
-- removed rows with a value in it.
-- By row id, v1 -> v2: changed 2 (bob: score; cy: id), added 2 (ann n 1001,
-- eve), removed 1 (ann n 1).
SELECT * FROM aisec.diff_summary('vd', 1, 2);
-- By id: changed 1 (bob: score), added 2 (id 30 with every column; eve),
-- removed 1 (id 3).
SELECT * FROM aisec.diff_summary('vd', 1, 2, ARRAY['id']);
-- Reversed: added and removed swap.
SELECT * FROM aisec.diff_summary('vd', 2, 1, ARRAY['id']);
-- From version 0: every row of v1 added; dee has no city (3 of 4).
SELECT * FROM aisec.diff_summary('vd', 0, 1, ARRAY['id']);
SELECT * FROM aisec.diff_summary('vd', 1, 1, ARRAY['id']);

--
-- 2. A key that is not unique in a version is refused, naming the version
--    and the key columns, never the values.  v3 gets a second id 2.
--
INSERT INTO vd VALUES (2, 'bob''s twin', 'rome', 1);
SELECT aisec.commit('vd_set', 'v3');
SELECT * FROM aisec.diff('vd', 2, 3, ARRAY['id']);
SELECT * FROM aisec.diff('vd', 3, 1, ARRAY['id']);
SELECT * FROM aisec.diff_summary('vd', 2, 3, ARRAY['id']);
-- city repeats in v1 already (two in oslo).
SELECT * FROM aisec.diff('vd', 0, 1, ARRAY['city']);
-- Versions where the key is unique still diff; by row id, v3 is fine.
SELECT change, rid & 1099511627775 AS n FROM aisec.diff('vd', 1, 2, ARRAY['id', 'name']) ORDER BY rid, change;
SELECT change, after ->> 'name' AS name FROM aisec.diff('vd', 2, 3);
SELECT change, after ->> 'name' AS name FROM aisec.diff('vd', 2, 3, ARRAY['id', 'name']);

--
-- 3. Composite keys and NULL keys.  NULL equals nothing: a row with a NULL
--    in its key is matched by row id only (with its own record in the
--    other version), and it never makes a key repeat.
--
CREATE TABLE vd_pair (a text, b int, v text);
INSERT INTO vd_pair VALUES ('x', 1, 'one'), ('x', 2, 'two'), ('y', 1, 'three'),
                           ('y', NULL, 'null b'), (NULL, NULL, 'both null');
SELECT aisec.track('vd_pair') > 0 AS tracked;
SELECT aisec.create_dataset('vd_pairs', ARRAY['vd_pair'::regclass]) > 0 AS created;
SELECT aisec.commit('vd_pairs', 'v1');
UPDATE vd_pair SET v = 'TWO' WHERE a = 'x' AND b = 2;                 -- changed
DELETE FROM vd_pair WHERE a = 'y' AND b = 1;
INSERT INTO vd_pair VALUES ('y', 1, 'three');                         -- same content: nothing
UPDATE vd_pair SET v = 'null b!' WHERE a = 'y' AND b IS NULL;         -- changed (by row id)
DELETE FROM vd_pair WHERE a IS NULL;
INSERT INTO vd_pair VALUES (NULL, NULL, 'both null');                 -- removed and added
INSERT INTO vd_pair VALUES ('x', 3, 'new'), ('y', NULL, 'second null b');  -- added
SELECT aisec.commit('vd_pairs', 'v2');
SELECT change, before, after FROM aisec.diff('vd_pair', 1, 2, ARRAY['a', 'b'])
ORDER BY change, coalesce(after, before) ->> 'v';
-- Counts: rows changed 2, added 3, removed 1; a: 2 added rows have one
-- (x 3, y NULL), b: 1 (x 3); v: 2 changed, in every added and removed row.
SELECT * FROM aisec.diff_summary('vd_pair', 1, 2, ARRAY['a', 'b']);
-- The key order does not matter.
SELECT change, count(*) FROM aisec.diff('vd_pair', 1, 2, ARRAY['b', 'a']) GROUP BY 1 ORDER BY 1;
-- a alone repeats ('x' twice in v1).
SELECT * FROM aisec.diff('vd_pair', 1, 2, ARRAY['a']);
-- b alone: 1 repeats.
SELECT * FROM aisec.diff('vd_pair', 1, 2, ARRAY['b']);
-- v is unique in both versions: matched by content, the rows whose v
-- changed are removed and added (two and null b; TWO, null b!, new and
-- second null b).
SELECT change, before ->> 'v' AS v_before, after ->> 'v' AS v_after
FROM aisec.diff('vd_pair', 1, 2, ARRAY['v']) ORDER BY 1, 2, 3;

--
-- 4. Keys are compared as SQL compares them, with the columns' types and
--    collations; a row's other values compare by their binary images.
--    numeric 1.0 = 1.00 (same key, changed value); NaN = NaN for numeric
--    and float8; -0 = 0 for float8; dates, timestamps, booleans, arrays,
--    jsonb and name keys.
--
CREATE TABLE vd_types (n numeric, f float8, d date, tz timestamptz, b boolean,
                       arr int[], j jsonb, nm name, c char(3), t text);
INSERT INTO vd_types VALUES
 (1.0, 0, '2025-01-01', '2025-01-01 00:00+00', true, '{1,2}', '{"a": 1}', 'n1', 'ab', 'x'),
 ('NaN', 'NaN', 'infinity', '-infinity', false, '{}', '[]', 'n2', 'c', 'y'),
 (-5, -1.5, '2000-02-29', '2000-02-29 12:00+00', NULL, NULL, 'null', 'n3', NULL, 'z');
SELECT aisec.track('vd_types') > 0 AS tracked;
SELECT aisec.create_dataset('vd_typeset', ARRAY['vd_types'::regclass]) > 0 AS created;
SELECT aisec.commit('vd_typeset', 'v1');
UPDATE vd_types SET n = 1.00, f = '-0', t = 'x!' WHERE t = 'x';
DELETE FROM vd_types WHERE t = 'y';
INSERT INTO vd_types VALUES ('NaN', 'NaN', 'infinity', '-infinity', false, '{}', '[]', 'n2', 'c', 'y');
SELECT aisec.commit('vd_typeset', 'v2');
-- Keyed by n: 1.0 and 1.00 match, and the row changed (n's digits, f's
-- sign, which to_jsonb does not show: it writes -0 as 0, and t); NaN
-- matches NaN, and the row deleted and inserted again is unchanged.
SELECT change, before ->> 'n' AS n_before, after ->> 'n' AS n_after,
       before ->> 'f' AS f_before, after ->> 'f' AS f_after, after ->> 't' AS t
FROM aisec.diff('vd_types', 1, 2, ARRAY['n']);
SELECT change, after ->> 't' AS t FROM aisec.diff('vd_types', 1, 2, ARRAY['f']);
SELECT change, after ->> 't' AS t FROM aisec.diff('vd_types', 1, 2, ARRAY['d', 'tz', 'b', 'arr', 'j', 'nm', 'c']);
SELECT * FROM aisec.diff_summary('vd_types', 1, 2, ARRAY['nm']);
-- Matched by row id, the NaN row is removed and added.
SELECT change, after ->> 't' AS t FROM aisec.diff('vd_types', 1, 2) ORDER BY rid;
-- before and after are to_jsonb(row) without aisec_rid, by key as by row id.
SELECT d.change, bool_and(d.after = to_jsonb(r) - 'aisec_rid') AS same_jsonb,
       bool_and(d.after::text = (to_jsonb(r) - 'aisec_rid')::text) AS same_text, count(*)
FROM aisec.diff('vd_types', 0, 2, ARRAY['nm']) d JOIN aisec.checkout(NULL::vd_types, 2) r ON r.aisec_rid = d.rid
GROUP BY 1;
SELECT d.change, bool_and(d.before = to_jsonb(r) - 'aisec_rid') AS same_jsonb, count(*)
FROM aisec.diff('vd_types', 1, 0) d JOIN aisec.checkout(NULL::vd_types, 1) r ON r.aisec_rid = d.rid
GROUP BY 1;
-- A type without a hash operator class cannot be a key.
CREATE TABLE vd_geo (id int, p point);
INSERT INTO vd_geo VALUES (1, '(1,2)');
SELECT aisec.track('vd_geo') > 0 AS tracked;
SELECT aisec.create_dataset('vd_geoset', ARRAY['vd_geo'::regclass]) > 0 AS created;
SELECT aisec.commit('vd_geoset', 'v1');
SELECT * FROM aisec.diff('vd_geo', 0, 1, ARRAY['p']);
SELECT change, after FROM aisec.diff('vd_geo', 0, 1, ARRAY['id']);

--
-- 5. Bad keys and versions: each refused with its SQLSTATE, naming the
--    column (in double quotes, a quote inside doubled, at most 63 bytes).
--
SELECT * FROM aisec.diff('vd', 1, 2, ARRAY[]::text[]);
SELECT * FROM aisec.diff('vd', 1, 2, ARRAY['nosuch']);
SELECT * FROM aisec.diff('vd', 1, 2, ARRAY['id', 'name', 'id']);
SELECT * FROM aisec.diff('vd', 1, 2, ARRAY['aisec_rid']);
SELECT * FROM aisec.diff('vd', 1, 2, ARRAY['id', NULL]);
SELECT * FROM aisec.diff('vd', 1, 2, ARRAY[['id'], ['name']]);
SELECT * FROM aisec.diff('vd', 1, 2, ARRAY['ID']);
SELECT * FROM aisec.diff('vd', 1, 2, ARRAY[E'no"such\ncolumn']);
SELECT * FROM aisec.diff('vd', 1, 2, ARRAY[repeat('é', 100)]);
SELECT * FROM aisec.diff_summary('vd', 1, 2, ARRAY['nosuch']);
-- Versions: unknown, negative, NULL; the table must be tracked and in a
-- dataset.
SELECT * FROM aisec.diff('vd', 1, 9, ARRAY['id']);
SELECT * FROM aisec.diff('vd', -1, 1, ARRAY['id']);
SELECT * FROM aisec.diff_summary('vd', 1, 9);
SELECT * FROM aisec.diff('vd', NULL, 1, ARRAY['id']);
SELECT * FROM aisec.diff_summary(NULL, 1, 2);
CREATE TABLE vd_plain (id int);
SELECT * FROM aisec.diff('vd_plain', 0, 1, ARRAY['id']);
SELECT * FROM aisec.diff_summary('vd_plain', 0, 1);
-- The SQLSTATE of each.
CREATE FUNCTION pg_temp.sqlstate(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;
SELECT q, pg_temp.sqlstate(q) FROM (VALUES
    ($$SELECT aisec.diff('vd', 1, 2, ARRAY[]::text[])$$),
    ($$SELECT aisec.diff('vd', 1, 2, ARRAY['nosuch'])$$),
    ($$SELECT aisec.diff('vd', 1, 2, ARRAY['id', 'id'])$$),
    ($$SELECT aisec.diff('vd', 1, 2, ARRAY['aisec_rid'])$$),
    ($$SELECT aisec.diff('vd', 1, 2, ARRAY[NULL])$$),
    ($$SELECT aisec.diff('vd', 1, 2, ARRAY[['id']])$$),
    ($$SELECT aisec.diff('vd', 2, 3, ARRAY['id'])$$),
    ($$SELECT aisec.diff('vd_geo', 0, 1, ARRAY['p'])$$),
    ($$SELECT aisec.diff('vd', 1, 9, ARRAY['id'])$$),
    ($$SELECT aisec.diff('vd', NULL, 1)$$),
    ($$SELECT aisec.diff_summary('vd_plain', 0, 1)$$)) t(q);

--
-- 6. Hostile column names: quotes, spaces, unicode, SQL.
--
CREATE TABLE vd_names ("we""ird" int, "with space" text, "ünïcødé" text, "); DROP TABLE vd; --" int);
INSERT INTO vd_names VALUES (1, 'a', 'ä', 1), (2, 'b', 'ö', 2);
SELECT aisec.track('vd_names') > 0 AS tracked;
SELECT aisec.create_dataset('vd_nameset', ARRAY['vd_names'::regclass]) > 0 AS created;
SELECT aisec.commit('vd_nameset', 'v1');
DELETE FROM vd_names WHERE "we""ird" = 1;
INSERT INTO vd_names VALUES (1, 'a', 'ä', 1);
UPDATE vd_names SET "ünïcødé" = 'ü' WHERE "we""ird" = 2;
SELECT aisec.commit('vd_nameset', 'v2');
SELECT change, before, after FROM aisec.diff('vd_names', 1, 2, ARRAY['we"ird', 'with space']);
SELECT change, count(*) FROM aisec.diff('vd_names', 1, 2, ARRAY['ünïcødé']) GROUP BY 1 ORDER BY 1;
SELECT change, count(*) FROM aisec.diff('vd_names', 1, 2, ARRAY['); DROP TABLE vd; --']) GROUP BY 1 ORDER BY 1;
SELECT * FROM aisec.diff_summary('vd_names', 1, 2, ARRAY['we"ird']);
SELECT * FROM aisec.diff('vd_names', 1, 2, ARRAY['we"ird', 'we"ird']);
SELECT * FROM aisec.diff('vd_names', 1, 2, ARRAY['we"ird"']);
SELECT * FROM aisec.diff('vd_names', 0, 1, ARRAY['we"ird', 'with space', 'ünïcødé']) WHERE false;
SELECT to_regclass('vd') IS NOT NULL AS vd_still_there;

--
-- 7. Roles and row-level security: the same checks as checkout.  Roles
--    without admin or engineer, a role without SELECT on the table, and a
--    role the table's row-level security applies to are refused, keyed or
--    not, diff and diff_summary alike.
--
GRANT SELECT ON vd TO vd_eng, vd_dpo, vd_nobody;
SET ROLE vd_nobody;
SELECT * FROM aisec.diff('vd', 1, 2, ARRAY['id']);
SELECT * FROM aisec.diff_summary('vd', 1, 2);
RESET ROLE;
SET ROLE vd_dpo;
SELECT * FROM aisec.diff('vd', 1, 2, ARRAY['id']);
SELECT * FROM aisec.diff_summary('vd', 1, 2, ARRAY['id']);
RESET ROLE;
SET ROLE vd_adm;                                  -- no SELECT on vd
SELECT * FROM aisec.diff('vd', 1, 2, ARRAY['id']);
SELECT * FROM aisec.diff_summary('vd', 1, 2, ARRAY['id']);
RESET ROLE;
SET ROLE vd_eng;
SELECT change, count(*) FROM aisec.diff('vd', 1, 2, ARRAY['id']) GROUP BY 1 ORDER BY 1;
SELECT "column", changed FROM aisec.diff_summary('vd', 1, 2, ARRAY['id']) WHERE "column" = 'score';
RESET ROLE;
-- Row-level security that applies to vd_eng: refused, even with a key
-- and a policy that would show every row.
ALTER TABLE vd ENABLE ROW LEVEL SECURITY;
CREATE POLICY vd_all ON vd FOR SELECT USING (true);
SET ROLE vd_eng;
SELECT count(*) FROM vd;
SELECT * FROM aisec.diff('vd', 1, 2, ARRAY['id']);
SELECT * FROM aisec.diff_summary('vd', 1, 2, ARRAY['id']);
SELECT * FROM aisec.diff('vd', 1, 2);
RESET ROLE;
-- The key is checked after the caller: a refused role learns nothing of
-- the columns.
SET ROLE vd_eng;
SELECT * FROM aisec.diff('vd', 1, 2, ARRAY['secret_column']);
RESET ROLE;
ALTER TABLE vd DISABLE ROW LEVEL SECURITY;
DROP POLICY vd_all ON vd;

-- The functions' grants: admin and engineer, never PUBLIC.
SELECT p.oid::regprocedure AS function, array_agg(a.grantee::regrole::text ORDER BY a.grantee::regrole::text) AS grantees
FROM pg_proc p CROSS JOIN LATERAL aclexplode(p.proacl) a
WHERE p.oid IN ('aisec.diff(regclass, bigint, bigint, text[])'::regprocedure,
                'aisec.diff_summary(regclass, bigint, bigint, text[])'::regprocedure)
  AND a.grantee <> p.proowner
GROUP BY 1 ORDER BY 1;

--
-- 8. A column added after a version: rows recorded before it hold no value
--    in it (NULL), so a row not updated since is unchanged; a key on the
--    new column is NULL in every older row, which is matched by row id.
--
ALTER TABLE vd_pair ADD COLUMN note text;
UPDATE vd_pair SET note = 'noted' WHERE v = 'new';
SELECT aisec.commit('vd_pairs', 'v3');
SELECT change, before, after FROM aisec.diff('vd_pair', 2, 3, ARRAY['a', 'b']);
-- Keyed by note: the row that got one is removed (its NULL key matched by
-- row id, and its record in v3 has a key) and added (key 'noted').
SELECT change, before ->> 'v' AS v_before, after ->> 'v' AS v_after
FROM aisec.diff('vd_pair', 2, 3, ARRAY['note']) ORDER BY 1;
SELECT * FROM aisec.diff_summary('vd_pair', 2, 3);

REVOKE ALL ON vd FROM vd_eng, vd_dpo, vd_nobody;
DROP ROLE vd_adm, vd_eng, vd_dpo, vd_nobody;
