/*
 * pseudonym.c
 *		Keyed, deterministic masks: aisec.pseudonymize (HMAC-SHA-256
 *		pseudonyms) and aisec.sticky_noise (noise that is the same every
 *		time for the same value), and aisec.mask_noise, the noise rule of
 *		masked views (sticky noise in the column's type, NULL if it does
 *		not fit, never an error).
 *
 * Both take the name of an 'hmac' key.  The key's current version is
 * fetched and unwrapped once per call site and query, and the HMAC key
 * schedule (the inner and outer SHA-256 states) kept in fn_extra, in a
 * memory context whose reset frees and wipes it; each row then costs two
 * short SHA-256 computations.  The caller's role is checked when the key is
 * prepared: aisec_admin, aisec_engineer or a masked role (masked_role.c).
 *
 * Pseudonym format: 'v' || key version || ':' || 64 lowercase hex digits of
 * HMAC-SHA-256(key, value's bytes), e.g. v1:5b1f...; so
 * pseudonymize(x, k) = 'v1:' || encode(hmac(x, <key bytes>, 'sha256'), 'hex')
 * with pgcrypto, and a rotation shows as a new prefix.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/memutils.h"

#include "core/core.h"
#include "keys/keys.h"
#include "masking_internal.h"

#define NOISE_CONTEXT	"aisec.sticky_noise.v1"

/* What one call site keeps between rows (fn_extra). */
typedef struct HmacCache
{
	MemoryContext keycxt;		/* holds the HMAC state; reset wipes it */
	char		keyname[AISEC_KEY_NAME_MAX + 1];
	int32		version;		/* the key version prepared */
	char		prefix[16];		/* "v<version>:" */
	int			prefixlen;
	CryptoHmac *hmac;
} HmacCache;

/* Return the call site's prepared HMAC for key name, preparing it on first use. */
static HmacCache *
GetHmacCache(FunctionCallInfo fcinfo, text *keyname, const char *fn)
{
	HmacCache  *cache = (HmacCache *) fcinfo->flinfo->fn_extra;
	int			namelen = VARSIZE_ANY_EXHDR(keyname);
	char	   *name;

	if (cache != NULL && cache->hmac != NULL &&
		namelen == strlen(cache->keyname) &&
		memcmp(VARDATA_ANY(keyname), cache->keyname, namelen) == 0)
		return cache;

	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(HmacCache));
		cache->keycxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt,
											  "aisec HMAC key", ALLOCSET_SMALL_SIZES);
		fcinfo->flinfo->fn_extra = cache;
	}
	MemoryContextReset(cache->keycxt);
	cache->hmac = NULL;

	mask_require_keyed_use(fn);
	name = text_to_cstring(keyname);
	cache->hmac = aisec_key_prepare_hmac(name, 0, cache->keycxt, &cache->version);
	strlcpy(cache->keyname, name, sizeof(cache->keyname));
	cache->prefixlen = snprintf(cache->prefix, sizeof(cache->prefix), "v%d:", cache->version);
	pfree(name);
	return cache;
}

/* SQL: aisec.pseudonymize(value, key) returns 'v<version>:' || hex(HMAC-SHA-256). */
PG_FUNCTION_INFO_V1(aisec_pseudonymize);
Datum
aisec_pseudonymize(PG_FUNCTION_ARGS)
{
	static const char hex[] = "0123456789abcdef";
	text	   *value = PG_GETARG_TEXT_PP(0);
	HmacCache  *cache = GetHmacCache(fcinfo, PG_GETARG_TEXT_PP(1), "aisec.pseudonymize()");
	uint8		mac[HMAC_SHA256_LEN];
	text	   *result;
	char	   *p;

	crypto_hmac(cache->hmac, (const uint8 *) VARDATA_ANY(value),
				VARSIZE_ANY_EXHDR(value), mac);
	result = (text *) palloc(VARHDRSZ + cache->prefixlen + 2 * HMAC_SHA256_LEN);
	SET_VARSIZE(result, VARHDRSZ + cache->prefixlen + 2 * HMAC_SHA256_LEN);
	p = VARDATA(result);
	memcpy(p, cache->prefix, cache->prefixlen);
	p += cache->prefixlen;
	for (int i = 0; i < HMAC_SHA256_LEN; i++)
	{
		*p++ = hex[mac[i] >> 4];
		*p++ = hex[mac[i] & 0x0F];
	}
	PG_RETURN_TEXT_P(result);
}

/* Raise invalid_parameter_value unless ratio is finite and >= 0. */
static void
CheckRatio(float8 ratio)
{
	if (isnan(ratio) || isinf(ratio) || ratio < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("noise ratio must be a finite number >= 0")));
}

/* value * (1 + ratio * u) for a finite value, u in [-1, 1) from the HMAC. */
static float8
NoisyValue(HmacCache *cache, float8 value, float8 ratio)
{
	uint8		msg[sizeof(NOISE_CONTEXT) - 1 + 8];
	uint8		mac[HMAC_SHA256_LEN];
	uint64		bits;
	float8		u;

	/* The value's IEEE 754 bits, big-endian; -0 and +0 are the same value. */
	if (value == 0)
		value = 0;
	memcpy(&bits, &value, sizeof(bits));
	memcpy(msg, NOISE_CONTEXT, sizeof(NOISE_CONTEXT) - 1);
	for (int i = 0; i < 8; i++)
		msg[sizeof(NOISE_CONTEXT) - 1 + i] = (uint8) (bits >> (56 - 8 * i));
	crypto_hmac(cache->hmac, msg, sizeof(msg), mac);

	/* u = 2 * (53 random bits / 2^53) - 1, in [-1, 1) */
	bits = 0;
	for (int i = 0; i < 8; i++)
		bits = (bits << 8) | mac[i];
	u = 2.0 * ((float8) (bits >> 11) / 9007199254740992.0) - 1.0;
	return value + value * ratio * u;
}

/*
 * SQL: aisec.sticky_noise(value, key, ratio) returns value * (1 + ratio * u),
 * u in [-1, 1) drawn from HMAC(key, context || value): the same value always
 * gets the same noise.
 */
PG_FUNCTION_INFO_V1(aisec_sticky_noise);
Datum
aisec_sticky_noise(PG_FUNCTION_ARGS)
{
	float8		value = PG_GETARG_FLOAT8(0);
	float8		ratio = PG_GETARG_FLOAT8(2);
	HmacCache  *cache;

	CheckRatio(ratio);
	cache = GetHmacCache(fcinfo, PG_GETARG_TEXT_PP(1), "aisec.sticky_noise()");
	if (isnan(value) || isinf(value))
		PG_RETURN_FLOAT8(value);
	PG_RETURN_FLOAT8(NoisyValue(cache, value, ratio));
}

/* Precision and scale of a numeric typmod (scale may be negative from 15 on). */
static void
NumericTypmodParts(int32 typmod, int32 *precision, int32 *scale)
{
	*precision = ((typmod - VARHDRSZ) >> 16) & 0xffff;
#if PG_VERSION_NUM >= 150000
	*scale = (((typmod - VARHDRSZ) & 0x7ff) ^ 1024) - 1024;
#else
	*scale = (typmod - VARHDRSZ) & 0xffff;
#endif
}

/*
 * The noisy numeric x as numeric(typmod) in *result, or false if it does
 * not fit: rounded to the typmod's scale, it must stay below
 * 10^(precision - scale), which is what the typmod's own cast checks.
 */
static bool
FitNumeric(Datum x, int32 typmod, Datum *result)
{
	int32		precision;
	int32		scale;
	Datum		rounded;
	Datum		limit;

	if (typmod < (int32) VARHDRSZ)
	{
		*result = x;
		return true;
	}
	NumericTypmodParts(typmod, &precision, &scale);
	rounded = DirectFunctionCall2(numeric_round, x, Int32GetDatum(scale));
	limit = DirectFunctionCall3(numeric_in, CStringGetDatum(psprintf("1e%d", precision - scale)),
								ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	if (!DatumGetBool(DirectFunctionCall2(numeric_lt,
										  DirectFunctionCall1(numeric_abs, rounded), limit)))
		return false;
	*result = DirectFunctionCall2(numeric, rounded, Int32GetDatum(typmod));
	return true;
}

/*
 * SQL: aisec.mask_noise(value, key, ratio, typmod) is the noise rule of
 * masked views: sticky_noise on any integer, floating-point or numeric
 * value, returned in the value's own type (and numeric typmod).  It never
 * fails on a value: a value whose noisy form does not fit the type (an
 * integer pushed past its range, a float4 overflowing or underflowing, a
 * numeric too large for a double or for its precision) gives NULL.  NaN and
 * infinities are returned unchanged, as by sticky_noise.
 */
PG_FUNCTION_INFO_V1(aisec_mask_noise);
Datum
aisec_mask_noise(PG_FUNCTION_ARGS)
{
	Oid			type = get_fn_expr_argtype(fcinfo->flinfo, 0);
	float8		ratio = PG_GETARG_FLOAT8(2);
	int32		typmod = PG_GETARG_INT32(3);
	HmacCache  *cache;
	float8		value;
	float8		noisy;

	CheckRatio(ratio);
	/* A domain's value is its base type's (polymorphism resolves to it). */
	if (type != INT2OID && type != INT4OID && type != INT8OID && type != FLOAT4OID &&
		type != FLOAT8OID && type != NUMERICOID)
		type = getBaseType(type);
	switch (type)
	{
		case INT2OID:
			value = PG_GETARG_INT16(0);
			break;
		case INT4OID:
			value = PG_GETARG_INT32(0);
			break;
		case INT8OID:
			value = (float8) PG_GETARG_INT64(0);
			break;
		case FLOAT4OID:
			value = PG_GETARG_FLOAT4(0);
			break;
		case FLOAT8OID:
			value = PG_GETARG_FLOAT8(0);
			break;
		case NUMERICOID:
			if (numeric_is_nan(PG_GETARG_NUMERIC(0)) || numeric_is_inf(PG_GETARG_NUMERIC(0)))
				PG_RETURN_DATUM(PG_GETARG_DATUM(0));
			/* A numeric beyond the double range becomes +-Infinity here. */
			value = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
													   PG_GETARG_DATUM(0)));
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("aisec.mask_noise() works on integer, floating-point and numeric values, not %s",
							format_type_be(type))));
	}
	cache = GetHmacCache(fcinfo, PG_GETARG_TEXT_PP(1), "aisec.mask_noise()");
	if (isnan(value) || isinf(value))
	{
		if (type == FLOAT4OID || type == FLOAT8OID)
			PG_RETURN_DATUM(PG_GETARG_DATUM(0));
		PG_RETURN_NULL();		/* a numeric too large for a double */
	}
	noisy = NoisyValue(cache, value, ratio);
	if (isnan(noisy) || isinf(noisy))
		PG_RETURN_NULL();
	switch (type)
	{
		case INT2OID:
			noisy = rint(noisy);
			if (!FLOAT8_FITS_IN_INT16(noisy))
				PG_RETURN_NULL();
			PG_RETURN_INT16((int16) noisy);
		case INT4OID:
			noisy = rint(noisy);
			if (!FLOAT8_FITS_IN_INT32(noisy))
				PG_RETURN_NULL();
			PG_RETURN_INT32((int32) noisy);
		case INT8OID:
			noisy = rint(noisy);
			if (!FLOAT8_FITS_IN_INT64(noisy))
				PG_RETURN_NULL();
			PG_RETURN_INT64((int64) noisy);
		case FLOAT4OID:
			{
				float4		f = (float4) noisy;

				if (isinf(f) || (f == 0 && noisy != 0))
					PG_RETURN_NULL();
				PG_RETURN_FLOAT4(f);
			}
		case FLOAT8OID:
			PG_RETURN_FLOAT8(noisy);
		default:
			{
				Datum		result;

				if (!FitNumeric(DirectFunctionCall1(float8_numeric, Float8GetDatum(noisy)),
								typmod, &result))
					PG_RETURN_NULL();
				PG_RETURN_DATUM(result);
			}
	}
}
