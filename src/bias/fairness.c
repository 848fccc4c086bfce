/*
 * fairness.c
 *		The aisec.fairness_stats type and the aggregates that build it:
 *		aisec.fairness(grp, y_true, y_pred [, weight]) and
 *		aisec.fairness_merge(fairness_stats).
 *
 * State.  Per group, nine cells y_true x y_pred, each label false, true or
 * unknown (NULL); a cell holds the row count, the sum of weights and the sum
 * of squared weights (for Kish's effective sample size).  Keeping unknown
 * labels lets every rate use exactly the rows whose labels it needs: the
 * selection rate needs only y_pred, the base rate only y_true.  A NULL group
 * is a group of its own.  During aggregation groups live in an array indexed
 * by an open-addressing hash table, with a one-entry cache for runs of equal
 * groups; states are only ever added to, never subtracted from.
 *
 * Invariants (checked by AssertCheckFairState under USE_ASSERT_CHECKING,
 * and by fair_decode on every value read): counts >= 0, weight sums finite
 * and >= 0, an empty cell has zero sums, sum(w^2) <= sum(w)^2, every group
 * has at least one row, group names are valid text of at most
 * FAIR_MAX_NAME_LEN bytes, at most FAIR_MAX_GROUPS groups.
 *
 * Aggregation keeps the state in an expanded object (core/aggbox.c): the
 * aggregates' transition type is aisec.fairness_stats itself, so parallel
 * workers and Citus workers hand their partial states over as values of the
 * type (bytes, or the JSON text form), while each row still updates the
 * hash table in place.
 *
 * Format (version 1; the type's bytes, which are also what a partial state
 * is flattened to), all integers little-endian:
 *		uint8 version = 1, uint8 kind = 'F', uint8[2] zero, uint32 ngroups,
 *		then per group in canonical order (byte order of the names, shorter
 *		prefix first, the NULL group last):
 *		uint8 flags (1 = NULL group), uint32 name length, name bytes,
 *		9 cells x (int64 n, float8 w, float8 w2), cell = y_true * 3 + y_pred
 *		with false = 0, true = 1, unknown = 2.
 * Canonical order makes equal states byte-identical, so a value is its own
 * checksum of sorts and decode can reject duplicate groups.
 *
 * Text form: JSON (see doc/bias.md); input accepts the same JSON.
 */
#include "postgres.h"

#include <math.h>

#include "common/hashfn.h"
#include "common/int.h"
#include "common/shortest_dec.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port/pg_bswap.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "fairness.h"
#include "core/core.h"
#include "fairness_key.h"

#define FAIR_FORMAT_VERSION		1
#define FAIR_KIND				'F'
#define FAIR_HEADER_LEN			8
#define FAIR_CELL_LEN			24
#define FAIR_GROUP_MIN_LEN		(1 + 4 + FAIR_NCELLS * FAIR_CELL_LEN)
#define FAIR_FLAG_NULL_GROUP	0x01
#define FAIR_MAX_GROUPS			100000
#define FAIR_MAX_NAME_LEN		1024
/*
 * The hash index has at least 16 slots per group up to 16 * 128 slots,
 * then 4: with the few groups fairness usually sees, a lookup almost never
 * probes a second slot.
 */
#define FAIR_SPARSE_SLOTS		128

/* The aggregation state: groups plus a hash index over them. */
typedef struct FairState
{
	MemoryContext ctx;			/* the aggregate context; everything lives here */
	int			ngroups;
	int			maxgroups;
	FairGroup  *groups;
	FairKey    *keys;			/* the key of each group, parallel to groups */
	int32	   *slots;			/* index into groups, or -1 when free */
	int			nslots;			/* a power of two, >= 4 * ngroups */
	int			last;			/* group of the previous row, or -1 */
} FairState;

static const char *const label_json[3] = {"false", "true", "null"};

/* Report a value that fails validation. */
#define FAIR_CORRUPT(...) \
	ereport(ERROR, \
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION), \
			 errmsg("invalid aisec.fairness_stats value"), \
			 errdetail(__VA_ARGS__), \
			 errhint("Rebuild the value with aisec.fairness() or aisec.fairness_merge().")))

/* The same, with a detail whose wording depends on the number n. */
#define FAIR_CORRUPT_PLURAL(singular, plural, n, ...) \
	ereport(ERROR, \
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION), \
			 errmsg("invalid aisec.fairness_stats value"), \
			 errdetail_plural(singular, plural, n, __VA_ARGS__), \
			 errhint("Rebuild the value with aisec.fairness() or aisec.fairness_merge().")))

/* Report text input that is not a fairness_stats JSON document. */
#define FAIR_BAD_JSON(...) \
	ereport(ERROR, \
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION), \
			 errmsg("invalid input syntax for type aisec.fairness_stats"), \
			 errdetail(__VA_ARGS__)))

/* Hash the group named (name, len, isnull). */
static uint32
HashGroup(const char *name, int len, bool isnull)
{
	FairKey		k = MakeKey(name, len, isnull);

	return HashKey(&k, name);
}

/* Order groups canonically: bytes, shorter prefix first, NULL last. */
static int
CompareGroups(const FairGroup *a, const FairGroup *b)
{
	int			c;

	if (a->isnull || b->isnull)
		return (int) a->isnull - (int) b->isnull;
	c = memcmp(a->name, b->name, Min(a->len, b->len));
	if (c != 0)
		return c;
	return (a->len > b->len) - (a->len < b->len);
}

/* qsort_arg comparator over indexes into a group array. */
static int
CompareGroupIndexes(const void *a, const void *b, void *arg)
{
	const FairGroup *groups = (const FairGroup *) arg;

	return CompareGroups(&groups[*(const int *) a], &groups[*(const int *) b]);
}

/* Check the state's invariants (assert-enabled builds only). */
static void
AssertCheckFairState(const FairState *st)
{
#ifdef USE_ASSERT_CHECKING
	int			used = 0;

	Assert(st->ngroups >= 0 && st->ngroups <= st->maxgroups);
	Assert(st->ngroups <= FAIR_MAX_GROUPS);
	Assert((st->nslots & (st->nslots - 1)) == 0);
	Assert(st->nslots >= 4 * st->ngroups);
	Assert(st->last >= -1 && st->last < st->ngroups);
	for (int s = 0; s < st->nslots; s++)
	{
		Assert(st->slots[s] >= -1 && st->slots[s] < st->ngroups);
		if (st->slots[s] >= 0)
			used++;
	}
	Assert(used == st->ngroups);
	for (int i = 0; i < st->ngroups; i++)
	{
		const FairGroup *g = &st->groups[i];
		int64		rows = 0;
		int			s;

		Assert(g->isnull ? (g->len == 0 && g->name == NULL) :
			   (g->len >= 0 && g->len <= FAIR_MAX_NAME_LEN && g->name != NULL));
		Assert(g->hash == HashGroup(g->name, g->len, g->isnull));
		{
			FairKey		k = MakeKey(g->name, g->len, g->isnull);

			Assert(SameKey(&st->keys[i], g->name, &k, g->name));
			Assert(st->keys[i].hash == g->hash);
		}
		for (int c = 0; c < FAIR_NCELLS; c++)
		{
			const FairCell *cell = &g->cell[c];

			Assert(cell->n >= 0);
			Assert(isfinite(cell->w) && cell->w >= 0);
			Assert(isfinite(cell->w2) && cell->w2 >= 0);
			Assert(cell->n > 0 || (cell->w == 0 && cell->w2 == 0));
			rows += cell->n;
		}
		Assert(rows >= 1);
		/* the index finds this group */
		for (s = g->hash & (st->nslots - 1); st->slots[s] != i;
			 s = (s + 1) & (st->nslots - 1))
			Assert(st->slots[s] >= 0);
	}
#endif
}

/* Create an empty state in the aggregate context. */
static FairState *
CreateState(MemoryContext ctx)
{
	FairState  *st = MemoryContextAllocZero(ctx, sizeof(FairState));

	st->ctx = ctx;
	st->maxgroups = 8;
	st->groups = MemoryContextAllocZero(ctx, sizeof(FairGroup) * st->maxgroups);
	st->keys = MemoryContextAlloc(ctx, sizeof(FairKey) * st->maxgroups);
	st->nslots = FAIR_SPARSE_SLOTS;
	st->slots = MemoryContextAlloc(ctx, sizeof(int32) * st->nslots);
	memset(st->slots, 0xFF, sizeof(int32) * st->nslots);
	st->last = -1;
	return st;
}

/* Double the hash index and re-insert every group. */
static void
GrowIndex(FairState *st)
{
	int			nslots = st->nslots * 2;
	int32	   *slots = MemoryContextAlloc(st->ctx, sizeof(int32) * nslots);

	memset(slots, 0xFF, sizeof(int32) * nslots);
	for (int i = 0; i < st->ngroups; i++)
	{
		int			s = st->groups[i].hash & (nslots - 1);

		while (slots[s] >= 0)
			s = (s + 1) & (nslots - 1);
		slots[s] = i;
	}
	pfree(st->slots);
	st->slots = slots;
	st->nslots = nslots;
}

/*
 * Find a group, adding it (with empty cells) if it is new.  name may be
 * NULL when isnull; otherwise it must point to len bytes (not terminated).
 */
static FairGroup *
LookupGroup(FairState *st, const char *name, int len, bool isnull)
{
	FairKey		k = MakeKey(name, len, isnull);
	uint32		h;
	int			s;
	FairGroup  *g;

	if (st->last >= 0 &&
		SameKey(&st->keys[st->last], st->groups[st->last].name, &k, name))
		return &st->groups[st->last];

	h = HashKey(&k, name);
	for (s = h & (st->nslots - 1); st->slots[s] >= 0; s = (s + 1) & (st->nslots - 1))
	{
		int			i = st->slots[s];

		if (st->keys[i].hash == h && SameKey(&st->keys[i], st->groups[i].name, &k, name))
		{
			g = &st->groups[i];
			st->last = i;
			return g;
		}
	}

	/* a new group */
	if (st->ngroups >= FAIR_MAX_GROUPS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many groups for aisec.fairness"),
				 errdetail("At most %d distinct groups are supported.", FAIR_MAX_GROUPS),
				 errhint("Group by a coarser attribute.")));
	if (len > FAIR_MAX_NAME_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("group name is too long for aisec.fairness"),
				 errdetail("A group name may be at most %d bytes; this one has %d.",
						   FAIR_MAX_NAME_LEN, len)));
	if (st->ngroups == st->maxgroups)
	{
		st->maxgroups *= 2;
		st->groups = repalloc(st->groups, sizeof(FairGroup) * st->maxgroups);
		st->keys = repalloc(st->keys, sizeof(FairKey) * st->maxgroups);
	}
	g = &st->groups[st->ngroups];
	memset(g, 0, sizeof(FairGroup));
	g->isnull = isnull;
	g->hash = h;
	if (!isnull)
	{
		char	   *copy = MemoryContextAlloc(st->ctx, len + 1);

		memcpy(copy, name, len);
		copy[len] = '\0';
		g->name = copy;
		g->len = len;
	}
	k.hash = h;
	st->keys[st->ngroups] = k;
	st->slots[s] = st->ngroups;
	st->last = st->ngroups;
	st->ngroups++;
	if (st->ngroups * (st->nslots < FAIR_SPARSE_SLOTS * 16 ? 16 : 4) > st->nslots)
		GrowIndex(st);
	return g;
}

/* Raise the error for a weight sum that no longer fits a float8. */
static void
ReportWeightOverflow(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("sum of weights is out of range for aisec.fairness"),
			 errhint("Scale the weights down.")));
}

/* Add one row of weight w to a cell. */
static inline void
AddRow(FairCell *cell, double w)
{
	cell->n++;
	cell->w += w;
	cell->w2 += w * w;
	if (unlikely(isinf(cell->w) || isinf(cell->w2)))
		ReportWeightOverflow();
}

/* Add src's cells to the group of the same name in st. */
static void
MergeGroup(FairState *st, const FairGroup *src)
{
	FairGroup  *g = LookupGroup(st, src->name, src->len, src->isnull);

	for (int c = 0; c < FAIR_NCELLS; c++)
	{
		if (pg_add_s64_overflow(g->cell[c].n, src->cell[c].n, &g->cell[c].n))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("row count is out of range for aisec.fairness")));
		g->cell[c].w += src->cell[c].w;
		g->cell[c].w2 += src->cell[c].w2;
		if (isinf(g->cell[c].w) || isinf(g->cell[c].w2))
			ReportWeightOverflow();
	}
}

/* Map a nullable boolean to FAIR_FALSE, FAIR_TRUE or FAIR_UNKNOWN. */
static inline int
Label(Datum value, bool isnull)
{
	if (isnull)
		return FAIR_UNKNOWN;
	return DatumGetBool(value) ? FAIR_TRUE : FAIR_FALSE;
}

/*
 * Add one row to a state: v and n hold the aggregate's arguments (grp,
 * y_true, y_pred and, if weighted, weight) and their NULL flags.
 */
static inline void
AddToState(FairState *st, const Datum *v, const bool *n, bool weighted)
{
	FairGroup  *g;
	FairCell   *cell;
	double		w = 1.0;

	if (weighted)
	{
		if (n[3])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("weight must not be null in aisec.fairness"),
					 errhint("Use coalesce(weight, 1), or filter the rows out.")));
		w = DatumGetFloat8(v[3]);
		if (isnan(w) || isinf(w) || w < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("weight must be a finite number >= 0 in aisec.fairness"),
					 errdetail("The weight is %s.", float8out_internal(w))));
	}

	if (n[0])
		g = LookupGroup(st, NULL, 0, true);
	else
	{
		/* PG_GETARG_TEXT_PP without a call for an inline value */
		struct varlena *grp = (struct varlena *) DatumGetPointer(v[0]);

		if (unlikely(VARATT_IS_COMPRESSED(grp) || VARATT_IS_EXTERNAL(grp)))
			grp = pg_detoast_datum_packed(grp);
		g = LookupGroup(st, VARDATA_ANY(grp), VARSIZE_ANY_EXHDR(grp), false);
	}
	cell = &g->cell[FAIR_CELL(Label(v[1], n[1]), Label(v[2], n[2]))];
	if (weighted)
		AddRow(cell, w);
	else
	{
		/* a weight of 1 cannot overflow: the sums stop growing at 2^53 */
		cell->n++;
		cell->w += 1.0;
		cell->w2 += 1.0;
	}
	AssertCheckFairState(st);
}

static const AggBoxMethods FairBoxMethods;

/* Shared body of the two transition functions. */
static Datum
AccumulateRow(FunctionCallInfo fcinfo, bool weighted)
{
	AggBox	   *box;
	Datum		v[4];
	bool		n[4];

	for (int i = 0; i < (weighted ? 4 : 3); i++)
	{
		v[i] = fcinfo->args[i + 1].value;
		n[i] = fcinfo->args[i + 1].isnull;
	}
	box = aggbox_for_update(fcinfo, 0, &FairBoxMethods);
	AddToState((FairState *) box->state, v, n, weighted);
	PG_RETURN_DATUM(aggbox_result(box));
}

/* Add one unweighted row (grp, y_true, y_pred) to the state. */
PG_FUNCTION_INFO_V1(aisec_fairness_transfn);
Datum
aisec_fairness_transfn(PG_FUNCTION_ARGS)
{
	return AccumulateRow(fcinfo, false);
}

/* Add one weighted row (grp, y_true, y_pred, weight) to the state. */
PG_FUNCTION_INFO_V1(aisec_fairness_weighted_transfn);
Datum
aisec_fairness_weighted_transfn(PG_FUNCTION_ARGS)
{
	return AccumulateRow(fcinfo, true);
}

/* Convert between host and little-endian byte order (its own inverse). */
#ifdef WORDS_BIGENDIAN
#define LE32(x) pg_bswap32(x)
#define LE64(x) pg_bswap64(x)
#else
#define LE32(x) (x)
#define LE64(x) (x)
#endif

/* Append a little-endian 32-bit integer. */
static void
AppendU32(StringInfo buf, uint32 v)
{
	v = LE32(v);
	appendBinaryStringInfo(buf, (const char *) &v, 4);
}

/* Append a little-endian 64-bit integer. */
static void
AppendU64(StringInfo buf, uint64 v)
{
	v = LE64(v);
	appendBinaryStringInfo(buf, (const char *) &v, 8);
}

/* Append a float8 as its little-endian IEEE bits. */
static void
AppendF64(StringInfo buf, double d)
{
	uint64		bits;

	memcpy(&bits, &d, 8);
	AppendU64(buf, bits);
}

/* Read a little-endian 32-bit integer (bounds checked by the caller). */
static uint32
ReadU32(const char *p)
{
	uint32		v;

	memcpy(&v, p, 4);
	return LE32(v);
}

/* Read a little-endian 64-bit integer (bounds checked by the caller). */
static uint64
ReadU64(const char *p)
{
	uint64		v;

	memcpy(&v, p, 8);
	return LE64(v);
}

/* Read a float8 from its little-endian IEEE bits. */
static double
ReadF64(const char *p)
{
	uint64		bits = ReadU64(p);
	double		d;

	memcpy(&d, &bits, 8);
	return d;
}

/* Encode groups[order[0..n-1]] as a varlena in format version 1. */
static struct varlena *
EncodeGroups(const FairGroup *groups, const int *order, int n)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoSpaces(&buf, VARHDRSZ);
	appendStringInfoChar(&buf, FAIR_FORMAT_VERSION);
	appendStringInfoChar(&buf, FAIR_KIND);
	appendStringInfoChar(&buf, 0);
	appendStringInfoChar(&buf, 0);
	AppendU32(&buf, n);
	for (int i = 0; i < n; i++)
	{
		const FairGroup *g = &groups[order[i]];

		appendStringInfoChar(&buf, g->isnull ? FAIR_FLAG_NULL_GROUP : 0);
		AppendU32(&buf, g->len);
		if (g->len > 0)
			appendBinaryStringInfo(&buf, g->name, g->len);
		for (int c = 0; c < FAIR_NCELLS; c++)
		{
			AppendU64(&buf, (uint64) g->cell[c].n);
			AppendF64(&buf, g->cell[c].w);
			AppendF64(&buf, g->cell[c].w2);
		}
	}
	SET_VARSIZE(buf.data, buf.len);
	return (struct varlena *) buf.data;
}

/* Encode a state canonically (the state itself is left unchanged). */
static struct varlena *
EncodeState(const FairState *st)
{
	int		   *order = palloc(sizeof(int) * Max(st->ngroups, 1));
	struct varlena *result;

	for (int i = 0; i < st->ngroups; i++)
		order[i] = i;
	qsort_arg(order, st->ngroups, sizeof(int), CompareGroupIndexes, st->groups);
	result = EncodeGroups(st->groups, order, st->ngroups);
	pfree(order);
	return result;
}

/* Validate one decoded cell; what names it in errors. */
static void
CheckCell(const FairCell *cell, int gi, int c)
{
	if (cell->n < 0)
		FAIR_CORRUPT("Group %d cell %d has a negative row count.", gi + 1, c);
	if (!isfinite(cell->w) || cell->w < 0 || !isfinite(cell->w2) || cell->w2 < 0)
		FAIR_CORRUPT("Group %d cell %d has a weight sum that is negative or not finite.", gi + 1, c);
	if (cell->n == 0 && (cell->w != 0 || cell->w2 != 0))
		FAIR_CORRUPT("Group %d cell %d has no rows but a non-zero weight sum.", gi + 1, c);
	if (cell->w2 > cell->w * cell->w * (1 + 1e-9))
		FAIR_CORRUPT("Group %d cell %d has a sum of squared weights larger than the squared sum.", gi + 1, c);
}

/*
 * Decode and validate a value's bytes (the varlena payload).  Names point
 * into data, which must outlive the result.
 */
FairStats *
fair_decode(const char *data, Size len)
{
	FairStats  *stats;
	const char *p = data;
	const char *end = data + len;
	uint32		ngroups;

	if (len < FAIR_HEADER_LEN)
		FAIR_CORRUPT_PLURAL("The value is %zu byte long, shorter than its %d-byte header.",
							"The value is %zu bytes long, shorter than its %d-byte header.",
							len, len, FAIR_HEADER_LEN);
	if ((uint8) p[0] != FAIR_FORMAT_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported aisec.fairness_stats format version %d", (uint8) p[0]),
				 errdetail("This build of aisec reads format version %d.", FAIR_FORMAT_VERSION),
				 errhint("The value was written by another version of aisec, or is corrupt.")));
	if (p[1] != FAIR_KIND || p[2] != 0 || p[3] != 0)
		FAIR_CORRUPT("The header does not mark a fairness state.");
	ngroups = ReadU32(p + 4);
	p += FAIR_HEADER_LEN;
	if (ngroups == 0)
		FAIR_CORRUPT("The value holds no group.");
	if (ngroups > FAIR_MAX_GROUPS || ngroups > (Size) (end - p) / FAIR_GROUP_MIN_LEN)
		FAIR_CORRUPT_PLURAL("The header announces %u group, more than the value can hold.",
							"The header announces %u groups, more than the value can hold.",
							ngroups, ngroups);

	stats = palloc(sizeof(FairStats));
	stats->ngroups = ngroups;
	stats->groups = palloc0(sizeof(FairGroup) * ngroups);
	for (int i = 0; i < (int) ngroups; i++)
	{
		FairGroup  *g = &stats->groups[i];
		uint8		flags;
		uint32		namelen;
		int64		rows = 0;

		if (end - p < 5)
			FAIR_CORRUPT("The value is truncated in group %d.", i + 1);
		flags = (uint8) p[0];
		namelen = ReadU32(p + 1);
		p += 5;
		if (flags & ~FAIR_FLAG_NULL_GROUP)
			FAIR_CORRUPT("Group %d has unknown flags 0x%02x.", i + 1, flags);
		g->isnull = (flags & FAIR_FLAG_NULL_GROUP) != 0;
		if (g->isnull && namelen != 0)
			FAIR_CORRUPT("Group %d is the NULL group but has a name.", i + 1);
		if (namelen > FAIR_MAX_NAME_LEN)
			FAIR_CORRUPT("Group %d has a name of %u bytes; at most %d are allowed.",
						 i + 1, namelen, FAIR_MAX_NAME_LEN);
		if ((Size) (end - p) < namelen + (Size) FAIR_NCELLS * FAIR_CELL_LEN)
			FAIR_CORRUPT("The value is truncated in group %d.", i + 1);
		if (!g->isnull)
		{
			if (memchr(p, '\0', namelen) != NULL)
				FAIR_CORRUPT("Group %d has a name containing a zero byte.", i + 1);
			if (!pg_verifymbstr(p, namelen, true))
				FAIR_CORRUPT("Group %d has a name that is not valid in the database encoding.", i + 1);
			g->name = p;
			g->len = namelen;
		}
		p += namelen;
		g->hash = HashGroup(g->name, g->len, g->isnull);
		for (int c = 0; c < FAIR_NCELLS; c++)
		{
			g->cell[c].n = (int64) ReadU64(p);
			g->cell[c].w = ReadF64(p + 8);
			g->cell[c].w2 = ReadF64(p + 16);
			p += FAIR_CELL_LEN;
			CheckCell(&g->cell[c], i, c);
			if (pg_add_s64_overflow(rows, g->cell[c].n, &rows))
				FAIR_CORRUPT("Group %d has a row count out of range.", i + 1);
		}
		if (rows == 0)
			FAIR_CORRUPT("Group %d has no rows.", i + 1);
		if (i > 0 && CompareGroups(&stats->groups[i - 1], g) >= 0)
			FAIR_CORRUPT("Group %d is out of order or repeats an earlier group.", i + 1);
	}
	if (p != end)
		FAIR_CORRUPT_PLURAL("The value has %zu trailing byte after the last group.",
							"The value has %zu trailing bytes after the last group.",
							(Size) (end - p), (Size) (end - p));
	return stats;
}

/* Decode the aisec.fairness_stats argument argno (which must not be NULL). */
FairStats *
fair_stats_arg(FunctionCallInfo fcinfo, int argno)
{
	struct varlena *v = PG_DETOAST_DATUM(PG_GETARG_DATUM(argno));

	return fair_decode(VARDATA(v), VARSIZE(v) - VARHDRSZ);
}

/*
 * Find the group named by text argument argno; a NULL argument names the
 * NULL group.  Unknown groups are an error.
 */
const FairGroup *
fair_find_group(const FairStats *stats, FunctionCallInfo fcinfo, int argno)
{
	FairGroup	key;
	int			lo = 0,
				hi = stats->ngroups - 1;

	memset(&key, 0, sizeof(key));
	key.isnull = PG_ARGISNULL(argno);
	if (!key.isnull)
	{
		text	   *name = PG_GETARG_TEXT_PP(argno);

		key.name = VARDATA_ANY(name);
		key.len = VARSIZE_ANY_EXHDR(name);
	}
	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			c = CompareGroups(&stats->groups[mid], &key);

		if (c == 0)
			return &stats->groups[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	if (key.isnull)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the fairness statistics hold no NULL group"),
				 errhint("A NULL group name selects the group of rows whose group was NULL.")));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("group \"%s\" does not occur in the fairness statistics",
					pnstrdup(key.name, pg_mbcliplen(key.name, key.len, 64))),
			 errhint("Group names are compared byte for byte; aisec.fairness_report() lists the groups.")));
	return NULL;				/* keep compiler quiet */
}

/* Return the number of rows of a group. */
int64
fair_group_rows(const FairGroup *g)
{
	int64		rows = 0;

	for (int c = 0; c < FAIR_NCELLS; c++)
		rows += g->cell[c].n;
	return rows;
}

/* Return the total weight of a group. */
double
fair_group_weight(const FairGroup *g)
{
	double		w = 0;

	for (int c = 0; c < FAIR_NCELLS; c++)
		w += g->cell[c].w;
	return w;
}

/* Return a group's name as a palloc'd C string, or NULL for the NULL group. */
char *
fair_group_name(const FairGroup *g)
{
	return g->isnull ? NULL : pnstrdup(g->name, g->len);
}

/* Build a state in ctx holding the groups of a decoded value. */
static FairState *
StateFromStats(MemoryContext ctx, const FairStats *stats)
{
	FairState  *st = CreateState(ctx);

	for (int i = 0; i < stats->ngroups; i++)
		MergeGroup(st, &stats->groups[i]);
	return st;
}

/* AggBox method: an empty state. */
static void *
FairBoxCreate(MemoryContext cxt)
{
	return CreateState(cxt);
}

/* AggBox method: a state from a value's bytes, validated. */
static void *
FairBoxDecode(MemoryContext cxt, const struct varlena *flat)
{
	FairState  *st = StateFromStats(cxt, fair_decode(VARDATA(flat), VARSIZE(flat) - VARHDRSZ));

	AssertCheckFairState(st);
	return st;
}

/* AggBox method: the value's bytes of a state. */
static struct varlena *
FairBoxEncode(const void *state)
{
	return EncodeState((const FairState *) state);
}

static const AggBoxMethods FairBoxMethods = {
	"aisec.fairness_stats",
	FairBoxCreate,
	FairBoxDecode,
	FairBoxEncode
};

/*
 * Return the state as a plain aisec.fairness_stats value; no rows gives
 * NULL.  Reads the state only: window aggregates call it again after later
 * rows.
 */
PG_FUNCTION_INFO_V1(aisec_fairness_finalfn);
Datum
aisec_fairness_finalfn(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_POINTER(PG_DETOAST_DATUM_COPY(PG_GETARG_DATUM(0)));
}

/* Merge the second partial state into the first (the second is only read). */
PG_FUNCTION_INFO_V1(aisec_fairness_combinefn);
Datum
aisec_fairness_combinefn(PG_FUNCTION_ARGS)
{
	const FairState *st2;
	AggBox	   *box;
	FairState  *st1;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	st2 = (const FairState *) aggbox_read(fcinfo, 1, &FairBoxMethods);
	box = aggbox_for_update(fcinfo, 0, &FairBoxMethods);
	st1 = (FairState *) box->state;
	for (int i = 0, n = st2->ngroups; i < n; i++)
		MergeGroup(st1, &st2->groups[i]);
	AssertCheckFairState(st1);
	PG_RETURN_DATUM(aggbox_result(box));
}

/* Add a stored aisec.fairness_stats value to the state; NULL is skipped. */
PG_FUNCTION_INFO_V1(aisec_fairness_merge_transfn);
Datum
aisec_fairness_merge_transfn(PG_FUNCTION_ARGS)
{
	FairStats  *stats;
	AggBox	   *box;
	FairState  *st;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	stats = fair_stats_arg(fcinfo, 1);
	box = aggbox_for_update(fcinfo, 0, &FairBoxMethods);
	st = (FairState *) box->state;
	for (int i = 0; i < stats->ngroups; i++)
		MergeGroup(st, &stats->groups[i]);
	AssertCheckFairState(st);
	PG_RETURN_DATUM(aggbox_result(box));
}

/* Append a float8 in shortest round-trip form (never NaN or infinite here). */
static void
AppendJsonNumber(StringInfo buf, double d)
{
	char		tmp[DOUBLE_SHORTEST_DECIMAL_LEN];

	double_to_shortest_decimal_buf(d, tmp);
	appendStringInfoString(buf, tmp);
}

/* Print a value as JSON: groups, their row and weight totals, non-empty cells. */
PG_FUNCTION_INFO_V1(aisec_fairness_stats_out);
Datum
aisec_fairness_stats_out(PG_FUNCTION_ARGS)
{
	FairStats  *stats = fair_stats_arg(fcinfo, 0);
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"version\": %d, \"groups\": [", FAIR_FORMAT_VERSION);
	for (int i = 0; i < stats->ngroups; i++)
	{
		const FairGroup *g = &stats->groups[i];
		bool		first = true;

		appendStringInfoString(&buf, i > 0 ? ", {\"group\": " : "{\"group\": ");
		if (g->isnull)
			appendStringInfoString(&buf, "null");
		else
			escape_json(&buf, fair_group_name(g));
		appendStringInfo(&buf, ", \"rows\": " INT64_FORMAT ", \"weight\": ",
						 fair_group_rows(g));
		AppendJsonNumber(&buf, fair_group_weight(g));
		appendStringInfoString(&buf, ", \"cells\": [");
		for (int c = 0; c < FAIR_NCELLS; c++)
		{
			const FairCell *cell = &g->cell[c];

			if (cell->n == 0)
				continue;
			appendStringInfo(&buf, "%s{\"y_true\": %s, \"y_pred\": %s, \"rows\": " INT64_FORMAT
							 ", \"weight\": ",
							 first ? "" : ", ", label_json[c / 3], label_json[c % 3], cell->n);
			AppendJsonNumber(&buf, cell->w);
			appendStringInfoString(&buf, ", \"weight_sq\": ");
			AppendJsonNumber(&buf, cell->w2);
			appendStringInfoChar(&buf, '}');
			first = false;
		}
		appendStringInfoString(&buf, "]}");
	}
	appendStringInfoString(&buf, "]}");
	PG_RETURN_CSTRING(buf.data);
}

/* Return the value of key in a JSON object, or NULL if absent. */
static JsonbValue *
JsonField(JsonbContainer *obj, const char *key)
{
	return getKeyJsonValueFromContainer(obj, key, strlen(key), NULL);
}

/*
 * Return the container of an object or array value, or fail with problem,
 * a whole sentence saying what the value must be.
 */
static JsonbContainer *
JsonContainer(JsonbValue *v, bool array, const char *problem)
{
	if (v == NULL || v->type != jbvBinary ||
		(array ? !JsonContainerIsArray(v->val.binary.data) :
		 !JsonContainerIsObject(v->val.binary.data)))
		FAIR_BAD_JSON("%s", problem);
	return v->val.binary.data;
}

/* Read a JSON number field of a cell as float8, or fail. */
static double
JsonNumber(JsonbContainer *obj, const char *key)
{
	JsonbValue *v = JsonField(obj, key);

	if (v == NULL || v->type != jbvNumeric)
		FAIR_BAD_JSON("A cell needs a number \"%s\".", key);
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8,
											  NumericGetDatum(v->val.numeric)));
}

/*
 * Read a JSON number that must be a whole number from 0 to PG_INT64_MAX,
 * exactly (through numeric: a count above 2^53 read as float8 would be
 * rounded, and a state's text form would not read back as the state).
 * Returns -1 if v is not such a number.
 */
static int64
JsonCount(JsonbValue *v)
{
	Datum		num;
	int64		i;

	if (v == NULL || v->type != jbvNumeric)
		return -1;
	num = NumericGetDatum(v->val.numeric);
	if (!DatumGetBool(DirectFunctionCall2(numeric_ge, num, NumericGetDatum(int64_to_numeric(0)))) ||
		!DatumGetBool(DirectFunctionCall2(numeric_le, num, NumericGetDatum(int64_to_numeric(PG_INT64_MAX)))))
		return -1;
	i = DatumGetInt64(DirectFunctionCall1(numeric_int8, num));
	if (!DatumGetBool(DirectFunctionCall2(numeric_eq, num, NumericGetDatum(int64_to_numeric(i)))))
		return -1;
	return i;
}

/* Read a JSON label field (true, false or null), or fail. */
static int
JsonLabel(JsonbContainer *obj, const char *key)
{
	JsonbValue *v = JsonField(obj, key);

	if (v != NULL && v->type == jbvBool)
		return v->val.boolean ? FAIR_TRUE : FAIR_FALSE;
	if (v != NULL && v->type == jbvNull)
		return FAIR_UNKNOWN;
	FAIR_BAD_JSON("A cell needs \"%s\": true, false or null.", key);
	return 0;					/* keep compiler quiet */
}

/* Read the JSON that fairness_stats_out prints; validate it like any value. */
PG_FUNCTION_INFO_V1(aisec_fairness_stats_in);
Datum
aisec_fairness_stats_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	Jsonb	   *jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(str)));
	JsonbValue *v;
	JsonbContainer *groups;
	FairGroup  *arr;
	int		   *order;
	int			n;
	struct varlena *result;

	if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
		FAIR_BAD_JSON("The value must be a JSON object.");
	v = JsonField(&jb->root, "version");
	if (v == NULL || v->type != jbvNumeric)
		FAIR_BAD_JSON("The object needs a number \"version\".");
	if (DatumGetFloat8(DirectFunctionCall1(numeric_float8,
										   NumericGetDatum(v->val.numeric))) != FAIR_FORMAT_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("unsupported aisec.fairness_stats format version"),
				 errdetail("This build of aisec reads format version %d.", FAIR_FORMAT_VERSION)));
	groups = JsonContainer(JsonField(&jb->root, "groups"), true,
						   "\"groups\" must be a JSON array.");
	n = JsonContainerSize(groups);
	if (n == 0 || n > FAIR_MAX_GROUPS)
		FAIR_BAD_JSON("\"groups\" must hold between 1 and %d groups.", FAIR_MAX_GROUPS);
	arr = palloc0(sizeof(FairGroup) * n);
	order = palloc(sizeof(int) * n);
	for (int i = 0; i < n; i++)
	{
		JsonbContainer *gobj = JsonContainer(getIthJsonbValueFromContainer(groups, i),
											 false, "A group must be a JSON object.");
		JsonbContainer *cells;
		FairGroup  *g = &arr[i];
		int			ncells;
		int64		rows = 0;

		order[i] = i;
		v = JsonField(gobj, "group");
		if (v != NULL && v->type == jbvNull)
			g->isnull = true;
		else if (v != NULL && v->type == jbvString)
		{
			g->name = v->val.string.val;
			g->len = v->val.string.len;
		}
		else
			FAIR_BAD_JSON("Group %d needs \"group\": a string or null.", i + 1);
		cells = JsonContainer(JsonField(gobj, "cells"), true,
							  "\"cells\" must be a JSON array.");
		ncells = JsonContainerSize(cells);
		for (int j = 0; j < ncells; j++)
		{
			JsonbContainer *cobj = JsonContainer(getIthJsonbValueFromContainer(cells, j),
												 false, "A cell must be a JSON object.");
			int			c = FAIR_CELL(JsonLabel(cobj, "y_true"), JsonLabel(cobj, "y_pred"));
			int64		n_rows = JsonCount(JsonField(cobj, "rows"));

			if (g->cell[c].n != 0)
				FAIR_BAD_JSON("Group %d lists the cell y_true = %s, y_pred = %s twice.",
							  i + 1, label_json[c / 3], label_json[c % 3]);
			if (n_rows < 1)
				FAIR_BAD_JSON("Group %d has a cell whose \"rows\" is not a positive integer.", i + 1);
			if (pg_add_s64_overflow(rows, n_rows, &rows))
				FAIR_BAD_JSON("Group %d has more rows than a count can hold.", i + 1);
			g->cell[c].n = n_rows;
			g->cell[c].w = JsonNumber(cobj, "weight");
			g->cell[c].w2 = JsonNumber(cobj, "weight_sq");
		}
		v = JsonField(gobj, "rows");
		if (v != NULL && JsonCount(v) != rows)
			FAIR_BAD_JSON("Group %d has \"rows\" different from the sum of its cells.", i + 1);
	}
	qsort_arg(order, n, sizeof(int), CompareGroupIndexes, arr);
	result = EncodeGroups(arr, order, n);
	/* every other check (names, sums, duplicates) is the binary format's */
	fair_decode(VARDATA(result), VARSIZE(result) - VARHDRSZ);
	PG_RETURN_POINTER(result);
}

/* Read the binary format (the value's bytes), validating it. */
PG_FUNCTION_INFO_V1(aisec_fairness_stats_recv);
Datum
aisec_fairness_stats_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			len = buf->len - buf->cursor;
	struct varlena *result = palloc(len + VARHDRSZ);

	SET_VARSIZE(result, len + VARHDRSZ);
	memcpy(VARDATA(result), buf->data + buf->cursor, len);
	buf->cursor = buf->len;
	fair_decode(VARDATA(result), len);
	PG_RETURN_POINTER(result);
}

/* Write the binary format: the value's bytes. */
PG_FUNCTION_INFO_V1(aisec_fairness_stats_send);
Datum
aisec_fairness_stats_send(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_DETOAST_DATUM_COPY(PG_GETARG_DATUM(0));

	PG_RETURN_BYTEA_P(v);
}

/* Cast bytea to aisec.fairness_stats, validating the bytes. */
PG_FUNCTION_INFO_V1(aisec_fairness_stats_from_bytes);
Datum
aisec_fairness_stats_from_bytes(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_P_COPY(0);

	fair_decode(VARDATA(b), VARSIZE(b) - VARHDRSZ);
	PG_RETURN_POINTER(b);
}

/* The aggregate scan's row functions (core/aggscan.c): the same rows as above. */
static bool
ScanAddRow(void *state, const Datum *values, const bool *isnull)
{
	AddToState((FairState *) state, values, isnull, false);
	return true;
}

static bool
ScanAddWeightedRow(void *state, const Datum *values, const bool *isnull)
{
	AddToState((FairState *) state, values, isnull, true);
	return true;
}

static const AggScanKind fair_scan_kind = {
	.transfn = aisec_fairness_transfn,
	.nargs = 3,
	.box = &FairBoxMethods,
	.add_row = ScanAddRow,
};

static const AggScanKind fair_weighted_scan_kind = {
	.transfn = aisec_fairness_weighted_transfn,
	.nargs = 4,
	.box = &FairBoxMethods,
	.add_row = ScanAddWeightedRow,
};

/* Offer aisec.fairness() (and fairness_partial()) to the aggregate scan. */
void
aisec_fairness_scan_init(void)
{
	aggscan_register(&fair_scan_kind);
	aggscan_register(&fair_weighted_scan_kind);
}
