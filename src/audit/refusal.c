/*
 * refusal.c
 *		Audited refusals: a refused direct write to aisec's history or
 *		version records leaves a version.refused entry in the audit log.
 *
 * The refusal is an error, and the error rolls back everything its
 * transaction wrote, an audit entry included.  So the entry is written by
 * another process: a dynamic background worker, registered by the refusing
 * backend, that connects to the same database as the bootstrap superuser,
 * appends one entry in its own transaction (taking the audit chain's lock
 * like every append) and exits.  The entry names the refusing session's
 * roles, handed to the worker by OID, not the worker's own.
 *
 * The refusing backend waits for the worker, at most REFUSAL_WAIT_MS, so
 * the entry is committed by the time the refused statement returns; then
 * the caller raises the refusal's error, unchanged.  It does not wait when
 * the worker would have to wait for it: when its transaction holds the
 * audit-append lock (it appended an entry earlier) or a lock on the audit
 * log that blocks appends.  The worker then queues behind the transaction
 * and writes the entry when it ends.  With no free worker slot
 * (max_worker_processes), after a timeout or if the postmaster died, the
 * refusal goes to the server log instead (a timed-out worker still writes
 * its entry later).  A worker that fails logs its error, with the refusal's
 * facts as context.
 *
 * The worker has no SQL-callable entry point: only this module's C code
 * registers it, and it writes nothing but the one entry it was given.
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "core/core.h"
#include "audit.h"

/* How long a refusing backend waits for its audit entry. */
#define REFUSAL_WAIT_MS		10000

#define REFUSAL_ACTION		"version.refused"

/* What the worker needs to know, passed in bgw_extra. */
typedef struct RefusalArgs
{
	Oid			dboid;			/* database of the refused write */
	Oid			session_user;	/* its session's session_user */
	Oid			login;			/* the role that logged in */
	Oid			current_user;	/* current_user when it was refused */
	char		op[16];			/* INSERT, UPDATE, DELETE, TRUNCATE or DROP */
	char		relname[NAMEDATALEN];	/* table in schema aisec */
} RefusalArgs;

StaticAssertDecl(sizeof(RefusalArgs) <= BGW_EXTRALEN,
				 "refusal worker arguments must fit in bgw_extra");

/* Why a refusal went to the server log instead of the audit log. */
typedef enum UnauditedReason
{
	UNAUDITED_NO_WORKER_SLOT,
	UNAUDITED_POSTMASTER_DIED,
	UNAUDITED_TIMEOUT
} UnauditedReason;

/* errdetail() for an unaudited refusal: one whole sentence per reason. */
static int
UnauditedDetail(UnauditedReason why)
{
	switch (why)
	{
		case UNAUDITED_NO_WORKER_SLOT:
			return errdetail("No background worker slot was free to record it (see max_worker_processes).");
		case UNAUDITED_POSTMASTER_DIED:
			return errdetail("The postmaster died before the audit worker finished.");
		case UNAUDITED_TIMEOUT:
			return errdetail("The audit worker did not finish within %d ms; it records the refusal when it can.",
							 REFUSAL_WAIT_MS);
	}
	return 0;
}

/* Write the refusal to the server log, saying why it is not audited. */
static void
LogUnaudited(const RefusalArgs *args, UnauditedReason why)
{
	ereport(LOG_SERVER_ONLY,
			(errmsg("aisec: refused %s on \"%s.%s\" by role \"%s\" (session user \"%s\", login \"%s\") is not in the audit log yet",
					args->op, AISEC_SCHEMA, args->relname,
					GetUserNameFromId(args->current_user, false),
					GetUserNameFromId(args->session_user, false),
					GetUserNameFromId(args->login, false)),
			 UnauditedDetail(why)));
}

/*
 * Return true if the worker would wait for this transaction: it holds the
 * audit-append lock, or a lock on aisec.audit_log that conflicts with the
 * RowExclusiveLock an append takes (SHARE or stronger).
 */
static bool
WorkerWouldWaitForUs(void)
{
	static const LOCKMODE blocking[] = {
		ShareLock, ShareRowExclusiveLock, ExclusiveLock, AccessExclusiveLock
	};
	LOCKTAG		tag;

	if (aisec_lock_held(AISEC_LOCK_AUDIT_APPEND))
		return true;
	SET_LOCKTAG_RELATION(tag, MyDatabaseId, aisec_relid("audit_log"));
	for (int i = 0; i < lengthof(blocking); i++)
	{
#if PG_VERSION_NUM >= 170000
		if (LockHeldByMe(&tag, blocking[i], false))
#else
		if (LockHeldByMe(&tag, blocking[i]))
#endif
			return true;
	}
	return false;
}

/* Wait until the worker has stopped or timeout_ms have passed. */
static BgwHandleStatus
WaitForWorker(BackgroundWorkerHandle *handle, long timeout_ms)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   timeout_ms);

	for (;;)
	{
		BgwHandleStatus status;
		pid_t		pid;
		long		left;
		int			rc;

		CHECK_FOR_INTERRUPTS();
		status = GetBackgroundWorkerPid(handle, &pid);
		if (status == BGWH_STOPPED || status == BGWH_POSTMASTER_DIED)
			return status;
		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
		if (left <= 0)
			return status;
		rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_POSTMASTER_DEATH,
					   left, WAIT_EVENT_BGWORKER_SHUTDOWN);
		if (rc & WL_POSTMASTER_DEATH)
			return BGWH_POSTMASTER_DIED;
		ResetLatch(MyLatch);
	}
}

/* Have a worker record this session's refused write; see the file header. */
void
aisec_audit_refusal(const char *op, const char *relname)
{
	RefusalArgs args;
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	bool		wait = !WorkerWouldWaitForUs();
	BgwHandleStatus status;

	memset(&args, 0, sizeof(args));
	args.dboid = MyDatabaseId;
	args.session_user = GetSessionUserId();
	args.login = GetAuthenticatedUserId();
	args.current_user = GetUserId();
	strlcpy(args.op, op, sizeof(args.op));
	strlcpy(args.relname, relname, sizeof(args.relname));

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "aisec", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "aisec_refusal_worker_main", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "aisec refusal audit for PID %d", MyProcPid);
	strlcpy(worker.bgw_type, "aisec refusal audit", BGW_MAXLEN);
	worker.bgw_main_arg = (Datum) 0;
	worker.bgw_notify_pid = wait ? MyProcPid : 0;
	memcpy(worker.bgw_extra, &args, sizeof(args));

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		LogUnaudited(&args, UNAUDITED_NO_WORKER_SLOT);
		return;
	}
	if (!wait)
		return;
	status = WaitForWorker(handle, REFUSAL_WAIT_MS);
	if (status == BGWH_POSTMASTER_DIED)
		LogUnaudited(&args, UNAUDITED_POSTMASTER_DIED);
	else if (status != BGWH_STOPPED)
		LogUnaudited(&args, UNAUDITED_TIMEOUT);
	pfree(handle);
}

/* Error context of the worker: which refusal it was recording. */
static void
RefusalWorkerContext(void *arg)
{
	const RefusalArgs *args = (const RefusalArgs *) arg;

	errcontext("recording refused %s on \"%s.%s\" (session user OID %u, login OID %u, current user OID %u) in the audit log",
			   args->op, AISEC_SCHEMA, args->relname,
			   args->session_user, args->login, args->current_user);
}

/* A role's name, or a placeholder naming its OID if it was dropped since. */
static char *
RoleName(Oid roleid)
{
	char	   *name = GetUserNameFromId(roleid, true);

	return name ? name : psprintf("(dropped role %u)", roleid);
}

/* Background worker: append the version.refused entry it was given, exit. */
void
aisec_refusal_worker_main(Datum main_arg)
{
	RefusalArgs args;
	ErrorContextCallback errcb;
	StringInfoData detail;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	args.op[sizeof(args.op) - 1] = '\0';
	args.relname[sizeof(args.relname) - 1] = '\0';

	errcb.callback = RefusalWorkerContext;
	errcb.arg = &args;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(args.dboid, InvalidOid,
											  BGWORKER_BYPASS_ALLOWCONN);

	/* Database or role defaults must not stop the entry. */
	SetConfigOption("default_transaction_read_only", "off",
					PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_isolation", "read committed",
					PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("lock_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "aisec: recording a refused write in the audit log");

	initStringInfo(&detail);
	appendStringInfoString(&detail, "{\"operation\": ");
	escape_json(&detail, args.op);
	appendStringInfoString(&detail, ", \"current_user\": ");
	escape_json(&detail, RoleName(args.current_user));
	appendStringInfoChar(&detail, '}');
	(void) aisec_audit_log_as(RoleName(args.session_user), RoleName(args.login),
							  REFUSAL_ACTION,
							  quote_qualified_identifier(AISEC_SCHEMA, args.relname),
							  detail.data);

	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	error_context_stack = errcb.previous;
}

/* See audit.h. */
void
aisec_audit_refuse_write(FunctionCallInfo fcinfo, const char *function_name,
						 const char *detail, const char *hint)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TriggerEvent event;
	const char *op = "INSERT";
	const char *rel;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" was not called by trigger manager", function_name)));
	if (aisec_spi_owner_writing())
		return;
	event = td->tg_event;
	if (TRIGGER_FIRED_BY_UPDATE(event))
		op = "UPDATE";
	else if (TRIGGER_FIRED_BY_DELETE(event))
		op = "DELETE";
	else if (TRIGGER_FIRED_BY_TRUNCATE(event))
		op = "TRUNCATE";
	rel = RelationGetRelationName(td->tg_relation);

	/* The error rolls back our own writes: another process audits it. */
	aisec_audit_refusal(op, rel);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 TRIGGER_FIRED_BY_UPDATE(event) ?
			 errmsg("UPDATE on table \"%s.%s\" is not allowed", AISEC_SCHEMA, rel) :
			 TRIGGER_FIRED_BY_DELETE(event) ?
			 errmsg("DELETE on table \"%s.%s\" is not allowed", AISEC_SCHEMA, rel) :
			 TRIGGER_FIRED_BY_TRUNCATE(event) ?
			 errmsg("TRUNCATE on table \"%s.%s\" is not allowed", AISEC_SCHEMA, rel) :
			 errmsg("INSERT on table \"%s.%s\" is not allowed", AISEC_SCHEMA, rel),
			 errdetail_internal("%s", detail),
			 errhint("%s", hint)));
}
