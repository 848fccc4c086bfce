/*
 * versioning.h
 *		The door of src/versioning/: tracked tables, row ids, row hashes and
 *		fingerprints, and reading committed versions, for the module's init
 *		and for the capabilities that build on row ids (lineage, erasure).
 *		The folder's own files share history.h.
 */
#ifndef AISEC_VERSIONING_H
#define AISEC_VERSIONING_H

#include "history.h"

#endif							/* AISEC_VERSIONING_H */
