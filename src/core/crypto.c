/*
 * crypto.c
 *		aisec's only door to OpenSSL: random bytes, SHA-256, AES-256-GCM key
 *		wrapping and Ed25519 signatures.
 *
 * Every function here either succeeds or frees what OpenSSL allocated and
 * then raises an error, so no OpenSSL object outlives a call.  Secrets are
 * passed in caller-owned buffers; callers wipe them with crypto_cleanse().
 */
#include "postgres.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "crypto.h"

/* One digest context per backend, reused by every one-shot hash. */
static EVP_MD_CTX *sha256_ctx = NULL;
static EVP_MD *sha256_md = NULL;

/*
 * Raise an internal error for a failed OpenSSL call.  message is the whole
 * primary message ("could not ..."), one per operation; OpenSSL's own reason,
 * when it gives one, becomes the detail.
 */
static void
ReportOpenSSLFailure(const char *message)
{
	unsigned long code = ERR_get_error();
	const char *reason = code ? ERR_reason_error_string(code) : NULL;

	ERR_clear_error();
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg_internal("%s", message),
			 reason ? errdetail_internal("OpenSSL reports: %s.", reason) : 0));
}

/* Fill buf with len bytes from OpenSSL's CSPRNG. */
void
crypto_random_bytes(uint8 *buf, size_t len)
{
	if (RAND_bytes(buf, (int) len) != 1)
		ReportOpenSSLFailure("could not generate random bytes");
}

/* Overwrite a secret so the compiler cannot elide the wipe. */
void
crypto_cleanse(void *buf, size_t len)
{
	OPENSSL_cleanse(buf, len);
}

/* Prepare the backend's reusable SHA-256 context on first use. */
static void
EnsureSha256(void)
{
	if (sha256_ctx != NULL)
		return;
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (sha256_md == NULL)
		ReportOpenSSLFailure("could not initialize SHA-256");
	sha256_ctx = EVP_MD_CTX_new();
	if (sha256_ctx == NULL)
		ReportOpenSSLFailure("could not initialize SHA-256");
}

/* out = SHA-256(a || b); either part may be empty. */
void
crypto_sha256_2(const uint8 *a, size_t alen, const uint8 *b, size_t blen,
				uint8 *out)
{
	unsigned int outlen = 0;

	EnsureSha256();
	if (EVP_DigestInit_ex(sha256_ctx, sha256_md, NULL) != 1 ||
		(alen > 0 && EVP_DigestUpdate(sha256_ctx, a, alen) != 1) ||
		(blen > 0 && EVP_DigestUpdate(sha256_ctx, b, blen) != 1) ||
		EVP_DigestFinal_ex(sha256_ctx, out, &outlen) != 1 ||
		outlen != SHA256_LEN)
		ReportOpenSSLFailure("could not compute SHA-256 hash");
}

/* out = SHA-256(data). */
void
crypto_sha256(const uint8 *data, size_t len, uint8 *out)
{
	crypto_sha256_2(data, len, NULL, 0, out);
}

/*
 * Encrypt and authenticate plain under key with AES-256-GCM.
 *
 * out receives nonce (12 bytes, random) || ciphertext || tag (16 bytes):
 * plainlen + AEAD_OVERHEAD bytes.  aad is authenticated, not encrypted; it
 * binds the result to its context (which key row it belongs to).
 */
void
crypto_aead_seal(const uint8 *key, const uint8 *aad, size_t aadlen,
				 const uint8 *plain, size_t plainlen, uint8 *out)
{
	EVP_CIPHER_CTX *ctx;
	uint8	   *nonce = out;
	uint8	   *ct = out + AEAD_NONCE_LEN;
	uint8	   *tag = out + AEAD_NONCE_LEN + plainlen;
	int			len;
	bool		ok;

	crypto_random_bytes(nonce, AEAD_NONCE_LEN);
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		ReportOpenSSLFailure("could not set up AES-256-GCM");
	ok = EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, AEAD_NONCE_LEN, NULL) == 1 &&
		EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) == 1 &&
		(aadlen == 0 || EVP_EncryptUpdate(ctx, NULL, &len, aad, (int) aadlen) == 1) &&
		EVP_EncryptUpdate(ctx, ct, &len, plain, (int) plainlen) == 1 &&
		EVP_EncryptFinal_ex(ctx, ct + len, &len) == 1 &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, AEAD_TAG_LEN, tag) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		ReportOpenSSLFailure("could not encrypt with AES-256-GCM");
}

/*
 * Check and decrypt what crypto_aead_seal produced.  Returns false, with out
 * wiped, when the tag does not verify (wrong key, wrong aad, or tampering).
 * out must hold sealedlen - AEAD_OVERHEAD bytes.
 */
bool
crypto_aead_open(const uint8 *key, const uint8 *aad, size_t aadlen,
				 const uint8 *sealed, size_t sealedlen, uint8 *out)
{
	EVP_CIPHER_CTX *ctx;
	size_t		ctlen;
	const uint8 *nonce = sealed;
	const uint8 *ct = sealed + AEAD_NONCE_LEN;
	uint8		tag[AEAD_TAG_LEN];
	int			len;
	bool		ok;

	if (sealedlen < AEAD_OVERHEAD)
		return false;
	ctlen = sealedlen - AEAD_OVERHEAD;
	memcpy(tag, sealed + AEAD_NONCE_LEN + ctlen, AEAD_TAG_LEN);

	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		ReportOpenSSLFailure("could not set up AES-256-GCM");
	ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, AEAD_NONCE_LEN, NULL) == 1 &&
		EVP_DecryptInit_ex(ctx, NULL, NULL, key, nonce) == 1 &&
		(aadlen == 0 || EVP_DecryptUpdate(ctx, NULL, &len, aad, (int) aadlen) == 1) &&
		EVP_DecryptUpdate(ctx, out, &len, ct, (int) ctlen) == 1 &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, AEAD_TAG_LEN, tag) == 1 &&
		EVP_DecryptFinal_ex(ctx, out + len, &len) == 1;
	EVP_CIPHER_CTX_free(ctx);
	ERR_clear_error();
	if (!ok)
		crypto_cleanse(out, ctlen);
	return ok;
}

/* Load a raw Ed25519 private key (32-byte seed) into an OpenSSL key. */
static EVP_PKEY *
LoadEd25519Private(const uint8 *priv)
{
	EVP_PKEY   *pkey;

	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv,
										ED25519_KEY_LEN);
	if (pkey == NULL)
		ReportOpenSSLFailure("could not load Ed25519 private key");
	return pkey;
}

/* Derive the 32-byte Ed25519 public key from a private seed. */
void
crypto_ed25519_public(const uint8 *priv, uint8 *pub)
{
	EVP_PKEY   *pkey = LoadEd25519Private(priv);
	size_t		len = ED25519_KEY_LEN;
	bool		ok;

	ok = EVP_PKEY_get_raw_public_key(pkey, pub, &len) == 1 &&
		len == ED25519_KEY_LEN;
	EVP_PKEY_free(pkey);
	if (!ok)
		ReportOpenSSLFailure("could not derive Ed25519 public key");
}

/* sig = Ed25519 signature (RFC 8032, pure) of msg under priv. */
void
crypto_ed25519_sign(const uint8 *priv, const uint8 *msg, size_t msglen,
					uint8 *sig)
{
	EVP_PKEY   *pkey = LoadEd25519Private(priv);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t		siglen = ED25519_SIG_LEN;
	bool		ok;

	ok = ctx != NULL &&
		EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
		EVP_DigestSign(ctx, sig, &siglen, msg, msglen) == 1 &&
		siglen == ED25519_SIG_LEN;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	if (!ok)
		ReportOpenSSLFailure("could not sign with Ed25519");
}

/* Check an Ed25519 signature; false for any mismatch or malformed key. */
bool
crypto_ed25519_verify(const uint8 *pub, const uint8 *msg, size_t msglen,
					  const uint8 *sig)
{
	EVP_PKEY   *pkey;
	EVP_MD_CTX *ctx;
	bool		ok;

	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub,
									   ED25519_KEY_LEN);
	if (pkey == NULL)
	{
		ERR_clear_error();
		return false;
	}
	ctx = EVP_MD_CTX_new();
	ok = ctx != NULL &&
		EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
		EVP_DigestVerify(ctx, sig, ED25519_SIG_LEN, msg, msglen) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return ok;
}

/* Return the public key as a PEM SubjectPublicKeyInfo block (palloc'd). */
char *
crypto_ed25519_public_pem(const uint8 *pub)
{
	EVP_PKEY   *pkey;
	BIO		   *bio;
	char	   *data;
	long		len;
	char	   *result = NULL;

	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub,
									   ED25519_KEY_LEN);
	if (pkey == NULL)
		ReportOpenSSLFailure("could not load Ed25519 public key");
	bio = BIO_new(BIO_s_mem());
	if (bio != NULL && PEM_write_bio_PUBKEY(bio, pkey) == 1)
	{
		len = BIO_get_mem_data(bio, &data);
		if (len > 0)
			result = pnstrdup(data, len);
	}
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	if (result == NULL)
		ReportOpenSSLFailure("could not encode public key as PEM");
	return result;
}

/*
 * HMAC-SHA-256 (RFC 2104) with the key prepared once: the inner and outer
 * hash states after absorbing key^ipad and key^opad are kept, and each MAC
 * starts from copies of them, so a per-row MAC costs two short hashes and
 * no key schedule.
 */
struct CryptoHmac
{
	EVP_MD_CTX *inner;			/* SHA-256 state after key ^ ipad */
	EVP_MD_CTX *outer;			/* SHA-256 state after key ^ opad */
	EVP_MD_CTX *work;			/* scratch state for one MAC */
	MemoryContextCallback cb;
};

/* Free the OpenSSL state of a prepared HMAC (EVP_MD_CTX_free wipes it). */
static void
FreeHmac(void *arg)
{
	CryptoHmac *h = (CryptoHmac *) arg;

	EVP_MD_CTX_free(h->inner);
	EVP_MD_CTX_free(h->outer);
	EVP_MD_CTX_free(h->work);
	h->inner = h->outer = h->work = NULL;
}

/* Prepare HMAC-SHA-256 under key; the state lives as long as mcxt. */
CryptoHmac *
crypto_hmac_prepare(const uint8 *key, size_t keylen, MemoryContext mcxt)
{
	CryptoHmac *h = MemoryContextAllocZero(mcxt, sizeof(CryptoHmac));
	uint8		block[64];
	uint8		pad[64];
	bool		ok;

	EnsureSha256();
	memset(block, 0, sizeof(block));
	if (keylen > sizeof(block))
		crypto_sha256(key, keylen, block);
	else
		memcpy(block, key, keylen);

	h->inner = EVP_MD_CTX_new();
	h->outer = EVP_MD_CTX_new();
	h->work = EVP_MD_CTX_new();
	h->cb.func = FreeHmac;
	h->cb.arg = h;
	MemoryContextRegisterResetCallback(mcxt, &h->cb);

	for (int i = 0; i < 64; i++)
		pad[i] = block[i] ^ 0x36;
	ok = h->inner != NULL && h->outer != NULL && h->work != NULL &&
		EVP_DigestInit_ex(h->inner, sha256_md, NULL) == 1 &&
		EVP_DigestUpdate(h->inner, pad, 64) == 1;
	for (int i = 0; i < 64; i++)
		pad[i] = block[i] ^ 0x5c;
	ok = ok &&
		EVP_DigestInit_ex(h->outer, sha256_md, NULL) == 1 &&
		EVP_DigestUpdate(h->outer, pad, 64) == 1 &&
		EVP_DigestInit_ex(h->work, sha256_md, NULL) == 1;
	crypto_cleanse(block, sizeof(block));
	crypto_cleanse(pad, sizeof(pad));
	if (!ok)
		ReportOpenSSLFailure("could not set up HMAC-SHA-256 key");
	return h;
}

/* out = HMAC-SHA-256(prepared key, data). */
void
crypto_hmac(CryptoHmac *h, const uint8 *data, size_t len, uint8 *out)
{
	uint8		ih[SHA256_LEN];
	unsigned int outlen = 0;
	bool		ok;

	ok = EVP_MD_CTX_copy_ex(h->work, h->inner) == 1 &&
		(len == 0 || EVP_DigestUpdate(h->work, data, len) == 1) &&
		EVP_DigestFinal_ex(h->work, ih, &outlen) == 1 &&
		EVP_MD_CTX_copy_ex(h->work, h->outer) == 1 &&
		EVP_DigestUpdate(h->work, ih, SHA256_LEN) == 1 &&
		EVP_DigestFinal_ex(h->work, out, &outlen) == 1;
	if (!ok)
		ReportOpenSSLFailure("could not compute HMAC-SHA-256");
}

/* AES (128, 192 or 256-bit key) in raw block mode, key schedule kept. */
struct CryptoAes
{
	EVP_CIPHER_CTX *ctx;
	MemoryContextCallback cb;
};

/* Free the OpenSSL state of a prepared AES key (the free wipes it). */
static void
FreeAes(void *arg)
{
	CryptoAes  *a = (CryptoAes *) arg;

	EVP_CIPHER_CTX_free(a->ctx);
	a->ctx = NULL;
}

/* Prepare AES encryption under a 16, 24 or 32-byte key, living as long as mcxt. */
CryptoAes *
crypto_aes_prepare(const uint8 *key, size_t keylen, MemoryContext mcxt)
{
	CryptoAes  *a = MemoryContextAllocZero(mcxt, sizeof(CryptoAes));
	const EVP_CIPHER *cipher;

	switch (keylen)
	{
		case 16:
			cipher = EVP_aes_128_ecb();
			break;
		case 24:
			cipher = EVP_aes_192_ecb();
			break;
		case 32:
			cipher = EVP_aes_256_ecb();
			break;
		default:
			elog(ERROR, "AES key length %zu is not 16, 24 or 32", keylen);
			return NULL;		/* keep compiler quiet */
	}
	a->ctx = EVP_CIPHER_CTX_new();
	a->cb.func = FreeAes;
	a->cb.arg = a;
	MemoryContextRegisterResetCallback(mcxt, &a->cb);
	if (a->ctx == NULL ||
		EVP_EncryptInit_ex(a->ctx, cipher, NULL, key, NULL) != 1 ||
		EVP_CIPHER_CTX_set_padding(a->ctx, 0) != 1)
		ReportOpenSSLFailure("could not set up AES key");
	return a;
}

/* Encrypt nblocks independent 16-byte blocks (AES, no chaining); in may equal out. */
void
crypto_aes_encrypt_blocks(CryptoAes *a, const uint8 *in, uint8 *out,
						  size_t nblocks)
{
	int			len;

	if (EVP_EncryptUpdate(a->ctx, out, &len, in,
						  (int) (nblocks * AES_BLOCK_LEN)) != 1 ||
		len != (int) (nblocks * AES_BLOCK_LEN))
		ReportOpenSSLFailure("could not encrypt with AES");
}

/*
 * Decode exactly len bytes from hexlen characters of lower- or upper-case
 * hex into out; false (out partly written) if the text is not that.
 */
bool
crypto_hex_decode(const char *hex, size_t hexlen, uint8 *out, size_t len)
{
	if (hexlen != 2 * len)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		int			v = 0;

		for (int k = 0; k < 2; k++)
		{
			char		c = hex[2 * i + k];

			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= c - '0';
			else if (c >= 'a' && c <= 'f')
				v |= c - 'a' + 10;
			else if (c >= 'A' && c <= 'F')
				v |= c - 'A' + 10;
			else
				return false;
		}
		out[i] = (uint8) v;
	}
	return true;
}
