/*
 * masking.h
 *		The door of src/masking/: what other aisec folders use of masking.
 *		Everything the folder's own files share is in masking_internal.h.
 */
#ifndef AISEC_MASKING_H
#define AISEC_MASKING_H

#include "postgres.h"

/*
 * _PG_init: tell keys how to ask whether a masking rule uses a key, and
 * versioning how to read versions masked.
 */
extern void aisec_masking_init(void);

#endif							/* AISEC_MASKING_H */
