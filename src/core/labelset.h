/*
 * labelset.h
 *		Interning of text labels (categories) into dense indexes 0..n-1, for
 *		the contingency and category-count aggregates.
 */
#ifndef AISEC_LABELSET_H
#define AISEC_LABELSET_H

#include "postgres.h"

/* At most this many distinct labels per set (one side of a table). */
#define LABELSET_MAX_LABELS		1000000
/* At most this many bytes of distinct labels per set. */
#define LABELSET_MAX_BYTES		((Size) 256 * 1024 * 1024)

typedef struct LabelSet
{
	MemoryContext cxt;			/* where everything below lives */
	uint32		count;			/* labels interned */
	uint32		capacity;		/* room in data/lens/hashes */
	uint32		nslots;			/* hash slots, a power of two */
	int32	   *slots;			/* -1 empty, else a label index */
	char	  **data;			/* label bytes (not NUL-terminated) */
	uint32	   *lens;			/* label lengths */
	uint32	   *hashes;			/* label hashes */
	char	   *arena;			/* current block for label bytes */
	Size		arena_left;		/* free bytes in it */
	Size		total_bytes;	/* bytes of all labels */
} LabelSet;

extern void labelset_init(LabelSet *s, MemoryContext cxt);
extern uint32 labelset_intern(LabelSet *s, const char *data, uint32 len,
							  bool *added);
extern uint32 *labelset_sorted_order(const LabelSet *s);
extern void labelset_check(const LabelSet *s);

#endif							/* AISEC_LABELSET_H */
