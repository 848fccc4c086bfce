/*
 * aggbox.c
 *		Aggregate states as expanded objects (utils/expandeddatum.h).
 *
 * Why.  Citus runs a custom aggregate as partial aggregates on its workers
 * only when the transition type is a real type with text input and output
 * (the state crosses nodes as text); with STYPE = internal it pulls every
 * row to the coordinator.  A real type's value is flat bytes, though, and
 * decoding and re-encoding them for every row would cost far more than the
 * row itself.  An expanded object lets the state keep its working shape
 * (hash tables, growable arrays) for the whole aggregation; PostgreSQL asks
 * for the flat bytes only where the state must leave the aggregate (a
 * parallel worker's partial state, a Citus worker's text form).
 *
 * How nodeAgg keeps a box without copying it.  A transition or combine
 * function returns its box's read-write pointer.  When that pointer differs
 * from the previous state (the first row of a group), nodeAgg (and
 * nodeWindowAgg, and Citus's worker_partial_agg) keeps the object as it is
 * if it is a read-write expanded object whose memory context is a child of
 * the aggregate context, and otherwise copies it.  So a new box gets its own
 * small context under the aggregate context (AggCheckCallContext), and later
 * calls get the same read-write pointer back, update the state in place and
 * return it again: no copy, no flattening.  Resetting or deleting the
 * aggregate context (next group, end of query) deletes the box with it.
 *
 * Flattening.  get_flat_size encodes the state once, in the box's context,
 * and keeps the bytes; flatten_into copies them.  aggbox_for_update drops
 * the cached bytes, since its caller is about to change the state.
 *
 * Reading.  A final function gets a read-only pointer (and window
 * aggregates call it again after later rows), so it must never change the
 * state; aggbox_read hands out the state of a box, or decodes a flat value
 * (a partial state from a parallel worker or from another node).
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/memutils.h"

#include "aggbox.h"

static Size AggBoxGetFlatSize(ExpandedObjectHeader *eohptr);
static void AggBoxFlattenInto(ExpandedObjectHeader *eohptr, void *result,
							  Size allocated_size);

const ExpandedObjectMethods aggbox_eom = {
	AggBoxGetFlatSize,
	AggBoxFlattenInto
};

/* Return the box behind an expanded datum of methods m, or NULL. */
static AggBox *
BoxOf(Datum d, const AggBoxMethods *m)
{
	ExpandedObjectHeader *eoh;

	if (!VARATT_IS_EXTERNAL_EXPANDED(DatumGetPointer(d)))
		return NULL;
	eoh = DatumGetEOHP(d);
	if (eoh->eoh_methods != &aggbox_eom || ((AggBox *) eoh)->m != m)
		return NULL;
	return (AggBox *) eoh;
}

/* Encode the state once and keep the bytes in the box's context. */
static Size
AggBoxGetFlatSize(ExpandedObjectHeader *eohptr)
{
	AggBox	   *box = (AggBox *) eohptr;

	if (box->flat == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(eohptr->eoh_context);

		if (box->state == NULL)
			elog(ERROR, "%s aggregate state is empty", box->m->type_name);
		box->flat = box->m->encode(box->state);
		MemoryContextSwitchTo(old);
	}
	return VARSIZE(box->flat);
}

/* Copy the encoded bytes (get_flat_size made them) into result. */
static void
AggBoxFlattenInto(ExpandedObjectHeader *eohptr, void *result, Size allocated_size)
{
	AggBox	   *box = (AggBox *) eohptr;

	if (box->flat == NULL || VARSIZE(box->flat) != allocated_size)
		elog(ERROR, "%s aggregate state flattened without its size",
			 box->m->type_name);
	memcpy(result, box->flat, allocated_size);
}

/* A new box without a state yet, in its own context under parent. */
static AggBox *
NewBox(MemoryContext parent, const AggBoxMethods *m)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "aisec aggregate state",
											  ALLOCSET_SMALL_SIZES);
	AggBox	   *box = MemoryContextAllocZero(cxt, sizeof(AggBox));

	EOH_init_header(&box->hdr, &aggbox_eom, cxt);
	box->m = m;
	return box;
}

/* A new box holding an empty state, in its own context under parent. */
AggBox *
aggbox_create(MemoryContext parent, const AggBoxMethods *m)
{
	AggBox	   *box = NewBox(parent, m);

	box->state = m->create != NULL ? m->create(aggbox_context(box)) : NULL;
	return box;
}

/*
 * aggbox_for_update (aggbox.h) when its inlined test fails: the argument's
 * own box if it is a read-write box of these methods (dropping the flat
 * bytes cached in it, which the caller's change would make stale),
 * otherwise a new box (in a context under the aggregate context, or under
 * the current context outside an aggregate) holding an empty state for a
 * NULL argument or the decoded value of any other.
 */
AggBox *
aggbox_for_update_slow(FunctionCallInfo fcinfo, int argno, const AggBoxMethods *m)
{
	MemoryContext parent;
	AggBox	   *box;

	if (!PG_ARGISNULL(argno))
	{
		Datum		d = PG_GETARG_DATUM(argno);

		box = VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(d)) ? BoxOf(d, m) : NULL;
		if (box != NULL)
		{
			if (box->flat != NULL)
			{
				pfree(box->flat);
				box->flat = NULL;
			}
			return box;
		}
	}

	if (!AggCheckCallContext(fcinfo, &parent))
		parent = CurrentMemoryContext;
	if (PG_ARGISNULL(argno))
		return aggbox_create(parent, m);
	box = NewBox(parent, m);
	box->state = m->decode(aggbox_context(box),
						   (struct varlena *) PG_DETOAST_DATUM(PG_GETARG_DATUM(argno)));
	return box;
}

/*
 * Return the state of argument argno (not NULL) for reading only: a box's
 * own state, or a flat value decoded in the current memory context.
 */
const void *
aggbox_read(FunctionCallInfo fcinfo, int argno, const AggBoxMethods *m)
{
	Datum		d = PG_GETARG_DATUM(argno);
	AggBox	   *box = BoxOf(d, m);

	if (box != NULL && box->state != NULL)
		return box->state;
	return m->decode(CurrentMemoryContext, (struct varlena *) PG_DETOAST_DATUM(d));
}
