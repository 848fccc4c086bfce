/*
 * erasure_preview.c
 *		aisec.erasure_preview(reference, subject): the dry run of an
 *		erasure request.  This slice counts the live rows; history records,
 *		versions and derived rows come with the slices that erase them.
 *
 * The register holds only the subject's keyed hash, so the DPO gives the
 * subject again; it is used only after its keyed hash matches the
 * request's, so a preview answers only for a subject a request was
 * registered (and audited) for, never for an arbitrary value.
 *
 * Per declared table, one statement counts the rows whose subject columns
 * (any of them, if several) equal the subject: SELECT count(*) FROM t
 * WHERE c1 OPERATOR(pg_catalog.=) $1 OR ..., the table and columns quoted
 * from the catalog, the subject a parameter of each column's base type, so
 * an index that leads with the column serves it.  A subject that is no
 * valid value of a column's type (an e-mail for an integer column) is in
 * no row of it: that column is left out, with no error that would echo
 * the subject.  The count runs as the extension owner, since a DPO need
 * not read the tables, with row_security off (an owner subject to a
 * policy gets an error rather than a short count) and only built-in
 * operators (erasure_eq_operator).  It returns counts, never row data.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#if PG_VERSION_NUM >= 160000
#include "nodes/miscnodes.h"
#endif
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/resowner.h"
#include "utils/syscache.h"

#include "erasure_internal.h"

/* One declared column of a table, with the subject as a value of its type. */
typedef struct SubjectColumn
{
	char	   *attname;
	Oid			typid;			/* the column's base type */
	Oid			eq_opr;
	Datum		value;			/* the subject as a value of typid */
	bool		valid;			/* false: the subject is no value of typid */
} SubjectColumn;

/*
 * The subject as a value of type typid; false if it is none (the input
 * function's error is caught and dropped: it would echo the subject).
 */
static bool
ConvertSubject(const char *subject, Oid typid, Datum *value)
{
	Oid			infunc;
	Oid			ioparam;
#if PG_VERSION_NUM >= 160000
	ErrorSaveContext escontext = {T_ErrorSaveContext};
	FmgrInfo	flinfo;

	getTypeInputInfo(typid, &infunc, &ioparam);
	fmgr_info(infunc, &flinfo);
	return InputFunctionCallSafe(&flinfo, (char *) subject, ioparam, -1,
								 (Node *) &escontext, value);
#else
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool ok = false;

	getTypeInputInfo(typid, &infunc, &ioparam);
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		*value = OidInputFunctionCall(infunc, (char *) subject, ioparam, -1);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		ok = true;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_END_TRY();
	return ok;
#endif
}

/* OPERATOR(schema.name) for operator opr, from the catalog. */
static char *
OperatorSql(Oid opr)
{
	HeapTuple	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(opr));
	Form_pg_operator form;
	char	   *sql;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for operator %u", opr);
	form = (Form_pg_operator) GETSTRUCT(tup);
	sql = psprintf("OPERATOR(%s.%s)",
				   quote_identifier(get_namespace_name(form->oprnamespace)),
				   NameStr(form->oprname));
	ReleaseSysCache(tup);
	return sql;
}

/*
 * Count the live rows of relid whose columns (ncols of cols) hold the
 * subject.  Columns the subject is no value of are left out; with none
 * left, the count is 0 without a query.
 */
static int64
CountLiveRows(Oid relid, SubjectColumn *cols, int ncols)
{
	StringInfoData sql;
	Oid		   *types = palloc(sizeof(Oid) * ncols);
	Datum	   *values = palloc(sizeof(Datum) * ncols);
	int			nargs = 0;
	AisecSpi	spi;
	bool		isnull;
	int64		n;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT pg_catalog.count(*) FROM %s%s WHERE ",
					 get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE ? "" : "ONLY ",
					 aisec_qualified_name(relid));
	for (int i = 0; i < ncols; i++)
	{
		if (!cols[i].valid)
			continue;
		if (nargs > 0)
			appendStringInfoString(&sql, " OR ");
		types[nargs] = cols[i].typid;
		values[nargs] = cols[i].value;
		nargs++;
		appendStringInfo(&sql, "%s %s $%d", quote_identifier(cols[i].attname),
						 OperatorSql(cols[i].eq_opr), nargs);
	}
	if (nargs == 0)
		return 0;

	aisec_spi_begin(&spi);
	(void) set_config_option("row_security", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) aisec_spi_read(sql.data, true, nargs, types, values, NULL, NULL);
	n = DatumGetInt64(aisec_spi_value(0, 0, &isnull));
	aisec_spi_end(&spi);
	return n;
}

/* The declared columns, in table order (schema, name), of existing tables. */
typedef struct Declared
{
	Oid			relid;
	char	   *attname;
} Declared;

/* Read the declarations of tables that still exist; return how many. */
static int
ReadDeclared(Declared **out)
{
	AisecSpi	spi;
	int			n;
	Declared   *d;

	aisec_spi_begin(&spi);
	n = aisec_spi_read("SELECT s.rel::pg_catalog.oid, s.attname::pg_catalog.text "
					   "FROM aisec.erasure_subject s "
					   "JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) s.rel::pg_catalog.oid "
					   "JOIN pg_catalog.pg_namespace ns ON ns.oid OPERATOR(pg_catalog.=) c.relnamespace "
					   "ORDER BY ns.nspname, c.relname, s.attname",
					   true, 0, NULL, NULL, NULL, NULL);
	d = palloc0(sizeof(Declared) * (n + 1));
	for (int i = 0; i < n; i++)
	{
		bool		isnull;

		d[i].relid = DatumGetObjectId(aisec_spi_value(i, 0, &isnull));
		d[i].attname = TextDatumGetCString(aisec_spi_value(i, 1, &isnull));
	}
	aisec_spi_end(&spi);
	*out = d;
	return n;
}

/* Fill col for column attname of relid; error if it no longer exists. */
static void
PrepareColumn(Oid relid, const char *attname, const char *subject, SubjectColumn *col)
{
	AttrNumber	attnum = get_attnum(relid, attname);

	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("subject column \"%s\" of relation %s no longer exists",
						attname, aisec_qualified_name(relid)),
				 errdetail("The column was dropped or renamed after it was declared."),
				 errhint("Undeclare it with aisec.undeclare_subject and declare the column that identifies the subject now.")));
	col->attname = pstrdup(attname);
	col->typid = getBaseType(get_atttype(relid, attnum));
	col->eq_opr = erasure_eq_operator(col->typid, attname);
	col->valid = ConvertSubject(subject, col->typid, &col->value);
}

/* SQL: aisec.erasure_preview(reference, subject): the dry run; see the file header. */
PG_FUNCTION_INFO_V1(aisec_erasure_preview);
Datum
aisec_erasure_preview(PG_FUNCTION_ARGS)
{
	char	   *reference;
	char	   *subject;
	ErasureRequest req;
	Declared   *decl;
	int			ndecl;
	SubjectColumn *cols;
	TupleDesc	desc;
	Tuplestorestate *ts;

	aisec_require_role(AISEC_ROLE_DPO, "aisec.erasure_preview()");
	reference = erasure_text_arg(fcinfo, 0, "erasure reference", 0);
	subject = erasure_text_arg(fcinfo, 1, "erasure subject", 0);
	if (!erasure_lookup_request(reference, false, &req))
		erasure_report_no_request(reference);
	erasure_check_subject(&req, PG_GETARG_TEXT_PP(1));

	ts = aisec_begin_srf(fcinfo, &desc);
	ndecl = ReadDeclared(&decl);
	cols = palloc0(sizeof(SubjectColumn) * (ndecl + 1));
	for (int start = 0; start < ndecl;)
	{
		Oid			relid = decl[start].relid;
		int			end = start;
		Datum		values[5];
		bool		nulls[5] = {false, false, true, true, true};

		/* The table's columns; locked while they are read and counted. */
		LockRelationOid(relid, AccessShareLock);
		while (end < ndecl && decl[end].relid == relid)
		{
			PrepareColumn(relid, decl[end].attname, subject, &cols[end - start]);
			end++;
		}
		values[0] = ObjectIdGetDatum(relid);
		values[1] = Int64GetDatum(CountLiveRows(relid, cols, end - start));
		tuplestore_putvalues(ts, desc, values, nulls);
		start = end;
	}
	return (Datum) 0;
}
