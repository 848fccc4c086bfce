/*
 * mask.c
 *		Keyless masking functions: aisec.mask_partial, mask_email,
 *		mask_digits and aisec.generalize.
 *
 * These are pure functions of their arguments (IMMUTABLE, except the
 * timestamptz generalize, which depends on the session time zone), so they
 * are PARALLEL SAFE and usable in indexes.  They run once per row: each
 * makes one pass over the value, writes the result straight into a
 * preallocated text, and never builds intermediate strings.  Lengths are
 * counted in characters, never bytes, so a multibyte character is hidden
 * or kept whole.  A mask never returns its input unchanged when it cannot
 * apply its rule: it hides more, not less.  Nor does it fail on a value:
 * a result too long for a text, a bucket below the type's range or a time
 * that cannot be truncated gives NULL (masked views rely on it: an error
 * that depends on a raw value would be an oracle on it).  Error messages
 * never contain the value being masked.  aisec.output_text lives here too.
 */
#include "postgres.h"

#include "common/int.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "core/core.h"
#include "masking_internal.h"

#define EMAIL_MAX_LEN	254		/* RFC 5321 path limit */

/* Length in bytes of the character at p (fast path for ASCII). */
static inline int
CharLen(const char *p)
{
	return ((unsigned char) *p < 0x80) ? 1 : pg_mblen(p);
}

/* Number of characters in s[0..len). */
static int
CountChars(const char *s, int len)
{
	int			n = 0;

	for (int off = 0; off < len; n++)
		off += CharLen(s + off);
	return n;
}

/* Byte offset of the character `nchars` characters after s (bounded by len). */
static int
SkipChars(const char *s, int len, int nchars)
{
	int			off = 0;

	for (int i = 0; i < nchars && off < len; i++)
		off += CharLen(s + off);
	return off;
}

/* True if a text of len bytes fits PostgreSQL's 1 GB limit. */
static inline bool
FitsText(Size len)
{
	return len <= MaxAllocSize - VARHDRSZ;
}

/* Allocate a text of len bytes (the caller has checked FitsText). */
static text *
AllocText(Size len)
{
	text	   *t = (text *) palloc(VARHDRSZ + len);

	SET_VARSIZE(t, VARHDRSZ + len);
	return t;
}

/* Raise invalid_parameter_value for a negative count argument (named argname). */
static void
CheckNotNegative(int32 v, const char *argname)
{
	if (v < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" must not be negative", argname)));
}

/* Write `count` copies of pad (padlen bytes) at p; returns the end. */
static inline char *
WritePad(char *p, const char *pad, int padlen, int count)
{
	if (padlen == 1)
	{
		memset(p, pad[0], count);
		return p + count;
	}
	for (int i = 0; i < count; i++, p += padlen)
		memcpy(p, pad, padlen);
	return p;
}

/* SQL: aisec.mask_partial(value, keep_prefix, keep_suffix, pad) hides the middle. */
PG_FUNCTION_INFO_V1(aisec_mask_partial);
Datum
aisec_mask_partial(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	int32		keep_prefix = PG_GETARG_INT32(1);
	int32		keep_suffix = PG_GETARG_INT32(2);
	text	   *pad = PG_GETARG_TEXT_PP(3);
	const char *s = VARDATA_ANY(value);
	int			len = VARSIZE_ANY_EXHDR(value);
	int			padlen = VARSIZE_ANY_EXHDR(pad);
	int			n;
	int			prefix_end;
	int			suffix_start;
	int			hidden;
	text	   *result;
	char	   *p;

	CheckNotNegative(keep_prefix, "keep_prefix");
	CheckNotNegative(keep_suffix, "keep_suffix");
	n = CountChars(s, len);

	/* Hide everything when keeping would reveal the whole value. */
	if ((int64) keep_prefix + keep_suffix >= n)
		keep_prefix = keep_suffix = 0;
	prefix_end = SkipChars(s, len, keep_prefix);
	hidden = n - keep_prefix - keep_suffix;
	suffix_start = prefix_end + SkipChars(s + prefix_end, len - prefix_end, hidden);

	/* A result over 1 GB (a long pad on a huge value) hides everything. */
	if (!FitsText((Size) prefix_end + (Size) hidden * padlen + (len - suffix_start)))
		PG_RETURN_NULL();
	result = AllocText((Size) prefix_end + (Size) hidden * padlen + (len - suffix_start));
	p = VARDATA(result);
	memcpy(p, s, prefix_end);
	p = WritePad(p + prefix_end, VARDATA_ANY(pad), padlen, hidden);
	memcpy(p, s + suffix_start, len - suffix_start);
	PG_RETURN_TEXT_P(result);
}

/* True if c may appear in an address: no space, control or '@'. */
static inline bool
IsAddressByte(unsigned char c)
{
	return c > 0x20 && c != 0x7F && c != '@';
}

/*
 * Check that s is a well-formed address local@label.label...tld and find
 * its '@' and last '.'; false for anything else.  The local part is any
 * run of non-space, non-control characters; domain labels are non-empty
 * runs of letters, digits, '-' or non-ASCII characters; the top-level
 * domain is 2 to 63 ASCII letters.
 */
static bool
ParseEmail(const char *s, int len, int *at, int *lastdot)
{
	int			i;
	int			label = 0;

	if (len < 6 || len > EMAIL_MAX_LEN)
		return false;
	for (i = 0; i < len && s[i] != '@'; i++)
		if (!IsAddressByte((unsigned char) s[i]))
			return false;
	if (i == 0 || i >= len)
		return false;
	*at = i;
	*lastdot = -1;
	for (i = *at + 1; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '.')
		{
			if (label == 0)
				return false;
			*lastdot = i;
			label = 0;
		}
		else if (c >= 0x80 || c == '-' || (c >= '0' && c <= '9') ||
				 (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			label++;
		else
			return false;
	}
	if (*lastdot < 0 || label < 2 || label > 63)
		return false;
	for (i = *lastdot + 1; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i] | 0x20;

		if (c < 'a' || c > 'z')
			return false;
	}
	return true;
}

/* SQL: aisec.mask_email(value) keeps the local part's first character and the TLD. */
PG_FUNCTION_INFO_V1(aisec_mask_email);
Datum
aisec_mask_email(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(value);
	int			len = VARSIZE_ANY_EXHDR(value);
	int			at;
	int			lastdot;
	text	   *result;
	char	   *p;

	if (!ParseEmail(s, len, &at, &lastdot))
	{
		/* Not an address: every character becomes '*'. */
		int			n = CountChars(s, len);

		result = AllocText(n);
		memset(VARDATA(result), '*', n);
		PG_RETURN_TEXT_P(result);
	}
	else
	{
		int			first = CharLen(s);
		int			local_hidden = CountChars(s + first, at - first);
		int			domain_hidden = CountChars(s + at + 1, lastdot - at - 1);
		int			tld = len - lastdot;

		result = AllocText(first + local_hidden + 1 + domain_hidden + tld);
		p = VARDATA(result);
		memcpy(p, s, first);
		p += first;
		memset(p, '*', local_hidden);
		p += local_hidden;
		*p++ = '@';
		memset(p, '*', domain_hidden);
		p += domain_hidden;
		memcpy(p, s + lastdot, tld);
		PG_RETURN_TEXT_P(result);
	}
}

/* SQL: aisec.mask_digits(value, keep_last, pad) hides digits, keeps separators. */
PG_FUNCTION_INFO_V1(aisec_mask_digits);
Datum
aisec_mask_digits(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	int32		keep_last = PG_GETARG_INT32(1);
	text	   *pad = PG_GETARG_TEXT_PP(2);
	const char *s = VARDATA_ANY(value);
	int			len = VARSIZE_ANY_EXHDR(value);
	const char *padp = VARDATA_ANY(pad);
	int			padlen = VARSIZE_ANY_EXHDR(pad);
	int			ndigits = 0;
	int			to_hide;
	text	   *result;
	char	   *p;

	CheckNotNegative(keep_last, "keep_last");
	/* Server encodings never use ASCII digit bytes inside a multibyte character. */
	for (int i = 0; i < len; i++)
		ndigits += (s[i] >= '0' && s[i] <= '9');
	/* Hide every digit when keeping would reveal all of them. */
	to_hide = (keep_last >= ndigits) ? ndigits : ndigits - keep_last;

	/* A result over 1 GB (a long pad on a huge value) hides everything. */
	if (!FitsText((Size) len + (Size) to_hide * padlen - to_hide))
		PG_RETURN_NULL();
	result = AllocText((Size) len + (Size) to_hide * padlen - to_hide);
	p = VARDATA(result);
	for (int i = 0; i < len; i++)
	{
		if (to_hide > 0 && s[i] >= '0' && s[i] <= '9')
		{
			p = WritePad(p, padp, padlen, 1);
			to_hide--;
		}
		else
			*p++ = s[i];
	}
	PG_RETURN_TEXT_P(result);
}

/* Raise invalid_parameter_value unless a generalization step is positive. */
static void
CheckStep(bool positive)
{
	if (!positive)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("generalization step must be positive")));
}

/*
 * Round v down to a multiple of step (step > 0) into *r; false if the
 * bucket start lies below min, the type's minimum.
 */
static bool
FloorToStep(int64 v, int64 step, int64 min, int64 *r)
{
	int64		q = v / step;

	if (v % step != 0 && v < 0)
		q--;
	return !pg_mul_s64_overflow(q, step, r) && *r >= min;
}

/* SQL: aisec.generalize(smallint, smallint) rounds down to the bucket start. */
PG_FUNCTION_INFO_V1(aisec_generalize_int2);
Datum
aisec_generalize_int2(PG_FUNCTION_ARGS)
{
	int16		step = PG_GETARG_INT16(1);
	int64		r;

	CheckStep(step > 0);
	/* A bucket that starts below the type's range hides the value: NULL. */
	if (!FloorToStep(PG_GETARG_INT16(0), step, PG_INT16_MIN, &r))
		PG_RETURN_NULL();
	PG_RETURN_INT16((int16) r);
}

/* SQL: aisec.generalize(integer, integer) rounds down to the bucket start. */
PG_FUNCTION_INFO_V1(aisec_generalize_int4);
Datum
aisec_generalize_int4(PG_FUNCTION_ARGS)
{
	int32		step = PG_GETARG_INT32(1);
	int64		r;

	CheckStep(step > 0);
	if (!FloorToStep(PG_GETARG_INT32(0), step, PG_INT32_MIN, &r))
		PG_RETURN_NULL();
	PG_RETURN_INT32((int32) r);
}

/* SQL: aisec.generalize(bigint, bigint) rounds down to the bucket start. */
PG_FUNCTION_INFO_V1(aisec_generalize_int8);
Datum
aisec_generalize_int8(PG_FUNCTION_ARGS)
{
	int64		step = PG_GETARG_INT64(1);
	int64		r;

	CheckStep(step > 0);
	if (!FloorToStep(PG_GETARG_INT64(0), step, PG_INT64_MIN, &r))
		PG_RETURN_NULL();
	PG_RETURN_INT64(r);
}

/* SQL: aisec.generalize(numeric, numeric) rounds down to the bucket start, exactly. */
PG_FUNCTION_INFO_V1(aisec_generalize_numeric);
Datum
aisec_generalize_numeric(PG_FUNCTION_ARGS)
{
	Datum		value = PG_GETARG_DATUM(0);
	Datum		step = PG_GETARG_DATUM(1);
	Datum		zero = DirectFunctionCall1(int4_numeric, Int32GetDatum(0));
	Datum		rem;
	Datum		result;

	CheckStep(!numeric_is_nan(DatumGetNumeric(step)) &&
			  !numeric_is_inf(DatumGetNumeric(step)) &&
			  DatumGetBool(DirectFunctionCall2(numeric_gt, step, zero)));
	if (numeric_is_nan(DatumGetNumeric(value)) || numeric_is_inf(DatumGetNumeric(value)))
		PG_RETURN_DATUM(value);
	/* v - (v mod step) truncates toward zero; step down once more below zero. */
	rem = DirectFunctionCall2(numeric_mod, value, step);
	result = DirectFunctionCall2(numeric_sub, value, rem);
	if (DatumGetBool(DirectFunctionCall2(numeric_lt, rem, zero)))
		result = DirectFunctionCall2(numeric_sub, result, step);
	PG_RETURN_DATUM(result);
}

/* Units a date or time may be truncated to, finest first. */
static const char *const time_units[] = {
	"minute", "hour", "day", "week", "month", "quarter", "year", "decade", "century"
};
#define FIRST_DATE_UNIT 2		/* "day": nothing finer for a date */

/* Return the canonical name of a truncation unit, or NULL if unknown. */
const char *
mask_time_unit(const char *unit, bool for_date)
{
	for (int i = for_date ? FIRST_DATE_UNIT : 0; i < lengthof(time_units); i++)
		if (strcmp(unit, time_units[i]) == 0)
			return time_units[i];
	return NULL;
}

/* Validate a truncation unit; returns its canonical text datum. */
static Datum
CheckUnit(text *unit, bool for_date)
{
	const char *u = mask_time_unit(text_to_cstring(unit), for_date);

	if (u != NULL)
		return CStringGetTextDatum(u);
	/* The unit is not repeated: it may be a column's value, passed by mistake. */
	if (for_date)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown generalization unit for a date"),
				 errhint("Use one of 'day', 'week', 'month', 'quarter', 'year', 'decade' or 'century'.")));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown generalization unit for a timestamp"),
			 errhint("Use one of 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year', 'decade' or 'century'.")));
	return (Datum) 0;			/* keep compiler quiet */
}

/*
 * True if finite timestamp t (or a date at that instant) can be truncated
 * to any unit, in any time zone, without leaving the timestamp range:
 * truncating to a century moves back at most 100 years, and a time zone
 * shifts by less than a day.  Values outside (the first 120 years of the
 * range, the last two days, dates beyond the last timestamp) are hidden.
 */
static inline bool
TruncatableTimestamp(Timestamp t)
{
	return t >= MIN_TIMESTAMP + INT64CONST(120) * 366 * USECS_PER_DAY &&
		t < END_TIMESTAMP - 2 * USECS_PER_DAY;
}

/* SQL: aisec.generalize(date, unit) truncates to the start of the unit. */
PG_FUNCTION_INFO_V1(aisec_generalize_date);
Datum
aisec_generalize_date(PG_FUNCTION_ARGS)
{
	Datum		unit = CheckUnit(PG_GETARG_TEXT_PP(1), true);
	DateADT		d = PG_GETARG_DATEADT(0);
	Datum		ts;

	if (DATE_NOT_FINITE(d))
		PG_RETURN_DATEADT(d);
	/* Compare in days: a date beyond the timestamp range has no timestamp. */
	if (d < MIN_TIMESTAMP / USECS_PER_DAY + 120 * 366 ||
		d >= END_TIMESTAMP / USECS_PER_DAY - 2)
		PG_RETURN_NULL();
	ts = DirectFunctionCall1(date_timestamp, DateADTGetDatum(d));
	ts = DirectFunctionCall2(timestamp_trunc, unit, ts);
	PG_RETURN_DATUM(DirectFunctionCall1(timestamp_date, ts));
}

/* SQL: aisec.generalize(timestamp, unit) truncates to the start of the unit. */
PG_FUNCTION_INFO_V1(aisec_generalize_timestamp);
Datum
aisec_generalize_timestamp(PG_FUNCTION_ARGS)
{
	Datum		unit = CheckUnit(PG_GETARG_TEXT_PP(1), false);
	Timestamp	t = PG_GETARG_TIMESTAMP(0);

	if (!TIMESTAMP_NOT_FINITE(t) && !TruncatableTimestamp(t))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(DirectFunctionCall2(timestamp_trunc, unit, PG_GETARG_DATUM(0)));
}

/* SQL: aisec.generalize(timestamptz, unit) truncates in the session time zone. */
PG_FUNCTION_INFO_V1(aisec_generalize_timestamptz);
Datum
aisec_generalize_timestamptz(PG_FUNCTION_ARGS)
{
	Datum		unit = CheckUnit(PG_GETARG_TEXT_PP(1), false);
	TimestampTz t = PG_GETARG_TIMESTAMPTZ(0);

	if (!TIMESTAMP_NOT_FINITE(t) && !TruncatableTimestamp(t))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(DirectFunctionCall2(timestamptz_trunc, unit, PG_GETARG_DATUM(0)));
}

/*
 * SQL: aisec.output_text(value) returns value's text form from its type's
 * output function, called directly.  Masked views use it instead of a cast
 * to text for types that are not built in: a table owner can create a cast
 * from their own type to text, never an output function (base types need a
 * superuser; composite, enum, range and array types use built-in ones).
 */
PG_FUNCTION_INFO_V1(aisec_output_text);
Datum
aisec_output_text(PG_FUNCTION_ARGS)
{
	FmgrInfo   *out = (FmgrInfo *) fcinfo->flinfo->fn_extra;

	if (out == NULL)
	{
		Oid			type = get_fn_expr_argtype(fcinfo->flinfo, 0);
		Oid			outfn;
		bool		varlena;

		if (!OidIsValid(type))
			elog(ERROR, "aisec.output_text: argument type unknown");
		getTypeOutputInfo(type, &outfn, &varlena);
		out = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(FmgrInfo));
		fmgr_info_cxt(outfn, out, fcinfo->flinfo->fn_mcxt);
		fcinfo->flinfo->fn_extra = out;
	}
	PG_RETURN_TEXT_P(cstring_to_text(OutputFunctionCall(out, PG_GETARG_DATUM(0))));
}
