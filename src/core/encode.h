/*
 * encode.h
 *		Canonical binary encodings that aisec hashes: the audit chain
 *		(audit/audit.c) and commit hashes (versioning/commit.c).  Documented
 *		byte for byte in doc/audit.md and doc/versioning.md so outside tools
 *		can recompute them.
 */
#ifndef AISEC_ENCODE_H
#define AISEC_ENCODE_H

#include "postgres.h"

#include "lib/stringinfo.h"

extern void encode_field(StringInfo buf, const char *data, size_t len);
extern void encode_int64(StringInfo buf, int64 v);

#endif							/* AISEC_ENCODE_H */
