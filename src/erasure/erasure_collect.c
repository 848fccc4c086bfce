/*
 * erasure_collect.c
 *		Find what an erasure request reaches, for erasure_preview and
 *		erase alike, so that the dry run counts exactly what erase does.
 *
 * Per declared table (ordered by schema and name), the statements are
 * built from the catalog only: the table and columns quoted, each column
 * compared with the subject as a $n parameter of the column's base type
 * through the type's built-in default equality operator
 * (erasure_eq_operator), so an index that leads with the column serves
 * the live table.  A subject that is no valid value of a column's type (an
 * e-mail for an integer column) is in no row of it: that column is left
 * out, with no error that would echo the subject.  Everything runs as the
 * extension owner, since a DPO need not read the tables, with row_security
 * off (an owner subject to a policy gets an error rather than a short
 * count), and returns counts and row ids, never row data.
 *
 * A tracked table's subject rows are row ids: those of live rows whose
 * subject columns hold the subject, and those of history records whose
 * row data holds it (a row deleted since, or updated away from the
 * subject: it was the subject's row, and its other versions may still
 * say who).  Erasure deletes the live rows with those ids and redacts
 * every history record of them.  The live search uses the column's index;
 * the history search, the history's subject index on the same column of
 * its row data (erasure_index.c; erase builds a missing one first, the
 * preview reads the whole history without it).  An untracked table has no
 * row ids and no history: its live rows are those whose subject columns
 * hold the subject.  Then the rows derived from the subject's rows are
 * found (erasure_derived.c).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#if PG_VERSION_NUM >= 160000
#include "nodes/miscnodes.h"
#endif
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/resowner.h"
#include "utils/syscache.h"

#include "erasure_internal.h"

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

/* One declared column, with the subject as a value of its type. */
typedef struct SubjectColumn
{
	char	   *attname;
	Oid			typid;			/* the column's base type */
	Oid			eq_opr;
	Datum		value;			/* the subject as a value of typid */
	bool		valid;			/* false: the subject is no value of typid */
} SubjectColumn;

/* A declaration of a table that still exists. */
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

/*
 * Append "p.c1 = $k OR p.c2 = $k+1 ..." over the valid columns to sql,
 * each column read as prefix || quoted name, and their types and values
 * to types and values from *nargs on; false if no column is valid.
 */
static bool
AppendMatch(StringInfo sql, const char *prefix, SubjectColumn *cols, int ncols,
			Oid *types, Datum *values, int *nargs)
{
	bool		any = false;

	appendStringInfoChar(sql, '(');
	for (int i = 0; i < ncols; i++)
	{
		if (!cols[i].valid)
			continue;
		if (any)
			appendStringInfoString(sql, " OR ");
		types[*nargs] = cols[i].typid;
		values[*nargs] = cols[i].value;
		(*nargs)++;
		appendStringInfo(sql, "%s%s %s $%d", prefix, quote_identifier(cols[i].attname),
						 OperatorSql(cols[i].eq_opr), *nargs);
		any = true;
	}
	appendStringInfoChar(sql, ')');
	return any;
}

/*
 * Whether the searches read with a fresh snapshot (erase, after locking
 * the tables: a row committed after its statement began is found) or with
 * the calling query's (the preview).
 */
static bool fresh_snapshot = false;

/* Run query sql as the extension owner with row security off. */
static int
RunAsOwner(const char *sql, int nargs, Oid *types, Datum *values)
{
	(void) set_config_option("row_security", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (fresh_snapshot)
		return aisec_spi_run(sql, true, nargs, types, values, NULL, NULL);
	return aisec_spi_read(sql, true, nargs, types, values, NULL, NULL);
}

/* Run query sql as the owner, as the searches run (erasure_derived.c). */
int
erasure_run_as_owner(const char *sql, int nargs, Oid *types, Datum *values)
{
	return RunAsOwner(sql, nargs, types, values);
}

/* An empty int8[]. */
static Datum
EmptyInt8Array(void)
{
	return PointerGetDatum(construct_empty_array(INT8OID));
}

/* Copy an array Datum out of SPI's memory (NULL: an empty one). */
static Datum
CopyArray(Datum d, bool isnull)
{
	if (isnull)
		return EmptyInt8Array();
	return PointerGetDatum(DatumGetArrayTypePCopy(d));
}

/* Fill what erasure reaches in an untracked table: its matching live rows. */
static void
CollectUntracked(ErasureTarget *t, SubjectColumn *cols, int ncols)
{
	StringInfoData sql;
	Oid		   *types = palloc(sizeof(Oid) * (ncols + 1));
	Datum	   *values = palloc(sizeof(Datum) * (ncols + 1));
	int			nargs = 0;
	AisecSpi	spi;
	bool		isnull;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT pg_catalog.count(*) FROM %s%s WHERE ",
					 get_rel_relkind(t->relid) == RELKIND_PARTITIONED_TABLE ? "" : "ONLY ",
					 aisec_qualified_name(t->relid));
	t->match = pstrdup("");
	if (!AppendMatch(&sql, "", cols, ncols, types, values, &nargs))
		return;					/* live_rows 0 */

	/* Keep the condition for erase's DELETE. */
	t->match = pstrdup(strstr(sql.data, " WHERE ") + strlen(" WHERE "));
	t->nargs = nargs;
	t->types = types;
	t->values = values;
	aisec_spi_begin(&spi);
	(void) RunAsOwner(sql.data, nargs, types, values);
	t->live_rows = DatumGetInt64(aisec_spi_value(0, 0, &isnull));
	aisec_spi_end(&spi);
}

/* Number of elements of the int8[] a. */
static int
ArrayLength(Datum a)
{
	ArrayType  *arr = DatumGetArrayTypeP(a);

	return ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
}

/* The int8[] a followed by the elements of b. */
static Datum
ConcatArrays(Datum a, Datum b)
{
	Datum	   *ea;
	Datum	   *eb;
	Datum	   *all;
	int			na;
	int			nb;

	deconstruct_array(DatumGetArrayTypeP(a), INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &ea, NULL, &na);
	deconstruct_array(DatumGetArrayTypeP(b), INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &eb, NULL, &nb);
	all = palloc(sizeof(Datum) * (na + nb + 1));
	memcpy(all, ea, sizeof(Datum) * na);
	memcpy(all + na, eb, sizeof(Datum) * nb);
	return PointerGetDatum(construct_array(all, na + nb, INT8OID, 8, FLOAT8PASSBYVAL,
										   TYPALIGN_DOUBLE));
}

/* Run a query of one int8[] column as the owner; the array, copied. */
static Datum
QueryArray(const char *sql, int nargs, Oid *types, Datum *values)
{
	bool		isnull;
	Datum		d;

	(void) RunAsOwner(sql, nargs, types, values);
	d = aisec_spi_value(0, 0, &isnull);
	return CopyArray(d, isnull);
}

/*
 * Fill what erasure reaches in a tracked table.  The subject's row ids
 * are those of live rows whose subject columns hold the subject (found by
 * the columns' index: live_rids) and those of history records whose row
 * data holds it (by the history's subject index).  Of the latter, rows with an
 * open record (no ended record: the row is live, but no longer holds the
 * subject) are changed_rids; the others were deleted.  So live rows are
 * counted and deleted by index, and the live table is scanned by row id
 * (it has no index on aisec_rid) only when some row has changed away
 * from the subject.  Then the history records erase would redact (all of
 * the ids' records still holding data, except records of the pending
 * version of live rows, which capture deletes with the row), and the
 * committed versions whose records include them.
 */
static void
CollectTracked(ErasureTarget *t, SubjectColumn *cols, int ncols)
{
	StringInfoData sql;
	Oid		   *types = palloc(sizeof(Oid) * (ncols + 1));
	Datum	   *values = palloc(sizeof(Datum) * (ncols + 1));
	int			nargs = 0;
	AisecSpi	spi;
	char	   *rel = aisec_qualified_name(t->relid);
	char	   *hist = aisec_qualified_name(t->tt.history);
	char	   *ended = aisec_qualified_name(t->tt.ended);
	Datum		past;
	Oid		   *atypes = palloc(sizeof(Oid) * (ncols + 3));
	Datum	   *avalues = palloc(sizeof(Datum) * (ncols + 3));
	bool		isnull;

	t->rids = t->live_rids = t->changed_rids = t->versions = EmptyInt8Array();
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT pg_catalog.array_agg(t.%s ORDER BY t.%s) FROM ONLY %s t WHERE ",
					 RID_COLUMN, RID_COLUMN, rel);
	if (!AppendMatch(&sql, "t.", cols, ncols, types, values, &nargs))
		return;					/* no row can hold the subject */
	/* Kept for erase's DELETE of the live rows, by the same index. */
	t->match = pstrdup(strstr(sql.data, " WHERE ") + strlen(" WHERE "));
	t->nargs = nargs;
	t->types = types;
	t->values = values;
	memcpy(atypes, types, sizeof(Oid) * nargs);
	memcpy(avalues, values, sizeof(Datum) * nargs);

	aisec_spi_begin(&spi);
	t->live_rids = QueryArray(sql.data, nargs, types, values);

	/* Row ids only the history names with the subject. */
	resetStringInfo(&sql);
	appendStringInfo(&sql, "SELECT pg_catalog.array_agg(DISTINCT h.rid ORDER BY h.rid) FROM %s h "
					 "WHERE h.rid OPERATOR(pg_catalog.<>) ALL ($%d) AND ",
					 hist, nargs + 1);
	atypes[nargs] = INT8ARRAYOID;
	avalues[nargs] = t->live_rids;
	{
		int			k = 0;

		(void) AppendMatch(&sql, "(h.data).", cols, ncols, atypes, avalues, &k);
	}
	past = QueryArray(sql.data, nargs + 1, atypes, avalues);

	/* Of those, the rows still live (an open record). */
	if (ArrayLength(past) > 0)
	{
		resetStringInfo(&sql);
		appendStringInfo(&sql,
						 "SELECT pg_catalog.array_agg(DISTINCT h.rid ORDER BY h.rid) FROM %s h "
						 "WHERE h.rid OPERATOR(pg_catalog.=) ANY ($1) AND NOT EXISTS "
						 "(SELECT FROM %s e WHERE e.rid OPERATOR(pg_catalog.=) h.rid "
						 "   AND e.valid_from OPERATOR(pg_catalog.=) h.valid_from)",
						 hist, ended);
		atypes[0] = INT8ARRAYOID;
		avalues[0] = past;
		t->changed_rids = QueryArray(sql.data, 1, atypes, avalues);
	}
	t->rids = ConcatArrays(t->live_rids, past);
	t->nrids = ArrayLength(t->rids);
	t->live_rows = ArrayLength(t->live_rids) + ArrayLength(t->changed_rids);

	if (t->nrids > 0)
	{
		Datum		live = ConcatArrays(t->live_rids, t->changed_rids);

		atypes[0] = INT8ARRAYOID;
		avalues[0] = t->rids;
		atypes[1] = INT8OID;
		avalues[1] = Int64GetDatum(t->tt.pending);
		atypes[2] = INT8ARRAYOID;
		avalues[2] = live;
		resetStringInfo(&sql);
		appendStringInfo(&sql,
						 "SELECT pg_catalog.count(*) FROM %s h "
						 "WHERE h.rid OPERATOR(pg_catalog.=) ANY ($1) "
						 "  AND (h.data IS NOT NULL OR h.salt IS NOT NULL) "
						 "  AND NOT (h.valid_from OPERATOR(pg_catalog.>=) $2 "
						 "           AND h.rid OPERATOR(pg_catalog.=) ANY ($3))",
						 hist);
		(void) RunAsOwner(sql.data, 3, atypes, avalues);
		t->history_records = DatumGetInt64(aisec_spi_value(0, 0, &isnull));

		atypes[1] = INT4OID;
		avalues[1] = Int32GetDatum(t->tt.table_no);
		resetStringInfo(&sql);
		/*
		 * The records' spans first, materialized: joined to the versions
		 * directly, a plan that misjudges how many versions there are
		 * (stale statistics) reads the ended records once per version.
		 */
		appendStringInfo(&sql,
						 "WITH r AS MATERIALIZED ("
						 " SELECT GREATEST(h.valid_from, 1) AS f, e.valid_to AS t "
						 " FROM %s h LEFT JOIN %s e "
						 "   ON e.rid OPERATOR(pg_catalog.=) h.rid "
						 "  AND e.valid_from OPERATOR(pg_catalog.=) h.valid_from "
						 " WHERE h.rid OPERATOR(pg_catalog.=) ANY ($1)) "
						 "SELECT pg_catalog.array_agg(DISTINCT vt.version ORDER BY vt.version) "
						 "FROM r JOIN aisec.version_table vt "
						 "  ON vt.table_no OPERATOR(pg_catalog.=) $2 "
						 " AND vt.version OPERATOR(pg_catalog.>=) r.f "
						 " AND (r.t IS NULL OR vt.version OPERATOR(pg_catalog.<) r.t)",
						 hist, ended);
		t->versions = QueryArray(sql.data, 2, atypes, avalues);
	}
	aisec_spi_end(&spi);
}

/*
 * Find what erasing subject reaches, per declared table that exists (in
 * schema and name order), locking each table in lockmode first; return
 * the number of tables, the targets in *out.  With fresh, each search
 * reads with a new snapshot, taken after the lock (erase, at READ
 * COMMITTED); else with the calling query's (the preview).
 */
int
erasure_collect(const char *subject, LOCKMODE lockmode, bool fresh, ErasureTarget **out)
{
	Declared   *decl;
	int			ndecl = ReadDeclared(&decl);
	SubjectColumn *cols = palloc0(sizeof(SubjectColumn) * (ndecl + 1));
	ErasureTarget *targets = palloc0(sizeof(ErasureTarget) * (ndecl + 1));
	int			n = 0;

	fresh_snapshot = fresh;
	for (int start = 0; start < ndecl;)
	{
		ErasureTarget *t = &targets[n++];
		Oid			relid = decl[start].relid;
		int			end = start;

		/* The table's columns; locked while they are read and searched. */
		LockRelationOid(relid, lockmode);
		while (end < ndecl && decl[end].relid == relid)
		{
			PrepareColumn(relid, decl[end].attname, subject, &cols[end - start]);
			end++;
		}
		t->relid = relid;
		t->tracked = history_lookup(relid, &t->tt);
		/* Erase builds a missing subject index (a table tracked since). */
		if (t->tracked && fresh)
			(void) erasure_history_sync(relid, &t->tt);
		if (t->tracked)
			CollectTracked(t, cols, end - start);
		else
			CollectUntracked(t, cols, end - start);
		start = end;
	}
	/* The rows derived from the subject's, under the tables' policies. */
	n = erasure_collect_derived(&targets, n, lockmode);
	*out = targets;
	return n;
}
