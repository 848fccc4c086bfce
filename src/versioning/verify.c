/*
 * verify.c
 *		aisec.verify(): recompute every version of a dataset from its
 *		history and compare with what was committed, and with what the
 *		audit log recorded when it was committed.
 *
 * For each table and version, the row count and fingerprint are recomputed
 * from the stored salts and rows in one scan of the history; for each
 * version, the commit hash is recomputed from the stored records (every
 * aisec.version_table row of the version) and its parent's stored hash.
 * A history record counts as checkout shows it (valid_from below 1 as 1);
 * a record without salt or row counts only where a recorded erasure
 * authorizes it (AisecRedactionCheck; none is registered yet, so such a
 * record never counts and is reported).  Every record is also checked on
 * its own: valid_from in 1..pending, a 16-byte salt, a 32-byte hash equal
 * to the recomputed one, its rid equal to its row's aisec_rid; and every
 * ended record must end a history record, after it began, by the pending
 * version.  Then the versioning catalog is checked against the audit log,
 * whose chain is verified on the way: each version.commit entry of the
 * dataset must name a version with its commit hash and each version one
 * entry; each version.tag entry not undone by a version.untag entry a
 * tag, and each tag one entry.  A table removed from the dataset is
 * checked in the versions that include it.  A mismatch
 * is reported as a row with ok = false, never as an error, so that verify
 * names everything that differs (also a tag naming a version that has no
 * commit record, and any record of aisec's catalog naming a dataset that
 * does not exist: these tables have no foreign keys); record problems are
 * counted per table and kind, naming the first record by row id (never its
 * data).
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
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "audit/audit.h"
#include "version.h"

/* Erasure's check of redacted records (none until erasure registers it). */
static AisecRedactionCheck redaction_check = NULL;

/* Register the check of redacted history records (erasure, at load). */
void
aisec_versioning_set_redaction_check(AisecRedactionCheck check)
{
	redaction_check = check;
}

/* What can be wrong with a history record on its own. */
typedef enum RecordProblem
{
	RP_BEFORE_FIRST,			/* valid_from < 1 */
	RP_AFTER_PENDING,			/* valid_from > the pending version */
	RP_REDACTED,				/* no salt or no row, no recorded erasure */
	RP_BAD_SALT,				/* salt not 16 bytes */
	RP_BAD_HASH,				/* hash missing or not 32 bytes */
	RP_HASH_MISMATCH,			/* hash != SHA-256(salt || row) */
	RP_RID_MISMATCH,			/* rid != the row's aisec_rid */
	RP_NKINDS
} RecordProblem;

/* How often a problem was found in a table, and its first record. */
typedef struct ProblemCount
{
	int64		count;
	int64		rid;
	int64		valid_from;
} ProblemCount;

/* Note a record problem. */
static void
NoteRecord(ProblemCount *p, RecordProblem kind, int64 rid, int64 valid_from)
{
	if (p[kind].count++ == 0)
	{
		p[kind].rid = rid;
		p[kind].valid_from = valid_from;
	}
}

/*
 * Recompute one table's fingerprint and row count at every version 1..head
 * from its history, in one scan: each row version adds its hash at
 * valid_from and subtracts it at valid_to, looked up in a hash of the
 * table's ended records (difference arrays, then prefix sums).  The hash
 * is recomputed from the stored salt and row.  A record counts as checkout
 * shows it: from version 1 if its valid_from is below 1; a record without
 * row or salt counts (with its stored hash) only where a recorded erasure
 * authorizes it.  Problems of single records are counted in problems.
 */
static void
RecomputeTable(const TrackedTable *tt, int64 head, int64 pending, Fingerprint *fps,
			   int64 *rows, ProblemCount *problems, Snapshot snap)
{
	Relation	rel = table_open(tt->relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	AttrNumber	ridatt = history_rid_attnum(rel);
	Relation	hrel = table_open(tt->history, AccessShareLock);
	TableScanDesc scan = table_beginscan(hrel, snap, 0, NULL);
	TupleTableSlot *slot = table_slot_create(hrel, NULL);
	RowEncoder *enc = history_encoder(desc, history_hash_numbers(tt->table_no, desc));
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
		bool		data_null;
		bool		salt_null;
		bool		hash_null;
		bool		counts = true;
		int64		rid;
		int64		from;
		int64		to;
		Datum		data;
		Datum		salt;
		Datum		stored;
		uint8		hash[SHA256_LEN];
		uint8		stored_hash[SHA256_LEN] = {0};
		bool		stored_ok;

		CHECK_FOR_INTERRUPTS();
		rid = DatumGetInt64(slot_getattr(slot, HC_RID + 1, &isnull));
		from = DatumGetInt64(slot_getattr(slot, HC_VALID_FROM + 1, &isnull));
		to = history_ended_at(ended, rid, from);
		if (from < 1)
			NoteRecord(problems, RP_BEFORE_FIRST, rid, from);
		else if (from > pending)
		{
			NoteRecord(problems, RP_AFTER_PENDING, rid, from);
			continue;			/* in no version, not even the pending one */
		}

		old = MemoryContextSwitchTo(rowcxt);
		data = slot_getattr(slot, HC_DATA + 1, &data_null);
		salt = slot_getattr(slot, HC_SALT + 1, &salt_null);
		stored = slot_getattr(slot, HC_HASH + 1, &hash_null);
		stored_ok = !hash_null && VARSIZE_ANY_EXHDR(DatumGetByteaPP(stored)) == SHA256_LEN;
		if (stored_ok)
			memcpy(stored_hash, VARDATA_ANY(DatumGetByteaPP(stored)), SHA256_LEN);
		else
			NoteRecord(problems, RP_BAD_HASH, rid, from);
		if (data_null || salt_null)
		{
			/* Redacted: only a recorded erasure makes it count. */
			memcpy(hash, stored_hash, SHA256_LEN);
			if (redaction_check == NULL || !stored_ok ||
				!redaction_check(tt->table_no, rid, from))
			{
				NoteRecord(problems, RP_REDACTED, rid, from);
				counts = false;
			}
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
			if (VARSIZE_ANY_EXHDR(s) != ROW_SALT_LEN)
				NoteRecord(problems, RP_BAD_SALT, rid, from);
			memcpy(saltbuf, VARDATA_ANY(s), Min(VARSIZE_ANY_EXHDR(s), ROW_SALT_LEN));
			history_row_hash(enc, values, nulls, saltbuf, hash);
			if (stored_ok && memcmp(hash, stored_hash, SHA256_LEN) != 0)
				NoteRecord(problems, RP_HASH_MISMATCH, rid, from);
			if (nulls[ridatt - 1] || DatumGetInt64(values[ridatt - 1]) != rid)
				NoteRecord(problems, RP_RID_MISMATCH, rid, from);
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);

		/* Counted where checkout shows it: from version 1 at the earliest. */
		from = Max(from, 1);
		if (!counts || from > head || (to != 0 && to <= from))
			continue;			/* pending, or never in a version */
		fingerprint_add(&add[from], hash);
		dn[from]++;
		if (to != 0 && to <= head)
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
	n[0] = version < 1;			/* damage not tied to one version */
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

/* One version.commit or version.tag entry of the dataset, as the log has it. */
typedef struct AuditVersion
{
	int64		seq;
	int64		version;
	char	   *text;			/* commit hash (hex) or tag */
	bool		matched;
} AuditVersion;

/* What the audit log says about one dataset (AuditVisit's argument). */
typedef struct AuditView
{
	MemoryContext cxt;
	int32		dataset_id;
	bool		created;		/* its version.create_dataset entry was seen */
	List	   *commits;		/* AuditVersion *, in seq order */
	List	   *tags;
} AuditView;

/* The text of a jsonb object's key, or NULL. */
static char *
DetailText(Jsonb *detail, const char *key)
{
	JsonbValue	buf;
	JsonbValue *v = getKeyJsonValueFromContainer(&detail->root, key, strlen(key), &buf);

	if (v == NULL)
		return NULL;
	if (v->type == jbvString)
		return pnstrdup(v->val.string.val, v->val.string.len);
	if (v->type == jbvNumeric)
		return DatumGetCString(DirectFunctionCall1(numeric_out,
												   NumericGetDatum(v->val.numeric)));
	return NULL;
}

/* A whole number from jsonb detail, or -1 if it is not one. */
static int64
DetailInt(Jsonb *detail, const char *key)
{
	char	   *t = DetailText(detail, key);
	char	   *end;
	long long	n;

	if (t == NULL || *t < '0' || *t > '9')
		return -1;
	errno = 0;
	n = strtoll(t, &end, 10);
	return (errno != 0 || *end != '\0') ? -1 : (int64) n;
}

/*
 * Audit visitor: collect the dataset's version.commit and version.tag
 * entries written since its version.create_dataset entry (by dataset id,
 * so a dataset that once had the same name does not count).
 */
static void
AuditVisit(int64 seq, const char *action, Jsonb *detail, void *arg)
{
	AuditView  *av = (AuditView *) arg;
	MemoryContext old;
	AuditVersion *e;

	if (strcmp(action, "version.create_dataset") == 0)
	{
		if (DetailInt(detail, "dataset_id") == av->dataset_id)
		{
			av->created = true;
			av->commits = NIL;
			av->tags = NIL;
		}
		return;
	}
	if (av->created && strcmp(action, "version.untag") == 0)
	{
		char	   *tag = DetailText(detail, "tag");
		AuditVersion *last = NULL;
		ListCell   *lc;

		/* The tag it removed (the latest of that name) is no longer there. */
		foreach(lc, av->tags)
			if (tag != NULL && strcmp(((AuditVersion *) lfirst(lc))->text, tag) == 0)
				last = (AuditVersion *) lfirst(lc);
		if (last != NULL)
			av->tags = list_delete_ptr(av->tags, last);
		return;
	}
	if (!av->created ||
		(strcmp(action, "version.commit") != 0 && strcmp(action, "version.tag") != 0))
		return;
	old = MemoryContextSwitchTo(av->cxt);
	e = palloc0(sizeof(AuditVersion));
	e->seq = seq;
	e->version = DetailInt(detail, "version");
	if (strcmp(action, "version.commit") == 0)
	{
		e->text = DetailText(detail, "commit_hash");
		av->commits = lappend(av->commits, e);
	}
	else
	{
		e->text = DetailText(detail, "tag");
		av->tags = lappend(av->tags, e);
	}
	if (e->text == NULL)
		e->text = pstrdup("");
	MemoryContextSwitchTo(old);
}

/* Order audit entries by their text (tag), then by seq. */
static int
CompareAuditText(const void *a, const void *b)
{
	const AuditVersion *x = *(AuditVersion *const *) a;
	const AuditVersion *y = *(AuditVersion *const *) b;
	int			c = strcmp(x->text, y->text);

	return c != 0 ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/*
 * The first entry not yet matched among those whose text is text, in an
 * array sorted by CompareAuditText, or NULL.
 */
static AuditVersion *
FindAuditText(AuditVersion **sorted, int n, const char *text)
{
	int			lo = 0;
	int			hi = n;

	while (lo < hi)				/* the first entry whose text is >= text */
	{
		int			mid = lo + (hi - lo) / 2;

		if (strcmp(sorted[mid]->text, text) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < n && strcmp(sorted[lo]->text, text) == 0; lo++)
		if (!sorted[lo]->matched)
			return sorted[lo];
	return NULL;
}

/*
 * The tables whose history the dataset's versions hold, in table_no order
 * (palloc'd), and for each the last version that includes it (*upto): the
 * head for the dataset's tables, and for a table removed from it (in no
 * dataset now, aisec.remove_table) the last version that recorded it.
 */
static TrackedTable *
VerifiedTables(const Dataset *ds, int *ntables, int64 **upto, Snapshot snap)
{
	Oid			types[2] = {INT4OID, INT8OID};
	Datum		values[2] = {Int32GetDatum(ds->id), Int64GetDatum(ds->head)};
	int			n = aisec_spi_run("SELECT t.table_no, CASE WHEN t.dataset_id = $1 THEN $2 ELSE "
								  " (SELECT LEAST(pg_catalog.max(v.version), $2)"
								  "  FROM aisec.version_table v"
								  "  WHERE v.dataset_id = $1 AND v.table_no = t.table_no) END "
								  "FROM aisec.tracked t WHERE t.dataset_id = $1 "
								  "OR (t.dataset_id IS NULL AND EXISTS (SELECT FROM aisec.version_table v "
								  "    WHERE v.dataset_id = $1 AND v.table_no = t.table_no)) "
								  "ORDER BY t.table_no",
								  true, 2, types, values, NULL, snap);
	TrackedTable *tables = palloc0(sizeof(TrackedTable) * Max(n, 1));
	int32	   *nos = palloc(sizeof(int32) * Max(n, 1));
	int			found = 0;
	bool		isnull;

	*upto = palloc(sizeof(int64) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		nos[i] = DatumGetInt32(aisec_spi_value(i, 0, &isnull));
		(*upto)[i] = DatumGetInt64(aisec_spi_value(i, 1, &isnull));
	}
	for (int i = 0; i < n; i++)
		if (history_lookup_no(nos[i], &tables[found]))
			(*upto)[found++] = (*upto)[i];
	*ntables = found;
	return tables;
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
	int64	   *pending;
	int64	   *upto;
	ProblemCount **problems;
	Tuplestorestate *ts;
	TupleDesc	desc;
	uint8		prev_stored[SHA256_LEN] = {0};
	AuditView	av;
	char	   *chain;
	AuditVersion **by_version;
	AuditVersion **tags_sorted;
	int			ntags;
	ListCell   *lc;
	Oid			dtypes[2] = {INT4OID, INT8OID};
	Datum		dvalues[2];
	int			n;
	bool		isnull;

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
	dvalues[0] = Int32GetDatum(ds.id);
	dvalues[1] = Int64GetDatum(ds.head);
	tables = VerifiedTables(&ds, &ntables, &upto, snap);
	fps = palloc(sizeof(Fingerprint *) * Max(ntables, 1));
	rows = palloc(sizeof(int64 *) * Max(ntables, 1));
	pending = palloc(sizeof(int64) * Max(ntables, 1));
	problems = palloc(sizeof(ProblemCount *) * Max(ntables, 1));
	for (int i = 0; i < ntables; i++)
	{
		Oid			types[1] = {INT4OID};
		Datum		values[1] = {Int32GetDatum(tables[i].table_no)};

		/* The pending version as this statement sees it (as the history). */
		pending[i] = upto[i] + 1;
		if (aisec_spi_run("SELECT pending_version FROM aisec.tracked WHERE table_no = $1",
						  true, 1, types, values, NULL, snap) == 1)
			pending[i] = DatumGetInt64(aisec_spi_value(0, 0, &isnull));
		fps[i] = palloc0(sizeof(Fingerprint) * (ds.head + 1));
		rows[i] = palloc0(sizeof(int64) * (ds.head + 1));
		problems[i] = palloc0(sizeof(ProblemCount) * RP_NKINDS);
		RecomputeTable(&tables[i], upto[i], pending[i], fps[i], rows[i], problems[i], snap);
	}

	/* What the audit log recorded, and whether its chain is intact. */
	memset(&av, 0, sizeof(av));
	av.cxt = CurrentMemoryContext;
	av.dataset_id = ds.id;
	chain = aisec_audit_walk(ds.name, "version.", AuditVisit, &av);
	by_version = palloc0(sizeof(AuditVersion *) * (ds.head + 1));
	foreach(lc, av.commits)
	{
		AuditVersion *e = (AuditVersion *) lfirst(lc);

		if (e->version >= 1 && e->version <= ds.head && by_version[e->version] == NULL)
			by_version[e->version] = e;
	}
	ntags = list_length(av.tags);
	tags_sorted = palloc(sizeof(AuditVersion *) * Max(ntags, 1));
	for (int i = 0; i < ntags; i++)
		tags_sorted[i] = (AuditVersion *) list_nth(av.tags, i);
	qsort(tags_sorted, ntags, sizeof(AuditVersion *), CompareAuditText);

	ts = aisec_begin_srf(fcinfo, &desc);
	for (int64 v = 1; v <= ds.head; v++)
	{
		Oid			types[2] = {INT4OID, INT8OID};
		Datum		values[2] = {Int32GetDatum(ds.id), Int64GetDatum(v)};
		VersionTable *vts;
		int			nvt;
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
		AuditVersion *entry = by_version[v];
		bool		show = (only == 0 || only == v);

		/*
		 * What was committed for each table (in table_no order): every row,
		 * so that one for a table outside the dataset changes the hash.
		 */
		nvt = aisec_spi_run("SELECT table_no, table_name, rows, fingerprint, columns::text "
							"FROM aisec.version_table WHERE dataset_id = $1 AND version = $2 "
							"ORDER BY table_no",
							true, 2, types, values, NULL, snap);
		vts = palloc0(sizeof(VersionTable) * Max(nvt, 1));
		for (int i = 0; i < nvt; i++)
		{
			bool		ours = false;

			vts[i].table_no = DatumGetInt32(aisec_spi_value(i, 0, &isnull));
			vts[i].name = TextDatumGetCString(aisec_spi_value(i, 1, &isnull));
			vts[i].rows = DatumGetInt64(aisec_spi_value(i, 2, &isnull));
			version_read_hash(aisec_spi_value(i, 3, &isnull), vts[i].fp.b,
							  "version_table", "fingerprint");
			vts[i].columns = TextDatumGetCString(aisec_spi_value(i, 4, &isnull));
			fingerprint_add(&sum, vts[i].fp.b);
			sumrows += vts[i].rows;
			for (int j = 0; j < ntables; j++)
				ours |= (tables[j].table_no == vts[i].table_no && v <= upto[j]);
			if (!ours || (i > 0 && vts[i].table_no == vts[i - 1].table_no))
				VerifyRow(ts, desc, v, InvalidOid, false,
						  "one version_table record per table of the dataset",
						  psprintf("a %s record of table_no %d (%s)",
								   ours ? "second" : "version_table",
								   vts[i].table_no, vts[i].name));
		}

		for (int i = 0; i < ntables; i++)
		{
			VersionTable *vt = NULL;
			bool		ok;

			if (v > upto[i])
				continue;		/* removed from the dataset before v */
			for (int j = 0; j < nvt; j++)
				if (vts[j].table_no == tables[i].table_no)
					vt = &vts[j];
			ok = vt != NULL && vt->rows == rows[i][v] &&
				memcmp(vt->fp.b, fps[i][v].b, SHA256_LEN) == 0;
			if (show)
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
			if (entry != NULL)
				entry->matched = true;
			if (show)
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
		if (show)
		{
			bool		ok = memcmp(hash, stored_hash, SHA256_LEN) == 0 &&
				parent == v - 1 && vrows == sumrows &&
				memcmp(vfp.b, sum.b, SHA256_LEN) == 0;

			VerifyRow(ts, desc, v, InvalidOid, ok,
					  psprintf("commit_hash=%s", version_hex(stored_hash, SHA256_LEN)),
					  psprintf("commit_hash=%s", version_hex(hash, SHA256_LEN)));
		}

		/* The audit log recorded the commit with the same hash. */
		if (entry != NULL)
			entry->matched = true;
		if (entry == NULL ||
			strcmp(entry->text, version_hex(stored_hash, SHA256_LEN)) != 0)
			VerifyRow(ts, desc, v, InvalidOid, false,
					  entry ? psprintf("version.commit entry %lld of the audit log: commit_hash=%s",
									   (long long) entry->seq, entry->text) :
					  "a version.commit entry in the audit log",
					  psprintf("commit_hash=%s in aisec.version%s",
							   version_hex(stored_hash, SHA256_LEN),
							   entry ? "" : ", and no audit entry"));
		memcpy(prev_stored, stored_hash, SHA256_LEN);
	}

	/* Committed versions the catalog has lost, or never had. */
	foreach(lc, av.commits)
	{
		AuditVersion *e = (AuditVersion *) lfirst(lc);

		if (e->matched)
			continue;
		VerifyRow(ts, desc, e->version, InvalidOid, false,
				  psprintf("version " INT64_FORMAT " (version.commit entry %lld of the audit log, commit_hash=%s)",
						   e->version, (long long) e->seq, e->text),
				  e->version >= 1 && e->version <= ds.head ?
				  psprintf("a second audit entry for version " INT64_FORMAT, e->version) :
				  psprintf("dataset \"%s\" is at version " INT64_FORMAT,
						   ds.name, ds.head));
	}
	n = aisec_spi_run("SELECT version FROM aisec.version WHERE dataset_id = $1 "
					  "AND (version < 1 OR version > $2) UNION ALL "
					  "SELECT version FROM aisec.version_table WHERE dataset_id = $1 "
					  "AND (version < 1 OR version > $2) ORDER BY 1",
					  true, 2, dtypes, dvalues, NULL, snap);
	for (int i = 0; i < n; i++)
		VerifyRow(ts, desc, DatumGetInt64(aisec_spi_value(i, 0, &isnull)), InvalidOid, false,
				  psprintf("versions 1 to " INT64_FORMAT " of dataset \"%s\"", ds.head, ds.name),
				  "a version record beyond them");

	/*
	 * Records that name what is not there: aisec's tables have no foreign
	 * keys (pg_restore -j loads them in any order), so check here that each
	 * tag names a committed version and that no record of any dataset
	 * names a dataset that does not exist.
	 */
	n = aisec_spi_run("SELECT g.tag, g.version FROM aisec.tag g WHERE g.dataset_id = $1 "
					  "AND NOT EXISTS (SELECT FROM aisec.version v WHERE v.dataset_id = g.dataset_id "
					  "AND v.version = g.version) ORDER BY g.tag",
					  true, 1, dtypes, dvalues, NULL, snap);
	for (int i = 0; i < n; i++)
	{
		int64		tv = DatumGetInt64(aisec_spi_value(i, 1, &isnull));

		VerifyRow(ts, desc, tv, InvalidOid, false,
				  psprintf("a commit record of version " INT64_FORMAT ", which tag %s names",
						   tv, version_json_string(TextDatumGetCString(aisec_spi_value(i, 0, &isnull)))),
				  "(missing)");
	}
	n = aisec_spi_run("SELECT k.t, k.n FROM ("
					  "SELECT 1, 'tracked', pg_catalog.count(*) FROM aisec.tracked x "
					  "WHERE x.dataset_id IS NOT NULL AND NOT EXISTS "
					  "(SELECT FROM aisec.dataset d WHERE d.id = x.dataset_id) UNION ALL "
					  "SELECT 2, 'version', pg_catalog.count(*) FROM aisec.version x WHERE NOT EXISTS "
					  "(SELECT FROM aisec.dataset d WHERE d.id = x.dataset_id) UNION ALL "
					  "SELECT 3, 'version_table', pg_catalog.count(*) FROM aisec.version_table x WHERE NOT EXISTS "
					  "(SELECT FROM aisec.dataset d WHERE d.id = x.dataset_id) UNION ALL "
					  "SELECT 4, 'tag', pg_catalog.count(*) FROM aisec.tag x WHERE NOT EXISTS "
					  "(SELECT FROM aisec.dataset d WHERE d.id = x.dataset_id)) k(o, t, n) "
					  "WHERE k.n > 0 ORDER BY k.o",
					  true, 0, NULL, NULL, NULL, snap);
	for (int i = 0; i < n; i++)
	{
		char	   *table = TextDatumGetCString(aisec_spi_value(i, 0, &isnull));
		int64		cnt = DatumGetInt64(aisec_spi_value(i, 1, &isnull));

		VerifyRow(ts, desc, 0, InvalidOid, false,
				  psprintf("every aisec.%s record names an existing dataset", table),
				  psprintf(INT64_FORMAT " aisec.%s record%s of a dataset that does not exist",
						   cnt, table, cnt == 1 ? "" : "s"));
	}

	/* Tags: exactly those the audit log recorded, naming the same versions. */
	n = aisec_spi_run("SELECT tag, version FROM aisec.tag WHERE dataset_id = $1 ORDER BY tag",
					  true, 1, dtypes, dvalues, NULL, snap);
	for (int i = 0; i < n; i++)
	{
		char	   *tag = TextDatumGetCString(aisec_spi_value(i, 0, &isnull));
		int64		tv = DatumGetInt64(aisec_spi_value(i, 1, &isnull));
		AuditVersion *found = FindAuditText(tags_sorted, ntags, tag);

		if (found != NULL)
			found->matched = true;
		if (found == NULL || found->version != tv)
			VerifyRow(ts, desc, tv, InvalidOid, false,
					  found ?
					  psprintf("tag %s names version " INT64_FORMAT " (version.tag entry %lld of the audit log)",
							   version_json_string(tag), found->version, (long long) found->seq) :
					  psprintf("a version.tag entry in the audit log for tag %s",
							   version_json_string(tag)),
					  psprintf("tag %s names version " INT64_FORMAT "%s",
							   version_json_string(tag), tv, found ? "" : ", and no audit entry"));
	}
	for (int i = 0; i < ntags; i++)
		if (!tags_sorted[i]->matched)
			VerifyRow(ts, desc, tags_sorted[i]->version, InvalidOid, false,
					  psprintf("tag %s names version " INT64_FORMAT " (version.tag entry %lld of the audit log)",
							   version_json_string(tags_sorted[i]->text), tags_sorted[i]->version,
							   (long long) tags_sorted[i]->seq),
					  "(no such tag)");

	/* Each table: pending version, single records, ended records. */
	for (int i = 0; i < ntables; i++)
	{
		static const char *const what[RP_NKINDS] = {
			"with valid_from below 1",
			"with valid_from after the pending version",
			"without salt or row and no recorded erasure",
			"with a salt that is not 16 bytes",
			"with a hash that is missing or not 32 bytes",
			"whose hash is not SHA-256(salt || row)",
			"whose rid is not the aisec_rid of their row",
		};
		Oid			types[1] = {INT8OID};
		Datum		values[1] = {Int64GetDatum(pending[i])};

		if (pending[i] != upto[i] + 1)
			VerifyRow(ts, desc, 0, tables[i].relid, false,
					  psprintf("pending version " INT64_FORMAT ", the one after the latest version%s",
							   upto[i] + 1, upto[i] < ds.head ? " that includes the table" : ""),
					  psprintf("pending version " INT64_FORMAT, pending[i]));
		for (int k = 0; k < RP_NKINDS; k++)
			if (problems[i][k].count > 0)
				VerifyRow(ts, desc,
						  problems[i][k].valid_from <= upto[i] ? problems[i][k].valid_from : 0,
						  tables[i].relid, false,
						  "history records as aisec wrote them",
						  psprintf(INT64_FORMAT " history record%s %s (first: rid " INT64_FORMAT
								   ", valid_from " INT64_FORMAT ")",
								   problems[i][k].count, problems[i][k].count == 1 ? "" : "s",
								   what[k], problems[i][k].rid, problems[i][k].valid_from));

		/* Ended records: each ends a history record after it began. */
		n = aisec_spi_run(psprintf("SELECT e.rid, e.valid_from, e.valid_to, pg_catalog.count(*) OVER () "
								   "FROM %s e WHERE e.valid_to <= e.valid_from "
								   "OR e.valid_to > $1 OR NOT EXISTS "
								   "(SELECT FROM %s h WHERE h.rid = e.rid AND h.valid_from = e.valid_from) "
								   "ORDER BY e.rid, e.valid_from LIMIT 1",
								   aisec_qualified_name(tables[i].ended),
								   aisec_qualified_name(tables[i].history)),
						  true, 1, types, values, NULL, snap);
		if (n == 1)
		{
			int64		cnt = DatumGetInt64(aisec_spi_value(0, 3, &isnull));

			VerifyRow(ts, desc, 0, tables[i].relid, false,
					  "ended records that end a history record after it began, by the pending version",
					  psprintf(INT64_FORMAT " ended record%s ending no history record, or not after it "
							   "began, or after the pending version (first: rid " INT64_FORMAT
							   ", valid_from " INT64_FORMAT ", valid_to " INT64_FORMAT ")",
							   cnt, cnt == 1 ? "" : "s",
							   DatumGetInt64(aisec_spi_value(0, 0, &isnull)),
							   DatumGetInt64(aisec_spi_value(0, 1, &isnull)),
							   DatumGetInt64(aisec_spi_value(0, 2, &isnull))));
		}
	}

	/* The audit log itself: the cross-checks above rely on its chain. */
	if (!av.created)
		VerifyRow(ts, desc, 0, InvalidOid, false,
				  psprintf("the version.create_dataset entry of dataset %s in the audit log",
						   version_json_string(ds.name)),
				  "(missing)");
	if (chain != NULL)
		VerifyRow(ts, desc, 0, InvalidOid, false, "an intact audit log",
				  psprintf("audit log: %s", chain));
	aisec_spi_end(&spi);
	return (Datum) 0;
}
