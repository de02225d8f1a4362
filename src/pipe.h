/*
 * pipe.h — pooled kernel pipes for splice(): large response bodies move
 * upstream socket → pipe → client socket without being copied to user space.
 * A connection holds a pipe only while bytes are in it.
 * Thread safety: a pool and its pipes belong to one worker thread.
 */
#ifndef REMORA_PIPE_H
#define REMORA_PIPE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A pipe smaller than this is not worth splicing through: Linux gives new
 * pipes 2 pages once the user holds fs.pipe-user-pages-soft pages of pipes
 * (16,384 by default: 256 of Remora's 256 KiB pipes, for a user without
 * CAP_SYS_RESOURCE), and 8 KiB per splice costs more system calls than
 * copying through a buffer. Such a pipe is closed, and the caller copies. */
#define PIPE_MIN_CAP (64 * 1024)

struct rpipe {
	int rfd, wfd;
	uint32_t bytes; /* in the pipe, not yet spliced out */
	struct rpipe *next;
};

struct pipe_pool {
	struct rpipe *free;
	uint32_t n_free;
	uint32_t low_free; /* fewest pooled since the last pipe_pool_tick */
	uint32_t max_free;
	uint32_t size; /* capacity asked for with F_SETPIPE_SZ */
	uint64_t in_use;
	uint64_t small; /* new pipes under PIPE_MIN_CAP, closed (STAT_*: read by /metrics) */
	int broken;	/* pipes cannot be made here: stop trying */
	int starved; /* the last new pipe was small: no new one until one closes or pipe_pool_tick */
};

void pipe_pool_init(struct pipe_pool *pp, uint32_t size, uint32_t max_free);
void pipe_pool_fini(struct pipe_pool *pp);
/* An empty pipe of at least PIPE_MIN_CAP bytes, or NULL (out of
 * descriptors, memory or pipe pages: copy instead). */
struct rpipe *pipe_get(struct pipe_pool *pp);
/* Called by the owner now and then (each second): closes the pooled pipes
 * that stayed unused since the last call, keeping at least keep (idle pipes
 * hold the user's pipe pages, which other workers may need), and lets a new
 * pipe be tried again (pages freed elsewhere are not announced). Returns the
 * pipes closed. */
uint32_t pipe_pool_tick(struct pipe_pool *pp, uint32_t keep);
/* Returns an empty pipe to the pool; a pipe with bytes left is closed. NULL-tolerant. */
void pipe_put(struct pipe_pool *pp, struct rpipe *p);

/* splice(): at most max bytes from socket fd into p. Returns bytes moved,
 * 0 at EOF, -EAGAIN when fd has nothing (p must have room), or -errno. */
ssize_t pipe_fill(struct rpipe *p, int fd, size_t max);
/* splice(): what p holds into socket fd. Returns bytes moved, -EAGAIN when
 * fd is full, or -errno. */
ssize_t pipe_drain(struct rpipe *p, int fd);

#endif
