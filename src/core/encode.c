/*
 * encode.c
 *		Length-prefixed, big-endian building blocks for the byte strings
 *		aisec hashes.  A field is a 32-bit big-endian byte length followed by
 *		the bytes, or the length 0xFFFFFFFF alone for NULL; integers are
 *		64-bit big-endian.  Nothing here may change without a new format
 *		version: stored hashes depend on it.
 */
#include "postgres.h"

#include "encode.h"

/* Append a big-endian 32-bit length (0xFFFFFFFF for NULL data), then the bytes. */
void
encode_field(StringInfo buf, const char *data, size_t len)
{
	uint32		n = data ? (uint32) len : 0xFFFFFFFFu;
	uint8		be[4] = {n >> 24, n >> 16, n >> 8, n};

	appendBinaryStringInfo(buf, (char *) be, 4);
	if (data)
		appendBinaryStringInfo(buf, data, len);
}

/* Append a big-endian 64-bit integer. */
void
encode_int64(StringInfo buf, int64 v)
{
	uint64		u = (uint64) v;
	uint8		be[8];

	for (int i = 7; i >= 0; i--)
	{
		be[i] = (uint8) (u & 0xFF);
		u >>= 8;
	}
	appendBinaryStringInfo(buf, (char *) be, 8);
}
