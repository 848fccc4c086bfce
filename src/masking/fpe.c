/*
 * fpe.c
 *		FF1 format-preserving encryption (NIST SP 800-38G, Rev. 1) over AES:
 *		aisec.ff1_encrypt and aisec.ff1_decrypt, and aisec.mask_ff1, the ff1
 *		rule of masked views (NULL for a value FF1 cannot take).
 *
 * A value is a string of characters from an alphabet (radix = number of
 * characters, 2..65536); its token is a string of the same length over the
 * same alphabet.  The algorithm follows SP 800-38G section 5.1 step by step
 * (the step numbers are in the comments) and reproduces NIST's published
 * FF1 samples (sql/masking_ff1.sql).
 *
 * Arithmetic: NUM_radix(X) is built as a big-endian byte string of exactly
 * b bytes (multiply-and-add by the radix).  For step 6.vi we never need
 * radix^m as a number: c = (NUM_radix(A) + y) mod radix^m is the low m
 * radix digits of the sum, so we take the low m digits of y by repeated
 * short division and add A digit by digit, dropping the final carry
 * (subtracting with borrow to decrypt).  Everything is O(n * b) per round.
 * Short values (radix^v below 2^63 and d <= 8, e.g. 16-digit card numbers)
 * take a 64-bit path instead (Ff1CryptSmall); NIST's samples exercise both.
 *
 * The AES key schedule is prepared once per query (per call site) and kept
 * in fn_extra, in a memory context whose reset wipes it.  Only encryption
 * with AES is ever needed (FF1 uses CIPH in both directions).
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "core/core.h"
#include "keys/keys.h"
#include "masking_internal.h"

#define FF1_MIN_DOMAIN		1000000 /* radix^n must reach 10^6 (Rev. 1) */
#define FF1_MAX_LEN			1024	/* characters per value */
#define FF1_MAX_TWEAK		1024	/* bytes */
#define FF1_MAX_RADIX		65536

/* An alphabet: its characters in order, and a fast map for ASCII ones. */
typedef struct Ff1Alphabet
{
	int			radix;
	int32		ascii[128];		/* digit of an ASCII character, or -1 */
	bool		all_ascii;
	const char **chars;			/* character i's bytes */
	uint8	   *charlen;		/* and its length */
} Ff1Alphabet;

/* What one call site keeps between rows (fn_extra). */
typedef struct Ff1Cache
{
	MemoryContext keycxt;		/* holds the AES state; reset wipes it */
	char		keyname[AISEC_KEY_NAME_MAX + 1];
	int32		asked_version;	/* version asked for (0 = current) */
	CryptoAes  *aes;
	text	   *alphabet_text;	/* the alphabet the map below was built from */
	Ff1Alphabet alpha;
} Ff1Cache;

/* Order two characters of alphabet arg (indexes into chars) by their bytes. */
static int
CompareChars(const void *x, const void *y, void *arg)
{
	const Ff1Alphabet *a = (const Ff1Alphabet *) arg;
	int			i = *(const int *) x;
	int			j = *(const int *) y;

	if (a->charlen[i] != a->charlen[j])
		return a->charlen[i] < a->charlen[j] ? -1 : 1;
	return memcmp(a->chars[i], a->chars[j], a->charlen[i]);
}

/*
 * Refuse an alphabet with a repeated non-ASCII character (ASCII ones are
 * caught through the ASCII map): sorted, repeats are neighbours, so up to
 * 65,536 characters cost a sort, not a comparison of every pair.
 */
static void
CheckRepeats(const Ff1Alphabet *a)
{
	int		   *order = palloc(sizeof(int) * a->radix);

	for (int i = 0; i < a->radix; i++)
		order[i] = i;
	qsort_arg(order, a->radix, sizeof(int), CompareChars, (void *) a);
	for (int i = 1; i < a->radix; i++)
	{
		int			p = order[i - 1];
		int			q = order[i];

		if (a->charlen[p] == a->charlen[q] &&
			memcmp(a->chars[p], a->chars[q], a->charlen[p]) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("FF1 alphabet has a repeated character")));
	}
	pfree(order);
}

/* Parse alphabet text into a, in context cxt; errors for unusable ones. */
static void
ParseAlphabet(text *alphabet, Ff1Alphabet *a, MemoryContext cxt)
{
	const char *s = VARDATA_ANY(alphabet);
	int			len = VARSIZE_ANY_EXHDR(alphabet);
	int			nchars = pg_mbstrlen_with_len(s, len);

	if (nchars < 2 || nchars > FF1_MAX_RADIX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("FF1 alphabet must have 2 to %d characters, not %d", FF1_MAX_RADIX, nchars)));
	a->radix = nchars;
	a->all_ascii = true;
	a->chars = MemoryContextAlloc(cxt, sizeof(char *) * nchars);
	a->charlen = MemoryContextAlloc(cxt, nchars);
	for (int i = 0; i < 128; i++)
		a->ascii[i] = -1;
	for (int i = 0, off = 0; i < nchars; i++)
	{
		int			cl = pg_mblen(s + off);

		a->chars[i] = MemoryContextAlloc(cxt, cl);
		memcpy((char *) a->chars[i], s + off, cl);
		a->charlen[i] = (uint8) cl;
		if (cl == 1 && (unsigned char) s[off] < 128)
		{
			if (a->ascii[(unsigned char) s[off]] >= 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("FF1 alphabet has a repeated character")));
			a->ascii[(unsigned char) s[off]] = i;
		}
		else
			a->all_ascii = false;
		off += cl;
	}
	if (!a->all_ascii)
		CheckRepeats(a);
}

/*
 * Map a value's characters to digits; returns n.  Never echoes the value.
 * A character outside the alphabet is an error, or, if soft, returns -1.
 */
static int
ValueToDigits(const char *s, int len, const Ff1Alphabet *a, uint32 *digits, bool soft)
{
	int			n = 0;

	for (int off = 0; off < len; n++)
	{
		unsigned char c = (unsigned char) s[off];
		int			d = -1;
		int			cl = 1;

		if (c < 128)
			d = a->ascii[c];
		else
		{
			cl = pg_mblen(s + off);
			for (int j = 0; j < a->radix && !a->all_ascii; j++)
				if (a->charlen[j] == cl && memcmp(a->chars[j], s + off, cl) == 0)
				{
					d = j;
					break;
				}
		}
		if (d < 0 && soft)
			return -1;
		if (d < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("FF1 value has a character that is not in the alphabet, at position %d", n + 1),
					 errhint("Every character of the value must be one of the alphabet's %d characters.",
							 a->radix)));
		digits[n] = (uint32) d;
		off += cl;
	}
	return n;
}

/* Spell digits with the alphabet's characters, as text. */
static text *
DigitsToText(const uint32 *digits, int n, const Ff1Alphabet *a)
{
	size_t		len = 0;
	text	   *t;
	char	   *p;

	for (int i = 0; i < n; i++)
		len += a->charlen[digits[i]];
	t = (text *) palloc(VARHDRSZ + len);
	SET_VARSIZE(t, VARHDRSZ + len);
	p = VARDATA(t);
	for (int i = 0; i < n; i++)
	{
		memcpy(p, a->chars[digits[i]], a->charlen[digits[i]]);
		p += a->charlen[digits[i]];
	}
	return t;
}

/* True if n characters of radix reach FF1's minimum domain of 10^6. */
static bool
DomainLargeEnough(uint32 radix, int n)
{
	uint64		size = 1;

	for (int i = 0; i < n && size < FF1_MIN_DOMAIN; i++)
		size *= radix;
	return n >= 2 && size >= FF1_MIN_DOMAIN;
}

/* Refuse lengths outside FF1's domain rules: radix^n >= 10^6, n <= max. */
static void
CheckDomain(uint32 radix, int n)
{
	if (n > FF1_MAX_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("FF1 value is too long: %d characters, the limit is %d", n, FF1_MAX_LEN)));
	if (!DomainLargeEnough(radix, n))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("FF1 domain is too small: %u^%d is below 10^6", radix, n),
				 errdetail("NIST SP 800-38G Rev. 1 requires radix^length >= 1000000."),
				 errhint("Use a longer value or a larger alphabet.")));
}

/* Set num (len bytes, big-endian) to NUM_radix(x[0..m)). */
static void
NumRadix(const uint32 *x, int m, uint32 radix, uint8 *num, int len)
{
	memset(num, 0, len);
	for (int i = 0; i < m; i++)
	{
		uint64		carry = x[i];

		for (int j = len - 1; j >= 0; j--)
		{
			carry += (uint64) num[j] * radix;
			num[j] = (uint8) (carry & 0xFF);
			carry >>= 8;
		}
	}
}

/* b = ceil(ceil(v * log2(radix)) / 8): the bytes of radix^v - 1, exactly. */
static int
BytesForDigits(uint32 radix, int v, uint32 *scratch, uint8 *num, int maxlen)
{
	int			bits = 0;
	int			first;

	for (int i = 0; i < v; i++)
		scratch[i] = radix - 1;
	NumRadix(scratch, v, radix, num, maxlen);
	for (first = 0; first < maxlen && num[first] == 0; first++)
		;
	if (first < maxlen)
	{
		bits = (maxlen - first - 1) * 8;
		for (uint8 top = num[first]; top; top >>= 1)
			bits++;
	}
	return (bits + 7) / 8;
}

/* Working buffers and constants for one FF1 call (steps 1-5). */
typedef struct Ff1Run
{
	CryptoAes  *aes;
	uint32		radix;
	int			n,
				u,
				v,
				b,
				d;
	const uint8 *tweak;
	int			t;
	uint8		h0[AES_BLOCK_LEN];	/* CIPH(P): the CBC-MAC state after P */
	uint8	   *q;				/* Q, qlen bytes */
	int			qlen;
	uint8	   *s;				/* S, rounded up to whole blocks */
	uint8	   *y;				/* scratch for y's short division */
	uint32	   *ydigits;		/* low m radix digits of y */
	uint64		pow_u;			/* radix^u, radix^v when both fit in 63 bits */
	uint64		pow_v;			/* (0 otherwise) */
} Ff1Run;

/* Steps 1-5: lengths, b, d and CIPH(P). */
static void
PrepareRun(Ff1Run *r, CryptoAes *aes, uint32 radix, int n,
		   const uint8 *tweak, int t)
{
	uint8		p[AES_BLOCK_LEN];
	int			maxb = (n * 17) / 8 + 8;	/* log2(65536) = 16 bits a digit */
	uint32	   *scratch = palloc(sizeof(uint32) * n);
	uint8	   *num = palloc(maxb);

	r->aes = aes;
	r->radix = radix;
	r->n = n;
	r->u = n / 2;
	r->v = n - r->u;
	r->b = BytesForDigits(radix, r->v, scratch, num, maxb);
	r->d = 4 * ((r->b + 3) / 4) + 4;
	r->tweak = tweak;
	r->t = t;

	/* P = [1]^1 || [2]^1 || [1]^1 || [radix]^3 || [10]^1 || [u mod 256]^1 || [n]^4 || [t]^4 */
	p[0] = 1;
	p[1] = 2;
	p[2] = 1;
	p[3] = (uint8) (radix >> 16);
	p[4] = (uint8) (radix >> 8);
	p[5] = (uint8) radix;
	p[6] = 10;
	p[7] = (uint8) (r->u & 0xFF);
	p[8] = (uint8) (n >> 24);
	p[9] = (uint8) (n >> 16);
	p[10] = (uint8) (n >> 8);
	p[11] = (uint8) n;
	p[12] = (uint8) (t >> 24);
	p[13] = (uint8) (t >> 16);
	p[14] = (uint8) (t >> 8);
	p[15] = (uint8) t;
	crypto_aes_encrypt_blocks(aes, p, r->h0, 1);

	/* Q = T || [0]^((-t-b-1) mod 16) || [i]^1 || [NUM_radix(B)]^b */
	r->qlen = t + 1 + r->b;
	r->qlen += (AES_BLOCK_LEN - r->qlen % AES_BLOCK_LEN) % AES_BLOCK_LEN;
	r->q = palloc0(r->qlen);
	if (t > 0)
		memcpy(r->q, tweak, t);
	r->s = palloc(((r->d + AES_BLOCK_LEN - 1) / AES_BLOCK_LEN) * AES_BLOCK_LEN);
	r->y = palloc(r->d);
	r->ydigits = palloc(sizeof(uint32) * (r->v + 1));
	r->pow_u = r->pow_v = 1;
	for (int i = 0; i < r->v && r->pow_v != 0; i++)
	{
		r->pow_v = (r->pow_v <= (PG_INT64_MAX / radix)) ? r->pow_v * radix : 0;
		if (i < r->u)
			r->pow_u = r->pow_v;
	}
	if (r->pow_v == 0)
		r->pow_u = 0;
	pfree(scratch);
	pfree(num);
}

/*
 * Steps 6.i-6.iv: compute S for round i.  The caller has put
 * [NUM_radix(B)]^b in the last b bytes of Q (r->q + r->qlen - r->b).
 */
static void
RoundFunction(Ff1Run *r, int i)
{
	uint8		block[AES_BLOCK_LEN];
	uint8		rr[AES_BLOCK_LEN];
	int			nextra;

	/* 6.i: the byte before them is the round number */
	r->q[r->qlen - r->b - 1] = (uint8) i;

	/* 6.ii: R = PRF(P || Q), CBC-MAC continuing from CIPH(P) */
	memcpy(rr, r->h0, AES_BLOCK_LEN);
	for (int off = 0; off < r->qlen; off += AES_BLOCK_LEN)
	{
		for (int k = 0; k < AES_BLOCK_LEN; k++)
			block[k] = rr[k] ^ r->q[off + k];
		crypto_aes_encrypt_blocks(r->aes, block, rr, 1);
	}

	/* 6.iii: S = R || CIPH(R xor [1]^16) || CIPH(R xor [2]^16) ... */
	memcpy(r->s, rr, AES_BLOCK_LEN);
	nextra = (r->d + AES_BLOCK_LEN - 1) / AES_BLOCK_LEN - 1;
	for (int j = 1; j <= nextra; j++)
	{
		memcpy(block, rr, AES_BLOCK_LEN);
		block[15] ^= (uint8) j;
		block[14] ^= (uint8) (j >> 8);
		crypto_aes_encrypt_blocks(r->aes, block, r->s + j * AES_BLOCK_LEN, 1);
	}
	memset(block, 0, sizeof(block));
	memset(rr, 0, sizeof(rr));
}

/* Set r->ydigits[0..m) to the low m radix digits of y = NUM(S[0..d)), most significant first. */
static void
LowDigitsOfY(Ff1Run *r, int m)
{
	memcpy(r->y, r->s, r->d);
	for (int k = m - 1; k >= 0; k--)
	{
		uint64		rem = 0;

		for (int j = 0; j < r->d; j++)
		{
			uint64		cur = (rem << 8) | r->y[j];

			r->y[j] = (uint8) (cur / r->radix);
			rem = cur % r->radix;
		}
		r->ydigits[k] = (uint32) rem;
	}
}

/* NUM_radix(x[0..m)) as a number (it fits: radix^m < 2^63). */
static uint64
NumSmall(const uint32 *x, int m, uint32 radix)
{
	uint64		v = 0;

	for (int i = 0; i < m; i++)
		v = v * radix + x[i];
	return v;
}

/* STR_radix^m(v) into x[0..m). */
static void
StrSmall(uint64 v, uint32 radix, uint32 *x, int m)
{
	for (int i = m - 1; i >= 0; i--)
	{
		x[i] = (uint32) (v % radix);
		v /= radix;
	}
}

/*
 * The same algorithm as Ff1Crypt, with A, B and y held as 64-bit numbers:
 * usable when radix^v < 2^63 and d <= 8 (y fits in 64 bits), which covers
 * card numbers and other short values.  Step 6.vi is then plain modular
 * arithmetic.
 */
static void
Ff1CryptSmall(Ff1Run *r, uint32 *x, bool encrypt)
{
	uint64		a = NumSmall(x, r->u, r->radix);
	uint64		b = NumSmall(x + r->u, r->v, r->radix);
	uint8	   *num = r->q + r->qlen - r->b;

	for (int step = 0; step < 10; step++)
	{
		int			i = encrypt ? step : 9 - step;
		uint64		mod = (i % 2 == 0) ? r->pow_u : r->pow_v;
		uint64		src = encrypt ? b : a;
		uint64		y = 0;
		uint64		c;

		for (int k = r->b - 1; k >= 0; k--, src >>= 8)
			num[k] = (uint8) (src & 0xFF);
		RoundFunction(r, i);
		for (int k = 0; k < r->d; k++)
			y = (y << 8) | r->s[k];
		y %= mod;
		if (encrypt)
		{
			c = (a + y) % mod;
			a = b;
			b = c;
		}
		else
		{
			c = (b + mod - y) % mod;
			b = a;
			a = c;
		}
	}
	StrSmall(a, r->radix, x, r->u);
	StrSmall(b, r->radix, x + r->u, r->v);
}

/*
 * FF1.Encrypt / FF1.Decrypt (SP 800-38G algorithms 7 and 8) of x[0..n) in
 * place.  x holds A (x[0..u)) then B (x[u..n)).
 */
static void
Ff1Crypt(Ff1Run *r, uint32 *x, bool encrypt)
{
	uint32	   *a;
	uint32	   *bb;
	uint32	   *c;
	int			alen = r->u;
	int			blen = r->v;

	if (r->pow_v != 0 && r->d <= 8)
	{
		Ff1CryptSmall(r, x, encrypt);
		return;
	}
	a = palloc(sizeof(uint32) * (r->v + 1));
	bb = palloc(sizeof(uint32) * (r->v + 1));
	c = palloc(sizeof(uint32) * (r->v + 1));

	memcpy(a, x, sizeof(uint32) * r->u);
	memcpy(bb, x + r->u, sizeof(uint32) * r->v);
	for (int step = 0; step < 10; step++)
	{
		int			i = encrypt ? step : 9 - step;
		int			m = (i % 2 == 0) ? r->u : r->v;

		if (encrypt)
		{
			/* 6.i-6.vii: C = STR_radix^m((NUM_radix(A) + y) mod radix^m) */
			int64		carry = 0;

			NumRadix(bb, blen, r->radix, r->q + r->qlen - r->b, r->b);
			RoundFunction(r, i);
			LowDigitsOfY(r, m);
			for (int k = m - 1; k >= 0; k--)
			{
				int64		sum = (int64) a[k] + r->ydigits[k] + carry;

				carry = sum >= r->radix;
				c[k] = (uint32) (carry ? sum - r->radix : sum);
			}
			/* 6.viii-6.ix: A = B, B = C */
			memcpy(a, bb, sizeof(uint32) * blen);
			alen = blen;
			memcpy(bb, c, sizeof(uint32) * m);
			blen = m;
		}
		else
		{
			/* 6.i-6.vii: C = STR_radix^m((NUM_radix(B) - y) mod radix^m) */
			int64		borrow = 0;

			NumRadix(a, alen, r->radix, r->q + r->qlen - r->b, r->b);
			RoundFunction(r, i);
			LowDigitsOfY(r, m);
			for (int k = m - 1; k >= 0; k--)
			{
				int64		diff = (int64) bb[k] - r->ydigits[k] - borrow;

				borrow = diff < 0;
				c[k] = (uint32) (borrow ? diff + r->radix : diff);
			}
			/* 6.viii-6.ix: B = A, A = C */
			memcpy(bb, a, sizeof(uint32) * alen);
			blen = alen;
			memcpy(a, c, sizeof(uint32) * m);
			alen = m;
		}
	}
	/* 7: return A || B */
	memcpy(x, a, sizeof(uint32) * alen);
	memcpy(x + alen, bb, sizeof(uint32) * blen);
	pfree(a);
	pfree(bb);
	pfree(c);
}

/* Fetch and prepare the call site's AES key and alphabet, reusing the cache. */
static Ff1Cache *
GetFf1Cache(FunctionCallInfo fcinfo, text *keyname, int32 version,
			text *alphabet, const char *fn)
{
	Ff1Cache   *cache = (Ff1Cache *) fcinfo->flinfo->fn_extra;
	char	   *name = text_to_cstring(keyname);

	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(Ff1Cache));
		cache->keycxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt,
											  "aisec FF1 key", ALLOCSET_SMALL_SIZES);
		fcinfo->flinfo->fn_extra = cache;
	}
	if (cache->aes == NULL || strcmp(cache->keyname, name) != 0 ||
		cache->asked_version != version)
	{
		int32		used;

		MemoryContextReset(cache->keycxt);
		cache->aes = NULL;
		cache->alphabet_text = NULL;
		mask_require_keyed_use(fn);
		cache->aes = aisec_key_prepare_aes(name, version, cache->keycxt, &used);
		strlcpy(cache->keyname, name, sizeof(cache->keyname));
		cache->asked_version = version;
	}
	if (cache->alphabet_text == NULL ||
		VARSIZE_ANY_EXHDR(cache->alphabet_text) != VARSIZE_ANY_EXHDR(alphabet) ||
		memcmp(VARDATA_ANY(cache->alphabet_text), VARDATA_ANY(alphabet),
			   VARSIZE_ANY_EXHDR(alphabet)) != 0)
	{
		MemoryContext old = MemoryContextSwitchTo(cache->keycxt);

		cache->alphabet_text = NULL;
		ParseAlphabet(alphabet, &cache->alpha, cache->keycxt);
		cache->alphabet_text = (text *) PG_DETOAST_DATUM_COPY(PointerGetDatum(alphabet));
		MemoryContextSwitchTo(old);
	}
	pfree(name);
	return cache;
}

/*
 * Shared body of ff1_encrypt, ff1_decrypt and mask_ff1.  With soft, a value
 * FF1 cannot take (a character outside the alphabet, too short for the
 * domain, too long) gives NULL instead of an error; errors that do not
 * depend on the value (key, alphabet, tweak) stay errors.
 */
static Datum
Ff1Call(FunctionCallInfo fcinfo, bool encrypt, int32 version, const char *fn,
		bytea *tweak, bool soft)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	text	   *keyname = PG_GETARG_TEXT_PP(1);
	text	   *alphabet = PG_GETARG_TEXT_PP(2);
	Ff1Cache   *cache = GetFf1Cache(fcinfo, keyname, version, alphabet, fn);
	const char *s = VARDATA_ANY(value);
	int			len = VARSIZE_ANY_EXHDR(value);
	int			n;
	uint32	   *digits;
	Ff1Run		run;

	if (VARSIZE_ANY_EXHDR(tweak) > FF1_MAX_TWEAK)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("FF1 tweak is too long: %zu bytes, the limit is %d",
						(size_t) VARSIZE_ANY_EXHDR(tweak), FF1_MAX_TWEAK)));
	n = pg_mbstrlen_with_len(s, len);
	if (soft && (n > FF1_MAX_LEN || !DomainLargeEnough(cache->alpha.radix, n)))
		PG_RETURN_NULL();
	CheckDomain(cache->alpha.radix, n);
	digits = palloc(sizeof(uint32) * (len + 1));
	n = ValueToDigits(s, len, &cache->alpha, digits, soft);
	if (n < 0)
		PG_RETURN_NULL();

	PrepareRun(&run, cache->aes, cache->alpha.radix, n,
			   (const uint8 *) VARDATA_ANY(tweak), VARSIZE_ANY_EXHDR(tweak));
	Ff1Crypt(&run, digits, encrypt);
	PG_RETURN_TEXT_P(DigitsToText(digits, n, &cache->alpha));
}

/* SQL: aisec.ff1_encrypt(value, key, alphabet, tweak) returns the FF1 token. */
PG_FUNCTION_INFO_V1(aisec_ff1_encrypt);
Datum
aisec_ff1_encrypt(PG_FUNCTION_ARGS)
{
	return Ff1Call(fcinfo, true, 0, "aisec.ff1_encrypt()", PG_GETARG_BYTEA_PP(3), false);
}

/*
 * SQL: aisec.mask_ff1(value, key, alphabet) is the ff1 rule of masked views:
 * ff1_encrypt with no tweak, but NULL for a value FF1 cannot take, so a
 * view never fails on (or reveals through an error) a malformed value.
 */
PG_FUNCTION_INFO_V1(aisec_mask_ff1);
Datum
aisec_mask_ff1(PG_FUNCTION_ARGS)
{
	bytea	   *tweak = (bytea *) palloc(VARHDRSZ);	/* the empty tweak */

	SET_VARSIZE(tweak, VARHDRSZ);
	return Ff1Call(fcinfo, true, 0, "aisec.mask_ff1()", tweak, true);
}

/* SQL: aisec.ff1_decrypt(token, key, alphabet, tweak, key_version) reverses it (admin only). */
PG_FUNCTION_INFO_V1(aisec_ff1_decrypt);
Datum
aisec_ff1_decrypt(PG_FUNCTION_ARGS)
{
	int32		version = PG_GETARG_INT32(4);

	aisec_require_role(AISEC_ROLE_ADMIN, "aisec.ff1_decrypt()");
	if (version < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("key version must be positive, or 0 for the current version")));
	return Ff1Call(fcinfo, false, version, "aisec.ff1_decrypt()", PG_GETARG_BYTEA_PP(3), false);
}
