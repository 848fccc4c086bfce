/*
 * labelset.c
 *		Interning of text labels into dense indexes, for the contingency and
 *		category-count aggregates.
 *
 * An open-addressing hash table (linear probing, load factor at most 1/2)
 * maps label bytes to the index of their first appearance.  Label bytes are
 * carved out of 8 kB blocks, so a set of many short labels costs one
 * allocation per block rather than one per label.  Indexes depend on input
 * order; labelset_sorted_order() gives the canonical (byte) order that
 * serialized states use, so results never depend on the plan.
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "utils/memutils.h"

#include "labelset.h"
#include "statecodec.h"

#define ARENA_BLOCK		8192

/* Set up an empty label set whose memory lives in cxt. */
void
labelset_init(LabelSet *s, MemoryContext cxt)
{
	memset(s, 0, sizeof(*s));
	s->cxt = cxt;
	s->capacity = 8;
	s->nslots = 16;
	s->slots = MemoryContextAlloc(cxt, s->nslots * sizeof(int32));
	memset(s->slots, 0xFF, s->nslots * sizeof(int32));
	s->data = MemoryContextAlloc(cxt, s->capacity * sizeof(char *));
	s->lens = MemoryContextAlloc(cxt, s->capacity * sizeof(uint32));
	s->hashes = MemoryContextAlloc(cxt, s->capacity * sizeof(uint32));
}

/* Double the hash table and re-insert every label. */
static void
GrowSlots(LabelSet *s)
{
	uint32		nslots = s->nslots * 2;
	int32	   *slots = MemoryContextAlloc(s->cxt, nslots * sizeof(int32));

	memset(slots, 0xFF, nslots * sizeof(int32));
	for (uint32 i = 0; i < s->count; i++)
	{
		uint32		j = s->hashes[i] & (nslots - 1);

		while (slots[j] >= 0)
			j = (j + 1) & (nslots - 1);
		slots[j] = (int32) i;
	}
	pfree(s->slots);
	s->slots = slots;
	s->nslots = nslots;
}

/* Copy label bytes into the arena and return where they went. */
static char *
StoreBytes(LabelSet *s, const char *data, uint32 len)
{
	char	   *p;

	if (len > ARENA_BLOCK / 4)
		p = MemoryContextAllocHuge(s->cxt, Max(len, 1));
	else
	{
		if (s->arena_left < len)
		{
			s->arena = MemoryContextAlloc(s->cxt, ARENA_BLOCK);
			s->arena_left = ARENA_BLOCK;
		}
		p = s->arena;
		s->arena += len;
		s->arena_left -= len;
	}
	memcpy(p, data, len);
	return p;
}

/* Return the index of a label, adding it if it is new. */
uint32
labelset_intern(LabelSet *s, const char *data, uint32 len, bool *added)
{
	uint32		h = hash_bytes((const unsigned char *) data, (int) len);
	uint32		mask = s->nslots - 1;
	uint32		j = h & mask;
	uint32		idx;

	for (;;)
	{
		int32		k = s->slots[j];

		if (k < 0)
			break;
		if (s->hashes[k] == h && s->lens[k] == len &&
			memcmp(s->data[k], data, len) == 0)
		{
			if (added)
				*added = false;
			return (uint32) k;
		}
		j = (j + 1) & mask;
	}

	/* New label. */
	if (s->count >= LABELSET_MAX_LABELS ||
		s->total_bytes + len > LABELSET_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many distinct values for a statistics state"),
				 errdetail("The limit is %d distinct values and %zu bytes of them.",
						   LABELSET_MAX_LABELS, (size_t) LABELSET_MAX_BYTES),
				 errhint("Group rare values together (for example with CASE) before aggregating.")));
	if (s->count == s->capacity)
	{
		s->capacity *= 2;
		s->data = repalloc(s->data, s->capacity * sizeof(char *));
		s->lens = repalloc(s->lens, s->capacity * sizeof(uint32));
		s->hashes = repalloc(s->hashes, s->capacity * sizeof(uint32));
	}
	idx = s->count++;
	s->data[idx] = StoreBytes(s, data, len);
	s->lens[idx] = len;
	s->hashes[idx] = h;
	s->total_bytes += len;
	s->slots[j] = (int32) idx;
	if (s->count * 2 > s->nslots)
		GrowSlots(s);
	if (added)
		*added = true;
	return idx;
}

/* qsort_arg comparator: label indexes by label bytes. */
static int
CompareLabelIndexes(const void *a, const void *b, void *arg)
{
	const LabelSet *s = (const LabelSet *) arg;
	uint32		i = *(const uint32 *) a;
	uint32		j = *(const uint32 *) b;

	return label_cmp(s->data[i], s->lens[i], s->data[j], s->lens[j]);
}

/* Return the label indexes in byte order (palloc'd in the current context). */
uint32 *
labelset_sorted_order(const LabelSet *s)
{
	uint32	   *order = palloc(Max(s->count, 1) * sizeof(uint32));

	for (uint32 i = 0; i < s->count; i++)
		order[i] = i;
	qsort_arg(order, s->count, sizeof(uint32), CompareLabelIndexes, (void *) s);
	return order;
}

/* Check the set's invariants (assert-enabled builds only do real work). */
void
labelset_check(const LabelSet *s)
{
#ifdef USE_ASSERT_CHECKING
	uint32		used = 0;

	Assert(s->count <= s->capacity);
	Assert((s->nslots & (s->nslots - 1)) == 0);
	Assert(s->count * 2 <= s->nslots);
	for (uint32 j = 0; j < s->nslots; j++)
	{
		if (s->slots[j] >= 0)
		{
			Assert((uint32) s->slots[j] < s->count);
			used++;
		}
	}
	Assert(used == s->count);
#endif
}
