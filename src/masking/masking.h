/*
 * masking.h
 *		Masking rules (masking_rules.c): what other aisec files need to know
 *		about them.
 */
#ifndef AISEC_MASKING_H
#define AISEC_MASKING_H

#include "postgres.h"

#include "access/attnum.h"
#include "utils/array.h"

/* Name "table.column" of a masking rule that uses key name, or NULL. */
extern void aisec_masking_init(void);

/*
 * Raise insufficient_privilege unless the current user may use keyed masks
 * (pseudonymize, ff1_encrypt, sticky_noise): aisec_admin, aisec_engineer,
 * or a role registered with aisec.mask_role().
 */
extern void aisec_require_keyed_use(const char *function_name);

/* mask.c: canonical name of a generalize() time unit, or NULL. */
extern const char *aisec_time_unit(const char *unit, bool for_date);

/* anonymity.c: catalog-checked, quoted names for building queries. */
extern char *aisec_qualified_relname(Oid relid);
extern AttrNumber aisec_column_attnum(Oid relid, const char *colname);
extern char *aisec_quasi_identifier_list(Oid relid, ArrayType *qis);

#endif							/* AISEC_MASKING_H */
