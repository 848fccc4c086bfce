/*
 * contingency.c
 *		The contingency-table aggregate aisec.contingency(a text, b text), its
 *		state type aisec.contingency_stats, and the tests of independence
 *		computed from it: Pearson's chi-square test (no Yates correction) and
 *		Cramer's V.
 *
 * The aggregate state is a dense R x C matrix of int64 counts indexed by two
 * label sets (labelset.c); it grows as new values appear, up to
 * CONTINGENCY_MAX_CELLS cells.  Rows where either argument is NULL are
 * skipped.  Serialized and stored values are canonical: labels in byte
 * order, counts row-major (format in doc/drift.md).  Counts are integers,
 * so a table built by a serial plan, a parallel plan or a merge of
 * partitions is byte-for-byte the same, and so is every statistic.
 *
 * The aggregates' transition type is aisec.contingency_stats: the state
 * lives in an expanded object (core/aggbox.c), updated in place, and is
 * flattened to the type's bytes only when a partial state leaves its
 * aggregate (parallel workers, Citus workers).
 *
 * Invariants (AssertCheckContingencyState): every row and column label has
 * a positive total; n is the sum of all cells; cells outside the used
 * rows x columns are zero.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/int.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "contingency.h"
#include "specfun.h"
#include "core/core.h"

/* Create an empty state in cxt. */
static ContingencyState *
CreateContingencyState(MemoryContext cxt)
{
	ContingencyState *st = MemoryContextAllocZero(cxt, sizeof(ContingencyState));

	labelset_init(&st->rows, cxt);
	labelset_init(&st->cols, cxt);
	st->rcap = 4;
	st->ccap = 4;
	st->cells = MemoryContextAllocZero(cxt, st->rcap * st->ccap * sizeof(int64));
	return st;
}

/* Check the state's invariants; full also walks every cell and label. */
static void
AssertCheckContingencyState(const ContingencyState *st, bool full)
{
#ifdef USE_ASSERT_CHECKING
	Assert(st->rows.count <= st->rcap && st->cols.count <= st->ccap);
	Assert((uint64) st->rows.count * st->cols.count <= CONTINGENCY_MAX_CELLS);
	Assert(st->n >= 0);
	if (full)
	{
		int64		total = 0;

		labelset_check(&st->rows);
		labelset_check(&st->cols);
		for (uint32 i = 0; i < st->rcap; i++)
		{
			int64		rowsum = 0;

			for (uint32 j = 0; j < st->ccap; j++)
			{
				int64		c = st->cells[(Size) i * st->ccap + j];

				Assert(c >= 0);
				Assert(c == 0 || (i < st->rows.count && j < st->cols.count));
				rowsum += c;
			}
			Assert(i >= st->rows.count || rowsum > 0);
			total += rowsum;
		}
		for (uint32 j = 0; j < st->cols.count; j++)
		{
			int64		colsum = 0;

			for (uint32 i = 0; i < st->rows.count; i++)
				colsum += st->cells[(Size) i * st->ccap + j];
			Assert(colsum > 0);
		}
		Assert(total == st->n);
	}
#endif
}

/* Refuse a table with more than CONTINGENCY_MAX_CELLS cells. */
static void
CheckTableSize(uint64 nrows, uint64 ncols)
{
	if (nrows * ncols > CONTINGENCY_MAX_CELLS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("contingency table is too large"),
				 errdetail("It would be a %llu-by-%llu table (rows by columns); the limit is %d cells.",
						   (unsigned long long) nrows, (unsigned long long) ncols,
						   CONTINGENCY_MAX_CELLS),
				 errhint("Group rare values together (for example with CASE) before aggregating.")));
}

/* Make room for row index ri and column index ci. */
static void
EnsureCapacity(ContingencyState *st, uint32 ri, uint32 ci)
{
	MemoryContext cxt = st->rows.cxt;

	if (ri >= st->rcap || ci >= st->ccap)
	{
		uint32		rcap = st->rcap;
		uint32		ccap = st->ccap;
		int64	   *cells;

		CheckTableSize(st->rows.count, st->cols.count);
		while (ri >= rcap)
			rcap *= 2;
		while (ci >= ccap)
			ccap *= 2;
		cells = MemoryContextAllocZero(cxt, (Size) rcap * ccap * sizeof(int64));
		for (uint32 i = 0; i < st->rcap; i++)
			memcpy(cells + (Size) i * ccap, st->cells + (Size) i * st->ccap,
				   st->ccap * sizeof(int64));
		pfree(st->cells);
		st->cells = cells;
		st->rcap = rcap;
		st->ccap = ccap;
	}
}

/* Add count to cell (ri, ci) and to n, refusing overflow. */
static inline void
AddToCell(ContingencyState *st, uint32 ri, uint32 ci, int64 count)
{
	int64	   *cell = &st->cells[(Size) ri * st->ccap + ci];

	if (unlikely(pg_add_s64_overflow(*cell, count, cell) ||
				 pg_add_s64_overflow(st->n, count, &st->n)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("contingency table count is out of range")));
}

/* Add one pair (a, b) with multiplicity count. */
static inline void
AddPair(ContingencyState *st, const char *a, uint32 alen,
		const char *b, uint32 blen, int64 count)
{
	uint32		ri = labelset_intern(&st->rows, a, alen, NULL);
	uint32		ci = labelset_intern(&st->cols, b, blen, NULL);

	if (unlikely(ri >= st->rcap || ci >= st->ccap ||
				 (uint64) st->rows.count * st->cols.count > CONTINGENCY_MAX_CELLS))
	{
		CheckTableSize(st->rows.count, st->cols.count);
		EnsureCapacity(st, ri, ci);
	}
	AddToCell(st, ri, ci, count);
}

/*
 * Merge a table given as labels and a row-major count matrix (row stride
 * stride) into st.
 */
static void
MergeTable(ContingencyState *st, uint32 nrows, char *const *rlab,
		   const uint32 *rlen, uint32 ncols, char *const *clab,
		   const uint32 *clen, const int64 *counts, Size stride)
{
	uint32	   *rmap = palloc(Max(nrows, 1) * sizeof(uint32));
	uint32	   *cmap = palloc(Max(ncols, 1) * sizeof(uint32));

	for (uint32 i = 0; i < nrows; i++)
		rmap[i] = labelset_intern(&st->rows, rlab[i], rlen[i], NULL);
	for (uint32 j = 0; j < ncols; j++)
		cmap[j] = labelset_intern(&st->cols, clab[j], clen[j], NULL);
	CheckTableSize(st->rows.count, st->cols.count);
	EnsureCapacity(st, st->rows.count - 1, st->cols.count - 1);
	for (uint32 i = 0; i < nrows; i++)
		for (uint32 j = 0; j < ncols; j++)
		{
			int64		c = counts[(Size) i * stride + j];

			if (c != 0)
				AddToCell(st, rmap[i], cmap[j], c);
		}
	pfree(rmap);
	pfree(cmap);
}

/* Encode a state canonically (labels in byte order) as a varlena. */
static struct varlena *
EncodeContingency(const ContingencyState *st)
{
	StringInfoData buf;
	uint32	   *ro = labelset_sorted_order(&st->rows);
	uint32	   *co = labelset_sorted_order(&st->cols);

	state_write_begin(&buf, STATE_KIND_CONTINGENCY);
	state_write_u32(&buf, st->rows.count);
	state_write_u32(&buf, st->cols.count);
	for (uint32 i = 0; i < st->rows.count; i++)
		state_write_label(&buf, st->rows.data[ro[i]], st->rows.lens[ro[i]]);
	for (uint32 j = 0; j < st->cols.count; j++)
		state_write_label(&buf, st->cols.data[co[j]], st->cols.lens[co[j]]);
	for (uint32 i = 0; i < st->rows.count; i++)
		for (uint32 j = 0; j < st->cols.count; j++)
			state_write_i64(&buf, st->cells[(Size) ro[i] * st->ccap + co[j]]);
	pfree(ro);
	pfree(co);
	return state_write_end(&buf);
}

/* Read n labels that must be in strictly increasing byte order. */
static void
ReadSortedLabels(StateReader *r, uint32 n, const char **lab, uint32 *len)
{
	for (uint32 i = 0; i < n; i++)
	{
		lab[i] = state_read_label(r, &len[i]);
		if (i > 0 && label_cmp(lab[i - 1], len[i - 1], lab[i], len[i]) >= 0)
			state_corrupt(r->type_name, "Labels are not unique and in order.");
	}
}

/* Decode and validate a serialized table; never trusts a length unchecked. */
static void
DecodeContingency(const struct varlena *v, ContingencyView *t)
{
	StateReader r;
	int64	   *rowsum;
	int64	   *colsum;

	state_read_begin(&r, v, STATE_KIND_CONTINGENCY, CONTINGENCY_TYPE_NAME);
	t->nrows = state_read_u32(&r);
	t->ncols = state_read_u32(&r);
	if (t->nrows == 0 || t->ncols == 0)
		state_corrupt(r.type_name, "The table has no rows or no columns.");
	if ((uint64) t->nrows * t->ncols > CONTINGENCY_MAX_CELLS ||
		(uint64) (t->nrows + (uint64) t->ncols) * 4 > state_read_left(&r))
		state_corrupt(r.type_name, "The table dimensions do not match its length.");
	t->rlab = palloc(t->nrows * sizeof(char *));
	t->rlen = palloc(t->nrows * sizeof(uint32));
	t->clab = palloc(t->ncols * sizeof(char *));
	t->clen = palloc(t->ncols * sizeof(uint32));
	ReadSortedLabels(&r, t->nrows, t->rlab, t->rlen);
	ReadSortedLabels(&r, t->ncols, t->clab, t->clen);
	if (state_read_left(&r) != (Size) t->nrows * t->ncols * sizeof(int64))
		state_corrupt(r.type_name, "The number of counts does not match the table dimensions.");

	t->counts = palloc((Size) t->nrows * t->ncols * sizeof(int64));
	rowsum = palloc0(t->nrows * sizeof(int64));
	colsum = palloc0(t->ncols * sizeof(int64));
	t->n = 0;
	for (uint32 i = 0; i < t->nrows; i++)
		for (uint32 j = 0; j < t->ncols; j++)
		{
			int64		c = state_read_count(&r);

			t->counts[(Size) i * t->ncols + j] = c;
			if (pg_add_s64_overflow(t->n, c, &t->n))
				state_corrupt(r.type_name, "The total count is out of range.");
			rowsum[i] += c;		/* cannot overflow: bounded by n */
			colsum[j] += c;
		}
	state_read_end(&r);
	for (uint32 i = 0; i < t->nrows; i++)
		if (rowsum[i] == 0)
			state_corrupt(r.type_name, "A row has no counts.");
	for (uint32 j = 0; j < t->ncols; j++)
		if (colsum[j] == 0)
			state_corrupt(r.type_name, "A column has no counts.");
	pfree(rowsum);
	pfree(colsum);
}

/* Decode the aisec.contingency_stats argument argno. */
static void
GetContingencyArg(FunctionCallInfo fcinfo, int argno, ContingencyView *t)
{
	DecodeContingency(PG_GETARG_VARLENA_PP(argno), t);
}

/* Build a state in cxt from a decoded table. */
static ContingencyState *
StateFromView(const ContingencyView *t, MemoryContext cxt)
{
	ContingencyState *st = CreateContingencyState(cxt);

	MergeTable(st, t->nrows, (char *const *) t->rlab, t->rlen,
			   t->ncols, (char *const *) t->clab, t->clen, t->counts, t->ncols);
	AssertCheckContingencyState(st, true);
	return st;
}

/* AggBox method: an empty state. */
static void *
ContingencyBoxCreate(MemoryContext cxt)
{
	return CreateContingencyState(cxt);
}

/* AggBox method: a state from a value's bytes, validated. */
static void *
ContingencyBoxDecode(MemoryContext cxt, const struct varlena *flat)
{
	ContingencyView t;

	DecodeContingency(flat, &t);
	return StateFromView(&t, cxt);
}

/* AggBox method: the value's bytes of a state. */
static struct varlena *
ContingencyBoxEncode(const void *state)
{
	AssertCheckContingencyState((const ContingencyState *) state, true);
	return EncodeContingency((const ContingencyState *) state);
}

static const AggBoxMethods ContingencyBoxMethods = {
	CONTINGENCY_TYPE_NAME,
	ContingencyBoxCreate,
	ContingencyBoxDecode,
	ContingencyBoxEncode
};

/* Count one (a, b) pair; rows where either is NULL are skipped. */
PG_FUNCTION_INFO_V1(aisec_contingency_transfn);
Datum
aisec_contingency_transfn(PG_FUNCTION_ARGS)
{
	AggBox	   *box;
	ContingencyState *st;
	text	   *a;
	text	   *b;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	box = aggbox_for_update(fcinfo, 0, &ContingencyBoxMethods);
	st = (ContingencyState *) box->state;
	a = PG_GETARG_TEXT_PP(1);
	b = PG_GETARG_TEXT_PP(2);
	AddPair(st, VARDATA_ANY(a), VARSIZE_ANY_EXHDR(a),
			VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b), 1);
	AssertCheckContingencyState(st, false);
	PG_RETURN_DATUM(aggbox_result(box));
}

/* Add a stored aisec.contingency_stats value to the state. */
PG_FUNCTION_INFO_V1(aisec_contingency_merge_transfn);
Datum
aisec_contingency_merge_transfn(PG_FUNCTION_ARGS)
{
	AggBox	   *box;
	ContingencyState *st;
	ContingencyView t;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	GetContingencyArg(fcinfo, 1, &t);
	box = aggbox_for_update(fcinfo, 0, &ContingencyBoxMethods);
	st = (ContingencyState *) box->state;
	MergeTable(st, t.nrows, (char *const *) t.rlab, t.rlen,
			   t.ncols, (char *const *) t.clab, t.clen, t.counts, t.ncols);
	AssertCheckContingencyState(st, true);
	PG_RETURN_DATUM(aggbox_result(box));
}

/* Merge the second partial state into the first (the second is only read). */
PG_FUNCTION_INFO_V1(aisec_contingency_combinefn);
Datum
aisec_contingency_combinefn(PG_FUNCTION_ARGS)
{
	const ContingencyState *s2;
	AggBox	   *box;
	ContingencyState *s1;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	s2 = (const ContingencyState *) aggbox_read(fcinfo, 1, &ContingencyBoxMethods);
	box = aggbox_for_update(fcinfo, 0, &ContingencyBoxMethods);
	s1 = (ContingencyState *) box->state;
	MergeTable(s1, s2->rows.count, s2->rows.data, s2->rows.lens,
			   s2->cols.count, s2->cols.data, s2->cols.lens, s2->cells, s2->ccap);
	AssertCheckContingencyState(s1, true);
	PG_RETURN_DATUM(aggbox_result(box));
}

/*
 * Return the table as a plain aisec.contingency_stats; NULL for no pairs.
 * Reads the state only (window aggregates call it again after later rows).
 */
PG_FUNCTION_INFO_V1(aisec_contingency_finalfn);
Datum
aisec_contingency_finalfn(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_POINTER(PG_DETOAST_DATUM_COPY(PG_GETARG_DATUM(0)));
}

/* Read the JSON text form (labels in any order; output is canonical). */
PG_FUNCTION_INFO_V1(aisec_contingency_stats_in);
Datum
aisec_contingency_stats_in(PG_FUNCTION_ARGS)
{
	const char *tn = CONTINGENCY_TYPE_NAME;
	JsonbContainer *obj = state_json_parse(PG_GETARG_CSTRING(0), tn);
	JsonbValue *rows = state_json_field(obj, "rows", jbvBinary, tn);
	JsonbValue *cols = state_json_field(obj, "columns", jbvBinary, tn);
	JsonbValue *counts = state_json_field(obj, "counts", jbvBinary, tn);
	int64		n = state_json_count(state_json_field(obj, "n", jbvNumeric, tn), tn, "n");
	int			nrows = state_json_length(rows);
	int			ncols = state_json_length(cols);
	ContingencyState *st;
	ContingencyView t;

	if (nrows < 1 || ncols < 1)
		state_json_bad_input(tn, "\"rows\" and \"columns\" must be non-empty arrays.");
	if (state_json_length(counts) != nrows)
		state_json_bad_input(tn, "\"counts\" must be an array with one array per row.");
	CheckTableSize(nrows, ncols);
	st = CreateContingencyState(CurrentMemoryContext);
	for (int i = 0; i < nrows; i++)
	{
		JsonbValue *v = state_json_element(rows, i, jbvString, tn, "rows");
		bool		added;

		check_label(tn, v->val.string.val, v->val.string.len);
		labelset_intern(&st->rows, v->val.string.val, v->val.string.len, &added);
		if (!added)
			state_json_bad_input(tn, "\"rows\" has a duplicate label.");
	}
	for (int j = 0; j < ncols; j++)
	{
		JsonbValue *v = state_json_element(cols, j, jbvString, tn, "columns");
		bool		added;

		check_label(tn, v->val.string.val, v->val.string.len);
		labelset_intern(&st->cols, v->val.string.val, v->val.string.len, &added);
		if (!added)
			state_json_bad_input(tn, "\"columns\" has a duplicate label.");
	}
	EnsureCapacity(st, nrows - 1, ncols - 1);
	for (int i = 0; i < nrows; i++)
	{
		JsonbValue *row = state_json_element(counts, i, jbvBinary, tn, "counts");

		if (state_json_length(row) != ncols)
			state_json_bad_input(tn, "Each row of \"counts\" must have one count per column.");
		for (int j = 0; j < ncols; j++)
			AddToCell(st, i, j,
					  state_json_count(state_json_element(row, j, jbvNumeric, tn, "counts"),
									 tn, "counts"));
	}
	if (st->n != n)
		state_json_bad_input(tn, "\"n\" is not the sum of the counts.");
	/* Re-decode the canonical bytes: the same checks as binary input. */
	{
		struct varlena *v = EncodeContingency(st);

		DecodeContingency(v, &t);
		PG_RETURN_POINTER(v);
	}
}

/* Print a table as JSON: n, row labels, column labels, counts by row. */
PG_FUNCTION_INFO_V1(aisec_contingency_stats_out);
Datum
aisec_contingency_stats_out(PG_FUNCTION_ARGS)
{
	ContingencyView t;
	StringInfoData buf;

	GetContingencyArg(fcinfo, 0, &t);
	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"n\": " INT64_FORMAT ", \"rows\": [", t.n);
	for (uint32 i = 0; i < t.nrows; i++)
	{
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		state_json_label(&buf, t.rlab[i], t.rlen[i]);
	}
	appendStringInfoString(&buf, "], \"columns\": [");
	for (uint32 j = 0; j < t.ncols; j++)
	{
		if (j > 0)
			appendStringInfoString(&buf, ", ");
		state_json_label(&buf, t.clab[j], t.clen[j]);
	}
	appendStringInfoString(&buf, "], \"counts\": [");
	for (uint32 i = 0; i < t.nrows; i++)
	{
		appendStringInfoString(&buf, i > 0 ? ", [" : "[");
		for (uint32 j = 0; j < t.ncols; j++)
			appendStringInfo(&buf, j > 0 ? ", " INT64_FORMAT : INT64_FORMAT,
							 t.counts[(Size) i * t.ncols + j]);
		appendStringInfoChar(&buf, ']');
	}
	appendStringInfoString(&buf, "]}");
	PG_RETURN_CSTRING(buf.data);
}

/* Read the binary form (the serialized state), validating it. */
PG_FUNCTION_INFO_V1(aisec_contingency_stats_recv);
Datum
aisec_contingency_stats_recv(PG_FUNCTION_ARGS)
{
	struct varlena *v = state_recv_bytes((StringInfo) PG_GETARG_POINTER(0));
	ContingencyView	t;

	DecodeContingency(v, &t);
	PG_RETURN_POINTER(v);
}

/* Write the binary form (the serialized state). */
PG_FUNCTION_INFO_V1(aisec_contingency_stats_send);
Datum
aisec_contingency_stats_send(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_GETARG_VARLENA_P(0);
	ContingencyView t;

	DecodeContingency(v, &t);
	PG_RETURN_BYTEA_P(v);
}

/*
 * Pearson's chi-square statistic of a table: the sum over all cells of
 * (O - E)^2 / E with E = row total * column total / n.  Cells are visited in
 * canonical order, so the result does not depend on how the table was built.
 */
static double
PearsonChiSquare(const ContingencyView *t)
{
	double	   *rowsum = palloc0(t->nrows * sizeof(double));
	double	   *colsum = palloc0(t->ncols * sizeof(double));
	double		n = (double) t->n;
	double		chi2 = 0.0;

	for (uint32 i = 0; i < t->nrows; i++)
		for (uint32 j = 0; j < t->ncols; j++)
		{
			double		c = (double) t->counts[(Size) i * t->ncols + j];

			rowsum[i] += c;
			colsum[j] += c;
		}
	for (uint32 i = 0; i < t->nrows; i++)
		for (uint32 j = 0; j < t->ncols; j++)
		{
			double		e = rowsum[i] * colsum[j] / n;
			double		d = (double) t->counts[(Size) i * t->ncols + j] - e;

			chi2 += d * d / e;
		}
	pfree(rowsum);
	pfree(colsum);
	return chi2;
}

/* Pearson's chi-square test of independence: statistic, dof, p-value. */
PG_FUNCTION_INFO_V1(aisec_chi2_test);
Datum
aisec_chi2_test(PG_FUNCTION_ARGS)
{
	ContingencyView t;
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	int64		dof;
	double		chi2;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	GetContingencyArg(fcinfo, 0, &t);
	chi2 = PearsonChiSquare(&t);
	dof = (int64) (t.nrows - 1) * (t.ncols - 1);
	values[0] = Float8GetDatum(chi2);
	values[1] = Int32GetDatum((int32) dof);
	if (dof > 0)
		values[2] = Float8GetDatum(chi2_upper_tail(chi2, (double) dof));
	else
		nulls[2] = true;		/* one row or one column: nothing to test */
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

/* Cramer's V = sqrt(chi2 / (n (min(R, C) - 1))); NULL for a 1 x C table. */
PG_FUNCTION_INFO_V1(aisec_cramers_v);
Datum
aisec_cramers_v(PG_FUNCTION_ARGS)
{
	ContingencyView t;
	uint32		k;
	double		v;

	GetContingencyArg(fcinfo, 0, &t);
	k = Min(t.nrows, t.ncols);
	if (k < 2)
		PG_RETURN_NULL();
	v = sqrt(PearsonChiSquare(&t) / ((double) t.n * (double) (k - 1)));
	/* Rounding can push a perfect association a hair above 1. */
	PG_RETURN_FLOAT8(Min(v, 1.0));
}

/* P(X >= statistic) for X chi-square with dof degrees of freedom. */
PG_FUNCTION_INFO_V1(aisec_chi2_p_value);
Datum
aisec_chi2_p_value(PG_FUNCTION_ARGS)
{
	double		x = PG_GETARG_FLOAT8(0);
	int32		dof = PG_GETARG_INT32(1);

	if (dof < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("degrees of freedom must be at least 1"),
				 errdetail("The value given was %d.", dof)));
	if (isnan(x) || x < 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("chi-square statistic must be a non-negative number")));
	PG_RETURN_FLOAT8(chi2_upper_tail(x, (double) dof));
}

/* List the table's cells: a, b, count, and the count expected under independence. */
PG_FUNCTION_INFO_V1(aisec_contingency_cells);
Datum
aisec_contingency_cells(PG_FUNCTION_ARGS)
{
	TupleDesc	srfdesc;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ContingencyView t;
	double	   *rowsum;
	double	   *colsum;

	(void) aisec_begin_srf(fcinfo, &srfdesc);
	GetContingencyArg(fcinfo, 0, &t);
	rowsum = palloc0(t.nrows * sizeof(double));
	colsum = palloc0(t.ncols * sizeof(double));
	for (uint32 i = 0; i < t.nrows; i++)
		for (uint32 j = 0; j < t.ncols; j++)
		{
			rowsum[i] += (double) t.counts[(Size) i * t.ncols + j];
			colsum[j] += (double) t.counts[(Size) i * t.ncols + j];
		}
	for (uint32 i = 0; i < t.nrows; i++)
		for (uint32 j = 0; j < t.ncols; j++)
		{
			Datum		values[4];
			bool		nulls[4] = {false, false, false, false};

			values[0] = PointerGetDatum(cstring_to_text_with_len(t.rlab[i], t.rlen[i]));
			values[1] = PointerGetDatum(cstring_to_text_with_len(t.clab[j], t.clen[j]));
			values[2] = Int64GetDatum(t.counts[(Size) i * t.ncols + j]);
			values[3] = Float8GetDatum(rowsum[i] * colsum[j] / (double) t.n);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	return (Datum) 0;
}

/* Cast bytea (the binary form) to aisec.contingency_stats, validating it. */
PG_FUNCTION_INFO_V1(aisec_contingency_stats_from_bytea);
Datum
aisec_contingency_stats_from_bytea(PG_FUNCTION_ARGS)
{
	bytea	   *v = PG_GETARG_BYTEA_P_COPY(0);
	ContingencyView	view;

	DecodeContingency((struct varlena *) v, &view);
	PG_RETURN_POINTER(v);
}

/* The aggregate scan's row function (core/aggscan.c): the same rows as above. */
static bool
ScanAddPair(void *state, const Datum *values, const bool *isnull)
{
	struct varlena *a;
	struct varlena *b;

	if (isnull[0] || isnull[1])
		return false;
	a = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(values[0]));
	b = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(values[1]));
	AddPair((ContingencyState *) state, VARDATA_ANY(a), VARSIZE_ANY_EXHDR(a),
			VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b), 1);
	return true;
}

static const AggScanKind contingency_scan_kind = {
	.transfn = aisec_contingency_transfn,
	.nargs = 2,
	.box = &ContingencyBoxMethods,
	.add_row = ScanAddPair,
};

/* Offer aisec.contingency() (and contingency_partial()) to the aggregate scan. */
void
aisec_contingency_scan_init(void)
{
	aggscan_register(&contingency_scan_kind);
}
