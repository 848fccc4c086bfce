/*
 * diff.c
 *		aisec.diff(): the rows added, removed and changed between two
 *		committed versions of a tracked table, as jsonb images without
 *		aisec_rid; aisec.diff_summary(): how many, per column.
 *
 * Rows are matched by row id here, or by key columns (diff_keyed.c).  By
 * row id, cost grows with the change, not with the table: only the
 * records that ended or began between the two versions are read (through
 * the BRIN indexes on valid_to and valid_from), and a changed row's older
 * image is one probe of the rid index.  Either way a row in both versions
 * is changed if a column other than aisec_rid has another binary image.
 * Rows are formed as to_jsonb(row) - 'aisec_rid' would form them, faster
 * for the common built-in types (RowJsonb).
 *
 * A row whose record in either version is redacted (an erasure blanked its
 * data, doc/erasure.md) is reported as "erased", by row id, with neither
 * image: whether it was added, removed or changed cannot be told without
 * its data, and the data is gone.  A row with the same redacted record in
 * both versions did not change and is not reported.
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

#include "diff.h"

/* The entry of rid in rows (created empty if new). */
static DiffRow *
DiffEntry(HTAB *rows, int64 rid)
{
	bool		found;
	DiffRow    *r = hash_search(rows, &rid, HASH_ENTER, &found);

	if (!found)
	{
		memset(r, 0, sizeof(*r));
		r->rid = r->lo_rid = r->hi_rid = rid;
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
	AttrNumber	ridatt;			/* aisec_rid, left out */
	bool		fast;			/* every live column has a kind */
	RowJsonbKind *kinds;
	Datum	   *values;
	bool	   *nulls;
	FmgrInfo	to_jsonb;		/* to_jsonb(row), with its argument type */
} RowJsonb;

/* Prepare to form jsonb for rows of relation relid, whose row type is desc. */
static void
RowJsonbInit(RowJsonb *rj, Oid relid, TupleDesc desc, AttrNumber ridatt)
{
	Oid			rowtype = get_rel_type_id(relid);

	rj->desc = desc;
	rj->ridatt = ridatt;
	rj->kinds = palloc0(sizeof(RowJsonbKind) * Max(rj->desc->natts, 1));
	rj->values = palloc(sizeof(Datum) * Max(rj->desc->natts, 1));
	rj->nulls = palloc(sizeof(bool) * Max(rj->desc->natts, 1));
	rj->fast = true;
	for (int i = 0; i < rj->desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(rj->desc, i);

		if (att->attisdropped || att->attnum == rj->ridatt)
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

/* to_jsonb(row) - 'aisec_rid' */
static Datum
RowJsonbSlow(RowJsonb *rj, Datum row)
{
	return DirectFunctionCall2(jsonb_delete, FunctionCall1(&rj->to_jsonb, row),
							   CStringGetTextDatum(RID_COLUMN));
}

/* jsonb of a row of the table without its row id, equal to to_jsonb(row) - 'aisec_rid'. */
static Datum
RowJsonbMake(RowJsonb *rj, Datum row)
{
	HeapTupleHeader td;
	HeapTupleData tmp;
	JsonbParseState *state = NULL;
	JsonbValue *result;

	if (!rj->fast)
		return RowJsonbSlow(rj, row);
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

		if (att->attisdropped || att->attnum == rj->ridatt)
			continue;
		if (rj->nulls[i])
			v.type = jbvNull;
		else if (!ColumnJsonb(rj->kinds[i], att->atttypid, rj->values[i], &v))
			return RowJsonbSlow(rj, row);
		key.type = jbvString;
		key.val.string.val = NameStr(att->attname);
		key.val.string.len = strlen(NameStr(att->attname));
		(void) pushJsonbValue(&state, WJB_KEY, &key);
		(void) pushJsonbValue(&state, WJB_VALUE, &v);
	}
	result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbPGetDatum(JsonbValueToJsonb(result));
}

/* ---------------------------------------------------------------------
 * Rows matched by row id
 * ---------------------------------------------------------------------
 */

/*
 * The rows of a tracked table that changed between versions lo < hi,
 * matched by row id: each row with a record that ended or began in
 * (lo, hi], with its images at lo and hi (a row changed and changed back
 * has equal images; the caller compares them).  Only those records are
 * read, through the BRIN indexes on the append-only ended records'
 * valid_to and history's valid_from (they sit in the tables' last pages);
 * a row's image at lo, if it changed, is one rid index probe.  Neither the
 * table nor the rest of its history is read.  Runs inside the caller's SPI
 * connection; the images point into its results.
 */
static DiffRow **
DiffRowsByRid(const TrackedTable *tt, int64 lo, int64 hi, Snapshot snap, int *nrows)
{
	Oid			types[2] = {INT8OID, INT8OID};
	Datum		values[2];
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
							   aisec_qualified_name(tt->ended)),
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
							   aisec_qualified_name(tt->history)),
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

	/* The images at lo of the rows that changed. */
	if (nlo > 0)
	{
		Relation	hrel = table_open(tt->history, AccessShareLock);
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

	out = palloc(sizeof(DiffRow *) * Max(hash_get_num_entries(rows), 1));
	hash_seq_init(&seq, rows);
	while ((r = hash_seq_search(&seq)) != NULL)
		out[nout++] = r;
	*nrows = nout;
	return out;
}

/* ---------------------------------------------------------------------
 * aisec.diff() and aisec.diff_summary()
 * ---------------------------------------------------------------------
 */

/* A diff being computed: its arguments and the rows found. */
typedef struct DiffCall
{
	Oid			relid;
	int64		from;
	int64		to;
	TupleDesc	desc;			/* the table's row type */
	AttrNumber	ridatt;			/* its aisec_rid */
	AisecSpi	spi;			/* open until the rows are returned */
	DiffRow   **rows;			/* candidates: compare images of pairs */
	int			nrows;
	Datum	   *lo_values;		/* scratch for comparing two images */
	bool	   *lo_nulls;
	Datum	   *hi_values;
	bool	   *hi_nulls;
	MemoryContext rowcxt;		/* reset per row */
} DiffCall;

/* A row's kind of change, as the index into DiffKind's names. */
enum
{
	DK_ONLY_HI = 0,
	DK_ONLY_LO,
	DK_BOTH,
	DK_ERASED,					/* a redacted record on either side */
	DK_NKINDS
};

/* The name of a row's change: it is in the higher version only, the lower only, or both. */
static const char *
DiffKind(const DiffCall *dc, int kind)
{
	static const char *const kinds[2][DK_NKINDS] = {
		/* from < to: rows only in the higher version were added */
		{"added", "removed", "changed", "erased"},
		/* from > to: rows only in the higher version were removed */
		{"removed", "added", "changed", "erased"},
	};

	return kinds[dc->from > dc->to][kind];
}

/* The table's committed row count at a version (0 for version 0 or none). */
static int64
VersionRows(const Dataset *ds, const TrackedTable *tt, int64 version, Snapshot snap)
{
	Oid			types[3] = {INT4OID, INT8OID, INT4OID};
	Datum		values[3];
	bool		isnull;

	values[0] = Int32GetDatum(ds->id);
	values[1] = Int64GetDatum(version);
	values[2] = Int32GetDatum(tt->table_no);
	if (aisec_spi_run("SELECT rows FROM aisec.version_table "
					  "WHERE dataset_id = $1 AND version = $2 AND table_no = $3",
					  true, 3, types, values, NULL, snap) != 1)
		return 0;
	return DatumGetInt64(aisec_spi_value(0, 0, &isnull));
}

/*
 * Check the caller and the arguments (table, from_version, to_version,
 * key) and find the rows that may differ between the two versions: by
 * row id, or by key if one is given.  SPI stays open (the rows may point
 * into its results) until the caller's aisec_spi_end(&dc->spi).
 */
static void
DiffStart(FunctionCallInfo fcinfo, const char *fname, DiffCall *dc)
{
	Snapshot	snap = GetActiveSnapshot();
	TrackedTable tt;
	Dataset		ds;
	DiffKey		key = {0};
	int			natts;

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER, fname);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table and versions must not be NULL")));
	dc->relid = PG_GETARG_OID(0);
	dc->from = PG_GETARG_INT64(1);
	dc->to = PG_GETARG_INT64(2);
	version_require_select(dc->relid);

	aisec_spi_begin(&dc->spi);
	ds = version_table_dataset(dc->relid, &tt, snap);
	dc->desc = lookup_rowtype_tupdesc_copy(get_rel_type_id(dc->relid), -1);
	natts = Max(dc->desc->natts, 1);
	dc->ridatt = InvalidAttrNumber;
	for (int i = 0; i < dc->desc->natts; i++)
		if (!TupleDescAttr(dc->desc, i)->attisdropped &&
			strcmp(NameStr(TupleDescAttr(dc->desc, i)->attname), RID_COLUMN) == 0)
			dc->ridatt = i + 1;
	if (PG_NARGS() > 3 && !PG_ARGISNULL(3))
		diff_resolve_key(dc->relid, dc->desc, PG_GETARG_DATUM(3), &key);
	version_check(&ds, dc->from, true);
	version_check(&ds, dc->to, true);

	dc->lo_values = palloc(sizeof(Datum) * natts);
	dc->lo_nulls = palloc(sizeof(bool) * natts);
	dc->hi_values = palloc(sizeof(Datum) * natts);
	dc->hi_nulls = palloc(sizeof(bool) * natts);
	dc->rowcxt = AllocSetContextCreate(CurrentMemoryContext, "aisec diff row",
									   ALLOCSET_DEFAULT_SIZES);
	if (dc->from == dc->to)
	{
		dc->rows = NULL;
		dc->nrows = 0;
	}
	else if (key.n == 0)
		dc->rows = DiffRowsByRid(&tt, Min(dc->from, dc->to), Max(dc->from, dc->to),
								 snap, &dc->nrows);
	else
		dc->rows = diff_keyed_rows(&tt, dc->desc, &key, dc->from, dc->to,
								   Max(VersionRows(&ds, &tt, dc->from, snap),
									   VersionRows(&ds, &tt, dc->to, snap)),
								   snap, &dc->nrows);
}

/* Deform a row image of the table into values and nulls. */
static void
DeformImage(const DiffCall *dc, Datum image, Datum *values, bool *nulls)
{
	HeapTupleHeader td = DatumGetHeapTupleHeader(image);
	HeapTupleData tmp;

	tmp.t_len = HeapTupleHeaderGetDatumLength(td);
	ItemPointerSetInvalid(&tmp.t_self);
	tmp.t_tableOid = InvalidOid;
	tmp.t_data = td;
	heap_deform_tuple(&tmp, dc->desc, values, nulls);
}

/*
 * The kind of change of row r (DK_*), or -1 if it is in both versions with
 * equal images: equal binary values in every column but aisec_rid.  A row
 * with a redacted image on a side that holds it is DK_ERASED (a record in
 * both versions is never a candidate, so a redacted one is not reported).
 * With changed, count 1 in changed[i] for each column i (attnum - 1)
 * whose values differ.  Works in dc->rowcxt, which the caller resets.
 */
static int
DiffRowKind(DiffCall *dc, const DiffRow *r, int64 *changed)
{
	bool		differ = false;

	if ((r->has_lo && r->lo_null) || (r->has_hi && r->hi_null))
		return DK_ERASED;
	if (!r->has_lo)
		return DK_ONLY_HI;
	if (!r->has_hi)
		return DK_ONLY_LO;
	DeformImage(dc, r->lo, dc->lo_values, dc->lo_nulls);
	DeformImage(dc, r->hi, dc->hi_values, dc->hi_nulls);
	for (int i = 0; i < dc->desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(dc->desc, i);
		bool		same;

		if (att->attisdropped || att->attnum == dc->ridatt)
			continue;
		if (dc->lo_nulls[i] || dc->hi_nulls[i])
			same = dc->lo_nulls[i] && dc->hi_nulls[i];
		else
			same = datum_image_eq(dc->lo_values[i], dc->hi_values[i],
								  att->attbyval, att->attlen);
		if (same)
			continue;
		differ = true;
		if (changed == NULL)
			break;
		changed[i]++;
	}
	return differ ? DK_BOTH : -1;
}

/* A row to report: its kind and the row id it is reported under. */
typedef struct DiffOut
{
	int64		rid;
	int			kind;
	const DiffRow *row;
} DiffOut;

/* Order rows to report by row id. */
static int
CompareDiffOut(const void *a, const void *b)
{
	int64		x = ((const DiffOut *) a)->rid;
	int64		y = ((const DiffOut *) b)->rid;

	return (x > y) - (x < y);
}

/*
 * SQL: aisec.diff(t, from, to, key) lists rows added, removed and changed,
 * matched by row id, or by the key columns if key is not NULL.
 */
PG_FUNCTION_INFO_V1(aisec_diff);
Datum
aisec_diff(PG_FUNCTION_ARGS)
{
	DiffCall	dc;
	Tuplestorestate *ts;
	TupleDesc	desc;
	DiffOut    *out;
	int			nout = 0;
	RowJsonb	rj;

	DiffStart(fcinfo, "aisec.diff()", &dc);
	ts = aisec_begin_srf(fcinfo, &desc);

	/* Rows with equal images did not change; the rest in row id order. */
	out = palloc(sizeof(DiffOut) * Max(dc.nrows, 1));
	for (int i = 0; i < dc.nrows; i++)
	{
		const DiffRow *r = dc.rows[i];
		MemoryContext old = MemoryContextSwitchTo(dc.rowcxt);
		int			kind = DiffRowKind(&dc, r, NULL);

		MemoryContextSwitchTo(old);
		MemoryContextReset(dc.rowcxt);
		if (kind < 0)
			continue;
		out[nout].kind = kind;
		out[nout].row = r;
		/* an added or changed row by its id in to_version, a removed one in from_version */
		if (kind == DK_ERASED)
			out[nout].rid = r->has_hi ? r->hi_rid : r->lo_rid;
		else if (kind == DK_ONLY_HI)
			out[nout].rid = r->hi_rid;
		else if (kind == DK_ONLY_LO)
			out[nout].rid = r->lo_rid;
		else
			out[nout].rid = dc.from < dc.to ? r->hi_rid : r->lo_rid;
		nout++;
	}
	qsort(out, nout, sizeof(DiffOut), CompareDiffOut);

	RowJsonbInit(&rj, dc.relid, dc.desc, dc.ridatt);
	for (int i = 0; i < nout; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(dc.rowcxt);
		const DiffRow *r = out[i].row;
		Datum		row[4];
		bool		rownull[4] = {0};
		bool		erased = out[i].kind == DK_ERASED;
		bool		lo_isnull = !r->has_lo || r->lo_null || erased;
		bool		hi_isnull = !r->has_hi || r->hi_null || erased;
		Datum		lo_j = lo_isnull ? (Datum) 0 : RowJsonbMake(&rj, r->lo);
		Datum		hi_j = hi_isnull ? (Datum) 0 : RowJsonbMake(&rj, r->hi);

		/* before is the row at from_version, after the row at to_version */
		row[0] = CStringGetTextDatum(DiffKind(&dc, out[i].kind));
		row[1] = Int64GetDatum(out[i].rid);
		row[2] = dc.from < dc.to ? lo_j : hi_j;
		rownull[2] = dc.from < dc.to ? lo_isnull : hi_isnull;
		row[3] = dc.from < dc.to ? hi_j : lo_j;
		rownull[3] = dc.from < dc.to ? hi_isnull : lo_isnull;
		tuplestore_putvalues(ts, desc, row, rownull);
		MemoryContextSwitchTo(old);
		MemoryContextReset(dc.rowcxt);
	}
	aisec_spi_end(&dc.spi);
	return (Datum) 0;
}

/*
 * SQL: aisec.diff_summary(t, from, to, key) counts what aisec.diff() with
 * the same arguments returns: a first row ("column" NULL) with the rows
 * changed, added, removed and erased, then one row per column but
 * aisec_rid, in column order, with the changed rows whose value in the
 * column differs and the added and removed rows with a value (not NULL)
 * in it (erased NULL: an erased row's values are gone).
 */
PG_FUNCTION_INFO_V1(aisec_diff_summary);
Datum
aisec_diff_summary(PG_FUNCTION_ARGS)
{
	DiffCall	dc;
	Tuplestorestate *ts;
	TupleDesc	desc;
	int64		rows[DK_NKINDS] = {0};	/* by DK_* */
	int64	   *changed;
	int64	   *valued[2];		/* non-NULL values in rows only in hi, only in lo */
	Datum		row[5];
	bool		rownull[5] = {0};

	DiffStart(fcinfo, "aisec.diff_summary()", &dc);
	ts = aisec_begin_srf(fcinfo, &desc);
	changed = palloc0(sizeof(int64) * Max(dc.desc->natts, 1));
	valued[DK_ONLY_HI] = palloc0(sizeof(int64) * Max(dc.desc->natts, 1));
	valued[DK_ONLY_LO] = palloc0(sizeof(int64) * Max(dc.desc->natts, 1));

	for (int i = 0; i < dc.nrows; i++)
	{
		const DiffRow *r = dc.rows[i];
		MemoryContext old = MemoryContextSwitchTo(dc.rowcxt);
		int			kind = DiffRowKind(&dc, r, changed);

		if (kind == DK_ONLY_HI || kind == DK_ONLY_LO)
		{
			DeformImage(&dc, kind == DK_ONLY_HI ? r->hi : r->lo, dc.lo_values, dc.lo_nulls);
			for (int a = 0; a < dc.desc->natts; a++)
				if (!dc.lo_nulls[a])
					valued[kind][a]++;
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(dc.rowcxt);
		if (kind >= 0)
			rows[kind]++;
	}
	aisec_spi_end(&dc.spi);

	/* added is the rows in to_version only, removed those in from_version only */
#define SUMMARY_ROW(c, add, rem) \
	do { \
		row[1] = Int64GetDatum(c); \
		row[2] = Int64GetDatum(dc.from < dc.to ? (add) : (rem)); \
		row[3] = Int64GetDatum(dc.from < dc.to ? (rem) : (add)); \
		tuplestore_putvalues(ts, desc, row, rownull); \
	} while (0)

	rownull[0] = true;
	row[4] = Int64GetDatum(rows[DK_ERASED]);
	SUMMARY_ROW(rows[DK_BOTH], rows[DK_ONLY_HI], rows[DK_ONLY_LO]);
	rownull[0] = false;
	rownull[4] = true;			/* an erased row's values are gone */
	for (int a = 0; a < dc.desc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(dc.desc, a);
		Name		name;

		if (att->attisdropped || att->attnum == dc.ridatt)
			continue;
		name = palloc0(NAMEDATALEN);
		namestrcpy(name, NameStr(att->attname));
		row[0] = NameGetDatum(name);
		SUMMARY_ROW(changed[a], valued[DK_ONLY_HI][a], valued[DK_ONLY_LO][a]);
	}
#undef SUMMARY_ROW
	return (Datum) 0;
}
