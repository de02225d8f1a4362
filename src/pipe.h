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

struct rpipe {
	int rfd, wfd;
	uint32_t bytes; /* in the pipe, not yet spliced out */
	struct rpipe *next;
};

struct pipe_pool {
	struct rpipe *free;
	uint32_t n_free;
	uint32_t max_free;
	uint32_t size; /* capacity asked for with F_SETPIPE_SZ */
	uint64_t in_use;
	int broken; /* pipes cannot be made here: stop trying */
};

void pipe_pool_init(struct pipe_pool *pp, uint32_t size, uint32_t max_free);
void pipe_pool_fini(struct pipe_pool *pp);
/* An empty pipe, or NULL (out of descriptors or memory: copy instead). */
struct rpipe *pipe_get(struct pipe_pool *pp);
/* Returns an empty pipe to the pool; a pipe with bytes left is closed. NULL-tolerant. */
void pipe_put(struct pipe_pool *pp, struct rpipe *p);

/* splice(): at most max bytes from socket fd into p. Returns bytes moved,
 * 0 at EOF, -EAGAIN when fd has nothing (p must have room), or -errno. */
ssize_t pipe_fill(struct rpipe *p, int fd, size_t max);
/* splice(): what p holds into socket fd. Returns bytes moved, -EAGAIN when
 * fd is full, or -errno. */
ssize_t pipe_drain(struct rpipe *p, int fd);

#endif
