/*
 * masked_export.c
 *		Static masking: aisec.export_masked() copies a table's masked view
 *		into a new table (for a training job), optionally leaving out the
 *		rows whose quasi-identifier class is smaller than min_k.
 *
 * The copy runs as the caller, so the new table is theirs and reading the
 * masked view needs their own rights.  The target is created in the first
 * schema of the caller's search_path, resolved before aisec's own
 * statements pin search_path, and named schema-qualified from then on.
 * Only quoted identifiers are in the statement text; min_k is a parameter.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "core/core.h"
#include "audit/audit.h"
#include "masking_internal.h"

/*
 * Quoted, schema-qualified name for a new table called target, in the
 * schema an unqualified CREATE TABLE of the caller would use.
 */
static char *
QualifiedTarget(const char *target)
{
	Oid			nsp = RangeVarGetCreationNamespace(makeRangeVar(NULL, pstrdup(target), -1));

	if (isTempNamespace(nsp))
		return quote_qualified_identifier("pg_temp", target);
	return quote_qualified_identifier(get_namespace_name(nsp), target);
}

/*
 * SQL: aisec.export_masked(rel, target, min_k, quasi_identifiers) copies the
 * masked view into a new table; with min_k, rows whose quasi-identifier
 * class (over the masked values) is smaller than min_k are left out.
 */
PG_FUNCTION_INFO_V1(aisec_export_masked);
Datum
aisec_export_masked(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *target;
	Oid			view;
	StringInfoData sql;
	StringInfoData cols;
	char	   *qview;
	int64		total;
	int64		exported;
	int32		min_k = 0;
	char	   *qis = NULL;
	Relation	vrel;
	TupleDesc	desc;
	TupleDesc	rdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	AisecSpi	spi;
	bool		isnull;
	Oid			argtype = INT8OID;
	Datum		arg;
	StringInfoData detail;

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER, "aisec.export_masked()");
	aisec_prevent_if_read_only("aisec.export_masked()");
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("relation and target must not be null")));
	relid = PG_GETARG_OID(0);
	target = NameStr(*PG_GETARG_NAME(1));
	if (!PG_ARGISNULL(2))
	{
		min_k = PG_GETARG_INT32(2);
		if (min_k < 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"%s\" must be at least 1", "min_k")));
		if (PG_ARGISNULL(3))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"%s\" needs \"%s\"", "min_k", "quasi_identifiers"),
					 errhint("Name the columns whose combination could identify a person.")));
	}
	else if (!PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" needs \"%s\"", "quasi_identifiers", "min_k")));
	if (get_rel_name(relid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	view = mask_view_of(relid);
	if (!OidIsValid(view))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" has no masked view", get_rel_name(relid)),
				 errhint("An administrator sets masking rules with aisec.set_mask(table, column, rule).")));
	if (min_k > 0)
		qis = mask_quasi_identifier_list(view, PG_GETARG_ARRAYTYPE_P(3));

	/* The masked view's columns, quoted from the catalog. */
	qview = quote_qualified_identifier(MASKED_SCHEMA, get_rel_name(view));
	initStringInfo(&cols);
	vrel = relation_open(view, AccessShareLock);
	desc = RelationGetDescr(vrel);
	for (int i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped)
			appendStringInfo(&cols, "%s%s", cols.len > 0 ? ", " : "",
							 quote_identifier(NameStr(TupleDescAttr(desc, i)->attname)));
	relation_close(vrel, AccessShareLock);

	/* Runs as the caller: the new table is theirs, reading needs their rights. */
	initStringInfo(&sql);
	if (min_k > 0)
		appendStringInfo(&sql,
						 "CREATE TABLE %s AS SELECT %s FROM (SELECT v.*, pg_catalog.count(*) OVER "
						 "(PARTITION BY %s) AS \"aisec class size\" FROM %s v) s "
						 "WHERE s.\"aisec class size\" OPERATOR(pg_catalog.>=) $1",
						 QualifiedTarget(target), cols.data, qis, qview);
	else
		appendStringInfo(&sql, "CREATE TABLE %s AS SELECT %s FROM %s",
						 QualifiedTarget(target), cols.data, qview);
	aisec_spi_begin(&spi);
	(void) aisec_spi_read(psprintf("SELECT pg_catalog.count(*) FROM %s", qview),
						  false, 0, NULL, NULL, NULL, NULL);
	total = DatumGetInt64(aisec_spi_value(0, 0, &isnull));
	/* min_k goes in as a parameter; only quoted identifiers are in the text. */
	arg = Int64GetDatum((int64) min_k);
	(void) aisec_spi_run(sql.data, false, min_k > 0 ? 1 : 0, &argtype, &arg, NULL, NULL);
	/* The full 64-bit row count (aisec_spi_run's result is an int). */
	exported = (int64) SPI_processed;
	aisec_spi_end(&spi);

	initStringInfo(&detail);
	appendStringInfoString(&detail, "{\"target\": ");
	escape_json(&detail, target);
	appendStringInfo(&detail, ", \"rows\": " INT64_FORMAT ", \"suppressed\": " INT64_FORMAT ", \"min_k\": %d}",
					 exported, total - exported, min_k);
	aisec_audit_log("mask.export", aisec_qualified_name(relid), detail.data);

	if (get_call_result_type(fcinfo, NULL, &rdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "export_masked must return a record");
	rdesc = BlessTupleDesc(rdesc);
	values[0] = Int64GetDatum(exported);
	values[1] = Int64GetDatum(total - exported);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(rdesc, values, nulls)));
}
