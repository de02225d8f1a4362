/*
 * conn_first.c — first bytes decide (docs/architecture.md): the FIRST_BYTES
 * state classifies what a new client sends (src/http/sniff.c) and hands the
 * connection to HTTP, or to a tunnel to the original destination for TLS,
 * other protocols and clients that wait for the server to speak first. A
 * tunnel opened on silence keeps classifying the client's first line before
 * any of it goes upstream, so no request line ever bypasses the HTTP states.
 * Owning worker only.
 */
#include "remora-config.h"

#include <errno.h>

#include "conn_http.h" /* conn_log_tunnel: a tunnel's line in the access log */
#include "conn_int.h"
#include "stats.h"
#include "worker.h"

/* The client's first bytes were the HTTP/2 preface while a name policy is
 * on: HTTP/2 requests (any :authority) that no policy reads, so refused, not
 * tunnelled (h2c with prior knowledge; docs/http.md). */
static int h2_under_policy(const struct conn *c)
{
	return config_name_policy(c->cfg) && http_sniff_is_h2(&c->sniff);
}

/* The first bytes are not an HTTP request (or the client stayed silent,
 * why == HTTP_FIRST_MORE): a tunnel to the original destination, unless
 * [http] non_http = reject. */
static enum conn_next start_tunnel(struct conn *c, enum http_first why)
{
	struct worker *w = c->w;

	if (c->cfg->non_http == NON_HTTP_REJECT || h2_under_policy(c)) {
		conn_close(c, CONN_CLOSE_NON_HTTP_REJECTED, 0);
		return CONN_NEXT_CLOSED;
	}
	if (why == HTTP_FIRST_TLS)
		STAT_INC(w->stats.tunnels_tls);
	else if (why == HTTP_FIRST_OTHER)
		STAT_INC(w->stats.tunnels_non_http);
	else
		STAT_INC(w->stats.tunnels_server_first);
	c->flags |= CONN_F_TUNNEL;
	if (why == HTTP_FIRST_MORE)
		c->flags |= CONN_F_SNIFFING; /* whatever the client sends is still classified */
	conn_set_state(c, CONN_ST_RESOLVE);
	return CONN_NEXT_AGAIN;
}

/* Reads what the client sent and classifies it; returns the verdict, or -1
 * with *next set after ending c. A buffer full of a possible request-line
 * prefix is HTTP (the parser refuses it as too long). */
static int sniff_client(struct conn *c, enum conn_next *next)
{
	enum http_first v = (enum http_first)c->sniff.verdict;
	struct buf *b;
	ssize_t n;

	while (v == HTTP_FIRST_MORE && c->cli.readable && !c->cli.eof) {
		b = c->c2u;
		if (b != NULL && buf_room(b) == 0)
			buf_compact(b);
		if (b != NULL && buf_room(b) == 0)
			return HTTP_FIRST_HTTP;
		n = conn_read(c, &c->cli, &c->c2u);
		if (n == -EAGAIN || n == 0)
			break;
		if (n < 0) {
			*next = conn_client_failed(
				c, (int)-n); /* a sniffing tunnel's origin: a reset */
			return -1;
		}
		b = c->c2u;
		v = http_sniff_feed(&c->sniff, b->data + b->end - n, (size_t)n);
	}
	return (int)v;
}

enum conn_next conn_st_first_bytes(struct conn *c)
{
	enum conn_next next = CONN_NEXT_CLOSED;
	uint32_t before;
	int v;

	switch (c->lc->protocol) {
	case LISTEN_PROTO_HTTP: /* forced: whatever comes is parsed, or refused */
		conn_set_proto(c, CONN_PROTO_HTTP);
		return c->proto->start(c);
	case LISTEN_PROTO_TCP: /* forced: a tunnel at once, nothing classified */
		STAT_INC(c->w->stats.tunnels_non_http);
		c->flags |= CONN_F_TUNNEL;
		conn_set_state(c, CONN_ST_RESOLVE);
		return CONN_NEXT_AGAIN;
	default:
		break;
	}
	before = c->c2u != NULL ? buf_len(c->c2u) : 0;
	v = sniff_client(c, &next);

	if (v < 0)
		return next;
	if (v == HTTP_FIRST_HTTP) {
		conn_set_proto(c, CONN_PROTO_HTTP);
		return c->proto->start(c);
	}
	if (v != HTTP_FIRST_MORE && c->lc->protocol == LISTEN_PROTO_TLS)
		v = HTTP_FIRST_TLS; /* forced: the reader says what is not a hello */
	if (v == HTTP_FIRST_TLS) {  /* TLS is read whatever non_http says */
		conn_set_proto(c, CONN_PROTO_TLS);
		return c->proto->start(c);
	}
	if (v != HTTP_FIRST_MORE)
		return start_tunnel(c, (enum http_first)v);
	if (c->cli.eof) {
		if (c->c2u == NULL || c->c2u->start == c->c2u->end) {
			conn_close(c, CONN_CLOSE_CLIENT_EMPTY, 0);
			return CONN_NEXT_CLOSED;
		}
		/* a few bytes and the end: no request line can come any more */
		return start_tunnel(c, HTTP_FIRST_OTHER);
	}
	if (c->c2u != NULL && c->c2u->start == c->c2u->end) {
		buf_put(&c->w->bufs, c->c2u); /* nothing yet: hold no memory while waiting */
		c->c2u = NULL;
	} else if (c->c2u != NULL && buf_len(c->c2u) > before && c->timer == CONN_TIMER_FIRST) {
		/* quiet is measured from the last byte; once first_bytes passed
		 * (HTTP only: conn_first_bytes_timeout), client_header runs on */
		conn_timer_arm(c, CONN_TIMER_FIRST);
	}
	return CONN_NEXT_WAIT;
}

/* Nothing moved either way on a sniffing tunnel, and no EOF went to the
 * client: what the client sends may still be taken up as HTTP or TLS. */
static int tunnel_is_untouched(const struct conn *c)
{
	return !(c->flags & CONN_F_COMMITTED) && c->bytes_out == 0 && c->u2c == NULL &&
	       !c->up.shut && !c->cli.shut;
}

/* An untouched sniffing tunnel's client speaks protocol id after all: id
 * takes over, on the upstream connection that is already open. */
static enum conn_next tunnel_switch(struct conn *c, enum conn_proto_id id)
{
	c->flags &= (uint16_t) ~(CONN_F_TUNNEL | CONN_F_SNIFFING);
	if (c->up.eof || c->up.hup)
		conn_close_upstream(c);
	conn_set_proto(c, id);
	return c->proto->start(c);
}

/* The held bytes are a lone 0x16 (the classifier waits for the byte after
 * it): a TLS client that paused inside its first record. Committing that
 * byte would carry the hello past the ClientHello reader and its policy. */
static int held_is_tls_start(const struct conn *c)
{
	return c->c2u != NULL && c->c2u->end > c->c2u->start &&
	       (unsigned char)c->c2u->data[c->c2u->start] == 0x16;
}

/* The client stayed silent, or sent only a possible request-line prefix,
 * for [timeouts] first_bytes: a server-first protocol waits for its banner,
 * so the tunnel opens now; its client bytes are still classified. A lone
 * 0x16 is a TLS client's: the ClientHello reader waits for the rest. */
void conn_first_bytes_timeout(struct conn *c)
{
	if (c->state == CONN_ST_FIRST_BYTES) {
		if (c->cfg->non_http == NON_HTTP_REJECT || c->lc->protocol == LISTEN_PROTO_TLS) {
			conn_timer_arm(c, CONN_TIMER_HEADER); /* HTTP only: keep waiting */
			return;
		}
		if (held_is_tls_start(c)) {
			conn_set_proto(c, CONN_PROTO_TLS);
			(void)c->proto->start(c);
		} else {
			if (c->c2u != NULL && c->c2u->end > c->c2u->start)
				c->flags |= CONN_F_COMMITTED; /* the held bytes go upstream */
			start_tunnel(c, HTTP_FIRST_MORE);
		}
	} else if ((c->flags & CONN_F_SNIFFING) && held_is_tls_start(c) && tunnel_is_untouched(c)) {
		(void)tunnel_switch(c, CONN_PROTO_TLS); /* (its timer replaces this one) */
	} else if (c->flags & CONN_F_SNIFFING) {
		/* the held prefix goes through now: from here the tunnel's own
		 * quiet timer runs (this one must not stay due, or it fires on) */
		c->flags |= CONN_F_COMMITTED;
		conn_timer_arm(c, CONN_TIMER_TUNNEL);
	}
	conn_run(c);
}

/* A sniffing tunnel's client direction: client bytes are classified before
 * they go upstream. Returns 0 when the client direction may flow as in any
 * tunnel, 1 when it must not (held, or sent by this function), or -1 with
 * *next set. */
int conn_tunnel_sniff(struct conn *c, enum conn_next *next)
{
	int v = sniff_client(c, next);
	ssize_t n;

	if (v < 0)
		return -1;
	if ((v == HTTP_FIRST_HTTP || v == HTTP_FIRST_TLS) && tunnel_is_untouched(c)) {
		/* HTTP (a request line is never tunnelled) or TLS (its hello is
		 * read, and its policy applied) after all */
		*next = tunnel_switch(c, v == HTTP_FIRST_HTTP ? CONN_PROTO_HTTP : CONN_PROTO_TLS);
		return -1;
	}
	if (v == HTTP_FIRST_HTTP) {
		/* bytes (or the EOF) already went through: the request line never does */
		conn_reset(c, CONN_CLOSE_LATE_HTTP, 0);
		*next = CONN_NEXT_CLOSED;
		return -1;
	}
	if (v == HTTP_FIRST_OTHER && tunnel_is_untouched(c) && h2_under_policy(c)) {
		conn_close(c, CONN_CLOSE_NON_HTTP_REJECTED, 0); /* as start_tunnel */
		*next = CONN_NEXT_CLOSED;
		return -1;
	}
	if (v == HTTP_FIRST_OTHER && h2_under_policy(c)) {
		/* the preface completed after bytes moved (a committed prefix of
		 * it, the origin's first words): its frames never go, as a late
		 * request line */
		conn_reset(c, CONN_CLOSE_LATE_HTTP, 0);
		*next = CONN_NEXT_CLOSED;
		return -1;
	}
	if (v != HTTP_FIRST_MORE || c->cli.eof) {
		c->flags &= (uint16_t)~CONN_F_SNIFFING; /* decided: a tunnel like any other */
		return 0;
	}
	if (!(c->flags & CONN_F_COMMITTED) || c->c2u == NULL || !c->up.writable)
		return 1;
	/* committed: a prefix (no line end yet) goes through, the rest is watched */
	c->c2u->lim = c->c2u->end;
	n = conn_write(c, &c->up, &c->c2u);
	if (n < 0 && n != -EAGAIN) {
		conn_close(c, CONN_CLOSE_UPSTREAM_RESET, (int)-n);
		*next = CONN_NEXT_CLOSED;
		return -1;
	}
	return 1;
}
/* ---- the tunnel protocol ---------------------------------------------------- */
static enum conn_next tunnel_resolved(struct conn *c)
{
	conn_set_state(c, CONN_ST_UP_CONNECT);
	return CONN_NEXT_AGAIN;
}

static enum conn_next tunnel_connected(struct conn *c)
{
	conn_enter_tunnel(c);
	return CONN_NEXT_AGAIN;
}

/* A tunnel has no status to answer with: a failed connect looks like one
 * (a reset), a policy refusal ends the connection. */
static enum conn_next tunnel_refuse(struct conn *c, int status, enum conn_close_reason reason,
				    int err)
{
	if (status >= 500)
		conn_reset(c, reason, err);
	else
		conn_close(c, reason, err);
	return CONN_NEXT_CLOSED;
}

static int tunnel_timeout(struct conn *c, enum conn_timer t)
{
	(void)c;
	(void)t;
	return 0; /* the transport's defaults */
}

/* One access-log line for a tunnel that carried no HTTP request (an
 * upgraded connection's line was written when it switched). */
static void tunnel_log_close(struct conn *c, enum conn_close_reason reason)
{
	if ((c->flags & CONN_F_TUNNEL) && c->requests == 0)
		conn_log_tunnel(c, conn_close_token(reason));
}

static void tunnel_release(struct conn *c)
{
	(void)c; /* a tunnel keeps no per-exchange state */
}

static const conn_state_fn tunnel_states[CONN_ST_MAX]; /* only the transport's */

const struct conn_proto conn_proto_tunnel = {
	.name = "tunnel",
	.states = tunnel_states,
	.start = tunnel_resolved, /* unused: tunnels start through start_tunnel() */
	.resolved = tunnel_resolved,
	.connected = tunnel_connected,
	.refuse = tunnel_refuse,
	.timeout = tunnel_timeout,
	.log_close = tunnel_log_close,
	.release = tunnel_release,
};
