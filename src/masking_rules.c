/*
 * masking_rules.c
 *		Masking rules per column (work in progress).
 */
#include "postgres.h"

#include "masking.h"

/* Name "table.column" of a masking rule that uses key name, or NULL. */
char *
aisec_mask_rule_using_key(const char *name)
{
	return NULL;
}
