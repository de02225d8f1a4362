/* buf.c — per-worker relay buffer pool (see buf.h). */
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void buf_pool_init(struct buf_pool *bp, uint32_t size, uint32_t max_free)
{
	bp->free = NULL;
	bp->size = size;
	bp->n_free = 0;
	bp->max_free = max_free;
	bp->low_free = 0;
	bp->in_use = 0;
}

void buf_pool_fini(struct buf_pool *bp)
{
	struct buf *b;

	while ((b = bp->free) != NULL) {
		bp->free = b->next;
		free(b);
	}
	bp->n_free = 0;
	bp->low_free = 0;
}

uint32_t buf_pool_trim(struct buf_pool *bp, uint32_t keep)
{
	uint32_t n = 0, surplus = bp->low_free;
	struct buf *b;

	while (n < surplus && bp->n_free > keep && (b = bp->free) != NULL) {
		bp->free = b->next;
		bp->n_free--;
		free(b);
		n++;
	}
	bp->low_free = bp->n_free;
	return n;
}

struct buf *buf_get(struct buf_pool *bp)
{
	struct buf *b = bp->free;

	if (b != NULL) {
		bp->free = b->next;
		if (--bp->n_free < bp->low_free)
			bp->low_free = bp->n_free;
	} else {
		b = malloc(sizeof(*b) + bp->size);
		if (b == NULL)
			return NULL;
		b->cap = bp->size;
	}
	b->start = b->lim = b->end = 0;
	b->next = NULL;
	bp->in_use++;
	return b;
}

void buf_put(struct buf_pool *bp, struct buf *b)
{
	if (b == NULL)
		return;
	bp->in_use--;
	if (bp->n_free >= bp->max_free || b->cap != bp->size) {
		free(b);
		return;
	}
	b->next = bp->free;
	bp->free = b;
	bp->n_free++;
}

void buf_compact(struct buf *b)
{
	if (b->start == 0)
		return;
	memmove(b->data, b->data + b->start, b->end - b->start);
	b->lim -= b->start;
	b->end -= b->start;
	b->start = 0;
}

int buf_insert_at_lim(struct buf_pool *bp, struct buf **bufp, char ch)
{
	struct buf *b = *bufp;

	if (buf_room(b) == 0)
		buf_compact(b);
	/* still full (nothing sent yet): a little more room, which the next
	 * inserts use too; each happens once per line of what was received */
	if (buf_room(b) == 0 && buf_grow(bp, bufp, b->cap + 256) < 0)
		return -1;
	b = *bufp;
	memmove(b->data + b->lim + 1, b->data + b->lim, b->end - b->lim);
	b->data[b->lim] = ch;
	b->end++;
	return 0;
}

int buf_grow(struct buf_pool *bp, struct buf **bufp, uint32_t cap)
{
	struct buf *old = *bufp, *b;

	if (old->cap >= cap)
		return 0;
	b = malloc(sizeof(*b) + cap);
	if (b == NULL)
		return -1;
	b->cap = cap;
	b->next = NULL;
	b->start = 0;
	b->lim = old->lim - old->start;
	b->end = old->end - old->start;
	memcpy(b->data, old->data + old->start, b->end);
	bp->in_use++;
	buf_put(bp, old);
	*bufp = b;
	return 0;
}
