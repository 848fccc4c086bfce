/*
 * diff_keyed.c
 *		The rows of two committed versions of a tracked table matched by the
 *		values of key columns instead of row ids (aisec.diff() and
 *		aisec.diff_summary() with a key): a row deleted and inserted again
 *		with the same content is the same row, and a row whose key changed
 *		is one row removed and another added.
 *
 * Both versions are read in one scan of the history (the records of the
 * ended-records table up to the higher version in a hash, as checkout
 * reads one version): each record is in the lower version, the higher, or
 * both.  Every record's key goes into one hash table, which checks that the
 * key is unique within each version; only a record in one version alone
 * keeps its row (a record in both is the same row, unchanged).  So memory
 * grows with the rows of the two versions (one entry of 32 bytes,
 * plus the key values of types passed by reference, per row) and with the
 * rows that differ, and time with the whole history, not with the change:
 * unlike matching by row id, a whole version has to be read to know which
 * keys it holds.
 *
 * Keys are compared as SQL compares them: with each key column's type's
 * default hash and equality functions and the column's collation (the
 * ones a hash join would use; operator classes are made by superusers
 * only, so nothing a table owner plants runs here).  NULL equals nothing:
 * a row with a NULL in its key is matched by row id alone (with its own
 * record in the other version, as without a key), and it is left out of
 * the uniqueness check, as a UNIQUE constraint leaves it out.  A redacted
 * record (an erasure blanked its data) has no key either: it is matched by
 * row id alone in the same way, and diff reports it as erased.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/typcache.h"

#include "diff.h"

/*
 * A column name from the caller, for an error message: at most a column
 * name's length, in double quotes, with a double quote inside doubled, as
 * an identifier is written in SQL.
 */
static char *
QuoteKeyName(const char *name)
{
	int			len = pg_mbcliplen(name, strlen(name), NAMEDATALEN - 1);
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '"');
	for (int i = 0; i < len; i++)
	{
		if (name[i] == '"')
			appendStringInfoChar(&buf, '"');
		appendStringInfoChar(&buf, name[i]);
	}
	if (len < (int) strlen(name))
		appendStringInfoString(&buf, "...");
	appendStringInfoChar(&buf, '"');
	return buf.data;
}

/*
 * Resolve a key (text[] of column names) against the table's live
 * columns: each name must be one of them, not aisec_rid, not repeated,
 * and its type must have hash and equality functions.
 */
void
diff_resolve_key(Oid relid, TupleDesc desc, Datum key, DiffKey *out)
{
	ArrayType  *arr = DatumGetArrayTypeP(key);
	Datum	   *names;
	bool	   *nulls;
	int			n;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("key must be a one-dimensional array of column names")));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &names, &nulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("key must name at least one column"),
				 errhint("Pass NULL as the key to match rows by row id.")));

	out->n = n;
	out->attnums = palloc(sizeof(AttrNumber) * n);
	out->collations = palloc(sizeof(Oid) * n);
	out->hash = palloc(sizeof(FmgrInfo *) * n);
	out->eq = palloc(sizeof(FmgrInfo *) * n);
	out->typlen = palloc(sizeof(int16) * n);
	out->typbyval = palloc(sizeof(bool) * n);
	for (int i = 0; i < n; i++)
	{
		char	   *name;
		Form_pg_attribute att = NULL;
		TypeCacheEntry *tc;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("key must not contain NULL")));
		name = TextDatumGetCString(names[i]);
		if (strcmp(name, RID_COLUMN) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_COLUMN_REFERENCE),
					 errmsg("column \"%s\" cannot be a key column", RID_COLUMN),
					 errhint("Pass NULL as the key to match rows by row id.")));
		for (int a = 0; a < desc->natts; a++)
		{
			Form_pg_attribute cand = TupleDescAttr(desc, a);

			if (!cand->attisdropped && strcmp(NameStr(cand->attname), name) == 0)
			{
				att = cand;
				break;
			}
		}
		if (att == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("key column %s does not exist in table \"%s\"",
							QuoteKeyName(name), get_rel_name(relid))));
		for (int j = 0; j < i; j++)
			if (out->attnums[j] == att->attnum)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("key column %s is named more than once",
								QuoteKeyName(name))));
		tc = lookup_type_cache(att->atttypid, TYPECACHE_HASH_PROC_FINFO | TYPECACHE_EQ_OPR_FINFO);
		if (!OidIsValid(tc->hash_proc) || !OidIsValid(tc->eq_opr))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FUNCTION),
					 errmsg("key column %s cannot be compared: type %s has no hash operator class",
							QuoteKeyName(name), format_type_be(att->atttypid)),
					 errhint("Choose key columns whose types a hash join can compare (most built-in types but geometric ones, json and xml).")));
		out->attnums[i] = att->attnum;
		out->collations[i] = att->attcollation;
		out->hash[i] = &tc->hash_proc_finfo;
		out->eq[i] = &tc->eq_opr_finfo;
		out->typlen[i] = att->attlen;
		out->typbyval[i] = att->attbyval;
	}
}

/* The key of a row: its first column's value and the others'. */
typedef struct KeyVals
{
	Datum		first;
	Datum	   *more;			/* columns 2..n, or NULL */
} KeyVals;

/* One key seen in either version, as a hash table entry (32 bytes). */
typedef struct KeyEntry
{
	KeyVals		key;
	uint32		hash;			/* of the key, computed once per record */
	char		status;			/* simplehash's */
	bool		in_lo;			/* a row of the lower version has the key */
	bool		in_hi;
	DiffRow    *row;			/* the images of a record in one version only */
} KeyEntry;

/* The hash of a key (no NULL in it), from its types' hash functions. */
static uint32
KeyHash(const DiffKey *key, const Datum *vals)
{
	uint32		hash = 0;

	for (int i = 0; i < key->n; i++)
		hash = hash_combine(hash,
							DatumGetUInt32(FunctionCall1Coll(key->hash[i], key->collations[i],
															 vals[i])));
	return hash;
}

/* Whether two keys are equal, by their types' equality operators. */
static bool
KeysEqual(const DiffKey *key, const KeyVals *a, const KeyVals *b)
{
	if (!DatumGetBool(FunctionCall2Coll(key->eq[0], key->collations[0], a->first, b->first)))
		return false;
	for (int i = 1; i < key->n; i++)
		if (!DatumGetBool(FunctionCall2Coll(key->eq[i], key->collations[i],
											a->more[i - 1], b->more[i - 1])))
			return false;
	return true;
}

#define SH_PREFIX		diffkeys
#define SH_ELEMENT_TYPE KeyEntry
#define SH_KEY_TYPE		KeyVals
#define SH_KEY			key
/* Entries are inserted with their hash computed (diffkeys_insert_hash), never hashed here. */
static inline uint32
NoKeyHash(void)
{
	elog(ERROR, "aisec keyed diff: a key hashed without its values");
	return 0;
}

#define SH_HASH_KEY(tb, k) NoKeyHash()
#define SH_EQUAL(tb, a, b) KeysEqual((const DiffKey *) (tb)->private_data, &(a), &(b))
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* Refuse a key that two rows of one version share, naming no value. */
static void
RefuseRepeatedKey(const TrackedTable *tt, TupleDesc desc, const DiffKey *key, int64 version)
{
	StringInfoData cols;

	initStringInfo(&cols);
	for (int i = 0; i < key->n; i++)
		appendStringInfo(&cols, "%s%s", i > 0 ? ", " : "",
						 quote_identifier(NameStr(TupleDescAttr(desc, key->attnums[i] - 1)->attname)));
	ereport(ERROR,
			(errcode(ERRCODE_CARDINALITY_VIOLATION),
			 errmsg("key (%s) is not unique in version " INT64_FORMAT " of table \"%s\"",
					cols.data, version, get_rel_name(tt->relid)),
			 errdetail("Two rows of the version have the same values in the key columns, so they cannot be matched to rows of the other version."),
			 errhint("Choose key columns that identify a row in both versions, or pass NULL as the key to match rows by row id.")));
}

/* Keep a copy of a row image on one side of r. */
static void
KeepImage(DiffRow *r, bool lo, int64 rid, HeapTupleHeader td, MemoryContext cxt)
{
	Size		len = HeapTupleHeaderGetDatumLength(td);
	HeapTupleHeader copy = MemoryContextAlloc(cxt, len);

	memcpy(copy, td, len);
	if (lo)
	{
		r->lo = PointerGetDatum(copy);
		r->lo_rid = rid;
		r->has_lo = true;
	}
	else
	{
		r->hi = PointerGetDatum(copy);
		r->hi_rid = rid;
		r->has_hi = true;
	}
}

/*
 * The rows that are in only one of versions from and to (which differ) of
 * a tracked table, matched by key: a DiffRow per key found in one version
 * alone or in both with different records (whose images may still be
 * equal: the caller compares them), and per row with a NULL in its key
 * that is not the same record in both.  palloc'd array, *nrows long.
 * rows_hint, the larger version's row count, sizes the hash table.
 */
DiffRow **
diff_keyed_rows(const TrackedTable *tt, TupleDesc desc, const DiffKey *key,
				int64 from, int64 to, int64 rows_hint, Snapshot snap, int *nrows)
{
	int64		lo = Min(from, to);
	int64		hi = Max(from, to);
	MemoryContext cxt = CurrentMemoryContext;
	MemoryContext keycxt;
	MemoryContext rowcxt;
	EndedMap   *ended = history_ended_map(tt, hi, snap);
	Relation	hrel = table_open(tt->history, AccessShareLock);
	TupleDesc	hdesc = RelationGetDescr(hrel);
	TableScanDesc scan = table_beginscan(hrel, snap, 0, NULL);
	diffkeys_hash *keys;
	HTAB	   *nullkeys;
	HASHCTL		ctl;
	Datum	   *vals = palloc(sizeof(Datum) * key->n);
	HeapTuple	tup;
	diffkeys_iterator it;
	KeyEntry   *ke;
	HASH_SEQ_STATUS seq;
	DiffRow    *r;
	DiffRow   **out;
	int			nout = 0;
	int			maxout = 1024;

	/* The keys live until the rows that differ are found, the rows longer. */
	keycxt = AllocSetContextCreate(cxt, "aisec keyed diff keys", ALLOCSET_DEFAULT_SIZES);
	keys = diffkeys_create(keycxt, (uint32) Min(Max(rows_hint, 1024), PG_INT32_MAX / 2),
						   (void *) key);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(DiffRow);
	ctl.hcxt = cxt;
	nullkeys = hash_create("aisec diff null keys", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	rowcxt = AllocSetContextCreate(cxt, "aisec keyed diff row", ALLOCSET_SMALL_SIZES);

	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		bool		isnull;
		int64		valid_from;
		int64		rid;
		int64		ended_at;
		bool		in_lo;
		bool		in_hi;
		Datum		data;
		HeapTupleHeader td;
		HeapTupleData row;
		bool		anynull = false;
		KeyVals		probe;
		uint32		hash = 0;
		bool		found;

		CHECK_FOR_INTERRUPTS();
		valid_from = DatumGetInt64(heap_getattr(tup, HC_VALID_FROM + 1, hdesc, &isnull));
		if (valid_from > hi)
			continue;
		rid = DatumGetInt64(heap_getattr(tup, HC_RID + 1, hdesc, &isnull));
		ended_at = history_ended_at(ended, rid, valid_from);
		in_hi = ended_at == 0;
		in_lo = valid_from <= lo && (ended_at == 0 || ended_at > lo);
		if (!in_lo && !in_hi)
			continue;
		data = heap_getattr(tup, HC_DATA + 1, hdesc, &isnull);
		if (isnull)
		{
			/* Redacted: no key; by row id, unless the record is in both. */
			if (in_lo && in_hi)
				continue;
			r = hash_search(nullkeys, &rid, HASH_ENTER, &found);
			if (!found)
			{
				memset(r, 0, sizeof(*r));
				r->rid = rid;
			}
			if (in_lo)
			{
				r->has_lo = r->lo_null = true;
				r->lo_rid = rid;
			}
			else
			{
				r->has_hi = r->hi_null = true;
				r->hi_rid = rid;
			}
			continue;
		}

		/* The row and its key values, in memory that lasts for this row. */
		MemoryContextReset(rowcxt);
		MemoryContextSwitchTo(rowcxt);
		td = DatumGetHeapTupleHeader(data);
		row.t_len = HeapTupleHeaderGetDatumLength(td);
		ItemPointerSetInvalid(&row.t_self);
		row.t_tableOid = InvalidOid;
		row.t_data = td;
		for (int i = 0; i < key->n && !anynull; i++)
			vals[i] = heap_getattr(&row, key->attnums[i], desc, &anynull);
		if (!anynull)
			hash = KeyHash(key, vals);
		MemoryContextSwitchTo(cxt);

		/* NULL matches nothing: such a row is matched with its own record only. */
		if (anynull)
		{
			if (in_lo && in_hi)
				continue;
			r = hash_search(nullkeys, &rid, HASH_ENTER, &found);
			if (!found)
			{
				memset(r, 0, sizeof(*r));
				r->rid = rid;
			}
			KeepImage(r, in_lo, rid, td, cxt);
			continue;
		}

		probe.first = vals[0];
		probe.more = key->n > 1 ? vals + 1 : NULL;
		ke = diffkeys_insert_hash(keys, probe, hash, &found);
		if (!found)
		{
			/* Keep the key: the probe's values live in rowcxt. */
			MemoryContextSwitchTo(keycxt);
			ke->key.first = datumCopy(vals[0], key->typbyval[0], key->typlen[0]);
			if (key->n > 1)
			{
				ke->key.more = palloc(sizeof(Datum) * (key->n - 1));
				for (int i = 1; i < key->n; i++)
					ke->key.more[i - 1] = datumCopy(vals[i], key->typbyval[i], key->typlen[i]);
			}
			MemoryContextSwitchTo(cxt);
			ke->in_lo = ke->in_hi = false;
			ke->row = NULL;
		}
		if (in_lo)
		{
			if (ke->in_lo)
				RefuseRepeatedKey(tt, desc, key, lo);
			ke->in_lo = true;
		}
		if (in_hi)
		{
			if (ke->in_hi)
				RefuseRepeatedKey(tt, desc, key, hi);
			ke->in_hi = true;
		}
		if (in_lo != in_hi)
		{
			if (ke->row == NULL)
				ke->row = palloc0(sizeof(DiffRow));
			KeepImage(ke->row, in_lo, rid, td, cxt);
		}
	}
	table_endscan(scan);
	table_close(hrel, AccessShareLock);
	history_ended_map_free(ended);
	MemoryContextDelete(rowcxt);

	/* The keys whose rows differ, then the rows with NULL keys. */
	out = palloc(sizeof(DiffRow *) * maxout);
	diffkeys_start_iterate(keys, &it);
	while ((ke = diffkeys_iterate(keys, &it)) != NULL)
	{
		if (ke->row == NULL)
			continue;
		if (nout == maxout)
		{
			maxout *= 2;
			out = repalloc_huge(out, sizeof(DiffRow *) * maxout);
		}
		out[nout++] = ke->row;
	}
	MemoryContextDelete(keycxt);
	hash_seq_init(&seq, nullkeys);
	while ((r = hash_seq_search(&seq)) != NULL)
	{
		if (nout == maxout)
		{
			maxout *= 2;
			out = repalloc_huge(out, sizeof(DiffRow *) * maxout);
		}
		out[nout++] = r;
	}
	*nrows = nout;
	return out;
}
