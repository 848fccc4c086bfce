/*
 * masking_rules.c
 *		Masking rules per column (work in progress).
 */
#include "postgres.h"

#include "aisec.h"
#include "masking.h"

/* Name "table.column" of a masking rule that uses key name, or NULL. */
char *
aisec_mask_rule_using_key(const char *name)
{
	return NULL;
}

/* Allow keyed masks to aisec_admin, aisec_engineer and masked roles. */
void
aisec_require_keyed_use(const char *function_name)
{
	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER, function_name);
}
