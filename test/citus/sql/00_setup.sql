--
-- The Citus suite's cluster and helpers.  test/citus/run.sh starts a
-- coordinator and two workers, runs CREATE EXTENSION aisec on the
-- coordinator, and runs this file first (also when AISEC_CITUS_REGRESS
-- names only other files).  Node ports are in environment variables
-- (AISEC_CITUS_<NODE>_PORT, read with \getenv), never in the output.
--

-- The cluster: the coordinator (group 0) and two workers, all active.
SELECT groupid, noderole, isactive, shouldhaveshards
FROM pg_dist_node ORDER BY groupid;

-- Citus propagated CREATE EXTENSION aisec to both workers, with the
-- coordinator's version.
SELECT success, result = (SELECT extversion FROM pg_extension WHERE extname = 'aisec') AS same_version
FROM run_command_on_workers($$SELECT extversion FROM pg_extension WHERE extname = 'aisec'$$);

-- The nodes a test may add to the cluster: worker3 (the same master key
-- file) and nokey (no aisec.master_key_file), running, with the extension
-- citus, out of the cluster.  Their ports, for citus_add_node:
\getenv worker3_port AISEC_CITUS_WORKER3_PORT
\getenv nokey_port AISEC_CITUS_NOKEY_PORT
SELECT :'worker3_port' ~ '^[0-9]+$' AS worker3_port_known,
       :'nokey_port' ~ '^[0-9]+$' AS nokey_port_known,
       (SELECT count(*) FROM pg_dist_node
        WHERE nodeport IN (:'worker3_port'::int, :'nokey_port'::int)) AS in_cluster;

-- Helpers, for every file of the suite (test-only).
--
-- Two floats agree when equal or within 1e-12 of the larger magnitude.
CREATE FUNCTION close_enough(a float8, b float8) RETURNS boolean
LANGUAGE sql IMMUTABLE
AS $$ SELECT a IS NOT DISTINCT FROM b OR abs(a - b) <= 1e-12 * greatest(abs(a), abs(b)) $$;

-- EXPLAIN (VERBOSE, COSTS OFF) of a query, with what changes from run to
-- run masked: ports, shard ids, object ids.
CREATE FUNCTION explain_verbose(q text) RETURNS SETOF text
LANGUAGE plpgsql
AS $$
DECLARE
    l text;
BEGIN
    FOR l IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
        l := regexp_replace(l, 'port=\d+', 'port=xxxxx');
        l := regexp_replace(l, '_\d{7}\M', '_xxxxxxx', 'g');
        l := regexp_replace(l, '''\d+''::oid', '''xxxxx''::oid', 'g');
        RETURN NEXT l;
    END LOOP;
END
$$;

-- Where a query's aggregates run, from its plan.
CREATE FUNCTION where_aggregated(q text) RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    plan text := '';
    l text;
BEGIN
    FOR l IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
        plan := plan || l || E'\n';
    END LOOP;
    IF plan ~ '(?n)Query: SELECT .*worker_partial_agg\(' AND plan ~ 'coord_combine_agg\(' THEN
        RETURN 'partial on the workers, combined on the coordinator';
    ELSIF plan ~ '(?n)Query: SELECT .*aisec\.' THEN
        RETURN 'whole on the workers';
    END IF;
    RETURN 'rows pulled to the coordinator';
END
$$;

-- The query a distributed plan sends to the workers (its first task's),
-- with shard ids masked.
CREATE FUNCTION worker_query(q text) RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    l text;
BEGIN
    FOR l IN SELECT explain_verbose(q) LOOP
        IF l ~ '^\s*Query: ' THEN
            RETURN regexp_replace(l, '^\s*Query: ', '');
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
