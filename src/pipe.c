/* pipe.c — pooled pipes for splice() (see pipe.h). */
#include "remora-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "pipe.h"
#include "stats.h"

void pipe_pool_init(struct pipe_pool *pp, uint32_t size, uint32_t max_free)
{
	pp->free = NULL;
	pp->n_free = 0;
	pp->low_free = 0;
	pp->max_free = max_free;
	pp->size = size;
	pp->in_use = 0;
	pp->small = 0;
	pp->broken = 0;
	pp->starved = 0;
}

static void pipe_destroy(struct pipe_pool *pp, struct rpipe *p)
{
	close(p->rfd);
	close(p->wfd);
	free(p);
	pp->starved = 0; /* its pages are back: a new pipe may be whole again */
}

uint32_t pipe_pool_tick(struct pipe_pool *pp, uint32_t keep)
{
	uint32_t n = 0, surplus = pp->low_free;
	struct rpipe *p;

	while (n < surplus && pp->n_free > keep && (p = pp->free) != NULL) {
		pp->free = p->next;
		pp->n_free--;
		pipe_destroy(pp, p);
		n++;
	}
	pp->low_free = pp->n_free;
	pp->starved = 0;
	return n;
}

/* The capacity of a new pipe after asking for size (0: the default). */
static int pipe_size(const struct rpipe *p, uint32_t size)
{
	int cap = -1;

#ifdef F_SETPIPE_SZ
	if (size != 0)
		cap = fcntl(p->wfd, F_SETPIPE_SZ, (int)size);
	if (cap < 0)
		cap = fcntl(p->wfd, F_GETPIPE_SZ);
#else
	(void)p;
	(void)size;
#endif
	return cap;
}

void pipe_pool_fini(struct pipe_pool *pp)
{
	struct rpipe *p;

	while ((p = pp->free) != NULL) {
		pp->free = p->next;
		pipe_destroy(pp, p);
	}
	pp->n_free = pp->low_free = 0;
}

struct rpipe *pipe_get(struct pipe_pool *pp)
{
	struct rpipe *p = pp->free;
	int fds[2];

	if (p != NULL) {
		pp->free = p->next;
		if (--pp->n_free < pp->low_free)
			pp->low_free = pp->n_free;
	} else {
		if (pp->broken || pp->starved || !HAVE_SPLICE)
			return NULL;
		p = malloc(sizeof(*p));
		if (p == NULL)
			return NULL;
		if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1) {
			if (errno == ENOSYS || errno == EINVAL)
				pp->broken = 1;
			free(p);
			return NULL;
		}
		p->rfd = fds[0];
		p->wfd = fds[1];
		if (pipe_size(p, pp->size) < PIPE_MIN_CAP) {
			pipe_destroy(pp, p);
			STAT_INC(pp->small);
			pp->starved = 1;
			return NULL;
		}
	}
	p->bytes = 0;
	p->next = NULL;
	pp->in_use++;
	return p;
}

void pipe_put(struct pipe_pool *pp, struct rpipe *p)
{
	if (p == NULL)
		return;
	pp->in_use--;
	if (p->bytes != 0 || pp->n_free >= pp->max_free) {
		pipe_destroy(pp, p); /* never reuse a pipe holding another conn's bytes */
		return;
	}
	p->next = pp->free;
	pp->free = p;
	pp->n_free++;
}

ssize_t pipe_fill(struct rpipe *p, int fd, size_t max)
{
#if HAVE_SPLICE
	ssize_t n = splice(fd, NULL, p->wfd, NULL, max, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);

	if (n > 0)
		p->bytes += (uint32_t)n;
	return n == -1 ? (errno == EAGAIN ? -EAGAIN : -errno) : n;
#else
	(void)p;
	(void)fd;
	(void)max;
	return -ENOSYS;
#endif
}

ssize_t pipe_drain(struct rpipe *p, int fd)
{
#if HAVE_SPLICE
	ssize_t n = splice(p->rfd, NULL, fd, NULL, p->bytes, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);

	if (n > 0)
		p->bytes -= (uint32_t)n;
	return n == -1 ? (errno == EAGAIN ? -EAGAIN : -errno) : n;
#else
	(void)p;
	(void)fd;
	return -ENOSYS;
#endif
}
