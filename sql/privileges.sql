-- Privilege rules that every aisec object must keep.  These queries run
-- over the catalog, so a function added later that breaks a rule fails
-- here without anyone having to remember to test it.

-- 1. No function, procedure or aggregate in schema aisec is executable by
--    PUBLIC, except aisec.capture_row_needed(oid, tid): the WHEN condition
--    of the row trigger on tracked tables, which runs as the inserting
--    role.  It compares a ctid with this session's own record of a
--    table's size and touches no data, key or erasure.  (Expected: that
--    one row.)
SELECT p.oid::regprocedure AS executable_by_public
FROM pg_proc p
CROSS JOIN LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
WHERE p.pronamespace = 'aisec'::regnamespace
  AND a.grantee = 0 AND a.privilege_type = 'EXECUTE'
ORDER BY 1;

-- 2. Every SECURITY DEFINER function pins search_path to pg_catalog,
--    pg_temp.  (Expected: no rows.)
SELECT p.oid::regprocedure AS definer_without_pinned_search_path
FROM pg_proc p
WHERE p.pronamespace = 'aisec'::regnamespace
  AND p.prosecdef
  AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)
ORDER BY 1;

-- 3. No table, view or sequence in schema aisec grants anything to PUBLIC.
--    (Expected: no rows.)
SELECT c.oid::regclass AS relation_open_to_public, a.privilege_type
FROM pg_class c
CROSS JOIN LATERAL aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
WHERE c.relnamespace = 'aisec'::regnamespace
  AND c.relkind IN ('r', 'v', 'm', 'S', 'p', 'f')
  AND a.grantee = 0
ORDER BY 1, 2;

-- 4. PUBLIC may not create in, or even look up names in, schema aisec.
SELECT has_schema_privilege('public', 'aisec', 'USAGE') AS public_usage,
       has_schema_privilege('public', 'aisec', 'CREATE') AS public_create;

-- 5. The governance roles exist and cannot log in; nor can
--    aisec_masked_reader, which mask_role() makes masked roles members of.
SELECT rolname, rolcanlogin, rolsuper
FROM pg_roles WHERE rolname IN ('aisec_admin', 'aisec_engineer', 'aisec_dpo', 'aisec_auditor',
                                'aisec_masked_reader')
ORDER BY rolname;

-- 6. Who may execute what: the full map, reviewed whenever it changes.
--    A new function shows up here and must be placed deliberately.
SELECT p.oid::regprocedure AS function,
       p.prosecdef AS definer,
       array_to_string(ARRAY(
           SELECT r FROM unnest(ARRAY['aisec_admin', 'aisec_engineer', 'aisec_dpo', 'aisec_auditor',
                                      'aisec_masked_reader']) r
           WHERE has_function_privilege(r, p.oid, 'EXECUTE')), ', ') AS executable_by
FROM pg_proc p
WHERE p.pronamespace = 'aisec'::regnamespace
ORDER BY p.proname, p.oid::regprocedure::text;

-- 7. Who may read or write aisec's tables and views.
SELECT c.oid::regclass AS relation,
       array_to_string(ARRAY(
           SELECT r || ':' || priv
           FROM unnest(ARRAY['aisec_admin', 'aisec_engineer', 'aisec_dpo', 'aisec_auditor',
                             'aisec_masked_reader']) r,
                unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) priv
           WHERE has_table_privilege(r, c.oid, priv)), ', ') AS privileges
FROM pg_class c
WHERE c.relnamespace = 'aisec'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p')
ORDER BY c.oid::regclass::text;

-- 8. Every function, table and view in schema aisec carries a comment.
--    (Expected: no rows.)
SELECT p.oid::regprocedure AS function_without_comment
FROM pg_proc p
WHERE p.pronamespace = 'aisec'::regnamespace
  AND obj_description(p.oid, 'pg_proc') IS NULL
ORDER BY 1;
SELECT c.oid::regclass AS relation_without_comment
FROM pg_class c
WHERE c.relnamespace = 'aisec'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p')
  AND obj_description(c.oid, 'pg_class') IS NULL
ORDER BY 1;
