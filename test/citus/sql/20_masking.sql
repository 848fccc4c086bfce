--
-- Masking on distributed tables (issue 19, item 3): set_mask, masked_view,
-- mask_role, export_masked (with min_k) and k_anonymity on a Citus table,
-- each against the same on a local copy of the table with the same rules.
--
-- Citus runs a query on a view on the coordinator and sends the shards'
-- queries to the workers as the reading user, who must then hold
-- privileges on the shards; a masked role holds none.  So the masked view
-- of a Citus table reads through aisec_masked.<table>(), a SECURITY
-- DEFINER function owned by the table's owner: Citus runs its masking
-- query on the workers, masks included, and only masked values leave
-- them.  Keyed masks need the keys on the workers: they are tested with
-- the key sync (30_keys); here every rule is unkeyed.
--
SET citus.shard_count = 8;
SET citus.next_shard_id = 1920000;
SET citus.explain_all_tasks = off;

-- 2,000 customers; some NULLs.  "region" is the distribution column.
CREATE TABLE customers_local AS
SELECT i AS id,
       i % 16 AS region,
       CASE WHEN i % 50 = 0 THEN NULL ELSE 'Customer ' || i END AS name,
       CASE WHEN i % 40 = 0 THEN 'not an address' ELSE 'user' || i || '@example.com' END AS email,
       '+1 (555) 01' || lpad((i % 100)::text, 2, '0') || '-' || lpad(i::text, 4, '0') AS phone,
       18 + (i * 7) % 60 AS age,
       round((20000 + (i * 7919) % 90000)::numeric, 2) AS income,
       (10000 + (i * 37) % 900)::text AS zip,
       date '2020-01-01' + (i * 3) % 1000 AS joined,
       'note ' || i AS note
FROM generate_series(1, 2000) i;
CREATE TABLE customers (LIKE customers_local);
SELECT create_distributed_table('customers', 'region');
INSERT INTO customers SELECT * FROM customers_local;

-- The same rules on both tables.
SELECT t, aisec.set_mask(t, 'name', 'partial(1, 0)'),
          aisec.set_mask(t, 'email', 'email'),
          aisec.set_mask(t, 'phone', 'digits(2)'),
          aisec.set_mask(t, 'age', 'generalize(10)'),
          aisec.set_mask(t, 'income', 'generalize(10000)'),
          aisec.set_mask(t, 'joined', 'generalize(''month'')'),
          aisec.set_mask(t, 'zip', 'partial(3, 0)'),
          aisec.set_mask(t, 'note', 'redact')
FROM (VALUES ('customers'::regclass), ('customers_local'::regclass)) v(t);
SELECT relation, "column", rule FROM aisec.masks WHERE relation = 'customers'::regclass ORDER BY 2;

--
-- 1. The masked view of the Citus table reads through its function; the
--    local table's is a plain view.
--
SELECT c.relname AS view, pg_get_viewdef(c.oid) ~ 'aisec_masked\.customers(_local)?\(\)' AS through_function,
       c.reloptions
FROM pg_class c
WHERE c.relnamespace = 'aisec_masked'::regnamespace AND c.relname LIKE 'customers%'
ORDER BY 1;
SELECT p.oid::regprocedure AS function, pg_get_userbyid(p.proowner) AS owner,
       p.prosecdef AS security_definer, p.provolatile, p.proconfig, p.proacl
FROM pg_proc p WHERE p.pronamespace = 'aisec_masked'::regnamespace;

-- A query on the view runs the function (on the coordinator) ...
SELECT explain_verbose('SELECT * FROM aisec_masked.customers');
-- ... and the function's query runs on the workers, the masks in the
-- query each worker runs on its shards.
SELECT worker_query(regexp_replace(pg_get_function_sqlbody('aisec_masked.customers()'::regprocedure),
                                   '^BEGIN ATOMIC\s*(.*);\s*END$', '\1'));

-- Citus propagated the view and the function to the workers.
SELECT success, result FROM run_command_on_workers($$
    SELECT count(*) FILTER (WHERE c.relkind = 'v') || ' view, ' ||
           (SELECT count(*) FROM pg_proc WHERE pronamespace = 'aisec_masked'::regnamespace) || ' function'
    FROM pg_class c WHERE c.relnamespace = 'aisec_masked'::regnamespace AND c.relname = 'customers'$$);

--
-- 2. The same rows as the local table's masked view.
--
SELECT * FROM aisec_masked.customers WHERE id IN (1, 40, 50) ORDER BY id;
SELECT (SELECT count(*) FROM aisec_masked.customers) AS rows,
       (SELECT count(*) FROM (SELECT * FROM aisec_masked.customers
                              EXCEPT ALL SELECT * FROM aisec_masked.customers_local) d) AS only_distributed,
       (SELECT count(*) FROM (SELECT * FROM aisec_masked.customers_local
                              EXCEPT ALL SELECT * FROM aisec_masked.customers) d) AS only_local;

--
-- 3. Masked roles read the masked view, on Citus as on one node: one that
--    can log in and one that cannot (used with SET ROLE).  Neither reads
--    the table.
--
CREATE ROLE citus_reader LOGIN;
CREATE ROLE citus_analyst NOLOGIN;
SELECT aisec.mask_role('citus_reader'), aisec.mask_role('citus_analyst');
SET ROLE citus_reader;
SELECT id, name, email, phone, age FROM aisec_masked.customers WHERE id <= 3 ORDER BY id;
SELECT (SELECT count(*) FROM (SELECT * FROM aisec_masked.customers
                              EXCEPT ALL SELECT * FROM aisec_masked.customers_local) d) AS only_distributed,
       (SELECT count(*) FROM (SELECT * FROM aisec_masked.customers_local
                              EXCEPT ALL SELECT * FROM aisec_masked.customers) d) AS only_local;
SELECT count(*) FROM customers;
RESET ROLE;
SET ROLE citus_analyst;
SELECT age, count(*) FROM aisec_masked.customers GROUP BY age ORDER BY age;
SELECT name FROM customers LIMIT 1;
RESET ROLE;
-- On the workers too, the masked role holds no privilege on the shards.
SELECT success, result FROM run_command_on_workers($$
    SELECT bool_or(has_table_privilege('citus_reader', c.oid, 'SELECT'))
    FROM pg_class c WHERE c.relname LIKE 'customers%' AND c.relkind = 'r'$$);

--
-- 4. An engineer without privileges on the table exports it masked, with
--    k-anonymity over the masked quasi-identifiers: the same export as
--    from the local table.
--
CREATE ROLE citus_engineer LOGIN IN ROLE aisec_engineer;
GRANT CREATE ON SCHEMA public TO citus_engineer;
SET ROLE citus_engineer;
SELECT * FROM aisec.export_masked('customers', 'customers_train', 12, ARRAY['age', 'zip']);
SELECT * FROM aisec.export_masked('customers_local', 'customers_local_train', 12, ARRAY['age', 'zip']);
SELECT (SELECT count(*) FROM (SELECT * FROM customers_train
                              EXCEPT ALL SELECT * FROM customers_local_train) d) AS only_distributed,
       (SELECT count(*) FROM (SELECT * FROM customers_local_train
                              EXCEPT ALL SELECT * FROM customers_train) d) AS only_local;
-- Without min_k: every row.
SELECT * FROM aisec.export_masked('customers', 'customers_all');
SELECT count(*) FROM customers_all;
SELECT count(*) FROM customers;
RESET ROLE;
-- The smallest class of the export is at least 12; k_anonymity of the
-- distributed table (raw values) equals the local table's.
SELECT aisec.k_anonymity('customers_train', ARRAY['age', 'zip']) >= 12 AS export_is_12_anonymous,
       aisec.k_anonymity('customers', ARRAY['age', 'zip']) AS k_distributed,
       aisec.k_anonymity('customers_local', ARRAY['age', 'zip']) AS k_local;

--
-- 5. The function runs as the table's owner, who must be allowed to run
--    the masks: an owner in no aisec role is refused, with a hint.
--
CREATE ROLE citus_owner LOGIN;
CREATE TABLE owned (id int, region int, name text);
SELECT create_distributed_table('owned', 'region');
INSERT INTO owned VALUES (1, 1, 'Alice'), (2, 2, 'Bob');
ALTER TABLE owned OWNER TO citus_owner;
\set VERBOSITY default
SELECT aisec.set_mask('owned', 'name', 'partial(1, 1)');
SELECT count(*) AS rules FROM aisec.masks WHERE relation = 'owned'::regclass;
GRANT aisec_engineer TO citus_owner;
SELECT aisec.set_mask('owned', 'name', 'partial(1, 1)');
SELECT pg_get_userbyid(proowner) AS function_owner FROM pg_proc WHERE oid = 'aisec_masked.owned()'::regprocedure;
SET ROLE citus_reader;
SELECT * FROM aisec_masked.owned ORDER BY id;
RESET ROLE;

--
-- 6. Rules and views follow the table: a change of owner rebuilds both;
--    the last rule dropped drops the view and its function.
--
ALTER TABLE owned OWNER TO CURRENT_USER;
SELECT pg_get_userbyid(proowner) = current_user AS function_follows_owner
FROM pg_proc WHERE oid = 'aisec_masked.owned()'::regprocedure;
SELECT aisec.drop_mask('owned', 'name');
SELECT to_regclass('aisec_masked.owned') AS view, to_regprocedure('aisec_masked.owned()') AS function;

--
-- 7. A table distributed after it got its rules keeps its plain view
--    (Citus gives no signal aisec could act on) until aisec.masked_view()
--    rebuilds it; then masked roles read it.
--
CREATE TABLE late (id int, region int, name text);
INSERT INTO late VALUES (1, 1, 'Carol'), (2, 2, 'Dave');
SELECT aisec.set_mask('late', 'name', 'partial(1, 0)');
SELECT create_distributed_table('late', 'region');
SET ROLE citus_reader;
DO $$
BEGIN
    PERFORM count(*) FROM aisec_masked.late;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'refused: %', regexp_replace(SQLERRM, '_\d+', '_xxxxxxx');
END
$$;
RESET ROLE;
SELECT aisec.masked_view('late');
SET ROLE citus_reader;
SELECT * FROM aisec_masked.late ORDER BY id;
RESET ROLE;
SELECT aisec.drop_mask('late', 'name');
DROP TABLE late;

DROP TABLE customers_train, customers_local_train, customers_all;
-- The function the masked view reads through is no door of its own: a
-- role with no masked access cannot call it, and unmask_role takes it away.
-- (USAGE on the schema is granted by hand, so that the function's own
-- EXECUTE is what refuses.)
CREATE ROLE citus_outsider LOGIN;
GRANT USAGE ON SCHEMA aisec_masked TO citus_outsider;
SET ROLE citus_outsider;
SELECT count(*) FROM aisec_masked.customers();
RESET ROLE;
SELECT aisec.unmask_role('citus_reader'), aisec.unmask_role('citus_analyst');
SET ROLE citus_reader;
SELECT count(*) FROM aisec_masked.customers();
SELECT count(*) FROM aisec_masked.customers;
RESET ROLE;
REVOKE USAGE ON SCHEMA aisec_masked FROM citus_outsider;
DROP ROLE citus_outsider;
SELECT count(aisec.drop_mask(t, c)) AS rules_dropped
FROM (VALUES ('customers'::regclass), ('customers_local'::regclass)) v(t),
     unnest(ARRAY['name', 'email', 'phone', 'age', 'income', 'joined', 'zip', 'note']) c;
SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = 'aisec_masked'::regnamespace) AS leftover_views,
       (SELECT count(*) FROM pg_proc WHERE pronamespace = 'aisec_masked'::regnamespace) AS leftover_functions;
SELECT success, result FROM run_command_on_workers($$
    SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = 'aisec_masked'::regnamespace) ||
           ' views, ' || (SELECT count(*) FROM pg_proc WHERE pronamespace = 'aisec_masked'::regnamespace) || ' functions'$$);
DROP TABLE customers, customers_local, owned;
REVOKE CREATE ON SCHEMA public FROM citus_engineer;
DROP ROLE citus_reader, citus_analyst, citus_engineer, citus_owner;
