/*
 * diff.c
 *		aisec.diff(): the rows added, removed and changed between two
 *		committed versions of a tracked table, as jsonb images.
 *
 * Cost grows with the change, not with the table: only the records that
 * ended or began between the two versions are read (through the BRIN
 * indexes on valid_to and valid_from), and a changed row's older image is
 * one probe of the rid index.  Rows are formed as to_jsonb(row) would form
 * them, faster for the common built-in types (RowJsonb).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"

#include "version.h"

/* One row of a diff: its images at the lower and the higher version. */
typedef struct DiffRow
{
	int64		rid;
	Datum		lo;				/* row at the lower version, if in it */
	Datum		hi;				/* row at the higher version, if in it */
	bool		has_lo;
	bool		has_hi;
	bool		lo_null;		/* redacted image */
	bool		hi_null;
} DiffRow;

/* Order diff rows by row id. */
static int
CompareDiffRows(const void *a, const void *b)
{
	int64		x = (*(DiffRow *const *) a)->rid;
	int64		y = (*(DiffRow *const *) b)->rid;

	return (x > y) - (x < y);
}

/* The entry of rid in rows (created empty if new). */
static DiffRow *
DiffEntry(HTAB *rows, int64 rid)
{
	bool		found;
	DiffRow    *r = hash_search(rows, &rid, HASH_ENTER, &found);

	if (!found)
	{
		memset(r, 0, sizeof(*r));
		r->rid = rid;
	}
	return r;
}

/*
 * Fetch into r->lo the history record (rid, valid_from) through the rid
 * index (a row has one record per version, so the pair names it).
 */
static void
FetchLoImage(IndexScanDesc scan, TupleTableSlot *slot, DiffRow *r, int64 valid_from)
{
	ScanKeyData key;

	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(r->rid));
	index_rescan(scan, &key, 1, NULL, 0);
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;

		if (DatumGetInt64(slot_getattr(slot, HC_VALID_FROM + 1, &isnull)) != valid_from)
			continue;
		r->lo = slot_getattr(slot, HC_DATA + 1, &r->lo_null);
		if (!r->lo_null)
			r->lo = datumCopy(r->lo, false, -1);
		r->has_lo = true;
		return;
	}
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("history has an ended record for row %lld but not the record itself",
					(long long) r->rid),
			 errhint("Run aisec.verify() to find what was changed.")));
}

/*
 * Forming a row's jsonb as to_jsonb(row) does, faster.  to_jsonb looks up
 * each column's type category and prints every number to parse it back,
 * per row; for the common built-in types the category is fixed here once
 * and the value converted directly.  The result is the same jsonb: object
 * keys are the column names (jsonb orders them), NULLs are nulls, numbers
 * are numerics (NaN and infinities strings, as to_jsonb makes them), dates
 * and times use to_jsonb's own encoder, text is the string.  A table with
 * any other column type (floats, arrays, json, domains, ...) goes through
 * to_jsonb itself.
 */
typedef enum RowJsonbKind
{
	RJ_OTHER = 0,				/* not handled here: use to_jsonb */
	RJ_BOOL,
	RJ_INT2,
	RJ_INT4,
	RJ_INT8,
	RJ_NUMERIC,
	RJ_TEXT,
	RJ_DATETIME
} RowJsonbKind;

/* Longest text value formed here; longer ones go through to_jsonb. */
#define ROW_JSONB_MAX_TEXT	(1024 * 1024)

typedef struct RowJsonb
{
	TupleDesc	desc;			/* the table's row type */
	bool		fast;			/* every live column has a kind */
	RowJsonbKind *kinds;
	Datum	   *values;
	bool	   *nulls;
	FmgrInfo	to_jsonb;		/* to_jsonb(row), with its argument type */
} RowJsonb;

/* Prepare to form jsonb for rows of relation relid. */
static void
RowJsonbInit(RowJsonb *rj, Oid relid)
{
	Oid			rowtype = get_rel_type_id(relid);

	rj->desc = lookup_rowtype_tupdesc_copy(rowtype, -1);
	rj->kinds = palloc0(sizeof(RowJsonbKind) * Max(rj->desc->natts, 1));
	rj->values = palloc(sizeof(Datum) * Max(rj->desc->natts, 1));
	rj->nulls = palloc(sizeof(bool) * Max(rj->desc->natts, 1));
	rj->fast = true;
	for (int i = 0; i < rj->desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(rj->desc, i);

		if (att->attisdropped)
			continue;
		switch (att->atttypid)
		{
			case BOOLOID:
				rj->kinds[i] = RJ_BOOL;
				break;
			case INT2OID:
				rj->kinds[i] = RJ_INT2;
				break;
			case INT4OID:
				rj->kinds[i] = RJ_INT4;
				break;
			case INT8OID:
				rj->kinds[i] = RJ_INT8;
				break;
			case NUMERICOID:
				rj->kinds[i] = RJ_NUMERIC;
				break;
			case TEXTOID:
			case VARCHAROID:
			case BPCHAROID:
				rj->kinds[i] = RJ_TEXT;
				break;
			case DATEOID:
			case TIMESTAMPOID:
			case TIMESTAMPTZOID:
				rj->kinds[i] = RJ_DATETIME;
				break;
			default:
				rj->fast = false;
		}
	}

	/* to_jsonb(anyelement) reads its argument's type from its call expression. */
	fmgr_info(F_TO_JSONB, &rj->to_jsonb);
	rj->to_jsonb.fn_expr = (Node *) makeFuncExpr(F_TO_JSONB, JSONBOID,
												 list_make1(makeNullConst(rowtype, -1, InvalidOid)),
												 InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
}

/* Set v to a column value as to_jsonb would convert it; false if it cannot. */
static bool
ColumnJsonb(RowJsonbKind kind, Oid type, Datum d, JsonbValue *v)
{
	switch (kind)
	{
		case RJ_BOOL:
			v->type = jbvBool;
			v->val.boolean = DatumGetBool(d);
			return true;
		case RJ_INT2:
			v->type = jbvNumeric;
			v->val.numeric = int64_to_numeric(DatumGetInt16(d));
			return true;
		case RJ_INT4:
			v->type = jbvNumeric;
			v->val.numeric = int64_to_numeric(DatumGetInt32(d));
			return true;
		case RJ_INT8:
			v->type = jbvNumeric;
			v->val.numeric = int64_to_numeric(DatumGetInt64(d));
			return true;
		case RJ_NUMERIC:
			{
				Numeric		n = DatumGetNumeric(d);

				if (numeric_is_nan(n) || numeric_is_inf(n))
				{
					v->type = jbvString;
					v->val.string.val = DatumGetCString(DirectFunctionCall1(numeric_out, d));
					v->val.string.len = strlen(v->val.string.val);
				}
				else
				{
					v->type = jbvNumeric;
					v->val.numeric = n;
				}
				return true;
			}
		case RJ_TEXT:
			{
				text	   *t = DatumGetTextPP(d);

				if (VARSIZE_ANY_EXHDR(t) > ROW_JSONB_MAX_TEXT)
					return false;
				v->type = jbvString;
				v->val.string.val = VARDATA_ANY(t);
				v->val.string.len = VARSIZE_ANY_EXHDR(t);
				return true;
			}
		case RJ_DATETIME:
			v->type = jbvString;
			v->val.string.val = JsonEncodeDateTime(NULL, d, type, NULL);
			v->val.string.len = strlen(v->val.string.val);
			return true;
		case RJ_OTHER:
			break;
	}
	return false;
}

/* jsonb of a row of the table, equal to to_jsonb(row). */
static Datum
RowJsonbMake(RowJsonb *rj, Datum row)
{
	HeapTupleHeader td;
	HeapTupleData tmp;
	JsonbParseState *state = NULL;
	JsonbValue *result;

	if (!rj->fast)
		return FunctionCall1(&rj->to_jsonb, row);
	td = DatumGetHeapTupleHeader(row);
	tmp.t_len = HeapTupleHeaderGetDatumLength(td);
	ItemPointerSetInvalid(&tmp.t_self);
	tmp.t_tableOid = InvalidOid;
	tmp.t_data = td;
	heap_deform_tuple(&tmp, rj->desc, rj->values, rj->nulls);

	(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < rj->desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(rj->desc, i);
		JsonbValue	key;
		JsonbValue	v;

		if (att->attisdropped)
			continue;
		if (rj->nulls[i])
			v.type = jbvNull;
		else if (!ColumnJsonb(rj->kinds[i], att->atttypid, rj->values[i], &v))
			return FunctionCall1(&rj->to_jsonb, row);
		key.type = jbvString;
		key.val.string.val = NameStr(att->attname);
		key.val.string.len = strlen(NameStr(att->attname));
		(void) pushJsonbValue(&state, WJB_KEY, &key);
		(void) pushJsonbValue(&state, WJB_VALUE, &v);
	}
	result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbPGetDatum(JsonbValueToJsonb(result));
}

/* SQL: aisec.diff(t, from, to) lists rows added, removed and changed. */
PG_FUNCTION_INFO_V1(aisec_diff);
Datum
aisec_diff(PG_FUNCTION_ARGS)
{
	static const char *const kinds[2][3] = {
		/* from < to: rows only in the higher version were added */
		{"added", "removed", "changed"},
		/* from > to: rows only in the higher version were removed */
		{"removed", "added", "changed"},
	};
	Oid			relid;
	int64		from;
	int64		to;
	int64		lo;
	int64		hi;
	Snapshot	snap = GetActiveSnapshot();
	TrackedTable tt;
	Dataset		ds;
	AisecSpi	spi;
	Oid			types[2] = {INT8OID, INT8OID};
	Datum		values[2];
	Tuplestorestate *ts;
	TupleDesc	desc;
	HASHCTL		ctl;
	HTAB	   *rows;
	HTAB	   *ended;
	int			n;
	int64	   *lo_from;
	DiffRow   **lo_rows;
	int			nlo = 0;
	HASH_SEQ_STATUS seq;
	DiffRow    *r;
	DiffRow   **out;
	int			nout = 0;
	FmgrInfo	eqfn;
	RowJsonb	rj;
	MemoryContext rowcxt;

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER, "aisec.diff()");
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table and versions must not be NULL")));
	relid = PG_GETARG_OID(0);
	from = PG_GETARG_INT64(1);
	to = PG_GETARG_INT64(2);
	version_require_select(relid);

	ts = aisec_begin_srf(fcinfo, &desc);
	aisec_spi_begin(&spi);
	ds = version_table_dataset(relid, &tt, snap);
	version_check(&ds, from, true);
	version_check(&ds, to, true);
	lo = Min(from, to);
	hi = Max(from, to);
	if (lo == hi)
	{
		aisec_spi_end(&spi);
		return (Datum) 0;
	}

	/*
	 * Only records that ended or appeared in (lo, hi] are read, through the
	 * BRIN indexes on the append-only ended records' valid_to and history's
	 * valid_from (they sit in the tables' last pages); a row's image at lo,
	 * if it changed, is one rid index probe.  Neither the table nor the
	 * rest of its history is read.
	 */
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(int64) * 2;
	ctl.entrysize = sizeof(int64) * 2;
	ctl.hcxt = CurrentMemoryContext;
	ended = hash_create("aisec diff ended", 1024, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(DiffRow);
	rows = hash_create("aisec diff rows", 1024, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	values[0] = Int64GetDatum(lo);
	values[1] = Int64GetDatum(hi);

	/* Row versions that ended in (lo, hi]; those that began by lo were in lo. */
	n = aisec_spi_run(psprintf("SELECT rid, valid_from FROM %s WHERE valid_to > $1 AND valid_to <= $2",
							   aisec_qualified_name(tt.ended)),
					  true, 2, types, values, NULL, snap);
	lo_from = palloc(sizeof(int64) * Max(n, 1));
	lo_rows = palloc(sizeof(DiffRow *) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		bool		isnull;
		int64		key[2];

		key[0] = DatumGetInt64(aisec_spi_value(i, 0, &isnull));
		key[1] = DatumGetInt64(aisec_spi_value(i, 1, &isnull));
		(void) hash_search(ended, key, HASH_ENTER, NULL);
		if (key[1] <= lo)
		{
			lo_rows[nlo] = DiffEntry(rows, key[0]);
			lo_from[nlo++] = key[1];
		}
	}

	/* Row versions that began in (lo, hi] and had not ended by hi are in hi. */
	n = aisec_spi_run(psprintf("SELECT rid, valid_from, data FROM %s WHERE valid_from > $1 AND valid_from <= $2",
							   aisec_qualified_name(tt.history)),
					  true, 2, types, values, NULL, snap);
	for (int i = 0; i < n; i++)
	{
		bool		isnull;
		int64		key[2];

		key[0] = DatumGetInt64(aisec_spi_value(i, 0, &isnull));
		key[1] = DatumGetInt64(aisec_spi_value(i, 1, &isnull));
		if (hash_search(ended, key, HASH_FIND, NULL) != NULL)
			continue;
		r = DiffEntry(rows, key[0]);
		r->hi = aisec_spi_value(i, 2, &r->hi_null);
		r->has_hi = true;
	}

	/* The images at lo of the rows that changed, in rid order. */
	if (nlo > 0)
	{
		Relation	hrel = table_open(tt.history, AccessShareLock);
		Relation	ridx = history_open_rid_index(hrel);
		IndexScanDesc scan = index_beginscan(hrel, ridx, snap, 1, 0);
		TupleTableSlot *slot = table_slot_create(hrel, NULL);

		for (int i = 0; i < nlo; i++)
		{
			CHECK_FOR_INTERRUPTS();
			FetchLoImage(scan, slot, lo_rows[i], lo_from[i]);
		}
		ExecDropSingleTupleTableSlot(slot);
		index_endscan(scan);
		index_close(ridx, AccessShareLock);
		table_close(hrel, AccessShareLock);
	}

	/* Rows in both versions with identical images did not change. */
	fmgr_info(F_RECORD_IMAGE_EQ, &eqfn);
	out = palloc(sizeof(DiffRow *) * Max(hash_get_num_entries(rows), 1));
	hash_seq_init(&seq, rows);
	while ((r = hash_seq_search(&seq)) != NULL)
	{
		if (r->has_lo && r->has_hi &&
			(r->lo_null || r->hi_null ||
			 DatumGetBool(FunctionCall2(&eqfn, r->lo, r->hi))))
			continue;
		out[nout++] = r;
	}
	qsort(out, nout, sizeof(DiffRow *), CompareDiffRows);

	RowJsonbInit(&rj, relid);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "aisec diff row",
								   ALLOCSET_DEFAULT_SIZES);
	for (int i = 0; i < nout; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(rowcxt);
		Datum		row[4];
		bool		rownull[4] = {0};
		int			kind = out[i]->has_lo ? (out[i]->has_hi ? 2 : 1) : 0;
		bool		lo_isnull = !out[i]->has_lo || out[i]->lo_null;
		bool		hi_isnull = !out[i]->has_hi || out[i]->hi_null;
		Datum		lo_j = lo_isnull ? (Datum) 0 : RowJsonbMake(&rj, out[i]->lo);
		Datum		hi_j = hi_isnull ? (Datum) 0 : RowJsonbMake(&rj, out[i]->hi);

		/* before is the row at from_version, after the row at to_version */
		row[0] = CStringGetTextDatum(kinds[from > to][kind]);
		row[1] = Int64GetDatum(out[i]->rid);
		row[2] = from < to ? lo_j : hi_j;
		rownull[2] = from < to ? lo_isnull : hi_isnull;
		row[3] = from < to ? hi_j : lo_j;
		rownull[3] = from < to ? hi_isnull : lo_isnull;
		tuplestore_putvalues(ts, desc, row, rownull);
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);
	}
	aisec_spi_end(&spi);
	return (Datum) 0;
}
