/*
 * anonymity.c
 *		k-anonymity: aisec.k_anonymity(rel, quasi_identifiers), and the
 *		validated quasi-identifier lists that export_masked also uses.
 *
 * The query is built from the relation's OID and column names that were
 * checked against the catalog and quoted with quote_identifier, never from
 * user text as given.  It runs as the caller, so a role that may not read
 * the columns gets a permission error, not an answer.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "core/core.h"
#include "masking_internal.h"

/* Return the attnum of a live user column of relid, or error. */
AttrNumber
mask_column_attnum(Oid relid, const char *colname)
{
	AttrNumber	attnum;

	if (get_rel_name(relid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	attnum = get_attnum(relid, colname);
	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist",
						colname, get_rel_name(relid))));
	return attnum;
}

/*
 * Build the quoted, comma-separated list of the quasi-identifier columns
 * in qis (a text[]), after checking each one names a distinct live column.
 */
char *
mask_quasi_identifier_list(Oid relid, ArrayType *qis)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	StringInfoData buf;
	AttrNumber *seen;

	if (ARR_NDIM(qis) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("\"%s\" must be a one-dimensional array", "quasi_identifiers")));
	deconstruct_array(qis, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" must name at least one column", "quasi_identifiers")));
	seen = palloc(sizeof(AttrNumber) * n);
	initStringInfo(&buf);
	for (int i = 0; i < n; i++)
	{
		char	   *col;
		AttrNumber	attnum;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("\"%s\" must not contain NULL", "quasi_identifiers")));
		col = TextDatumGetCString(elems[i]);
		attnum = mask_column_attnum(relid, col);
		for (int j = 0; j < i; j++)
			if (seen[j] == attnum)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("column \"%s\" is listed twice in \"%s\"", col, "quasi_identifiers")));
		seen[i] = attnum;
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, quote_identifier(col));
	}
	pfree(seen);
	return buf.data;
}

/* SQL: aisec.k_anonymity(rel, quasi_identifiers) returns the smallest class size. */
PG_FUNCTION_INFO_V1(aisec_k_anonymity);
Datum
aisec_k_anonymity(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *cols;
	char	   *sql;
	AisecSpi	spi;
	bool		isnull;
	int64		result = 0;

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER | AISEC_ROLE_DPO,
					   "aisec.k_anonymity()");
	cols = mask_quasi_identifier_list(relid, PG_GETARG_ARRAYTYPE_P(1));
	sql = psprintf("SELECT pg_catalog.min(s.n) FROM "
				   "(SELECT pg_catalog.count(*) AS n FROM %s GROUP BY %s) s",
				   aisec_qualified_name(relid), cols);
	aisec_spi_begin(&spi);
	if (aisec_spi_read(sql, false, 0, NULL, NULL, NULL, NULL) != 1)
		elog(ERROR, "k-anonymity query returned no row");
	{
		Datum		d = aisec_spi_value(0, 0, &isnull);

		if (!isnull)
			result = DatumGetInt64(d);
	}
	aisec_spi_end(&spi);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_INT64(result);
}
