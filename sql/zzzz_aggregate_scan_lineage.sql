-- The aggregate scan (src/core/aggscan.c) and row lineage: a statement
-- traced by lineage (aisec.lineage = on) gathers the source rows' ids with
-- an aggregate of its own beside the statistics, so the Agg node runs it
-- and the derived row gets its parents.  (Last of the suite: it tracks
-- tables and records lineage, which earlier tests count.)
CREATE TABLE sc_src AS
SELECT 'g' || (i % 2) AS grp, i % 3 = 0 AS y, i % 5 = 0 AS p FROM generate_series(1, 500) i;
SELECT aisec.track('sc_src') > 0 AS tracked;
CREATE TABLE sc_stats (s aisec.fairness_stats);
SELECT aisec.track('sc_stats') > 0 AS tracked;
EXPLAIN (COSTS OFF) SELECT aisec.fairness(grp, y, p) FROM sc_src;
SET aisec.lineage = on;
EXPLAIN (COSTS OFF) INSERT INTO sc_stats SELECT aisec.fairness(grp, y, p) FROM sc_src;
INSERT INTO sc_stats SELECT aisec.fairness(grp, y, p) FROM sc_src;
RESET aisec.lineage;
SELECT (SELECT count(*) FROM aisec.lineage_up((SELECT aisec_rid FROM sc_stats), 1))
       = (SELECT count(*) FROM sc_src) AS every_source_row_a_parent,
       (SELECT s FROM sc_stats)::bytea = (SELECT aisec.fairness(grp, y, p)::bytea FROM sc_src) AS same_state;
SELECT aisec.untrack('sc_stats'), aisec.untrack('sc_src');
DROP TABLE sc_stats, sc_src;
