/*
 * status.c
 *		What changed since the last commit: aisec.status(dataset), rows
 *		inserted, updated and deleted per table (like git status), and the
 *		counts behind the aisec.tracked_tables view.
 *
 * A row counts by what it is now against what it was at the last commit
 * (the table's pending version p is the one after it): inserted if it is
 * there now and was not then, deleted if it was there and is not now,
 * updated if it is there in both and was changed in between.  So a row
 * inserted and then updated counts once as inserted, inserted and deleted
 * as nothing, updated twice once as updated, updated and deleted as
 * deleted.  Everything is read from what capture stores, in O(changes):
 *
 * - history records with valid_from = p (BRIN on valid_from): rows
 *   changed, or recorded when tracking began;
 * - ended records with valid_to = p (BRIN on valid_to): committed row
 *   versions that ended (a record of the pending version that changes
 *   again is deleted, never ended, so these all began before p);
 * - notes in aisec.pending_row (notes.c): 'e', a committed record whose
 *   ending the commit does (a large UPDATE wrote the new record); 'i',
 *   'u' and 'd', a row inserted since the commit, whose last note says
 *   whether it is still there.
 *
 * A row with a record in p was there at the commit if its committed
 * record ended in p or ends at the commit ('e'): updated; otherwise it
 * came later (rows there when tracking began, or rows an earlier aisec
 * recorded when inserted): inserted.  A committed record that ended with
 * no record in p: deleted.  Reads use the caller's snapshot, so changes
 * of transactions still in progress do not count.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"

#include "notes.h"
#include "version.h"

/* Order int64 values. */
static int
CompareInt64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/* Order notes by row id, then in the order they were written. */
static int
CompareNotes(const void *a, const void *b)
{
	const PendingNote *x = a;
	const PendingNote *y = b;

	if (x->rid != y->rid)
		return x->rid < y->rid ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

/* Sort and deduplicate n row ids; return how many remain. */
static int64
SortUnique(int64 *rids, int64 n)
{
	int64		m = 0;

	if (n == 0)
		return 0;
	qsort(rids, n, sizeof(int64), CompareInt64);
	for (int64 i = 0; i < n; i++)
		if (m == 0 || rids[m - 1] != rids[i])
			rids[m++] = rids[i];
	return m;
}

/* Is rid among the n sorted row ids? */
static bool
Has(const int64 *rids, int64 n, int64 rid)
{
	return n > 0 && bsearch(&rid, rids, n, sizeof(int64), CompareInt64) != NULL;
}

/* The row ids of the first column of the last query's result (palloc'd). */
static int64 *
ResultRids(int64 n)
{
	int64	   *rids = palloc(sizeof(int64) * Max(n, 1));
	bool		isnull;

	for (int64 i = 0; i < n; i++)
		rids[i] = DatumGetInt64(aisec_spi_value(i, 0, &isnull));
	return rids;
}

/*
 * Count the rows of a tracked table inserted, updated and deleted since
 * its last commit (pending is its pending version), through snap, as the
 * file header defines them.  SPI must be open.
 */
void
version_pending_counts(const TrackedTable *tt, int64 pending, Snapshot snap,
					   PendingCounts *out)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(pending)};
	Oid			ntypes[1] = {INT4OID};
	Datum		nvalues[1] = {Int32GetDatum(tt->table_no)};
	int64	   *appeared;
	int64		nappeared;
	int64	   *ended;
	int64		nended;
	int64	   *ending;
	int64		nending = 0;
	PendingNote *notes;
	int			nnotes = 0;
	int			size = 64;
	int			rows;
	int			kept = 0;
	int			guc_nest;

	memset(out, 0, sizeof(*out));

	/*
	 * The records of the pending version sit in the last pages of the
	 * append-only history and ended records, where their BRIN indexes find
	 * them; the planner, which may estimate that a scan is cheaper (it
	 * does with statistics on a large history), is kept to the indexes.
	 */
	guc_nest = NewGUCNestLevel();
	(void) set_config_option("enable_seqscan", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	nappeared = aisec_spi_run(psprintf("SELECT rid FROM %s WHERE valid_from = $1",
									   aisec_qualified_name(tt->history)),
							  true, 1, types, values, NULL, snap);
	appeared = ResultRids(nappeared);
	nended = aisec_spi_run(psprintf("SELECT rid FROM %s WHERE valid_to = $1",
									aisec_qualified_name(tt->ended)),
						   true, 1, types, values, NULL, snap);
	ended = ResultRids(nended);
	AtEOXact_GUC(true, guc_nest);

	notes = palloc(sizeof(PendingNote) * size);
	rows = aisec_spi_run("SELECT entries FROM aisec.pending_row WHERE table_no = $1 ORDER BY seq",
						 true, 1, ntypes, nvalues, NULL, snap);
	for (int i = 0; i < rows; i++)
	{
		bool		isnull;

		notes_read_pending(DatumGetByteaPP(aisec_spi_value(i, 0, &isnull)),
						   &notes, &nnotes, &size);
	}
	ending = palloc(sizeof(int64) * Max(nnotes, 1));
	for (int i = 0; i < nnotes; i++)
	{
		if (notes[i].kind == PENDING_ENDS)
			ending[nending++] = notes[i].rid;
		else
			notes[kept++] = notes[i];
	}
	nnotes = kept;

	/* Committed records that end in p: those in ended or ending. */
	nappeared = SortUnique(appeared, nappeared);
	nended = SortUnique(ended, nended);
	nending = SortUnique(ending, nending);
	for (int64 i = 0; i < nappeared; i++)
	{
		if (Has(ended, nended, appeared[i]) || Has(ending, nending, appeared[i]))
			out->updated++;
		else
			out->inserted++;
	}
	for (int64 i = 0; i < nended; i++)
		if (!Has(appeared, nappeared, ended[i]))
			out->deleted++;
	for (int64 i = 0; i < nending; i++)
		if (!Has(appeared, nappeared, ending[i]) && !Has(ended, nended, ending[i]))
			out->deleted++;

	/* Rows inserted since the commit: their last note says if they are there. */
	qsort(notes, nnotes, sizeof(PendingNote), CompareNotes);
	for (int i = 0; i < nnotes;)
	{
		int			j = i;
		int64		rid = notes[i].rid;

		while (j < nnotes && notes[j].rid == rid)
			j++;
		if (notes[j - 1].kind != PENDING_GONE &&
			!Has(appeared, nappeared, rid) && !Has(ended, nended, rid) &&
			!Has(ending, nending, rid))
			out->inserted++;
		i = j;
	}
	pfree(appeared);
	pfree(ended);
	pfree(ending);
	pfree(notes);
}

/*
 * SQL: aisec.status(dataset) returns, per table of the dataset, the rows
 * inserted, updated and deleted since the last commit.
 */
PG_FUNCTION_INFO_V1(aisec_status);
Datum
aisec_status(PG_FUNCTION_ARGS)
{
	char	   *name;
	Snapshot	snap = GetActiveSnapshot();
	AisecSpi	spi;
	Dataset		ds;
	Tuplestorestate *ts;
	TupleDesc	desc;
	Oid			types[1] = {INT4OID};
	Datum		values[1];
	int			n;
	int32	   *nos;
	int64	   *pendings;

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER, "aisec.status()");
	name = version_dataset_name(fcinfo, 0);

	ts = aisec_begin_srf(fcinfo, &desc);
	aisec_spi_begin(&spi);
	ds = version_load_dataset(name, snap);
	values[0] = Int32GetDatum(ds.id);
	n = aisec_spi_run("SELECT table_no, pending_version FROM aisec.tracked "
					  "WHERE dataset_id = $1 ORDER BY table_no",
					  true, 1, types, values, NULL, snap);
	nos = palloc(sizeof(int32) * Max(n, 1));
	pendings = palloc(sizeof(int64) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		bool		isnull;

		nos[i] = DatumGetInt32(aisec_spi_value(i, 0, &isnull));
		pendings[i] = DatumGetInt64(aisec_spi_value(i, 1, &isnull));
	}

	/* Counts tell about rows: the caller must be allowed to read them all. */
	for (int i = 0; i < n; i++)
	{
		TrackedTable tt;

		if (!history_lookup_no(nos[i], &tt))
			elog(ERROR, "aisec tracked table %d vanished", nos[i]);
		version_require_select(tt.relid);
	}
	for (int i = 0; i < n; i++)
	{
		TrackedTable tt;
		PendingCounts pc;
		Datum		v[4];
		bool		nulls[4] = {0};

		if (!history_lookup_no(nos[i], &tt))
			elog(ERROR, "aisec tracked table %d vanished", nos[i]);
		version_pending_counts(&tt, pendings[i], snap, &pc);
		v[0] = ObjectIdGetDatum(tt.relid);
		v[1] = Int64GetDatum(pc.inserted);
		v[2] = Int64GetDatum(pc.updated);
		v[3] = Int64GetDatum(pc.deleted);
		tuplestore_putvalues(ts, desc, v, nulls);
	}
	aisec_spi_end(&spi);
	return (Datum) 0;
}

/*
 * Count like version_pending_counts, but return false instead of raising
 * ERRCODE_DATA_CORRUPTED (a malformed note, which the next commit of the
 * table refuses too): one damaged table must not hide the others from
 * aisec.tracked_tables.  Any other error is raised.
 */
static bool
TryPendingCounts(const TrackedTable *tt, int64 pending, Snapshot snap, PendingCounts *out)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool ok = true;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		version_pending_counts(tt, pending, snap, out);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (edata->sqlerrcode != ERRCODE_DATA_CORRUPTED)
			ReThrowError(edata);
		FlushErrorState();
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

/*
 * SQL: aisec.tracked_table_counts() returns, per tracked table, its rows
 * now and the rows changed since its last commit, for the
 * aisec.tracked_tables view: rows = the rows of the last committed
 * version that includes the table (0 before any, NULL if no version record
 * of it is left: its dataset was dropped with keep_history) + inserted -
 * deleted; pending_changes = inserted + updated + deleted (aisec.status).
 */
PG_FUNCTION_INFO_V1(aisec_tracked_table_counts);
Datum
aisec_tracked_table_counts(PG_FUNCTION_ARGS)
{
	Snapshot	snap = GetActiveSnapshot();
	AisecSpi	spi;
	Tuplestorestate *ts;
	TupleDesc	desc;
	int			n;
	int32	   *nos;
	int64	   *pendings;
	int64	   *base;
	bool	   *base_null;

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER, "aisec.tracked_table_counts()");
	ts = aisec_begin_srf(fcinfo, &desc);
	aisec_spi_begin(&spi);

	/*
	 * The rows a table had at its last commit: version_table's, at the
	 * version before its pending one, in whichever dataset recorded it.
	 */
	n = aisec_spi_run("SELECT t.table_no, t.pending_version, "
					  " (SELECT v.rows FROM aisec.version_table v"
					  "  WHERE v.table_no = t.table_no"
					  "    AND v.version = t.pending_version - 1"
					  "  ORDER BY v.dataset_id LIMIT 1) "
					  "FROM aisec.tracked t ORDER BY t.table_no",
					  true, 0, NULL, NULL, NULL, snap);
	nos = palloc(sizeof(int32) * Max(n, 1));
	pendings = palloc(sizeof(int64) * Max(n, 1));
	base = palloc(sizeof(int64) * Max(n, 1));
	base_null = palloc(sizeof(bool) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		bool		isnull;

		nos[i] = DatumGetInt32(aisec_spi_value(i, 0, &isnull));
		pendings[i] = DatumGetInt64(aisec_spi_value(i, 1, &isnull));
		base[i] = DatumGetInt64(aisec_spi_value(i, 2, &base_null[i]));
		if (base_null[i] && pendings[i] == 1)
		{
			base[i] = 0;		/* never committed */
			base_null[i] = false;
		}
	}
	for (int i = 0; i < n; i++)
	{
		TrackedTable tt;
		PendingCounts pc;
		Datum		v[3];
		bool		nulls[3] = {0};

		if (!history_lookup_no(nos[i], &tt))
			continue;			/* untracked since the statement began */
		if (!TryPendingCounts(&tt, pendings[i], snap, &pc))
			nulls[1] = nulls[2] = true; /* its notes are damaged */
		v[0] = Int32GetDatum(nos[i]);
		v[1] = Int64GetDatum(base[i] + pc.inserted - pc.deleted);
		nulls[1] |= base_null[i];
		v[2] = Int64GetDatum(pc.inserted + pc.updated + pc.deleted);
		tuplestore_putvalues(ts, desc, v, nulls);
	}
	aisec_spi_end(&spi);
	return (Datum) 0;
}
