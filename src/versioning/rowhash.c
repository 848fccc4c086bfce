/*
 * rowhash.c
 *		Row hashes and fingerprints: the canonical encoding of a row of a
 *		tracked table, its salted SHA-256 hash, and the sum of row hashes
 *		that a version's fingerprint is.
 *
 * The design is in doc/versioning.md ("Design note"; the encoding is in
 * "How to check a fingerprint yourself").  Invariants:
 *
 * - A row's hash depends only on its values: each live attribute in
 *   attnum order, in its type's binary send form, with the server
 *   encoding as client encoding, and with 0 wherever an array or
 *   composite send form carries a type OID (OIDs of user-defined types
 *   change across dump and restore; row hashes must not).
 * - A fingerprint is the sum of its row hashes modulo 2^256, so it is
 *   updated row by row, in any order, by adding and subtracting hashes.
 * - A column whose type (at any depth) has no send function cannot be
 *   hashed, and aisec refuses to track a table with one
 *   (history_check_encodable).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "history.h"

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
	uint16		number;			/* the column's number in the encoding */
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
 * Prepare to encode rows of desc, numbering its live attributes with
 * numbers (indexed by attnum - 1; NULL: by attnum).  Send functions that emit text use the
 * client encoding, so it is pinned to the server encoding (as in binary
 * COPY with client_encoding = server_encoding) until history_encoder_done.
 */
RowEncoder *
history_encoder(TupleDesc desc, const int16 *numbers)
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
		ea->number = (uint16) (numbers != NULL ? numbers[i] : att->attnum);
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
 * attribute with a non-NULL value in attnum order: its number (2 bytes: its
 * attnum where the table was tracked, see history_hash_numbers), length
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
		AppendBigEndian(&enc->buf, ea->number, 2);
		EncodeValue(&enc->buf, ea, values[ea->attnum - 1]);
	}
	crypto_sha256_2(salt, ROW_SALT_LEN, (uint8 *) enc->buf.data, enc->buf.len, hash);
	MemoryContextSwitchTo(old);
	MemoryContextReset(enc->cxt);
}

/* ---------------------------------------------------------------------
 * Which types rows can hold
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
void
history_check_encodable(Relation rel, Form_pg_attribute att)
{
	Oid			missing = FindScalarType(att->atttypid, HasNoSend, InvalidOid);

	if (OidIsValid(missing))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("column \"%s\" of table \"%s\" cannot be versioned: type \"%s\" has no binary send function",
						NameStr(att->attname), RelationGetRelationName(rel),
						format_type_be(missing)),
				 errdetail("Row hashes encode every value in its binary send form.")));
}

/*
 * Whether a value of type typid can hold a value of scalar type scalar
 * (typid is scalar, or its arrays, composites and domains hold it, at any
 * depth).
 */
bool
history_type_holds(Oid typid, Oid scalar)
{
	return OidIsValid(FindScalarType(typid, IsTypeArg, scalar));
}

/* Wrap raw bytes (a hash, a salt) as a bytea datum. */
Datum
history_bytea(const uint8 *data, size_t len)
{
	bytea	   *b = palloc(VARHDRSZ + len);

	SET_VARSIZE(b, VARHDRSZ + len);
	memcpy(VARDATA(b), data, len);
	return PointerGetDatum(b);
}
