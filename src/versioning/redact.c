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
 *
 * aisec.manifest() reports per table how many rows of a version are
 * redacted (version_redacted_rows): counted, never hashed, since a
 * committed version's fingerprint and commit hash never change.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/guc.h"
#include "utils/hsearch.h"

#include "history.h"
#include "version.h"

/* What erasure registered: the row ids it redacted, per table. */
static AisecErasedRids erased_rids = NULL;

/* Register erasure's list of redacted row ids (at load time). */
void
aisec_versioning_set_erased_rids(AisecErasedRids erased)
{
	erased_rids = erased;
}

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

/* An Int8 array Datum of n row ids. */
static Datum
RidArray(const int64 *rids, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		elems[i] = Int64GetDatum(rids[i]);
	return PointerGetDatum(construct_array(elems, n, INT8OID, sizeof(int64),
										   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * The rows of committed version v of tracked table tt whose history
 * records are redacted: those checkout leaves out, so the version's row
 * count less this is what checkout returns.  Only the row ids a recorded
 * erasure redacted are looked at (erasure's list); a record blanked behind
 * aisec's back is aisec.verify()'s to report.  Their redacted records that
 * began by v are found by index probes of the history; those that ended
 * by v are taken off, found in one pass over the ended records (filtered
 * by a hashed row id list; no join, so no plan can rescan them per
 * record).  With no such row ids nothing is read.  Runs inside the
 * caller's SPI connection, as the extension owner.
 */
int64
version_redacted_rows(const TrackedTable *tt, int64 v, Snapshot snap)
{
	Oid			types[2] = {INT8ARRAYOID, INT8OID};
	Datum		values[2];
	int64	   *rids;
	int			n = 0;
	int64		count;
	HASHCTL		ctl;
	HTAB	   *records;

	rids = erased_rids != NULL ? erased_rids(tt->table_no, snap, &n) : NULL;
	if (n == 0)
		return 0;
	values[0] = RidArray(rids, n);
	values[1] = Int64GetDatum(v);

	/*
	 * The redacted records that began by v; data IS NULL is the redacted
	 * record (a row image is never all NULL: its aisec_rid is set).
	 */
	count = aisec_spi_run(psprintf("SELECT rid, valid_from FROM %s"
								   " WHERE rid OPERATOR(pg_catalog.=) ANY ($1)"
								   " AND data IS NULL AND valid_from <= $2",
								   aisec_qualified_name(tt->history)),
						  true, 2, types, values, NULL, snap);
	if (count == 0)
		return 0;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(int64) * 2;
	ctl.entrysize = sizeof(int64) * 2;
	ctl.hcxt = CurrentMemoryContext;
	records = hash_create("aisec redacted records", (long) count, &ctl,
						  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	rids = palloc(sizeof(int64) * count);
	n = 0;
	for (int64 i = 0; i < count; i++)
	{
		bool		isnull;
		int64		key[2];

		key[0] = DatumGetInt64(aisec_spi_value(i, 0, &isnull));
		key[1] = DatumGetInt64(aisec_spi_value(i, 1, &isnull));
		(void) hash_search(records, key, HASH_ENTER, NULL);
		if (n == 0 || rids[n - 1] != key[0])
			rids[n++] = key[0];	/* their row ids (a repeat does no harm) */
	}

	/* Less those that ended by v: they are not in it. */
	values[0] = RidArray(rids, n);
	n = aisec_spi_run(psprintf("SELECT rid, valid_from FROM %s"
							   " WHERE rid OPERATOR(pg_catalog.=) ANY ($1) AND valid_to <= $2",
							   aisec_qualified_name(tt->ended)),
					  true, 2, types, values, NULL, snap);
	for (int i = 0; i < n; i++)
	{
		bool		isnull;
		int64		key[2];

		key[0] = DatumGetInt64(aisec_spi_value(i, 0, &isnull));
		key[1] = DatumGetInt64(aisec_spi_value(i, 1, &isnull));
		if (hash_search(records, key, HASH_FIND, NULL) != NULL)
			count--;
	}
	hash_destroy(records);
	return count;
}
