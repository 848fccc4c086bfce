/*
 * aisec.c
 *		Module entry point: the magic block and _PG_init, which defines
 *		aisec's settings, reserves the "aisec." prefix and installs the
 *		planner hook of aisec.checkout() (checkout_scan.c).
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "aisec.h"
#include "history.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Define settings and hooks; everything else is created lazily, per backend. */
void
_PG_init(void)
{
	aisec_keys_init();
	aisec_checkout_scan_init();
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("aisec");
#else
	EmitWarningsOnPlaceholders("aisec");
#endif
}
