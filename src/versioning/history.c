/*
 * history.c
 *		Tracked tables: row ids, change capture into per-table history,
 *		canonical row hashes and fingerprint arithmetic.
 *
 * The design is in doc/versioning.md ("Design note").  Invariants:
 *
 * - Every row of a tracked table that has a history record has exactly one
 *   open record: its latest, with no ended record.  A row inserted since the
 *   last commit has none yet; the commit writes it.  A large UPDATE that is
 *   the table's first change since the last commit writes its rows' new
 *   records and leaves ending their committed ones to the next commit
 *   (DeferEnding); until then a row's latest record is its new one, and its
 *   latest committed record is the one the commit ends.  Committed version v is
 *   the set of records with valid_from <= v and no ended record with
 *   valid_to <= v.
 * - Capture writes history through heap_multi_insert and the index access
 *   methods directly, so no trigger fires on history tables and their
 *   statement triggers can refuse every direct write, for every role.
 *   Records are never updated: a record's end is an appended ended record,
 *   and a record of the still-open pending version that changes again is
 *   deleted.
 * - A capturing statement holds AISEC_LOCK_VERSION_COMMIT in share mode
 *   until its transaction ends and only then reads the pending version
 *   number, with the latest snapshot; aisec.commit() takes the lock
 *   exclusively.  A committed version can therefore never change.
 * - Each capturing statement appends its net change (rows and fingerprint)
 *   to aisec.pending_delta, so a commit costs O(change).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "commands/event_trigger.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "nodes/makefuncs.h"
#include "parser/parse_type.h"
#include "pgstat.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/typcache.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "core/core.h"
#include "audit/audit.h"
#include "history.h"

/* Columns of aisec.tracked, in table order. */
enum
{
	TR_TABLE_NO = 0,
	TR_REL,
	TR_HISTORY,
	TR_PENDING,
	TR_DATASET,
	TR_COLUMNS,
	TR_TRACKED_AT,
	TR_TRACKED_BY,
	TR_ENDED,
	TR_NCOLS
};

/* Columns of aisec.pending_delta. */
enum
{
	PD_TABLE_NO = 0,
	PD_VERSION,
	PD_ROWS,
	PD_FINGERPRINT,
	PD_NCOLS
};

/* How one attribute is encoded (its type's binary send format). */
typedef enum EncodeKind
{
	ENC_INT2,					/* 2 bytes big-endian */
	ENC_INT4,					/* int4, date, oid: 4 bytes big-endian */
	ENC_INT8,					/* int8, timestamp(tz), time: 8 bytes */
	ENC_BOOL,					/* 1 byte */
	ENC_FLOAT4,					/* IEEE bits, big-endian */
	ENC_FLOAT8,
	ENC_TEXT,					/* text, varchar, bpchar: raw server bytes */
	ENC_NESTED,					/* arrays, composites: AppendCanonical */
	ENC_SEND					/* anything else: the type's send function */
} EncodeKind;

typedef struct EncodeAttr
{
	AttrNumber	attnum;
	EncodeKind	kind;
	Oid			type;
	FmgrInfo	send;
} EncodeAttr;

struct RowEncoder
{
	int			natts;
	EncodeAttr *atts;
	StringInfoData buf;
	MemoryContext cxt;			/* reset per row */
	int			guc_nest;		/* > 0 if client_encoding was pinned */
};

/* Random bytes handed out as row salts, refilled in blocks. */
static uint8 salt_pool[ROW_SALT_LEN * 256];
static int	salt_pos = sizeof(salt_pool);

/* Return the next unused ROW_SALT_LEN random bytes. */
static const uint8 *
NextSalt(void)
{
	if (salt_pos + ROW_SALT_LEN > (int) sizeof(salt_pool))
	{
		crypto_random_bytes(salt_pool, sizeof(salt_pool));
		salt_pos = 0;
	}
	salt_pos += ROW_SALT_LEN;
	return salt_pool + salt_pos - ROW_SALT_LEN;
}

/* ---------------------------------------------------------------------
 * Fingerprints
 * ---------------------------------------------------------------------
 */

/* acc += h (mod 2^256), both big-endian. */
void
fingerprint_add(Fingerprint *acc, const uint8 *h)
{
	unsigned	carry = 0;

	for (int i = SHA256_LEN - 1; i >= 0; i--)
	{
		unsigned	s = (unsigned) acc->b[i] + h[i] + carry;

		acc->b[i] = (uint8) s;
		carry = s >> 8;
	}
}

/* acc -= h (mod 2^256), both big-endian. */
void
fingerprint_sub(Fingerprint *acc, const uint8 *h)
{
	int			borrow = 0;

	for (int i = SHA256_LEN - 1; i >= 0; i--)
	{
		int			d = (int) acc->b[i] - h[i] - borrow;

		borrow = d < 0;
		acc->b[i] = (uint8) (d + (borrow ? 256 : 0));
	}
}

/* ---------------------------------------------------------------------
 * Canonical row encoding and row hashes
 * ---------------------------------------------------------------------
 */

/* Pick the encoding for one attribute's type. */
static EncodeKind
EncodeKindFor(Oid type)
{
	switch (type)
	{
		case INT2OID:
			return ENC_INT2;
		case INT4OID:
		case DATEOID:
		case OIDOID:
			return ENC_INT4;
		case INT8OID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
		case TIMEOID:
			return ENC_INT8;
		case BOOLOID:
			return ENC_BOOL;
		case FLOAT4OID:
			return ENC_FLOAT4;
		case FLOAT8OID:
			return ENC_FLOAT8;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			return ENC_TEXT;
		default:
			return ENC_SEND;
	}
}

/* Is typid (or the type a domain is over) an array or a composite type? */
static bool
IsNestedType(Oid typid)
{
	Oid			base = getBaseType(typid);

	return type_is_array(base) || get_typtype(base) == TYPTYPE_COMPOSITE;
}

/*
 * Prepare to encode rows of desc.  Send functions that emit text use the
 * client encoding, so it is pinned to the server encoding (as in binary
 * COPY with client_encoding = server_encoding) until history_encoder_done.
 */
RowEncoder *
history_encoder(TupleDesc desc)
{
	RowEncoder *enc = palloc0(sizeof(RowEncoder));
	bool		any_send = false;

	enc->atts = palloc(sizeof(EncodeAttr) * Max(desc->natts, 1));
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		EncodeAttr *ea;

		if (att->attisdropped)
			continue;
		ea = &enc->atts[enc->natts++];
		ea->attnum = att->attnum;
		ea->type = att->atttypid;
		ea->kind = IsNestedType(att->atttypid) ? ENC_NESTED : EncodeKindFor(att->atttypid);
		if (ea->kind == ENC_NESTED)
			any_send = true;
		else if (ea->kind == ENC_SEND)
		{
			Oid			sendfn;
			bool		varlena;

			getTypeBinaryOutputInfo(att->atttypid, &sendfn, &varlena);
			fmgr_info(sendfn, &ea->send);
			any_send = true;
		}
	}
	initStringInfo(&enc->buf);
	enc->cxt = AllocSetContextCreate(CurrentMemoryContext, "aisec row encoding",
									 ALLOCSET_SMALL_SIZES);
	if (any_send && pg_get_client_encoding() != GetDatabaseEncoding())
	{
		enc->guc_nest = NewGUCNestLevel();
		(void) set_config_option("client_encoding", GetDatabaseEncodingName(),
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
	}
	return enc;
}

/* Release an encoder and restore the client encoding. */
void
history_encoder_done(RowEncoder *enc)
{
	if (enc->guc_nest > 0)
		AtEOXact_GUC(true, enc->guc_nest);
	MemoryContextDelete(enc->cxt);
	pfree(enc->buf.data);
	pfree(enc->atts);
	pfree(enc);
}

/* Append an unsigned integer of n bytes, big-endian. */
static void
AppendBigEndian(StringInfo buf, uint64 v, int n)
{
	uint8		be[8];

	for (int i = n - 1; i >= 0; i--)
	{
		be[i] = (uint8) (v & 0xFF);
		v >>= 8;
	}
	appendBinaryStringInfo(buf, (char *) be, n);
}

/* Reserve a 4-byte length at the end of buf; return where it is. */
static int
BeginLength(StringInfo buf)
{
	int			at = buf->len;

	AppendBigEndian(buf, 0, 4);
	return at;
}

/* Fill in the length reserved at offset at: the bytes appended since. */
static void
EndLength(StringInfo buf, int at)
{
	uint32		len = (uint32) (buf->len - at - 4);

	for (int i = 0; i < 4; i++)
		buf->data[at + i] = (char) (len >> (24 - 8 * i));
}

static void AppendCanonical(StringInfo buf, Oid type, Datum v);

/*
 * An array in array_send's form (dimensions, null flag, then each element
 * length-prefixed, -1 for NULL) with the element type OID written as 0.
 */
static void
AppendArray(StringInfo buf, Datum v)
{
	ArrayType  *a = DatumGetArrayTypeP(v);
	Oid			elemtype = ARR_ELEMTYPE(a);
	bool		nested = IsNestedType(elemtype);
	FmgrInfo	send;
	ArrayIterator it;
	Datum		elem;
	bool		isnull;

	AppendBigEndian(buf, (uint32) ARR_NDIM(a), 4);
	AppendBigEndian(buf, ARR_HASNULL(a) ? 1 : 0, 4);
	AppendBigEndian(buf, 0, 4);
	for (int i = 0; i < ARR_NDIM(a); i++)
	{
		AppendBigEndian(buf, (uint32) ARR_DIMS(a)[i], 4);
		AppendBigEndian(buf, (uint32) ARR_LBOUND(a)[i], 4);
	}
	if (!nested)
	{
		Oid			sendfn;
		bool		varlena;

		getTypeBinaryOutputInfo(elemtype, &sendfn, &varlena);
		fmgr_info(sendfn, &send);
	}
	it = array_create_iterator(a, 0, NULL);
	while (array_iterate(it, &elem, &isnull))
	{
		int			at;

		if (isnull)
		{
			AppendBigEndian(buf, (uint32) -1, 4);
			continue;
		}
		at = BeginLength(buf);
		if (nested)
			AppendCanonical(buf, elemtype, elem);
		else
		{
			bytea	   *b = SendFunctionCall(&send, elem);

			appendBinaryStringInfo(buf, VARDATA(b), VARSIZE(b) - VARHDRSZ);
		}
		EndLength(buf, at);
	}
	array_free_iterator(it);
}

/*
 * A composite value in record_send's form (number of live attributes, then
 * per attribute its type OID and its value, length-prefixed, -1 for NULL)
 * with every type OID written as 0.
 */
static void
AppendRecord(StringInfo buf, Datum v)
{
	HeapTupleHeader td = DatumGetHeapTupleHeader(v);
	TupleDesc	desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(td),
											  HeapTupleHeaderGetTypMod(td));
	HeapTupleData tuple;
	Datum	   *values = palloc(sizeof(Datum) * Max(desc->natts, 1));
	bool	   *nulls = palloc(sizeof(bool) * Max(desc->natts, 1));
	int			live = 0;

	tuple.t_len = HeapTupleHeaderGetDatumLength(td);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = td;
	heap_deform_tuple(&tuple, desc, values, nulls);
	for (int i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped)
			live++;
	AppendBigEndian(buf, (uint32) live, 4);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		int			at;

		if (att->attisdropped)
			continue;
		AppendBigEndian(buf, 0, 4);
		if (nulls[i])
		{
			AppendBigEndian(buf, (uint32) -1, 4);
			continue;
		}
		at = BeginLength(buf);
		AppendCanonical(buf, att->atttypid, values[i]);
		EndLength(buf, at);
	}
	ReleaseTupleDesc(desc);
}

/*
 * Append a value of type type in canonical form, without a length: its
 * binary send form, except that arrays and composites, at any depth and
 * also under domains, carry 0 where the send form carries a type OID.
 * OIDs of user-defined types change across dump and restore; row hashes
 * must not.
 */
static void
AppendCanonical(StringInfo buf, Oid type, Datum v)
{
	Oid			base = getBaseType(type);

	check_stack_depth();
	if (type_is_array(base))
		AppendArray(buf, v);
	else if (get_typtype(base) == TYPTYPE_COMPOSITE)
		AppendRecord(buf, v);
	else
	{
		Oid			sendfn;
		bool		varlena;
		bytea	   *b;

		getTypeBinaryOutputInfo(base, &sendfn, &varlena);
		b = OidSendFunctionCall(sendfn, v);
		appendBinaryStringInfo(buf, VARDATA(b), VARSIZE(b) - VARHDRSZ);
	}
}

/* Append one value's canonical form, length-prefixed. */
static void
EncodeValue(StringInfo buf, EncodeAttr *ea, Datum v)
{
	switch (ea->kind)
	{
		case ENC_INT2:
			AppendBigEndian(buf, 2, 4);
			AppendBigEndian(buf, (uint16) DatumGetInt16(v), 2);
			break;
		case ENC_INT4:
			AppendBigEndian(buf, 4, 4);
			AppendBigEndian(buf, (uint32) DatumGetInt32(v), 4);
			break;
		case ENC_INT8:
			AppendBigEndian(buf, 8, 4);
			AppendBigEndian(buf, (uint64) DatumGetInt64(v), 8);
			break;
		case ENC_BOOL:
			AppendBigEndian(buf, 1, 4);
			AppendBigEndian(buf, DatumGetBool(v) ? 1 : 0, 1);
			break;
		case ENC_FLOAT4:
			{
				float4		f = DatumGetFloat4(v);
				uint32		bits;

				memcpy(&bits, &f, 4);
				AppendBigEndian(buf, 4, 4);
				AppendBigEndian(buf, bits, 4);
				break;
			}
		case ENC_FLOAT8:
			{
				float8		f = DatumGetFloat8(v);
				uint64		bits;

				memcpy(&bits, &f, 8);
				AppendBigEndian(buf, 8, 4);
				AppendBigEndian(buf, bits, 8);
				break;
			}
		case ENC_TEXT:
			{
				struct varlena *t = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(v));

				AppendBigEndian(buf, VARSIZE_ANY_EXHDR(t), 4);
				appendBinaryStringInfo(buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
				break;
			}
		case ENC_NESTED:
			{
				int			at = BeginLength(buf);

				AppendCanonical(buf, ea->type, v);
				EndLength(buf, at);
				break;
			}
		case ENC_SEND:
			{
				bytea	   *b = SendFunctionCall(&ea->send, v);

				AppendBigEndian(buf, VARSIZE(b) - VARHDRSZ, 4);
				appendBinaryStringInfo(buf, VARDATA(b), VARSIZE(b) - VARHDRSZ);
				break;
			}
	}
}

/*
 * hash = SHA-256(salt || encoding), where the encoding is, for each live
 * attribute with a non-NULL value in attnum order: attnum (2 bytes), length
 * (4 bytes) and the value's binary send form.  values/nulls are indexed by
 * attnum - 1.
 */
void
history_row_hash(RowEncoder *enc, Datum *values, bool *nulls,
				 const uint8 *salt, uint8 *hash)
{
	MemoryContext old = MemoryContextSwitchTo(enc->cxt);

	resetStringInfo(&enc->buf);
	for (int i = 0; i < enc->natts; i++)
	{
		EncodeAttr *ea = &enc->atts[i];

		if (nulls[ea->attnum - 1])
			continue;
		AppendBigEndian(&enc->buf, (uint16) ea->attnum, 2);
		EncodeValue(&enc->buf, ea, values[ea->attnum - 1]);
	}
	crypto_sha256_2(salt, ROW_SALT_LEN, (uint8 *) enc->buf.data, enc->buf.len, hash);
	MemoryContextSwitchTo(old);
	MemoryContextReset(enc->cxt);
}

/* ---------------------------------------------------------------------
 * The registry
 * ---------------------------------------------------------------------
 */

/* Fill out from a tuple of aisec.tracked. */
static void
ReadTracked(TupleTableSlot *slot, TrackedTable *out)
{
	slot_getallattrs(slot);
	out->table_no = DatumGetInt32(slot->tts_values[TR_TABLE_NO]);
	out->relid = DatumGetObjectId(slot->tts_values[TR_REL]);
	out->history = DatumGetObjectId(slot->tts_values[TR_HISTORY]);
	out->ended = DatumGetObjectId(slot->tts_values[TR_ENDED]);
	out->pending = DatumGetInt64(slot->tts_values[TR_PENDING]);
	out->dataset_id = slot->tts_isnull[TR_DATASET] ? 0 :
		DatumGetInt32(slot->tts_values[TR_DATASET]);
}

/* Look up aisec.tracked by one indexed key, with the latest snapshot. */
static bool
LookupTracked(const char *index, RegProcedure eqproc, Datum key, TrackedTable *out)
{
	Relation	rel = table_open(aisec_relid("tracked"), AccessShareLock);
	Relation	idx = index_open(aisec_relid(index), AccessShareLock);
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	IndexScanDesc scan = index_beginscan(rel, idx, snap, 1, 0);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	ScanKeyData skey;
	bool		found;

	ScanKeyInit(&skey, 1, BTEqualStrategyNumber, eqproc, key);
	index_rescan(scan, &skey, 1, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	if (found)
		ReadTracked(slot, out);
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	UnregisterSnapshot(snap);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);
	return found;
}

/* Find a tracked table by relation OID (latest snapshot). */
bool
history_lookup(Oid relid, TrackedTable *out)
{
	return LookupTracked("tracked_rel_key", F_OIDEQ, ObjectIdGetDatum(relid), out);
}

/* Find a tracked table by table number (latest snapshot). */
bool
history_lookup_no(int32 table_no, TrackedTable *out)
{
	return LookupTracked("tracked_pkey", F_INT4EQ, Int32GetDatum(table_no), out);
}

/* ---------------------------------------------------------------------
 * Ended records: (rid, valid_from) -> valid_to
 * ---------------------------------------------------------------------
 */

/* A history record's identity: a row id has one record per version. */
typedef struct EndedKey
{
	int64		rid;
	int64		valid_from;
} EndedKey;

/* One ended history record, as a hash table entry. */
typedef struct EndedEntry
{
	EndedKey	key;
	int64		valid_to;
	char		status;			/* simplehash's */
} EndedEntry;

/* Hash a (rid, valid_from) pair. */
static inline uint32
HashEndedKey(int64 rid, int64 valid_from)
{
	return hash_combine(murmurhash32((uint32) rid),
						murmurhash32((uint32) (rid >> 32) ^ (uint32) valid_from * 0x9e3779b9));
}

#define SH_PREFIX		ended
#define SH_ELEMENT_TYPE EndedEntry
#define SH_KEY_TYPE		EndedKey
#define SH_KEY			key
#define SH_HASH_KEY(tb, key) HashEndedKey((key).rid, (key).valid_from)
#define SH_EQUAL(tb, a, b) ((a).rid == (b).rid && (a).valid_from == (b).valid_from)
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

struct EndedMap
{
	ended_hash *tab;
	MemoryContext cxt;
};

/*
 * Load the ended records of a tracked table whose valid_to <= upto (all of
 * them if upto <= 0) into a hash table: what checkout and verify need to
 * tell, for each history record, when it ended.  Memory grows with the
 * number of ended records, i.e. with update and delete churn.
 */
EndedMap *
history_ended_map(const TrackedTable *tt, int64 upto, Snapshot snap)
{
	EndedMap   *map = palloc(sizeof(EndedMap));
	Relation	erel = table_open(tt->ended, AccessShareLock);
	TableScanDesc scan = table_beginscan(erel, snap, 0, NULL);
	TupleTableSlot *slot = table_slot_create(erel, NULL);
	BlockNumber nblocks = RelationGetNumberOfBlocks(erel);

	map->cxt = AllocSetContextCreate(CurrentMemoryContext, "aisec ended records",
									 ALLOCSET_DEFAULT_SIZES);
	map->tab = ended_create(map->cxt, Max(nblocks, 1) * 64, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		EndedKey	key;
		EndedEntry *e;
		bool		found;
		int64		to;

		CHECK_FOR_INTERRUPTS();
		slot_getallattrs(slot);
		to = DatumGetInt64(slot->tts_values[EC_VALID_TO]);
		if (upto > 0 && to > upto)
			continue;
		key.rid = DatumGetInt64(slot->tts_values[EC_RID]);
		key.valid_from = DatumGetInt64(slot->tts_values[EC_VALID_FROM]);
		e = ended_insert(map->tab, key, &found);
		e->valid_to = found ? Min(e->valid_to, to) : to;
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	table_close(erel, AccessShareLock);
	return map;
}

/* The version in which record (rid, valid_from) ended, or 0 if it is open. */
int64
history_ended_at(EndedMap *map, int64 rid, int64 valid_from)
{
	EndedKey	key;
	EndedEntry *e;

	if (map->tab->members == 0)
		return 0;
	key.rid = rid;
	key.valid_from = valid_from;
	e = ended_lookup(map->tab, key);
	return e ? e->valid_to : 0;
}

/* Release an ended-records map. */
void
history_ended_map_free(EndedMap *map)
{
	MemoryContextDelete(map->cxt);
	pfree(map);
}

/* ---------------------------------------------------------------------
 * Capture
 * ---------------------------------------------------------------------
 */

/* History records buffered before a multi-insert (or until CaptureEnd). */
#define CAPTURE_BATCH		1000
#define CAPTURE_BATCH_BYTES	(4 * 1024 * 1024)

/* What one capturing statement needs while it walks its rows. */
typedef struct Capture
{
	TrackedTable tt;
	Relation	rel;
	TupleDesc	desc;
	AttrNumber	ridatt;
	Relation	hrel;			/* history_<n> */
	CatalogIndexState hind;
	Relation	ridx;			/* btree on history.rid */
	Relation	erel;			/* history_<n>_ended */
	CatalogIndexState eind;
	IndexScanDesc scan;
	TupleTableSlot *hslot;
	Snapshot	snap;
	RowEncoder *enc;
	MemoryContext stmtcxt;		/* the statement's: slots, scan */
	MemoryContext rowcxt;		/* reset per row */
	MemoryContext batchcxt;		/* buffered tuples; reset per flush */
	TupleDesc	hdesc;			/* unpinned copies for the buffer slots */
	TupleDesc	edesc;
	TupleTableSlot *hbuf[CAPTURE_BATCH];
	int			nh;
	TupleTableSlot *ebuf[CAPTURE_BATCH];
	int			ne;
	Fingerprint delta;
	int64		rows;
	bool		changed;		/* record the change even if it nets to zero */
	struct openrec_hash *open;	/* open records looked up in one pass */
	uint64	   *filter;			/* bits set for the ids looked up */
	int			filter_shift;	/* 64 - log2(bits in filter) */
	int64	   *rids;			/* the ids looked up, in the rows' order */
	bool	   *skip;			/* NULL, or rids[i] comes again later */
	bool		passed;			/* open records found by FindOpenRecords */
	MemoryContext opencxt;
} Capture;

/* Open the history of a tracked table for writing. */
static void
CaptureBegin(Capture *c, Relation rel, const TrackedTable *tt)
{
	memset(c, 0, sizeof(*c));
	c->tt = *tt;
	c->rel = rel;
	c->desc = RelationGetDescr(rel);
	c->ridatt = get_attnum(RelationGetRelid(rel), RID_COLUMN);
	if (c->ridatt == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("tracked table %s has no %s column",
						RelationGetRelationName(rel), RID_COLUMN)));
	c->hrel = table_open(tt->history, RowExclusiveLock);
	c->hind = CatalogOpenIndexes(c->hrel);
	for (int i = 0; i < c->hind->ri_NumIndices; i++)
		if (c->hind->ri_IndexRelationDescs[i]->rd_rel->relam == BTREE_AM_OID)
			c->ridx = c->hind->ri_IndexRelationDescs[i];
	if (c->ridx == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("history table of %s has no index on rid",
						RelationGetRelationName(rel))));
	c->erel = table_open(tt->ended, RowExclusiveLock);
	c->eind = CatalogOpenIndexes(c->erel);
	c->snap = RegisterSnapshot(GetLatestSnapshot());
	c->hslot = table_slot_create(c->hrel, NULL);
	c->enc = history_encoder(c->desc);
	c->stmtcxt = CurrentMemoryContext;
	c->rowcxt = AllocSetContextCreate(CurrentMemoryContext, "aisec capture row",
									  ALLOCSET_DEFAULT_SIZES);
	c->batchcxt = AllocSetContextCreate(CurrentMemoryContext, "aisec capture batch",
										ALLOCSET_DEFAULT_SIZES);
}

/*
 * Insert n buffered tuples into rel with one heap multi-insert, then their
 * index entries.  The entries point at each slot's tts_tid, which
 * heap_multi_insert sets even when it had to TOAST a tuple (then the
 * slot's own tuple is not the one stored).  aisec's history indexes are on
 * plain columns, which are never TOASTed.
 */
static void
MultiInsert(Relation rel, CatalogIndexState ind, TupleTableSlot **slots, int n)
{
	if (n == 0)
		return;
	heap_multi_insert(rel, slots, n, GetCurrentCommandId(true), 0, NULL);
	for (int i = 0; i < ind->ri_NumIndices; i++)
	{
		Relation	irel = ind->ri_IndexRelationDescs[i];
		IndexInfo  *ii = ind->ri_IndexRelationInfo[i];
		bool		brin = irel->rd_rel->relam == BRIN_AM_OID;
		Datum		values[INDEX_MAX_KEYS];
		bool		isnull[INDEX_MAX_KEYS];
		Datum		last = (Datum) 0;
		BlockNumber lastblock = InvalidBlockNumber;

		if (ii->ii_Expressions != NIL || ii->ii_Predicate != NIL ||
			(brin && ii->ii_NumIndexAttrs != 1))
			elog(ERROR, "aisec history index %s is not as aisec made it",
				 RelationGetRelationName(irel));
		for (int t = 0; t < n; t++)
		{
			for (int k = 0; k < ii->ii_NumIndexAttrs; k++)
				values[k] = slot_getattr(slots[t], ii->ii_IndexAttrNumbers[k], &isnull[k]);

			/*
			 * A BRIN summary covers every row of its block range once it
			 * has taken one row's value; the rows of one batch mostly share
			 * their version (a bigint, passed by value), so one entry per
			 * block and value is enough.
			 */
			if (brin && !isnull[0] && values[0] == last &&
				ItemPointerGetBlockNumber(&slots[t]->tts_tid) == lastblock)
				continue;
			(void) index_insert(irel, values, isnull, &slots[t]->tts_tid, rel,
								UNIQUE_CHECK_NO, false, ii);
			if (brin)
			{
				last = isnull[0] ? (Datum) 0 : values[0];
				lastblock = isnull[0] ? InvalidBlockNumber :
					ItemPointerGetBlockNumber(&slots[t]->tts_tid);
			}
		}
	}
}

/* Write the buffered history and ended records. */
static void
CaptureFlush(Capture *c)
{
	MultiInsert(c->hrel, c->hind, c->hbuf, c->nh);
	MultiInsert(c->erel, c->eind, c->ebuf, c->ne);
	for (int i = 0; i < c->nh; i++)
		ExecClearTuple(c->hbuf[i]);
	for (int i = 0; i < c->ne; i++)
		ExecClearTuple(c->ebuf[i]);
	c->nh = c->ne = 0;
	MemoryContextReset(c->batchcxt);
}

/* Buffer one tuple for rel's multi-insert; flush when a buffer is full. */
static void
CaptureBuffer(Capture *c, TupleTableSlot **buf, int *n, Relation rel,
			  Datum *values, bool *nulls)
{
	MemoryContext old;

	/* Slots live as long as the statement; their tuples, until a flush. */
	if (buf[*n] == NULL)
	{
		/*
		 * An unpinned copy of the descriptor: a thousand slots pinning the
		 * relation's own would make every pin in the resource owner slow.
		 */
		old = MemoryContextSwitchTo(c->stmtcxt);
		if (buf == c->hbuf && c->hdesc == NULL)
			c->hdesc = CreateTupleDescCopy(RelationGetDescr(rel));
		if (buf == c->ebuf && c->edesc == NULL)
			c->edesc = CreateTupleDescCopy(RelationGetDescr(rel));
		buf[*n] = MakeSingleTupleTableSlot(buf == c->hbuf ? c->hdesc : c->edesc,
										   &TTSOpsHeapTuple);
		MemoryContextSwitchTo(old);
	}
	old = MemoryContextSwitchTo(c->batchcxt);
	ExecStoreHeapTuple(heap_form_tuple(RelationGetDescr(rel), values, nulls),
					   buf[*n], false);
	buf[*n]->tts_tableOid = RelationGetRelid(rel);
	(*n)++;
	MemoryContextSwitchTo(old);
	if (*n == CAPTURE_BATCH ||
		MemoryContextMemAllocated(c->batchcxt, false) > CAPTURE_BATCH_BYTES)
		CaptureFlush(c);
}

/* Record the statement's net change and close the history. */
static void
CaptureEnd(Capture *c)
{
	CaptureFlush(c);
	for (int i = 0; i < CAPTURE_BATCH; i++)
	{
		if (c->hbuf[i])
			ExecDropSingleTupleTableSlot(c->hbuf[i]);
		if (c->ebuf[i])
			ExecDropSingleTupleTableSlot(c->ebuf[i]);
	}
	if (c->scan)
		index_endscan(c->scan);
	ExecDropSingleTupleTableSlot(c->hslot);
	UnregisterSnapshot(c->snap);
	history_encoder_done(c->enc);
	MemoryContextDelete(c->rowcxt);
	MemoryContextDelete(c->batchcxt);
	CatalogCloseIndexes(c->hind);
	CatalogCloseIndexes(c->eind);
	table_close(c->hrel, NoLock);
	table_close(c->erel, NoLock);

	if (c->changed || c->rows != 0 ||
		memcmp(c->delta.b, (uint8[SHA256_LEN]) {0}, SHA256_LEN) != 0)
	{
		Relation	drel = table_open(aisec_relid("pending_delta"), RowExclusiveLock);
		Datum		values[PD_NCOLS];
		bool		nulls[PD_NCOLS] = {0};
		bytea	   *fp = palloc(VARHDRSZ + SHA256_LEN);
		HeapTuple	tup;

		SET_VARSIZE(fp, VARHDRSZ + SHA256_LEN);
		memcpy(VARDATA(fp), c->delta.b, SHA256_LEN);
		values[PD_TABLE_NO] = Int32GetDatum(c->tt.table_no);
		values[PD_VERSION] = Int64GetDatum(c->tt.pending);
		values[PD_ROWS] = Int64GetDatum(c->rows);
		values[PD_FINGERPRINT] = PointerGetDatum(fp);
		tup = heap_form_tuple(RelationGetDescr(drel), values, nulls);
		CatalogTupleInsert(drel, tup);
		heap_freetuple(tup);
		table_close(drel, NoLock);
	}
}

/* Check that a row id (NULL if isnull) read from rel belongs to rel. */
static int64
CheckRid(Relation rel, int32 table_no, int64 rid, bool isnull)
{
	if (isnull || rid <= 0 || (rid >> RID_TABLE_SHIFT) != table_no)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s in tracked table %s", RID_COLUMN,
						RelationGetRelationName(rel)),
				 errdetail("Row ids of this table lie between %lld and %lld.",
						   (long long) ((int64) table_no << RID_TABLE_SHIFT) + 1,
						   (long long) (((int64) table_no + 1) << RID_TABLE_SHIFT) - 1),
				 errhint("Let aisec assign %s: do not use OVERRIDING SYSTEM VALUE.",
						 RID_COLUMN)));
	return rid;
}

/* Read a row's aisec_rid (column ridatt), checking that it belongs to rel. */
static int64
SlotRid(Relation rel, int32 table_no, AttrNumber ridatt, TupleTableSlot *slot)
{
	bool		isnull;
	int64		rid = DatumGetInt64(slot_getattr(slot, ridatt, &isnull));

	return CheckRid(rel, table_no, rid, isnull);
}

/* Read a captured row's aisec_rid, checking it. */
static int64
RowRid(Capture *c, TupleTableSlot *slot)
{
	return SlotRid(c->rel, c->tt.table_no, c->ridatt, slot);
}

/* Wrap raw bytes as a bytea datum. */
static Datum
BytesDatum(const uint8 *data, size_t len)
{
	bytea	   *b = palloc(VARHDRSZ + len);

	SET_VARSIZE(b, VARHDRSZ + len);
	memcpy(VARDATA(b), data, len);
	return PointerGetDatum(b);
}

/* Add an open history record for a new row (slot holds a row of rel). */
static void
CaptureInsert(Capture *c, TupleTableSlot *slot)
{
	MemoryContext old = MemoryContextSwitchTo(c->rowcxt);
	Datum		values[HC_NCOLS];
	bool		nulls[HC_NCOLS] = {0};
	const uint8 *salt = NextSalt();
	uint8		hash[SHA256_LEN];
	HeapTuple	row;

	values[HC_RID] = Int64GetDatum(RowRid(c, slot));
	slot_getallattrs(slot);
	history_row_hash(c->enc, slot->tts_values, slot->tts_isnull, salt, hash);
	row = heap_form_tuple(c->desc, slot->tts_values, slot->tts_isnull);

	values[HC_VALID_FROM] = Int64GetDatum(c->tt.pending);
	values[HC_SALT] = BytesDatum(salt, ROW_SALT_LEN);
	values[HC_HASH] = BytesDatum(hash, SHA256_LEN);
	values[HC_DATA] = heap_copy_tuple_as_datum(row, c->desc);
	CaptureBuffer(c, c->hbuf, &c->nh, c->hrel, values, nulls);

	fingerprint_add(&c->delta, hash);
	c->rows++;
	MemoryContextSwitchTo(old);
	MemoryContextReset(c->rowcxt);
}

/* Copy the hash column of rid's history record (d, isnull), checking its form. */
static void
CopyHash(Capture *c, Datum d, bool isnull, int64 rid, uint8 *hash)
{
	bytea	   *h = isnull ? NULL : DatumGetByteaPP(d);

	if (isnull || VARSIZE_ANY_EXHDR(h) != SHA256_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("history of %s holds a malformed hash for row %lld",
						RelationGetRelationName(c->rel), (long long) rid),
				 errhint("Run aisec.verify() on the table's dataset.")));
	memcpy(hash, VARDATA_ANY(h), SHA256_LEN);
}

/* Copy the hash of rid's history record in slot. */
static void
RecordHash(Capture *c, TupleTableSlot *slot, int64 rid, uint8 *hash)
{
	bool		isnull;
	Datum		d = slot_getattr(slot, HC_HASH + 1, &isnull);

	CopyHash(c, d, isnull, rid, hash);
}

/*
 * Find rid's latest history record with valid_from below "below": its
 * valid_from, where it is, its hash.
 */
static bool
LatestRecord(Capture *c, int64 rid, int64 below, int64 *from, ItemPointer tid,
			 uint8 *hash)
{
	ScanKeyData key;
	bool		found = false;

	/* The scan's own memory lives in the statement's context, not rowcxt. */
	if (c->scan == NULL)
		c->scan = index_beginscan(c->hrel, c->ridx, c->snap, 1, 0);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(rid));
	index_rescan(c->scan, &key, 1, NULL, 0);
	while (index_getnext_slot(c->scan, ForwardScanDirection, c->hslot))
	{
		bool		isnull;
		int64		f = DatumGetInt64(slot_getattr(c->hslot, HC_VALID_FROM + 1, &isnull));

		if ((found && f <= *from) || f >= below)
			continue;
		RecordHash(c, c->hslot, rid, hash);
		*from = f;
		*tid = c->hslot->tts_tid;
		found = true;
	}
	return found;
}

/* ---------------------------------------------------------------------
 * Open records of many rows at once
 *
 * Ending a row's open record needs its valid_from and hash.  One row is
 * found through the rid index: a descent and a heap fetch.  When a
 * statement changes about as many rows as the history has pages, one
 * pass over the history (through a small ring of buffers, as any large
 * sequential scan) is cheaper than that many probes, as a hash join is
 * cheaper than a nested loop over many rows: the statement's row ids go
 * into a hash table, and the pass keeps, for each, its latest visible
 * record.  The table holds at most hash_mem's worth of ids; a larger
 * statement is done in parts.
 * ---------------------------------------------------------------------
 */

/* Position a private read pointer at the start of a transition table. */
static int
OpenTransition(Tuplestorestate *ts)
{
	int			ptr = tuplestore_alloc_read_pointer(ts, EXEC_FLAG_REWIND);

	tuplestore_select_read_pointer(ts, ptr);
	tuplestore_rescan(ts);
	return ptr;
}

/* Read the next row of a transition table into slot. */
static bool
NextTransition(Tuplestorestate *ts, int ptr, TupleTableSlot *slot)
{
	tuplestore_select_read_pointer(ts, ptr);
	return tuplestore_gettupleslot(ts, true, false, slot);
}

/* A row id whose open record is looked for; from = 0 until one is found. */
typedef struct OpenEntry
{
	int64		rid;
	int64		from;
	ItemPointerData tid;
	char		status;			/* simplehash's */
} OpenEntry;

#define SH_PREFIX		openrec
#define SH_ELEMENT_TYPE OpenEntry
#define SH_KEY_TYPE		int64
#define SH_KEY			rid
#define SH_HASH_KEY(tb, key) hash_combine(murmurhash32((uint32) (key)), \
										  murmurhash32((uint32) ((uint64) (key) >> 32)))
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* Order row ids. */
static int
CompareRids(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/* Sort n row ids; return one that occurs twice, or 0 if none does. */
static int64
RepeatedRid(int64 *rids, int64 n)
{
	qsort(rids, n, sizeof(int64), CompareRids);
	for (int64 i = 1; i < n; i++)
		if (rids[i] == rids[i - 1])
			return rids[i];
	return 0;
}

/* Row ids looked up in one pass at most: hash_mem, as a hash join. */
static int64
OpenRecordsMax(void)
{
	return Max((int64) (get_hash_memory_limit() / (2 * sizeof(OpenEntry))), 1024);
}

/*
 * Whether n rows' open records are cheaper to find with one pass over the
 * history than with n index probes.  Measured on a 1M-row table whose
 * history did not fit in shared_buffers: a probe cost about as much as
 * reading one history page in a sequential pass (3.2 and 3.3 us).  Under
 * SERIALIZABLE a pass would take a predicate lock on the whole history,
 * making concurrent writers of other rows conflict, so probes are kept.
 */
static bool
OpenRecordsByScan(Capture *c, int64 n)
{
	return !IsolationIsSerializable() &&
		n >= (int64) RelationGetNumberOfBlocks(c->hrel);
}

/*
 * The pass meets every record of the history, most of them of rows the
 * statement did not change.  A lookup in the open-records table misses
 * the CPU cache (the table is megabytes), so a bit array in front of it,
 * 16 bits per id looked up (hashed by Fibonacci hashing), turns away about
 * 94% of the other rows' records with one cached read.
 */
static inline uint64
FilterBit(const Capture *c, int64 rid)
{
	return ((uint64) rid * UINT64CONST(0x9E3779B97F4A7C15)) >> c->filter_shift;
}

static inline bool
FilterHas(const Capture *c, int64 rid)
{
	uint64		b = FilterBit(c, rid);

	return (c->filter[b / 64] >> (b % 64)) & 1;
}

/*
 * Take n row ids to look up: rids, or else the ids of the next n rows of
 * transition table ts (read through read pointer ptr into slot).  Keep
 * them in c->rids, in order, and in the open-records table and its filter.
 * An UPDATE changes a row twice when a foreign-key cascade it sets off
 * comes back to the row (a self-referencing ON UPDATE CASCADE), and its
 * transition tables then hold the row twice, in the order of the changes:
 * c->skip marks each occurrence but the last, so that the row's open
 * record is ended once and its last version recorded.
 */
static void
LookUpRids(Capture *c, Tuplestorestate *ts, int ptr, TupleTableSlot *slot,
		   const int64 *rids, int64 n)
{
	MemoryContext old;
	int			bits = 10;

	if (c->opencxt == NULL)
		c->opencxt = AllocSetContextCreate(c->stmtcxt, "aisec open records",
										   ALLOCSET_DEFAULT_SIZES);
	/* At most 2^29 bits (64 MB): more would only cut false positives. */
	while (bits < 29 && ((int64) 1 << bits) < 16 * n)
		bits++;
	old = MemoryContextSwitchTo(c->opencxt);
	c->open = openrec_create(c->opencxt, n, NULL);
	c->rids = palloc(n * sizeof(int64));
	c->filter = palloc0(((Size) 1 << bits) / 8);
	c->filter_shift = 64 - bits;
	MemoryContextSwitchTo(old);
	for (int64 i = 0; i < n; i++)
	{
		OpenEntry  *e;
		bool		found;
		uint64		b;

		if (rids)
			c->rids[i] = rids[i];
		else
		{
			if (!NextTransition(ts, ptr, slot))
				elog(ERROR, "aisec.capture: transition table ended early");
			c->rids[i] = RowRid(c, slot);
		}
		e = openrec_insert(c->open, c->rids[i], &found);
		if (found)
		{
			if (c->skip == NULL)
				c->skip = MemoryContextAllocZero(c->opencxt, n * sizeof(bool));
			continue;
		}
		e->from = 0;
		b = FilterBit(c, c->rids[i]);
		c->filter[b / 64] |= UINT64CONST(1) << (b % 64);
	}
	if (c->skip)
	{
		/* Mark every occurrence that a later one of the same id follows. */
		struct openrec_hash *later = openrec_create(c->opencxt, n, NULL);

		for (int64 i = n - 1; i >= 0; i--)
		{
			bool		found;

			(void) openrec_insert(later, c->rids[i], &found);
			c->skip[i] = found;
		}
		openrec_destroy(later);
	}
}

/*
 * Refuse an UPDATE of more rows than one part (OpenRecordsMax) that
 * changed a row twice: LookUpRids sees one part at a time.  Reads all n
 * old rows of ts, then rewinds its read pointer.
 */
static void
RefuseRepeatedRids(Capture *c, Tuplestorestate *ts, int ptr, TupleTableSlot *slot, int64 n)
{
	int64	   *all = MemoryContextAllocHuge(c->stmtcxt, n * sizeof(int64));
	int64		repeated;

	for (int64 i = 0; i < n; i++)
	{
		if (!NextTransition(ts, ptr, slot))
			elog(ERROR, "aisec.capture: transition table ended early");
		all[i] = RowRid(c, slot);
	}
	repeated = RepeatedRid(all, n);
	if (repeated != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot record an UPDATE of more than %lld rows that changes a row of tracked table %s twice",
						(long long) OpenRecordsMax(), RelationGetRelationName(c->rel)),
				 errdetail("A foreign-key cascade changed row id %lld again.",
						   (long long) repeated),
				 errhint("Raise work_mem, or update fewer rows at a time.")));
	pfree(all);
	tuplestore_select_read_pointer(ts, ptr);
	tuplestore_rescan(ts);
}

/*
 * Find the open records of the ids LookUpRids took with one pass over the
 * history: for each, its latest record with valid_from below "below".
 * The pass reads each page (a large history through a small ring of
 * buffers, as a sequential scan does) and reads the row id of each record
 * in place: only the records of rows looked up are checked for visibility
 * and taken apart.
 * Each record found has its hash taken from the statement's fingerprint
 * delta at once (every one will be ended or deleted), so the table keeps
 * no hashes; when a later record of the same row turns up, the earlier
 * one is fetched again to give its hash back.
 */
static void
FindOpenRecords(Capture *c, int64 below)
{
	TupleDesc	hdesc = RelationGetDescr(c->hrel);
	BufferAccessStrategy ring;
	BlockNumber nblocks;
	TupleTableSlot *prev;

	/* rid is the history's first column, a bigint that is never NULL. */
	if (TupleDescAttr(hdesc, HC_RID)->atttypid != INT8OID ||
		!TupleDescAttr(hdesc, HC_RID)->attnotnull)
		elog(ERROR, "aisec history %s is not as aisec made it",
			 RelationGetRelationName(c->hrel));

	prev = table_slot_create(c->hrel, NULL);
	pgstat_count_heap_scan(c->hrel);
	/* A ring of buffers when the history is large, as for a seq scan. */
	nblocks = RelationGetNumberOfBlocks(c->hrel);
	ring = nblocks > (BlockNumber) (NBuffers / 4) ? GetAccessStrategy(BAS_BULKREAD) : NULL;
	for (BlockNumber blk = 0; blk < nblocks; blk++)
	{
		Buffer		buf;
		Page		page;
		bool		all_visible;
		OffsetNumber maxoff;

		CHECK_FOR_INTERRUPTS();
		buf = ReadBufferExtended(c->hrel, MAIN_FORKNUM, blk, RBM_NORMAL, ring);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		all_visible = PageIsAllVisible(page) && !c->snap->takenDuringRecovery;
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
		{
			ItemId		lp = PageGetItemId(page, off);
			HeapTupleData tup;
			OpenEntry  *e;
			int64		rid;
			int64		f;
			Datum		d;
			bool		isnull;
			uint8		hash[SHA256_LEN];

			if (!ItemIdIsNormal(lp))
				continue;
			tup.t_data = (HeapTupleHeader) PageGetItem(page, lp);
			tup.t_len = ItemIdGetLength(lp);
			tup.t_tableOid = RelationGetRelid(c->hrel);
			ItemPointerSet(&tup.t_self, blk, off);
			rid = DatumGetInt64(heap_getattr(&tup, HC_RID + 1, hdesc, &isnull));
			if (isnull || !FilterHas(c, rid))
				continue;
			e = openrec_lookup(c->open, rid);
			if (e == NULL)
				continue;
			if (!all_visible && !HeapTupleSatisfiesVisibility(&tup, c->snap, buf))
				continue;
			f = DatumGetInt64(heap_getattr(&tup, HC_VALID_FROM + 1, hdesc, &isnull));
			if ((e->from != 0 && f <= e->from) || f >= below)
				continue;
			d = heap_getattr(&tup, HC_HASH + 1, hdesc, &isnull);
			CopyHash(c, d, isnull, rid, hash);
			fingerprint_sub(&c->delta, hash);
			if (e->from != 0)
			{
				if (!table_tuple_fetch_row_version(c->hrel, &e->tid, c->snap, prev))
					elog(ERROR, "aisec.capture: history record of row %lld vanished",
						 (long long) rid);
				RecordHash(c, prev, rid, hash);
				fingerprint_add(&c->delta, hash);
			}
			e->from = f;
			e->tid = tup.t_self;
		}
		UnlockReleaseBuffer(buf);
	}
	if (ring)
		FreeAccessStrategy(ring);
	ExecDropSingleTupleTableSlot(prev);
	c->passed = true;
}

/* Drop the open records found by FindOpenRecords. */
static void
ForgetOpenRecords(Capture *c)
{
	if (c->open == NULL)
		return;
	c->open = NULL;
	c->rids = NULL;
	c->filter = NULL;
	c->skip = NULL;
	c->passed = false;
	MemoryContextReset(c->opencxt);
}

/* Record that rid's record (rid, from) ended in the pending version. */
static void
EndRecord(Capture *c, int64 rid, int64 from)
{
	Datum		values[EC_NCOLS];
	bool		nulls[EC_NCOLS] = {0};

	values[EC_RID] = Int64GetDatum(rid);
	values[EC_VALID_FROM] = Int64GetDatum(from);
	values[EC_VALID_TO] = Int64GetDatum(c->tt.pending);
	CaptureBuffer(c, c->ebuf, &c->ne, c->erel, values, nulls);
}

/*
 * End the open history record of a row that is going away: the row's
 * latest record (highest valid_from) is its open one.  Record that it ended
 * in the pending version, or delete it if it appeared in the pending
 * version itself (it was never part of a committed version).  History
 * records themselves are never updated, so this is an index lookup and an
 * append to the narrow ended-records table.  Return false if the row has
 * no record: it was inserted since the last commit, which will give it one.
 */
static bool
CaptureRemove(Capture *c, int64 rid)
{
	int64		from = 0;
	ItemPointerData tid;

	if (c->passed)
	{
		/* Found by FindOpenRecords, its hash already taken off. */
		OpenEntry  *e = openrec_lookup(c->open, rid);

		if (e == NULL)
			elog(ERROR, "aisec.capture: row id %lld was not looked up", (long long) rid);
		if (e->from == 0)
			return false;
		from = e->from;
		tid = e->tid;
	}
	else
	{
		uint8		hash[SHA256_LEN];

		if (!LatestRecord(c, rid, PG_INT64_MAX, &from, &tid, hash))
			return false;
		fingerprint_sub(&c->delta, hash);
	}
	if (from >= c->tt.pending)
		CatalogTupleDelete(c->hrel, &tid);
	else
		EndRecord(c, rid, from);
	c->rows--;
	return true;
}

/* ---------------------------------------------------------------------
 * Rows not yet in history
 *
 * An inserted row gets its history record from the next commit, not when
 * it is written: a row trigger notes its row id and ctid in memory, the
 * statement's AFTER trigger writes the notes to aisec.pending_row, and
 * commit hashes the rows found there (history_capture_pending).  UPDATE
 * and DELETE of such a row note that too.  A ctid can go stale (the row
 * is updated again, or the table is rewritten): commit follows update
 * chains, and scans the table for any row it still cannot find.
 * ---------------------------------------------------------------------
 */

/* Columns of aisec.pending_row. */
enum
{
	PR_TABLE_NO = 0,
	PR_SEQ,
	PR_ENTRIES,
	PR_NCOLS
};

/* What an entry of aisec.pending_row says about a row id. */
#define PENDING_AT		'i'		/* inserted; its tuple was at tid */
#define PENDING_MOVED	'u'		/* updated; where to, not noted */
#define PENDING_GONE	'd'		/* deleted */
#define PENDING_ENDS	'e'		/* updated, new record written; the open
								 * committed record ends at commit */

/*
 * An entry list (aisec.pending_row.entries) is written in one of two forms:
 * - fixed (earlier aisec): 15 bytes per note, kind (1), row id (8),
 *   block (4), offset (2), big-endian;
 * - delta: NOTES_DELTA, the number of notes (4 bytes, big-endian), then
 *   per note its kind (1 byte) and, as unsigned LEB128 varints, the
 *   zigzag-encoded differences of its row id and block number from the
 *   previous note's (0 before the first) and its offset.  Rows inserted
 *   one after another take 4 bytes each.
 * A note without a ctid has block InvalidBlockNumber and offset 0.
 */
#define PENDING_ENTRY_LEN	15
#define NOTES_DELTA		0x01
#define NOTES_HEADER	(VARHDRSZ + 1 + 4)

/* Notes held in memory before they are written, per buffer. */
#define NOTES_MAX		(1 << 20)

typedef struct PendingNote
{
	int64		rid;
	ItemPointerData tid;
	char		kind;
	int32		order;			/* position among a commit's entries */
} PendingNote;

/*
 * Notes on one tracked table from one (sub)transaction, not yet written:
 * an entry list in the delta form, built in place (data; its first
 * NOTES_HEADER bytes are filled in when it is written).
 */
typedef struct NoteBuffer
{
	struct NoteBuffer *next;
	Oid			relid;
	int32		table_no;
	Oid			history;		/* history_<n> */
	AttrNumber	ridatt;
	SubTransactionId subid;
	int			n;				/* notes */
	Size		len;			/* bytes used in data */
	Size		size;			/* bytes allocated */
	uint8	   *data;
	int64		last_rid;		/* the last note's, for the next delta */
	int64		last_block;
} NoteBuffer;

/* Drop the notes of a buffer (written or forgotten). */
static void
ForgetBuffer(NoteBuffer *nb)
{
	nb->n = 0;
	nb->len = NOTES_HEADER;
	nb->last_rid = 0;
	nb->last_block = 0;
}

/* Fill in the header of nb's entry list (a bytea), so it can be read or written. */
static void
SealNotes(NoteBuffer *nb)
{
	SET_VARSIZE(nb->data, nb->len);
	nb->data[VARHDRSZ] = NOTES_DELTA;
	for (int b = 0; b < 4; b++)
		nb->data[VARHDRSZ + 1 + b] = (uint8) ((uint32) nb->n >> (24 - 8 * b));
}

/* Reads the notes of an entry list in either form, in order. */
typedef struct NoteReader
{
	const uint8 *p;
	const uint8 *end;
	bool		delta;
	int64		left;
	int64		rid;
	int64		block;
} NoteReader;

static void
NoteCorrupt(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("aisec.pending_row holds a malformed entry list")));
}

/* Start reading an entry list of len bytes at p. */
static void
NoteReaderInit(NoteReader *r, const uint8 *p, Size len)
{
	memset(r, 0, sizeof(*r));
	r->p = p;
	r->end = p + len;
	if (len > 0 && p[0] == NOTES_DELTA)
	{
		if (len < 5)
			NoteCorrupt();
		r->delta = true;
		r->left = ((int64) p[1] << 24) | (p[2] << 16) | (p[3] << 8) | p[4];
		r->p += 5;
	}
	else if (len % PENDING_ENTRY_LEN != 0)
		NoteCorrupt();
}

/* Read an unsigned LEB128 varint. */
static uint64
NoteVarint(NoteReader *r)
{
	uint64		v = 0;

	for (int shift = 0; shift < 64; shift += 7)
	{
		uint8		b;

		if (r->p >= r->end)
			NoteCorrupt();
		b = *r->p++;
		v |= (uint64) (b & 0x7F) << shift;
		if ((b & 0x80) == 0)
			return v;
	}
	NoteCorrupt();
	return 0;					/* keep the compiler quiet */
}

/* The next note into *note (not its order); false at the end. */
static bool
NoteNext(NoteReader *r, PendingNote *note)
{
	uint64		block;
	uint64		off;

	if (r->delta)
	{
		uint64		d;

		if (r->left == 0)
		{
			if (r->p != r->end)
				NoteCorrupt();
			return false;
		}
		r->left--;
		if (r->p >= r->end)
			NoteCorrupt();
		note->kind = (char) *r->p++;
		d = NoteVarint(r);
		r->rid += (int64) ((d >> 1) ^ -(d & 1));
		d = NoteVarint(r);
		r->block += (int64) ((d >> 1) ^ -(d & 1));
		off = NoteVarint(r);
		block = (uint64) r->block;
		note->rid = r->rid;
	}
	else
	{
		uint64		rid = 0;

		if (r->p == r->end)
			return false;
		for (int b = 0; b < 8; b++)
			rid = (rid << 8) | r->p[1 + b];
		block = 0;
		for (int b = 0; b < 4; b++)
			block = (block << 8) | r->p[9 + b];
		off = (r->p[13] << 8) | r->p[14];
		note->kind = (char) r->p[0];
		note->rid = (int64) rid;
		r->p += PENDING_ENTRY_LEN;
	}
	if (block > PG_UINT32_MAX || off > PG_UINT16_MAX ||
		(note->kind != PENDING_AT && note->kind != PENDING_MOVED &&
		 note->kind != PENDING_GONE && note->kind != PENDING_ENDS))
		NoteCorrupt();
	ItemPointerSet(&note->tid, (BlockNumber) block, (OffsetNumber) off);
	return true;
}

/* The transaction's note buffers (in TopTransactionContext). */
static NoteBuffer *note_buffers = NULL;
static NoteBuffer *note_last = NULL;	/* the one used last */
static bool note_callbacks = false;

/*
 * The size of a tracked table when an INSERT (or COPY) into it started,
 * for each such statement under way, innermost first (in
 * TopTransactionContext).  See NoteNewBlocks.
 */
typedef struct InsertStart
{
	struct InsertStart *next;
	Oid			relid;
	BlockNumber nblocks;
	SubTransactionId subid;
} InsertStart;

static InsertStart *insert_starts = NULL;

/* Write the notes of nb as one row of aisec.pending_row. */
static void
WritePending(NoteBuffer *nb)
{
	Relation	rel;
	Datum		values[PR_NCOLS];
	bool		nulls[PR_NCOLS] = {0};
	HeapTuple	tup;

	if (nb->n == 0)
		return;
	SealNotes(nb);

	rel = table_open(aisec_relid("pending_row"), RowExclusiveLock);
	values[PR_TABLE_NO] = Int32GetDatum(nb->table_no);
	values[PR_SEQ] = Int64GetDatum(nextval_internal(aisec_relid("pending_row_seq"), false));
	values[PR_ENTRIES] = PointerGetDatum(nb->data);
	tup = heap_form_tuple(RelationGetDescr(rel), values, nulls);
	CatalogTupleInsert(rel, tup);
	heap_freetuple(tup);
	table_close(rel, NoLock);
}

/* Decode the entries of one aisec.pending_row row, appending to *notes. */
static void
ReadPending(bytea *entries, PendingNote **notes, int *n, int *size)
{
	NoteReader r;
	PendingNote note;

	NoteReaderInit(&r, (const uint8 *) VARDATA_ANY(entries), VARSIZE_ANY_EXHDR(entries));
	while (NoteNext(&r, &note))
	{
		if (*n == *size)
		{
			*size = Max(*size * 2, 1024);
			if ((Size) *size > MaxAllocHugeSize / sizeof(PendingNote))
				elog(ERROR, "too many rows written since the last commit");
			*notes = repalloc_huge(*notes, sizeof(PendingNote) * *size);
		}
		note.order = *n;
		(*notes)[(*n)++] = note;
	}
}

/* Open the btree on a history table's rid column (AccessShareLock). */
Relation
history_open_rid_index(Relation hrel)
{
	List	   *indexes = RelationGetIndexList(hrel);
	ListCell   *lc;

	foreach(lc, indexes)
	{
		Relation	idx = index_open(lfirst_oid(lc), AccessShareLock);

		if (idx->rd_rel->relam == BTREE_AM_OID)
			return idx;
		index_close(idx, AccessShareLock);
	}
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("history table %s has no index on rid", RelationGetRelationName(hrel))));
	return NULL;				/* keep the compiler quiet */
}

/* The highest row id with a record visible to snap in history hrel (0 if none). */
static int64
MaxRecordedRid(Relation hrel, Relation ridx, Snapshot snap, TupleTableSlot *slot)
{
	IndexScanDesc scan = index_beginscan(hrel, ridx, snap, 0, 0);
	int64		max = 0;

	index_rescan(scan, NULL, 0, NULL, 0);
	if (index_getnext_slot(scan, BackwardScanDirection, slot))
	{
		bool		isnull;

		max = DatumGetInt64(slot_getattr(slot, HC_RID + 1, &isnull));
	}
	index_endscan(scan);
	return max;
}

/*
 * Refuse an inserted row whose id names a row the table's history holds,
 * current or deleted: a row id names one row for the life of the table.
 * Only an explicit id (OVERRIDING SYSTEM VALUE, COPY) or a reset identity
 * sequence can do that, so only ids up to the highest recorded one are
 * looked up.  Called with the commit lock held (no commit adds records
 * meanwhile) and before any later statement can update or delete the row:
 * capture would otherwise take the history of the row the id named for
 * this row's.
 */
static void
RefuseRecordedRids(NoteBuffer *nb)
{
	Relation	hrel = NULL;
	Relation	ridx = NULL;
	Snapshot	snap = NULL;
	IndexScanDesc scan = NULL;
	TupleTableSlot *slot = NULL;
	int64		maxrid = 0;
	NoteReader r;
	PendingNote notebuf;
	PendingNote *note = &notebuf;

	SealNotes(nb);
	NoteReaderInit(&r, nb->data + VARHDRSZ, nb->len - VARHDRSZ);
	while (NoteNext(&r, note))
	{
		ScanKeyData key;

		if (note->kind != PENDING_AT)
			continue;
		if (hrel == NULL)
		{
			hrel = table_open(nb->history, AccessShareLock);
			ridx = history_open_rid_index(hrel);
			snap = RegisterSnapshot(GetLatestSnapshot());
			slot = table_slot_create(hrel, NULL);
			maxrid = MaxRecordedRid(hrel, ridx, snap, slot);
			scan = index_beginscan(hrel, ridx, snap, 1, 0);
		}
		if (note->rid > maxrid)
			continue;
		ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(note->rid));
		index_rescan(scan, &key, 1, NULL, 0);
		if (index_getnext_slot(scan, ForwardScanDirection, slot))
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg("row id %lld of tracked table %s already names a row in its history",
							(long long) note->rid, get_rel_name(nb->relid)),
					 errdetail("A row id names one row for the life of the table: it is not given to another row, even after that row is deleted."),
					 errhint("Insert the row without %s and aisec assigns a new one.",
							 RID_COLUMN)));
	}
	if (hrel == NULL)
		return;
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snap);
	index_close(ridx, AccessShareLock);
	table_close(hrel, AccessShareLock);
}

/* Write the notes of one table (or all, InvalidOid) from one subtransaction (or all). */
static void
FlushNotes(Oid relid, SubTransactionId subid)
{
	for (NoteBuffer *nb = note_buffers; nb != NULL; nb = nb->next)
	{
		if (nb->n == 0 ||
			(OidIsValid(relid) && nb->relid != relid) ||
			(subid != InvalidSubTransactionId && nb->subid != subid))
			continue;
		/* Like every capture, hold the commit lock until the end. */
		aisec_lock_shared(AISEC_LOCK_VERSION_COMMIT);
		RefuseRecordedRids(nb);
		WritePending(nb);
		ForgetBuffer(nb);
	}
}

/*
 * Drop the buffers of an aborted subtransaction (and of its children) with
 * their notes; hand a committed one's notes up to its parent.  Empty
 * buffers go too, so a loop of many subtransactions does not pile them up.
 */
static void
NotesSubXact(SubXactEvent event, SubTransactionId mySubid,
			 SubTransactionId parentSubid, void *arg)
{
	NoteBuffer **link = &note_buffers;

	if (event != SUBXACT_EVENT_ABORT_SUB && event != SUBXACT_EVENT_COMMIT_SUB)
		return;
	/* Statements that started in an aborted subtransaction have ended. */
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		InsertStart **s = &insert_starts;

		while (*s != NULL)
		{
			InsertStart *start = *s;

			if (start->subid >= mySubid)
			{
				*s = start->next;
				pfree(start);
			}
			else
				s = &start->next;
		}
	}
	while (*link != NULL)
	{
		NoteBuffer *nb = *link;
		bool		drop = false;

		if (event == SUBXACT_EVENT_ABORT_SUB)
			drop = nb->subid >= mySubid;
		else if (nb->subid == mySubid)
		{
			drop = nb->n == 0;
			nb->subid = parentSubid;
		}
		if (drop)
		{
			*link = nb->next;
			if (nb->data)
				pfree(nb->data);
			pfree(nb);
		}
		else
			link = &nb->next;
	}
	note_last = NULL;
}

/* Write any notes left at commit; forget them when the transaction ends. */
static void
NotesXact(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			FlushNotes(InvalidOid, InvalidSubTransactionId);
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			note_buffers = NULL;
			note_last = NULL;
			insert_starts = NULL;
			break;
		default:
			break;
	}
}

/* Register the transaction callbacks that keep notes (once). */
static void
NoteCallbacks(void)
{
	if (note_callbacks)
		return;
	RegisterXactCallback(NotesXact, NULL);
	RegisterSubXactCallback(NotesSubXact, NULL);
	note_callbacks = true;
}

/* The buffer for notes on relid in the current subtransaction. */
static NoteBuffer *
NoteBufferFor(Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	SubTransactionId subid = GetCurrentSubTransactionId();
	NoteBuffer *nb;
	TrackedTable tt;
	AttrNumber	ridatt;

	if (note_last && note_last->relid == relid && note_last->subid == subid)
		return note_last;
	for (nb = note_buffers; nb != NULL; nb = nb->next)
		if (nb->relid == relid && nb->subid == subid)
			return note_last = nb;

	NoteCallbacks();
	if (!history_lookup(relid, &tt))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s is not tracked by aisec", RelationGetRelationName(rel)),
				 errhint("Drop the leftover aisec_capture_* triggers or call aisec.track().")));
	ridatt = get_attnum(relid, RID_COLUMN);
	if (ridatt == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("tracked table %s has no %s column",
						RelationGetRelationName(rel), RID_COLUMN)));
	nb = MemoryContextAllocZero(TopTransactionContext, sizeof(NoteBuffer));
	nb->relid = relid;
	nb->table_no = tt.table_no;
	nb->history = tt.history;
	nb->ridatt = ridatt;
	nb->subid = subid;
	nb->next = note_buffers;
	note_buffers = nb;
	return note_last = nb;
}

/* Append v to nb as an unsigned LEB128 varint. */
static inline void
NoteAppendVarint(NoteBuffer *nb, uint64 v)
{
	while (v >= 0x80)
	{
		nb->data[nb->len++] = (uint8) (v | 0x80);
		v >>= 7;
	}
	nb->data[nb->len++] = (uint8) v;
}

/* Add a note to a buffer, writing the buffer out when it is full. */
static void
AddNote(NoteBuffer *nb, int64 rid, ItemPointer tid, char kind)
{
	int64		block = tid ? ItemPointerGetBlockNumberNoCheck(tid) : InvalidBlockNumber;
	uint64		d;

	if (nb->n == NOTES_MAX)
		FlushNotes(nb->relid, nb->subid);
	/* kind, and up to 10, 10 and 3 bytes of varints */
	if (nb->data == NULL || nb->size - nb->len < 24)
	{
		Size		size = Max(nb->size * 2, 1024);

		nb->data = nb->data
			? repalloc(nb->data, size)
			: MemoryContextAlloc(TopTransactionContext, size);
		nb->size = size;
		if (nb->len < NOTES_HEADER)
			nb->len = NOTES_HEADER;
	}
	nb->data[nb->len++] = (uint8) kind;
	d = (uint64) rid - (uint64) nb->last_rid;
	NoteAppendVarint(nb, (d << 1) ^ (uint64) ((int64) d >> 63));
	d = (uint64) block - (uint64) nb->last_block;
	NoteAppendVarint(nb, (d << 1) ^ (uint64) ((int64) d >> 63));
	NoteAppendVarint(nb, tid ? ItemPointerGetOffsetNumberNoCheck(tid) : 0);
	nb->last_rid = rid;
	nb->last_block = block;
	nb->n++;
}

/* Forget the unwritten notes on a table (it is being untracked). */
static void
ForgetNotes(Oid relid)
{
	for (NoteBuffer *nb = note_buffers; nb != NULL; nb = nb->next)
		if (nb->relid == relid)
			ForgetBuffer(nb);
}

/* Trigger: note where an inserted row is, for the next commit. */
PG_FUNCTION_INFO_V1(aisec_capture_row);
Datum
aisec_capture_row(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	NoteBuffer *nb;
	int64		rid;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "aisec.capture_row: not called as a trigger");
	if (!TRIGGER_FIRED_FOR_ROW(td->tg_event) || !TRIGGER_FIRED_AFTER(td->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(td->tg_event))
		elog(ERROR, "aisec.capture_row: must be an AFTER INSERT ... FOR EACH ROW trigger");
	nb = NoteBufferFor(td->tg_relation);
	rid = SlotRid(td->tg_relation, nb->table_no, nb->ridatt, td->tg_trigslot);
	AddNote(nb, rid, &td->tg_trigslot->tts_tid, PENDING_AT);
	return PointerGetDatum(NULL);
}

/* ---------------------------------------------------------------------
 * Inserted rows in new blocks
 *
 * The row trigger costs each inserted row an event in the after-trigger
 * queue, a fetch of the row when the event fires and a function call,
 * about as much as the rest of capture together.  Most rows an INSERT or
 * COPY writes go into blocks it adds to the table.  So the statement's
 * BEFORE trigger records the table's size; the row trigger's WHEN
 * condition, capture_row_needed(), lets through only rows written into
 * older blocks (with room to spare); and the statement's AFTER trigger
 * notes the rows in the blocks added since: those the transaction
 * inserted and has not deleted again (not new versions made by an
 * UPDATE).  Rows another statement of the transaction wrote there (one
 * nested in this one) may be noted twice, at the same place, which the
 * commit takes as one.
 * ---------------------------------------------------------------------
 */

/* BEFORE INSERT statement trigger: remember the table's size. */
static void
InsertStarts(Relation rel)
{
	InsertStart *start = MemoryContextAlloc(TopTransactionContext, sizeof(InsertStart));

	NoteCallbacks();
	start->relid = RelationGetRelid(rel);
	start->nblocks = RelationGetNumberOfBlocks(rel);
	start->subid = GetCurrentSubTransactionId();
	start->next = insert_starts;
	insert_starts = start;
}

/*
 * WHEN condition of the row trigger: whether an inserted row (its table,
 * its ctid) lies in a block the table had when the statement started, so
 * that the row trigger must note it.  True if no statement start is known
 * (rows applied by logical replication fire no statement trigger).
 */
PG_FUNCTION_INFO_V1(aisec_capture_row_needed);
Datum
aisec_capture_row_needed(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ItemPointer tid = (ItemPointer) PG_GETARG_POINTER(1);

	for (InsertStart *start = insert_starts; start != NULL; start = start->next)
		if (start->relid == relid)
			PG_RETURN_BOOL(ItemPointerGetBlockNumberNoCheck(tid) < start->nblocks);
	PG_RETURN_BOOL(true);
}

/*
 * AFTER INSERT statement trigger: forget the statement's start and, if
 * scan, note the rows it (or one it ran) inserted into the blocks it added
 * to rel.
 */
static void
NoteNewBlocks(Relation rel, bool scan)
{
	Oid			relid = RelationGetRelid(rel);
	InsertStart **link = &insert_starts;
	BlockNumber from;
	BlockNumber to;
	NoteBuffer *nb;
	TupleDesc	desc = RelationGetDescr(rel);

	while (*link != NULL && (*link)->relid != relid)
		link = &(*link)->next;
	if (*link == NULL)
		return;
	{
		InsertStart *start = *link;

		from = start->nblocks;
		*link = start->next;
		pfree(start);
	}
	to = RelationGetNumberOfBlocks(rel);
	if (!scan || from >= to)
		return;
	nb = NoteBufferFor(rel);
	for (BlockNumber blk = from; blk < to; blk++)
	{
		Buffer		buf;
		Page		page;
		OffsetNumber maxoff;
		int			n = 0;
		OffsetNumber offs[MaxHeapTuplesPerPage];
		int64		rids[MaxHeapTuplesPerPage];
		bool		nulls[MaxHeapTuplesPerPage];

		CHECK_FOR_INTERRUPTS();
		buf = ReadBuffer(rel, blk);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		maxoff = PageIsNew(page) ? InvalidOffsetNumber : PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
		{
			ItemId		lp = PageGetItemId(page, off);
			HeapTupleData tup;
			HeapTupleHeader h;

			if (!ItemIdIsNormal(lp))
				continue;
			h = (HeapTupleHeader) PageGetItem(page, lp);
			ItemPointerSet(&tup.t_self, blk, off);

			/* Inserted by this transaction, not by an UPDATE. */
			if (!TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetRawXmin(h)) ||
				(h->t_infomask & HEAP_UPDATED))
				continue;
			/* Deleted again (not updated: its update chain leads on). */
			if (!(h->t_infomask & HEAP_XMAX_INVALID) &&
				!HEAP_XMAX_IS_LOCKED_ONLY(h->t_infomask) &&
				!(h->t_infomask & HEAP_XMAX_IS_MULTI) &&
				TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetRawXmax(h)) &&
				ItemPointerEquals(&h->t_ctid, &tup.t_self))
				continue;
			tup.t_data = h;
			tup.t_len = ItemIdGetLength(lp);
			tup.t_tableOid = relid;
			offs[n] = off;
			rids[n] = DatumGetInt64(heap_getattr(&tup, nb->ridatt, desc, &nulls[n]));
			n++;
		}
		UnlockReleaseBuffer(buf);
		for (int i = 0; i < n; i++)
		{
			ItemPointerData tid;

			ItemPointerSet(&tid, blk, offs[i]);
			AddNote(nb, CheckRid(rel, nb->table_no, rids[i], nulls[i]), &tid, PENDING_AT);
		}
	}
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

/* Where commit looks for the rows noted in aisec.pending_row. */
typedef struct PendingScan
{
	Capture    *c;
	Relation	rel;
	BlockNumber nblocks;
	IndexFetchTableData *fetch;
	TableScanDesc tidscan;
	TupleTableSlot *slot;
	int64		maxrid;			/* rows above have no history record */
	EndedMap   *ended;			/* built when first needed */
} PendingScan;

/*
 * Find the current version of a row noted at tid: along its HOT chain,
 * else along its update links.  True, with the tuple in ps->slot, if that
 * version is visible to the commit and still has row id rid.
 */
static bool
FindNoted(PendingScan *ps, int64 rid, ItemPointer tid)
{
	ItemPointerData t = *tid;
	bool		call_again = false;
	bool		all_dead = false;
	bool		isnull;

	if (!ItemPointerIsValid(&t) || ItemPointerGetBlockNumber(&t) >= ps->nblocks)
		return false;
	if (table_index_fetch_tuple(ps->fetch, &t, ps->c->snap, ps->slot, &call_again, &all_dead) &&
		DatumGetInt64(slot_getattr(ps->slot, ps->c->ridatt, &isnull)) == rid && !isnull)
		return true;
	t = *tid;
	if (!table_tuple_tid_valid(ps->tidscan, &t))
		return false;
	table_tuple_get_latest_tid(ps->tidscan, &t);
	return table_tuple_fetch_row_version(ps->rel, &t, ps->c->snap, ps->slot) &&
		DatumGetInt64(slot_getattr(ps->slot, ps->c->ridatt, &isnull)) == rid && !isnull;
}

/* Refuse a second row with the same row id. */
static void
DuplicateRid(Relation rel, int64 rid)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNIQUE_VIOLATION),
			 errmsg("row id %lld is used by two rows of tracked table %s",
					(long long) rid, RelationGetRelationName(rel)),
			 errdetail("A row was inserted with an explicit %s (OVERRIDING SYSTEM VALUE or COPY) that another row has.",
					   RID_COLUMN),
			 errhint("Delete one of the two rows, then commit again.")));
}

/* Give a row written since the last commit its history record. */
static void
CaptureNoted(PendingScan *ps, TupleTableSlot *slot, int64 rid)
{
	Capture    *c = ps->c;

	if (rid <= ps->maxrid)
	{
		int64		from = 0;
		ItemPointerData htid;
		uint8		hash[SHA256_LEN];

		/*
		 * An explicit row id naming a recorded row was refused when written
		 * (RefuseRecordedRids); a row that got past that (its notes written
		 * by an earlier aisec, or restored) may still twin a current row.
		 */
		if (LatestRecord(c, rid, PG_INT64_MAX, &from, &htid, hash))
		{
			if (ps->ended == NULL)
				ps->ended = history_ended_map(&c->tt, c->tt.pending, c->snap);
			if (history_ended_at(ps->ended, rid, from) == 0)
				DuplicateRid(ps->rel, rid);
		}
	}
	CaptureInsert(c, slot);
}

/*
 * End the open committed records of the n rows (rids, in any order) whose
 * UPDATE left that to this commit (DeferEnding): for each, its latest
 * record from before the pending version.  Like capture, many rows are
 * found with passes over the history, a few by index probes.
 */
static void
EndDeferred(Capture *c, int64 *rids, int64 n)
{
	int64		repeated = RepeatedRid(rids, n);

	if (repeated != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("aisec.pending_row notes row %lld of %s as updated twice",
						(long long) repeated, RelationGetRelationName(c->rel))));
	for (int64 done = 0; done < n;)
	{
		int64		part = Min(n - done, OpenRecordsMax());
		bool		pass = OpenRecordsByScan(c, part);

		if (pass)
		{
			LookUpRids(c, NULL, 0, NULL, rids + done, part);
			FindOpenRecords(c, c->tt.pending);
		}
		for (int64 i = done; i < done + part; i++)
		{
			int64		from = 0;

			CHECK_FOR_INTERRUPTS();
			if (pass)
				from = openrec_lookup(c->open, rids[i])->from;
			else
			{
				ItemPointerData tid;
				uint8		hash[SHA256_LEN];

				if (LatestRecord(c, rids[i], c->tt.pending, &from, &tid, hash))
					fingerprint_sub(&c->delta, hash);
			}
			if (from == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("history of %s has no committed record of updated row %lld",
								RelationGetRelationName(c->rel), (long long) rids[i]),
						 errhint("Run aisec.verify() on the table's dataset.")));
			EndRecord(c, rids[i], from);
			c->rows--;
		}
		ForgetOpenRecords(c);
		done += part;
	}
}

/*
 * Give the rows of a tracked table written since the last commit, as noted
 * in aisec.pending_row, their history records in the pending version, and
 * append the change to aisec.pending_delta.  Called by commit, which holds
 * the commit lock exclusively: no writer adds notes meanwhile.  Returns
 * the number of rows captured.
 */
int64
history_capture_pending(const TrackedTable *tt)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "aisec pending rows",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old;
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	AisecSpi	spi;
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(tt->table_no)};
	PendingNote *notes;
	int			n = 0;
	int			size = 1024;
	int			nrows;
	int64		captured;
	Capture		c;
	PendingScan ps;
	int64	   *lost;
	int			nlost = 0;

	old = MemoryContextSwitchTo(cxt);
	notes = palloc(sizeof(PendingNote) * size);
	MemoryContextSwitchTo(old);
	aisec_spi_begin(&spi);
	nrows = aisec_spi_run("SELECT entries FROM aisec.pending_row WHERE table_no = $1 ORDER BY seq",
						  true, 1, types, values, NULL, snap);
	old = MemoryContextSwitchTo(cxt);
	for (int i = 0; i < nrows; i++)
	{
		bool		isnull;

		ReadPending(DatumGetByteaPP(aisec_spi_value(i, 0, &isnull)), &notes, &n, &size);
	}
	MemoryContextSwitchTo(old);
	if (nrows > 0)
		(void) aisec_spi_run("DELETE FROM aisec.pending_row WHERE table_no = $1",
							 true, 1, types, values, NULL, snap);
	aisec_spi_end(&spi);
	UnregisterSnapshot(snap);
	if (n == 0)
	{
		MemoryContextDelete(cxt);
		return 0;
	}

	memset(&ps, 0, sizeof(ps));
	ps.c = &c;
	ps.rel = table_open(tt->relid, AccessShareLock);
	CaptureBegin(&c, ps.rel, tt);
	ps.nblocks = RelationGetNumberOfBlocks(ps.rel);
	ps.fetch = table_index_fetch_begin(ps.rel);
	ps.tidscan = table_beginscan_tid(ps.rel, c.snap);
	ps.slot = table_slot_create(ps.rel, NULL);
	ps.maxrid = MaxRecordedRid(c.hrel, c.ridx, c.snap, c.hslot);
	lost = MemoryContextAllocHuge(cxt, sizeof(int64) * n);

	/* Updated rows whose open records end now; the rest are new rows. */
	{
		int			kept = 0;
		int			nends = 0;

		for (int i = 0; i < n; i++)
		{
			if (notes[i].kind == PENDING_ENDS)
				lost[nends++] = notes[i].rid;
			else
				notes[kept++] = notes[i];
		}
		n = kept;
		if (nends > 0)
			EndDeferred(&c, lost, nends);
	}

	/* Each row id's notes in the order written: the last says what it is. */
	qsort(notes, n, sizeof(PendingNote), CompareNotes);
	for (int i = 0; i < n;)
	{
		int			j = i;
		int64		rid = notes[i].rid;
		bool		found = false;
		ItemPointerData at;

		CHECK_FOR_INTERRUPTS();
		while (j < n && notes[j].rid == rid)
			j++;

		/*
		 * Whatever the last note says, a noted tuple that is still there
		 * counts (a deleted twin with the same explicit id leaves a "deleted"
		 * note).  If none is, only a row not deleted last needs the scan.
		 */
		for (int k = i; k < j; k++)
		{
			if (notes[k].kind != PENDING_AT || !FindNoted(&ps, rid, &notes[k].tid))
				continue;
			if (found && ItemPointerEquals(&at, &ps.slot->tts_tid))
				continue;
			if (found)
				DuplicateRid(ps.rel, rid);
			at = ps.slot->tts_tid;
			found = true;
			CaptureNoted(&ps, ps.slot, rid);
		}
		if (!found && notes[j - 1].kind != PENDING_GONE)
			lost[nlost++] = rid;
		i = j;
	}

	/* Rows whose noted ctids led nowhere (the table was rewritten): scan. */
	if (nlost > 0)
	{
		TableScanDesc scan = table_beginscan(ps.rel, c.snap, 0, NULL);
		bool	   *seen = MemoryContextAllocHuge(cxt, sizeof(bool) * nlost);

		memset(seen, 0, sizeof(bool) * nlost);
		qsort(lost, nlost, sizeof(int64), CompareRids);
		while (table_scan_getnextslot(scan, ForwardScanDirection, ps.slot))
		{
			bool		isnull;
			int64		rid = DatumGetInt64(slot_getattr(ps.slot, c.ridatt, &isnull));
			int64	   *hit;

			CHECK_FOR_INTERRUPTS();
			if (isnull)
				continue;
			hit = bsearch(&rid, lost, nlost, sizeof(int64), CompareRids);
			if (hit == NULL)
				continue;
			if (seen[hit - lost])
				DuplicateRid(ps.rel, rid);
			seen[hit - lost] = true;
			CaptureNoted(&ps, ps.slot, rid);
		}
		table_endscan(scan);
	}

	/* Rows inserted and deleted again are a change too (no new records). */
	c.changed = true;
	captured = c.rows;
	if (ps.ended)
		history_ended_map_free(ps.ended);
	ExecDropSingleTupleTableSlot(ps.slot);
	table_endscan(ps.tidscan);
	table_index_fetch_end(ps.fetch);
	CaptureEnd(&c);
	table_close(ps.rel, NoLock);
	MemoryContextDelete(cxt);
	return captured;
}

/* Whether index indexname on aisec table relname has a row with these keys. */
static bool
AisecRowExists(const char *relname, const char *indexname, Snapshot snap,
			   ScanKey keys, int nkeys)
{
	Relation	rel = table_open(aisec_relid(relname), AccessShareLock);
	SysScanDesc scan = systable_beginscan(rel, aisec_relid(indexname), true,
										  snap, nkeys, keys);
	bool		found = HeapTupleIsValid(systable_getnext(scan));

	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * Whether an UPDATE of n rows may leave ending its rows' open records to
 * the next commit.  Ending a record needs its valid_from and hash, which
 * a large statement finds with a pass over the whole history; the commit
 * can make that pass once for all such statements instead.  Deferring is
 * right only if every row the statement updated has an open record from a
 * committed version and none in the pending version: then its new record
 * is the only one of the pending version, and the record to end is its
 * latest committed one, whatever later statements do to the row.  That
 * holds when no statement has changed this table since the last commit
 * (no pending_delta row for the pending version, which every statement
 * that writes a history record adds) and no row inserted since then waits
 * for its record (no pending_row entry, no unwritten note).  Rows changed
 * by transactions still in progress are not visible to this statement, so
 * it did not update them.  Kept for statements big enough to make a pass
 * (OpenRecordsByScan), so that a commit after small changes stays small;
 * and not under SERIALIZABLE, where no pass is made.
 */
static bool
DeferEnding(Capture *c, int64 n)
{
	ScanKeyData keys[2];

	if (IsolationIsSerializable() ||
		n < (int64) RelationGetNumberOfBlocks(c->hrel))
		return false;
	for (NoteBuffer *nb = note_buffers; nb != NULL; nb = nb->next)
		if (nb->relid == RelationGetRelid(c->rel) && nb->n > 0)
			return false;
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT4EQ,
				Int32GetDatum(c->tt.table_no));
	if (AisecRowExists("pending_row", "pending_row_table", c->snap, keys, 1))
		return false;
	ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(c->tt.pending));
	if (AisecRowExists("pending_delta", "pending_delta_version", c->snap, keys, 2))
		return false;
	return true;
}

/* Trigger: record a statement's inserted, updated and deleted rows. */
PG_FUNCTION_INFO_V1(aisec_capture);
Datum
aisec_capture(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TrackedTable tt;
	Capture		c;
	TupleTableSlot *oldslot = NULL;
	TupleTableSlot *newslot = NULL;
	int			oldptr = 0;
	int			newptr = 0;
	NoteBuffer *notes;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "aisec.capture: not called as a trigger");
	if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot truncate tracked table %s",
						RelationGetRelationName(td->tg_relation)),
				 errdetail("TRUNCATE leaves no record of the removed rows in the table's history."),
				 errhint("Use DELETE, which aisec records, or aisec.untrack() the table first.")));
	if (!TRIGGER_FIRED_FOR_STATEMENT(td->tg_event))
		elog(ERROR, "aisec.capture: must be a FOR EACH STATEMENT trigger");
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event) && TRIGGER_FIRED_BEFORE(td->tg_event))
	{
		InsertStarts(td->tg_relation);
		return PointerGetDatum(NULL);
	}
	if (!TRIGGER_FIRED_AFTER(td->tg_event))
		elog(ERROR, "aisec.capture: must be an AFTER ... FOR EACH STATEMENT trigger");

	/*
	 * INSERT: note the rows in the blocks the statement added, write the
	 * notes; the next commit does the rest.  (A trigger created by an
	 * earlier aisec, with a transition table, still records inserted rows
	 * at once, below.)
	 */
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		NoteNewBlocks(td->tg_relation, td->tg_newtable == NULL);
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event) && td->tg_newtable == NULL)
	{
		FlushNotes(RelationGetRelid(td->tg_relation), GetCurrentSubTransactionId());
		return PointerGetDatum(NULL);
	}

	/* Hold the commit lock until the transaction ends; then read pending. */
	aisec_lock_shared(AISEC_LOCK_VERSION_COMMIT);
	if (!history_lookup(RelationGetRelid(td->tg_relation), &tt))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s is not tracked by aisec",
						RelationGetRelationName(td->tg_relation)),
				 errhint("Drop the leftover aisec_capture_* triggers or call aisec.track().")));

	CaptureBegin(&c, td->tg_relation, &tt);
	notes = NoteBufferFor(td->tg_relation);
	if (td->tg_oldtable)
	{
		oldptr = OpenTransition(td->tg_oldtable);
		oldslot = MakeSingleTupleTableSlot(c.desc, &TTSOpsMinimalTuple);
	}
	if (td->tg_newtable)
	{
		newptr = OpenTransition(td->tg_newtable);
		newslot = MakeSingleTupleTableSlot(c.desc, &TTSOpsMinimalTuple);
	}

	if (oldslot)
	{
		/*
		 * UPDATE and DELETE, in parts of at most OpenRecordsMax() rows.  The
		 * old rows are read once: by LookUpRids, which keeps their ids, or
		 * here (and once before, by RefuseRepeatedRids, for an UPDATE of
		 * more than one part).  A large UPDATE may leave ending the old
		 * records to the next commit (DeferEnding).
		 */
		int64		left = tuplestore_tuple_count(td->tg_oldtable);
		bool		defer = newslot && DeferEnding(&c, left);

		if (newslot && left > OpenRecordsMax())
			RefuseRepeatedRids(&c, td->tg_oldtable, oldptr, oldslot, left);
		while (left > 0)
		{
			int64		part = Min(left, OpenRecordsMax());
			bool		pass = !defer && OpenRecordsByScan(&c, part);

			/* An UPDATE's ids are always taken first (LookUpRids on repeats). */
			if (newslot || pass)
				LookUpRids(&c, td->tg_oldtable, oldptr, oldslot, NULL, part);
			if (pass)
				FindOpenRecords(&c, PG_INT64_MAX);
			for (int64 i = 0; i < part; i++)
			{
				int64		rid;

				if (c.rids)
					rid = c.rids[i];
				else
				{
					if (!NextTransition(td->tg_oldtable, oldptr, oldslot))
						elog(ERROR, "aisec.capture: transition table ended early");
					rid = RowRid(&c, oldslot);
				}
				if (newslot)
				{
					/* UPDATE: old and new rows come in the same order. */
					if (!NextTransition(td->tg_newtable, newptr, newslot))
						elog(ERROR, "aisec.capture: transition tables differ in length");
					if (RowRid(&c, newslot) != rid)
						ereport(ERROR,
								(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								 errmsg("cannot change %s of tracked table %s", RID_COLUMN,
										RelationGetRelationName(c.rel)),
								 errdetail("A row id is stable for the life of the row.")));
					if (c.skip && c.skip[i])
						continue;	/* the row changes again later */
					if (defer)
					{
						CaptureInsert(&c, newslot);
						AddNote(notes, rid, NULL, PENDING_ENDS);
					}
					else if (CaptureRemove(&c, rid))
						CaptureInsert(&c, newslot);
					else
						AddNote(notes, rid, NULL, PENDING_MOVED);
				}
				else if (!CaptureRemove(&c, rid))
					AddNote(notes, rid, NULL, PENDING_GONE);
			}
			ForgetOpenRecords(&c);
			left -= part;
		}
		if (newslot && NextTransition(td->tg_newtable, newptr, newslot))
			elog(ERROR, "aisec.capture: transition tables differ in length");
	}
	else if (newslot)
	{
		while (NextTransition(td->tg_newtable, newptr, newslot))
			CaptureInsert(&c, newslot);
	}
	else
		elog(ERROR, "aisec.capture: fired without transition tables");

	if (oldslot)
		ExecDropSingleTupleTableSlot(oldslot);
	if (newslot)
		ExecDropSingleTupleTableSlot(newslot);
	CaptureEnd(&c);
	FlushNotes(RelationGetRelid(td->tg_relation), GetCurrentSubTransactionId());
	return PointerGetDatum(NULL);
}

/* Trigger: refuse direct writes to history and version records. */
PG_FUNCTION_INFO_V1(aisec_history_refuse_change);
Datum
aisec_history_refuse_change(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	const char *op = "INSERT";
	const char *rel;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "aisec.history_refuse_change: not called as a trigger");
	if (aisec_spi_owner_writing())
		return PointerGetDatum(NULL);
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		op = "UPDATE";
	else if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
		op = "DELETE";
	else if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		op = "TRUNCATE";
	rel = RelationGetRelationName(td->tg_relation);

	/* The error rolls back our own writes: another process audits it. */
	aisec_audit_refusal(op, rel);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("%s on %s.%s is not allowed", op, AISEC_SCHEMA, rel),
			 errdetail("aisec history and version records change only through aisec's functions, for every role including their owner."),
			 errhint("Change the tracked table itself, or use aisec.commit() and aisec.tag().")));
	PG_RETURN_NULL();
}

/* ---------------------------------------------------------------------
 * track / untrack
 * ---------------------------------------------------------------------
 */

/* A test on a scalar type (arg as FindScalarType passes it on). */
typedef bool (*ScalarTypeTest) (Oid type, Oid arg);

/*
 * The first scalar type that a value of type typid can hold (typid itself,
 * or what its arrays, composites and domains hold, at any depth) passing
 * test, or InvalidOid if none does.
 */
static Oid
FindScalarType(Oid typid, ScalarTypeTest test, Oid arg)
{
	Oid			base = getBaseType(typid);
	Oid			found = InvalidOid;

	check_stack_depth();
	if (type_is_array(base))
		return FindScalarType(get_element_type(base), test, arg);
	if (get_typtype(base) == TYPTYPE_COMPOSITE)
	{
		TupleDesc	desc = lookup_rowtype_tupdesc(base, -1);

		for (int i = 0; i < desc->natts && !OidIsValid(found); i++)
			if (!TupleDescAttr(desc, i)->attisdropped)
				found = FindScalarType(TupleDescAttr(desc, i)->atttypid, test, arg);
		ReleaseTupleDesc(desc);
		return found;
	}
	return test(base, arg) ? base : InvalidOid;
}

/* ScalarTypeTest: type has no binary send function. */
static bool
HasNoSend(Oid type, Oid arg)
{
	HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(type));
	bool		none;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for type %u", type);
	none = !OidIsValid(((Form_pg_type) GETSTRUCT(tup))->typsend);
	ReleaseSysCache(tup);
	return none;
}

/* ScalarTypeTest: type is arg. */
static bool
IsTypeArg(Oid type, Oid arg)
{
	return type == arg;
}

/* Refuse a column whose values history could not hash. */
static void
CheckEncodable(Relation rel, Form_pg_attribute att)
{
	Oid			missing = FindScalarType(att->atttypid, HasNoSend, InvalidOid);

	if (OidIsValid(missing))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("column \"%s\" of table %s cannot be versioned: type %s has no binary send function",
						NameStr(att->attname), RelationGetRelationName(rel),
						format_type_be(missing)),
				 errdetail("Row hashes encode every value in its binary send form.")));
}

/* Refuse relations that cannot be tracked, with a reason. */
static void
CheckTrackable(Relation rel)
{
	const char *name = RelationGetRelationName(rel);
	Oid			relid = RelationGetRelid(rel);

	if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE || rel->rd_rel->relispartition)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot track partitioned table or partition %s", name),
				 errhint("Track a plain table; aisec does not version partitioned tables yet.")));
	if (rel->rd_rel->relkind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot track %s: it is not a table", name)));
	if (has_subclass(relid) || has_superclass(relid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot track table %s: it takes part in table inheritance", name)));
	if (rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot track temporary table %s", name)));
	if (IsCatalogRelation(rel) ||
		RelationGetNamespace(rel) == get_namespace_oid(AISEC_SCHEMA, false))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot track system or aisec table %s", name)));
	if (get_attnum(relid, RID_COLUMN) != InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_COLUMN),
				 errmsg("table %s already has a column named %s", name, RID_COLUMN),
				 errhint("aisec adds that column itself; rename yours first.")));
	for (int i = 0; i < RelationGetDescr(rel)->natts; i++)
		if (!TupleDescAttr(RelationGetDescr(rel), i)->attisdropped)
			CheckEncodable(rel, TupleDescAttr(RelationGetDescr(rel), i));
}

/* The live attnums of a relation, as an int2[] datum. */
static Datum
LiveAttnums(TupleDesc desc)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(desc->natts, 1));
	int			n = 0;

	for (int i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped)
			elems[n++] = Int16GetDatum(TupleDescAttr(desc, i)->attnum);
	return PointerGetDatum(construct_array(elems, n, INT2OID, 2, true, TYPALIGN_SHORT));
}

/* Make a history or ended-records table refuse direct writes; no grants. */
static void
ProtectHistory(const char *qname)
{
	aisec_spi_ddl(true, "REVOKE ALL ON %s FROM PUBLIC", qname);
	aisec_spi_ddl(true,
		   "CREATE TRIGGER refuse_change BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE "
		   "ON %s FOR EACH STATEMENT EXECUTE FUNCTION aisec.history_refuse_change()",
		   qname);
	aisec_spi_ddl(true, "ALTER TABLE %s ENABLE ALWAYS TRIGGER refuse_change", qname);
}

/*
 * Create the history table of a tracked table and its ended-records table
 * (as the extension owner); set *ended to the latter.  History records are
 * never updated: when a row version ends, a narrow (rid, valid_from,
 * valid_to) record is appended to history_<n>_ended instead.  Both are
 * heap tables whatever default_table_access_method says: capture writes
 * them with heap_multi_insert and reads their pages as heap pages.
 */
static Oid
CreateHistory(int32 table_no, Oid relid, Oid *ended)
{
	char		name[NAMEDATALEN];
	char		ename[NAMEDATALEN];
	char	   *qname;
	char	   *qename;
	char	   *qtype = format_type_be_qualified(get_rel_type_id(relid));
	Oid			nsp = get_namespace_oid(AISEC_SCHEMA, false);

	snprintf(name, sizeof(name), "history_%d", table_no);
	snprintf(ename, sizeof(ename), "history_%d_ended", table_no);
	qname = quote_qualified_identifier(AISEC_SCHEMA, name);
	qename = quote_qualified_identifier(AISEC_SCHEMA, ename);
	aisec_spi_ddl(true,
		   "CREATE TABLE %s (rid bigint NOT NULL, valid_from bigint NOT NULL, "
		   "salt bytea, hash bytea NOT NULL, data %s) USING heap",
		   qname, qtype);
	aisec_spi_ddl(true, "CREATE INDEX ON %s (rid)", qname);
	aisec_spi_ddl(true, "CREATE INDEX ON %s USING brin (valid_from)", qname);
	ProtectHistory(qname);
	aisec_spi_ddl(true,
		   "COMMENT ON TABLE %s IS 'aisec history of table number %d: every row version "
		   "with valid_from, salt, hash and the row (doc/versioning.md)'",
		   qname, table_no);
	aisec_spi_ddl(true,
		   "CREATE TABLE %s (rid bigint NOT NULL, valid_from bigint NOT NULL, "
		   "valid_to bigint NOT NULL) USING heap", qename);
	aisec_spi_ddl(true, "CREATE INDEX ON %s USING brin (valid_to)", qename);
	ProtectHistory(qename);
	aisec_spi_ddl(true,
		   "COMMENT ON TABLE %s IS 'aisec history of table number %d: the version "
		   "(valid_to) in which each ended row version (rid, valid_from) disappeared'",
		   qename, table_no);
	*ended = get_relname_relid(ename, nsp);
	return get_relname_relid(name, nsp);
}

/* Install the capture triggers on a tracked table (as the caller). */
static void
CreateCaptureTriggers(const char *qrel)
{
	static const char *const triggers[] = {
		"CREATE TRIGGER aisec_capture_insert_begin BEFORE INSERT ON %s "
		"FOR EACH STATEMENT EXECUTE FUNCTION aisec.capture()",
		"CREATE TRIGGER aisec_capture_insert AFTER INSERT ON %s "
		"FOR EACH STATEMENT EXECUTE FUNCTION aisec.capture()",
		"CREATE TRIGGER aisec_capture_insert_row AFTER INSERT ON %s "
		"FOR EACH ROW WHEN (aisec.capture_row_needed(NEW.tableoid, NEW.ctid)) "
		"EXECUTE FUNCTION aisec.capture_row()",
		"CREATE TRIGGER aisec_capture_update AFTER UPDATE ON %s "
		"REFERENCING OLD TABLE AS aisec_old NEW TABLE AS aisec_new "
		"FOR EACH STATEMENT EXECUTE FUNCTION aisec.capture()",
		"CREATE TRIGGER aisec_capture_delete AFTER DELETE ON %s "
		"REFERENCING OLD TABLE AS aisec_old "
		"FOR EACH STATEMENT EXECUTE FUNCTION aisec.capture()",
		"CREATE TRIGGER aisec_capture_truncate BEFORE TRUNCATE ON %s "
		"FOR EACH STATEMENT EXECUTE FUNCTION aisec.capture()",
	};
	static const char *const names[] = {
		"aisec_capture_insert_begin", "aisec_capture_insert",
		"aisec_capture_insert_row", "aisec_capture_update",
		"aisec_capture_delete", "aisec_capture_truncate",
	};

	for (int i = 0; i < lengthof(triggers); i++)
	{
		aisec_spi_ddl(false, triggers[i], qrel);
		aisec_spi_ddl(false, "ALTER TABLE %s ENABLE ALWAYS TRIGGER %s", qrel, names[i]);
	}
}

/* Give every existing row an open history record in the pending version. */
static int64
CaptureExistingRows(Relation rel, const TrackedTable *tt)
{
	Capture		c;
	Snapshot	snap;
	TableScanDesc scan;
	TupleTableSlot *slot;
	int64		n = 0;

	CommandCounterIncrement();
	CaptureBegin(&c, rel, tt);
	snap = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snap, 0, NULL);
	slot = table_slot_create(rel, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		CHECK_FOR_INTERRUPTS();
		CaptureInsert(&c, slot);
		n++;
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snap);
	CaptureEnd(&c);
	return n;
}

/* SQL: aisec.track(rel) starts governing a table; returns its number. */
PG_FUNCTION_INFO_V1(aisec_track);
Datum
aisec_track(PG_FUNCTION_ARGS)
{
	Oid			relid;
	Relation	rel;
	TrackedTable tt;
	AisecSpi	spi;
	char	   *qrel;
	int64		first;
	int64		rows;
	bool		isnull;
	char	   *who = GetUserNameFromId(GetUserId(), false);

	aisec_require_role(AISEC_ROLE_ADMIN, "aisec.track()");
	aisec_prevent_if_read_only("aisec.track()");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table to track must not be NULL")));
	relid = PG_GETARG_OID(0);

	/* ALTER TABLE below refuses a table this backend holds open. */
	LockRelationOid(relid, AccessExclusiveLock);
	rel = table_open(relid, NoLock);
	CheckTrackable(rel);
	if (history_lookup(relid, &tt))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("table %s is already tracked", RelationGetRelationName(rel))));
	table_close(rel, NoLock);
	qrel = aisec_qualified_name(relid);

	aisec_spi_begin(&spi);
	(void) aisec_spi_run("SELECT pg_catalog.nextval('aisec.table_no_seq')",
						 true, 0, NULL, NULL, NULL, NULL);
	memset(&tt, 0, sizeof(tt));
	tt.table_no = (int32) DatumGetInt64(aisec_spi_value(0, 0, &isnull));
	tt.relid = relid;
	tt.pending = 1;
	first = ((int64) tt.table_no << RID_TABLE_SHIFT) + 1;

	/* As the caller, who must own the table. */
	aisec_spi_ddl(false,
		   "ALTER TABLE %s ADD COLUMN " RID_COLUMN " bigint GENERATED ALWAYS AS IDENTITY "
		   "(START WITH " INT64_FORMAT " MINVALUE " INT64_FORMAT " MAXVALUE " INT64_FORMAT
		   " CACHE " CppAsString2(RID_CACHE) ")",
		   qrel, first, first, first + ((int64) 1 << RID_TABLE_SHIFT) - 2);
	CreateCaptureTriggers(qrel);

	/* As the extension owner: the history table and the registry row. */
	tt.history = CreateHistory(tt.table_no, relid, &tt.ended);
	{
		Oid			types[6] = {INT4OID, OIDOID, OIDOID, INT2ARRAYOID, TEXTOID, OIDOID};
		Datum		values[6];

		CommandCounterIncrement();
		rel = table_open(relid, NoLock);
		values[0] = Int32GetDatum(tt.table_no);
		values[1] = ObjectIdGetDatum(relid);
		values[2] = ObjectIdGetDatum(tt.history);
		values[3] = LiveAttnums(RelationGetDescr(rel));
		values[4] = CStringGetTextDatum(who);
		values[5] = ObjectIdGetDatum(tt.ended);
		(void) aisec_spi_run("INSERT INTO aisec.tracked (table_no, rel, history, columns, "
							 "tracked_at, tracked_by, ended) "
							 "VALUES ($1, $2::pg_catalog.regclass, $3::pg_catalog.regclass, $4, "
							 "pg_catalog.now(), $5, $6::pg_catalog.regclass)",
							 true, 6, types, values, NULL, NULL);
	}
	aisec_spi_end(&spi);

	rows = CaptureExistingRows(rel, &tt);
	aisec_audit_log("version.track", qrel,
					psprintf("{\"table_no\": %d, \"rows\": " INT64_FORMAT "}",
							 tt.table_no, rows));
	table_close(rel, NoLock);
	PG_RETURN_INT32(tt.table_no);
}

/* SQL: aisec.untrack(rel) stops governing a table that is in no dataset. */
PG_FUNCTION_INFO_V1(aisec_untrack);
Datum
aisec_untrack(PG_FUNCTION_ARGS)
{
	Oid			relid;
	TrackedTable tt;
	AisecSpi	spi;
	char	   *qrel;
	Oid			types[1] = {INT4OID};
	Datum		values[1];

	aisec_require_role(AISEC_ROLE_ADMIN, "aisec.untrack()");
	aisec_prevent_if_read_only("aisec.untrack()");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table to untrack must not be NULL")));
	relid = PG_GETARG_OID(0);
	LockRelationOid(relid, AccessExclusiveLock);
	if (!history_lookup(relid, &tt))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s is not tracked", get_rel_name(relid))));
	if (tt.dataset_id != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot untrack table %s: it belongs to a dataset",
						get_rel_name(relid)),
				 errdetail("Its history holds committed versions, which never change."),
				 errhint("Use aisec.materialize() to copy a version out.")));
	qrel = aisec_qualified_name(relid);

	aisec_spi_begin(&spi);
	values[0] = Int32GetDatum(tt.table_no);
	(void) aisec_spi_run("DELETE FROM aisec.tracked WHERE table_no = $1",
						 true, 1, types, values, NULL, NULL);
	(void) aisec_spi_run("DELETE FROM aisec.pending_delta WHERE table_no = $1",
						 true, 1, types, values, NULL, NULL);
	(void) aisec_spi_run("DELETE FROM aisec.pending_row WHERE table_no = $1",
						 true, 1, types, values, NULL, NULL);
	ForgetNotes(relid);
	aisec_spi_ddl(true, "DROP TABLE %s", aisec_qualified_name(tt.history));
	aisec_spi_ddl(true, "DROP TABLE %s", aisec_qualified_name(tt.ended));
	if (OidIsValid(get_trigger_oid(relid, "aisec_capture_insert_begin", true)))
		aisec_spi_ddl(false, "DROP TRIGGER aisec_capture_insert_begin ON %s", qrel);
	aisec_spi_ddl(false, "DROP TRIGGER aisec_capture_insert ON %s", qrel);
	if (OidIsValid(get_trigger_oid(relid, "aisec_capture_insert_row", true)))
		aisec_spi_ddl(false, "DROP TRIGGER aisec_capture_insert_row ON %s", qrel);
	aisec_spi_ddl(false, "DROP TRIGGER aisec_capture_update ON %s", qrel);
	aisec_spi_ddl(false, "DROP TRIGGER aisec_capture_delete ON %s", qrel);
	aisec_spi_ddl(false, "DROP TRIGGER aisec_capture_truncate ON %s", qrel);
	aisec_spi_ddl(false, "ALTER TABLE %s DROP COLUMN " RID_COLUMN, qrel);
	aisec_spi_end(&spi);

	aisec_audit_log("version.untrack", qrel,
					psprintf("{\"table_no\": %d}", tt.table_no));
	PG_RETURN_VOID();
}

/* SQL: aisec.rid_table(rid) names the tracked table a row id belongs to. */
PG_FUNCTION_INFO_V1(aisec_rid_table);
Datum
aisec_rid_table(PG_FUNCTION_ARGS)
{
	int64		rid = PG_GETARG_INT64(0);
	TrackedTable tt;

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER | AISEC_ROLE_DPO |
					   AISEC_ROLE_AUDITOR, "aisec.rid_table()");
	if (rid <= 0 || (rid >> RID_TABLE_SHIFT) > RID_TABLE_MAX ||
		!history_lookup_no((int32) (rid >> RID_TABLE_SHIFT), &tt))
		PG_RETURN_NULL();
	PG_RETURN_OID(tt.relid);
}

/* ---------------------------------------------------------------------
 * Schema changes
 * ---------------------------------------------------------------------
 */

/* Refuse column changes history cannot follow; record added columns. */
static void
CheckTrackedColumns(Oid relid, int32 table_no, ArrayType *recorded)
{
	Relation	rel = try_relation_open(relid, AccessShareLock);
	TupleDesc	desc;
	Datum	   *elems;
	int			nelems;
	int16		maxatt = 0;
	bool		added = false;

	if (rel == NULL)
		return;					/* dropped: nothing to check */
	desc = RelationGetDescr(rel);
	deconstruct_array(recorded, INT2OID, 2, true, TYPALIGN_SHORT, &elems, NULL, &nelems);
	for (int i = 0; i < nelems; i++)
	{
		int16		attnum = DatumGetInt16(elems[i]);

		maxatt = Max(maxatt, attnum);
		if (attnum > desc->natts || TupleDescAttr(desc, attnum - 1)->attisdropped)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot drop a column of tracked table %s",
							RelationGetRelationName(rel)),
					 errdetail("Versions in its history hold values of column number %d.", attnum),
					 errhint("Leave the column in place (set it to NULL with UPDATE if it must be emptied).")));
	}
	for (int i = maxatt; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		if (att->atthasdef || att->atthasmissing || att->attgenerated || att->attidentity)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot add column \"%s\" with a default to tracked table %s",
							NameStr(att->attname), RelationGetRelationName(rel)),
					 errdetail("Existing rows would get values that their history does not record."),
					 errhint("Add the column without a default, then fill it with UPDATE, which aisec records.")));
		CheckEncodable(rel, att);
		added = true;
	}
	{
		AttrNumber	ridatt = get_attnum(relid, RID_COLUMN);

		if (ridatt == InvalidAttrNumber ||
			TupleDescAttr(desc, ridatt - 1)->attidentity != ATTRIBUTE_IDENTITY_ALWAYS)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("column %s of tracked table %s must stay GENERATED ALWAYS AS IDENTITY",
							RID_COLUMN, RelationGetRelationName(rel)),
					 errdetail("aisec gives every new row its id from that identity column.")));
	}
	if (added)
	{
		Oid			types[2] = {INT2ARRAYOID, INT4OID};
		Datum		values[2];
		AisecSpi	spi;

		values[0] = LiveAttnums(desc);
		values[1] = Int32GetDatum(table_no);
		aisec_spi_begin(&spi);
		(void) aisec_spi_run("UPDATE aisec.tracked SET columns = $1 WHERE table_no = $2",
							 true, 2, types, values, NULL, NULL);
		aisec_spi_end(&spi);
	}
	relation_close(rel, AccessShareLock);
}

/* Is name that of one of the capture triggers track() installs? */
static bool
IsCaptureTrigger(const char *name)
{
	return strncmp(name, "aisec_capture_", strlen("aisec_capture_")) == 0;
}

/* Refuse a change to a capture trigger of a tracked table. */
static void
RefuseCaptureTriggerChange(Oid relid, const char *trigger, const char *change)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot %s trigger \"%s\" of tracked table %s",
					change, trigger, get_rel_name(relid)),
			 errdetail("aisec records the table's changes through this trigger; without it the next version would not hold the table's rows."),
			 errhint("To stop recording changes, untrack the table with aisec.untrack() (possible only outside a dataset).")));
}

/* Is relid a tracked table (latest snapshot)? */
static bool
IsTracked(Oid relid)
{
	TrackedTable tt;

	return OidIsValid(relid) && history_lookup(relid, &tt);
}

/*
 * After ALTER TABLE on a tracked table: its capture triggers must still
 * fire (DISABLE TRIGGER, by name, ALL or USER, and ENABLE REPLICA would
 * let changes go unrecorded).  A missing one is left to the commands that
 * drop triggers: pg_restore creates them one by one.
 */
static void
CheckCaptureTriggersFire(Oid relid)
{
	Relation	rel = try_relation_open(relid, AccessShareLock);
	TriggerDesc *td;

	if (rel == NULL)
		return;
	td = rel->trigdesc;
	for (int i = 0; td != NULL && i < td->numtriggers; i++)
	{
		Trigger    *t = &td->triggers[i];

		if (IsCaptureTrigger(t->tgname) &&
			(t->tgenabled == TRIGGER_DISABLED || t->tgenabled == TRIGGER_FIRES_ON_REPLICA))
			RefuseCaptureTriggerChange(relid, t->tgname, "disable");
	}
	relation_close(rel, AccessShareLock);
}

/*
 * Refuse renaming a value of an enum type that a tracked table's column
 * holds: row hashes encode the label (its binary send form), so every
 * committed version holding it would fail verify.
 */
static void
CheckEnumRename(AlterEnumStmt *stmt)
{
	Oid			enumid = typenameTypeId(NULL, makeTypeNameFromNameList(stmt->typeName));
	Relation	reg = table_open(aisec_relid("tracked"), AccessShareLock);
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	TableScanDesc scan = table_beginscan(reg, snap, 0, NULL);
	TupleTableSlot *slot = table_slot_create(reg, NULL);

	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		Oid			relid = DatumGetObjectId(slot_getattr(slot, TR_REL + 1, &isnull));
		Relation	rel = try_relation_open(relid, AccessShareLock);
		TupleDesc	desc;

		if (rel == NULL)
			continue;
		desc = RelationGetDescr(rel);
		for (int i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (!att->attisdropped &&
				OidIsValid(FindScalarType(att->atttypid, IsTypeArg, enumid)))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot rename a value of enum type %s: column \"%s\" of tracked table %s holds it",
								format_type_be(enumid), NameStr(att->attname),
								RelationGetRelationName(rel)),
						 errdetail("Row hashes in the table's history encode the label; the committed versions would no longer verify."),
						 errhint("Add a new value with ALTER TYPE ... ADD VALUE and UPDATE the rows to it, which aisec records.")));
		}
		relation_close(rel, AccessShareLock);
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snap);
	table_close(reg, AccessShareLock);
}

/*
 * Refuse renaming aisec_rid or a capture trigger of a tracked table,
 * replacing a capture trigger, and renaming an enum value a tracked table
 * holds.
 */
static void
CheckCommand(Node *parsetree)
{
	if (IsA(parsetree, AlterEnumStmt) && ((AlterEnumStmt *) parsetree)->oldVal != NULL)
		CheckEnumRename((AlterEnumStmt *) parsetree);
	else if (IsA(parsetree, RenameStmt) &&
			 ((RenameStmt *) parsetree)->renameType == OBJECT_COLUMN &&
			 strcmp(((RenameStmt *) parsetree)->subname, RID_COLUMN) == 0)
	{
		RenameStmt *stmt = (RenameStmt *) parsetree;
		Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);

		if (IsTracked(relid))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot rename column %s of tracked table %s",
							RID_COLUMN, get_rel_name(relid)),
					 errdetail("aisec finds each row's id by that name.")));
	}
	else if (IsA(parsetree, RenameStmt) &&
			 ((RenameStmt *) parsetree)->renameType == OBJECT_TRIGGER)
	{
		RenameStmt *stmt = (RenameStmt *) parsetree;
		Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);

		if (IsCaptureTrigger(stmt->subname) && IsTracked(relid))
			RefuseCaptureTriggerChange(relid, stmt->subname, "rename");
	}
	else if (IsA(parsetree, CreateTrigStmt) && ((CreateTrigStmt *) parsetree)->replace)
	{
		CreateTrigStmt *stmt = (CreateTrigStmt *) parsetree;
		Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);

		if (IsCaptureTrigger(stmt->trigname) && IsTracked(relid))
			RefuseCaptureTriggerChange(relid, stmt->trigname, "replace");
	}
}

/* The tables relid inherits from or is inherited by (pg_inherits). */
static List *
InheritanceNeighbours(Oid relid)
{
	Relation	inh = table_open(InheritsRelationId, AccessShareLock);
	SysScanDesc scan = systable_beginscan(inh, InvalidOid, false, NULL, 0, NULL);
	HeapTuple	tup;
	List	   *related = NIL;

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_inherits form = (Form_pg_inherits) GETSTRUCT(tup);

		if (form->inhrelid == relid)
			related = lappend_oid(related, form->inhparent);
		else if (form->inhparent == relid)
			related = lappend_oid(related, form->inhrelid);
	}
	systable_endscan(scan);
	table_close(inh, AccessShareLock);
	return related;
}

/*
 * After CREATE TABLE or ALTER TABLE of relid: refuse table inheritance or
 * partitioning that involves a tracked table.  An UPDATE or DELETE through
 * a parent changes a child's rows without firing the child's statement
 * triggers, so capture would miss it (and a tracked parent's scans would
 * include rows its history does not hold).
 */
static void
CheckInheritance(Oid relid)
{
	List	   *related = InheritanceNeighbours(relid);
	ListCell   *lc;
	Oid			tracked = InvalidOid;

	if (related != NIL && IsTracked(relid))
		tracked = relid;
	foreach(lc, related)
		if (!OidIsValid(tracked) && IsTracked(lfirst_oid(lc)))
			tracked = lfirst_oid(lc);
	if (OidIsValid(tracked))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("tracked table %s cannot take part in table inheritance or partitioning",
						get_rel_name(tracked)),
				 errdetail("An UPDATE or DELETE through a parent table changes its children's rows without aisec recording it.")));
	list_free(related);
}

/*
 * Event trigger (ddl_command_end): after ALTER TABLE on a tracked table,
 * check its columns and that its capture triggers still fire; after
 * CREATE TABLE or ALTER TABLE of any table, refuse inheritance or
 * partitioning involving a tracked table; refuse renaming or replacing a
 * capture trigger.
 */
PG_FUNCTION_INFO_V1(aisec_track_ddl_check);
Datum
aisec_track_ddl_check(PG_FUNCTION_ARGS)
{
	EventTriggerData *ev;
	AlterTableStmt *stmt;
	Oid			relid;
	Relation	rel;
	Snapshot	snap;
	TableScanDesc scan;
	TupleTableSlot *slot;
	int32		table_no = 0;
	ArrayType  *columns = NULL;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		elog(ERROR, "aisec.track_ddl_check: not called as an event trigger");
	ev = (EventTriggerData *) fcinfo->context;

	if (ev->parsetree == NULL)
		PG_RETURN_VOID();
	CheckCommand(ev->parsetree);
	if (IsA(ev->parsetree, CreateStmt) || IsA(ev->parsetree, CreateForeignTableStmt))
	{
		relid = RangeVarGetRelid(((CreateStmt *) ev->parsetree)->relation, NoLock, true);
		if (OidIsValid(relid))
			CheckInheritance(relid);
		PG_RETURN_VOID();
	}

	/* Only ALTER TABLE proper changes columns (not RENAME, SET SCHEMA). */
	if (!IsA(ev->parsetree, AlterTableStmt))
		PG_RETURN_VOID();
	stmt = (AlterTableStmt *) ev->parsetree;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid))
		PG_RETURN_VOID();
	CheckInheritance(relid);

	rel = table_open(aisec_relid("tracked"), AccessShareLock);
	snap = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snap, 0, NULL);
	slot = table_slot_create(rel, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;

		slot_getallattrs(slot);
		if (DatumGetObjectId(slot->tts_values[TR_REL]) != relid)
			continue;
		table_no = DatumGetInt32(slot->tts_values[TR_TABLE_NO]);
		columns = DatumGetArrayTypePCopy(slot_getattr(slot, TR_COLUMNS + 1, &isnull));
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snap);
	table_close(rel, AccessShareLock);

	if (columns != NULL)
	{
		CheckTrackedColumns(relid, table_no, columns);
		CheckCaptureTriggersFire(relid);
	}
	PG_RETURN_VOID();
}

/*
 * Event trigger (sql_drop): refuse dropping a tracked table or its history,
 * as DROP ... CASCADE, DROP SCHEMA ... CASCADE or DROP OWNED would (the
 * history's row column depends on the table's row type), and dropping a
 * capture trigger of a tracked table.  Committed versions never change;
 * untrack() is the way out for a table in no dataset, and it removes the
 * registry row before it drops anything.
 */
PG_FUNCTION_INFO_V1(aisec_track_drop_check);
Datum
aisec_track_drop_check(PG_FUNCTION_ARGS)
{
	AisecSpi	spi;
	char	   *object = NULL;
	int32		kind = 0;
	int32		table_no = 0;
	bool		isnull;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		elog(ERROR, "aisec.track_drop_check: not called as an event trigger");

	aisec_spi_begin(&spi);
	if (aisec_spi_run("SELECT d.object_identity, CASE WHEN d.object_type = 'trigger' THEN 3 "
					  "WHEN d.objid = t.rel THEN 1 ELSE 2 END AS kind, "
					  "t.table_no "
					  "FROM pg_catalog.pg_event_trigger_dropped_objects() d "
					  "JOIN aisec.tracked t ON "
					  "(d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass "
					  " AND ((d.objid = t.rel AND d.objsubid = 0) "
					  "      OR d.objid IN (t.history, t.ended))) "
					  "OR (d.object_type = 'trigger' "
					  " AND d.address_names[3] LIKE 'aisec\\_capture\\_%' "
					  " AND t.rel = pg_catalog.to_regclass(pg_catalog.quote_ident(d.address_names[1]) "
					  "     OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) "
					  "     pg_catalog.quote_ident(d.address_names[2]))) "
					  "ORDER BY kind LIMIT 1",
					  true, 0, NULL, NULL, NULL, NULL) > 0)
	{
		object = TextDatumGetCString(aisec_spi_value(0, 0, &isnull));
		kind = DatumGetInt32(aisec_spi_value(0, 1, &isnull));
		table_no = DatumGetInt32(aisec_spi_value(0, 2, &isnull));
	}
	aisec_spi_end(&spi);
	if (kind == 3)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot drop trigger %s", object),
				 errdetail("aisec records the table's changes through this trigger; without it the next version would not hold the table's rows."),
				 errhint("To stop recording changes, untrack the table with aisec.untrack() (possible only outside a dataset).")));
	if (kind != 0)
	{
		/* The drop would have taken history with it: a refused write. */
		aisec_audit_refusal("DROP", psprintf("history_%d", table_no));
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot drop %s %s", kind == 1 ? "tracked table" : "history", object),
				 errdetail("The history of a tracked table holds its committed versions, which never change."),
				 errhint("Untrack the table with aisec.untrack() first (possible only outside a dataset).")));
	}
	PG_RETURN_VOID();
}
