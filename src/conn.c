/*
 * conn.c — the connection state machine (see conn.h and docs/architecture.md).
 *
 * Every state is one function `conn_st_<state>()` returning what to do next;
 * conn_run() is the driver and conn_set_state() the only way to move.
 */
#include "remora-config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "util.h"
#include "worker.h"

enum conn_next {
	CONN_NEXT_AGAIN,  /* the state changed: run the new one now */
	CONN_NEXT_WAIT,	  /* wait for readiness or a timer */
	CONN_NEXT_YIELD,  /* budget used up: run again after this event batch */
	CONN_NEXT_CLOSED, /* conn_close() was called */
};

/* Bytes a connection may move per direction per run before it yields. */
#define RELAY_BUDGET (256 * 1024)
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

struct conn *conn_new(int fd, const union ic_addr *peer, const struct listener_conf *lc)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	cds_wfcq_node_init(&c->qnode);
	CDS_INIT_LIST_HEAD(&c->tlink);
	c->cli.fd = fd;
	c->cli.c = c;
	c->up.fd = -1;
	c->up.c = c;
	c->peer = *peer;
	ic_addr_unmap(&c->peer);
	c->lc = lc;
	c->state = CONN_ST_REQ_HEAD;
	return c;
}

static void conn_set_state(struct conn *c, enum conn_state st)
{
	log_debug("conn %u.%llu: %s -> %s", c->w->id, (unsigned long long)c->id,
		  conn_state_name(c->state), conn_state_name(st));
	c->state = (uint8_t)st;
}

void conn_timer_arm(struct conn *c, enum conn_timer t)
{
	struct worker *w = c->w;
	uint64_t deadline = w->now + w->timer_ms[t];

	if (c->timer == t && c->deadline == deadline)
		return; /* same tick: already at the tail */
	cds_list_del(&c->tlink);
	c->timer = (uint8_t)t;
	c->deadline = deadline;
	cds_list_add_tail(&c->tlink, &w->timers[t]);
}

void conn_start(struct worker *w, struct conn *c)
{
	int err;

	c->w = w;
	c->id = ++w->next_id;
	c->timer = CONN_TIMER_HEADER;
	c->deadline = w->now + w->timer_ms[CONN_TIMER_HEADER];
	cds_list_add_tail(&c->tlink, &w->timers[CONN_TIMER_HEADER]);
	w->nconns++;
	w->stats.accepted++;
	err = poller_set(w->poller, c->cli.fd, POLLER_IN | POLLER_OUT | POLLER_ET, &c->cli);
	if (err < 0) {
		conn_close(c, CONN_CLOSE_POLLER, -err);
		return;
	}
	/* the request often arrives with the handshake: try before waiting */
	c->cli.readable = 1;
	conn_run(c);
}

static void log_close(struct conn *c, enum conn_close_reason reason, int err)
{
	char peer[IC_ADDR_STRLEN], dst[IC_ADDR_STRLEN] = "?";

	ic_addr_format(&c->peer, peer, sizeof(peer));
	if (c->dst.sa.sa_family != 0)
		ic_addr_format(&c->dst, dst, sizeof(dst));
	if (err != 0)
		log_msg(close_reasons[reason].level,
			"conn %u.%llu %s -> %s [%s] closed while %s: %s: %s (%d: %s)", c->w->id,
			(unsigned long long)c->id, peer, dst, c->lc->name,
			conn_state_name(c->state), close_reasons[reason].token,
			close_reasons[reason].desc, err, strerror(err));
	else
		log_msg(close_reasons[reason].level,
			"conn %u.%llu %s -> %s [%s] closed while %s: %s: %s", c->w->id,
			(unsigned long long)c->id, peer, dst, c->lc->name,
			conn_state_name(c->state), close_reasons[reason].token,
			close_reasons[reason].desc);
}

void conn_close(struct conn *c, enum conn_close_reason reason, int err)
{
	struct worker *w = c->w;

	if (c->state == CONN_ST_CLOSED)
		return;
	if (log_enabled(close_reasons[reason].level))
		log_close(c, reason, err);
	c->reason = (uint8_t)reason;
	c->err = err;
	w->stats.closed[reason]++;
	/* close() also removes the fds from the poller */
	close(c->cli.fd);
	c->cli.fd = -1;
	if (c->up.fd >= 0) {
		close(c->up.fd);
		c->up.fd = -1;
	}
	buf_put(&w->bufs, c->c2u);
	buf_put(&w->bufs, c->u2c);
	c->c2u = c->u2c = NULL;
	cds_list_del_init(&c->tlink);
	conn_set_state(c, CONN_ST_CLOSED);
	w->nconns--;
	uatomic_dec(&w->load);
	/* stale-event rule: events later in this batch may still name c */
	c->next_dead = w->dead;
	w->dead = c;
}

void conn_free(struct conn *c)
{
	REMORA_ASSERT(c->state == CONN_ST_CLOSED);
	free(c);
}

/* Reads what fits into *bp (taken from the pool if needed). Returns bytes
 * read, 0 on EOF (sets s->eof), -EAGAIN when drained (clears s->readable), or
 * another -errno. */
static ssize_t side_read(struct conn *c, struct conn_side *s, struct buf **bp)
{
	struct buf *b = *bp;
	ssize_t n;

	if (b == NULL) {
		b = *bp = buf_get(&c->w->bufs);
		if (b == NULL)
			return -ENOMEM;
	}
	if (b->start == b->end)
		b->start = b->end = 0;
	n = recv(s->fd, b->data + b->end, buf_room(b), 0);
	if (n > 0) {
		b->end += (uint32_t)n;
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

/* Writes what *bp holds to s; gives the buffer back once empty. Returns
 * bytes written, -EAGAIN when s is full (clears s->writable), or -errno. */
static ssize_t side_write(struct conn *c, struct conn_side *s, struct buf **bp)
{
	struct buf *b = *bp;
	ssize_t n;

	n = send(s->fd, b->data + b->start, buf_len(b), MSG_NOSIGNAL);
	if (n >= 0) {
		b->start += (uint32_t)n;
		if (b->start == b->end) {
			buf_put(&c->w->bufs, b);
			*bp = NULL;
		}
		return n;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		s->writable = 0;
		return -EAGAIN;
	}
	return errno == EINTR ? -EAGAIN : -errno;
}

/* ---- REQ_HEAD ------------------------------------------------------------ */
static enum conn_next conn_st_req_head(struct conn *c)
{
	struct http_request_head head;
	ssize_t n;
	int r;

	while (c->cli.readable) {
		if (c->c2u != NULL && buf_room(c->c2u) == 0) {
			conn_close(c, CONN_CLOSE_HEAD_TOO_LARGE, 0);
			return CONN_NEXT_CLOSED;
		}
		n = side_read(c, &c->cli, &c->c2u);
		if (n == -EAGAIN)
			break;
		if (n == -ENOMEM) {
			conn_close(c, CONN_CLOSE_NO_MEMORY, ENOMEM);
			return CONN_NEXT_CLOSED;
		}
		if (n < 0) {
			conn_close(c, CONN_CLOSE_CLIENT_RESET, (int)-n);
			return CONN_NEXT_CLOSED;
		}
		if (n == 0) {
			conn_close(c, buf_len(c->c2u) ? CONN_CLOSE_CLIENT_EOF : CONN_CLOSE_CLIENT_EMPTY,
				   0);
			return CONN_NEXT_CLOSED;
		}
		c->w->stats.bytes_in += (uint64_t)n;
		r = http_request_head_scan(&c->hs, c->c2u->data, buf_len(c->c2u), &head);
		if (r == HTTP_INVALID) {
			conn_close(c, CONN_CLOSE_BAD_REQUEST, 0);
			return CONN_NEXT_CLOSED;
		}
		if (r > 0) {
			conn_set_state(c, CONN_ST_RESOLVE);
			return CONN_NEXT_AGAIN;
		}
	}
	if (c->c2u != NULL && buf_len(c->c2u) == 0) {
		buf_put(&c->w->bufs, c->c2u); /* nothing yet: hold no memory while waiting */
		c->c2u = NULL;
	}
	return CONN_NEXT_WAIT;
}

/* ---- RESOLVE ------------------------------------------------------------- */
static enum conn_next conn_st_resolve(struct conn *c)
{
	int err = ic_orig_dst(c->cli.fd, c->lc->mode, &c->peer, &c->dst);

	if (err < 0) {
		conn_close(c, CONN_CLOSE_ORIG_DST_FAILED, -err);
		return CONN_NEXT_CLOSED;
	}
	ic_addr_unmap(&c->dst);
	if (ic_addr_is_listener(&c->dst, c->w->listen_addrs, c->w->n_listen)) {
		conn_close(c, CONN_CLOSE_LOOP_GUARD, 0);
		return CONN_NEXT_CLOSED;
	}
	conn_set_state(c, CONN_ST_UP_CONNECT);
	return CONN_NEXT_AGAIN;
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

static enum conn_next conn_st_up_connect(struct conn *c)
{
	struct worker *w = c->w;
	socklen_t len = sizeof(int);
	int fd, err = 0;

	if (c->up.fd < 0) {
		fd = ic_upstream_connect(&c->dst, &c->peer, c->lc->spoof, &w->stats.connect);
		if (fd < 0) {
			conn_close(c, fd == -ECONNREFUSED || fd == -ENETUNREACH ||
						  fd == -EHOSTUNREACH
					      ? connect_reason(-fd)
					      : CONN_CLOSE_UPSTREAM_SOCKET,
				   -fd);
			return CONN_NEXT_CLOSED;
		}
		c->up.fd = fd;
		err = poller_set(w->poller, fd, POLLER_IN | POLLER_OUT | POLLER_ET, &c->up);
		if (err < 0) {
			conn_close(c, CONN_CLOSE_POLLER, -err);
			return CONN_NEXT_CLOSED;
		}
		conn_timer_arm(c, CONN_TIMER_CONNECT);
		return CONN_NEXT_WAIT;
	}
	if (!c->up.writable)
		return CONN_NEXT_WAIT;
	if (getsockopt(c->up.fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == EINPROGRESS || err == EALREADY) {
		c->up.writable = 0;
		return CONN_NEXT_WAIT;
	}
	if (err != 0) {
		conn_close(c, connect_reason(err), err);
		return CONN_NEXT_CLOSED;
	}
	conn_timer_arm(c, CONN_TIMER_IDLE);
	conn_set_state(c, CONN_ST_RELAY);
	return CONN_NEXT_AGAIN;
}

/* ---- RELAY --------------------------------------------------------------- */
/* Moves bytes from -> to through *bp until both stall or the budget is spent.
 * Backpressure: nothing is read while the buffer is full. Propagates EOF as
 * shutdown(SHUT_WR) once the buffer is drained. Returns bytes moved, or a
 * negative close reason after closing c. */
static long relay_dir(struct conn *c, struct conn_side *from, struct conn_side *to,
		      struct buf **bp, enum conn_close_reason reset_from,
		      enum conn_close_reason reset_to)
{
	long moved = 0;
	ssize_t n;

	for (;;) {
		if (*bp != NULL && buf_len(*bp) > 0 && to->writable) {
			n = side_write(c, to, bp);
			if (n > 0)
				moved += n;
			else if (n != -EAGAIN)
				goto write_error;
		}
		if (moved >= RELAY_BUDGET)
			break;
		if (from->eof || !from->readable || (*bp != NULL && buf_room(*bp) == 0))
			break;
		n = side_read(c, from, bp);
		if (n == -EAGAIN || n == 0)
			continue; /* drained or EOF: flush what we have, then stop */
		if (n < 0)
			goto read_error;
	}
	if (*bp != NULL && buf_len(*bp) == 0) {
		buf_put(&c->w->bufs, *bp); /* idle: hold no buffer */
		*bp = NULL;
	}
	if (from->eof && *bp == NULL && !to->shut) {
		to->shut = 1;
		if (shutdown(to->fd, SHUT_WR) == -1 && errno != ENOTCONN) {
			n = -errno;
			goto write_error;
		}
	}
	return moved;
read_error:
	if (n == -ENOMEM) {
		conn_close(c, CONN_CLOSE_NO_MEMORY, ENOMEM);
		return -1;
	}
	conn_close(c, reset_from, (int)-n);
	return -1;
write_error:
	conn_close(c, reset_to, (int)-n);
	return -1;
}

static enum conn_next conn_st_relay(struct conn *c)
{
	long up, down;

	up = relay_dir(c, &c->cli, &c->up, &c->c2u, CONN_CLOSE_CLIENT_RESET,
		       CONN_CLOSE_UPSTREAM_RESET);
	if (up < 0)
		return CONN_NEXT_CLOSED;
	down = relay_dir(c, &c->up, &c->cli, &c->u2c, CONN_CLOSE_UPSTREAM_RESET,
			 CONN_CLOSE_CLIENT_RESET);
	if (down < 0)
		return CONN_NEXT_CLOSED;
	c->w->stats.bytes_in += (uint64_t)up;
	c->w->stats.bytes_out += (uint64_t)down;
	if (c->cli.shut && c->up.shut) {
		conn_close(c, CONN_CLOSE_DONE, 0);
		return CONN_NEXT_CLOSED;
	}
	if (up > 0 || down > 0)
		conn_timer_arm(c, CONN_TIMER_IDLE);
	if (up >= RELAY_BUDGET || down >= RELAY_BUDGET)
		return CONN_NEXT_YIELD;
	return CONN_NEXT_WAIT;
}

/* ---- driver -------------------------------------------------------------- */
typedef enum conn_next (*conn_state_fn)(struct conn *c);

static const conn_state_fn state_fns[CONN_ST_MAX] = {
	[CONN_ST_REQ_HEAD] = conn_st_req_head,
	[CONN_ST_RESOLVE] = conn_st_resolve,
	[CONN_ST_UP_CONNECT] = conn_st_up_connect,
	[CONN_ST_RELAY] = conn_st_relay,
	[CONN_ST_CLOSED] = NULL,
};

void conn_run(struct conn *c)
{
	enum conn_next next = CONN_NEXT_AGAIN;
	int budget = STATE_BUDGET;

	while (next == CONN_NEXT_AGAIN && c->state != CONN_ST_CLOSED) {
		if (--budget == 0) {
			next = CONN_NEXT_YIELD;
			break;
		}
		next = state_fns[c->state](c);
	}
	if (next == CONN_NEXT_YIELD && !c->pending) {
		c->pending = 1;
		c->next_pending = c->w->pending;
		c->w->pending = c;
	}
}

void conn_on_event(struct conn_side *s, uint32_t events)
{
	struct conn *c = s->c;

	if (c->state == CONN_ST_CLOSED)
		return; /* stale event for a conn closed earlier in this batch */
	if (events & POLLER_IN)
		s->readable = 1;
	if (events & POLLER_OUT)
		s->writable = 1;
	conn_run(c);
}
