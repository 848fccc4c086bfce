/*
 * audit.c
 *		The tamper-evident audit log: hash-chained appends, chain
 *		verification, and signed digests.
 *
 * Each entry's hash is SHA-256(prev_hash || encoding), where encoding is the
 * canonical byte string built by EncodeEntry() and specified in
 * doc/audit.md; the first entry's prev_hash is 32 zero bytes.
 *
 * Appends are serialized by a private transaction-level lock (aisec_lock),
 * held until commit.  The appender then reads the chain head with the
 * *latest* snapshot, not the transaction's, so it sees the entry committed
 * by whoever held the lock before it, even in REPEATABLE READ.  seq is the
 * head's seq + 1, so a rolled-back append leaves no gap and no trace.
 *
 * An entry records the appending session's session user and login, except
 * that the refusal worker (refusal.c) records the refused session's: the
 * encoding is the same either way.
 *
 * Entries are inserted with CatalogTupleInsert (heap and index insert, no
 * executor): no trigger fires, so the statement-level triggers on the table
 * can refuse every UPDATE, DELETE and TRUNCATE, for every role.  The one
 * change an entry may undergo, redaction of its detail by a DPO
 * (aisec_audit_redact), is a CatalogTupleUpdate for the same reason.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "commands/trigger.h"
#include "common/base64.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "core/core.h"
#include "audit.h"

/* The digest signer keys registered at load (aisec_audit_set_signer). */
static const AisecAuditSigner *signer = NULL;

/* Register the signer of audit digests (src/keys/ does, in _PG_init). */
void
aisec_audit_set_signer(const AisecAuditSigner *s)
{
	signer = s;
}

/* The registered signer; without one, digests cannot be signed. */
static const AisecAuditSigner *
Signer(void)
{
	if (signer == NULL)
		elog(ERROR, "no audit digest signer is registered");
	return signer;
}

/* Columns of aisec.audit_log, in table order. */
enum
{
	AL_SEQ = 0,
	AL_AT,
	AL_ACTOR,
	AL_LOGIN,
	AL_ACTION,
	AL_OBJECT,
	AL_DETAIL,
	AL_PREV_HASH,
	AL_HASH,
	AL_DETAIL_SHA256,			/* NULL: written under encoding v1 */
	AL_REDACTED_IN,				/* seq of the audit.redact entry, or NULL */
	AL_NCOLS
};

/*
 * Encoding v1 (0.1.0) covers the detail's text; v2 (0.2.0 on) covers its
 * SHA-256, kept in detail_sha256, so a detail can be redacted
 * (aisec_audit_redact).  An entry with detail_sha256 NULL is v1; the tags
 * differ, so an entry verifies under the encoding it was written in only.
 */
#define AUDIT_ENCODING_TAG_V1	"aisec.audit.v1"
#define AUDIT_ENCODING_TAG		"aisec.audit.v2"
#define REDACT_ACTION		"audit.redact"
#define DIGEST_FORMAT		"aisec-audit-digest-v1"
#define MAX_ACTION_LEN		100
#define MAX_OBJECT_LEN		1024
#define MAX_DETAIL_LEN		65536

/* Microseconds between 1970-01-01 and 2000-01-01 (PostgreSQL's epoch). */
#define UNIX_EPOCH_OFFSET_US \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

/* The kinds of damage a walk over the chain can find. */
typedef enum ChainProblem
{
	CHAIN_INTACT,
	CHAIN_GAP,					/* an entry is missing */
	CHAIN_DUPLICATE,			/* an entry appears more than once */
	CHAIN_NULL_FIELD,			/* an entry has a NULL field */
	CHAIN_BROKEN_LINK,			/* prev_hash is not the previous entry's hash */
	CHAIN_HASH_MISMATCH,		/* the entry does not match its hash */
	CHAIN_UNRECORDED_REDACTION	/* detail gone, no audit.redact entry says so */
} ChainProblem;

/* What a walk over the chain found. */
typedef struct ChainState
{
	int64		entries;		/* entries read */
	int64		last_seq;		/* seq of the last entry read */
	uint8		last_hash[SHA256_LEN];	/* stored hash of that entry */
	int64		first_bad_seq;	/* 0 if the chain is intact so far */
	ChainProblem problem;		/* what is wrong at first_bad_seq */
	int64		before_seq;		/* CHAIN_GAP, CHAIN_BROKEN_LINK: entry before */
	int64		after_seq;		/* CHAIN_GAP: the entry the log jumps to */
} ChainState;

/*
 * Build the canonical encoding of one entry (doc/audit.md, "Hash chain"):
 * v2 with detail_sha256 (32 bytes), else v1 with the detail's text.
 */
static void
EncodeEntry(StringInfo buf, int64 seq, TimestampTz at, const char *actor,
			const char *login, const char *action, const char *object,
			const uint8 *detail_sha256, const char *detail, size_t detail_len)
{
	const char *tag = detail_sha256 ? AUDIT_ENCODING_TAG : AUDIT_ENCODING_TAG_V1;

	resetStringInfo(buf);
	appendBinaryStringInfo(buf, tag, strlen(tag));
	encode_int64(buf, seq);
	encode_int64(buf, (int64) at + UNIX_EPOCH_OFFSET_US);
	encode_field(buf, actor, strlen(actor));
	encode_field(buf, login, strlen(login));
	encode_field(buf, action, strlen(action));
	encode_field(buf, object, object ? strlen(object) : 0);
	if (detail_sha256)
		appendBinaryStringInfo(buf, (const char *) detail_sha256, SHA256_LEN);
	else
		encode_field(buf, detail, detail_len);
}

/*
 * Reject an action (is_action) or object text that would make an unreadable
 * or unbounded log entry.
 */
static void
CheckAuditText(bool is_action, const char *value, size_t maxlen)
{
	size_t		len = strlen(value);

	if (len > maxlen)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 is_action ?
				 errmsg("audit action is too long") :
				 errmsg("audit object is too long"),
				 errdetail("It is %zu bytes; the limit is %zu.", len, maxlen)));
	for (const char *p = value; *p; p++)
		if ((unsigned char) *p < 0x20 && *p != '\t')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 is_action ?
					 errmsg("audit action must not contain control characters") :
					 errmsg("audit object must not contain control characters")));
}

/* Read the chain head (latest committed entry) into seq/hash; 0 if empty. */
static void
ReadChainHead(Relation rel, int64 *seq, uint8 *hash)
{
	Relation	idx = index_open(aisec_relid("audit_log_pkey"), AccessShareLock);
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	IndexScanDesc scan = index_beginscan(rel, idx, snap, 0, 0);
	TupleTableSlot *slot = table_slot_create(rel, NULL);

	*seq = 0;
	memset(hash, 0, SHA256_LEN);
	index_rescan(scan, NULL, 0, NULL, 0);
	if (index_getnext_slot(scan, BackwardScanDirection, slot))
	{
		bytea	   *h;

		slot_getallattrs(slot);
		*seq = DatumGetInt64(slot->tts_values[AL_SEQ]);
		if (slot->tts_isnull[AL_HASH])
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("aisec audit log entry %lld has no hash", (long long) *seq),
					 errhint("Run aisec.audit_verify() to find what was changed.")));
		h = DatumGetByteaPP(slot->tts_values[AL_HASH]);
		if (VARSIZE_ANY_EXHDR(h) == SHA256_LEN)
			memcpy(hash, VARDATA_ANY(h), SHA256_LEN);
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	UnregisterSnapshot(snap);
	index_close(idx, AccessShareLock);
}

/* Wrap raw bytes as a palloc'd bytea datum. */
static Datum
BytesToDatum(const uint8 *data, size_t len)
{
	bytea	   *b = (bytea *) palloc(VARHDRSZ + len);

	SET_VARSIZE(b, VARHDRSZ + len);
	memcpy(VARDATA(b), data, len);
	return PointerGetDatum(b);
}

/* Append one entry, recorded as done by actor/login; see the file header. */
static int64
AppendEntry(const char *actor, const char *login, const char *action,
			const char *object, Jsonb *detail)
{
	char	   *detail_text;
	size_t		detail_len;
	Relation	rel;
	int64		seq;
	uint8		prev[SHA256_LEN];
	uint8		hash[SHA256_LEN];
	uint8		detail_sha256[SHA256_LEN];
	bool		v2;
	TimestampTz at;
	StringInfoData buf;
	Datum		values[AL_NCOLS];
	bool		nulls[AL_NCOLS] = {0};
	HeapTuple	tup;

	if (action == NULL || action[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("audit action must not be NULL or empty")));
	CheckAuditText(true, action, MAX_ACTION_LEN);
	if (object != NULL)
		CheckAuditText(false, object, MAX_OBJECT_LEN);
	if (!JB_ROOT_IS_OBJECT(detail) || JB_ROOT_IS_SCALAR(detail))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("audit detail must be a JSON object")));
	detail_text = JsonbToCString(NULL, &detail->root, VARSIZE_ANY_EXHDR(detail));
	detail_len = strlen(detail_text);
	if (detail_len > MAX_DETAIL_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("audit detail is too large"),
				 errdetail("Its JSON text is %zu bytes; the limit is %d.",
						   detail_len, MAX_DETAIL_LEN),
				 errhint("Record identifiers and counts, not data.")));

	aisec_prevent_if_read_only("aisec.audit()");

	aisec_lock(AISEC_LOCK_AUDIT_APPEND);
	rel = table_open(aisec_relid("audit_log"), RowExclusiveLock);
	ReadChainHead(rel, &seq, prev);
	seq++;
	at = GetCurrentTimestamp();

	/* v2, unless the table lacks detail_sha256 (mid-update, SlotEntry). */
	v2 = RelationGetDescr(rel)->natts >= AL_NCOLS;
	crypto_sha256((const uint8 *) detail_text, detail_len, detail_sha256);
	initStringInfo(&buf);
	EncodeEntry(&buf, seq, at, actor, login, action, object,
				v2 ? detail_sha256 : NULL, detail_text, detail_len);
	crypto_sha256_2(prev, SHA256_LEN, (uint8 *) buf.data, buf.len, hash);

	values[AL_SEQ] = Int64GetDatum(seq);
	values[AL_AT] = TimestampTzGetDatum(at);
	values[AL_ACTOR] = CStringGetTextDatum(actor);
	values[AL_LOGIN] = CStringGetTextDatum(login);
	values[AL_ACTION] = CStringGetTextDatum(action);
	values[AL_OBJECT] = object ? CStringGetTextDatum(object) : (Datum) 0;
	nulls[AL_OBJECT] = (object == NULL);
	values[AL_DETAIL] = JsonbPGetDatum(detail);
	values[AL_PREV_HASH] = BytesToDatum(prev, SHA256_LEN);
	values[AL_HASH] = BytesToDatum(hash, SHA256_LEN);
	values[AL_DETAIL_SHA256] = BytesToDatum(detail_sha256, SHA256_LEN);
	nulls[AL_DETAIL_SHA256] = !v2;
	nulls[AL_REDACTED_IN] = true;

	tup = heap_form_tuple(RelationGetDescr(rel), values, nulls);
	CatalogTupleInsert(rel, tup);
	heap_freetuple(tup);
	table_close(rel, NoLock);
	pfree(buf.data);

	/* Later appends in this transaction must see this entry as the head. */
	CommandCounterIncrement();
	return seq;
}

/* Append one entry, done by this session's session user and login. */
int64
aisec_audit_append(const char *action, const char *object, Jsonb *detail)
{
	return AppendEntry(GetUserNameFromId(GetSessionUserId(), false),
					   GetUserNameFromId(GetAuthenticatedUserId(), false),
					   action, object, detail);
}

/* Append an entry whose detail is JSON text built by aisec itself. */
int64
aisec_audit_log(const char *action, const char *object, const char *detail_json)
{
	Datum		detail = DirectFunctionCall1(jsonb_in, CStringGetDatum(detail_json));

	return aisec_audit_append(action, object, DatumGetJsonbP(detail));
}

/*
 * Append an entry done by another session, whose session user and login are
 * given by name (the refusal worker, refusal.c, records the refused
 * session's roles, not its own).
 */
int64
aisec_audit_log_as(const char *actor, const char *login, const char *action,
				   const char *object, const char *detail_json)
{
	Datum		detail = DirectFunctionCall1(jsonb_in, CStringGetDatum(detail_json));

	return AppendEntry(actor, login, action, object, DatumGetJsonbP(detail));
}

/*
 * Record a problem at seq if it is the first one the walk has met; before
 * and after are the other entries it involves (see ChainState).
 */
static void
NoteProblem(ChainState *st, int64 seq, ChainProblem problem,
			int64 before, int64 after)
{
	if (st->first_bad_seq != 0)
		return;
	st->first_bad_seq = seq;
	st->problem = problem;
	st->before_seq = before;
	st->after_seq = after;
}

/* The problem column of audit_verify(): a fixed, documented text per kind. */
static char *
ProblemText(const ChainState *st)
{
	long long	seq = (long long) st->first_bad_seq;

	switch (st->problem)
	{
		case CHAIN_INTACT:
			return psprintf("%lld entries, chain intact", (long long) st->entries);
		case CHAIN_GAP:
			return psprintf("entry %lld is missing (the log jumps from entry %lld to %lld)",
							seq, (long long) st->before_seq,
							(long long) st->after_seq);
		case CHAIN_DUPLICATE:
			return psprintf("entry %lld appears more than once", seq);
		case CHAIN_NULL_FIELD:
			return psprintf("entry %lld has a NULL field", seq);
		case CHAIN_BROKEN_LINK:
			return psprintf("entry %lld does not link to the entry before it "
							"(its prev_hash is not the hash of entry %lld)",
							seq, (long long) st->before_seq);
		case CHAIN_HASH_MISMATCH:
			return psprintf("entry %lld does not match its hash "
							"(it was changed after it was written)", seq);
		case CHAIN_UNRECORDED_REDACTION:
			return psprintf("entry %lld lacks its detail or is marked redacted, "
							"but no audit.redact entry records its redaction", seq);
	}
	elog(ERROR, "unexpected audit chain problem %d", (int) st->problem);
	return NULL;				/* keep compiler quiet */
}

/* errdetail() for a damaged chain: one whole sentence per kind of damage. */
static int
ProblemDetail(const ChainState *st)
{
	long long	seq = (long long) st->first_bad_seq;

	switch (st->problem)
	{
		case CHAIN_INTACT:
			break;
		case CHAIN_GAP:
			return errdetail("Entry %lld is missing: the log jumps from entry %lld to entry %lld.",
							 seq, (long long) st->before_seq,
							 (long long) st->after_seq);
		case CHAIN_DUPLICATE:
			return errdetail("Entry %lld appears more than once.", seq);
		case CHAIN_NULL_FIELD:
			return errdetail("Entry %lld has a NULL field.", seq);
		case CHAIN_BROKEN_LINK:
			return errdetail("Entry %lld does not link to the entry before it: its prev_hash is not the hash of entry %lld.",
							 seq, (long long) st->before_seq);
		case CHAIN_HASH_MISMATCH:
			return errdetail("Entry %lld does not match its hash: it was changed after it was written.",
							 seq);
		case CHAIN_UNRECORDED_REDACTION:
			return errdetail("Entry %lld lacks its detail or is marked redacted, but no audit.redact entry records its redaction.",
							 seq);
	}
	return 0;
}

/* Which entries a walk hands to a visitor (aisec_audit_walk), and how. */
typedef struct ChainVisit
{
	const char *object;
	const char *action_prefix;
	AisecAuditVisitor visit;
	void	   *arg;
} ChainVisit;

/* How to fetch one entry by seq, beside a walk (FetchEntry). */
typedef struct EntryLookup
{
	Relation	rel;
	Relation	idx;
	Snapshot	snap;
	TupleTableSlot *slot;		/* holds the entry fetched */
} EntryLookup;

/*
 * An entry's values and nulls, by AL_* column, from a slot of
 * aisec.audit_log.  Columns the table lacks read as NULL: during the update
 * from 0.1.0, before its last section adds detail_sha256 and redacted_in,
 * the table has the 0.1.0 columns only.
 */
typedef struct EntryRow
{
	Datum		v[AL_NCOLS];
	bool		n[AL_NCOLS];
} EntryRow;

/* Read the entry in slot into row (see EntryRow). */
static void
SlotEntry(TupleTableSlot *slot, EntryRow *row)
{
	int			natts = slot->tts_tupleDescriptor->natts;

	slot_getallattrs(slot);
	for (int i = 0; i < AL_NCOLS; i++)
	{
		row->v[i] = i < natts ? slot->tts_values[i] : (Datum) 0;
		row->n[i] = i < natts ? slot->tts_isnull[i] : true;
	}
}

/* Fetch entry seq into row (from lk->slot); false if there is none. */
static bool
FetchEntry(EntryLookup *lk, int64 seq, EntryRow *row)
{
	ScanKeyData key;
	IndexScanDesc scan;
	bool		found;

	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(seq));
	scan = index_beginscan(lk->rel, lk->idx, lk->snap, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, lk->slot);
	if (found)
		SlotEntry(lk->slot, row);
	index_endscan(scan);
	return found;
}

/* A JSON object's integer field key as text ("" when absent or not a number). */
static char *
JsonbNumberText(Jsonb *obj, const char *key)
{
	JsonbValue	k;
	JsonbValue *v;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	v = findJsonbValueFromContainer(&obj->root, JB_FOBJECT, &k);
	if (v == NULL || v->type != jbvNumeric)
		return "";
	return DatumGetCString(DirectFunctionCall1(numeric_out,
											   NumericGetDatum(v->val.numeric)));
}

/*
 * Check one entry (values v, nulls n, from aisec.audit_log) on its own, not
 * its link to the entry before: no NULL where none may be; for encoding
 * v2, the detail (if still there) hashes to detail_sha256; the entry
 * matches its hash, recomputed from its stored prev_hash; and a redacted
 * entry (detail NULL, or redacted_in set) is v2 and is named by the
 * audit.redact entry at redacted_in, later in the log, which itself
 * matches its hash (fetched through lk; without lk, a redacted entry is a
 * problem).  buf is scratch space.
 */
static ChainProblem
CheckEntry(int64 seq, Datum *v, bool *n, StringInfo buf, EntryLookup *lk)
{
	bytea	   *prev;
	bytea	   *stored;
	bytea	   *dsha = NULL;
	char	   *detail_text = NULL;
	size_t		detail_len = 0;
	uint8		hash[SHA256_LEN];
	int64		record;
	EntryRow	rrow;

	if (n[AL_AT] || n[AL_ACTOR] || n[AL_LOGIN] || n[AL_ACTION] ||
		n[AL_PREV_HASH] || n[AL_HASH])
		return CHAIN_NULL_FIELD;
	/* v1 entries hash the detail itself: it cannot be redacted. */
	if (n[AL_DETAIL_SHA256] && n[AL_DETAIL])
		return CHAIN_NULL_FIELD;
	if (!n[AL_DETAIL_SHA256])
	{
		dsha = DatumGetByteaPP(v[AL_DETAIL_SHA256]);
		if (VARSIZE_ANY_EXHDR(dsha) != SHA256_LEN)
			return CHAIN_HASH_MISMATCH;
	}
	if (!n[AL_DETAIL])
	{
		Jsonb	   *detail = DatumGetJsonbP(v[AL_DETAIL]);

		detail_text = JsonbToCString(NULL, &detail->root, VARSIZE_ANY_EXHDR(detail));
		detail_len = strlen(detail_text);
		if (dsha != NULL)
		{
			crypto_sha256((const uint8 *) detail_text, detail_len, hash);
			if (memcmp(hash, VARDATA_ANY(dsha), SHA256_LEN) != 0)
				return CHAIN_HASH_MISMATCH;
		}
	}

	prev = DatumGetByteaPP(v[AL_PREV_HASH]);
	stored = DatumGetByteaPP(v[AL_HASH]);
	EncodeEntry(buf, seq, DatumGetTimestampTz(v[AL_AT]),
				TextDatumGetCString(v[AL_ACTOR]),
				TextDatumGetCString(v[AL_LOGIN]),
				TextDatumGetCString(v[AL_ACTION]),
				n[AL_OBJECT] ? NULL : TextDatumGetCString(v[AL_OBJECT]),
				dsha ? (const uint8 *) VARDATA_ANY(dsha) : NULL,
				detail_text, detail_len);
	crypto_sha256_2((const uint8 *) VARDATA_ANY(prev), VARSIZE_ANY_EXHDR(prev),
					(uint8 *) buf->data, buf->len, hash);
	if (VARSIZE_ANY_EXHDR(stored) != SHA256_LEN ||
		memcmp(VARDATA_ANY(stored), hash, SHA256_LEN) != 0)
		return CHAIN_HASH_MISMATCH;

	if (!n[AL_DETAIL])
		return n[AL_REDACTED_IN] ? CHAIN_INTACT : CHAIN_UNRECORDED_REDACTION;

	/* Redacted: the audit.redact entry it names must record just that. */
	if (n[AL_REDACTED_IN] || lk == NULL)
		return CHAIN_UNRECORDED_REDACTION;
	record = DatumGetInt64(v[AL_REDACTED_IN]);
	if (record <= seq || !FetchEntry(lk, record, &rrow))
		return CHAIN_UNRECORDED_REDACTION;
	{
		Datum	   *rv = rrow.v;
		bool	   *rn = rrow.n;

		if (rn[AL_ACTION] || rn[AL_DETAIL] ||
			strcmp(TextDatumGetCString(rv[AL_ACTION]), REDACT_ACTION) != 0 ||
			strcmp(JsonbNumberText(DatumGetJsonbP(rv[AL_DETAIL]), "seq"),
				   psprintf("%lld", (long long) seq)) != 0 ||
			CheckEntry(record, rv, rn, buf, NULL) != CHAIN_INTACT)
			return CHAIN_UNRECORDED_REDACTION;
	}
	return CHAIN_INTACT;
}

/*
 * Walk the chain in seq order under the statement's snapshot, checking
 * sequence continuity, linkage and each entry (CheckEntry).  Stops after
 * stop_seq when stop_seq > 0 (a redacted entry's audit.redact entry may lie
 * beyond: it is fetched and checked on its own).  Only the first problem
 * is kept.  With visit, every entry with visit's object, an action that
 * starts with its prefix and a detail (not redacted) is handed to its
 * visitor (in the walk's memory context, reset after each entry), whether
 * or not it matches its hash.
 */
static void
WalkChain(int64 stop_seq, ChainState *st, const ChainVisit *visit)
{
	Relation	rel = table_open(aisec_relid("audit_log"), AccessShareLock);
	Relation	idx = index_open(aisec_relid("audit_log_pkey"), AccessShareLock);
	IndexScanDesc scan = index_beginscan(rel, idx, GetActiveSnapshot(), 0, 0);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	EntryLookup lk = {rel, idx, GetActiveSnapshot(), table_slot_create(rel, NULL)};
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext,
												 "aisec audit verify",
												 ALLOCSET_DEFAULT_SIZES);
	MemoryContext outer = CurrentMemoryContext;
	StringInfoData buf;

	memset(st, 0, sizeof(*st));
	initStringInfo(&buf);
	index_rescan(scan, NULL, 0, NULL, 0);

	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		Datum	   *v;
		bool	   *n;
		int64		seq;
		int64		expected = st->last_seq + 1;
		bytea	   *stored_prev;
		bytea	   *stored_hash;
		ChainProblem problem;
		EntryRow	row;

		CHECK_FOR_INTERRUPTS();
		SlotEntry(slot, &row);
		v = row.v;
		n = row.n;
		seq = DatumGetInt64(v[AL_SEQ]);
		if (stop_seq > 0 && seq > stop_seq)
			break;
		st->entries++;

		if (seq > expected)
			NoteProblem(st, expected, CHAIN_GAP, st->last_seq, seq);
		else if (seq < expected)
			NoteProblem(st, seq, CHAIN_DUPLICATE, 0, 0);

		if (n[AL_AT] || n[AL_ACTOR] || n[AL_LOGIN] || n[AL_ACTION] ||
			n[AL_PREV_HASH] || n[AL_HASH])
		{
			NoteProblem(st, seq, CHAIN_NULL_FIELD, 0, 0);
			st->last_seq = seq;
			memset(st->last_hash, 0, SHA256_LEN);
			continue;
		}

		MemoryContextSwitchTo(rowcxt);
		stored_prev = DatumGetByteaPP(v[AL_PREV_HASH]);
		stored_hash = DatumGetByteaPP(v[AL_HASH]);
		if (VARSIZE_ANY_EXHDR(stored_prev) != SHA256_LEN ||
			memcmp(VARDATA_ANY(stored_prev), st->last_hash, SHA256_LEN) != 0)
			NoteProblem(st, seq, CHAIN_BROKEN_LINK, st->last_seq, 0);
		problem = CheckEntry(seq, v, n, &buf, &lk);
		if (problem != CHAIN_INTACT)
			NoteProblem(st, seq, problem, 0, 0);
		if (visit != NULL && !n[AL_OBJECT] && !n[AL_DETAIL] &&
			strcmp(TextDatumGetCString(v[AL_OBJECT]), visit->object) == 0)
		{
			char	   *action = TextDatumGetCString(v[AL_ACTION]);

			if (strncmp(action, visit->action_prefix,
						strlen(visit->action_prefix)) == 0)
				visit->visit(seq, action, DatumGetJsonbP(v[AL_DETAIL]), visit->arg);
		}
		MemoryContextSwitchTo(outer);

		/* The next entry must link to this entry's stored hash. */
		memset(st->last_hash, 0, SHA256_LEN);
		if (VARSIZE_ANY_EXHDR(stored_hash) == SHA256_LEN)
			memcpy(st->last_hash, VARDATA_ANY(stored_hash), SHA256_LEN);
		st->last_seq = seq;
		MemoryContextReset(rowcxt);
	}

	pfree(buf.data);
	MemoryContextDelete(rowcxt);
	ExecDropSingleTupleTableSlot(lk.slot);
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);
}

/*
 * Walk the whole chain as aisec.audit_verify() does, handing each entry
 * whose object is object and whose action starts with action_prefix to
 * visit.  Returns NULL if the chain is intact, else what audit_verify()
 * would report about its first bad entry.
 */
char *
aisec_audit_walk(const char *object, const char *action_prefix,
				 AisecAuditVisitor visit, void *arg)
{
	ChainState	st;
	ChainVisit	cv = {object, action_prefix, visit, arg};

	WalkChain(0, &st, &cv);
	return st.first_bad_seq == 0 ? NULL : ProblemText(&st);
}

/*
 * Redact entry seq (aisec.redact_audit, src/erasure/; see audit.h): append
 * an audit.redact entry recording seq and reason, then set the entry's
 * detail to NULL and its redacted_in to that entry's seq, in place
 * (CatalogTupleUpdate: no executor, so the refusal triggers, which refuse
 * every UPDATE, do not fire; this is the only path).  Holds the append
 * lock, so a concurrent redaction of the same entry waits, then finds it
 * redacted.  The old tuple's bytes stay in the heap (and in WAL) until
 * VACUUM removes them.  Returns the audit.redact entry's seq.
 */
int64
aisec_audit_redact(int64 seq, const char *reason)
{
	Relation	rel;
	Snapshot	snap;
	EntryLookup lk;
	EntryRow	row;
	Datum	   *v = row.v;
	bool	   *n = row.n;
	char	   *action;
	StringInfoData buf;
	StringInfoData json;
	int64		record;
	HeapTuple	oldtup;
	HeapTuple	newtup;
	Datum		values[AL_NCOLS] = {0};
	bool		nulls[AL_NCOLS] = {0};
	bool		replace[AL_NCOLS] = {0};

	aisec_prevent_if_read_only("aisec.redact_audit()");
	aisec_lock(AISEC_LOCK_AUDIT_APPEND);
	rel = table_open(aisec_relid("audit_log"), RowExclusiveLock);
	snap = RegisterSnapshot(GetLatestSnapshot());
	lk.rel = rel;
	lk.idx = index_open(aisec_relid("audit_log_pkey"), AccessShareLock);
	lk.snap = snap;
	lk.slot = table_slot_create(rel, NULL);

	if (seq <= 0 || !FetchEntry(&lk, seq, &row))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("aisec audit log entry %lld does not exist", (long long) seq)));
	if (n[AL_DETAIL] || !n[AL_REDACTED_IN])
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("aisec audit log entry %lld is already redacted", (long long) seq)));
	if (n[AL_DETAIL_SHA256])
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("aisec audit log entry %lld cannot be redacted: it was written before aisec 0.2.0",
						(long long) seq),
				 errdetail("Its hash covers the detail itself (encoding aisec.audit.v1), so the chain would not verify without it."),
				 errhint("Entries written since the update to 0.2.0 can be redacted; see doc/audit.md.")));
	action = n[AL_ACTION] ? "" : TextDatumGetCString(v[AL_ACTION]);
	if (strncmp(action, "audit.", 6) == 0 || strncmp(action, "version.", 8) == 0 ||
		strncmp(action, "erasure.", 8) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("aisec audit log entry %lld cannot be redacted: aisec checks other records against its detail",
						(long long) seq),
				 errdetail("Entries of actions audit.*, version.* and erasure.* are read back by aisec (audit_verify, verify, erasure); aisec writes no personal data into them.")));
	initStringInfo(&buf);
	if (CheckEntry(seq, v, n, &buf, NULL) != CHAIN_INTACT)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("aisec audit log entry %lld does not match its hash", (long long) seq),
				 errhint("Run aisec.audit_verify(): a damaged entry is not redacted, which would hide the damage.")));

	/* The record first, then the entry points to it. */
	initStringInfo(&json);
	appendStringInfo(&json, "{\"seq\": %lld, \"reason\": ", (long long) seq);
	escape_json(&json, reason);
	appendStringInfoChar(&json, '}');
	record = aisec_audit_log(REDACT_ACTION, "aisec.audit_log", json.data);

	oldtup = ExecCopySlotHeapTuple(lk.slot);
	nulls[AL_DETAIL] = true;
	replace[AL_DETAIL] = true;
	values[AL_REDACTED_IN] = Int64GetDatum(record);
	replace[AL_REDACTED_IN] = true;
	newtup = heap_modify_tuple(oldtup, RelationGetDescr(rel), values, nulls, replace);
	CatalogTupleUpdate(rel, &lk.slot->tts_tid, newtup);
	CommandCounterIncrement();

	heap_freetuple(newtup);
	heap_freetuple(oldtup);
	ExecDropSingleTupleTableSlot(lk.slot);
	index_close(lk.idx, AccessShareLock);
	UnregisterSnapshot(snap);
	table_close(rel, NoLock);
	return record;
}

/* SQL: aisec.audit(action, object, detail) appends an entry, returns seq. */
PG_FUNCTION_INFO_V1(aisec_audit);
Datum
aisec_audit(PG_FUNCTION_ARGS)
{
	char	   *action;
	char	   *object;
	Jsonb	   *detail;

	aisec_require_role(AISEC_ROLE_ADMIN, "aisec.audit()");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("audit action must not be NULL or empty")));
	action = text_to_cstring(PG_GETARG_TEXT_PP(0));
	object = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (PG_ARGISNULL(2))
		detail = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
	else
		detail = PG_GETARG_JSONB_P(2);

	PG_RETURN_INT64(aisec_audit_append(action, object, detail));
}

/* SQL: aisec.audit_verify() recomputes the whole chain. */
PG_FUNCTION_INFO_V1(aisec_audit_verify);
Datum
aisec_audit_verify(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	ChainState	st;
	Datum		values[4];
	bool		nulls[4] = {0};

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_DPO | AISEC_ROLE_AUDITOR,
					   "aisec.audit_verify()");
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	WalkChain(0, &st, NULL);
	values[0] = BoolGetDatum(st.first_bad_seq == 0);
	values[1] = Int64GetDatum(st.entries);
	values[2] = Int64GetDatum(st.first_bad_seq);
	nulls[2] = (st.first_bad_seq == 0);
	values[3] = CStringGetTextDatum(ProblemText(&st));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

/* Format a timestamp as ISO 8601 UTC with microseconds: 2026-01-02T03:04:05.123456Z */
static char *
FormatUtc(TimestampTz ts)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		elog(ERROR, "timestamp out of range");
	return psprintf("%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
					tm.tm_year, tm.tm_mon, tm.tm_mday,
					tm.tm_hour, tm.tm_min, tm.tm_sec, (int) fsec);
}

/* Lowercase hex of len bytes (palloc'd). */
static char *
ToHex(const uint8 *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char	   *out = palloc(len * 2 + 1);

	for (size_t i = 0; i < len; i++)
	{
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 0xF];
	}
	out[len * 2] = '\0';
	return out;
}

/* The exact bytes a digest signature covers (doc/audit.md, "Digests"). */
static char *
DigestMessage(int64 seq, const char *hash_hex, const char *at)
{
	return psprintf(DIGEST_FORMAT "\n%lld\n%s\n%s", (long long) seq, hash_hex, at);
}

/* SQL: aisec.audit_digest() returns the signed head of the chain. */
PG_FUNCTION_INFO_V1(aisec_audit_digest);
Datum
aisec_audit_digest(PG_FUNCTION_ARGS)
{
	uint8		pub[ED25519_KEY_LEN];
	uint8		sig[ED25519_SIG_LEN];
	ChainState	st;
	char	   *hash_hex;
	char	   *at;
	char	   *msg;
	char	   *sig64;
	int			siglen;
	StringInfoData json;

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_DPO | AISEC_ROLE_AUDITOR,
					   "aisec.audit_digest()");

	/*
	 * Create the signing key first: doing so appends an audit entry, which
	 * the digest then covers (a snapshot copy that sees this command's own
	 * writes).  Otherwise the digest covers the chain as this statement
	 * sees it.
	 */
	if (!Signer()->public_key(pub))
	{
		uint8		probe[ED25519_SIG_LEN];

		Signer()->sign((const uint8 *) "", 0, probe);
	}
	PushCopiedSnapshot(GetActiveSnapshot());
	UpdateActiveSnapshotCommandId();
	WalkChain(0, &st, NULL);
	PopActiveSnapshot();
	if (st.first_bad_seq != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("aisec audit log is damaged at entry %lld", (long long) st.first_bad_seq),
				 ProblemDetail(&st),
				 errhint("A digest is only issued over an intact chain; see aisec.audit_verify().")));

	hash_hex = ToHex(st.last_hash, SHA256_LEN);
	at = FormatUtc(GetCurrentTimestamp());
	msg = DigestMessage(st.last_seq, hash_hex, at);
	Signer()->sign((const uint8 *) msg, strlen(msg), sig);

	sig64 = palloc(pg_b64_enc_len(ED25519_SIG_LEN) + 1);
	siglen = pg_b64_encode((const char *) sig, ED25519_SIG_LEN, sig64,
						   pg_b64_enc_len(ED25519_SIG_LEN));
	sig64[siglen] = '\0';

	initStringInfo(&json);
	appendStringInfo(&json,
					 "{\"format\": \"" DIGEST_FORMAT "\", \"seq\": %lld, "
					 "\"hash\": \"%s\", \"at\": \"%s\", \"signature\": \"%s\"}",
					 (long long) st.last_seq, hash_hex, at, sig64);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json.data)));
}

/* Fetch a digest field of the given JSON type, or raise a clear error. */
static JsonbValue *
DigestField(Jsonb *digest, const char *key, enum jbvType type)
{
	JsonbValue	k;
	JsonbValue *v;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	v = findJsonbValueFromContainer(&digest->root, JB_FOBJECT, &k);
	if (v == NULL || v->type != type)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid audit digest"),
				 errdetail("Field \"%s\" is missing or has the wrong JSON type.", key),
				 errhint("Pass a value returned by aisec.audit_digest(), unchanged.")));
	return v;
}

/* Copy a JSON string value out as a NUL-terminated C string. */
static char *
JsonbStringValue(JsonbValue *v)
{
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* Read the digest's seq: a whole number that fits in bigint, or an error. */
static int64
DigestSeq(JsonbValue *v)
{
	char	   *text = DatumGetCString(DirectFunctionCall1(numeric_out,
														   NumericGetDatum(v->val.numeric)));
	const char *p = text[0] == '-' ? text + 1 : text;
	size_t		digits = strspn(p, "0123456789");

	if (digits == 0 || p[digits] != '\0' || digits > 18)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid audit digest"),
				 errdetail("Field \"seq\" is not a whole number in range.")));
	return strtoi64(text, NULL, 10);
}

/* SQL: aisec.audit_verify_digest(d): is d signed and still on today's chain? */
PG_FUNCTION_INFO_V1(aisec_audit_verify_digest);
Datum
aisec_audit_verify_digest(PG_FUNCTION_ARGS)
{
	Jsonb	   *digest;
	char	   *format;
	int64		seq;
	char	   *hash_hex;
	char	   *at;
	char	   *sig64;
	uint8		sig[ED25519_SIG_LEN + 3];
	int			siglen;
	uint8		pub[ED25519_KEY_LEN];
	char	   *msg;
	ChainState	st;
	JsonbValue *seqv;

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_DPO | AISEC_ROLE_AUDITOR,
					   "aisec.audit_verify_digest()");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("audit digest must not be NULL")));
	digest = PG_GETARG_JSONB_P(0);
	if (!JB_ROOT_IS_OBJECT(digest) || JB_ROOT_IS_SCALAR(digest))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid audit digest"),
				 errdetail("A digest is a JSON object.")));

	format = JsonbStringValue(DigestField(digest, "format", jbvString));
	if (strcmp(format, DIGEST_FORMAT) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid audit digest"),
				 errdetail("Field \"format\" is not \"%s\".", DIGEST_FORMAT)));
	seqv = DigestField(digest, "seq", jbvNumeric);
	seq = DigestSeq(seqv);
	hash_hex = JsonbStringValue(DigestField(digest, "hash", jbvString));
	at = JsonbStringValue(DigestField(digest, "at", jbvString));
	sig64 = JsonbStringValue(DigestField(digest, "signature", jbvString));

	/* A signature that does not decode to 64 bytes cannot be ours. */
	if (strlen(sig64) != (size_t) pg_b64_enc_len(ED25519_SIG_LEN))
		PG_RETURN_BOOL(false);
	siglen = pg_b64_decode(sig64, strlen(sig64), (char *) sig, sizeof(sig));
	if (siglen != ED25519_SIG_LEN || seq < 0 || strlen(hash_hex) != 2 * SHA256_LEN)
		PG_RETURN_BOOL(false);

	/* Without a signing key, nothing was ever signed here. */
	if (!Signer()->public_key(pub))
		PG_RETURN_BOOL(false);
	msg = DigestMessage(seq, hash_hex, at);
	if (!crypto_ed25519_verify(pub, (const uint8 *) msg, strlen(msg), sig))
		PG_RETURN_BOOL(false);

	/* Signed by us: now the chain up to seq must be intact and end there. */
	WalkChain(seq, &st, NULL);
	if (st.first_bad_seq != 0 && st.first_bad_seq <= seq)
		PG_RETURN_BOOL(false);
	if (st.last_seq != seq)
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(strcmp(ToHex(st.last_hash, SHA256_LEN), hash_hex) == 0);
}

/* Trigger: refuse UPDATE, DELETE and TRUNCATE on the append-only log. */
PG_FUNCTION_INFO_V1(aisec_audit_refuse_change);
Datum
aisec_audit_refuse_change(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const char *op;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" was not called by trigger manager",
						"aisec.audit_refuse_change")));
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		op = "UPDATE";
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		op = "DELETE";
	else if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		op = "TRUNCATE";
	else
		op = "INSERT";

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("%s on table \"%s.%s\" is not allowed", op,
					get_namespace_name(RelationGetNamespace(trigdata->tg_relation)),
					RelationGetRelationName(trigdata->tg_relation)),
			 errdetail("The aisec audit log is append-only, for every role including its owner."),
			 errhint("Use aisec.audit() to add an entry.")));
	PG_RETURN_NULL();
}
