-- Every object of the aisec extension in this database, as text without
-- OIDs: test/run.sh prints it for a database updated from 0.1.0 and for a
-- fresh install and requires the two to be the same.  Objects are found
-- through their extension membership (pg_depend, deptype 'e'), so what the
-- test's data created (history tables, masked views) is left out.  Rows
-- are ordered by name (text), never by OID.

CREATE TEMP VIEW member AS
    SELECT d.classid, d.objid, d.objsubid
    FROM pg_depend d JOIN pg_extension e ON d.refobjid = e.oid
    WHERE d.refclassid = 'pg_extension'::regclass AND e.extname = 'aisec'
      AND d.deptype = 'e';

\echo == extension
SELECT extname, extversion, extnamespace::regnamespace, pg_get_userbyid(extowner),
       extrelocatable, extconfig::regclass[], extcondition,
       obj_description(oid, 'pg_extension')
FROM pg_extension WHERE extname = 'aisec';

\echo == schema
SELECT nspname, pg_get_userbyid(nspowner), nspacl, obj_description(oid, 'pg_namespace')
FROM pg_namespace WHERE nspname = 'aisec';

\echo == members
SELECT pg_describe_object(classid, objid, objsubid) FROM member ORDER BY 1;

\echo == functions: definition, owner, privileges, comment
SELECT p.oid::regprocedure, p.prokind, pg_get_userbyid(p.proowner), p.proacl,
       p.prosrc, p.probin, obj_description(p.oid, 'pg_proc'),
       CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) END
FROM pg_proc p JOIN member m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
ORDER BY p.oid::regprocedure::text;

\echo == aggregates
SELECT a.aggfnoid::regprocedure, a.aggkind, a.aggnumdirectargs, a.aggtransfn, a.aggfinalfn,
       a.aggcombinefn, a.aggserialfn, a.aggdeserialfn, a.aggmtransfn, a.aggminvtransfn,
       a.aggmfinalfn, a.aggfinalextra, a.aggmfinalextra, a.aggfinalmodify,
       a.aggmfinalmodify, a.aggsortop::regoperator, a.aggtranstype::regtype,
       a.aggtransspace, a.aggmtranstype::regtype, a.aggmtransspace, a.agginitval,
       a.aggminitval
FROM pg_aggregate a JOIN member m ON m.classid = 'pg_proc'::regclass AND m.objid = a.aggfnoid
ORDER BY a.aggfnoid::regprocedure::text;

\echo == types
SELECT t.oid::regtype, t.typtype, pg_get_userbyid(t.typowner), t.typacl,
       obj_description(t.oid, 'pg_type'), t.typlen, t.typbyval, t.typalign,
       t.typstorage, t.typcategory, t.typinput, t.typoutput, t.typreceive,
       t.typsend, t.typmodin, t.typmodout, t.typanalyze, t.typsubscript,
       t.typelem::regtype, t.typarray::regtype, t.typrelid::regclass
FROM pg_type t JOIN member m ON m.classid = 'pg_type'::regclass AND m.objid = t.oid
ORDER BY t.oid::regtype::text;

\echo == casts
SELECT c.castsource::regtype, c.casttarget::regtype, c.castfunc::regprocedure,
       c.castcontext, c.castmethod, obj_description(c.oid, 'pg_cast')
FROM pg_cast c JOIN member m ON m.classid = 'pg_cast'::regclass AND m.objid = c.oid
ORDER BY c.castsource::regtype::text, c.casttarget::regtype::text;

\echo == relations
SELECT c.oid::regclass, c.relkind, (SELECT amname FROM pg_am WHERE oid = c.relam),
       pg_get_userbyid(c.relowner), c.relacl,
       obj_description(c.oid, 'pg_class'), c.relpersistence, c.reloptions,
       c.relrowsecurity, c.relforcerowsecurity, c.relreplident,
       CASE WHEN c.relkind = 'v' THEN pg_get_viewdef(c.oid) END
FROM pg_class c JOIN member m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
ORDER BY c.oid::regclass::text;

\echo == columns
SELECT a.attrelid::regclass, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),
       a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid), a.attidentity, a.attgenerated,
       a.attstorage, a.attacl, col_description(a.attrelid, a.attnum)
FROM pg_attribute a
JOIN member m ON m.classid = 'pg_class'::regclass AND m.objid = a.attrelid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid::regclass::text, a.attnum;

\echo == constraints, indexes, triggers and policies on those relations
SELECT conrelid::regclass, conname, pg_get_constraintdef(oid)
FROM pg_constraint WHERE conrelid IN (SELECT objid FROM member WHERE classid = 'pg_class'::regclass)
ORDER BY conrelid::regclass::text, conname;
SELECT indrelid::regclass, pg_get_indexdef(indexrelid)
FROM pg_index WHERE indrelid IN (SELECT objid FROM member WHERE classid = 'pg_class'::regclass)
ORDER BY indrelid::regclass::text, 2;
-- (Not the foreign keys' internal triggers: their names hold OIDs.)
SELECT tgrelid::regclass, tgname, tgenabled, pg_get_triggerdef(oid)
FROM pg_trigger WHERE tgrelid IN (SELECT objid FROM member WHERE classid = 'pg_class'::regclass)
  AND NOT tgisinternal
ORDER BY tgrelid::regclass::text, tgname;
SELECT polrelid::regclass, polname, polcmd, polpermissive, polroles::regrole[],
       pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid)
FROM pg_policy WHERE polrelid IN (SELECT objid FROM member WHERE classid = 'pg_class'::regclass)
ORDER BY polrelid::regclass::text, polname;

\echo == sequences
SELECT s.seqrelid::regclass, s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmax,
       s.seqmin, s.seqcache, s.seqcycle
FROM pg_sequence s JOIN member m ON m.classid = 'pg_class'::regclass AND m.objid = s.seqrelid
ORDER BY s.seqrelid::regclass::text;

\echo == event triggers
SELECT e.evtname, e.evtevent, pg_get_userbyid(e.evtowner), e.evtfoid::regprocedure,
       e.evtenabled, e.evttags, obj_description(e.oid, 'pg_event_trigger')
FROM pg_event_trigger e JOIN member m ON m.classid = 'pg_event_trigger'::regclass AND m.objid = e.oid
ORDER BY 1;

\echo == initial privileges, which pg_dump takes as the extension own
SELECT pg_describe_object(i.classoid, i.objoid, i.objsubid), i.privtype, i.initprivs
FROM pg_init_privs i
JOIN member m ON m.classid = i.classoid AND m.objid = i.objoid
ORDER BY 1;

\echo == dependencies of the members
SELECT pg_describe_object(d.classid, d.objid, d.objsubid) || ' -> ' ||
       pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid) || ' (' || d.deptype::text || ')'
FROM pg_depend d JOIN member m ON m.classid = d.classid AND m.objid = d.objid
WHERE d.deptype <> 'e'
ORDER BY 1;
