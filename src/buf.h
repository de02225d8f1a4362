/*
 * buf.h — relay buffers and a per-worker pool of them.
 *
 * A connection holds a buffer only while bytes are in flight and gives it
 * back as soon as it is empty, so idle connections cost no buffer memory.
 * Thread safety: a pool and its buffers belong to one worker thread.
 */
#ifndef REMORA_BUF_H
#define REMORA_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint32_t start; /* first unsent byte */
	uint32_t lim;	/* bytes [start, lim) may be sent: they belong to the current message */
	uint32_t end;	/* one past the last received byte */
	uint32_t cap;
	struct buf *next; /* free-list link while pooled */
	char data[];
};

struct buf_pool {
	struct buf *free;
	uint32_t size; /* capacity of every buffer */
	uint32_t n_free;
	uint32_t max_free; /* pooled beyond this are returned to the allocator */
	uint32_t low_free; /* fewest pooled since the last buf_pool_trim */
	uint64_t in_use;
};

void buf_pool_init(struct buf_pool *bp, uint32_t size, uint32_t max_free);
/* Frees every pooled buffer; buffers still in use must have been put back. */
void buf_pool_fini(struct buf_pool *bp);
/* Returns to the allocator the pooled buffers that were not needed since the
 * previous call (the fewest the pool held in between), keeping at least keep:
 * called once a period (a second), it lets a burst's buffers go within two
 * periods of the burst while a steady load keeps what it uses. Returns the
 * number of buffers freed. */
uint32_t buf_pool_trim(struct buf_pool *bp, uint32_t keep);
/* An empty buffer, or NULL when memory is exhausted. */
struct buf *buf_get(struct buf_pool *bp);
/* Returns b (NULL-tolerant) to the pool. */
void buf_put(struct buf_pool *bp, struct buf *b);

static inline uint32_t buf_len(const struct buf *b)
{
	return b->end - b->start;
}

static inline uint32_t buf_room(const struct buf *b)
{
	return b->cap - b->end;
}

/* Replaces *bufp by a buffer of capacity cap (> the pool's size: a long
 * message head) holding the same unsent bytes; buf_put frees it instead of
 * pooling it. 0, or -1 when memory is exhausted (*bufp unchanged). */
int buf_grow(struct buf_pool *bp, struct buf **bufp, uint32_t cap);

/* Moves the unsent bytes to the front to make room at the end. */
void buf_compact(struct buf *b);

/* Puts the byte ch in at (*bufp)->lim, before the bytes not yet classified
 * (a CR for a bare LF of chunked framing), compacting or growing the buffer
 * when it is full. 0, or -1 when memory is exhausted (*bufp unchanged). */
int buf_insert_at_lim(struct buf_pool *bp, struct buf **bufp, char ch);

#endif
