/*
 * pseudonym.c
 *		Keyed, deterministic masks: aisec.pseudonymize (HMAC-SHA-256
 *		pseudonyms) and aisec.sticky_noise (noise that is the same every
 *		time for the same value).
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

#include "fmgr.h"
#include "utils/builtins.h"
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
	uint8		msg[sizeof(NOISE_CONTEXT) - 1 + 8];
	uint8		mac[HMAC_SHA256_LEN];
	uint64		bits;
	float8		u;

	if (isnan(ratio) || isinf(ratio) || ratio < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("noise ratio must be a finite number >= 0")));
	cache = GetHmacCache(fcinfo, PG_GETARG_TEXT_PP(1), "aisec.sticky_noise()");
	if (isnan(value) || isinf(value))
		PG_RETURN_FLOAT8(value);

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
	PG_RETURN_FLOAT8(value + value * ratio * u);
}
