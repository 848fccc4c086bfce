/*
 * lineage_codec.c
 *		The compact form of a child's parents within one block of 262,144
 *		row ids (aisec.lineage_edge.parents, doc/lineage.md "Encoding"):
 *		format byte, varint count, then per parent, in (rid, valid_from)
 *		order, the varint difference of its low rid bits from the previous
 *		parent's and the zigzag varint difference of its valid_from.
 *
 * Decoding validates everything (the bytes come from a table a superuser
 * can write): a bad format, a truncated or overlong value, a count that
 * does not match, or a rid outside the block is an error, never a read
 * past the end.
 */
#include "postgres.h"

#include "lineage_internal.h"

/* Append v as a varint (7 bits a byte, low first; at most 10 bytes). */
static inline void
PutVarint(StringInfo buf, uint64 v)
{
	char	   *p;

	if (buf->len + 10 >= buf->maxlen)
		enlargeStringInfo(buf, 10);
	p = buf->data + buf->len;
	while (v >= 0x80)
	{
		*p++ = (char) ((v & 0x7F) | 0x80);
		v >>= 7;
	}
	*p++ = (char) v;
	*p = '\0';
	buf->len = p - buf->data;
}

/* Read a varint at *pos; error if truncated or longer than 10 bytes. */
static uint64
GetVarint(const unsigned char *p, int len, int *pos)
{
	uint64		v = 0;

	for (int shift = 0; shift < 64; shift += 7)
	{
		unsigned char b;

		if (*pos >= len)
			break;
		b = p[(*pos)++];
		v |= (uint64) (b & 0x7F) << shift;
		if ((b & 0x80) == 0)
			return v;
	}
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("corrupt lineage edge: truncated or overlong number")));
	return 0;					/* keep compiler quiet */
}

/* Zigzag: small negative and positive differences both get small codes. */
static uint64
Zig(int64 v)
{
	return ((uint64) v << 1) ^ (uint64) (v >> 63);
}

static int64
Unzig(uint64 v)
{
	return (int64) (v >> 1) ^ -(int64) (v & 1);
}

/* Encode n parents of one block, sorted by (rid, valid_from), into buf. */
void
lineage_encode(StringInfo buf, const LineageParent *parents, int n)
{
	int64		prev_low = 0;
	int64		prev_from = 0;

	appendStringInfoChar(buf, (char) LINEAGE_FORMAT);
	PutVarint(buf, (uint64) n);
	for (int i = 0; i < n; i++)
	{
		int64		low = parents[i].rid & LINEAGE_BLOCK_MASK;

		Assert(i == 0 || low >= prev_low);
		PutVarint(buf, (uint64) (low - prev_low));
		PutVarint(buf, Zig(parents[i].valid_from - prev_from));
		prev_low = low;
		prev_from = parents[i].valid_from;
	}
}

/* Decode the parents of block block; *n gets their count. */
LineageParent *
lineage_decode(const char *data, int len, int64 block, int *n)
{
	const unsigned char *p = (const unsigned char *) data;
	int			pos = 1;
	uint64		count;
	LineageParent *out;
	int64		low = 0;
	int64		from = 0;

	if (len < 2 || p[0] != LINEAGE_FORMAT)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupt lineage edge: unknown format")));
	count = GetVarint(p, len, &pos);
	/* Each parent takes at least two bytes. */
	if (count == 0 || count > (uint64) (len - pos) / 2)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupt lineage edge: parent count does not match its length")));
	out = palloc(sizeof(LineageParent) * count);
	for (uint64 i = 0; i < count; i++)
	{
		uint64		step = GetVarint(p, len, &pos);

		from = (int64) ((uint64) from + (uint64) Unzig(GetVarint(p, len, &pos)));
		if (step > (uint64) LINEAGE_BLOCK_MASK || low + (int64) step > LINEAGE_BLOCK_MASK)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("corrupt lineage edge: row id outside its block")));
		low += (int64) step;
		out[i].rid = (block << LINEAGE_BLOCK_SHIFT) | low;
		out[i].valid_from = from;
	}
	if (pos != len)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupt lineage edge: trailing bytes")));
	*n = (int) count;
	return out;
}

/*
 * A run (format 2, doc/lineage.md "Runs"): count consecutive children,
 * child i (from 0) made from parents[i]; all parents of one version.
 * Format byte, varint count, zigzag varint valid_from, then per child the
 * zigzag varint difference of its parent from the previous one (the
 * first from lo, the run's lowest parent).
 */
void
lineage_encode_run(StringInfo buf, int format, const int64 *parents, int n, int64 valid_from,
				   int64 lo)
{
	int64		prev = lo;

	Assert(format == LINEAGE_FORMAT_RUN || format == LINEAGE_FORMAT_UP_RUN);
	appendStringInfoChar(buf, (char) format);
	PutVarint(buf, (uint64) n);
	PutVarint(buf, Zig(valid_from));
	for (int i = 0; i < n; i++)
	{
		PutVarint(buf, Zig(parents[i] - prev));
		prev = parents[i];
	}
}

/* Whether an encoded parent set is a run (format 2, or 4: up only). */
bool
lineage_is_run(const char *data, int len)
{
	return len >= 1 && ((unsigned char) data[0] == LINEAGE_FORMAT_RUN ||
						(unsigned char) data[0] == LINEAGE_FORMAT_UP_RUN);
}

/*
 * Decode a run whose parents lie in [lo, hi]: *n gets its length,
 * *valid_from the parents' version; returns the parents in child order.
 */
int64 *
lineage_decode_run(const char *data, int len, int64 lo, int64 hi, int *n, int64 *valid_from)
{
	const unsigned char *p = (const unsigned char *) data;
	int			pos = 1;
	uint64		count;
	int64	   *out;
	int64		prev = lo;

	if (len < 3 || (p[0] != LINEAGE_FORMAT_RUN && p[0] != LINEAGE_FORMAT_UP_RUN))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupt lineage edge: unknown format")));
	count = GetVarint(p, len, &pos);
	*valid_from = Unzig(GetVarint(p, len, &pos));
	if (count == 0 || count > (uint64) (len - pos) || count > LINEAGE_RUN_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupt lineage edge: run length does not match its length")));
	out = palloc(sizeof(int64) * count);
	for (uint64 i = 0; i < count; i++)
	{
		prev = (int64) ((uint64) prev + (uint64) Unzig(GetVarint(p, len, &pos)));
		if (prev < lo || prev > hi)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("corrupt lineage edge: row id outside its range")));
		out[i] = prev;
	}
	if (pos != len)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupt lineage edge: trailing bytes")));
	*n = (int) count;
	return out;
}

/*
 * A down run (format 5, doc/lineage.md "Source order"): count edges in
 * parent order, all parents of one version.  Format byte, varint count,
 * zigzag varint valid_from, then per edge the varint difference of its
 * parent from the previous one (the first from lo) and the zigzag varint
 * difference of its child from the previous child (the first from 0).
 * edges holds (child, parent) pairs, sorted by parent.
 */
void
lineage_encode_down_run(StringInfo buf, const int64 *edges, int n, int64 valid_from, int64 lo)
{
	int64		prev = lo;
	int64		prev_child = 0;

	appendStringInfoChar(buf, (char) LINEAGE_FORMAT_DOWN_RUN);
	PutVarint(buf, (uint64) n);
	PutVarint(buf, Zig(valid_from));
	for (int i = 0; i < n; i++)
	{
		PutVarint(buf, (uint64) (edges[2 * i + 1] - prev));
		PutVarint(buf, Zig(edges[2 * i] - prev_child));
		prev = edges[2 * i + 1];
		prev_child = edges[2 * i];
	}
}

/* Whether an encoded parent set is a down run (format 5). */
bool
lineage_is_down_run(const char *data, int len)
{
	return len >= 1 && (unsigned char) data[0] == LINEAGE_FORMAT_DOWN_RUN;
}

/*
 * Decode a down run whose parents lie in [lo, hi]: *n gets its length,
 * *valid_from the parents' version; returns (child, parent) pairs.
 */
int64 *
lineage_decode_down_run(const char *data, int len, int64 lo, int64 hi, int *n,
						int64 *valid_from)
{
	const unsigned char *p = (const unsigned char *) data;
	int			pos = 1;
	uint64		count;
	int64	   *out;
	int64		prev = lo;
	int64		child = 0;

	if (len < 3 || p[0] != LINEAGE_FORMAT_DOWN_RUN)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupt lineage edge: unknown format")));
	count = GetVarint(p, len, &pos);
	*valid_from = Unzig(GetVarint(p, len, &pos));
	/* Each edge takes at least two bytes. */
	if (count == 0 || count > (uint64) (len - pos) / 2 || count > LINEAGE_RUN_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupt lineage edge: run length does not match its length")));
	out = palloc(sizeof(int64) * 2 * count);
	for (uint64 i = 0; i < count; i++)
	{
		uint64		step = GetVarint(p, len, &pos);

		if (step > (uint64) (hi - prev))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("corrupt lineage edge: row id outside its range")));
		prev += (int64) step;
		child = (int64) ((uint64) child + (uint64) Unzig(GetVarint(p, len, &pos)));
		out[2 * i] = child;
		out[2 * i + 1] = prev;
	}
	if (pos != len)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupt lineage edge: trailing bytes")));
	*n = (int) count;
	return out;
}
