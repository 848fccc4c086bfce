/*
 * module.c
 *		The module's entry point: the magic block and _PG_init.  This is the
 *		one file that knows every capability: it defines their settings and
 *		hooks and connects the few that are joined at load time (keys give
 *		the audit log its digest signer; masking gives keys its "key in
 *		use" check; erasure gives versioning its redaction check), so that no capability folder includes one that
 *		depends on it.  See doc/architecture.md.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "bias/bias.h"
#include "core/core.h"
#include "erasure/erasure.h"
#include "keys/keys.h"
#include "lineage/lineage.h"
#include "masking/masking.h"
#include "scaleout/scaleout.h"
#include "versioning/versioning.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Define settings and hooks; everything else is created lazily, per backend. */
void
_PG_init(void)
{
	aisec_keys_init();
	aisec_masking_init();
	aisec_checkout_scan_init();
	aisec_lineage_init();
	aisec_erasure_init();
	aisec_scaleout_init();
	aisec_aggscan_init();
	aisec_fairness_scan_init();
	aisec_contingency_scan_init();
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("aisec");
#else
	EmitWarningsOnPlaceholders("aisec");
#endif
}
