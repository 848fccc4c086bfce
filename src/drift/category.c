/*
 * category.c
 *		The category-count aggregate aisec.category_counts(value text) and
 *		its state type aisec.category_stats: how often each distinct value
 *		occurs.
 *
 * NULL values are skipped (count missingness with coalesce(col, '(null)')).
 * The state interns values with labelset.c; serialized and stored values
 * list categories in byte order, so they do not depend on the plan.
 *
 * The aggregates' transition type is aisec.category_stats: the state lives
 * in an expanded object (core/aggbox.c), updated in place, and is flattened
 * to the type's bytes only when a partial state leaves its aggregate
 * (parallel workers, Citus workers).
 *
 * Invariants (AssertCheckCategoryState): every category count is > 0 and
 * n is their sum.
 */
#include "postgres.h"

#include "common/int.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "category.h"
#include "core/core.h"

/* The in-memory aggregate state. */
typedef struct CategoryState
{
	LabelSet	labels;
	int64	   *counts;			/* one per label */
	uint32		cap;			/* room in counts */
	int64		n;
} CategoryState;

/* Create an empty state in cxt. */
static CategoryState *
CreateCategoryState(MemoryContext cxt)
{
	CategoryState *st = MemoryContextAllocZero(cxt, sizeof(CategoryState));

	labelset_init(&st->labels, cxt);
	st->cap = 8;
	st->counts = MemoryContextAllocZero(cxt, st->cap * sizeof(int64));
	return st;
}

/* Check the state's invariants under USE_ASSERT_CHECKING. */
static void
AssertCheckCategoryState(const CategoryState *st, bool full)
{
#ifdef USE_ASSERT_CHECKING
	Assert(st->labels.count <= st->cap);
	Assert(st->n >= 0);
	if (full)
	{
		int64		total = 0;

		labelset_check(&st->labels);
		for (uint32 i = 0; i < st->labels.count; i++)
		{
			Assert(st->counts[i] > 0);
			total += st->counts[i];
		}
		Assert(total == st->n);
	}
#endif
}

/* Add count occurrences of a value. */
static inline void
AddValue(CategoryState *st, const char *data, uint32 len, int64 count)
{
	uint32		i = labelset_intern(&st->labels, data, len, NULL);

	if (i >= st->cap)
	{
		uint32		cap = st->cap * 2;

		st->counts = repalloc(st->counts, cap * sizeof(int64));
		memset(st->counts + st->cap, 0, (cap - st->cap) * sizeof(int64));
		st->cap = cap;
	}
	if (unlikely(pg_add_s64_overflow(st->counts[i], count, &st->counts[i]) ||
				 pg_add_s64_overflow(st->n, count, &st->n)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("category count is out of range")));
}

/* Encode a state canonically (categories in byte order). */
static struct varlena *
EncodeCategories(const CategoryState *st)
{
	StringInfoData buf;
	uint32	   *order = labelset_sorted_order(&st->labels);

	state_write_begin(&buf, STATE_KIND_CATEGORIES);
	state_write_u32(&buf, st->labels.count);
	for (uint32 i = 0; i < st->labels.count; i++)
	{
		state_write_label(&buf, st->labels.data[order[i]], st->labels.lens[order[i]]);
		state_write_i64(&buf, st->counts[order[i]]);
	}
	pfree(order);
	return state_write_end(&buf);
}

/* Decode and validate a serialized category count. */
void
category_decode(const struct varlena *v, CategoryView *c)
{
	StateReader r;

	state_read_begin(&r, v, STATE_KIND_CATEGORIES, CATEGORY_TYPE_NAME);
	c->k = state_read_u32(&r);
	if (c->k == 0)
		state_corrupt(r.type_name, "The value has no categories.");
	/* Each category takes at least 12 bytes: a length and a count. */
	if ((uint64) c->k * 12 > state_read_left(&r))
		state_corrupt(r.type_name, "The category count does not match its length.");
	c->labels = palloc(c->k * sizeof(char *));
	c->lens = palloc(c->k * sizeof(uint32));
	c->counts = palloc(c->k * sizeof(int64));
	c->n = 0;
	for (uint32 i = 0; i < c->k; i++)
	{
		c->labels[i] = state_read_label(&r, &c->lens[i]);
		if (i > 0 && label_cmp(c->labels[i - 1], c->lens[i - 1],
							   c->labels[i], c->lens[i]) >= 0)
			state_corrupt(r.type_name, "Labels are not unique and in order.");
		c->counts[i] = state_read_count(&r);
		if (c->counts[i] == 0)
			state_corrupt(r.type_name, "A category has a zero count.");
		if (pg_add_s64_overflow(c->n, c->counts[i], &c->n))
			state_corrupt(r.type_name, "The total count is out of range.");
	}
	state_read_end(&r);
}

/* Merge a decoded value into the state. */
static void
MergeView(CategoryState *st, const CategoryView *c)
{
	for (uint32 i = 0; i < c->k; i++)
		AddValue(st, c->labels[i], c->lens[i], c->counts[i]);
}

/* AggBox method: an empty state. */
static void *
CategoryBoxCreate(MemoryContext cxt)
{
	return CreateCategoryState(cxt);
}

/* AggBox method: a state from a value's bytes, validated. */
static void *
CategoryBoxDecode(MemoryContext cxt, const struct varlena *flat)
{
	CategoryView c;
	CategoryState *st;

	category_decode(flat, &c);
	st = CreateCategoryState(cxt);
	MergeView(st, &c);
	AssertCheckCategoryState(st, true);
	return st;
}

/* AggBox method: the value's bytes of a state. */
static struct varlena *
CategoryBoxEncode(const void *state)
{
	AssertCheckCategoryState((const CategoryState *) state, true);
	return EncodeCategories((const CategoryState *) state);
}

static const AggBoxMethods CategoryBoxMethods = {
	CATEGORY_TYPE_NAME,
	CategoryBoxCreate,
	CategoryBoxDecode,
	CategoryBoxEncode
};

/* Count one value; NULL values are skipped. */
PG_FUNCTION_INFO_V1(aisec_category_counts_transfn);
Datum
aisec_category_counts_transfn(PG_FUNCTION_ARGS)
{
	AggBox	   *box;
	CategoryState *st;
	text	   *v;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	box = aggbox_for_update(fcinfo, 0, &CategoryBoxMethods);
	st = (CategoryState *) box->state;
	v = PG_GETARG_TEXT_PP(1);
	AddValue(st, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v), 1);
	AssertCheckCategoryState(st, false);
	PG_RETURN_DATUM(aggbox_result(box));
}

/* Add a stored aisec.category_stats value to the state. */
PG_FUNCTION_INFO_V1(aisec_category_counts_merge_transfn);
Datum
aisec_category_counts_merge_transfn(PG_FUNCTION_ARGS)
{
	AggBox	   *box;
	CategoryState *st;
	CategoryView c;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	category_decode(PG_GETARG_VARLENA_PP(1), &c);
	box = aggbox_for_update(fcinfo, 0, &CategoryBoxMethods);
	st = (CategoryState *) box->state;
	MergeView(st, &c);
	AssertCheckCategoryState(st, true);
	PG_RETURN_DATUM(aggbox_result(box));
}

/* Merge the second partial state into the first (the second is only read). */
PG_FUNCTION_INFO_V1(aisec_category_counts_combinefn);
Datum
aisec_category_counts_combinefn(PG_FUNCTION_ARGS)
{
	const CategoryState *s2;
	AggBox	   *box;
	CategoryState *s1;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	s2 = (const CategoryState *) aggbox_read(fcinfo, 1, &CategoryBoxMethods);
	box = aggbox_for_update(fcinfo, 0, &CategoryBoxMethods);
	s1 = (CategoryState *) box->state;
	for (uint32 i = 0, k = s2->labels.count; i < k; i++)
		AddValue(s1, s2->labels.data[i], s2->labels.lens[i], s2->counts[i]);
	AssertCheckCategoryState(s1, true);
	PG_RETURN_DATUM(aggbox_result(box));
}

/*
 * Return the counts as a plain aisec.category_stats; NULL when no non-NULL
 * value was seen.  Reads the state only (window aggregates call it again
 * after later rows).
 */
PG_FUNCTION_INFO_V1(aisec_category_counts_finalfn);
Datum
aisec_category_counts_finalfn(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_POINTER(PG_DETOAST_DATUM_COPY(PG_GETARG_DATUM(0)));
}

/* Read the JSON text form: {"n": N, "counts": {"value": count, ...}}. */
PG_FUNCTION_INFO_V1(aisec_category_stats_in);
Datum
aisec_category_stats_in(PG_FUNCTION_ARGS)
{
	const char *tn = CATEGORY_TYPE_NAME;
	JsonbContainer *obj = state_json_parse(PG_GETARG_CSTRING(0), tn);
	int64		n = state_json_count(state_json_field(obj, "n", jbvNumeric, tn), tn, "n");
	JsonbValue *counts = state_json_field(obj, "counts", jbvBinary, tn);
	CategoryState *st = CreateCategoryState(CurrentMemoryContext);
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	CategoryView c;
	struct varlena *out;

	if (!JsonContainerIsObject(counts->val.binary.data))
		state_json_bad_input(tn, "\"counts\" must be an object mapping each value to its count.");
	it = JsonbIteratorInit(counts->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			char	   *key = v.val.string.val;
			int			keylen = v.val.string.len;
			int64		count;

			tok = JsonbIteratorNext(&it, &v, true);
			Assert(tok == WJB_VALUE);
			count = state_json_count(&v, tn, "counts");
			if (count == 0)
				state_json_bad_input(tn, "Every count in \"counts\" must be positive.");
			check_label(tn, key, keylen);
			AddValue(st, key, keylen, count);
		}
	}
	if (st->labels.count == 0)
		state_json_bad_input(tn, "\"counts\" must not be empty.");
	if (st->n != n)
		state_json_bad_input(tn, "\"n\" is not the sum of the counts.");
	out = EncodeCategories(st);
	category_decode(out, &c);
	PG_RETURN_POINTER(out);
}

/* Print category counts as JSON, categories in byte order. */
PG_FUNCTION_INFO_V1(aisec_category_stats_out);
Datum
aisec_category_stats_out(PG_FUNCTION_ARGS)
{
	CategoryView c;
	StringInfoData buf;

	category_decode(PG_GETARG_VARLENA_PP(0), &c);
	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"n\": " INT64_FORMAT ", \"counts\": {", c.n);
	for (uint32 i = 0; i < c.k; i++)
	{
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		state_json_label(&buf, c.labels[i], c.lens[i]);
		appendStringInfo(&buf, ": " INT64_FORMAT, c.counts[i]);
	}
	appendStringInfoString(&buf, "}}");
	PG_RETURN_CSTRING(buf.data);
}

/* Read the binary form (the serialized state), validating it. */
PG_FUNCTION_INFO_V1(aisec_category_stats_recv);
Datum
aisec_category_stats_recv(PG_FUNCTION_ARGS)
{
	struct varlena *v = state_recv_bytes((StringInfo) PG_GETARG_POINTER(0));
	CategoryView	c;

	category_decode(v, &c);
	PG_RETURN_POINTER(v);
}

/* Write the binary form (the serialized state). */
PG_FUNCTION_INFO_V1(aisec_category_stats_send);
Datum
aisec_category_stats_send(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_GETARG_VARLENA_P(0);
	CategoryView c;

	category_decode(v, &c);
	PG_RETURN_BYTEA_P(v);
}

/* List the categories: value, count and proportion. */
PG_FUNCTION_INFO_V1(aisec_category_frequencies);
Datum
aisec_category_frequencies(PG_FUNCTION_ARGS)
{
	TupleDesc	srfdesc;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	CategoryView c;

	(void) aisec_begin_srf(fcinfo, &srfdesc);
	category_decode(PG_GETARG_VARLENA_PP(0), &c);
	for (uint32 i = 0; i < c.k; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = PointerGetDatum(cstring_to_text_with_len(c.labels[i], c.lens[i]));
		values[1] = Int64GetDatum(c.counts[i]);
		values[2] = Float8GetDatum((double) c.counts[i] / (double) c.n);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* Cast bytea (the binary form) to aisec.category_stats, validating it. */
PG_FUNCTION_INFO_V1(aisec_category_stats_from_bytea);
Datum
aisec_category_stats_from_bytea(PG_FUNCTION_ARGS)
{
	bytea	   *v = PG_GETARG_BYTEA_P_COPY(0);
	CategoryView	view;

	category_decode((struct varlena *) v, &view);
	PG_RETURN_POINTER(v);
}
