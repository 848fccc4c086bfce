/*
 * aisec.c
 *		Module entry point: the magic block and _PG_init, which defines
 *		aisec's settings and reserves the "aisec." prefix.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "aisec.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Define settings; everything else is created lazily, per backend. */
void
_PG_init(void)
{
	aisec_keys_init();
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("aisec");
#else
	EmitWarningsOnPlaceholders("aisec");
#endif
}
