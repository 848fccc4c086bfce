-- scaleout.sql: aisec's aggregates as Citus partial aggregates (partial.c).
--
-- On a Citus worker, a shard query's worker_partial_agg('aisec.<agg>(...)',
-- ROW(...)) is planned as aisec.<agg>_partial(...): the same transition
-- function and state, with the state type's output function as final
-- function, so the worker returns what worker_partial_agg would (the
-- state's text form) without Citus's per-row wrapper.  Not meant to be
-- called by hand; granted like the aggregates they stand in for, since
-- shard queries run as the user who asked.

CREATE AGGREGATE aisec.fairness_partial(grp text, y_true boolean, y_pred boolean) (
    SFUNC = aisec.fairness_transfn,
    STYPE = aisec.fairness_stats,
    SSPACE = 2048,
    FINALFUNC = aisec.fairness_stats_out,
    COMBINEFUNC = aisec.fairness_combinefn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.fairness_partial(text, boolean, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.fairness_partial(text, boolean, boolean) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.fairness_partial(text, boolean, boolean) IS 'Citus shard-query form of aisec.fairness(text, boolean, boolean): its state in text form, as worker_partial_agg returns it (doc/scale-out.md)';

CREATE AGGREGATE aisec.fairness_partial(grp text, y_true boolean, y_pred boolean, weight float8) (
    SFUNC = aisec.fairness_weighted_transfn,
    STYPE = aisec.fairness_stats,
    SSPACE = 2048,
    FINALFUNC = aisec.fairness_stats_out,
    COMBINEFUNC = aisec.fairness_combinefn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.fairness_partial(text, boolean, boolean, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.fairness_partial(text, boolean, boolean, float8) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.fairness_partial(text, boolean, boolean, float8) IS 'Citus shard-query form of aisec.fairness(text, boolean, boolean, float8): its state in text form, as worker_partial_agg returns it (doc/scale-out.md)';

CREATE AGGREGATE aisec.fairness_merge_partial(aisec.fairness_stats) (
    SFUNC = aisec.fairness_merge_transfn,
    STYPE = aisec.fairness_stats,
    SSPACE = 2048,
    FINALFUNC = aisec.fairness_stats_out,
    COMBINEFUNC = aisec.fairness_combinefn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.fairness_merge_partial(aisec.fairness_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.fairness_merge_partial(aisec.fairness_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.fairness_merge_partial(aisec.fairness_stats) IS 'Citus shard-query form of aisec.fairness_merge(aisec.fairness_stats): its state in text form, as worker_partial_agg returns it (doc/scale-out.md)';

CREATE AGGREGATE aisec.generalized_entropy_index_partial(y_true boolean, y_pred boolean, alpha float8) (
    SFUNC = aisec.generalized_entropy_transfn,
    STYPE = aisec.inequality_stats,
    SSPACE = 40,
    FINALFUNC = aisec.inequality_stats_out,
    COMBINEFUNC = aisec.inequality_combinefn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.generalized_entropy_index_partial(boolean, boolean, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.generalized_entropy_index_partial(boolean, boolean, float8) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.generalized_entropy_index_partial(boolean, boolean, float8) IS 'Citus shard-query form of aisec.generalized_entropy_index(boolean, boolean, float8): its state in text form, as worker_partial_agg returns it (doc/scale-out.md)';

CREATE AGGREGATE aisec.theil_index_partial(y_true boolean, y_pred boolean) (
    SFUNC = aisec.theil_transfn,
    STYPE = aisec.inequality_stats,
    SSPACE = 40,
    FINALFUNC = aisec.inequality_stats_out,
    COMBINEFUNC = aisec.inequality_combinefn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.theil_index_partial(boolean, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.theil_index_partial(boolean, boolean) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.theil_index_partial(boolean, boolean) IS 'Citus shard-query form of aisec.theil_index(boolean, boolean): its state in text form, as worker_partial_agg returns it (doc/scale-out.md)';

CREATE AGGREGATE aisec.contingency_partial(a text, b text) (
    SFUNC = aisec.contingency_transfn,
    STYPE = aisec.contingency_stats,
    FINALFUNC = aisec.contingency_stats_out,
    COMBINEFUNC = aisec.contingency_combinefn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.contingency_partial(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.contingency_partial(text, text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.contingency_partial(text, text) IS 'Citus shard-query form of aisec.contingency(text, text): its state in text form, as worker_partial_agg returns it (doc/scale-out.md)';

CREATE AGGREGATE aisec.contingency_merge_partial(aisec.contingency_stats) (
    SFUNC = aisec.contingency_merge_transfn,
    STYPE = aisec.contingency_stats,
    FINALFUNC = aisec.contingency_stats_out,
    COMBINEFUNC = aisec.contingency_combinefn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.contingency_merge_partial(aisec.contingency_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.contingency_merge_partial(aisec.contingency_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.contingency_merge_partial(aisec.contingency_stats) IS 'Citus shard-query form of aisec.contingency_merge(aisec.contingency_stats): its state in text form, as worker_partial_agg returns it (doc/scale-out.md)';

CREATE AGGREGATE aisec.histogram_partial(value float8, lower float8, upper float8, bins integer) (
    SFUNC = aisec.histogram_transfn,
    STYPE = aisec.histogram_stats,
    FINALFUNC = aisec.histogram_stats_out,
    COMBINEFUNC = aisec.histogram_combinefn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.histogram_partial(float8, float8, float8, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.histogram_partial(float8, float8, float8, integer) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.histogram_partial(float8, float8, float8, integer) IS 'Citus shard-query form of aisec.histogram(float8, float8, float8, integer): its state in text form, as worker_partial_agg returns it (doc/scale-out.md)';

CREATE AGGREGATE aisec.histogram_merge_partial(aisec.histogram_stats) (
    SFUNC = aisec.histogram_merge_transfn,
    STYPE = aisec.histogram_stats,
    FINALFUNC = aisec.histogram_stats_out,
    COMBINEFUNC = aisec.histogram_combinefn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.histogram_merge_partial(aisec.histogram_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.histogram_merge_partial(aisec.histogram_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.histogram_merge_partial(aisec.histogram_stats) IS 'Citus shard-query form of aisec.histogram_merge(aisec.histogram_stats): its state in text form, as worker_partial_agg returns it (doc/scale-out.md)';

CREATE AGGREGATE aisec.category_counts_partial(value text) (
    SFUNC = aisec.category_counts_transfn,
    STYPE = aisec.category_stats,
    FINALFUNC = aisec.category_stats_out,
    COMBINEFUNC = aisec.category_counts_combinefn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.category_counts_partial(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.category_counts_partial(text) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.category_counts_partial(text) IS 'Citus shard-query form of aisec.category_counts(text): its state in text form, as worker_partial_agg returns it (doc/scale-out.md)';

CREATE AGGREGATE aisec.category_counts_merge_partial(aisec.category_stats) (
    SFUNC = aisec.category_counts_merge_transfn,
    STYPE = aisec.category_stats,
    FINALFUNC = aisec.category_stats_out,
    COMBINEFUNC = aisec.category_counts_combinefn,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION aisec.category_counts_merge_partial(aisec.category_stats) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.category_counts_merge_partial(aisec.category_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON AGGREGATE aisec.category_counts_merge_partial(aisec.category_stats) IS 'Citus shard-query form of aisec.category_counts_merge(aisec.category_stats): its state in text form, as worker_partial_agg returns it (doc/scale-out.md)';
