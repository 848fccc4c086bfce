/*
 * statecodec.c
 *		Binary and JSON encoding shared by aisec's statistics states.
 *
 * Binary: varlena header, format version byte, kind byte, then fields in
 * little-endian order (see statecodec.h).  Every read is bounds-checked;
 * counts must be non-negative; labels must be valid text in the database
 * encoding.  Problems raise ERRCODE_INVALID_BINARY_REPRESENTATION naming the
 * SQL type and what is wrong.
 *
 * JSON: the text form of each state type.  Input is parsed by jsonb_in and
 * walked with checked accessors that raise ERRCODE_INVALID_TEXT_REPRESENTATION.
 */
#include "postgres.h"

#include <math.h>

#include "common/shortest_dec.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "statecodec.h"

/* Start a state: room for the varlena header, then version and kind. */
void
state_write_begin(StringInfo buf, char kind)
{
	initStringInfo(buf);
	appendStringInfoSpaces(buf, VARHDRSZ);
	appendStringInfoChar(buf, (char) STATE_FORMAT_VERSION);
	appendStringInfoChar(buf, kind);
}

/* Append a little-endian 32-bit unsigned integer. */
void
state_write_u32(StringInfo buf, uint32 v)
{
	uint8		b[4];

	for (int i = 0; i < 4; i++)
		b[i] = (uint8) (v >> (8 * i));
	appendBinaryStringInfo(buf, (char *) b, 4);
}

/* Append a little-endian 64-bit signed integer. */
void
state_write_i64(StringInfo buf, int64 v)
{
	uint64		u = (uint64) v;
	uint8		b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8) (u >> (8 * i));
	appendBinaryStringInfo(buf, (char *) b, 8);
}

/* Append an IEEE 754 double as its little-endian bit pattern. */
void
state_write_f64(StringInfo buf, double v)
{
	uint64		u;

	memcpy(&u, &v, sizeof(u));
	state_write_i64(buf, (int64) u);
}

/* Append a length-prefixed label. */
void
state_write_label(StringInfo buf, const char *data, uint32 len)
{
	state_write_u32(buf, len);
	appendBinaryStringInfo(buf, data, len);
}

/* Finish a state: set the varlena length and hand the buffer over. */
struct varlena *
state_write_end(StringInfo buf)
{
	if ((Size) buf->len > MaxAllocSize - 1)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("statistics state is too large to store"),
				 errdetail("It needs %d bytes.", buf->len)));
	SET_VARSIZE(buf->data, buf->len);
	return (struct varlena *) buf->data;
}

/*
 * Raise the error for a serialized state that cannot be trusted.  detail is
 * a whole sentence saying what is wrong (it becomes the DETAIL line).
 */
void
state_corrupt(const char *type_name, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid %s value", type_name),
			 errdetail("%s", detail)));
}

/* Take n bytes from the reader, or fail as truncated. */
static const char *
TakeBytes(StateReader *r, size_t n)
{
	const char *p = r->pos;

	if ((size_t) (r->end - r->pos) < n)
		state_corrupt(r->type_name, "The value is truncated.");
	r->pos += n;
	return p;
}

/* Open a serialized state, checking its format version and kind. */
void
state_read_begin(StateReader *r, const struct varlena *v, char kind,
				 const char *type_name)
{
	uint8		version;
	char		got;

	r->pos = VARDATA_ANY(v);
	r->end = r->pos + VARSIZE_ANY_EXHDR(v);
	r->type_name = type_name;
	version = (uint8) *TakeBytes(r, 1);
	if (version != STATE_FORMAT_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported %s format version %u", type_name, version),
				 errdetail("This build of aisec reads format version %d.",
						   STATE_FORMAT_VERSION),
				 errhint("The value was written by another aisec version, or is not a value of type %s.",
						 type_name)));
	got = *TakeBytes(r, 1);
	if (got != kind)
		state_corrupt(type_name, "The value holds a different kind of statistics state.");
}

/* Read a little-endian 32-bit unsigned integer. */
uint32
state_read_u32(StateReader *r)
{
	const uint8 *b = (const uint8 *) TakeBytes(r, 4);

	return (uint32) b[0] | ((uint32) b[1] << 8) | ((uint32) b[2] << 16) |
		((uint32) b[3] << 24);
}

/* Read a raw little-endian 64-bit word. */
static uint64
ReadU64(StateReader *r)
{
	const uint8 *b = (const uint8 *) TakeBytes(r, 8);
	uint64		u = 0;

	for (int i = 7; i >= 0; i--)
		u = (u << 8) | b[i];
	return u;
}

/* Read a count, which must not be negative. */
int64
state_read_count(StateReader *r)
{
	int64		v = (int64) ReadU64(r);

	if (v < 0)
		state_corrupt(r->type_name, "A count is negative.");
	return v;
}

/* Read a double. */
double
state_read_f64(StateReader *r)
{
	uint64		u = ReadU64(r);
	double		v;

	memcpy(&v, &u, sizeof(v));
	return v;
}

/* Read a length-prefixed label, checking it is valid text. */
const char *
state_read_label(StateReader *r, uint32 *len)
{
	const char *p;

	*len = state_read_u32(r);
	if (*len > state_read_left(r))
		state_corrupt(r->type_name, "A label runs past the end of the value.");
	p = TakeBytes(r, *len);
	check_label(r->type_name, p, *len);
	return p;
}

/* Bytes not yet read. */
size_t
state_read_left(const StateReader *r)
{
	return (size_t) (r->end - r->pos);
}

/* Require that every byte was consumed. */
void
state_read_end(StateReader *r)
{
	if (r->pos != r->end)
		state_corrupt(r->type_name, "There are trailing bytes after the last field.");
}

/* Compare two labels as byte strings (a proper prefix sorts first). */
int
label_cmp(const char *a, uint32 alen, const char *b, uint32 blen)
{
	int			c = memcmp(a, b, Min(alen, blen));

	if (c != 0)
		return c;
	return (alen < blen) ? -1 : (alen > blen) ? 1 : 0;
}

/* Reject a label with a NUL byte or invalid in the database encoding. */
void
check_label(const char *type_name, const char *data, uint32 len)
{
	if (memchr(data, '\0', len) != NULL ||
		!pg_verifymbstr(data, (int) len, true))
		state_corrupt(type_name, "A label is not valid text in the database encoding.");
}

/* Append a label as a JSON string. */
void
state_json_label(StringInfo buf, const char *data, uint32 len)
{
	char	   *s = pnstrdup(data, len);

	escape_json(buf, s);
	pfree(s);
}

/*
 * Append a finite double in its shortest exact decimal form, whatever
 * extra_float_digits says (float8out would print 15 digits when it is 0 or
 * less, and the text form would no longer read back as the same value).
 */
void
state_json_append_f64(StringInfo buf, double v)
{
	char		s[DOUBLE_SHORTEST_DECIMAL_LEN];

	double_to_shortest_decimal_buf(v, s);
	appendStringInfoString(buf, s);
}

/* Raise the error for a text form that cannot be read. */
void
state_json_bad_input(const char *type_name, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s", type_name),
			 errdetail("%s", detail),
			 errhint("Use the JSON form that %s values are printed in.", type_name)));
}

/* Parse JSON text that must be an object; return its container. */
JsonbContainer *
state_json_parse(const char *text, const char *type_name)
{
	Jsonb	   *jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));

	if (!JB_ROOT_IS_OBJECT(jb))
		state_json_bad_input(type_name, "The value must be a JSON object.");
	return &jb->root;
}

/* Check a JSON value's type; the error says which type the field needs. */
static void
CheckJsonType(JsonbValue *v, enum jbvType type, const char *type_name,
			  const char *what)
{
	if (v->type == type)
		return;
	switch (type)
	{
		case jbvNumeric:
			state_json_bad_input(type_name,
								 psprintf("\"%s\" must be a number.", what));
			break;
		case jbvString:
			state_json_bad_input(type_name,
								 psprintf("\"%s\" must be a string.", what));
			break;
		case jbvBinary:
			state_json_bad_input(type_name,
								 psprintf("\"%s\" must be an array or object.", what));
			break;
		default:
			elog(ERROR, "unexpected JSON value type %d", (int) type);
	}
}

/* Fetch a required field of a JSON object, of the given type. */
JsonbValue *
state_json_field(JsonbContainer *obj, const char *key, enum jbvType type,
			   const char *type_name)
{
	JsonbValue *v = getKeyJsonValueFromContainer(obj, key, strlen(key), NULL);

	if (v == NULL)
		state_json_bad_input(type_name, psprintf("The field \"%s\" is missing.", key));
	CheckJsonType(v, type, type_name, key);
	return v;
}

/* Read a JSON number that must be a non-negative integer. */
int64
state_json_count(JsonbValue *v, const char *type_name, const char *what)
{
	Datum		num;
	int64		i;

	CheckJsonType(v, jbvNumeric, type_name, what);
	num = NumericGetDatum(v->val.numeric);
	if (!DatumGetBool(DirectFunctionCall2(numeric_ge, num,
										  NumericGetDatum(int64_to_numeric(0)))) ||
		!DatumGetBool(DirectFunctionCall2(numeric_le, num,
										  NumericGetDatum(int64_to_numeric(PG_INT64_MAX)))))
		state_json_bad_input(type_name,
					   psprintf("\"%s\" must be a count between 0 and %lld.",
								what, (long long) PG_INT64_MAX));
	i = DatumGetInt64(DirectFunctionCall1(numeric_int8, num));
	if (!DatumGetBool(DirectFunctionCall2(numeric_eq, num,
										  NumericGetDatum(int64_to_numeric(i)))))
		state_json_bad_input(type_name, psprintf("\"%s\" must be a whole number.", what));
	return i;
}

/* Read a JSON number as a finite double. */
double
state_json_f64(JsonbValue *v, const char *type_name, const char *what)
{
	double		d;

	CheckJsonType(v, jbvNumeric, type_name, what);
	d = DatumGetFloat8(DirectFunctionCall1(numeric_float8,
										   NumericGetDatum(v->val.numeric)));
	if (!isfinite(d))
		state_json_bad_input(type_name, psprintf("\"%s\" must be a finite number.", what));
	return d;
}

/* Number of elements of a JSON array value (jbvBinary holding an array). */
int
state_json_length(JsonbValue *v)
{
	Assert(v->type == jbvBinary);
	if (!JsonContainerIsArray(v->val.binary.data))
		return -1;
	return JsonContainerSize(v->val.binary.data);
}

/* Fetch element i of a JSON array value, of the given type. */
JsonbValue *
state_json_element(JsonbValue *v, int i, enum jbvType type,
				   const char *type_name, const char *what)
{
	JsonbValue *e = getIthJsonbValueFromContainer(v->val.binary.data, i);

	if (e == NULL)
		state_json_bad_input(type_name, psprintf("\"%s\" is too short.", what));
	CheckJsonType(e, type, type_name, what);
	return e;
}

/* The aggregate memory context, or an error outside an aggregate. */
MemoryContext
state_agg_context(FunctionCallInfo fcinfo, const char *fn)
{
	MemoryContext aggcxt;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s called in non-aggregate context", fn)));
	return aggcxt;
}

/* Copy the rest of a binary message into a varlena (the caller validates). */
struct varlena *
state_recv_bytes(StringInfo msg)
{
	int			len = msg->len - msg->cursor;
	struct varlena *v = palloc(VARHDRSZ + len);

	SET_VARSIZE(v, VARHDRSZ + len);
	memcpy(VARDATA(v), pq_getmsgbytes(msg, len), len);
	return v;
}
