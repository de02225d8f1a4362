/*
 * conn.c — the connection state machine (see conn.h and docs/architecture.md):
 * life cycle, socket I/O, the transport states (RESOLVE, UP_CONNECT, TUNNEL,
 * LINGER; FIRST_BYTES in conn_first.c) and the driver. Protocols (HTTP in
 * conn_http.c, the tunnel) plug in through struct conn_proto: nothing here
 * names their states or functions.
 *
 * Every state is one function `conn_st_<state>()` returning what to do next;
 * conn_run() is the driver and conn_set_state() the only way to move.
 */
#include "remora-config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <urcu/uatomic.h>

#include "accesslog.h"
#include "conn_int.h"
#include "log.h"
#include "stats.h"
#include "util.h"
#include "worker.h"

/* State runs per conn_run() before it yields. */
#define STATE_BUDGET 16

static const struct {
	const char *token;
	enum log_level level;
	const char *desc;
} close_reasons[] = {
#define CONN_CLOSE_ROW(name, token, lvl, desc) {token, lvl, desc},
	CONN_CLOSE_REASONS(CONN_CLOSE_ROW)
#undef CONN_CLOSE_ROW
};

static const char *const state_names[] = {
#define CONN_ST_ROW(name, desc) desc,
	CONN_STATES(CONN_ST_ROW)
#undef CONN_ST_ROW
};

const char *conn_state_name(enum conn_state st)
{
	return st < CONN_ST_MAX ? state_names[st] : "?";
}

const char *conn_close_token(enum conn_close_reason r)
{
	return r < CONN_CLOSE_MAX ? close_reasons[r].token : "?";
}

struct conn *conn_new(int fd, const union ic_addr *peer, const struct listener_conf *lc,
		      struct config *cfg)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	cds_wfcq_node_init(&c->qnode);
	CDS_INIT_LIST_HEAD(&c->tlink);
	CDS_INIT_LIST_HEAD(&c->clink);
	c->cli.kind = c->up.kind = POLL_KIND_CONN;
	c->cli.fd = fd;
	c->cli.c = c;
	c->up.fd = -1;
	c->up.c = c;
	c->peer = *peer;
	ic_addr_unmap(&c->peer);
	c->lc = lc;
	c->cfg = config_get(cfg);
	c->start_ms = now_ms(); /* accepted: the worker may take it up to WORKER_PICKUP_MS later */
	c->queued = 1;
	c->state = CONN_ST_FIRST_BYTES;
	http_sniff_init(&c->sniff);
	return c;
}

void conn_free_unstarted(struct conn *c)
{
	close(c->cli.fd);
	config_put(c->cfg);
	free(c);
}

void conn_set_state(struct conn *c, enum conn_state st)
{
	log_debug("conn %u.%llu: %s -> %s", c->w->id, (unsigned long long)c->id,
		  conn_state_name(c->state), conn_state_name(st));
	c->state = (uint8_t)st;
}

_Static_assert(CONN_TIMER_MAX <= sizeof(((struct config *)0)->timeout_ms) / sizeof(uint32_t),
	       "struct config's timeout_ms is too small");

void conn_timer_arm(struct conn *c, enum conn_timer t)
{
	struct worker *w = c->w;
	uint64_t deadline;

	/* a tunnel without keep-alive yet waits the first part of its quiet
	 * time: keep-alive goes on when that passes (tunnel_quiet) */
	if (t == CONN_TIMER_TUNNEL && !(c->flags & CONN_F_KEEPALIVE))
		t = CONN_TIMER_QUIET;
	deadline = w->now + c->cfg->timeout_ms[t];

	if (c->timer == t && c->deadline == deadline)
		return; /* same tick: already in place */
	cds_list_del(&c->tlink);
	c->timer = (uint8_t)t;
	c->deadline = deadline;
	worker_timer_insert(w, c);
}

void conn_start(struct worker *w, struct conn *c)
{
	int err;

	c->w = w;
	c->proto = w->protos[CONN_PROTO_TUNNEL]; /* until the first bytes decide */
	c->id = ++w->next_id;
	if (c->start_ms > w->now)
		c->start_ms = w->now; /* (the acceptor read the clock after our loop did) */
	c->timer = CONN_TIMER_FIRST;
	c->deadline = c->start_ms + c->cfg->timeout_ms[CONN_TIMER_FIRST];
	worker_timer_insert(w, c);
	w->nconns++;
	STAT_INC(w->stats.accepted);
	if (!c->cli.registered) {
		err = poller_add(w->poller, c->cli.fd, POLLER_IN | POLLER_ET, &c->cli);
		if (err < 0) {
			conn_close(c, CONN_CLOSE_POLLER, -err);
			return;
		}
		c->cli.registered = 1;
		/* the request often arrives with the handshake: try before waiting */
		c->cli.readable = 1;
	}
	/* (registered by the acceptor: an event says when there is something
	 * to read, and conn_on_event kept it) A new socket can be written. */
	c->cli.writable = 1;
	conn_run(c);
}

void conn_write_blocked(struct conn *c, struct conn_side *s)
{
	s->writable = 0;
	if (s->out_armed)
		return;
	/* (fails only without kernel memory: then c waits for its timer, as
	 * callers cannot take a close in the middle of a write) */
	if (poller_set(c->w->poller, s->fd, POLLER_IN | POLLER_OUT | POLLER_ET, s) == 0)
		s->out_armed = 1;
}

static void log_close(struct conn *c, enum conn_close_reason reason, int err)
{
	char peer[IC_ADDR_STRLEN], dst[IC_ADDR_STRLEN] = "?", status[16] = "", detail[96] = "";

	ic_addr_format(&c->peer, peer, sizeof(peer));
	if (c->cli.fd >= 0 && conn_lookup_dst(c) == 0)
		ic_addr_format(&c->dst, dst, sizeof(dst));
	if (c->status != 0)
		snprintf(status, sizeof(status), " [%u]", c->status);
	if (err > 0)
		snprintf(detail, sizeof(detail), " (%d: %s)", err, strerror(err));
	else if (err < 0)
		snprintf(detail, sizeof(detail), " (%s)", http_error_str((enum http_error) - err));
	log_msg(close_reasons[reason].level,
		"conn %u.%llu %s -> %s [%s] closed while %s: %s: %s%s%s", c->w->id,
		(unsigned long long)c->id, peer, dst, c->lc->name,
		conn_state_name(c->state == CONN_ST_LINGER || c->state == CONN_ST_ABORT
					? c->close_state
					: c->state),
		close_reasons[reason].token, close_reasons[reason].desc, status, detail);
}

void conn_close_upstream(struct conn *c)
{
	if (c->up.fd >= 0)
		close(c->up.fd);
	c->up.fd = -1;
	c->up.readable = c->up.writable = c->up.eof = c->up.shut = c->up.hup = c->up.failed = 0;
	c->up.registered = c->up.out_armed = 0;
	c->flags &= (uint16_t)~CONN_F_UP_WR_SHUT;
}

/* LINGER with a finished upstream still open: wait for the origin's FIN. */
static void linger_upstream(struct conn *c)
{
	char sink[64];
	ssize_t n;

	while (c->up.readable || c->up.hup) {
		n = recv(c->up.fd, sink, sizeof(sink), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->up.readable = 0;
			return;
		}
		if (n > 0)
			conn_close_upstream(c); /* bytes after a complete response:
						 * not worth waiting for the FIN */
		else
			conn_reset_upstream(c); /* the FIN (or an error): nothing more comes */
		return;
	}
}

/* err: > 0 an errno, < 0 a negated enum http_error, 0 none. */
void conn_close(struct conn *c, enum conn_close_reason reason, int err)
{
	struct worker *w = c->w;

	if (c->state == CONN_ST_CLOSED)
		return;
	if (log_enabled(close_reasons[reason].level))
		log_close(c, reason, err);
	if (alog_enabled(w->alog))
		c->proto->log_close(c, reason);
	c->reason = (uint8_t)reason;
	c->err = err;
	STAT_INC(w->stats.closed[reason]);
	/* close() also removes the fds from the poller */
	close(c->cli.fd);
	c->cli.fd = -1;
	conn_close_upstream(c);
	buf_put(&w->bufs, c->c2u);
	buf_put(&w->bufs, c->u2c);
	buf_put(&w->bufs, c->pre);
	c->c2u = c->u2c = c->pre = NULL;
	pipe_put(&w->pipes, c->pipe);
	pipe_put(&w->pipes, c->pipe_c2u);
	c->pipe = c->pipe_c2u = NULL;
	c->proto->release(c);
	cds_list_del_init(&c->tlink);
	conn_uncork(c, 0); /* the fd is closed: the kernel sends what it held */
	conn_set_state(c, CONN_ST_CLOSED);
	w->nconns--;
	ATOMIC_SUB(w->load, 1);
	/* stale-event rule: events later in this batch may still name c */
	c->next_dead = w->dead;
	w->dead = c;
}

void conn_free(struct conn *c)
{
	REMORA_ASSERT(c->state == CONN_ST_CLOSED);
	if (c->queued) {
		c->free_on_take = 1; /* take_hand_offs (worker.c) frees it */
		return;
	}
	if (c->client_slot != NULL)
		ATOMIC_SUB(*c->client_slot, 1);
	config_put(c->cfg);
	free(c);
}

ssize_t conn_read(struct conn *c, struct conn_side *s, struct buf **bp)
{
	struct buf *b = *bp;
	size_t want;
	ssize_t n;

	if (b == NULL) {
		b = *bp = buf_get(&c->w->bufs);
		if (b == NULL)
			return -ENOMEM;
	}
	if (buf_room(b) == 0)
		buf_compact(b);
	if (buf_room(b) == 0)
		return -ENOBUFS; /* callers check for a full buffer first */
	want = buf_room(b);
	n = recv(s->fd, b->data + b->end, want, 0);
	if (n > 0) {
		b->end += (uint32_t)n;
		if (s == &c->cli) {
			STAT_ADD(c->w->stats.bytes_in, n);
			c->bytes_in += (uint64_t)n;
		}
		/* a short read drained the socket: edge-triggered polling reports
		 * the next arrival (or EOF) as a new event, so skip the EAGAIN read */
		if ((size_t)n < want && !s->hup)
			s->readable = 0;
		return n;
	}
	if (n == 0) {
		s->eof = 1;
		s->readable = 0;
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		s->readable = 0;
		return -EAGAIN;
	}
	return errno == EINTR ? -EAGAIN : -errno;
}

#ifndef MSG_MORE
#define MSG_MORE 0 /* BSD: no such hint; every write is pushed */
#endif

void conn_cork(struct conn *c)
{
	if (c->flags & CONN_F_CORKED)
		return;
	c->flags |= CONN_F_CORKED;
	c->cork_deadline = now_us() + CONN_CORK_MS * 1000;
	cds_list_add_tail(&c->clink, &c->w->corked);
}

void conn_cork_expired(struct conn *c)
{
	conn_uncork(c, 1);
	if (c->state != CONN_ST_CLOSED)
		conn_run(c); /* bytes held in the relay buffer go out now */
}

void conn_uncork(struct conn *c, int push)
{
	int one = 1;

	if (!(c->flags & CONN_F_CORKED))
		return;
	c->flags &= (uint16_t)~CONN_F_CORKED;
	cds_list_del_init(&c->clink);
	/* setting TCP_NODELAY (again) sends whatever the socket holds back */
	if (push && c->cli.fd >= 0)
		(void)setsockopt(c->cli.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

ssize_t conn_write(struct conn *c, struct conn_side *s, struct buf **bp)
{
	return conn_write_more(c, s, bp, 0);
}

ssize_t conn_write_more(struct conn *c, struct conn_side *s, struct buf **bp, int more)
{
	struct buf *b = *bp;
	ssize_t n;

	if (b == NULL || b->lim == b->start)
		return 0;
	n = send(s->fd, b->data + b->start, b->lim - b->start,
		 more ? MSG_NOSIGNAL | MSG_MORE : MSG_NOSIGNAL);
	if (n >= 0) {
		if (s == &c->cli) {
			c->flags |= CONN_F_RSP_STARTED; /* no generated status after this */
			c->bytes_out += (uint64_t)n;
			STAT_ADD(c->w->stats.bytes_out, n);
			if (more)
				conn_cork(c);
			else
				conn_uncork(c, 0); /* this send pushed the held bytes too */
		}
		if ((uint32_t)n < b->lim - b->start)
			conn_write_blocked(c, s); /* short write: the socket buffer is full */
		b->start += (uint32_t)n;
		if (b->start == b->end) {
			buf_put(&c->w->bufs, b);
			*bp = NULL;
		}
		return n;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		conn_write_blocked(c, s);
		return -EAGAIN;
	}
	return errno == EINTR ? -EAGAIN : -errno;
}

/* ---- entering a tunnel --------------------------------------------------- */
/* TCP keep-alive on a leg that may stay quiet for long (tunnels): a peer
 * that vanished is found in minutes, not at the tunnel timeout. Set once a
 * tunnel has been quiet for CONFIG_TUNNEL_QUIET_MS; the kernel counts the
 * idle time from the last segment received, so the first probe still comes
 * after 5 minutes of quiet in all. */
static void set_keepalive(int fd)
{
	int on = 1, idle = 300, intvl = 30, cnt = 4;

	if (fd < 0)
		return;
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
#ifdef TCP_KEEPIDLE
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
#else
	(void)idle, (void)intvl, (void)cnt;
#endif
}

/* The first part of a tunnel's (or a paused response body's) quiet time
 * passed: keep-alive on both legs, then the rest of [timeouts] tunnel. */
static void tunnel_quiet(struct conn *c)
{
	if (c->cfg->timeout_ms[CONN_TIMER_QUIET_REST] == 0 ||
	    (!(c->flags & CONN_F_TUNNEL) && c->state != CONN_ST_EXCHANGE)) {
		conn_close(c, CONN_CLOSE_IDLE_TIMEOUT, 0);
		return;
	}
	c->flags |= CONN_F_KEEPALIVE;
	set_keepalive(c->cli.fd);
	set_keepalive(c->up.fd);
	conn_timer_arm(c, CONN_TIMER_QUIET_REST);
}

void conn_enter_tunnel(struct conn *c)
{
	c->flags |= CONN_F_TUNNEL;
	/* a sniffing tunnel where nothing moved yet stays under the header
	 * timeout: a silent client is not worth an hour */
	conn_timer_arm(c, (c->flags & CONN_F_SNIFFING) && c->bytes_out == 0 ? CONN_TIMER_HEADER
									    : CONN_TIMER_TUNNEL);
	conn_set_state(c, CONN_ST_TUNNEL);
}

/* ---- RESOLVE ------------------------------------------------------------- */
/* Loop guard: is the destination one of the listeners of our configuration? */
static int dst_is_own_listener(const struct conn *c)
{
	size_t i;

	for (i = 0; i < c->cfg->n_listeners; i++)
		if (ic_addr_is_listener(&c->dst, &c->cfg->listeners[i].addr, 1))
			return 1;
	return 0;
}

int conn_lookup_dst(struct conn *c)
{
	int err;

	if (c->dst.sa.sa_family != 0)
		return 0;
	err = ic_orig_dst(c->cli.fd, c->lc->mode, &c->peer, &c->dst);
	if (err < 0) {
		memset(&c->dst, 0, sizeof(c->dst));
		return err;
	}
	ic_addr_unmap(&c->dst);
	return 0;
}

static enum conn_next conn_st_resolve(struct conn *c)
{
	int err = conn_lookup_dst(c);

	if (err < 0) {
		conn_close(c, CONN_CLOSE_ORIG_DST_FAILED, -err);
		return CONN_NEXT_CLOSED;
	}
	if (dst_is_own_listener(c)) {
		conn_close(c, CONN_CLOSE_LOOP_GUARD, 0);
		return CONN_NEXT_CLOSED;
	}
	if (worker_dst_is_forbidden(c->w, &c->dst)) {
		conn_close(c, CONN_CLOSE_DST_FORBIDDEN, 0);
		return CONN_NEXT_CLOSED;
	}
	if (!config_acl_allows(c->cfg, &c->peer, &c->dst))
		return c->proto->refuse(c, 403, CONN_CLOSE_ACL_DENIED, 0);
	c->flags |= CONN_F_RESOLVED;
	return c->proto->resolved(c);
}

/* ---- UP_CONNECT ---------------------------------------------------------- */
static enum conn_close_reason connect_reason(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return CONN_CLOSE_UPSTREAM_REFUSED;
	case ENETUNREACH:
	case EHOSTUNREACH:
	case ENETDOWN:
	case EHOSTDOWN:
		return CONN_CLOSE_UPSTREAM_UNREACHABLE;
	case ETIMEDOUT:
		return CONN_CLOSE_CONNECT_TIMEOUT;
	default:
		return CONN_CLOSE_UPSTREAM_CONNECT_FAILED;
	}
}

/* A failed connect: the client connection is reset, as a refused or
 * unreachable origin looks to a client directly; with [http] upstream_errors
 * = status, HTTP clients get 502 (504 for a timeout) instead. */
static enum conn_next connect_failed(struct conn *c, enum conn_close_reason reason, int err)
{
	int e = reason == CONN_CLOSE_CONNECT_TIMEOUT ? ETIMEDOUT : err;

	if (e > 0 && e < WORKER_ERRNO_MAX)
		STAT_INC(c->w->stats.connect_errno[e]);
	if (c->cfg->upstream_errors == UPSTREAM_ERRORS_RESET) {
		conn_reset(c, reason, err);
		return CONN_NEXT_CLOSED;
	}
	return c->proto->refuse(c, reason == CONN_CLOSE_CONNECT_TIMEOUT ? 504 : 502, reason, err);
}

static enum conn_next conn_st_up_connect(struct conn *c)
{
	struct worker *w = c->w;
	socklen_t len = sizeof(int);
	enum conn_next next;
	int fd, err = 0;

	if (c->up.fd < 0) {
		struct ic_connect_stats st = {0, 0};

		c->up_start_us = histo_now();
		fd = ic_upstream_connect(&c->dst, &c->peer, c->lc->spoof, &st);
		STAT_ADD(w->stats.connect.bind_collisions, st.bind_collisions);
		STAT_ADD(w->stats.connect.port_exhaustions, st.port_exhaustions);
		if (fd < 0) {
			if (fd == -ECONNREFUSED || fd == -ENETUNREACH || fd == -EHOSTUNREACH)
				return connect_failed(c, connect_reason(-fd), -fd);
			return connect_failed(c, CONN_CLOSE_UPSTREAM_SOCKET, -fd);
		}
		c->up.fd = fd;
		err = poller_add(w->poller, fd, POLLER_IN | POLLER_OUT | POLLER_ET, &c->up);
		if (err < 0) {
			conn_close(c, CONN_CLOSE_POLLER, -err);
			return CONN_NEXT_CLOSED;
		}
		c->up.registered = c->up.out_armed = 1;
		conn_timer_arm(c, CONN_TIMER_CONNECT);
		return CONN_NEXT_WAIT;
	}
	/* the client reset while the origin had not answered yet */
	if (c->cli.failed && conn_client_error(c, &next))
		return next;
	if (!c->up.writable)
		return CONN_NEXT_WAIT;
	/* writable with no error or hang-up reported: connected, nothing to ask */
	if (c->up.hup && getsockopt(c->up.fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == EINPROGRESS || err == EALREADY) {
		c->up.writable = 0;
		return CONN_NEXT_WAIT;
	}
	if (err != 0)
		return connect_failed(c, connect_reason(err), err);
	histo_since(&w->histo, HISTO_CONNECT, c->lc->metrics_slot, &c->up_start_us);
	return c->proto->connected(c);
}

/* ---- TUNNEL -------------------------------------------------------------- */
/* A tunnel direction starts by copying through its buffer (recv and send are
 * cheaper than two splices for small exchanges: requests, TLS handshakes).
 * Once a read fills the whole free room of the buffer it carries bulk, and
 * moves by splice() through a pooled pipe (CONN_F_SPLICE_*) from the moment
 * the buffer is written out; a splice that moves less than this sends it back
 * to copying once the pipe is empty. Bytes stay in order: nothing is read
 * while the buffer or the pipe holds bytes for the other way of moving. */
#define TUNNEL_SPLICE_MIN (4 * 1024)

/* One direction of a tunnel. */
struct tunnel_way {
	struct conn_side *from, *to;
	struct buf **bp;   /* copied bytes (c->c2u or c->u2c) */
	struct rpipe **pp; /* spliced bytes (c->pipe_c2u or c->pipe) */
	uint16_t splice;   /* CONN_F_SPLICE_* of this direction */
	enum conn_close_reason reset_from, reset_to;
};

/* Splices what *t->pp holds to t->to; gives the pipe back once it is empty.
 * Returns bytes moved (0 if t->to is full), or -errno of a write error. */
static ssize_t tunnel_drain(struct conn *c, const struct tunnel_way *t)
{
	struct rpipe *p = *t->pp;
	ssize_t n = 0;

	if (p->bytes > 0 && t->to->writable) {
		n = pipe_drain(p, t->to->fd);
		if (n == -EAGAIN || (n > 0 && p->bytes > 0))
			conn_write_blocked(c, t->to);
		if (n == -EAGAIN)
			n = 0;
		if (n < 0)
			return n;
		if (n > 0 && t->to == &c->cli) {
			c->flags |= CONN_F_RSP_STARTED;
			conn_uncork(c, 0);
			c->bytes_out += (uint64_t)n;
			STAT_ADD(c->w->stats.bytes_out, n);
			STAT_ADD(c->w->stats.bytes_spliced, n);
		}
	}
	if (p->bytes == 0) {
		pipe_put(&c->w->pipes, p);
		*t->pp = NULL;
	}
	return n;
}

/* Splices what t->from has into a pipe taken from the pool (the direction's
 * buffer and pipe are empty). Returns bytes moved, 0 at EOF, -EAGAIN when
 * from is drained, -ENOBUFS when no pipe could be had (the direction goes
 * back to copying), or another -errno. */
static ssize_t tunnel_splice_in(struct conn *c, const struct tunnel_way *t)
{
	struct worker *w = c->w;
	ssize_t n;

	*t->pp = pipe_get(&w->pipes);
	if (*t->pp == NULL) {
		c->flags &= (uint16_t)~t->splice;
		return -ENOBUFS;
	}
	n = pipe_fill(*t->pp, t->from->fd, w->pipes.size);
	if (n > 0) {
		if (t->from == &c->cli) {
			c->bytes_in += (uint64_t)n;
			STAT_ADD(w->stats.bytes_in, n);
			STAT_ADD(w->stats.bytes_spliced_in, n);
		}
		if (n < TUNNEL_SPLICE_MIN)
			c->flags &= (uint16_t)~t->splice; /* copy once the pipe is out */
		return n;
	}
	pipe_put(&w->pipes, *t->pp); /* empty: back to the pool */
	*t->pp = NULL;
	/* only EAGAIN says from is drained: a short splice may just have run
	 * out of pipe pages */
	if (n == 0)
		t->from->eof = 1;
	if (n == 0 || n == -EAGAIN)
		t->from->readable = 0;
	return n;
}

/* Reads from t->from into the direction's buffer; a read that fills its
 * whole free room turns the direction to splicing (unless the pipe pool is
 * broken, or the client's bytes are still being classified). Same returns
 * as conn_read; -ENOBUFS when the buffer is full. */
static ssize_t tunnel_copy_in(struct conn *c, const struct tunnel_way *t)
{
	struct buf *b = *t->bp;
	ssize_t n;

	if (b != NULL && buf_room(b) == 0 && b->start == 0)
		return -ENOBUFS;
	n = conn_read(c, t->from, t->bp);
	if (n > 0 && buf_room(*t->bp) == 0 && HAVE_SPLICE && !c->w->pipes.broken &&
	    !(t->from == &c->cli && (c->flags & CONN_F_SNIFFING)))
		c->flags |= t->splice;
	return n;
}

/* Moves bytes t->from -> t->to, copying or splicing (see above), until both
 * stall or the budget is spent. Backpressure: nothing is read while the
 * buffer is full or the pipe holds bytes. Propagates EOF as shutdown(SHUT_WR)
 * once buffer and pipe are drained. Returns bytes moved, or -1 after closing
 * c (or, when either side reset, moving it to ABORT). */
static long tunnel_dir(struct conn *c, const struct tunnel_way *t)
{
	enum conn_close_reason reason;
	struct buf **bp = t->bp;
	long moved = 0;
	ssize_t n;

	for (;;) {
		if (*t->pp != NULL) {
			n = tunnel_drain(c, t);
			if (n < 0)
				goto write_error;
			moved += n;
		} else if (*bp != NULL) {
			(*bp)->lim = (*bp)->end; /* a tunnel has no message boundaries */
			if (t->to->writable) {
				n = conn_write(c, t->to, bp);
				if (n > 0)
					moved += n;
				else if (n < 0 && n != -EAGAIN)
					goto write_error;
			}
		}
		if (moved >= RELAY_BUDGET || t->from->eof || !t->from->readable)
			break;
		if (*bp != NULL && (*bp)->start == (*bp)->end) {
			buf_put(&c->w->bufs, *bp);
			*bp = NULL;
		}
		if (*t->pp != NULL || ((c->flags & t->splice) && *bp != NULL))
			break; /* the other way's bytes go first, or the pipe is full */
		n = (c->flags & t->splice) ? tunnel_splice_in(c, t) : tunnel_copy_in(c, t);
		if (n == -ENOBUFS && *bp == NULL)
			continue; /* no pipe: copy */
		if (n == -ENOBUFS)
			break;
		if (n == -EAGAIN || n == 0)
			continue; /* drained or EOF: flush what we have, then stop */
		if (n < 0)
			goto read_error;
	}
	if (*bp != NULL && (*bp)->start == (*bp)->end) {
		buf_put(&c->w->bufs, *bp); /* idle: hold no buffer */
		*bp = NULL;
	}
	if (t->from->eof && *bp == NULL && *t->pp == NULL && !t->to->shut) {
		t->to->shut = 1;
		if (shutdown(t->to->fd, SHUT_WR) == -1 && errno != ENOTCONN) {
			n = -errno;
			goto write_error;
		}
	}
	return moved;
read_error:
	reason = n == -ENOMEM ? CONN_CLOSE_NO_MEMORY : t->reset_from;
	goto failed;
write_error:
	reason = t->reset_to;
failed:
	if (reason == CONN_CLOSE_UPSTREAM_RESET)
		conn_abort(c, CONN_ABORT_CLIENT, reason, (int)-n); /* the client gets a reset too */
	else if (reason == CONN_CLOSE_CLIENT_RESET)
		conn_client_failed(c, (int)-n); /* the origin gets a reset too */
	else
		conn_close(c, reason, (int)-n);
	return -1;
}

static enum conn_next conn_st_tunnel(struct conn *c)
{
	const struct tunnel_way c2u = {.from = &c->cli,
				       .to = &c->up,
				       .bp = &c->c2u,
				       .pp = &c->pipe_c2u,
				       .splice = CONN_F_SPLICE_C2U,
				       .reset_from = CONN_CLOSE_CLIENT_RESET,
				       .reset_to = CONN_CLOSE_UPSTREAM_RESET};
	const struct tunnel_way u2c = {.from = &c->up,
				       .to = &c->cli,
				       .bp = &c->u2c,
				       .pp = &c->pipe,
				       .splice = CONN_F_SPLICE_U2C,
				       .reset_from = CONN_CLOSE_UPSTREAM_RESET,
				       .reset_to = CONN_CLOSE_CLIENT_RESET};
	enum conn_next next = CONN_NEXT_WAIT;
	long up = 0, down;
	int held = 0;

	if (c->pre != NULL) {
		/* a rewritten head still to go (upgrade request) */
		ssize_t n = conn_write(c, &c->up, &c->pre);

		if (n < 0 && n != -EAGAIN) {
			conn_close(c, CONN_CLOSE_UPSTREAM_RESET, (int)-n);
			return CONN_NEXT_CLOSED;
		}
		if (c->pre != NULL)
			return CONN_NEXT_WAIT;
	}
	if (c->flags & CONN_F_SNIFFING) {
		held = conn_tunnel_sniff(c, &next);
		if (held < 0)
			return next;
	}
	if (!held) {
		up = tunnel_dir(c, &c2u);
		if (up < 0)
			return c->state == CONN_ST_CLOSED ? CONN_NEXT_CLOSED : CONN_NEXT_AGAIN;
	}
	down = tunnel_dir(c, &u2c);
	if (down < 0)
		return c->state == CONN_ST_CLOSED ? CONN_NEXT_CLOSED : CONN_NEXT_AGAIN;
	if (c->cli.shut && c->up.shut) {
		conn_close(c, CONN_CLOSE_DONE, 0);
		return CONN_NEXT_CLOSED;
	}
	if (held && !(c->flags & CONN_F_COMMITTED) && c->c2u != NULL) {
		/* client bytes wait to be classified: [timeouts] first_bytes from
		 * the first of them, then they go through */
		if (c->timer != CONN_TIMER_FIRST)
			conn_timer_arm(c, CONN_TIMER_FIRST);
	} else if (up > 0 || down > 0) {
		conn_timer_arm(c, CONN_TIMER_TUNNEL);
	}
	if (up >= RELAY_BUDGET || down >= RELAY_BUDGET)
		return CONN_NEXT_YIELD;
	return CONN_NEXT_WAIT;
}

/* ---- LINGER -------------------------------------------------------------- */
enum conn_next conn_linger(struct conn *c, enum conn_close_reason reason, int err)
{
	c->reason = (uint8_t)reason;
	c->err = err;
	c->close_state = c->state;
	if (!c->up_wait_fin)
		conn_close_upstream(c);
	buf_put(&c->w->bufs, c->c2u);
	buf_put(&c->w->bufs, c->pre);
	c->c2u = c->pre = NULL;
	pipe_put(&c->w->pipes, c->pipe); /* an unfinished body is not worth flushing */
	pipe_put(&c->w->pipes, c->pipe_c2u);
	c->pipe = c->pipe_c2u = NULL;
	c->proto->release(c);
	conn_uncork(c, 0); /* the shutdown (or the next write) sends what is held */
	conn_timer_arm(c, CONN_TIMER_LINGER);
	conn_set_state(c, CONN_ST_LINGER);
	return CONN_NEXT_AGAIN;
}

static enum conn_next conn_st_linger(struct conn *c)
{
	ssize_t n;

	if (c->up.fd >= 0)
		linger_upstream(c);
	while (c->u2c != NULL && c->cli.writable) {
		n = conn_write(c, &c->cli, &c->u2c);
		if (n == -EAGAIN || (n == 0 && c->u2c != NULL))
			break;
		if (n < 0) {
			conn_close(c, CONN_CLOSE_CLIENT_RESET, (int)-n);
			return CONN_NEXT_CLOSED;
		}
	}
	if (c->u2c != NULL && c->u2c->start < c->u2c->lim)
		return CONN_NEXT_WAIT;
	buf_put(&c->w->bufs, c->u2c);
	c->u2c = NULL;
	if (!c->cli.shut) {
		c->cli.shut = 1;
		(void)shutdown(c->cli.fd, SHUT_WR);
	}
	/* discard what the client still sends, so closing does not reset the
	 * response it has not read yet */
	while (c->cli.readable && !c->cli.eof) {
		n = conn_read(c, &c->cli, &c->c2u);
		if (c->c2u != NULL)
			c->c2u->start = c->c2u->lim = c->c2u->end = 0;
		if (n < 0 && n != -EAGAIN)
			break;
	}
	if (c->cli.eof || c->cli.readable) {
		conn_close(c, (enum conn_close_reason)c->reason, c->err);
		return CONN_NEXT_CLOSED;
	}
	buf_put(&c->w->bufs, c->c2u);
	c->c2u = NULL;
	return CONN_NEXT_WAIT;
}

/* ---- timers -------------------------------------------------------------- */
void conn_timeout(struct conn *c, enum conn_timer t)
{
	if (c->state == CONN_ST_ABORT) {
		conn_abort_timeout(c, t);
		return;
	}
	if (c->proto->timeout(c, t))
		return; /* the protocol answered it (HTTP: 408, 504) */
	switch (t) {
	case CONN_TIMER_HEADER:
		conn_close(c,
			   c->requests ? CONN_CLOSE_KEEPALIVE_END
				       : CONN_CLOSE_CLIENT_HEADER_TIMEOUT,
			   0);
		return;
	case CONN_TIMER_CONNECT:
		connect_failed(c, CONN_CLOSE_CONNECT_TIMEOUT, 0);
		conn_run(c);
		return;
	case CONN_TIMER_RESPONSE:
		conn_close(c, CONN_CLOSE_RESPONSE_TIMEOUT, 0);
		return;
	case CONN_TIMER_IDLE:
		conn_close(c, CONN_CLOSE_IDLE_TIMEOUT, 0);
		return;
	case CONN_TIMER_TUNNEL:
	case CONN_TIMER_QUIET_REST:
		conn_close(c, CONN_CLOSE_IDLE_TIMEOUT, 0);
		return;
	case CONN_TIMER_QUIET:
		tunnel_quiet(c);
		return;
	case CONN_TIMER_FIRST:
		conn_first_bytes_timeout(c);
		return;
	default:
		conn_close(c, (enum conn_close_reason)c->reason, c->err);
		return;
	}
}

/* ---- driver -------------------------------------------------------------- */
void conn_set_proto(struct conn *c, enum conn_proto_id id)
{
	c->proto = c->w->protos[id];
}

/* The transport's states; the others are the protocol's (c->proto->states). */
static const conn_state_fn state_fns[CONN_ST_MAX] = {
	[CONN_ST_FIRST_BYTES] = conn_st_first_bytes, [CONN_ST_RESOLVE] = conn_st_resolve,
	[CONN_ST_UP_CONNECT] = conn_st_up_connect,   [CONN_ST_TUNNEL] = conn_st_tunnel,
	[CONN_ST_LINGER] = conn_st_linger,	     [CONN_ST_ABORT] = conn_st_abort,
};

void conn_run(struct conn *c)
{
	enum conn_next next = CONN_NEXT_AGAIN;
	int budget = STATE_BUDGET;
	conn_state_fn fn;

	while (next == CONN_NEXT_AGAIN && c->state != CONN_ST_CLOSED) {
		if (--budget == 0) {
			next = CONN_NEXT_YIELD;
			break;
		}
		fn = state_fns[c->state] != NULL ? state_fns[c->state] : c->proto->states[c->state];
		REMORA_ASSERT(fn != NULL); /* a state of neither the transport nor the protocol */
		next = fn(c);
	}
	if (next == CONN_NEXT_YIELD && !c->pending && c->state != CONN_ST_CLOSED) {
		c->pending = 1;
		c->next_pending = c->w->pending;
		c->w->pending = c;
	}
}

void conn_on_event(struct worker *w, struct conn_side *s, uint32_t events)
{
	struct conn *c = s->c;

	HANDOFF_ACQUIRE(c); /* (the acceptor's writes to c: see worker_hand_off) */
	if (c->w != NULL && c->state == CONN_ST_CLOSED)
		return; /* stale event for a conn closed earlier in this batch */
	if (events & POLLER_IN)
		s->readable = 1;
	if (events & (POLLER_HUP | POLLER_ERR))
		s->hup = 1; /* EOF (or an error) is queued: read until it shows */
	if (events & POLLER_ERR)
		s->failed = 1; /* for a state that does not read s (conn_client_error) */
	if (events & POLLER_OUT)
		s->writable = 1;
	if (c->w == NULL)
		conn_start(w, c); /* before the acceptor queued it: it starts now */
	else
		conn_run(c);
}
