/*
 * aggbox.h
 *		Aggregate states kept as expanded objects ("boxes"), so that an
 *		aggregate whose transition type is a real SQL type (not internal)
 *		still updates its state in place, row after row.
 *
 * A box holds a state in the shape its aggregate works on (hash tables,
 * growable arrays) and the methods that turn it into the SQL type's flat
 * bytes and back.  PostgreSQL flattens the box only where the state must
 * leave the aggregate: a parallel worker's partial state, a Citus worker's
 * text form.  See aggbox.c.
 */
#ifndef AISEC_AGGBOX_H
#define AISEC_AGGBOX_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/expandeddatum.h"

/* What a box needs to know about the state it holds. */
typedef struct AggBoxMethods
{
	const char *type_name;		/* the SQL type, for messages */
	/* an empty state in cxt, or NULL if the caller makes it (may be NULL) */
	void	   *(*create) (MemoryContext cxt);
	/* a state in cxt from a flat value of the type (validates it) */
	void	   *(*decode) (MemoryContext cxt, const struct varlena *flat);
	/* the flat value of a state, palloc'd in the current context */
	struct varlena *(*encode) (const void *state);
} AggBoxMethods;

/* An aggregate state as an expanded object. */
typedef struct AggBox
{
	ExpandedObjectHeader hdr;	/* eoh_context holds the box and its state */
	const AggBoxMethods *m;
	void	   *state;
	struct varlena *flat;		/* cached flat form, or NULL */
} AggBox;

/* The expanded-object methods of every box (aggbox.c). */
extern const ExpandedObjectMethods aggbox_eom;

extern AggBox *aggbox_create(MemoryContext parent, const AggBoxMethods *m);
extern AggBox *aggbox_for_update_slow(FunctionCallInfo fcinfo, int argno,
									  const AggBoxMethods *m);
extern const void *aggbox_read(FunctionCallInfo fcinfo, int argno,
							   const AggBoxMethods *m);

/*
 * Return the box of argument argno if it is a read-write box of these
 * methods with no flat bytes cached (so its caller may change its state in
 * place at once), or NULL.  Inlined: it runs once per row.
 */
static inline AggBox *
aggbox_if_writable(FunctionCallInfo fcinfo, int argno, const AggBoxMethods *m)
{
	if (likely(!PG_ARGISNULL(argno)))
	{
		Pointer		p = DatumGetPointer(PG_GETARG_DATUM(argno));

		if (likely(VARATT_IS_EXTERNAL_EXPANDED_RW(p)))
		{
			varatt_expanded ptr;
			AggBox	   *box;

			memcpy(&ptr, VARDATA_EXTERNAL(p), sizeof(ptr));
			box = (AggBox *) ptr.eohptr;
			if (likely(box->hdr.eoh_methods == &aggbox_eom && box->m == m &&
					   box->flat == NULL))
				return box;
		}
	}
	return NULL;
}

/*
 * Return the state of argument argno for the caller to change in place:
 * the argument's own box if it is a read-write box of these methods (every
 * row after a group's first), otherwise a new box (aggbox_for_update_slow,
 * aggbox.c).
 */
static inline AggBox *
aggbox_for_update(FunctionCallInfo fcinfo, int argno, const AggBoxMethods *m)
{
	AggBox	   *box = aggbox_if_writable(fcinfo, argno, m);

	return likely(box != NULL) ? box : aggbox_for_update_slow(fcinfo, argno, m);
}

/* The memory context a box's state lives in. */
static inline MemoryContext
aggbox_context(const AggBox *box)
{
	return box->hdr.eoh_context;
}

/* The datum a transition or combine function returns: the box, read-write. */
static inline Datum
aggbox_result(AggBox *box)
{
	return EOHPGetRWDatum(&box->hdr);
}

#endif							/* AISEC_AGGBOX_H */
