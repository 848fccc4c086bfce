/*
 * keys.c
 *		The key store: secrets wrapped by a master key that is not in the
 *		database, and the per-database Ed25519 signing key.
 *
 * Secrets live in aisec.key_store, readable only by the extension owner,
 * each wrapped with AES-256-GCM under the master key.  The associated data
 * of each wrap names the key, its version and purpose, so a wrapped blob
 * moved to another row does not unwrap.  The master key is read from the
 * file named by the postmaster-level setting aisec.master_key_file, kept in
 * this backend's memory only, and wiped at backend exit.  No key ever goes
 * into a setting, a query text, a catalog others can read or a message.
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"

#include "aisec.h"
#include "audit.h"
#include "crypto.h"

#define SIGNING_KEY_NAME	"$signing"
#define SIGNING_PURPOSE		"ed25519"

static char *master_key_file = NULL;
static uint8 master_key[AEAD_KEY_LEN];
static bool master_key_loaded = false;

/* Wipe the cached master key; registered to run at backend exit. */
static void
WipeMasterKey(int code, Datum arg)
{
	crypto_cleanse(master_key, sizeof(master_key));
	master_key_loaded = false;
}

/*
 * Define aisec.master_key_file; called from _PG_init.
 *
 * Preloaded (shared_preload_libraries), it is a postmaster setting, fixed
 * until restart.  A postmaster setting cannot be defined by a library loaded
 * later, so when aisec is loaded on first use it is defined as a sighup
 * setting instead: still settable only in the server's configuration, never
 * by a session.
 */
void
aisec_keys_init(void)
{
	DefineCustomStringVariable("aisec.master_key_file",
							   "File holding aisec's master key (32 random bytes, or 64 hex digits).",
							   "Must be outside the database, readable only by the server's user. "
							   "The key itself never appears in a setting.",
							   &master_key_file,
							   "",
							   process_shared_preload_libraries_in_progress ? PGC_POSTMASTER : PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);
}

/* Raise the error for an unusable master key file; never names its contents. */
static void
ReportBadMasterKey(const char *problem)
{
	ereport(ERROR,
			(errcode(ERRCODE_CONFIG_FILE_ERROR),
			 errmsg("aisec master key file is unusable: %s", problem),
			 errhint("aisec.master_key_file must name a file of exactly 32 random bytes "
					 "(or 64 hexadecimal digits), owned by the server's user with mode 0600; "
					 "for example: openssl rand -out /etc/aisec/master.key 32")));
}

/* Read and check the master key file once per backend. */
static void
LoadMasterKey(void)
{
	struct stat st;
	FILE	   *f;
	uint8		buf[130];
	size_t		n;

	if (master_key_loaded)
		return;
	if (master_key_file == NULL || master_key_file[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("aisec master key is not configured"),
				 errdetail("aisec.master_key_file is not set."),
				 errhint("Create a key file outside the data directory "
						 "(openssl rand -out /etc/aisec/master.key 32; chmod 600 it; "
						 "chown it to the server's user), set aisec.master_key_file "
						 "to its path in postgresql.conf, and restart the server.")));

	if (stat(master_key_file, &st) != 0)
		ReportBadMasterKey("it cannot be read");
	if (!S_ISREG(st.st_mode))
		ReportBadMasterKey("it is not a regular file");
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		ReportBadMasterKey("it is accessible to group or others");
	if (st.st_uid != geteuid() && st.st_uid != 0)
		ReportBadMasterKey("it is not owned by the server's user or root");

	f = AllocateFile(master_key_file, PG_BINARY_R);
	if (f == NULL)
		ReportBadMasterKey("it cannot be read");
	n = fread(buf, 1, sizeof(buf), f);
	FreeFile(f);

	/* Strip trailing whitespace only from a hex-encoded key. */
	if (n > AEAD_KEY_LEN)
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
						 buf[n - 1] == ' ' || buf[n - 1] == '\t'))
			n--;

	if (n == AEAD_KEY_LEN)
		memcpy(master_key, buf, AEAD_KEY_LEN);
	else if (n == 2 * AEAD_KEY_LEN)
	{
		for (int i = 0; i < AEAD_KEY_LEN; i++)
		{
			int			v = 0;

			for (int j = 0; j < 2; j++)
			{
				char		c = buf[2 * i + j];

				v <<= 4;
				if (c >= '0' && c <= '9')
					v |= c - '0';
				else if (c >= 'a' && c <= 'f')
					v |= c - 'a' + 10;
				else if (c >= 'A' && c <= 'F')
					v |= c - 'A' + 10;
				else
				{
					crypto_cleanse(buf, sizeof(buf));
					crypto_cleanse(master_key, sizeof(master_key));
					ReportBadMasterKey("it holds 64 characters that are not all hexadecimal digits");
				}
			}
			master_key[i] = (uint8) v;
		}
	}
	else
	{
		crypto_cleanse(buf, sizeof(buf));
		ReportBadMasterKey("it does not hold exactly 32 bytes or 64 hexadecimal digits");
	}
	crypto_cleanse(buf, sizeof(buf));

	before_shmem_exit(WipeMasterKey, (Datum) 0);
	master_key_loaded = true;
}

/* Build the associated data that binds a wrapped secret to its row. */
static char *
WrapContext(const char *name, int32 version, const char *purpose)
{
	return psprintf("aisec-key-v1|%s|%d|%s", name, version, purpose);
}

/* Wrap secret under the master key; returns a palloc'd bytea. */
static bytea *
WrapSecret(const char *name, int32 version, const char *purpose,
		   const uint8 *secret, size_t len)
{
	char	   *aad = WrapContext(name, version, purpose);
	bytea	   *out = (bytea *) palloc(VARHDRSZ + len + AEAD_OVERHEAD);

	LoadMasterKey();
	SET_VARSIZE(out, VARHDRSZ + len + AEAD_OVERHEAD);
	crypto_aead_seal(master_key, (const uint8 *) aad, strlen(aad),
					 secret, len, (uint8 *) VARDATA(out));
	pfree(aad);
	return out;
}

/* Unwrap a stored secret into out (len bytes); error if it does not verify. */
static void
UnwrapSecret(const char *name, int32 version, const char *purpose,
			 bytea *wrapped, uint8 *out, size_t len)
{
	char	   *aad = WrapContext(name, version, purpose);
	bool		ok;

	LoadMasterKey();
	ok = VARSIZE_ANY_EXHDR(wrapped) == len + AEAD_OVERHEAD &&
		crypto_aead_open(master_key, (const uint8 *) aad, strlen(aad),
						 (const uint8 *) VARDATA_ANY(wrapped),
						 VARSIZE_ANY_EXHDR(wrapped), out);
	pfree(aad);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("aisec key \"%s\" version %d cannot be unwrapped", name, version),
				 errdetail("The master key is not the one it was wrapped with, or the stored key was altered."),
				 errhint("Check that aisec.master_key_file names the right file.")));
}

/*
 * Look up the current version of the signing key.  With latest = true the
 * lookup sees rows committed after this transaction's snapshot (used after
 * taking the key-store lock).  Returns false if there is none; otherwise
 * fills pub and, if wrapped is not NULL, a copy of the wrapped secret.
 */
static bool
FetchSigningKey(bool latest, int32 *version, uint8 *pub, bytea **wrapped)
{
	AisecSavedUser saved;
	SPIPlanPtr	plan;
	Datum		arg = CStringGetTextDatum(SIGNING_KEY_NAME);
	Oid			argtype = TEXTOID;
	bool		found = false;
	int			rc;

	aisec_become_owner(&saved);
	SPI_connect();
	plan = SPI_prepare("SELECT version, public_key, wrapped FROM aisec.key_store "
					   "WHERE name OPERATOR(pg_catalog.=) $1 "
					   "ORDER BY version DESC LIMIT 1", 1, &argtype);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	rc = SPI_execute_snapshot(plan, &arg, NULL,
							  latest ? GetLatestSnapshot() : InvalidSnapshot,
							  InvalidSnapshot, true, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "key store lookup failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		bytea	   *p;

		*version = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
		p = DatumGetByteaPP(SPI_getbinval(tup, desc, 2, &isnull));
		if (isnull || VARSIZE_ANY_EXHDR(p) != ED25519_KEY_LEN)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("aisec signing key has a malformed public key")));
		memcpy(pub, VARDATA_ANY(p), ED25519_KEY_LEN);
		if (wrapped != NULL)
			*wrapped = (bytea *) DatumGetPointer(SPI_datumTransfer(SPI_getbinval(tup, desc, 3, &isnull),
																 false, -1));
		found = true;
	}
	SPI_finish();
	aisec_restore_user(&saved);
	return found;
}

/* Create the database's signing key (the key-store lock is held). */
static void
CreateSigningKey(uint8 *pub)
{
	AisecSavedUser saved;
	uint8		priv[ED25519_KEY_LEN];
	bytea	   *wrapped;
	Oid			argtypes[3] = {TEXTOID, BYTEAOID, BYTEAOID};
	Datum		args[3];
	char	   *creator = GetUserNameFromId(GetUserId(), false);
	int			rc;

	crypto_random_bytes(priv, sizeof(priv));
	crypto_ed25519_public(priv, pub);
	wrapped = WrapSecret(SIGNING_KEY_NAME, 1, SIGNING_PURPOSE, priv, sizeof(priv));
	crypto_cleanse(priv, sizeof(priv));

	args[0] = CStringGetTextDatum(creator);
	args[1] = PointerGetDatum(cstring_to_text_with_len((char *) pub, ED25519_KEY_LEN));
	args[2] = PointerGetDatum(wrapped);

	aisec_become_owner(&saved);
	SPI_connect();
	rc = SPI_execute_with_args("INSERT INTO aisec.key_store "
							   "(name, version, purpose, created_by, public_key, wrapped) "
							   "VALUES ('" SIGNING_KEY_NAME "', 1, '" SIGNING_PURPOSE "', $1, $2, $3)",
							   3, argtypes, args, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "key store insert failed: %s", SPI_result_code_string(rc));
	SPI_finish();
	aisec_restore_user(&saved);

	aisec_audit_log("key.create", SIGNING_KEY_NAME,
					"{\"purpose\": \"" SIGNING_PURPOSE "\", \"version\": 1}");
}

/* Return the signing key's public half, creating the key on first need. */
static int32
EnsureSigningKey(uint8 *pub)
{
	int32		version;

	if (FetchSigningKey(false, &version, pub, NULL))
		return version;
	aisec_prevent_if_read_only("aisec signing key creation");
	aisec_lock(AISEC_LOCK_KEY_STORE);
	if (FetchSigningKey(true, &version, pub, NULL))
		return version;
	CreateSigningKey(pub);
	CommandCounterIncrement();
	return 1;
}

/* Fill pub with the signing key's public half; false if none exists yet. */
bool
aisec_signing_public(uint8 *pub)
{
	int32		version;

	return FetchSigningKey(false, &version, pub, NULL);
}

/* Sign msg with the database's signing key (created on first need). */
void
aisec_sign(const uint8 *msg, size_t msglen, uint8 *sig)
{
	uint8		pub[ED25519_KEY_LEN];
	uint8		priv[ED25519_KEY_LEN];
	int32		version;
	bytea	   *wrapped = NULL;

	EnsureSigningKey(pub);
	if (!FetchSigningKey(false, &version, pub, &wrapped))
		(void) FetchSigningKey(true, &version, pub, &wrapped);
	if (wrapped == NULL)
		elog(ERROR, "aisec signing key vanished");
	UnwrapSecret(SIGNING_KEY_NAME, version, SIGNING_PURPOSE, wrapped,
				 priv, sizeof(priv));
	crypto_ed25519_sign(priv, msg, msglen, sig);
	crypto_cleanse(priv, sizeof(priv));
}

PG_FUNCTION_INFO_V1(signing_public_key);
/* Return the database's Ed25519 public key as PEM, creating it if needed. */
Datum
signing_public_key(PG_FUNCTION_ARGS)
{
	uint8		pub[ED25519_KEY_LEN];

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER |
					   AISEC_ROLE_DPO | AISEC_ROLE_AUDITOR,
					   "aisec.signing_public_key()");
	EnsureSigningKey(pub);
	PG_RETURN_TEXT_P(cstring_to_text(crypto_ed25519_public_pem(pub)));
}
