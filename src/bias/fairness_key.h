/*
 * fairness_key.h
 *		Group keys of the fairness aggregates' hash index (fairness.c):
 *		short group names compared and hashed as machine words, inlined
 *		into the per-row lookup.  Private to src/bias/.
 */
#ifndef AISEC_FAIRNESS_KEY_H
#define AISEC_FAIRNESS_KEY_H

#include "postgres.h"

#include "common/hashfn.h"

#define FAIR_NULL_GROUP_HASH	0x5bd1e995

/*
 * A group name as two machine words and a length, so that the per-row
 * lookup compares and hashes short names (up to 16 bytes, the usual case)
 * without a call: w0 holds the first 8 bytes and w1 the last 8 (they
 * overlap below 16 bytes; below 8 bytes the first and last 4, below 4 the
 * first, middle and last byte), which together with the length determine
 * a name of up to 16 bytes.  A longer name also compares its middle bytes.
 * len is -1 for the NULL group.  Only ever held in memory, never stored.
 */
typedef struct FairKey
{
	uint64		w0;
	uint64		w1;
	int32		len;
	uint32		hash;			/* HashKey's; set in the state's keys only */
} FairKey;

#define FAIR_KEY_WORDS_LEN	16

/* Read 8 or 4 bytes at any alignment (a single load where allowed). */
static inline uint64
Load64(const char *p)
{
	uint64		v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32
Load32(const char *p)
{
	uint32		v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The key of the group named (name, len, isnull); see FairKey. */
static inline FairKey
MakeKey(const char *name, int len, bool isnull)
{
	FairKey		k;

	k.len = isnull ? -1 : len;
	k.w0 = 0;
	k.w1 = 0;
	if (isnull || len == 0)
		return k;
	if (len >= 8)
	{
		k.w0 = Load64(name);
		k.w1 = Load64(name + len - 8);
	}
	else if (len >= 4)
		k.w0 = Load32(name) | ((uint64) Load32(name + len - 4) << 32);
	else
		k.w0 = (uint64) (uint8) name[0] | ((uint64) (uint8) name[len >> 1] << 8) |
			((uint64) (uint8) name[len - 1] << 16);
	return k;
}

/* Return true if key a (of name aname) and key b (of name bname) are equal. */
static inline bool
SameKey(const FairKey *a, const char *aname, const FairKey *b, const char *bname)
{
	if (a->w0 != b->w0 || a->w1 != b->w1 || a->len != b->len)
		return false;
	/* the words cover all but the middle bytes of a longer name */
	return a->len <= FAIR_KEY_WORDS_LEN ||
		memcmp(aname + 8, bname + 8, a->len - FAIR_KEY_WORDS_LEN) == 0;
}

/*
 * Hash a group's key; the NULL group has a fixed hash.  A short name is
 * mixed from its words (MurmurHash3's 64-bit finalizer); a longer one is
 * hashed whole, so names that differ only in their middle bytes still
 * spread over the table.
 */
static inline uint32
HashKey(const FairKey *k, const char *name)
{
	uint64		h;

	if (k->len < 0)
		return FAIR_NULL_GROUP_HASH;
	if (k->len > FAIR_KEY_WORDS_LEN)
		return hash_bytes((const unsigned char *) name, k->len);
	h = k->w0 * UINT64CONST(0x9E3779B97F4A7C15) ^
		(k->w1 + (uint64) k->len) * UINT64CONST(0xC2B2AE3D27D4EB4F);
	h ^= h >> 33;
	h *= UINT64CONST(0xFF51AFD7ED558CCD);
	h ^= h >> 33;
	return (uint32) h;
}

#endif							/* AISEC_FAIRNESS_KEY_H */
