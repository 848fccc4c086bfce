/*
 * verify.c
 *		aisec.verify(): recompute every version of a dataset from its
 *		history and compare with what was committed.
 *
 * For each table and version, the row count and fingerprint are recomputed
 * from the stored salts and rows (a redacted record contributes its stored
 * hash) in one scan of the history; for each version, the commit hash is
 * recomputed from the stored records and its parent's stored hash.  A
 * mismatch is reported as a row with ok = false, never as an error, so
 * that verify names everything that differs.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "version.h"

/*
 * Recompute one table's fingerprint and row count at every version 1..head
 * from its history, in one scan: each row version adds its hash at
 * valid_from and subtracts it at valid_to, looked up in a hash of the
 * table's ended records (difference arrays, then prefix
 * sums).  The hash is recomputed from the stored salt and row; a redacted
 * row version (no salt, no row) contributes its stored hash.
 */
static void
RecomputeTable(const TrackedTable *tt, int64 head, Fingerprint *fps, int64 *rows,
			   Snapshot snap)
{
	Relation	rel = table_open(tt->relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	Relation	hrel = table_open(tt->history, AccessShareLock);
	TableScanDesc scan = table_beginscan(hrel, snap, 0, NULL);
	TupleTableSlot *slot = table_slot_create(hrel, NULL);
	RowEncoder *enc = history_encoder(desc);
	EndedMap   *ended = history_ended_map(tt, 0, snap);
	Fingerprint *add = palloc0(sizeof(Fingerprint) * (head + 2));
	Fingerprint *sub = palloc0(sizeof(Fingerprint) * (head + 2));
	int64	   *dn = palloc0(sizeof(int64) * (head + 2));
	Datum	   *values = palloc(sizeof(Datum) * Max(desc->natts, 1));
	bool	   *nulls = palloc(sizeof(bool) * Max(desc->natts, 1));
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext, "aisec verify row",
												 ALLOCSET_DEFAULT_SIZES);
	Fingerprint acc = {{0}};
	int64		n = 0;

	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		MemoryContext old;
		bool		isnull;
		bool		to_null;
		bool		data_null;
		bool		salt_null;
		int64		from;
		int64		to;
		Datum		data;
		Datum		salt;
		uint8		hash[SHA256_LEN];

		CHECK_FOR_INTERRUPTS();
		from = DatumGetInt64(slot_getattr(slot, HC_VALID_FROM + 1, &isnull));
		to = history_ended_at(ended, DatumGetInt64(slot_getattr(slot, HC_RID + 1, &isnull)),
							  from);
		to_null = (to == 0);
		if (from > head || from < 1 || (!to_null && to <= from))
			continue;			/* pending, or never in a version */
		old = MemoryContextSwitchTo(rowcxt);
		data = slot_getattr(slot, HC_DATA + 1, &data_null);
		salt = slot_getattr(slot, HC_SALT + 1, &salt_null);
		if (data_null || salt_null)
		{
			Datum		h = slot_getattr(slot, HC_HASH + 1, &isnull);

			memset(hash, 0, SHA256_LEN);
			if (!isnull && VARSIZE_ANY_EXHDR(DatumGetByteaPP(h)) == SHA256_LEN)
				memcpy(hash, VARDATA_ANY(DatumGetByteaPP(h)), SHA256_LEN);
		}
		else
		{
			HeapTupleHeader hdr = DatumGetHeapTupleHeader(data);
			HeapTupleData row;
			bytea	   *s = DatumGetByteaPP(salt);
			uint8		saltbuf[ROW_SALT_LEN] = {0};

			row.t_len = HeapTupleHeaderGetDatumLength(hdr);
			ItemPointerSetInvalid(&row.t_self);
			row.t_tableOid = InvalidOid;
			row.t_data = hdr;
			heap_deform_tuple(&row, desc, values, nulls);
			memcpy(saltbuf, VARDATA_ANY(s), Min(VARSIZE_ANY_EXHDR(s), ROW_SALT_LEN));
			history_row_hash(enc, values, nulls, saltbuf, hash);
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);

		fingerprint_add(&add[from], hash);
		dn[from]++;
		if (!to_null && to <= head)
		{
			fingerprint_add(&sub[to], hash);
			dn[to]--;
		}
	}
	for (int64 v = 1; v <= head; v++)
	{
		fingerprint_add(&acc, add[v].b);
		fingerprint_sub(&acc, sub[v].b);
		n += dn[v];
		fps[v] = acc;
		rows[v] = n;
	}
	MemoryContextDelete(rowcxt);
	history_ended_map_free(ended);
	history_encoder_done(enc);
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	table_close(hrel, AccessShareLock);
	table_close(rel, AccessShareLock);
	pfree(add);
	pfree(sub);
	pfree(dn);
}

/* Emit one verify row. */
static void
VerifyRow(Tuplestorestate *ts, TupleDesc desc, int64 version, Oid relid,
		  bool ok, const char *expected, const char *actual)
{
	Datum		v[5];
	bool		n[5] = {0};

	v[0] = Int64GetDatum(version);
	v[1] = ObjectIdGetDatum(relid);
	n[1] = !OidIsValid(relid);
	v[2] = BoolGetDatum(ok);
	v[3] = CStringGetTextDatum(expected);
	v[4] = CStringGetTextDatum(actual);
	tuplestore_putvalues(ts, desc, v, n);
}

/* "rows=N fingerprint=hex", as verify reports a table's state. */
static char *
TableState(int64 rows, const Fingerprint *fp)
{
	return psprintf("rows=" INT64_FORMAT " fingerprint=%s", rows, version_hex(fp->b, SHA256_LEN));
}

/* SQL: aisec.verify(dataset, version) recomputes fingerprints and hashes. */
PG_FUNCTION_INFO_V1(aisec_verify);
Datum
aisec_verify(PG_FUNCTION_ARGS)
{
	char	   *name;
	Snapshot	snap = GetActiveSnapshot();
	AisecSpi	spi;
	Dataset		ds;
	TrackedTable *tables;
	int			ntables;
	int64		only = 0;
	Fingerprint **fps;
	int64	  **rows;
	Tuplestorestate *ts;
	TupleDesc	desc;
	uint8		prev_stored[SHA256_LEN] = {0};

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER | AISEC_ROLE_DPO |
					   AISEC_ROLE_AUDITOR, "aisec.verify()");
	name = version_dataset_name(fcinfo, 0);

	aisec_spi_begin(&spi);
	ds = version_load_dataset(name, snap);
	if (!PG_ARGISNULL(1))
	{
		only = PG_GETARG_INT64(1);
		version_check(&ds, only, false);
	}
	tables = version_dataset_tables(ds.id, &ntables, snap);
	fps = palloc(sizeof(Fingerprint *) * Max(ntables, 1));
	rows = palloc(sizeof(int64 *) * Max(ntables, 1));
	for (int i = 0; i < ntables; i++)
	{
		fps[i] = palloc0(sizeof(Fingerprint) * (ds.head + 1));
		rows[i] = palloc0(sizeof(int64) * (ds.head + 1));
		RecomputeTable(&tables[i], ds.head, fps[i], rows[i], snap);
	}

	ts = aisec_begin_srf(fcinfo, &desc);
	for (int64 v = 1; v <= ds.head; v++)
	{
		Oid			types[2] = {INT4OID, INT8OID};
		Datum		values[2] = {Int32GetDatum(ds.id), Int64GetDatum(v)};
		VersionTable *vts = palloc0(sizeof(VersionTable) * Max(ntables, 1));
		int			nvt;
		bool		isnull;
		int64		parent;
		TimestampTz at;
		char	   *by;
		char	   *message;
		Datum		msgdatum;
		int64		vrows;
		Fingerprint vfp;
		Fingerprint sum = {{0}};
		int64		sumrows = 0;
		uint8		stored_hash[SHA256_LEN];
		uint8		hash[SHA256_LEN];

		/* What was committed for each table (in table_no order). */
		nvt = aisec_spi_run("SELECT table_no, table_name, rows, fingerprint, columns::text "
							"FROM aisec.version_table WHERE dataset_id = $1 AND version = $2 "
							"ORDER BY table_no",
							true, 2, types, values, NULL, snap);
		if (nvt > ntables)
			nvt = ntables;
		for (int i = 0; i < nvt; i++)
		{
			vts[i].table_no = DatumGetInt32(aisec_spi_value(i, 0, &isnull));
			vts[i].name = TextDatumGetCString(aisec_spi_value(i, 1, &isnull));
			vts[i].rows = DatumGetInt64(aisec_spi_value(i, 2, &isnull));
			version_read_hash(aisec_spi_value(i, 3, &isnull), vts[i].fp.b,
							  "version_table", "fingerprint");
			vts[i].columns = TextDatumGetCString(aisec_spi_value(i, 4, &isnull));
			fingerprint_add(&sum, vts[i].fp.b);
			sumrows += vts[i].rows;
		}

		for (int i = 0; i < ntables; i++)
		{
			VersionTable *vt = NULL;
			bool		ok;

			for (int j = 0; j < nvt; j++)
				if (vts[j].table_no == tables[i].table_no)
					vt = &vts[j];
			ok = vt != NULL && vt->rows == rows[i][v] &&
				memcmp(vt->fp.b, fps[i][v].b, SHA256_LEN) == 0;
			if (only == 0 || only == v)
				VerifyRow(ts, desc, v, tables[i].relid, ok,
						  vt ? TableState(vt->rows, &vt->fp) : "(no record)",
						  TableState(rows[i][v], &fps[i][v]));
		}

		/* The commit: recompute its hash from what is stored. */
		if (aisec_spi_run("SELECT parent, committed_at, committed_by, message, rows, "
						  "fingerprint, commit_hash FROM aisec.version "
						  "WHERE dataset_id = $1 AND version = $2",
						  true, 2, types, values, NULL, snap) != 1)
		{
			if (only == 0 || only == v)
				VerifyRow(ts, desc, v, InvalidOid, false, "a commit record", "(missing)");
			memset(prev_stored, 0, SHA256_LEN);
			continue;
		}
		parent = DatumGetInt64(aisec_spi_value(0, 0, &isnull));
		if (isnull)
			parent = 0;
		at = DatumGetTimestampTz(aisec_spi_value(0, 1, &isnull));
		by = TextDatumGetCString(aisec_spi_value(0, 2, &isnull));
		msgdatum = aisec_spi_value(0, 3, &isnull);
		message = isnull ? NULL : TextDatumGetCString(msgdatum);
		vrows = DatumGetInt64(aisec_spi_value(0, 4, &isnull));
		version_read_hash(aisec_spi_value(0, 5, &isnull), vfp.b, "version", "fingerprint");
		version_read_hash(aisec_spi_value(0, 6, &isnull), stored_hash, "version", "commit_hash");

		version_commit_hash(prev_stored, ds.name, v, parent, at, by, message, vts, nvt, hash);
		if (only == 0 || only == v)
		{
			bool		ok = memcmp(hash, stored_hash, SHA256_LEN) == 0 &&
				parent == v - 1 && vrows == sumrows &&
				memcmp(vfp.b, sum.b, SHA256_LEN) == 0;

			VerifyRow(ts, desc, v, InvalidOid, ok,
					  psprintf("commit_hash=%s", version_hex(stored_hash, SHA256_LEN)),
					  psprintf("commit_hash=%s", version_hex(hash, SHA256_LEN)));
		}
		memcpy(prev_stored, stored_hash, SHA256_LEN);
	}
	aisec_spi_end(&spi);
	return (Datum) 0;
}
