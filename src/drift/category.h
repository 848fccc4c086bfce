/*
 * category.h
 *		The category-count aggregate (aisec.category_counts) and its state
 *		type aisec.category_stats, compared by the drift measures in
 *		divergence.c.
 */
#ifndef AISEC_CATEGORY_H
#define AISEC_CATEGORY_H

#include "postgres.h"

#include "fmgr.h"

#define CATEGORY_TYPE_NAME		"aisec.category_stats"

/* A decoded, validated aisec.category_stats value (labels in byte order). */
typedef struct CategoryView
{
	uint32		k;				/* categories, at least 1 */
	const char **labels;
	uint32	   *lens;
	int64	   *counts;			/* each > 0 */
	int64		n;
} CategoryView;

extern void category_decode(const struct varlena *v, CategoryView *c);

#endif							/* AISEC_CATEGORY_H */
