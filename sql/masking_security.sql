-- masking_security: replays of the vulnerability classes that have hit
-- PostgreSQL masking extensions.  Every one must fail safely.
CREATE ROLE regress_sec_admin NOLOGIN IN ROLE aisec_admin;
CREATE ROLE regress_sec_reader NOLOGIN;
CREATE TABLE sec_victim (a int);
INSERT INTO sec_victim VALUES (1);
CREATE TABLE sec_people (email text, ssn text, salary int, city text);
INSERT INTO sec_people VALUES ('jane.doe@example.com', '123-45-6789', 52000, 'Paris'),
                              ('john.roe@example.org', '987-65-4321', 61000, 'Lyon');
GRANT SELECT ON sec_people TO regress_sec_reader;
ALTER TABLE sec_people OWNER TO regress_sec_admin;
ANALYZE sec_people;
SET ROLE regress_sec_admin;
SELECT aisec.create_key('sec_key', 'hmac');
SELECT aisec.set_mask('sec_people', 'email', 'email');
SELECT aisec.set_mask('sec_people', 'ssn', 'digits(4)');
SELECT aisec.set_mask('sec_people', 'salary', 'generalize(10000)');
SELECT aisec.mask_role('regress_sec_reader');
RESET ROLE;

-- 1. SQL injection through rules: quotes, semicolons, comments, dollar
-- quotes, newlines.  Rules are parsed, not executed: all refused.
SET ROLE regress_sec_admin;
SELECT aisec.set_mask('sec_people', 'city', 'email; DROP TABLE sec_victim');
SELECT aisec.set_mask('sec_people', 'city', 'partial(1,1,''x''); DROP TABLE sec_victim; --');
SELECT aisec.set_mask('sec_people', 'city', 'partial(1,1) -- comment');
SELECT aisec.set_mask('sec_people', 'city', 'partial(1,1) /* x */');
SELECT aisec.set_mask('sec_people', 'city', E'email\n; DROP TABLE sec_victim');
SELECT aisec.set_mask('sec_people', 'city', 'pseudonym($$sec_key$$)');
SELECT aisec.set_mask('sec_people', 'city', 'pseudonym(sec_key''); DROP TABLE sec_victim; --)');
SELECT aisec.set_mask('sec_people', 'city', 'pg_catalog.lower');
SELECT aisec.set_mask('sec_people', 'city', 'partial(1, 1, E''\x27'')');
-- A pad full of SQL metacharacters is just a pad: quoted as a literal.
SELECT aisec.set_mask('sec_people', 'city', $r$partial(1, 0, '''; DROP TABLE sec_victim; --$$')$r$);
SELECT city FROM aisec_masked.sec_people ORDER BY city;
SELECT aisec.drop_mask('sec_people', 'city');
RESET ROLE;
SELECT count(*) AS victim_still_there FROM sec_victim;

-- 2. SQL injection through table and column names.
CREATE TABLE "evil'; DROP TABLE sec_victim; --" ("e""mail; $$x$$
" text, "Robert'); DROP TABLE sec_victim;--" text, "AISEC class size" int);
INSERT INTO "evil'; DROP TABLE sec_victim; --" VALUES ('jane.doe@example.com', 'Robert', 1);
ALTER TABLE "evil'; DROP TABLE sec_victim; --" OWNER TO regress_sec_admin;
SET ROLE regress_sec_admin;
SELECT aisec.set_mask('"evil''; DROP TABLE sec_victim; --"', E'e"mail; $$x$$\n', 'email');
SELECT aisec.set_mask('"evil''; DROP TABLE sec_victim; --"', 'Robert''); DROP TABLE sec_victim;--', 'partial(1, 0)');
SELECT * FROM aisec_masked."evil'; DROP TABLE sec_victim; --";
SELECT "column", rule FROM aisec.masks WHERE relation = '"evil''; DROP TABLE sec_victim; --"'::regclass ORDER BY 2;
RESET ROLE;
SELECT aisec.k_anonymity('"evil''; DROP TABLE sec_victim; --"', ARRAY['Robert''); DROP TABLE sec_victim;--']);
SELECT * FROM aisec.export_masked('"evil''; DROP TABLE sec_victim; --"', 'evil"copy; DROP TABLE sec_victim',
                                  1, ARRAY['AISEC class size']);
SELECT * FROM "evil""copy; DROP TABLE sec_victim";
SELECT count(*) AS victim_still_there FROM sec_victim;

-- 3. Functions and operators planted in public or pg_temp do not hijack
-- aisec's generated or internal SQL, even first on the search_path.
CREATE FUNCTION public.mask_email(text) RETURNS text LANGUAGE plpgsql AS
  $$BEGIN RAISE NOTICE 'hijacked mask_email'; RETURN $1; END$$;
CREATE FUNCTION pg_temp.mask_email(text) RETURNS text LANGUAGE plpgsql AS
  $$BEGIN RAISE NOTICE 'hijacked pg_temp.mask_email'; RETURN $1; END$$;
CREATE FUNCTION public.evil_eq(text, text) RETURNS boolean LANGUAGE plpgsql AS
  $$BEGIN RAISE NOTICE 'hijacked ='; RETURN true; END$$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.evil_eq);
CREATE FUNCTION public.evil_oideq(oid, oid) RETURNS boolean LANGUAGE plpgsql AS
  $$BEGIN RAISE NOTICE 'hijacked oid ='; RETURN true; END$$;
CREATE OPERATOR public.= (LEFTARG = oid, RIGHTARG = oid, FUNCTION = public.evil_oideq);
CREATE FUNCTION public.count(anyelement) RETURNS bigint LANGUAGE plpgsql AS
  $$BEGIN RAISE NOTICE 'hijacked count'; RETURN 0; END$$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO PUBLIC;
SET search_path = pg_temp, public, pg_catalog;
SET ROLE regress_sec_admin;
SELECT aisec.masked_view('sec_people');
SELECT aisec.set_mask('sec_people', 'city', 'partial(1, 0)');
SELECT aisec.drop_mask('sec_people', 'city');
SELECT aisec.create_key('sec_key2', 'hmac');
SELECT aisec.drop_key('sec_key2');
RESET ROLE;
SELECT aisec.k_anonymity('sec_people', ARRAY['city']);
SELECT email FROM aisec_masked.sec_people ORDER BY 1;
SET ROLE regress_sec_reader;
SELECT email FROM aisec_masked.sec_people ORDER BY 1;
RESET ROLE;
RESET search_path;
DROP OPERATOR public.= (text, text);
DROP OPERATOR public.= (oid, oid);
DROP FUNCTION public.mask_email(text), pg_temp.mask_email(text), public.evil_eq(text, text),
              public.evil_oideq(oid, oid), public.count(anyelement);

-- 4. A masked role cannot read raw values of masked columns, by any path.
SET ROLE regress_sec_reader;
-- the base table
SELECT * FROM sec_people;
-- pg_stats: statistics are shown only for columns one may SELECT
SELECT count(*) AS stats_rows_visible FROM pg_stats WHERE tablename = 'sec_people';
-- EXPLAIN of the base table needs SELECT on it
EXPLAIN (COSTS OFF) SELECT * FROM sec_people WHERE email = 'jane.doe@example.com';
-- EXPLAIN of the view shows the masking, never data
EXPLAIN (COSTS OFF, VERBOSE) SELECT email FROM aisec_masked.sec_people WHERE email = 'jane.doe@example.com';
-- predicates see masked values only
SELECT count(*) AS raw_match FROM aisec_masked.sec_people WHERE email = 'jane.doe@example.com';
SELECT count(*) AS raw_prefix_match FROM aisec_masked.sec_people WHERE email LIKE 'jane%';
-- error messages carry masked values only
SELECT ssn::int FROM aisec_masked.sec_people;
SELECT email::date FROM aisec_masked.sec_people;
-- the role's own functions and operators see masked values only, even
-- when cheap enough to be pushed down
CREATE FUNCTION pg_temp.leak(text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS
  $$BEGIN RAISE NOTICE 'leak saw %', $1; RETURN true; END$$;
SELECT count(*) FROM aisec_masked.sec_people WHERE pg_temp.leak(email) AND pg_temp.leak(ssn);
-- casts to other types keep the mask
SELECT email::bytea, salary::text FROM aisec_masked.sec_people ORDER BY 2;
-- no FF1 decryption, no keys, no key settings
SELECT aisec.ff1_decrypt('0123456789', 'sec_card');
SELECT * FROM aisec.key_store;
SELECT count(*) AS key_settings_visible FROM pg_settings WHERE name LIKE 'aisec.%'
  AND name NOT IN ('aisec.lineage', 'aisec.lineage_memory', 'aisec.transform', 'aisec.openlineage_namespace', 'aisec.citus_partial_aggregates', 'aisec.aggregate_scan');
-- Only the SQLSTATE (42501, insufficient_privilege): PostgreSQL words this
-- message differently in 14, 15 and 16+.
\set VERBOSITY sqlstate
SHOW aisec.master_key_file;
\set VERBOSITY default
RESET ROLE;
-- and the superuser sees everything the reader could not
SELECT count(*) > 0 AS stats_exist FROM pg_stats WHERE tablename = 'sec_people';

-- 5. Keys are readable through no catalog, setting, view or message.
SELECT count(*) AS columns_named_like_secrets FROM pg_attribute
 WHERE attrelid IN ('aisec.keys'::regclass, 'aisec.masks'::regclass)
   AND attname IN ('wrapped', 'secret', 'key', 'public_key');
SELECT count(*) AS settings_holding_keys FROM pg_settings
 WHERE name LIKE 'aisec.%' AND name NOT IN ('aisec.master_key_file', 'aisec.lineage', 'aisec.lineage_memory', 'aisec.transform', 'aisec.openlineage_namespace', 'aisec.citus_partial_aggregates', 'aisec.aggregate_scan');
SELECT count(*) AS audit_entries_with_wrapped_keys FROM aisec.audit_log a, aisec.key_store k
 WHERE strpos(a.detail::text, encode(k.wrapped, 'hex')) > 0 OR strpos(a.detail::text, encode(k.wrapped, 'base64')) > 0;

-- 6. No aisec function, table or view is usable by PUBLIC (but the row
-- trigger condition capture_row_needed, which touches no data or key; see
-- privileges.sql); every SECURITY DEFINER function pins its search_path.
SELECT p.oid::regprocedure AS executable_by_public
  FROM pg_proc p
 WHERE p.pronamespace IN ('aisec'::regnamespace, 'aisec_masked'::regnamespace)
   AND (p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a
                                     WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'))
 ORDER BY 1::text;
SELECT c.oid::regclass AS readable_by_public
  FROM pg_class c
 WHERE c.relnamespace IN ('aisec'::regnamespace, 'aisec_masked'::regnamespace)
   AND EXISTS (SELECT 1 FROM aclexplode(c.relacl) a WHERE a.grantee = 0);
SELECT p.oid::regprocedure AS definer_without_search_path
  FROM pg_proc p
 WHERE p.pronamespace = 'aisec'::regnamespace AND p.prosecdef
   AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false);

-- 7. Bad input to the masking functions: wrong types, huge and odd values.
SELECT aisec.mask_email(12345);
SELECT aisec.mask_partial('x', 1);
SELECT aisec.pseudonymize('x', NULL) IS NULL AS null_key;
SELECT length(aisec.mask_digits(repeat('1234-', 200000))) AS one_mb_digits;
SELECT aisec.mask_partial(E'\u00e9\u00e9\u00e9\u00e9', 1, 1) AS accents,
       aisec.mask_email(E'\u6771\u4eac@\u4f8b\u3048.jp') AS cjk_email;

-- Clean up.
SET ROLE regress_sec_admin;
SELECT aisec.unmask_role('regress_sec_reader');
SELECT aisec.drop_mask('sec_people', c) FROM unnest(ARRAY['email', 'ssn', 'salary']) c;
SELECT aisec.drop_mask('"evil''; DROP TABLE sec_victim; --"', c)
  FROM unnest(ARRAY[E'e"mail; $$x$$\n', 'Robert''); DROP TABLE sec_victim;--']) c;
SELECT aisec.drop_key('sec_key');
RESET ROLE;
DROP FUNCTION pg_temp.leak(text);
DROP TABLE sec_people, sec_victim, "evil'; DROP TABLE sec_victim; --", "evil""copy; DROP TABLE sec_victim";
DROP ROLE regress_sec_admin, regress_sec_reader;
