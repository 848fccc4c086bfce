-- aisec--0.1.0--0.2.0.sql: ALTER EXTENSION aisec UPDATE from 0.1.0 to 0.2.0.
--
-- What 0.2.0 changes in the database:
--   1. Every C function's symbol gets the aisec_ prefix (0.1.0's diff is
--      0.2.0's aisec_diff); the 0.2.0 library exports only the prefixed
--      names, so until this script has run, aisec's functions fail with
--      "could not find function ... in file".  Each function is declared
--      again with CREATE OR REPLACE, word for word as 0.2.0's install script
--      declares it (same signature, defaults, attributes, support function),
--      with only the symbol changed.  CREATE OR REPLACE keeps each
--      function's OID, owner, privileges, comment and extension membership,
--      so what depends on it (aggregates, types' I/O, casts, triggers on
--      user tables, masked views, event triggers) keeps working untouched.
--   2. The schema and extension comments name only what ships.
--   3. aisec's tables are created USING heap (0.1.0 took the session's
--      default_table_access_method).  A 0.1.0 table that is not heap was
--      already written wrongly; the update refuses and names it rather than
--      change access methods itself.
--   4. Masking (security review): new functions aisec.output_text,
--      aisec.mask_ff1 and aisec.mask_noise, which masked views call so that
--      no rule resolves a cast a table owner planted and no rule fails on a
--      value; the event trigger aisec_mask_partition_check; every masked
--      view is built again (owned by its table's owner, with the reader's
--      rights and row-level security for tables that have it); every
--      masked role is checked again over partitions and inheritance.
--   5-10. Dataset versions as users meet them (issue 16): no foreign keys
--      among aisec's tables (parallel pg_restore) and the DROP EXTENSION /
--      ALTER / DROP TABLE event triggers (5); diff with a key and
--      diff_summary (6); masked checkout and checkout(text) hint (7);
--      status, tracked_tables, remove_table, drop_dataset, untag, tag
--      returning the version (8); history BRIN autosummarize (9); revert
--      and its pending note (10); restored tables keep their row hashes
--      (hash_columns, 11).
--   12. Row lineage (issue 17): the lineage tables, record_lineage,
--      lineage_up and lineage_down, the lineage_graph view.
--   13. OpenLineage events (issue 17).
--   14. Row lineage through joins, groups, UNION ALL and CTEs (issue 17):
--      the aggregate aisec.lineage_collect, aisec.lineage_mark for MERGE.
--   15-21. GDPR erasure (issue 18), in the order they landed: the
--      register and erase (15); versions after an erasure (21); audit
--      entry redaction (18); derived rows and set_erasure_policy (16);
--      reapply_erasures (19); subject indexes on history (20); the signed
--      certificate, verify_certificate, verify_erasure (17).  Tables
--      tracked before 0.2.0 get no BRIN index on aisec_rid (track() makes
--      one now); lookups of their rows by id scan them.
--   22. Scale-out on Citus (issue 19): every mergeable aggregate's
--      transition type is its state type instead of internal (new
--      aisec.inequality_stats for the inequality indexes), so Citus runs
--      it as partial aggregates on its workers; the serialize and
--      deserialize functions are gone (section 1 no longer redeclares
--      them; section 22 drops them with the internal-typed support
--      functions).
--   24. Keys on Citus (issue 19): citus_sync_keys, citus_receive_keys.
--   25. Citus shard-query forms of the aggregates (issue 19): the
--      aggregates aisec.<aggregate>_partial.
--
-- Order: the event trigger functions come first, so that the triggers
-- point at symbols the new library has before any command that fires
-- them: section 4 rebuilds masked views (a dropped view fires
-- aisec_track_drop).  CREATE FUNCTION and COMMENT are not in their WHEN TAG
-- lists.  They are not disabled and re-enabled: that would turn on a
-- trigger an administrator had turned off.

\echo Use "ALTER EXTENSION aisec UPDATE TO '0.2.0'" to load this file. \quit

-- ==== 0. Nothing here adopts an object aisec does not own ====

-- Section 1 uses CREATE OR REPLACE FUNCTION, which aisec's install scripts
-- never do: it is the only way to give an existing C function a new
-- symbol while keeping its OID (DROP and CREATE would drop the aggregates,
-- types, triggers and views that depend on it).  It must only ever replace
-- a function of this extension, never take over one someone else put in
-- schema aisec: refuse the update if schema aisec holds any function that
-- is not a member of the extension.  (PostgreSQL 14.5 and later refuse such
-- a replacement themselves; this check names the function, on every
-- minor release.)
DO $$
DECLARE
    f pg_catalog.regprocedure;
BEGIN
    SELECT p.oid::pg_catalog.regprocedure INTO f
      FROM pg_catalog.pg_proc p
     WHERE p.pronamespace OPERATOR(pg_catalog.=) 'aisec'::pg_catalog.regnamespace
       AND NOT EXISTS (
             SELECT FROM pg_catalog.pg_depend d
              WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
                AND d.objid OPERATOR(pg_catalog.=) p.oid
                AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
                AND d.refobjid OPERATOR(pg_catalog.=) (SELECT e.oid FROM pg_catalog.pg_extension e
                                                       WHERE e.extname OPERATOR(pg_catalog.=) 'aisec')
                AND d.deptype OPERATOR(pg_catalog.=) 'e')
     ORDER BY 1 LIMIT 1;
    IF f IS NOT NULL THEN
        RAISE EXCEPTION 'function % in schema aisec is not part of extension aisec', f
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Only aisec creates objects in schema aisec: drop or move that function, then update again.';
    END IF;
END
$$;

-- ==== 1. C symbols: event trigger functions ====

-- versioning/history.sql
CREATE OR REPLACE FUNCTION aisec.track_ddl_check() RETURNS event_trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'aisec_track_ddl_check';
CREATE OR REPLACE FUNCTION aisec.track_drop_check() RETURNS event_trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'aisec_track_drop_check';

-- masking/masking_rules.sql
CREATE OR REPLACE FUNCTION aisec.mask_rule_sync() RETURNS event_trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'aisec_mask_rule_sync';

-- ==== 1. C symbols: every other function, in install-script order ====
-- (Not the aggregates' serialize and deserialize functions: 0.2.0 has none,
-- and section 22 drops them.)

-- masking/anonymity.sql
CREATE OR REPLACE FUNCTION aisec.k_anonymity(rel regclass, quasi_identifiers text[])
    RETURNS bigint
    LANGUAGE C STABLE STRICT PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'aisec_k_anonymity';

-- audit/audit.sql
CREATE OR REPLACE FUNCTION aisec.audit_refuse_change() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'aisec_audit_refuse_change';
CREATE OR REPLACE FUNCTION aisec.audit(action text, object text, detail jsonb DEFAULT '{}')
    RETURNS bigint
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_audit';
CREATE OR REPLACE FUNCTION aisec.audit_verify(
    OUT ok boolean, OUT entries bigint, OUT first_bad_seq bigint, OUT detail text)
    RETURNS record
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'aisec_audit_verify';
CREATE OR REPLACE FUNCTION aisec.audit_digest() RETURNS jsonb
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_audit_digest';
CREATE OR REPLACE FUNCTION aisec.audit_verify_digest(digest jsonb) RETURNS boolean
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'aisec_audit_verify_digest';

-- bias/contingency.sql
CREATE OR REPLACE FUNCTION aisec.contingency_stats_in(cstring) RETURNS aisec.contingency_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_contingency_stats_in';
CREATE OR REPLACE FUNCTION aisec.contingency_stats_out(aisec.contingency_stats) RETURNS cstring
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_contingency_stats_out';
CREATE OR REPLACE FUNCTION aisec.contingency_stats_recv(internal) RETURNS aisec.contingency_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_contingency_stats_recv';
CREATE OR REPLACE FUNCTION aisec.contingency_stats_send(aisec.contingency_stats) RETURNS bytea
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_contingency_stats_send';
CREATE OR REPLACE FUNCTION aisec.contingency_stats_from_bytea(bytea) RETURNS aisec.contingency_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_contingency_stats_from_bytea';
CREATE OR REPLACE FUNCTION aisec.contingency_transfn(internal, text, text) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_contingency_transfn';
CREATE OR REPLACE FUNCTION aisec.contingency_merge_transfn(internal, aisec.contingency_stats) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_contingency_merge_transfn';
CREATE OR REPLACE FUNCTION aisec.contingency_combinefn(internal, internal) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_contingency_combinefn';
CREATE OR REPLACE FUNCTION aisec.contingency_finalfn(internal) RETURNS aisec.contingency_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_contingency_finalfn';
CREATE OR REPLACE FUNCTION aisec.chi2_test(c aisec.contingency_stats,
                                OUT statistic float8, OUT dof integer, OUT p_value float8)
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_chi2_test';
CREATE OR REPLACE FUNCTION aisec.cramers_v(c aisec.contingency_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_cramers_v';
CREATE OR REPLACE FUNCTION aisec.chi2_p_value(statistic float8, dof integer) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_chi2_p_value';
CREATE OR REPLACE FUNCTION aisec.contingency_cells(c aisec.contingency_stats,
                                        OUT a text, OUT b text, OUT count bigint, OUT expected float8)
    RETURNS SETOF record
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 16
    AS 'MODULE_PATHNAME', 'aisec_contingency_cells';

-- drift/divergence.sql
CREATE OR REPLACE FUNCTION aisec.histogram_stats_in(cstring) RETURNS aisec.histogram_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_histogram_stats_in';
CREATE OR REPLACE FUNCTION aisec.histogram_stats_out(aisec.histogram_stats) RETURNS cstring
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_histogram_stats_out';
CREATE OR REPLACE FUNCTION aisec.histogram_stats_recv(internal) RETURNS aisec.histogram_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_histogram_stats_recv';
CREATE OR REPLACE FUNCTION aisec.histogram_stats_send(aisec.histogram_stats) RETURNS bytea
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_histogram_stats_send';
CREATE OR REPLACE FUNCTION aisec.histogram_stats_from_bytea(bytea) RETURNS aisec.histogram_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_histogram_stats_from_bytea';
CREATE OR REPLACE FUNCTION aisec.histogram_transfn(internal, float8, float8, float8, integer) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_histogram_transfn';
CREATE OR REPLACE FUNCTION aisec.histogram_merge_transfn(internal, aisec.histogram_stats) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_histogram_merge_transfn';
CREATE OR REPLACE FUNCTION aisec.histogram_combinefn(internal, internal) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_histogram_combinefn';
CREATE OR REPLACE FUNCTION aisec.histogram_finalfn(internal) RETURNS aisec.histogram_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_histogram_finalfn';
CREATE OR REPLACE FUNCTION aisec.histogram_bins(h aisec.histogram_stats, OUT bin integer, OUT lower float8, OUT upper float8, OUT count bigint, OUT proportion float8) RETURNS SETOF record
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 12
    AS 'MODULE_PATHNAME', 'aisec_histogram_bins';
CREATE OR REPLACE FUNCTION aisec.category_stats_in(cstring) RETURNS aisec.category_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_category_stats_in';
CREATE OR REPLACE FUNCTION aisec.category_stats_out(aisec.category_stats) RETURNS cstring
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_category_stats_out';
CREATE OR REPLACE FUNCTION aisec.category_stats_recv(internal) RETURNS aisec.category_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_category_stats_recv';
CREATE OR REPLACE FUNCTION aisec.category_stats_send(aisec.category_stats) RETURNS bytea
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_category_stats_send';
CREATE OR REPLACE FUNCTION aisec.category_stats_from_bytea(bytea) RETURNS aisec.category_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_category_stats_from_bytea';
CREATE OR REPLACE FUNCTION aisec.category_counts_transfn(internal, text) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_category_counts_transfn';
CREATE OR REPLACE FUNCTION aisec.category_counts_merge_transfn(internal, aisec.category_stats) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_category_counts_merge_transfn';
CREATE OR REPLACE FUNCTION aisec.category_counts_combinefn(internal, internal) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_category_counts_combinefn';
CREATE OR REPLACE FUNCTION aisec.category_counts_finalfn(internal) RETURNS aisec.category_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_category_counts_finalfn';
CREATE OR REPLACE FUNCTION aisec.category_frequencies(c aisec.category_stats, OUT value text, OUT count bigint, OUT proportion float8) RETURNS SETOF record
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 12
    AS 'MODULE_PATHNAME', 'aisec_category_frequencies';
CREATE OR REPLACE FUNCTION aisec.psi(expected aisec.histogram_stats, actual aisec.histogram_stats, epsilon float8 DEFAULT 0.0001) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_psi';
CREATE OR REPLACE FUNCTION aisec.kl_divergence(p aisec.histogram_stats, q aisec.histogram_stats, epsilon float8 DEFAULT 0.0001) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_kl_divergence';
CREATE OR REPLACE FUNCTION aisec.js_divergence(p aisec.histogram_stats, q aisec.histogram_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_js_divergence';
CREATE OR REPLACE FUNCTION aisec.psi(expected aisec.category_stats, actual aisec.category_stats, epsilon float8 DEFAULT 0.0001) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_psi';
CREATE OR REPLACE FUNCTION aisec.kl_divergence(p aisec.category_stats, q aisec.category_stats, epsilon float8 DEFAULT 0.0001) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_kl_divergence';
CREATE OR REPLACE FUNCTION aisec.js_divergence(p aisec.category_stats, q aisec.category_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_js_divergence';
CREATE OR REPLACE FUNCTION aisec.ks_statistic(p aisec.histogram_stats, q aisec.histogram_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_ks_statistic';
CREATE OR REPLACE FUNCTION aisec.ks_statistic(x float8[], y float8[]) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_ks_statistic_values';
CREATE OR REPLACE FUNCTION aisec.class_imbalance(labels aisec.category_stats, OUT classes integer, OUT majority text, OUT minority text, OUT imbalance_ratio float8, OUT normalized_difference float8, OUT balance float8) RETURNS record
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_class_imbalance';

-- bias/fairness.sql
CREATE OR REPLACE FUNCTION aisec.fairness_stats_in(cstring) RETURNS aisec.fairness_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_fairness_stats_in';
CREATE OR REPLACE FUNCTION aisec.fairness_stats_out(aisec.fairness_stats) RETURNS cstring
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_fairness_stats_out';
CREATE OR REPLACE FUNCTION aisec.fairness_stats_recv(internal) RETURNS aisec.fairness_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_fairness_stats_recv';
CREATE OR REPLACE FUNCTION aisec.fairness_stats_send(aisec.fairness_stats) RETURNS bytea
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_fairness_stats_send';
CREATE OR REPLACE FUNCTION aisec.fairness_stats(bytea) RETURNS aisec.fairness_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_fairness_stats_from_bytes';
CREATE OR REPLACE FUNCTION aisec.fairness_transfn(internal, text, boolean, boolean) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_fairness_transfn';
CREATE OR REPLACE FUNCTION aisec.fairness_weighted_transfn(internal, text, boolean, boolean, float8) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_fairness_weighted_transfn';
CREATE OR REPLACE FUNCTION aisec.fairness_merge_transfn(internal, aisec.fairness_stats) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_fairness_merge_transfn';
CREATE OR REPLACE FUNCTION aisec.fairness_combinefn(internal, internal) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_fairness_combinefn';
CREATE OR REPLACE FUNCTION aisec.fairness_finalfn(internal) RETURNS aisec.fairness_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_fairness_finalfn';

-- bias/fairness_metrics.sql
CREATE OR REPLACE FUNCTION aisec.selection_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_selection_rate';
CREATE OR REPLACE FUNCTION aisec.base_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_base_rate';
CREATE OR REPLACE FUNCTION aisec.true_positive_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_true_positive_rate';
CREATE OR REPLACE FUNCTION aisec.false_positive_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_false_positive_rate';
CREATE OR REPLACE FUNCTION aisec.false_negative_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_false_negative_rate';
CREATE OR REPLACE FUNCTION aisec.true_negative_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_true_negative_rate';
CREATE OR REPLACE FUNCTION aisec.positive_predictive_value(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_positive_predictive_value';
CREATE OR REPLACE FUNCTION aisec.negative_predictive_value(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_negative_predictive_value';
CREATE OR REPLACE FUNCTION aisec.false_discovery_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_false_discovery_rate';
CREATE OR REPLACE FUNCTION aisec.false_omission_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_false_omission_rate';
CREATE OR REPLACE FUNCTION aisec.accuracy(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_accuracy';
CREATE OR REPLACE FUNCTION aisec.error_rate(s aisec.fairness_stats, grp text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_error_rate';
CREATE OR REPLACE FUNCTION aisec.demographic_parity_difference(s aisec.fairness_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_demographic_parity_difference';
CREATE OR REPLACE FUNCTION aisec.demographic_parity_ratio(s aisec.fairness_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_demographic_parity_ratio';
CREATE OR REPLACE FUNCTION aisec.equalized_odds_difference(s aisec.fairness_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_equalized_odds_difference';
CREATE OR REPLACE FUNCTION aisec.equalized_odds_ratio(s aisec.fairness_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_equalized_odds_ratio';
CREATE OR REPLACE FUNCTION aisec.equal_opportunity_difference(s aisec.fairness_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_equal_opportunity_difference';
CREATE OR REPLACE FUNCTION aisec.equal_opportunity_ratio(s aisec.fairness_stats) RETURNS float8
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_equal_opportunity_ratio';
CREATE OR REPLACE FUNCTION aisec.disparate_impact(s aisec.fairness_stats, unprivileged text, privileged text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_disparate_impact';
CREATE OR REPLACE FUNCTION aisec.statistical_parity_difference(s aisec.fairness_stats, unprivileged text, privileged text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_statistical_parity_difference';
CREATE OR REPLACE FUNCTION aisec.average_odds_difference(s aisec.fairness_stats, unprivileged text, privileged text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_average_odds_difference';
CREATE OR REPLACE FUNCTION aisec.average_abs_odds_difference(s aisec.fairness_stats, unprivileged text, privileged text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_average_abs_odds_difference';
CREATE OR REPLACE FUNCTION aisec.equal_opportunity_difference(s aisec.fairness_stats, unprivileged text, privileged text) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_equal_opportunity_difference_pair';

-- bias/fairness_report.sql
CREATE OR REPLACE FUNCTION aisec.fairness_report(
    s aisec.fairness_stats,
    reference text DEFAULT NULL,
    confidence float8 DEFAULT 0.95)
    RETURNS TABLE (
        grp text,
        is_reference boolean,
        n bigint,
        weight float8,
        base_rate float8,
        selection_rate float8,
        selection_rate_low float8,
        selection_rate_high float8,
        tpr float8,
        tpr_low float8,
        tpr_high float8,
        fpr float8,
        fpr_low float8,
        fpr_high float8,
        fnr float8,
        tnr float8,
        ppv float8,
        npv float8,
        accuracy float8,
        selection_rate_ratio float8,
        ratio_low float8,
        ratio_high float8,
        four_fifths text)
    LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 8
    AS 'MODULE_PATHNAME', 'aisec_fairness_report';
CREATE OR REPLACE FUNCTION aisec.fairness_svg(
    s aisec.fairness_stats,
    reference text DEFAULT NULL,
    confidence float8 DEFAULT 0.95)
    RETURNS text
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_fairness_svg';

-- masking/fpe.sql
CREATE OR REPLACE FUNCTION aisec.ff1_encrypt(value text, key text, alphabet text DEFAULT '0123456789', tweak bytea DEFAULT '')
    RETURNS text
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_ff1_encrypt';
CREATE OR REPLACE FUNCTION aisec.ff1_decrypt(value text, key text, alphabet text DEFAULT '0123456789', tweak bytea DEFAULT '', key_version integer DEFAULT 0)
    RETURNS text
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_ff1_decrypt';

-- versioning/history.sql
CREATE OR REPLACE FUNCTION aisec.capture() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'aisec_capture';
CREATE OR REPLACE FUNCTION aisec.capture_row() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'aisec_capture_row';
CREATE OR REPLACE FUNCTION aisec.capture_row_needed(oid, tid) RETURNS boolean
    LANGUAGE C STRICT PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'aisec_capture_row_needed';
CREATE OR REPLACE FUNCTION aisec.history_refuse_change() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'aisec_history_refuse_change';
CREATE OR REPLACE FUNCTION aisec.track(rel regclass) RETURNS integer
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_track';
CREATE OR REPLACE FUNCTION aisec.untrack(rel regclass) RETURNS void
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_untrack';
CREATE OR REPLACE FUNCTION aisec.rid_table(rid bigint) RETURNS regclass
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_rid_table';

-- bias/inequality.sql
CREATE OR REPLACE FUNCTION aisec.generalized_entropy_transfn(internal, boolean, boolean, float8) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_generalized_entropy_transfn';
CREATE OR REPLACE FUNCTION aisec.theil_transfn(internal, boolean, boolean) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_theil_transfn';
CREATE OR REPLACE FUNCTION aisec.inequality_combinefn(internal, internal) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_inequality_combinefn';
CREATE OR REPLACE FUNCTION aisec.generalized_entropy_finalfn(internal) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_generalized_entropy_finalfn';

-- keys/keys.sql
CREATE OR REPLACE FUNCTION aisec.signing_public_key() RETURNS text
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_signing_public_key';
CREATE OR REPLACE FUNCTION aisec.create_key(name text, purpose text) RETURNS integer
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_create_key';
CREATE OR REPLACE FUNCTION aisec.import_key(name text, secret bytea, purpose text) RETURNS integer
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_import_key';
CREATE OR REPLACE FUNCTION aisec.rotate_key(name text) RETURNS integer
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_rotate_key';
CREATE OR REPLACE FUNCTION aisec.drop_key(name text) RETURNS integer
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_drop_key';

-- masking/mask.sql
CREATE OR REPLACE FUNCTION aisec.mask_partial(value text, keep_prefix integer, keep_suffix integer, pad text DEFAULT '*')
    RETURNS text
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_mask_partial';
CREATE OR REPLACE FUNCTION aisec.mask_email(value text)
    RETURNS text
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_mask_email';
CREATE OR REPLACE FUNCTION aisec.mask_digits(value text, keep_last integer DEFAULT 4, pad text DEFAULT '*')
    RETURNS text
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_mask_digits';
CREATE OR REPLACE FUNCTION aisec.generalize(value smallint, step smallint)
    RETURNS smallint
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_generalize_int2';
CREATE OR REPLACE FUNCTION aisec.generalize(value integer, step integer)
    RETURNS integer
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_generalize_int4';
CREATE OR REPLACE FUNCTION aisec.generalize(value bigint, step bigint)
    RETURNS bigint
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_generalize_int8';
CREATE OR REPLACE FUNCTION aisec.generalize(value numeric, step numeric)
    RETURNS numeric
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_generalize_numeric';
CREATE OR REPLACE FUNCTION aisec.generalize(value date, unit text)
    RETURNS date
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_generalize_date';
CREATE OR REPLACE FUNCTION aisec.generalize(value timestamp, unit text)
    RETURNS timestamp
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_generalize_timestamp';
CREATE OR REPLACE FUNCTION aisec.generalize(value timestamptz, unit text)
    RETURNS timestamptz
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_generalize_timestamptz';

-- masking/masking_rules.sql
CREATE OR REPLACE FUNCTION aisec.mask_rule_resolve() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'aisec_mask_rule_resolve';
CREATE OR REPLACE FUNCTION aisec.set_mask(rel regclass, col name, rule text) RETURNS text
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_set_mask';
CREATE OR REPLACE FUNCTION aisec.drop_mask(rel regclass, col name) RETURNS boolean
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_drop_mask';
CREATE OR REPLACE FUNCTION aisec.masked_view(rel regclass) RETURNS regclass
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_masked_view';
CREATE OR REPLACE FUNCTION aisec.mask_role(role name) RETURNS integer
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_mask_role';
CREATE OR REPLACE FUNCTION aisec.unmask_role(role name) RETURNS boolean
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_unmask_role';
CREATE OR REPLACE FUNCTION aisec.export_masked(rel regclass, target name, min_k integer DEFAULT NULL,
                                    quasi_identifiers text[] DEFAULT NULL,
                                    OUT exported bigint, OUT suppressed bigint)
    RETURNS record
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_export_masked';

-- masking/pseudonym.sql
CREATE OR REPLACE FUNCTION aisec.pseudonymize(value text, key text)
    RETURNS text
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_pseudonymize';
CREATE OR REPLACE FUNCTION aisec.sticky_noise(value double precision, key text, ratio double precision)
    RETURNS double precision
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_sticky_noise';

-- bias/reweighing.sql
CREATE OR REPLACE FUNCTION aisec.reweighing(s aisec.fairness_stats)
    RETURNS TABLE (grp text, label boolean, weight float8)
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 16
    AS 'MODULE_PATHNAME', 'aisec_reweighing';

-- versioning/version.sql
CREATE OR REPLACE FUNCTION aisec.create_dataset(name text, tables regclass[], description text DEFAULT NULL)
    RETURNS integer
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_create_dataset';
CREATE OR REPLACE FUNCTION aisec.commit(dataset text, message text DEFAULT NULL) RETURNS bigint
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_version_commit';
CREATE OR REPLACE FUNCTION aisec.tag(dataset text, version bigint, tag text) RETURNS void
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_version_tag';
CREATE OR REPLACE FUNCTION aisec.checkout_support(internal) RETURNS internal
    LANGUAGE C STRICT STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_checkout_support';
CREATE OR REPLACE FUNCTION aisec.checkout(rel anyelement, version bigint) RETURNS SETOF anyelement
    LANGUAGE C STABLE PARALLEL RESTRICTED
    SUPPORT aisec.checkout_support
    AS 'MODULE_PATHNAME', 'aisec_checkout';
CREATE OR REPLACE FUNCTION aisec.checkout(rel anyelement, tag text) RETURNS SETOF anyelement
    LANGUAGE C STABLE PARALLEL RESTRICTED
    SUPPORT aisec.checkout_support
    AS 'MODULE_PATHNAME', 'aisec_checkout';
CREATE OR REPLACE FUNCTION aisec.materialize(rel regclass, version bigint, target name) RETURNS bigint
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_materialize';
CREATE OR REPLACE FUNCTION aisec.manifest(dataset text, version bigint) RETURNS jsonb
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'aisec_manifest';
CREATE OR REPLACE FUNCTION aisec.diff(rel regclass, from_version bigint, to_version bigint)
    RETURNS TABLE (change text, rid bigint, before jsonb, after jsonb)
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'aisec_diff';
CREATE OR REPLACE FUNCTION aisec.verify(dataset text, version bigint DEFAULT NULL)
    RETURNS TABLE (version bigint, "table" regclass, ok boolean, expected text, actual text)
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'aisec_verify';

-- ==== 2. Comments ====

COMMENT ON SCHEMA aisec IS 'aisec: governed machine-learning training data (audit log, keys, masking, dataset versions, row lineage, GDPR erasure, bias and drift statistics)';
-- CREATE EXTENSION took the extension's comment from the control file of
-- its day; this is 0.2.0's aisec.control comment.
COMMENT ON EXTENSION aisec IS 'governed ML training data: audit log, keys, masking, dataset versions, row lineage, GDPR erasure, bias and drift statistics';

-- ==== 3. Every aisec table is heap ====

DO $$
DECLARE
    t pg_catalog.regclass;
BEGIN
    SELECT c.oid::pg_catalog.regclass INTO t
      FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_am a ON a.oid OPERATOR(pg_catalog.=) c.relam
     WHERE c.relnamespace OPERATOR(pg_catalog.=) 'aisec'::pg_catalog.regnamespace
       AND c.relkind OPERATOR(pg_catalog.=) 'r'
       AND a.amhandler OPERATOR(pg_catalog.<>) 'pg_catalog.heap_tableam_handler'::pg_catalog.regproc
     ORDER BY 1 LIMIT 1;
    IF t IS NOT NULL THEN
        RAISE EXCEPTION 'aisec table % does not use the heap access method', t
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'On PostgreSQL 15 or later, run ALTER TABLE ... SET ACCESS METHOD heap on it, then update again.';
    END IF;
END
$$;

-- ==== 4. Masking: functions masked views call, partitions, views rebuilt ====

-- Masked roles read masked views through membership in aisec_masked_reader
-- (0.1.0 granted each one the functions directly; mask_role below takes
-- those grants back and makes it a member).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'aisec_masked_reader') THEN
        CREATE ROLE aisec_masked_reader NOLOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA aisec_masked TO aisec_masked_reader;
GRANT EXECUTE ON FUNCTION aisec.mask_partial(text, integer, integer, text), aisec.mask_email(text),
    aisec.mask_digits(text, integer, text), aisec.generalize(smallint, smallint),
    aisec.generalize(integer, integer), aisec.generalize(bigint, bigint),
    aisec.generalize(numeric, numeric), aisec.generalize(date, text),
    aisec.generalize(timestamp, text), aisec.generalize(timestamptz, text),
    aisec.pseudonymize(text, text), aisec.ff1_encrypt(text, text, text, bytea),
    aisec.sticky_noise(double precision, text, double precision)
    TO aisec_masked_reader;

CREATE FUNCTION aisec.output_text(value anyelement)
    RETURNS text
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_output_text';
REVOKE ALL ON FUNCTION aisec.output_text(anyelement) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.output_text(anyelement) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor, aisec_masked_reader;
COMMENT ON FUNCTION aisec.output_text(anyelement) IS 'a value''s text form from its type''s output function, resolving no cast: what masked views pseudonymize for types that are not built in';

CREATE FUNCTION aisec.mask_ff1(value text, key text, alphabet text)
    RETURNS text
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_mask_ff1';
REVOKE ALL ON FUNCTION aisec.mask_ff1(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.mask_ff1(text, text, text) TO aisec_admin, aisec_engineer, aisec_masked_reader;
COMMENT ON FUNCTION aisec.mask_ff1(text, text, text) IS 'the ff1 rule of masked views: ff1_encrypt(value, key, alphabet), but NULL for a value FF1 cannot take (a character outside the alphabet, too short or too long), never an error';

CREATE FUNCTION aisec.mask_noise(value anyelement, key text, ratio double precision, typmod integer)
    RETURNS anyelement
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_mask_noise';
REVOKE ALL ON FUNCTION aisec.mask_noise(anyelement, text, double precision, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.mask_noise(anyelement, text, double precision, integer) TO aisec_admin, aisec_engineer, aisec_masked_reader;
COMMENT ON FUNCTION aisec.mask_noise(anyelement, text, double precision, integer) IS 'the noise rule of masked views: sticky_noise in the value''s own integer, floating-point or numeric type (typmod: the numeric column''s), NULL when the noisy value does not fit that type, never an error';

COMMENT ON FUNCTION aisec.mask_rule_sync() IS 'event trigger: after ALTER TABLE, keep masking rules'' stored column names current and masked views'' owner and row-level security in step with their table; after ALTER or CREATE TABLE that makes a partition or inheritance child, shield the masked roles from it';
CREATE EVENT TRIGGER aisec_mask_partition_check ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE')
    EXECUTE FUNCTION aisec.mask_rule_sync();

-- Build every masked view again with 0.2.0's expressions and owner (the
-- views are not extension members: aisec detaches what it builds here);
-- then make every masked role a member of aisec_masked_reader, take back
-- 0.1.0's direct grants, and prove again that it reaches no governed
-- table's rows through a partition, an inheritance child or a parent
-- (stops, naming role and table, if one does).
SELECT aisec.masked_view(rel) FROM aisec.mask_view ORDER BY rel::pg_catalog.oid;
SELECT aisec.mask_role(r.rolname)
  FROM aisec.masked_role m
  JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) m.role::pg_catalog.oid
 ORDER BY r.rolname;

-- 5. Versioning lifecycle: parallel restore, DROP EXTENSION, clear errors (issue 16)

-- pg_restore -j loads the rows of aisec's tables in any order, and these
-- keys refused some of them: aisec's functions are the only writers, and
-- aisec.verify() reports a record that names a missing dataset or version.
ALTER TABLE aisec.tracked DROP CONSTRAINT tracked_dataset_id_fkey;
ALTER TABLE aisec.version DROP CONSTRAINT version_dataset_id_fkey;
ALTER TABLE aisec.version_table DROP CONSTRAINT version_table_dataset_id_version_fkey;
ALTER TABLE aisec.tag DROP CONSTRAINT tag_dataset_id_version_fkey;

-- Checks before PostgreSQL's own errors (ADD COLUMN with a default, DROP
-- TABLE of a tracked table), and DROP EXTENSION aisec [CASCADE]: refused
-- without CASCADE while tables are tracked, and with CASCADE it drops every
-- history table, aisec_rid column and capture trigger (doc/versioning.md,
-- "Dropping the extension").
CREATE FUNCTION aisec.track_ddl_start_check() RETURNS event_trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'aisec_track_ddl_start_check';
REVOKE ALL ON FUNCTION aisec.track_ddl_start_check() FROM PUBLIC;
COMMENT ON FUNCTION aisec.track_ddl_start_check() IS 'event trigger: before PostgreSQL''s own errors, refuses ALTER TABLE ... ADD COLUMN with a default (or serial, identity, generated) on a tracked table and DROP TABLE of a tracked table, saying what to run instead';

CREATE EVENT TRIGGER aisec_track_ddl_start ON ddl_command_start
    WHEN TAG IN ('ALTER TABLE', 'DROP TABLE')
    EXECUTE FUNCTION aisec.track_ddl_start_check();

CREATE FUNCTION aisec.drop_extension_check() RETURNS event_trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'aisec_drop_extension_check';
REVOKE ALL ON FUNCTION aisec.drop_extension_check() FROM PUBLIC;
COMMENT ON FUNCTION aisec.drop_extension_check() IS 'event trigger: DROP EXTENSION aisec (or DROP SCHEMA aisec) CASCADE drops every history table, aisec_rid column and capture trigger of tracked tables first; without CASCADE it is refused while tables are tracked';

CREATE EVENT TRIGGER aisec_drop_extension ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA')
    EXECUTE FUNCTION aisec.drop_extension_check();
ALTER EVENT TRIGGER aisec_drop_extension ENABLE ALWAYS;

-- ==== 6. Keyed diff and diff_summary (issue 16) ====

-- aisec.diff gains a fourth argument, key text[] DEFAULT NULL: a new
-- argument list, so the function is dropped and created again (section 1
-- gave the three-argument one its new symbol first).  Nothing of aisec
-- depends on it.
DROP FUNCTION aisec.diff(regclass, bigint, bigint);
CREATE FUNCTION aisec.diff(rel regclass, from_version bigint, to_version bigint, key text[] DEFAULT NULL)
    RETURNS TABLE (change text, rid bigint, before jsonb, after jsonb)
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'aisec_diff';
REVOKE ALL ON FUNCTION aisec.diff(regclass, bigint, bigint, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.diff(regclass, bigint, bigint, text[]) TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.diff(regclass, bigint, bigint, text[]) IS 'rows added, removed and changed in a table between two versions (version 0 is the empty table), matched by row id, or by the columns named in key';

CREATE FUNCTION aisec.diff_summary(rel regclass, from_version bigint, to_version bigint, key text[] DEFAULT NULL)
    RETURNS TABLE ("column" name, changed bigint, added bigint, removed bigint)
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'aisec_diff_summary';
REVOKE ALL ON FUNCTION aisec.diff_summary(regclass, bigint, bigint, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.diff_summary(regclass, bigint, bigint, text[]) TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.diff_summary(regclass, bigint, bigint, text[]) IS 'counts of aisec.diff: a first row ("column" NULL) with the rows changed, added and removed, then per column the changed rows whose value in it differs and the added and removed rows with a value in it';

-- ==== 7. Masked checkout and the checkout(name) hint (issue 16) ====

-- Masked roles read versions masked: aisec.checkout(NULL::aisec_masked.t, v).
GRANT USAGE ON SCHEMA aisec TO aisec_masked_reader;
GRANT EXECUTE ON FUNCTION aisec.checkout(anyelement, bigint), aisec.checkout(anyelement, text)
    TO aisec_masked_reader;
COMMENT ON FUNCTION aisec.checkout(anyelement, bigint) IS 'the rows of a tracked table as they were at a committed version: SELECT * FROM aisec.checkout(NULL::t, 3); masked as its masked view masks them: aisec.checkout(NULL::aisec_masked.t, 3)';
COMMENT ON FUNCTION aisec.checkout(anyelement, text) IS 'the rows of a tracked table as they were at a tagged version: SELECT * FROM aisec.checkout(NULL::t, ''v1''); masked: aisec.checkout(NULL::aisec_masked.t, ''v1'')';
COMMENT ON FUNCTION aisec.materialize(regclass, bigint, name) IS 'copy a committed version of a table (or, given its masked view, the version masked) into a new plain table (for a training job); returns the row count';

-- checkout('t', ...) with a name: only an error that says to write NULL::t
-- (without it, PostgreSQL reports an unresolvable polymorphic type).
CREATE FUNCTION aisec.checkout(rel text, version bigint) RETURNS SETOF void
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'aisec_checkout_by_name';
REVOKE ALL ON FUNCTION aisec.checkout(text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.checkout(text, bigint) TO aisec_admin, aisec_engineer, aisec_masked_reader;
COMMENT ON FUNCTION aisec.checkout(text, bigint) IS 'not a checkout: raises an error saying to pass the table''s row type, aisec.checkout(NULL::t, 3), instead of its name';

CREATE FUNCTION aisec.checkout(rel text, tag text) RETURNS SETOF void
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'aisec_checkout_by_name';
REVOKE ALL ON FUNCTION aisec.checkout(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.checkout(text, text) TO aisec_admin, aisec_engineer, aisec_masked_reader;
COMMENT ON FUNCTION aisec.checkout(text, text) IS 'not a checkout: raises an error saying to pass the table''s row type, aisec.checkout(NULL::t, ''v1''), instead of its name';

-- 8. Dataset housekeeping (issue 16): remove_table, drop_dataset, untag,
-- status and the tracked_tables view; tag() returns the version it tagged
-- (a changed return type: dropped and created again, with its grant and
-- comment); untrack's comment says its new rule.
DROP FUNCTION aisec.tag(text, bigint, text);
CREATE FUNCTION aisec.tag(dataset text, version bigint, tag text) RETURNS bigint
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_version_tag';
REVOKE ALL ON FUNCTION aisec.tag(text, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.tag(text, bigint, text) TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.tag(text, bigint, text) IS 'name a committed version; returns it; tags are immutable and unique per dataset (only aisec.untag() removes one)';
COMMENT ON FUNCTION aisec.untrack(regclass) IS 'stop governing a table that is in no dataset and whose history no committed version includes: drops its history and its aisec_rid column';

-- Which dataset's versions include a table (untrack, remove_table, checkout
-- of a removed table) is looked up by table number.
CREATE INDEX version_table_table_no ON aisec.version_table (table_no, dataset_id);

CREATE FUNCTION aisec.remove_table(dataset text, rel regclass) RETURNS void
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_remove_table';
REVOKE ALL ON FUNCTION aisec.remove_table(text, regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.remove_table(text, regclass) TO aisec_admin;
COMMENT ON FUNCTION aisec.remove_table(text, regclass) IS 'take a table out of a dataset: later versions leave it out, earlier ones keep it; it stays tracked, in no dataset';

CREATE FUNCTION aisec.drop_dataset(name text, keep_history boolean DEFAULT true) RETURNS void
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_drop_dataset';
REVOKE ALL ON FUNCTION aisec.drop_dataset(text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.drop_dataset(text, boolean) TO aisec_admin;
COMMENT ON FUNCTION aisec.drop_dataset(text, boolean) IS 'drop a dataset, its versions and tags; its tables stay tracked with their history, or with keep_history => false are untracked and their history dropped';

CREATE FUNCTION aisec.untag(dataset text, tag text) RETURNS bigint
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_untag';
REVOKE ALL ON FUNCTION aisec.untag(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.untag(text, text) TO aisec_admin;
COMMENT ON FUNCTION aisec.untag(text, text) IS 'remove a tag; returns the version it named (audited)';

CREATE FUNCTION aisec.status(dataset text)
    RETURNS TABLE ("table" regclass, inserted bigint, updated bigint, deleted bigint)
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'aisec_status';
REVOKE ALL ON FUNCTION aisec.status(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.status(text) TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.status(text) IS 'per table of a dataset, the rows inserted, updated and deleted since the last commit (needs SELECT on each table)';

-- PARALLEL UNSAFE: it counts each table in a subtransaction (so that one
-- table's damaged notes only blank its own counts), which parallel mode
-- forbids.
CREATE FUNCTION aisec.tracked_table_counts()
    RETURNS TABLE (table_no integer, "rows" bigint, pending_changes bigint)
    LANGUAGE C STABLE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_tracked_table_counts';
REVOKE ALL ON FUNCTION aisec.tracked_table_counts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.tracked_table_counts() TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.tracked_table_counts() IS 'the row counts of aisec.tracked_tables: per tracked table, its rows now and the rows changed since its last commit';

CREATE VIEW aisec.tracked_tables AS
SELECT t.rel AS "table",
       t.table_no,
       c.rows,
       pg_catalog.pg_total_relation_size(t.history)
         OPERATOR(pg_catalog.+) pg_catalog.pg_total_relation_size(t.ended) AS history_size,
       d.name AS dataset,
       c.pending_changes
FROM aisec.tracked t
LEFT JOIN aisec.dataset d ON d.id OPERATOR(pg_catalog.=) t.dataset_id
LEFT JOIN aisec.tracked_table_counts() c ON c.table_no OPERATOR(pg_catalog.=) t.table_no;
GRANT SELECT ON aisec.tracked_tables TO aisec_admin, aisec_engineer;
COMMENT ON VIEW aisec.tracked_tables IS 'aisec tracked tables: table, table number, rows now (rows of the last committed version that includes the table, 0 before any, plus rows inserted minus rows deleted since, from the history records and notes of the pending version: O(changes); NULL once no version records it, after drop_dataset keeping history), history size in bytes (history and ended records with their indexes), dataset (NULL if none), pending changes (rows inserted, updated or deleted since the last commit, each row once, as aisec.status counts them)';

-- 9. History BRIN indexes summarize themselves (issue 16)

-- track() now creates the BRIN indexes of history_<n> (valid_from) and
-- history_<n>_ended (valid_to) with autosummarize = on, so that status()
-- and diff() find the records of recent versions without waiting for the
-- next vacuum; the histories 0.1.0 created get the same setting.
DO $$
DECLARE
    idx pg_catalog.regclass;
BEGIN
    FOR idx IN
        SELECT i.indexrelid::pg_catalog.regclass
          FROM aisec.tracked t
          JOIN pg_catalog.pg_index i
            ON i.indrelid OPERATOR(pg_catalog.=) ANY (ARRAY[t.history::pg_catalog.oid, t.ended::pg_catalog.oid])
          JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.indexrelid
          JOIN pg_catalog.pg_am a ON a.oid OPERATOR(pg_catalog.=) c.relam
         WHERE a.amname OPERATOR(pg_catalog.=) 'brin'
         ORDER BY 1
    LOOP
        EXECUTE pg_catalog.format('ALTER INDEX %s SET (autosummarize = on)', idx);
    END LOOP;
END
$$;

-- ==== 10. revert: aisec.revert() and the note it leaves for the next commit (issue 16) ====

CREATE TABLE aisec.pending_note (
    dataset_id  integer     PRIMARY KEY,
    version     bigint      NOT NULL,
    reverted_to bigint      NOT NULL,
    noted_at    timestamptz NOT NULL,
    noted_by    text        NOT NULL
) USING heap;
REVOKE ALL ON aisec.pending_note FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.pending_note', '');
COMMENT ON TABLE aisec.pending_note IS 'aisec: a revert made since the last commit of a dataset (pending version, version reverted to), which the next commit names in its message';
CREATE TRIGGER pending_note_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE
    ON aisec.pending_note FOR EACH STATEMENT EXECUTE FUNCTION aisec.history_refuse_change();
ALTER TABLE aisec.pending_note ENABLE ALWAYS TRIGGER pending_note_refuse_change;

CREATE FUNCTION aisec.revert(dataset text, to_version bigint)
    RETURNS TABLE ("table" regclass, inserted bigint, updated bigint, deleted bigint)
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_revert';
REVOKE ALL ON FUNCTION aisec.revert(text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.revert(text, bigint) TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.revert(text, bigint) IS 'write every table of a dataset back to a committed version (0: empty) as ordinary captured changes, deleted rows back with their row ids; the next commit''s message says "reverted to version N"; one row per table with the rows inserted, updated and deleted';

-- ==== 11. Restored tables keep their row hashes (issue 16) ====

-- Row hashes number each column with its attnum where the table was
-- tracked; a table restored by pg_restore has no dropped columns, so its
-- columns may have other attnums.  A registry row that pg_restore puts
-- back keeps the old numbers in hash_columns and takes the new attnums.
ALTER TABLE aisec.tracked ADD COLUMN hash_columns smallint[];
COMMENT ON COLUMN aisec.tracked.hash_columns IS 'the numbers row hashes give the columns (their attnums where the table was tracked) when a restore renumbered them; NULL: the attnums';

CREATE FUNCTION aisec.tracked_restore() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'aisec_tracked_restore';
REVOKE ALL ON FUNCTION aisec.tracked_restore() FROM PUBLIC;
COMMENT ON FUNCTION aisec.tracked_restore() IS 'trigger: a row of aisec.tracked that aisec does not write itself (pg_restore) takes the attnums of the restored table, which has no dropped columns, and keeps the old ones as hash_columns';
CREATE TRIGGER tracked_restore BEFORE INSERT ON aisec.tracked
    FOR EACH ROW EXECUTE FUNCTION aisec.tracked_restore();
ALTER TABLE aisec.tracked ENABLE ALWAYS TRIGGER tracked_restore;

-- ==== 12. Row lineage (issue 17) ====

-- The lineage tables, their guard trigger, aisec.record_lineage,
-- aisec.lineage_up/lineage_down and aisec.lineage_graph, as
-- src/lineage/zz_lineage.sql declares them.

-- One row per capturing statement or call.  No FOREIGN KEY to or from
-- other aisec tables: pg_restore -j loads their rows in any order.
CREATE SEQUENCE aisec.lineage_transform_seq;
REVOKE ALL ON SEQUENCE aisec.lineage_transform_seq FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.lineage_transform_seq', '');
COMMENT ON SEQUENCE aisec.lineage_transform_seq IS 'aisec lineage transform ids';

CREATE TABLE aisec.lineage_transform (
    id              bigint      PRIMARY KEY,
    kind            text        NOT NULL,
    name            text,
    fingerprint     bigint,
    level           text        NOT NULL,
    sources         integer[]   NOT NULL,
    source_versions bigint[]    NOT NULL,
    targets         integer[]   NOT NULL,
    target_rel      regclass,
    edges           bigint      NOT NULL,
    role            text        NOT NULL,
    xact            bigint      NOT NULL,
    at              timestamptz NOT NULL,
    untracked_sources text[]    NOT NULL DEFAULT '{}'
) USING heap;
CREATE INDEX lineage_transform_target_rel ON aisec.lineage_transform (target_rel) WHERE target_rel IS NOT NULL;
REVOKE ALL ON aisec.lineage_transform FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.lineage_transform', '');
COMMENT ON TABLE aisec.lineage_transform IS 'aisec row lineage: one row per transform (statement or call that recorded lineage): kind, name (aisec.transform), level (row or table), source tables (table numbers) with the versions read, target tables, edges, role, transaction, time';
COMMENT ON COLUMN aisec.lineage_transform.untracked_sources IS 'the relations the transform read that are not tracked (table-level lineage only), by their qualified names when it was recorded: names, not OIDs, so that a dump restores them and a dropped table never names another';

-- The edges, one row per child row version and block of 262,144 parent row
-- ids: the parents in that block delta-encoded, with the lowest and the
-- highest of them, whose range the second index finds for "which rows
-- name this parent" (doc/lineage.md).
CREATE TABLE aisec.lineage_edge (
    child      bigint NOT NULL,
    child_from bigint NOT NULL,
    parent_lo  bigint NOT NULL,
    parent_hi  bigint NOT NULL,
    parents    bytea  NOT NULL,
    transform  bigint NOT NULL
) USING heap;
CREATE INDEX lineage_edge_child ON aisec.lineage_edge (child);
-- Down (the rows whose parent range holds a rid): a btree on the range's
-- width class (0 a point, 1 a run or set up to 4,096 ids wide, 2 a set
-- within one block; 3 a run kept for lineage_up only, format 4, never
-- scanned) and its low end; lineage_down scans, per class, parent_lo from
-- the rid minus the class's widest range up to the rid (doc/lineage.md
-- "Indexes").
CREATE INDEX lineage_edge_parent ON aisec.lineage_edge
    ((CASE WHEN pg_catalog.get_byte(parents, 0) OPERATOR(pg_catalog.=) 4 THEN 3
           WHEN parent_hi OPERATOR(pg_catalog.=) parent_lo THEN 0
           WHEN parent_hi OPERATOR(pg_catalog.-) parent_lo OPERATOR(pg_catalog.<=) 4096 THEN 1
           ELSE 2 END), parent_lo);
REVOKE ALL ON aisec.lineage_edge FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.lineage_edge', '');
COMMENT ON TABLE aisec.lineage_edge IS 'aisec row lineage: child row version (child, child_from) <- its parents within one block of 262,144 row ids (parents: encoded (rid, valid_from) set, parent_lo and parent_hi its lowest and highest rid), by transform; read with aisec.lineage_up/lineage_down';

CREATE FUNCTION aisec.lineage_refuse_change() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'aisec_lineage_refuse_change';
REVOKE ALL ON FUNCTION aisec.lineage_refuse_change() FROM PUBLIC;
COMMENT ON FUNCTION aisec.lineage_refuse_change() IS 'trigger: refuses UPDATE, DELETE and TRUNCATE of lineage records, for every role, and has each refusal recorded in the audit log (version.refused)';

-- INSERT is let through: pg_restore reloads these tables' rows.
CREATE TRIGGER lineage_transform_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE
    ON aisec.lineage_transform FOR EACH STATEMENT EXECUTE FUNCTION aisec.lineage_refuse_change();
ALTER TABLE aisec.lineage_transform ENABLE ALWAYS TRIGGER lineage_transform_refuse_change;
CREATE TRIGGER lineage_edge_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE
    ON aisec.lineage_edge FOR EACH STATEMENT EXECUTE FUNCTION aisec.lineage_refuse_change();
ALTER TABLE aisec.lineage_edge ENABLE ALWAYS TRIGGER lineage_edge_refuse_change;

CREATE FUNCTION aisec.record_lineage(child_rids bigint[], parent_rids bigint[], transform text DEFAULT NULL)
    RETURNS bigint
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_record_lineage';
REVOKE ALL ON FUNCTION aisec.record_lineage(bigint[], bigint[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.record_lineage(bigint[], bigint[], text) TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.record_lineage(bigint[], bigint[], text) IS 'record row lineage made outside SQL: edge i links child_rids[i] to parent_rids[i] (each rid a row of a tracked table, live or in history, that the caller may read); returns the transform id';

CREATE FUNCTION aisec.lineage_up(rid bigint, depth integer DEFAULT NULL)
    RETURNS TABLE (depth integer, rid bigint, rel regclass, valid_from bigint, transform bigint)
    LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 100
    AS 'MODULE_PATHNAME', 'aisec_lineage_up';
REVOKE ALL ON FUNCTION aisec.lineage_up(bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.lineage_up(bigint, integer) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.lineage_up(bigint, integer) IS 'the row versions a row was made from, transitively (depth NULL: all the way), each once: depth, row id, table, version, transform; ids only, no row data';

CREATE FUNCTION aisec.lineage_up(rids bigint[], depth integer DEFAULT NULL)
    RETURNS TABLE (depth integer, rid bigint, rel regclass, valid_from bigint, transform bigint)
    LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 100
    AS 'MODULE_PATHNAME', 'aisec_lineage_up_array';
REVOKE ALL ON FUNCTION aisec.lineage_up(bigint[], integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.lineage_up(bigint[], integer) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.lineage_up(bigint[], integer) IS 'the row versions some rows were made from, transitively (depth NULL: all the way), each once; ids only, no row data';

CREATE FUNCTION aisec.lineage_down(rid bigint, depth integer DEFAULT NULL)
    RETURNS TABLE (depth integer, rid bigint, rel regclass, valid_from bigint, transform bigint)
    LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 100
    AS 'MODULE_PATHNAME', 'aisec_lineage_down';
REVOKE ALL ON FUNCTION aisec.lineage_down(bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.lineage_down(bigint, integer) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.lineage_down(bigint, integer) IS 'the row versions made from a row, transitively (depth NULL: all the way), each once: depth, row id, table, version, transform; ids only, no row data';

CREATE FUNCTION aisec.lineage_down(rids bigint[], depth integer DEFAULT NULL)
    RETURNS TABLE (depth integer, rid bigint, rel regclass, valid_from bigint, transform bigint)
    LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 100
    AS 'MODULE_PATHNAME', 'aisec_lineage_down_array';
REVOKE ALL ON FUNCTION aisec.lineage_down(bigint[], integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.lineage_down(bigint[], integer) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.lineage_down(bigint[], integer) IS 'the row versions made from some rows, transitively (depth NULL: all the way), each once; ids only, no row data';

-- Table-level lineage (issue item 10): one row per source table, target
-- table and transform name, over every transform recorded.  Tracked
-- sources are named through the registry (NULL once a table is no longer
-- tracked), untracked ones by the name recorded (source NULL once no
-- relation has that name); a materialize target, not tracked, through
-- target_rel.  Edges run from tracked sources only.
CREATE VIEW aisec.lineage_graph AS
SELECT src.source,
       coalesce(g.rel, t.target_rel) AS target,
       t.name AS transform,
       t.kind,
       t.fingerprint,
       pg_catalog.count(*) AS statements,
       pg_catalog.sum(CASE WHEN src.tracked THEN t.edges ELSE 0 END) AS edges,
       pg_catalog.min(t.at) AS first_seen,
       pg_catalog.max(t.at) AS last_seen,
       src.tracked AS source_tracked,
       src.name AS source_name
FROM aisec.lineage_transform t
CROSS JOIN LATERAL (
    SELECT s.rel, true,
           (SELECT pg_catalog.quote_ident(n.nspname::pg_catalog.text) OPERATOR(pg_catalog.||) '.'
                   OPERATOR(pg_catalog.||) pg_catalog.quote_ident(c.relname::pg_catalog.text)
            FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
            WHERE c.oid OPERATOR(pg_catalog.=) s.rel::pg_catalog.oid)
    FROM pg_catalog.unnest(t.sources) AS sn(no)
    LEFT JOIN aisec.tracked s ON s.table_no OPERATOR(pg_catalog.=) sn.no
    UNION ALL
    SELECT pg_catalog.to_regclass(u.name), false, u.name
    FROM pg_catalog.unnest(t.untracked_sources) AS u(name)
) AS src(source, tracked, name)
LEFT JOIN LATERAL pg_catalog.unnest(CASE WHEN pg_catalog.cardinality(t.targets) OPERATOR(pg_catalog.=) 0
                                         THEN '{NULL}'::integer[] ELSE t.targets END) AS tn(no) ON true
LEFT JOIN aisec.tracked g ON g.table_no OPERATOR(pg_catalog.=) tn.no
GROUP BY 1, 2, 3, 4, 5, 10, 11;
GRANT SELECT ON aisec.lineage_graph TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON VIEW aisec.lineage_graph IS 'aisec table-level lineage: source table, target table, transform name, kind and fingerprint, statements (transforms), edges, first and last seen, whether the source is tracked, and its name (for an untracked source the name recorded); table names only, no row data';

-- ==== 13. OpenLineage events (issue 17) ====
-- (manifest() gains "upstream" in C only: no catalog change.)

CREATE FUNCTION aisec.openlineage_events(since timestamptz DEFAULT '-infinity')
    RETURNS SETOF jsonb
    LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 100
    AS 'MODULE_PATHNAME', 'aisec_openlineage_events';
REVOKE ALL ON FUNCTION aisec.openlineage_events(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.openlineage_events(timestamptz) TO aisec_admin, aisec_engineer, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.openlineage_events(timestamptz) IS 'one OpenLineage 2-0-2 RunEvent (COMPLETE) per lineage transform recorded at or after since: run id, job, input and output datasets with schema and aisec version facets; names, versions and hashes only, no row data';

-- ==== 14. Row lineage through joins, groups, UNION ALL and CTEs (issue 17) ====

CREATE FUNCTION aisec.lineage_collect_step(internal, bigint) RETURNS internal
    LANGUAGE C PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_lineage_collect_step';
REVOKE ALL ON FUNCTION aisec.lineage_collect_step(internal, bigint) FROM PUBLIC;
COMMENT ON FUNCTION aisec.lineage_collect_step(internal, bigint) IS 'transition function of aisec.lineage_collect(bigint)';

CREATE FUNCTION aisec.lineage_collect_step(internal, bigint[]) RETURNS internal
    LANGUAGE C PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_lineage_collect_step_array';
REVOKE ALL ON FUNCTION aisec.lineage_collect_step(internal, bigint[]) FROM PUBLIC;
COMMENT ON FUNCTION aisec.lineage_collect_step(internal, bigint[]) IS 'transition function of aisec.lineage_collect(bigint[])';

CREATE FUNCTION aisec.lineage_collect_final(internal) RETURNS bigint[]
    LANGUAGE C PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_lineage_collect_final';
REVOKE ALL ON FUNCTION aisec.lineage_collect_final(internal) FROM PUBLIC;
COMMENT ON FUNCTION aisec.lineage_collect_final(internal) IS 'final function of aisec.lineage_collect: the row ids collected, ascending and distinct';

-- Executable by every role: aisec adds it to the statements of any role
-- that writes a tracked table from grouped rows.  It reads nothing but
-- its input and returns the distinct row ids of it.
CREATE AGGREGATE aisec.lineage_collect(bigint) (
    SFUNC = aisec.lineage_collect_step,
    STYPE = internal,
    SSPACE = 256,
    FINALFUNC = aisec.lineage_collect_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE aisec.lineage_collect(bigint) IS 'row lineage of a group: the distinct row ids of its rows, ascending (added by aisec to statements that write a tracked table from grouped rows)';

CREATE AGGREGATE aisec.lineage_collect(bigint[]) (
    SFUNC = aisec.lineage_collect_step,
    STYPE = internal,
    SSPACE = 256,
    FINALFUNC = aisec.lineage_collect_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE aisec.lineage_collect(bigint[]) IS 'row lineage of a group of groups: the distinct row ids of its rows'' sets, ascending (added by aisec to statements that write a tracked table from grouped rows)';

CREATE FUNCTION aisec.lineage_mark(bigint, internal) RETURNS bigint
    LANGUAGE C VOLATILE PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'aisec_lineage_mark';
COMMENT ON FUNCTION aisec.lineage_mark(bigint, internal) IS 'row lineage of MERGE: returns its first argument, telling aisec''s capture which row the action writes (added by aisec to MERGE statements on tracked tables; not callable from SQL)';

-- ==== 15. Erasure register (issue 18) ====

-- Subject columns, the erasure register, the approval setting and their
-- functions and views, as src/erasure/zzz_erasure.sql declares them.
-- Columns that identify a data subject, by table and column name (a name,
-- not an attnum: a dump restored without dropped columns renumbers
-- columns, and a renamed column must fail loudly, not point elsewhere).
-- No FOREIGN KEY to or from other aisec tables.
CREATE TABLE aisec.erasure_subject (
    rel         regclass    NOT NULL,
    attname     name        NOT NULL,
    declared_by text        NOT NULL,
    declared_at timestamptz NOT NULL,
    PRIMARY KEY (rel, attname)
) USING heap;
REVOKE ALL ON aisec.erasure_subject FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.erasure_subject', '');
COMMENT ON TABLE aisec.erasure_subject IS 'aisec erasure: the columns that identify a data subject (aisec.declare_subject); read through aisec.subject_columns';

-- Erasure requests.  subject_hash = HMAC-SHA-256(subject) under version
-- key_version of the reserved key $erasure; never the subject itself.
CREATE SEQUENCE aisec.erasure_request_seq;
REVOKE ALL ON SEQUENCE aisec.erasure_request_seq FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.erasure_request_seq', '');
COMMENT ON SEQUENCE aisec.erasure_request_seq IS 'aisec erasure request ids';

CREATE TABLE aisec.erasure_request (
    id           bigint      PRIMARY KEY,
    reference    text        NOT NULL UNIQUE,
    subject_hash bytea       NOT NULL,
    key_version  integer     NOT NULL,
    legal_basis  text        NOT NULL,
    requested_by text        NOT NULL,
    requested_at timestamptz NOT NULL,
    due          timestamptz NOT NULL,
    approved_by  text,
    approved_at  timestamptz,
    executed_at  timestamptz
) USING heap;
CREATE INDEX erasure_request_subject_hash ON aisec.erasure_request (subject_hash);
REVOKE ALL ON aisec.erasure_request FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.erasure_request', '');
COMMENT ON TABLE aisec.erasure_request IS 'aisec erasure register: one row per request (aisec.request_erasure): reference, keyed subject hash (HMAC-SHA-256 under the reserved key $erasure, never the identifier), legal basis, requester, due date, approval, execution; read through aisec.erasure_requests';

-- Whether a request needs a second DPO's approval (aisec.require_erasure_approval).
-- At most one row; none means no approval needed.
CREATE TABLE aisec.erasure_setting (
    singleton         boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    approval_required boolean     NOT NULL,
    changed_by        text        NOT NULL,
    changed_at        timestamptz NOT NULL
) USING heap;
REVOKE ALL ON aisec.erasure_setting FROM PUBLIC;
GRANT SELECT ON aisec.erasure_setting TO aisec_admin, aisec_dpo, aisec_auditor;
SELECT pg_catalog.pg_extension_config_dump('aisec.erasure_setting', '');
COMMENT ON TABLE aisec.erasure_setting IS 'aisec erasure settings: whether a second DPO must approve each request (aisec.require_erasure_approval); no row: not required';

CREATE FUNCTION aisec.erasure_refuse_change() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'aisec_erasure_refuse_change';
REVOKE ALL ON FUNCTION aisec.erasure_refuse_change() FROM PUBLIC;
COMMENT ON FUNCTION aisec.erasure_refuse_change() IS 'trigger: refuses UPDATE, DELETE and TRUNCATE of the erasure register by any role (aisec''s own functions excepted), and has each refusal recorded in the audit log';

-- INSERT is let through: pg_restore reloads these tables' rows.
CREATE TRIGGER erasure_subject_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE
    ON aisec.erasure_subject FOR EACH STATEMENT EXECUTE FUNCTION aisec.erasure_refuse_change();
ALTER TABLE aisec.erasure_subject ENABLE ALWAYS TRIGGER erasure_subject_refuse_change;
CREATE TRIGGER erasure_request_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE
    ON aisec.erasure_request FOR EACH STATEMENT EXECUTE FUNCTION aisec.erasure_refuse_change();
ALTER TABLE aisec.erasure_request ENABLE ALWAYS TRIGGER erasure_request_refuse_change;
CREATE TRIGGER erasure_setting_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE
    ON aisec.erasure_setting FOR EACH STATEMENT EXECUTE FUNCTION aisec.erasure_refuse_change();
ALTER TABLE aisec.erasure_setting ENABLE ALWAYS TRIGGER erasure_setting_refuse_change;

CREATE FUNCTION aisec.declare_subject(rel regclass, col name) RETURNS void
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_declare_subject';
REVOKE ALL ON FUNCTION aisec.declare_subject(regclass, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.declare_subject(regclass, name) TO aisec_admin, aisec_dpo;
COMMENT ON FUNCTION aisec.declare_subject(regclass, name) IS 'declare a column that identifies a data subject (customer id, e-mail, ...): erasure looks the subject up in it; needs SELECT on the column; warns when no index leads with it on a large table';

CREATE FUNCTION aisec.undeclare_subject(rel regclass, col name) RETURNS void
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_undeclare_subject';
REVOKE ALL ON FUNCTION aisec.undeclare_subject(regclass, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.undeclare_subject(regclass, name) TO aisec_admin, aisec_dpo;
COMMENT ON FUNCTION aisec.undeclare_subject(regclass, name) IS 'take back a subject column declaration (also of a dropped table, by its OID)';

CREATE FUNCTION aisec.request_erasure(subject text, reference text, legal_basis text DEFAULT 'GDPR Art. 17(1)')
    RETURNS bigint
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_request_erasure';
REVOKE ALL ON FUNCTION aisec.request_erasure(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.request_erasure(text, text, text) TO aisec_dpo;
COMMENT ON FUNCTION aisec.request_erasure(text, text, text) IS 'register an erasure request (reference unique, e.g. the ticket number), due in one month (GDPR Art. 12(3)); stores a keyed hash of the subject, never the subject; returns the request id';

CREATE FUNCTION aisec.require_erasure_approval(required boolean) RETURNS boolean
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_require_erasure_approval';
REVOKE ALL ON FUNCTION aisec.require_erasure_approval(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.require_erasure_approval(boolean) TO aisec_admin;
COMMENT ON FUNCTION aisec.require_erasure_approval(boolean) IS 'four-eyes rule: whether every erasure request needs aisec.approve_erasure by a second DPO before it is executed; returns the setting before the call';

CREATE FUNCTION aisec.approve_erasure(reference text) RETURNS void
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_approve_erasure';
REVOKE ALL ON FUNCTION aisec.approve_erasure(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.approve_erasure(text) TO aisec_dpo;
COMMENT ON FUNCTION aisec.approve_erasure(text) IS 'approve an erasure request, as a DPO other than its requester';

CREATE FUNCTION aisec.erasure_preview(reference text, subject text)
    RETURNS TABLE (rel regclass, live_rows bigint, history_records bigint, versions bigint[], derived_rows bigint)
    LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 10
    AS 'MODULE_PATHNAME', 'aisec_erasure_preview';
REVOKE ALL ON FUNCTION aisec.erasure_preview(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.erasure_preview(text, text) TO aisec_dpo;
COMMENT ON FUNCTION aisec.erasure_preview(text, text) IS 'dry run of an erasure request, changing nothing: per declared table, what aisec.erase would do for the subject (given again, checked against the request''s keyed hash): live rows deleted, history records redacted, committed versions touched, rows derived through lineage (not the subject''s own); counts only, never row data; history, versions and derived rows NULL for an untracked table';

-- The register as a DPO and an auditor read it.  The view runs with its
-- owner's rights, so readers need no access to aisec.erasure_request.
CREATE VIEW aisec.erasure_requests AS
SELECT r.id, r.reference,
       pg_catalog.encode(r.subject_hash, 'hex') AS subject_hash,
       r.legal_basis, r.requested_by, r.requested_at, r.due,
       r.approved_by, r.approved_at, r.executed_at,
       CASE WHEN r.executed_at IS NOT NULL THEN 'executed'
            WHEN pg_catalog.now() OPERATOR(pg_catalog.>) r.due THEN 'overdue'
            WHEN r.approved_at IS NOT NULL THEN 'approved'
            ELSE 'requested' END AS status
FROM aisec.erasure_request r;
REVOKE ALL ON aisec.erasure_requests FROM PUBLIC;
GRANT SELECT ON aisec.erasure_requests TO aisec_admin, aisec_dpo, aisec_auditor;
COMMENT ON VIEW aisec.erasure_requests IS 'aisec erasure register: reference, keyed subject hash (hex), legal basis, requested by/at, due (one month), approved by/at, executed at, status (requested, approved, executed, overdue)';

CREATE VIEW aisec.subject_columns AS
SELECT s.rel, s.attname AS column_name,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
       s.declared_by, s.declared_at,
       EXISTS (SELECT FROM pg_catalog.pg_index i
               WHERE i.indrelid OPERATOR(pg_catalog.=) s.rel::pg_catalog.oid
                 AND i.indkey[0] OPERATOR(pg_catalog.=) a.attnum
                 AND i.indpred IS NULL AND i.indisvalid) AS indexed
FROM aisec.erasure_subject s
LEFT JOIN pg_catalog.pg_attribute a
       ON a.attrelid OPERATOR(pg_catalog.=) s.rel::pg_catalog.oid
      AND a.attname OPERATOR(pg_catalog.=) s.attname
      AND NOT a.attisdropped;
REVOKE ALL ON aisec.subject_columns FROM PUBLIC;
GRANT SELECT ON aisec.subject_columns TO aisec_admin, aisec_dpo, aisec_auditor;
COMMENT ON VIEW aisec.subject_columns IS 'aisec erasure: declared subject columns: table, column, type (NULL once the column no longer exists), declared by/at, whether a valid non-partial index leads with the column';

-- The row ids each executed erasure erased (issue 18 item 8): not personal
-- data without the rows.  aisec.verify accepts a redacted history record
-- exactly when its row id is here; reapply_erasures (a later slice)
-- re-erases them after a restore.
CREATE TABLE aisec.erasure_row (
    rid        bigint NOT NULL,
    request_id bigint NOT NULL,
    PRIMARY KEY (rid, request_id)
) USING heap;
REVOKE ALL ON aisec.erasure_row FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.erasure_row', '');
COMMENT ON TABLE aisec.erasure_row IS 'aisec erasure register: the row ids each executed erasure request erased (deleted live, history redacted); row ids only, no data';
CREATE TRIGGER erasure_row_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE
    ON aisec.erasure_row FOR EACH STATEMENT EXECUTE FUNCTION aisec.erasure_refuse_change();
ALTER TABLE aisec.erasure_row ENABLE ALWAYS TRIGGER erasure_row_refuse_change;

CREATE FUNCTION aisec.erase(reference text, subject text) RETURNS jsonb
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_erase';
REVOKE ALL ON FUNCTION aisec.erase(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.erase(text, text) TO aisec_dpo;
COMMENT ON FUNCTION aisec.erase(text, text) IS 'execute an erasure request (the subject given again, checked against its keyed hash; approved first if aisec.require_erasure_approval is on), in one transaction: deletes the subject''s live rows in every declared table, redacts every history record of those rows in every version (data and salt gone, hash kept: every version still verifies); returns a jsonb summary per table';

-- ==== 21. Versions after an erasure: manifest counts, diff shows erased rows (issue 18) ====
-- aisec.diff reports a row redacted in either version as 'erased';
-- diff_summary gains the column erased (a changed return type: dropped and
-- created again); manifest's redacted_rows need only the new comment.
COMMENT ON FUNCTION aisec.diff(regclass, bigint, bigint, text[]) IS 'rows added, removed and changed in a table between two versions (version 0 is the empty table), matched by row id, or by the columns named in key; a row an erasure redacted in either version is erased (by row id, no images)';
DROP FUNCTION aisec.diff_summary(regclass, bigint, bigint, text[]);
CREATE FUNCTION aisec.diff_summary(rel regclass, from_version bigint, to_version bigint, key text[] DEFAULT NULL)
    RETURNS TABLE ("column" name, changed bigint, added bigint, removed bigint, erased bigint)
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'aisec_diff_summary';
REVOKE ALL ON FUNCTION aisec.diff_summary(regclass, bigint, bigint, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.diff_summary(regclass, bigint, bigint, text[]) TO aisec_admin, aisec_engineer;
COMMENT ON FUNCTION aisec.diff_summary(regclass, bigint, bigint, text[]) IS 'counts of aisec.diff: a first row ("column" NULL) with the rows changed, added, removed and erased, then per column the changed rows whose value in it differs and the added and removed rows with a value in it (erased NULL)';
COMMENT ON FUNCTION aisec.manifest(text, bigint) IS 'what a training pipeline records about a version: commit hash, per-table rows, fingerprints and columns, tags; redacted_rows: rows an erasure redacted since (counted, not hashed)';

-- ==== 18. Audit entry redaction (issue 18) ====

-- The audit chain's encoding v2 covers SHA-256(detail) rather than the
-- detail, so a detail can be redacted.  Entries written before the update
-- keep detail_sha256 NULL: they are v1 and verify as before (they cannot
-- be redacted); entries appended after it are v2.  ADD COLUMN appends, as
-- src/audit/audit.sql declares the columns last; no row is rewritten.
ALTER TABLE aisec.audit_log ALTER COLUMN detail DROP NOT NULL;
ALTER TABLE aisec.audit_log ADD COLUMN detail_sha256 bytea;
ALTER TABLE aisec.audit_log ADD COLUMN redacted_in bigint;
COMMENT ON COLUMN aisec.audit_log.detail IS 'what was done: identifiers and counts, never personal data; NULL once redacted (aisec.redact_audit)';
COMMENT ON COLUMN aisec.audit_log.detail_sha256 IS 'SHA-256 of detail''s text, which the hash covers instead of the detail (encoding aisec.audit.v2); NULL for entries written before 0.2.0 (v1, whose hash covers the detail itself)';
COMMENT ON COLUMN aisec.audit_log.redacted_in IS 'seq of the audit.redact entry that removed this entry''s detail (who, when, why); NULL if not redacted';

CREATE FUNCTION aisec.redact_audit(seq bigint, reason text) RETURNS void
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_redact_audit';
REVOKE ALL ON FUNCTION aisec.redact_audit(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.redact_audit(bigint, text) TO aisec_dpo;
COMMENT ON FUNCTION aisec.redact_audit(bigint, text) IS 'remove the detail of an audit log entry that names a person (written since 0.2.0); the chain and earlier digests still verify (the hash covers the detail''s SHA-256, kept); an audit.redact entry records the seq and reason, never the removed text';

-- ==== 16. Erasure of derived rows and aisec.set_erasure_policy (issue 18) ====
-- Erasure policies for derived rows (issue 18 item 5): per table, whether
-- aisec.erase deletes the rows derived from a subject's rows ('delete',
-- also for a table with no row here) or keeps those computed from at
-- least min_parents distinct parent rows ('keep_aggregate': an aggregate
-- does not identify a person).  No FOREIGN KEY to or from other aisec
-- tables.
CREATE TABLE aisec.erasure_policy (
    rel         regclass    PRIMARY KEY,
    policy      text        NOT NULL CHECK (policy IN ('delete', 'keep_aggregate')),
    min_parents integer     NOT NULL CHECK (min_parents >= 2),
    set_by      text        NOT NULL,
    set_at      timestamptz NOT NULL
) USING heap;
REVOKE ALL ON aisec.erasure_policy FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.erasure_policy', '');
COMMENT ON TABLE aisec.erasure_policy IS 'aisec erasure: per table, what aisec.erase does with rows derived from a subject''s rows (aisec.set_erasure_policy): delete them, or keep those computed from at least min_parents distinct parent rows; no row: delete; read through aisec.erasure_policies';
CREATE TRIGGER erasure_policy_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE
    ON aisec.erasure_policy FOR EACH STATEMENT EXECUTE FUNCTION aisec.erasure_refuse_change();
ALTER TABLE aisec.erasure_policy ENABLE ALWAYS TRIGGER erasure_policy_refuse_change;

CREATE FUNCTION aisec.set_erasure_policy(rel regclass, policy text, min_parents integer DEFAULT 10)
    RETURNS void
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_set_erasure_policy';
REVOKE ALL ON FUNCTION aisec.set_erasure_policy(regclass, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.set_erasure_policy(regclass, text, integer) TO aisec_admin, aisec_dpo;
COMMENT ON FUNCTION aisec.set_erasure_policy(regclass, text, integer) IS 'set what aisec.erase does with a table''s rows derived from a subject''s rows: ''delete'' (the default) or ''keep_aggregate'' (keep rows computed from at least min_parents distinct parent rows, min_parents >= 2)';

CREATE VIEW aisec.erasure_policies AS
SELECT p.rel, p.policy, p.min_parents, p.set_by, p.set_at
FROM aisec.erasure_policy p;
REVOKE ALL ON aisec.erasure_policies FROM PUBLIC;
GRANT SELECT ON aisec.erasure_policies TO aisec_admin, aisec_dpo, aisec_auditor;
COMMENT ON VIEW aisec.erasure_policies IS 'aisec erasure: per table, the policy for rows derived from a subject''s rows (delete, keep_aggregate) and min_parents, set by/at; a table not listed: delete';

COMMENT ON FUNCTION aisec.erasure_preview(text, text) IS 'dry run of an erasure request, changing nothing: per declared table, what aisec.erase would do for the subject (given again, checked against the request''s keyed hash): live rows deleted, history records redacted, committed versions touched, rows derived through lineage that erase would erase under the erasure policies (counted in the table they are in; a table reached only through lineage gets a row of its own); counts only, never row data; history, versions and derived rows NULL for an untracked table';
COMMENT ON FUNCTION aisec.erase(text, text) IS 'execute an erasure request (the subject given again, checked against its keyed hash; approved first if aisec.require_erasure_approval is on), in one transaction: deletes the subject''s live rows in every declared table, redacts every history record of those rows in every version (data and salt gone, hash kept: every version still verifies), and erases the same way the rows derived from them through lineage (aisec.set_erasure_policy keeps aggregates); returns a jsonb summary per table';

-- ==== 19. reapply_erasures after a restore (issue 18) ====

CREATE FUNCTION aisec.reapply_erasures()
    RETURNS TABLE (reference text, rel regclass, live_rows_deleted bigint, history_records_redacted bigint)
    LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 10
    AS 'MODULE_PATHNAME', 'aisec_reapply_erasures';
REVOKE ALL ON FUNCTION aisec.reapply_erasures() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.reapply_erasures() TO aisec_dpo;
COMMENT ON FUNCTION aisec.reapply_erasures() IS 'after a restore of an older backup: re-erase every executed erasure request from the row ids kept in aisec.erasure_row (no subject needed): deletes live rows with those ids and redacts their history records in every version; returns what it found per request and table, and (counts NULL) the untracked declared tables whose rows need a new erasure with the subject';

-- ==== 20. Subject indexes on history (issue 18) ====
-- No SQL objects: aisec.declare_subject builds, on a tracked table's
-- history, one index per subject column, CREATE INDEX ON
-- aisec.history_<n> (((data).col)), and undeclare_subject drops it
-- (doc/erasure.md, "The subject index").  A 0.1.0 database has no
-- declarations, so there is nothing to build here.

-- ==== 17. Signed erasure certificate, verify_certificate, verify_erasure (issue 18) ====

-- Erasure certificates (issue 18 item 6): each executed request's signed
-- certificate, whole (it holds the keyed subject hash, never the subject);
-- read through aisec.erasure_certificate(reference).
CREATE TABLE aisec.erasure_certificate_store (
    request_id  bigint PRIMARY KEY,
    certificate jsonb  NOT NULL
) USING heap;
REVOKE ALL ON aisec.erasure_certificate_store FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('aisec.erasure_certificate_store', '');
COMMENT ON TABLE aisec.erasure_certificate_store IS 'aisec erasure register: the signed certificate aisec.erase issued for each executed request (keyed subject hash, counts, audit range, post-check, Ed25519 signature); read with aisec.erasure_certificate';
CREATE TRIGGER erasure_certificate_store_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE
    ON aisec.erasure_certificate_store FOR EACH STATEMENT EXECUTE FUNCTION aisec.erasure_refuse_change();
ALTER TABLE aisec.erasure_certificate_store ENABLE ALWAYS TRIGGER erasure_certificate_store_refuse_change;

CREATE FUNCTION aisec.erasure_certificate(reference text) RETURNS jsonb
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'aisec_erasure_certificate';
REVOKE ALL ON FUNCTION aisec.erasure_certificate(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.erasure_certificate(text) TO aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.erasure_certificate(text) IS 'the signed certificate aisec.erase issued for an executed erasure request, as it returned it';

CREATE FUNCTION aisec.verify_certificate(certificate jsonb) RETURNS boolean
    LANGUAGE C STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'aisec_verify_certificate';
REVOKE ALL ON FUNCTION aisec.verify_certificate(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.verify_certificate(jsonb) TO aisec_admin, aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.verify_certificate(jsonb) IS 'true iff an erasure certificate''s Ed25519 signature verifies over its canonical form (its jsonb text without "signature") under the public key it carries, and that key is this database''s signing key; a NOTICE says why not';

CREATE FUNCTION aisec.verify_erasure(reference text, subject text DEFAULT NULL)
    RETURNS TABLE (ok boolean, rel regclass, detail text)
    LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 10
    AS 'MODULE_PATHNAME', 'aisec_verify_erasure';
REVOKE ALL ON FUNCTION aisec.verify_erasure(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.verify_erasure(text, text) TO aisec_dpo, aisec_auditor;
COMMENT ON FUNCTION aisec.verify_erasure(text, text) IS 're-run the post-check of an executed erasure request: per table, no erased row id live again or with history data, no derived row beyond those kept by policy, and (subject given, checked against the keyed hash) no row holding the subject; then aisec.erasure_row against the erasure.execute audit entry and the stored certificate; ok NULL: not checked';

COMMENT ON FUNCTION aisec.erase(text, text) IS 'execute an erasure request (the subject given again, checked against its keyed hash; approved first if aisec.require_erasure_approval is on), in one transaction: deletes the subject''s live rows in every declared table, redacts every history record of those rows in every version (data and salt gone, hash kept: every version still verifies), and erases the same way the rows derived from them through lineage (aisec.set_erasure_policy keeps aggregates); returns the signed erasure certificate';

-- ==== 22. Aggregate states as SQL types, so that Citus runs them on its workers (issue 19) ====
-- Every mergeable aggregate's transition type was internal; it is now the
-- aggregate's own state type (aisec.inequality_stats is new), with new
-- transition, combine and final functions over it and no serialize or
-- deserialize functions.  CREATE OR REPLACE AGGREGATE keeps each
-- aggregate's OID, privileges, comment and dependents; the old support
-- functions are dropped once no aggregate uses them.  Stored values of the
-- state types keep their bytes.

CREATE TYPE aisec.inequality_stats;

CREATE FUNCTION aisec.inequality_stats_in(cstring) RETURNS aisec.inequality_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_inequality_stats_in';
CREATE FUNCTION aisec.inequality_stats_out(aisec.inequality_stats) RETURNS cstring
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_inequality_stats_out';
CREATE FUNCTION aisec.inequality_stats_recv(internal) RETURNS aisec.inequality_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_inequality_stats_recv';
CREATE FUNCTION aisec.inequality_stats_send(aisec.inequality_stats) RETURNS bytea
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_inequality_stats_send';

CREATE TYPE aisec.inequality_stats (
    INPUT = aisec.inequality_stats_in,
    OUTPUT = aisec.inequality_stats_out,
    RECEIVE = aisec.inequality_stats_recv,
    SEND = aisec.inequality_stats_send,
    INTERNALLENGTH = 32,
    ALIGNMENT = double,
    STORAGE = plain
);
COMMENT ON TYPE aisec.inequality_stats IS 'state of aisec.generalized_entropy_index and aisec.theil_index: rows with benefit 0, 1 and 2, and alpha; printed as JSON';

REVOKE ALL ON FUNCTION aisec.inequality_stats_in(cstring) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.inequality_stats_out(aisec.inequality_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.inequality_stats_recv(internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.inequality_stats_send(aisec.inequality_stats) FROM PUBLIC;
COMMENT ON FUNCTION aisec.inequality_stats_in(cstring) IS 'text input of aisec.inequality_stats: the JSON printed by its output function, validated';
COMMENT ON FUNCTION aisec.inequality_stats_out(aisec.inequality_stats) IS 'text output of aisec.inequality_stats: JSON, alpha in shortest exact form';
COMMENT ON FUNCTION aisec.inequality_stats_recv(internal) IS 'binary input of aisec.inequality_stats (format version 1), validated';
COMMENT ON FUNCTION aisec.inequality_stats_send(aisec.inequality_stats) IS 'binary output of aisec.inequality_stats (format version 1)';

-- bytea <-> inequality_stats: the binary form, validated when read back.
CREATE FUNCTION aisec.inequality_stats_from_bytea(bytea) RETURNS aisec.inequality_stats
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_inequality_stats_from_bytea';
REVOKE ALL ON FUNCTION aisec.inequality_stats_from_bytea(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.inequality_stats_from_bytea(bytea) TO aisec_admin, aisec_engineer, aisec_auditor;
COMMENT ON FUNCTION aisec.inequality_stats_from_bytea(bytea) IS 'Read the binary form of aisec.inequality_stats, rejecting input of the wrong length, version or kind, negative counts or a non-finite alpha';
GRANT EXECUTE ON FUNCTION aisec.inequality_stats_send(aisec.inequality_stats) TO aisec_admin, aisec_engineer, aisec_auditor;
CREATE CAST (bytea AS aisec.inequality_stats) WITH FUNCTION aisec.inequality_stats_from_bytea(bytea);
CREATE CAST (aisec.inequality_stats AS bytea) WITH FUNCTION aisec.inequality_stats_send(aisec.inequality_stats);
COMMENT ON CAST (bytea AS aisec.inequality_stats) IS 'Validated conversion from the binary form';
COMMENT ON CAST (aisec.inequality_stats AS bytea) IS 'The binary form (format in doc/bias.md)';

-- contingency.sql
CREATE FUNCTION aisec.contingency_transfn(aisec.contingency_stats, text, text) RETURNS aisec.contingency_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_contingency_transfn';
CREATE FUNCTION aisec.contingency_merge_transfn(aisec.contingency_stats, aisec.contingency_stats) RETURNS aisec.contingency_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_contingency_merge_transfn';
CREATE FUNCTION aisec.contingency_combinefn(aisec.contingency_stats, aisec.contingency_stats) RETURNS aisec.contingency_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_contingency_combinefn';
CREATE FUNCTION aisec.contingency_finalfn(aisec.contingency_stats) RETURNS aisec.contingency_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_contingency_finalfn';
REVOKE ALL ON FUNCTION aisec.contingency_transfn(aisec.contingency_stats, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.contingency_merge_transfn(aisec.contingency_stats, aisec.contingency_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.contingency_combinefn(aisec.contingency_stats, aisec.contingency_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.contingency_finalfn(aisec.contingency_stats) FROM PUBLIC;
COMMENT ON FUNCTION aisec.contingency_transfn(aisec.contingency_stats, text, text) IS 'Transition function of aisec.contingency';
COMMENT ON FUNCTION aisec.contingency_merge_transfn(aisec.contingency_stats, aisec.contingency_stats) IS 'Transition function of aisec.contingency_merge';
COMMENT ON FUNCTION aisec.contingency_combinefn(aisec.contingency_stats, aisec.contingency_stats) IS 'Combine function of aisec.contingency and aisec.contingency_merge';
COMMENT ON FUNCTION aisec.contingency_finalfn(aisec.contingency_stats) IS 'Final function of aisec.contingency and aisec.contingency_merge';

-- divergence.sql
CREATE FUNCTION aisec.histogram_transfn(aisec.histogram_stats, float8, float8, float8, integer) RETURNS aisec.histogram_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_histogram_transfn';
CREATE FUNCTION aisec.histogram_merge_transfn(aisec.histogram_stats, aisec.histogram_stats) RETURNS aisec.histogram_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_histogram_merge_transfn';
CREATE FUNCTION aisec.histogram_combinefn(aisec.histogram_stats, aisec.histogram_stats) RETURNS aisec.histogram_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_histogram_combinefn';
CREATE FUNCTION aisec.histogram_finalfn(aisec.histogram_stats) RETURNS aisec.histogram_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_histogram_finalfn';
REVOKE ALL ON FUNCTION aisec.histogram_transfn(aisec.histogram_stats, float8, float8, float8, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.histogram_merge_transfn(aisec.histogram_stats, aisec.histogram_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.histogram_combinefn(aisec.histogram_stats, aisec.histogram_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.histogram_finalfn(aisec.histogram_stats) FROM PUBLIC;
COMMENT ON FUNCTION aisec.histogram_transfn(aisec.histogram_stats, float8, float8, float8, integer) IS 'Transition function of aisec.histogram';
COMMENT ON FUNCTION aisec.histogram_merge_transfn(aisec.histogram_stats, aisec.histogram_stats) IS 'Transition function of aisec.histogram_merge';
COMMENT ON FUNCTION aisec.histogram_combinefn(aisec.histogram_stats, aisec.histogram_stats) IS 'Combine function of aisec.histogram and aisec.histogram_merge';
COMMENT ON FUNCTION aisec.histogram_finalfn(aisec.histogram_stats) IS 'Final function of aisec.histogram and aisec.histogram_merge';
CREATE FUNCTION aisec.category_counts_transfn(aisec.category_stats, text) RETURNS aisec.category_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_category_counts_transfn';
CREATE FUNCTION aisec.category_counts_merge_transfn(aisec.category_stats, aisec.category_stats) RETURNS aisec.category_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_category_counts_merge_transfn';
CREATE FUNCTION aisec.category_counts_combinefn(aisec.category_stats, aisec.category_stats) RETURNS aisec.category_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_category_counts_combinefn';
CREATE FUNCTION aisec.category_counts_finalfn(aisec.category_stats) RETURNS aisec.category_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'aisec_category_counts_finalfn';
REVOKE ALL ON FUNCTION aisec.category_counts_transfn(aisec.category_stats, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.category_counts_merge_transfn(aisec.category_stats, aisec.category_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.category_counts_combinefn(aisec.category_stats, aisec.category_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.category_counts_finalfn(aisec.category_stats) FROM PUBLIC;
COMMENT ON FUNCTION aisec.category_counts_transfn(aisec.category_stats, text) IS 'Transition function of aisec.category_counts';
COMMENT ON FUNCTION aisec.category_counts_merge_transfn(aisec.category_stats, aisec.category_stats) IS 'Transition function of aisec.category_counts_merge';
COMMENT ON FUNCTION aisec.category_counts_combinefn(aisec.category_stats, aisec.category_stats) IS 'Combine function of aisec.category_counts and aisec.category_counts_merge';
COMMENT ON FUNCTION aisec.category_counts_finalfn(aisec.category_stats) IS 'Final function of aisec.category_counts and aisec.category_counts_merge';

-- fairness.sql
CREATE FUNCTION aisec.fairness_transfn(aisec.fairness_stats, text, boolean, boolean) RETURNS aisec.fairness_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_fairness_transfn';
CREATE FUNCTION aisec.fairness_weighted_transfn(aisec.fairness_stats, text, boolean, boolean, float8) RETURNS aisec.fairness_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_fairness_weighted_transfn';
CREATE FUNCTION aisec.fairness_merge_transfn(aisec.fairness_stats, aisec.fairness_stats) RETURNS aisec.fairness_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_fairness_merge_transfn';
CREATE FUNCTION aisec.fairness_combinefn(aisec.fairness_stats, aisec.fairness_stats) RETURNS aisec.fairness_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_fairness_combinefn';
CREATE FUNCTION aisec.fairness_finalfn(aisec.fairness_stats) RETURNS aisec.fairness_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_fairness_finalfn';
REVOKE ALL ON FUNCTION aisec.fairness_transfn(aisec.fairness_stats, text, boolean, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.fairness_weighted_transfn(aisec.fairness_stats, text, boolean, boolean, float8) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.fairness_merge_transfn(aisec.fairness_stats, aisec.fairness_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.fairness_combinefn(aisec.fairness_stats, aisec.fairness_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.fairness_finalfn(aisec.fairness_stats) FROM PUBLIC;
COMMENT ON FUNCTION aisec.fairness_transfn(aisec.fairness_stats, text, boolean, boolean) IS 'aisec.fairness support: add an unweighted row';
COMMENT ON FUNCTION aisec.fairness_weighted_transfn(aisec.fairness_stats, text, boolean, boolean, float8) IS 'aisec.fairness support: add a weighted row';
COMMENT ON FUNCTION aisec.fairness_merge_transfn(aisec.fairness_stats, aisec.fairness_stats) IS 'aisec.fairness_merge support: add a stored value';
COMMENT ON FUNCTION aisec.fairness_combinefn(aisec.fairness_stats, aisec.fairness_stats) IS 'aisec.fairness support: merge two partial states';
COMMENT ON FUNCTION aisec.fairness_finalfn(aisec.fairness_stats) IS 'aisec.fairness support: return the state as aisec.fairness_stats';

-- inequality.sql
CREATE FUNCTION aisec.generalized_entropy_transfn(aisec.inequality_stats, boolean, boolean, float8) RETURNS aisec.inequality_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_generalized_entropy_transfn';
CREATE FUNCTION aisec.theil_transfn(aisec.inequality_stats, boolean, boolean) RETURNS aisec.inequality_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_theil_transfn';
CREATE FUNCTION aisec.inequality_combinefn(aisec.inequality_stats, aisec.inequality_stats) RETURNS aisec.inequality_stats
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_inequality_combinefn';
CREATE FUNCTION aisec.generalized_entropy_finalfn(aisec.inequality_stats) RETURNS float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'aisec_generalized_entropy_finalfn';
REVOKE ALL ON FUNCTION aisec.generalized_entropy_transfn(aisec.inequality_stats, boolean, boolean, float8) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.theil_transfn(aisec.inequality_stats, boolean, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.inequality_combinefn(aisec.inequality_stats, aisec.inequality_stats) FROM PUBLIC;
REVOKE ALL ON FUNCTION aisec.generalized_entropy_finalfn(aisec.inequality_stats) FROM PUBLIC;
COMMENT ON FUNCTION aisec.generalized_entropy_transfn(aisec.inequality_stats, boolean, boolean, float8) IS 'aisec.generalized_entropy_index support: count a row''s benefit';
COMMENT ON FUNCTION aisec.theil_transfn(aisec.inequality_stats, boolean, boolean) IS 'aisec.theil_index support: count a row''s benefit';
COMMENT ON FUNCTION aisec.inequality_combinefn(aisec.inequality_stats, aisec.inequality_stats) IS 'inequality index support: merge two partial states';
COMMENT ON FUNCTION aisec.generalized_entropy_finalfn(aisec.inequality_stats) IS 'inequality index support: compute GE(alpha) from the benefit counts';

CREATE OR REPLACE AGGREGATE aisec.contingency(a text, b text) (
    SFUNC = aisec.contingency_transfn,
    STYPE = aisec.contingency_stats,
    FINALFUNC = aisec.contingency_finalfn,
    COMBINEFUNC = aisec.contingency_combinefn,
    PARALLEL = SAFE
);
CREATE OR REPLACE AGGREGATE aisec.contingency_merge(aisec.contingency_stats) (
    SFUNC = aisec.contingency_merge_transfn,
    STYPE = aisec.contingency_stats,
    FINALFUNC = aisec.contingency_finalfn,
    COMBINEFUNC = aisec.contingency_combinefn,
    PARALLEL = SAFE
);
CREATE OR REPLACE AGGREGATE aisec.histogram(value float8, lower float8, upper float8, bins integer) (
    SFUNC = aisec.histogram_transfn,
    STYPE = aisec.histogram_stats,
    FINALFUNC = aisec.histogram_finalfn,
    COMBINEFUNC = aisec.histogram_combinefn,
    PARALLEL = SAFE
);
CREATE OR REPLACE AGGREGATE aisec.histogram_merge(aisec.histogram_stats) (
    SFUNC = aisec.histogram_merge_transfn,
    STYPE = aisec.histogram_stats,
    FINALFUNC = aisec.histogram_finalfn,
    COMBINEFUNC = aisec.histogram_combinefn,
    PARALLEL = SAFE
);
CREATE OR REPLACE AGGREGATE aisec.category_counts(value text) (
    SFUNC = aisec.category_counts_transfn,
    STYPE = aisec.category_stats,
    FINALFUNC = aisec.category_counts_finalfn,
    COMBINEFUNC = aisec.category_counts_combinefn,
    PARALLEL = SAFE
);
CREATE OR REPLACE AGGREGATE aisec.category_counts_merge(aisec.category_stats) (
    SFUNC = aisec.category_counts_merge_transfn,
    STYPE = aisec.category_stats,
    FINALFUNC = aisec.category_counts_finalfn,
    COMBINEFUNC = aisec.category_counts_combinefn,
    PARALLEL = SAFE
);
CREATE OR REPLACE AGGREGATE aisec.fairness(grp text, y_true boolean, y_pred boolean) (
    SFUNC = aisec.fairness_transfn,
    STYPE = aisec.fairness_stats,
    SSPACE = 2048,
    FINALFUNC = aisec.fairness_finalfn,
    COMBINEFUNC = aisec.fairness_combinefn,
    PARALLEL = SAFE
);
CREATE OR REPLACE AGGREGATE aisec.fairness(grp text, y_true boolean, y_pred boolean, weight float8) (
    SFUNC = aisec.fairness_weighted_transfn,
    STYPE = aisec.fairness_stats,
    SSPACE = 2048,
    FINALFUNC = aisec.fairness_finalfn,
    COMBINEFUNC = aisec.fairness_combinefn,
    PARALLEL = SAFE
);
CREATE OR REPLACE AGGREGATE aisec.fairness_merge(aisec.fairness_stats) (
    SFUNC = aisec.fairness_merge_transfn,
    STYPE = aisec.fairness_stats,
    SSPACE = 2048,
    FINALFUNC = aisec.fairness_finalfn,
    COMBINEFUNC = aisec.fairness_combinefn,
    PARALLEL = SAFE
);
CREATE OR REPLACE AGGREGATE aisec.generalized_entropy_index(y_true boolean, y_pred boolean, alpha float8) (
    SFUNC = aisec.generalized_entropy_transfn,
    STYPE = aisec.inequality_stats,
    SSPACE = 40,
    FINALFUNC = aisec.generalized_entropy_finalfn,
    COMBINEFUNC = aisec.inequality_combinefn,
    PARALLEL = SAFE
);
CREATE OR REPLACE AGGREGATE aisec.theil_index(y_true boolean, y_pred boolean) (
    SFUNC = aisec.theil_transfn,
    STYPE = aisec.inequality_stats,
    SSPACE = 40,
    FINALFUNC = aisec.generalized_entropy_finalfn,
    COMBINEFUNC = aisec.inequality_combinefn,
    PARALLEL = SAFE
);

DROP FUNCTION aisec.contingency_transfn(internal, text, text);
DROP FUNCTION aisec.contingency_merge_transfn(internal, aisec.contingency_stats);
DROP FUNCTION aisec.contingency_combinefn(internal, internal);
DROP FUNCTION aisec.contingency_serialfn(internal);
DROP FUNCTION aisec.contingency_deserialfn(bytea, internal);
DROP FUNCTION aisec.contingency_finalfn(internal);
DROP FUNCTION aisec.histogram_transfn(internal, float8, float8, float8, integer);
DROP FUNCTION aisec.histogram_merge_transfn(internal, aisec.histogram_stats);
DROP FUNCTION aisec.histogram_combinefn(internal, internal);
DROP FUNCTION aisec.histogram_serialfn(internal);
DROP FUNCTION aisec.histogram_deserialfn(bytea, internal);
DROP FUNCTION aisec.histogram_finalfn(internal);
DROP FUNCTION aisec.category_counts_transfn(internal, text);
DROP FUNCTION aisec.category_counts_merge_transfn(internal, aisec.category_stats);
DROP FUNCTION aisec.category_counts_combinefn(internal, internal);
DROP FUNCTION aisec.category_counts_serialfn(internal);
DROP FUNCTION aisec.category_counts_deserialfn(bytea, internal);
DROP FUNCTION aisec.category_counts_finalfn(internal);
DROP FUNCTION aisec.fairness_transfn(internal, text, boolean, boolean);
DROP FUNCTION aisec.fairness_weighted_transfn(internal, text, boolean, boolean, float8);
DROP FUNCTION aisec.fairness_merge_transfn(internal, aisec.fairness_stats);
DROP FUNCTION aisec.fairness_combinefn(internal, internal);
DROP FUNCTION aisec.fairness_serialfn(internal);
DROP FUNCTION aisec.fairness_deserialfn(bytea, internal);
DROP FUNCTION aisec.fairness_finalfn(internal);
DROP FUNCTION aisec.generalized_entropy_transfn(internal, boolean, boolean, float8);
DROP FUNCTION aisec.theil_transfn(internal, boolean, boolean);
DROP FUNCTION aisec.inequality_combinefn(internal, internal);
DROP FUNCTION aisec.inequality_serialfn(internal);
DROP FUNCTION aisec.inequality_deserialfn(bytea, internal);
DROP FUNCTION aisec.generalized_entropy_finalfn(internal);
-- ==== 24. Keys on Citus (issue 19) ====

CREATE FUNCTION aisec.citus_sync_keys(node_name text DEFAULT NULL, node_port integer DEFAULT NULL) RETURNS integer
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_citus_sync_keys';
REVOKE ALL ON FUNCTION aisec.citus_sync_keys(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.citus_sync_keys(text, integer) TO aisec_admin;
COMMENT ON FUNCTION aisec.citus_sync_keys(text, integer) IS 'on a Citus coordinator: copy every user key (wrapped) to every active worker, or to the one named, removing keys the coordinator does not have; returns how many nodes took them';

CREATE FUNCTION aisec.citus_receive_keys(keys bytea, key_name text) RETURNS integer
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'aisec_citus_receive_keys';
REVOKE ALL ON FUNCTION aisec.citus_receive_keys(bytea, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aisec.citus_receive_keys(bytea, text) TO aisec_admin;
COMMENT ON FUNCTION aisec.citus_receive_keys(bytea, text) IS 'on a Citus worker: replace one key (every user key if key_name is NULL) with the coordinator''s wrapped rows; sent by the coordinator, not called by hand';

-- ==== 25. Citus shard-query forms of the aggregates (issue 19) ====

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
