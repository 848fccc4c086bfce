/*
 * lineage.h
 *		The door of src/lineage/: row lineage (doc/lineage.md).  Today only
 *		the module's load-time call passes through it; erasure will follow
 *		derived rows through it.
 */
#ifndef AISEC_LINEAGE_H
#define AISEC_LINEAGE_H

#include "postgres.h"

/* Define aisec.lineage and aisec.transform; register with versioning. */
extern void aisec_lineage_init(void);

#endif							/* AISEC_LINEAGE_H */
