/*
 * conn_abort.c — ending a leg with a reset, and the ABORT state.
 *
 * One leg of a flow reset (or failed) while bytes were in flight: a peer
 * talking to the other side directly would get every byte sent before the
 * reset, then the reset itself, never the FIN that makes a cut transfer look
 * complete. So ABORT hands the other leg what Remora still holds for it, and
 * once that leg's kernel send queue has drained (SIOCOUTQ; at most
 * CONFIG_LINGER_MS, or until it goes away) resets it:
 *   - the origin reset after response bytes may have gone out (a tunnel, a
 *     started response): the client gets the relay buffer and the splice
 *     pipe held for it (CONN_ABORT_CLIENT);
 *   - the client reset while a tunnel or an exchange is open upstream: the
 *     origin gets what is held of the client's bytes, a rewritten head, the
 *     relay buffer, the splice pipe (CONN_ABORT_UPSTREAM, conn_client_failed).
 * What is held for the leg that reset is dropped. Owning worker only.
 */
#include "remora-config.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#ifdef __linux__
#include <linux/sockios.h>
#endif

#include "conn_int.h"
#include "stats.h"
#include "worker.h"

static const struct linger linger_reset = {.l_onoff = 1, .l_linger = 0};

void conn_reset(struct conn *c, enum conn_close_reason reason, int err)
{
	if (c->cli.fd >= 0)
		(void)setsockopt(c->cli.fd, SOL_SOCKET, SO_LINGER, &linger_reset,
				 sizeof(linger_reset));
	conn_close(c, reason, err);
}

void conn_reset_upstream(struct conn *c)
{
	(void)setsockopt(c->up.fd, SOL_SOCKET, SO_LINGER, &linger_reset, sizeof(linger_reset));
	conn_close_upstream(c);
}

/* Both messages of the last exchange on an upstream connection are through
 * and the origin has closed its side too: nothing more can come on it, so it
 * ends with a reset instead of our FIN and the origin's last ACK (two packets
 * fewer; the origin keeps no TIME_WAIT for the subscriber's 4-tuple, which
 * its next flow may reuse). Resetting before the origin's FIN is in would let
 * that FIN reach a router with no socket for it — routed on towards the
 * subscriber — so until then the socket stays open (LINGER reads it). */
void conn_finish_upstream(struct conn *c)
{
	if (c->up.fd < 0)
		return;
	if (c->up.eof || c->up.hup)
		conn_reset_upstream(c);
	else
		c->up_wait_fin = 1;
}

/* ---- what ABORT holds for the leg it delivers to ------------------------- */
static struct conn_side *abort_to(struct conn *c)
{
	return (c->flags & CONN_F_ABORT_UP) ? &c->up : &c->cli;
}

/* Spliced bytes for that leg. They go first: the relays never fill a
 * direction's buffer while its pipe holds bytes. */
static struct rpipe **abort_pipe(struct conn *c)
{
	return (c->flags & CONN_F_ABORT_UP) ? &c->pipe_c2u : &c->pipe;
}

/* The buffer whose bytes go to that leg next: to the origin, a rewritten
 * head before the client's bytes. */
static struct buf **abort_buf(struct conn *c)
{
	if (!(c->flags & CONN_F_ABORT_UP))
		return &c->u2c;
	return c->pre != NULL ? &c->pre : &c->c2u;
}

/* Drops what is held for the origin / for the client. */
static void drop_c2u(struct conn *c)
{
	buf_put(&c->w->bufs, c->c2u);
	buf_put(&c->w->bufs, c->pre);
	c->c2u = c->pre = NULL;
	pipe_put(&c->w->pipes, c->pipe_c2u);
	c->pipe_c2u = NULL;
}

static void drop_u2c(struct conn *c)
{
	buf_put(&c->w->bufs, c->u2c);
	c->u2c = NULL;
	pipe_put(&c->w->pipes, c->pipe);
	c->pipe = NULL;
}

/* Of the client's bytes Remora holds, what a direct origin would have got:
 * in a tunnel all of them (a sniffing tunnel's only once committed: a held
 * first line may be a request); in an exchange its request's [start, lim)
 * (what follows is a next request, never checked), and while a TLS hello
 * waits for the server's answer what passed the watch (conn_tls.c). Nothing in other states
 * (a head or a hello being read has passed no policy), nor once the
 * upstream's write side is shut or broken. */
static void keep_sendable(struct conn *c)
{
	int tunnel = c->state == CONN_ST_TUNNEL &&
		     (!(c->flags & CONN_F_SNIFFING) || (c->flags & CONN_F_COMMITTED));

	if ((!tunnel && c->state != CONN_ST_EXCHANGE && c->state != CONN_ST_TLS_FLIGHT) ||
	    c->up.shut || (c->flags & CONN_F_UP_WR_SHUT))
		drop_c2u(c);
	else if (c->c2u != NULL && tunnel)
		c->c2u->lim = c->c2u->end;
	else if (c->c2u != NULL)
		c->c2u->end = c->c2u->lim;
}

enum conn_next conn_abort(struct conn *c, enum conn_abort_to to, enum conn_close_reason reason,
			  int err)
{
	struct worker *w = c->w;

	c->reason = (uint8_t)reason;
	c->err = err;
	c->close_state = c->state;
	c->reset_by = w->now + CONFIG_LINGER_MS;
	if (to == CONN_ABORT_CLIENT) {
		conn_close_upstream(c); /* dead: nothing more comes from it */
		drop_c2u(c);
		/* the origin sent all of it: a partly parsed rest goes on as it came */
		if (c->u2c != NULL)
			c->u2c->lim = c->u2c->end;
	} else {
		/* (the client's fd stays open until the close: the log names it) */
		c->flags |= CONN_F_ABORT_UP;
		drop_u2c(c);
		keep_sendable(c);
		conn_uncork(c, 0);
	}
	conn_timer_arm(c, CONN_TIMER_LINGER);
	conn_set_state(c, CONN_ST_ABORT);
	return CONN_NEXT_AGAIN;
}

enum conn_next conn_client_failed(struct conn *c, int err)
{
	if (err == ENOMEM) {
		conn_close(c, CONN_CLOSE_NO_MEMORY, err);
		return CONN_NEXT_CLOSED;
	}
	/* nothing open upstream, or a connect still pending (directly, the
	 * client's own connect would have ended there): nothing goes to the
	 * origin */
	if (c->up.fd < 0 || c->state == CONN_ST_UP_CONNECT) {
		conn_close(c, CONN_CLOSE_CLIENT_RESET, err);
		return CONN_NEXT_CLOSED;
	}
	/* a kept-alive upstream between exchanges: nothing is cut, nothing to
	 * flush; directly, the origin would see this reset, not a FIN */
	if (c->state == CONN_ST_REQ_HEAD && (c->flags & CONN_F_SERVED)) {
		conn_reset_upstream(c);
		conn_close(c, CONN_CLOSE_CLIENT_RESET, err);
		return CONN_NEXT_CLOSED;
	}
	return conn_abort(c, CONN_ABORT_UPSTREAM, CONN_CLOSE_CLIENT_RESET, err);
}

int conn_client_error(struct conn *c, enum conn_next *next)
{
	socklen_t len = sizeof(int);
	int err = 0;

	c->cli.failed = 0;
	if (getsockopt(c->cli.fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err == 0)
		return 0;
	*next = conn_client_failed(c, err);
	return 1;
}

/* ---- ABORT --------------------------------------------------------------- */
/* Bytes s's kernel still holds, unsent or unacknowledged; 0 where that
 * cannot be asked (the reset then follows the flush at once). */
static int unsent(const struct conn_side *s)
{
#ifdef SIOCOUTQ
	int n = 0;

	if (ioctl(s->fd, SIOCOUTQ, &n) == -1)
		return 0;
	return n;
#else
	(void)s;
	return 0;
#endif
}

/* Splices p to s. Returns bytes moved, -EAGAIN when s is full, or -errno. */
static ssize_t drain_pipe(struct conn *c, struct conn_side *s, struct rpipe *p)
{
	struct worker *w = c->w;
	ssize_t n = pipe_drain(p, s->fd);

	if (n == -EAGAIN || (n > 0 && p->bytes > 0))
		conn_write_blocked(c, s);
	if (n <= 0 || s != &c->cli)
		return n;
	c->bytes_out += (uint64_t)n;
	STAT_ADD(w->stats.bytes_out, n);
	STAT_ADD(w->stats.bytes_spliced, n);
	return n;
}

/* Gives back the pipe and the buffers once they are empty (a relay may
 * leave an empty pipe behind: taken for a read that failed). */
static void put_empty(struct conn *c)
{
	struct rpipe **pp = abort_pipe(c);
	struct buf **bp;

	if (*pp != NULL && (*pp)->bytes == 0) {
		pipe_put(&c->w->pipes, *pp);
		*pp = NULL;
	}
	for (bp = abort_buf(c); *bp != NULL && (*bp)->start == (*bp)->end; bp = abort_buf(c)) {
		buf_put(&c->w->bufs, *bp);
		*bp = NULL;
	}
}

/* A tunnel's client reset seen on a send to it (or with the relay holding
 * bytes for the origin) leaves the bytes it sent before unread in the
 * kernel: they are read (the reads end in the error or EOF) and go too. Not
 * in an exchange (its bytes are framed) nor a sniffing tunnel (classified).
 * Returns bytes read into c2u (0: nothing more comes). */
static ssize_t refill(struct conn *c)
{
	ssize_t n;

	if (!(c->flags & CONN_F_ABORT_UP) || c->close_state != CONN_ST_TUNNEL ||
	    (c->flags & CONN_F_SNIFFING) || c->up.shut || c->cli.eof || !c->cli.readable)
		return 0;
	n = conn_read(c, &c->cli, &c->c2u);
	if (n <= 0) {
		c->cli.readable = 0; /* the error (or EOF): the rest is gone */
		return 0;
	}
	c->c2u->lim = c->c2u->end;
	return n;
}

/* The leg ABORT delivered to is reset, and c closes. */
static void abort_end(struct conn *c)
{
	if (c->flags & CONN_F_ABORT_UP) {
		conn_reset_upstream(c);
		conn_close(c, (enum conn_close_reason)c->reason, c->err);
	} else {
		conn_reset(c, (enum conn_close_reason)c->reason, c->err);
	}
}

enum conn_next conn_st_abort(struct conn *c)
{
	struct conn_side *to = abort_to(c);
	struct rpipe **pp = abort_pipe(c);
	long moved = 0;
	ssize_t n = 0;

	for (;;) {
		put_empty(c);
		if (to->failed)
			break; /* that leg was reset too: nothing reaches it any more */
		if (*pp == NULL && *abort_buf(c) == NULL && refill(c) == 0)
			break; /* all handed over */
		if (!to->writable)
			break;
		n = *pp != NULL ? drain_pipe(c, to, *pp) : conn_write(c, to, abort_buf(c));
		if (n <= 0)
			break; /* full (or nothing sendable), or the leg went away */
		moved += n;
		if (moved >= RELAY_BUDGET)
			return CONN_NEXT_YIELD;
	}
	/* (a failed leg takes nothing and acknowledges nothing: its queue
	 * would never drain, so there is nothing to wait for) */
	if (!to->failed && (n >= 0 || n == -EAGAIN)) {
		if (*pp != NULL || *abort_buf(c) != NULL)
			return CONN_NEXT_WAIT; /* (under CONN_TIMER_LINGER from conn_abort) */
		conn_uncork(c, 1);
		/* resetting now would discard what the leg has not got yet */
		if (c->w->now < c->reset_by && unsent(to) > 0) {
			conn_timer_arm(c, CONN_TIMER_ABORT);
			return CONN_NEXT_WAIT;
		}
	}
	abort_end(c);
	return CONN_NEXT_CLOSED;
}

void conn_abort_timeout(struct conn *c, enum conn_timer t)
{
	if (t == CONN_TIMER_ABORT && c->w->now < c->reset_by) {
		conn_run(c); /* looks again: re-arms, or resets */
		return;
	}
	abort_end(c);
}
