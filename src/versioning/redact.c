/*
 * redact.c
 *		Redaction of history records, for erasure (doc/erasure.md): the
 *		one change history records of committed versions ever undergo.
 *
 * A redacted record keeps rid, valid_from and hash; data and salt become
 * NULL.  Every fingerprint and commit hash still verifies, since they sum
 * and chain the stored hashes, never the data; aisec.verify counts such a
 * record only where the redaction check erasure registered authorizes it
 * (verify.c), and checkout, diff and revert leave it out.  The update runs
 * as the extension owner through SPI, which the history tables' refusal
 * trigger lets through (aisec_spi_owner_writing); it is a plain MVCC update,
 * so it is WAL-logged, replicated and undone by a rollback, and the old
 * tuple's bytes stay in the heap until VACUUM removes them.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/guc.h"

#include "history.h"

/*
 * Redact every history record of the row ids rids (an int8[] Datum) of the
 * tracked table tt: data and salt set to NULL, hash kept.  Records already
 * redacted are left alone.  Returns how many records were redacted.  The
 * caller holds a lock on the table that keeps writers out.
 */
int64
aisec_history_redact(const TrackedTable *tt, Datum rids)
{
	AisecSpi	spi;
	Oid			argtype = INT8ARRAYOID;
	char	   *sql;
	int64		n;

	sql = psprintf("UPDATE %s SET data = NULL, salt = NULL "
				   "WHERE rid OPERATOR(pg_catalog.=) ANY ($1) "
				   "AND (data IS NOT NULL OR salt IS NOT NULL)",
				   aisec_qualified_name(tt->history));
	aisec_spi_begin(&spi);
	(void) set_config_option("row_security", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	n = aisec_spi_run(sql, true, 1, &argtype, &rids, NULL, NULL);
	aisec_spi_end(&spi);
	return n;
}
