-- aisec demo, part 80: scale-out on Citus (doc/scale-out.md).  This demo
-- runs on one node; `make test-citus` runs the same things on a throwaway
-- Citus cluster (a coordinator and two workers) when Citus is installed.
\set QUIET on
\pset footer off
\echo
\echo '=== Scale-out on Citus (doc/scale-out.md) =================================='
\echo 'On Citus, aisec''s statistics run as partial aggregates on the workers: each'
\echo 'shard sends one state to the coordinator, in the state type''s text form, and'
\echo 'the coordinator combines them.  That text form round-trips exactly:'
WITH s AS (SELECT aisec.fairness(sex, repaid, approved) AS f,
                  aisec.histogram(income::float8, 0, 120000, 12) AS h FROM loans)
SELECT length(f::text) AS fairness_text_bytes,
       f::text::aisec.fairness_stats::bytea = f::bytea AS fairness_round_trips,
       h::text::aisec.histogram_stats::bytea = h::bytea AS histogram_round_trips
  FROM s;

\echo
\echo '-- Combining per-slice states gives the whole table''s state, byte for byte:'
\echo '-- what the coordinator does with the shards'' states.'
WITH slices AS (SELECT region, aisec.fairness(sex, repaid, approved) AS f FROM loans GROUP BY region)
SELECT (SELECT aisec.fairness_merge(f) FROM slices)::bytea
     = (SELECT aisec.fairness(sex, repaid, approved) FROM loans)::bytea AS merged_equals_whole;

\echo
\echo '-- On a worker, Citus''s worker_partial_agg(...) is planned as aisec''s own'
\echo '-- shard-query form, which returns the same text without Citus''s per-row wrapper:'
SELECT aisec.fairness_partial(sex, repaid, approved)::text
     = aisec.fairness(sex, repaid, approved)::text AS partial_form_is_the_state_text
  FROM loans;

\echo
\echo '-- Keys: created on the coordinator, they reach every worker when the'
\echo '-- transaction commits; aisec.citus_sync_keys() serves a worker added later.'
\echo '-- Here there is no Citus, and it says so:'
\set ON_ERROR_STOP off
SELECT aisec.citus_sync_keys();
\set ON_ERROR_STOP on

\echo
\echo '-- Versioning, lineage and erasure keep their records on one node and refuse'
\echo '-- Citus tables up front (0A000); masked views of distributed tables read'
\echo '-- through a SECURITY DEFINER function so the masks run on the workers.'
