/*
 * conn_abort.c — the ABORT state: the origin reset its connection (or a send
 * to it failed) after bytes may have gone to the client. A client talking to
 * the origin directly would get every byte the origin sent before the reset,
 * then the reset itself; so the client gets what Remora still holds for it
 * (the relay buffer and the splice pipe), and once its kernel send queue has
 * drained (or CONFIG_LINGER_MS passed, or it went away) a reset too, not the
 * FIN that would make a cut transfer look complete. Owning worker only.
 */
#include "remora-config.h"

#include <errno.h>
#include <sys/ioctl.h>
#ifdef __linux__
#include <linux/sockios.h>
#endif

#include "conn_int.h"
#include "stats.h"
#include "worker.h"

enum conn_next conn_abort(struct conn *c, enum conn_close_reason reason, int err)
{
	struct worker *w = c->w;

	c->reason = (uint8_t)reason;
	c->err = err;
	c->close_state = c->state;
	c->reset_by = w->now + CONFIG_LINGER_MS;
	conn_close_upstream(c); /* dead: nothing more comes from it */
	buf_put(&w->bufs, c->c2u);
	buf_put(&w->bufs, c->pre);
	c->c2u = c->pre = NULL;
	pipe_put(&w->pipes, c->pipe_c2u);
	c->pipe_c2u = NULL;
	/* the origin sent all of it: a partly parsed rest goes on as it came */
	if (c->u2c != NULL)
		c->u2c->lim = c->u2c->end;
	conn_timer_arm(c, CONN_TIMER_LINGER);
	conn_set_state(c, CONN_ST_ABORT);
	return CONN_NEXT_AGAIN;
}

/* Bytes the client's kernel still holds, unsent or unacknowledged; 0 where
 * that cannot be asked (the reset then follows the flush at once). */
static int client_unsent(const struct conn *c)
{
#ifdef SIOCOUTQ
	int n = 0;

	if (ioctl(c->cli.fd, SIOCOUTQ, &n) == -1)
		return 0;
	return n;
#else
	(void)c;
	return 0;
#endif
}

/* Splices the pipe to the client. Returns bytes moved, -EAGAIN when the
 * client is full, or -errno. */
static ssize_t drain_pipe(struct conn *c)
{
	struct worker *w = c->w;
	ssize_t n = pipe_drain(c->pipe, c->cli.fd);

	if (n == -EAGAIN || (n > 0 && c->pipe->bytes > 0))
		conn_write_blocked(c, &c->cli);
	if (n <= 0)
		return n;
	c->bytes_out += (uint64_t)n;
	STAT_ADD(w->stats.bytes_out, n);
	STAT_ADD(w->stats.bytes_spliced, n);
	return n;
}

/* Gives back the pipe and the buffer once they are empty (a relay may leave
 * an empty pipe behind: taken for a read that failed). */
static void put_empty(struct conn *c)
{
	if (c->pipe != NULL && c->pipe->bytes == 0) {
		pipe_put(&c->w->pipes, c->pipe);
		c->pipe = NULL;
	}
	if (c->u2c != NULL && c->u2c->start == c->u2c->end) {
		buf_put(&c->w->bufs, c->u2c);
		c->u2c = NULL;
	}
}

enum conn_next conn_st_abort(struct conn *c)
{
	ssize_t n = 0;

	/* the pipe first: bytes stay in order (the relays never fill the
	 * buffer while the pipe holds bytes) */
	for (;;) {
		put_empty(c);
		if (!c->cli.writable || (c->pipe == NULL && c->u2c == NULL))
			break;
		n = c->pipe != NULL ? drain_pipe(c) : conn_write(c, &c->cli, &c->u2c);
		if (n <= 0)
			break; /* full (or nothing sendable), or the client went away */
	}
	if (n >= 0 || n == -EAGAIN) {
		if (c->pipe != NULL || c->u2c != NULL)
			return CONN_NEXT_WAIT; /* (under CONN_TIMER_LINGER from conn_abort) */
		conn_uncork(c, 1);
		/* resetting now would discard what the client has not got yet */
		if (c->w->now < c->reset_by && client_unsent(c) > 0) {
			conn_timer_arm(c, CONN_TIMER_ABORT);
			return CONN_NEXT_WAIT;
		}
	}
	conn_reset(c, (enum conn_close_reason)c->reason, c->err);
	return CONN_NEXT_CLOSED;
}

void conn_abort_timeout(struct conn *c, enum conn_timer t)
{
	if (t == CONN_TIMER_ABORT && c->w->now < c->reset_by) {
		conn_run(c); /* looks again: re-arms, or resets */
		return;
	}
	conn_reset(c, (enum conn_close_reason)c->reason, c->err);
}
