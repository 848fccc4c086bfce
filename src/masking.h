/*
 * masking.h
 *		Masking rules (masking_rules.c): what other aisec files need to know
 *		about them.
 */
#ifndef AISEC_MASKING_H
#define AISEC_MASKING_H

#include "postgres.h"

/* Name "table.column" of a masking rule that uses key name, or NULL. */
extern char *aisec_mask_rule_using_key(const char *name);

#endif							/* AISEC_MASKING_H */
