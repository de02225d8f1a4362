/*
 * conn_http.c — the HTTP states of the connection state machine: REQ_HEAD
 * (parse a request head, apply the Host policy, rewrite if needed) and
 * EXCHANGE (relay the request body and the response, framed by http/, with
 * keep-alive, pipelining, interim responses and upgrades), plus the error
 * responses Remora generates.
 *
 * Buffers: bytes [start, lim) of c2u / u2c belong to the current message and
 * may be sent; bytes [lim, end) are not classified yet, or belong to the next
 * (pipelined) message. Request and response bytes are forwarded unchanged,
 * except a request head that needs rewriting (absolute-form target, Via,
 * an h2c upgrade offer under a name policy), which is rebuilt into c->pre
 * (conn_head.c).
 */
#include "remora-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stddef.h>
#include <arpa/inet.h>

#include "accesslog.h"
#include "dns.h"
#include "domains.h"
#include "conn_http.h"
#include "log.h"
#include "stats.h"
#include "util.h"
#include "worker.h"

void conn_http_free(struct conn *c)
{
	if (c->h != NULL)
		conn_vcheck_cancel(&c->h->v);
	if (c->h != NULL)
		free(c->h->replay);
	free(c->h);
	c->h = NULL;
}

/* ---- lenient heads ----------------------------------------------------------- */
/* The head m at (*bp)->lim (head_len bytes) was read leniently (a response:
 * bare LF, obs-fold, whitespace before a colon, Content-Length beside
 * Transfer-Encoding; a request: bare LF under [http] lenient_bare_lf): it is
 * replaced by its normalised form (docs/http.md), in a new buffer with the
 * bytes around it. Returns the new head length, or -1 without memory. */
static int normalize_head(struct conn *c, struct buf **bp, const struct http_msg *m,
			  uint32_t head_len)
{
	struct buf *b = *bp, *nb;
	uint32_t before = b->lim - b->start, after = b->end - b->lim - head_len;
	size_t max = HTTP_NORMALIZED_MAX(head_len), n;

	nb = buf_get(&c->w->bufs);
	if (nb == NULL || buf_grow(&c->w->bufs, &nb, (uint32_t)(before + max + after)) < 0) {
		buf_put(&c->w->bufs, nb);
		return -1;
	}
	memcpy(nb->data, b->data + b->start, before);
	n = http_head_normalize(b->data + b->lim, m, nb->data + before, max);
	REMORA_ASSERT(n > 0); /* HTTP_NORMALIZED_MAX always suffices */
	memcpy(nb->data + before + n, b->data + b->lim + head_len, after);
	nb->lim = before;
	nb->end = before + (uint32_t)n + after;
	buf_put(&c->w->bufs, b);
	*bp = nb;
	return (int)n;
}

/* The request head at c2u->lim (head_len bytes) ended lines in LF alone: an
 * origin that does not take LF for a line end would read another head than
 * Remora did (and its body as the next request), so the normalised head
 * (every line ending in CRLF) goes instead. It is parsed again, strictly, so
 * that c->h->req points into it (its meaning is the same; only max_head
 * leaves room for the CRs added). Returns the new head length, HTTP_INVALID
 * with c->h->req.error set, or 0 without memory. */
static int normalize_request_head(struct conn *c, uint32_t head_len)
{
	struct http_limits lim = c->cfg->req_limits;
	struct buf *b;
	int n = normalize_head(c, &c->c2u, &c->h->req, head_len);

	if (n < 0)
		return 0;
	b = c->c2u;
	lim.max_head = (uint32_t)n;
	lim.lenient = 0;
	http_msg_init_request(&c->h->req, NULL, 0);
	return http_parse(&c->h->req, b->data + b->lim, b->end - b->lim, &lim);
}

/* ---- request head ---------------------------------------------------------- */
/* Logs the request at debug level: the URL is http://<Host><path>, or the
 * original destination when there is no Host. */
static void log_request(struct conn *c, const char *p)
{
	const struct http_msg *m = &c->h->req;
	char dst[IC_ADDR_STRLEN];

	if (!log_enabled(LOG_DEBUG))
		return;
	if (m->flags & HTTP_F_ABSOLUTE_FORM)
		log_debug("conn %u.%llu request %.*s http://%.*s%.*s", c->w->id,
			  (unsigned long long)c->id, (int)m->method.len, p + m->method.off,
			  (int)m->authority.len, p + m->authority.off, (int)m->path.len,
			  p + m->path.off);
	else if (m->host_field >= 0 && m->host.len > 0)
		log_debug("conn %u.%llu request %.*s http://%.*s%.*s", c->w->id,
			  (unsigned long long)c->id, (int)m->method.len, p + m->method.off,
			  (int)m->host.len, p + m->host.off, (int)m->target.len, p + m->target.off);
	else
		log_debug("conn %u.%llu request %.*s http://%s%.*s", c->w->id,
			  (unsigned long long)c->id, (int)m->method.len, p + m->method.off,
			  c->dst.sa.sa_family ? ic_addr_format(&c->dst, dst, sizeof(dst)) : "?",
			  (int)m->target.len, p + m->target.off);
}

/* ---- retry on a reused upstream -------------------------------------------- */
static int span_eq(const char *p, struct http_span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && memcmp(p + s.off, lit, n) == 0;
}

/* A kept-alive upstream may close just as the next request goes out. For
 * requests that are safe to send twice (GET, HEAD, OPTIONS without a body)
 * keep a copy, so that case can be resent on a fresh connection. */
static void keep_replay(struct conn *c, const char *p, uint32_t head_len)
{
	struct conn_http *h = c->h;
	const char *src = c->pre != NULL ? c->pre->data : p;
	uint32_t len = c->pre != NULL ? c->pre->end : head_len;

	if (h->req.body != HTTP_BODY_NONE ||
	    !(span_eq(p, h->req.method, "GET") || span_eq(p, h->req.method, "HEAD") ||
	      span_eq(p, h->req.method, "OPTIONS")))
		return;
	h->replay = malloc(len);
	if (h->replay == NULL)
		return; /* no retry for this one */
	memcpy(h->replay, src, len);
	h->replay_len = len;
}

/* The reused upstream failed before a byte of the response: resend the
 * copy on a new connection (once). Returns 1 when it did. */
static int retry_request(struct conn *c)
{
	struct conn_http *h = c->h;
	struct buf *b;

	if (!(c->flags & CONN_F_UP_REUSED) || h->replay == NULL || h->retried || h->rsp_head_done ||
	    (c->flags & CONN_F_RSP_STARTED) || (c->u2c != NULL && c->u2c->end > c->u2c->lim) ||
	    h->replay_len > c->w->bufs.size)
		return 0;
	b = buf_get(&c->w->bufs);
	if (b == NULL)
		return 0;
	memcpy(b->data, h->replay, h->replay_len);
	b->lim = b->end = h->replay_len;
	buf_put(&c->w->bufs, c->pre);
	c->pre = b;
	buf_put(&c->w->bufs, c->u2c);
	c->u2c = NULL;
	conn_close_upstream(c);
	h->retried = 1;
	c->flags &= (uint16_t) ~(CONN_F_UP_REUSED | CONN_F_UP_WR_SHUT);
	http_msg_init_response(&h->rsp, NULL, 0, (h->req.flags & HTTP_F_METHOD_HEAD) != 0);
	STAT_INC(c->w->stats.upstream_retries);
	conn_set_state(c, CONN_ST_UP_CONNECT);
	return 1;
}

/* The request passed its checks: to a new upstream connection, or out on the
 * kept one. */
enum conn_next conn_http_to_upstream(struct conn *c)
{
	if (c->up.fd < 0) {
		conn_set_state(c, CONN_ST_UP_CONNECT);
	} else {
		c->flags |= CONN_F_UP_REUSED;
		conn_timer_arm(c, CONN_TIMER_RESPONSE);
		conn_set_state(c, CONN_ST_EXCHANGE);
	}
	return CONN_NEXT_AGAIN;
}

/* The Host name to check when [http] host_verify is on (absolute-form: the
 * target's authority). CONNECT names where an explicit proxy (the original
 * destination) should connect: not a name for the destination itself. */
static void capture_vhost(struct conn *c, const char *p)
{
	const struct http_msg *m = &c->h->req;
	struct http_span host = m->flags & HTTP_F_ABSOLUTE_FORM ? m->authority : m->host;

	if (m->flags & HTTP_F_METHOD_CONNECT)
		host.len = 0;
	conn_vcheck_set(&c->h->v, c->cfg, p + host.off, host.len);
}

/* The head is complete (head_len bytes at c2u->lim): set up the exchange. */
static enum conn_next begin_exchange(struct conn *c, uint32_t head_len)
{
	struct conn_http *h = c->h;
	struct buf *b = c->c2u;
	const char *p = b->data + b->lim;
	long n;
	int drop;

	c->requests++;
	h->head_us = histo_now();
	c->flags &= (uint16_t) ~(CONN_F_RSP_STARTED | CONN_F_UP_REUSED | CONN_F_CLOSE_AFTER);
	c->status = 0;
	if ((h->req.flags & HTTP_F_METHOD_CONNECT) && c->cfg->connect_reject)
		return conn_reply(c, 405, CONN_CLOSE_METHOD_NOT_ALLOWED, 0);
	if (!c->cfg->absolute_form_rewrite && http_host_mismatch(p, &h->req))
		return conn_reply(c, 400, CONN_CLOSE_BAD_REQUEST, -HTTP_ERR_HOST_MISMATCH);
	if (c->cfg->via && conn_head_own_via(p, head_len, c->cfg->via_name))
		return conn_reply(c, 508, CONN_CLOSE_VIA_LOOP, 0);
	if (c->cfg->deny_domains != NULL && conn_http_denied(c, p))
		return conn_http_deny(c);
	log_request(c, p);
	conn_log_capture_request(c, p);
	drop = conn_head_drop_h2c(c, p, head_len);
	if (((h->req.flags & HTTP_F_ABSOLUTE_FORM) && c->cfg->absolute_form_rewrite) ||
	    c->cfg->via || drop) {
		if (conn_head_rewrite(c, p, head_len, drop) < 0)
			return conn_reply(c, 431, CONN_CLOSE_BAD_REQUEST, -HTTP_ERR_HEAD_TOO_LARGE);
		b->start = b->lim += head_len; /* the original head is not sent */
	} else {
		b->lim += head_len;
	}
	http_body_init(&h->reqb, &h->req);
	n = http_body_feed(&h->reqb, b->data + b->lim, b->end - b->lim);
	if (n < 0)
		return conn_reply(c, 400, CONN_CLOSE_BAD_REQUEST, -(int)h->reqb.error);
	b->lim += (uint32_t)n;
	http_msg_init_response(&h->rsp, NULL, 0, (h->req.flags & HTTP_F_METHOD_HEAD) != 0);
	h->rsp_head_done = 0;
	if (!http_msg_keeps_alive(&h->req))
		c->flags |= CONN_F_CLOSE_AFTER;
	capture_vhost(c, p);
	if (c->up.fd >= 0)
		keep_replay(c, p, head_len);
	if (!(c->flags & CONN_F_RESOLVED))
		conn_set_state(c, CONN_ST_RESOLVE);
	else if (conn_vcheck_pending(&h->v, c->cfg))
		conn_set_state(c, CONN_ST_VERIFY);
	else
		return conn_http_to_upstream(c);
	return CONN_NEXT_AGAIN;
}

/* The head is invalid: answer its status. (Whether the stream is HTTP at
 * all was decided by its first bytes: what starts like a request line is
 * parsed or refused, never tunnelled.) */
static enum conn_next bad_request(struct conn *c)
{
	enum http_error e = c->h->req.error;

	c->requests++;
	return conn_reply(c, http_error_status(e), CONN_CLOSE_BAD_REQUEST, -(int)e);
}

/* A kept-alive upstream said something while no request was out: it closed
 * (EOF) or misbehaved. Either way it cannot carry the next request, and the
 * client's idle connection ends with it: the origin's keep-alive decides
 * (1 when the client's connection was closed). */
static int check_idle_upstream(struct conn *c)
{
	ssize_t n;

	if (c->up.fd < 0 || !c->up.readable)
		return 0;
	n = conn_read(c, &c->up, &c->u2c);
	buf_put(&c->w->bufs, c->u2c);
	c->u2c = NULL;
	if (n == -EAGAIN)
		return 0;
	conn_close_upstream(c);
	if (c->c2u != NULL)
		return 0; /* a request has begun: it gets a new connection */
	/* the origin ended its idle keep-alive: directly, the client's
	 * connection would end now too (a reset as a reset) */
	if (n < 0 && n != -EPIPE)
		conn_reset(c, CONN_CLOSE_KEEPALIVE_END, (int)-n);
	else
		conn_close(c, CONN_CLOSE_KEEPALIVE_END, 0);
	return 1;
}

/* A head longer than a relay buffer: *bp is full of an unfinished head, so
 * it moves into a buffer that holds max bytes of head (the limit the parser
 * enforces) besides the bytes before it. 0, or -1 without memory. */
static int grow_head(struct conn *c, struct buf **bp, uint32_t max)
{
	struct buf *b = *bp;

	if (b == NULL || buf_room(b) > 0 || b->start > 0 || b->cap >= max + b->lim)
		return 0;
	return buf_grow(&c->w->bufs, bp, max + b->lim);
}

enum conn_next conn_st_req_head(struct conn *c)
{
	struct buf *b;
	ssize_t n;
	int r;

	for (;;) {
		b = c->c2u;
		if (b != NULL && b->end > b->lim) {
			if (c->h == NULL) {
				c->h = conn_http_new(c);
				if (c->h == NULL) {
					conn_close(c, CONN_CLOSE_NO_MEMORY, ENOMEM);
					return CONN_NEXT_CLOSED;
				}
				http_msg_init_request(&c->h->req, NULL, 0);
				c->h->t0_us = histo_now();
				conn_timer_arm(c, CONN_TIMER_HEADER);
			}
			r = http_parse(&c->h->req, b->data + b->lim, b->end - b->lim,
				       &c->cfg->req_limits);
			if (r > 0 && (c->h->req.flags & HTTP_F_NORMALIZE))
				r = normalize_request_head(c, (uint32_t)r);
			if (r > 0)
				return begin_exchange(c, (uint32_t)r);
			if (r == HTTP_INVALID)
				return bad_request(c);
			if (r == 0) {
				conn_close(c, CONN_CLOSE_NO_MEMORY, ENOMEM);
				return CONN_NEXT_CLOSED;
			}
		}
		if (!c->cli.readable)
			break;
		if (grow_head(c, &c->c2u, c->cfg->max_head) < 0) {
			conn_close(c, CONN_CLOSE_NO_MEMORY, ENOMEM);
			return CONN_NEXT_CLOSED;
		}
		n = conn_read(c, &c->cli, &c->c2u);
		if (n == -EAGAIN)
			break;
		if (n == 0) {
			b = c->c2u;
			conn_close(c,
				   b != NULL && b->end > b->lim ? CONN_CLOSE_CLIENT_EOF
				   : c->requests		? CONN_CLOSE_KEEPALIVE_END
								: CONN_CLOSE_CLIENT_EMPTY,
				   0);
			return CONN_NEXT_CLOSED;
		}
		if (n < 0)
			return conn_client_failed(c, (int)-n);
	}
	if (c->c2u != NULL && c->c2u->start == c->c2u->end) {
		buf_put(&c->w->bufs, c->c2u); /* nothing yet: hold no memory while waiting */
		c->c2u = NULL;
	}
	return check_idle_upstream(c) ? CONN_NEXT_CLOSED : CONN_NEXT_WAIT;
}

/* ---- EXCHANGE: request direction ------------------------------------------ */
/* Client → upstream: the rewritten head, then the request bytes, reading more
 * from the client only while the request body is not complete. Returns bytes
 * moved, or -1 with *next set when the state changed. */
static long pump_request(struct conn *c, enum conn_next *next)
{
	struct conn_http *h = c->h;
	struct buf *b;
	long moved = 0, k;
	ssize_t n;

	for (;;) {
		if (!(c->flags & CONN_F_UP_WR_SHUT) && c->up.writable) {
			n = c->pre != NULL ? conn_write(c, &c->up, &c->pre)
					   : conn_write(c, &c->up, &c->c2u);
			if (n > 0) {
				moved += n;
				continue;
			}
			if (n < 0 && n != -EAGAIN) {
				/* the origin stopped reading: drop the rest of the request,
				 * its response may still be on the way */
				c->flags |= CONN_F_UP_WR_SHUT | CONN_F_CLOSE_AFTER;
				buf_put(&c->w->bufs, c->pre);
				c->pre = NULL;
			}
		}
		if ((c->flags & CONN_F_UP_WR_SHUT) && c->c2u != NULL)
			c->c2u->start = c->c2u->lim; /* discard unsendable bytes */
		if (moved >= RELAY_BUDGET || h->reqb.done || !c->cli.readable || c->cli.eof)
			break;
		b = c->c2u;
		if (b != NULL && buf_room(b) == 0 && b->start == 0)
			break; /* full: backpressure until upstream drains it */
		n = conn_read(c, &c->cli, &c->c2u);
		if (n == -EAGAIN)
			continue;
		if (n == 0) {
			/* the client went away in the middle of its request */
			conn_close(c, CONN_CLOSE_CLIENT_EOF, 0);
			*next = CONN_NEXT_CLOSED;
			return -1;
		}
		if (n < 0) {
			*next = conn_client_failed(c, (int)-n);
			return -1;
		}
		b = c->c2u;
		k = http_body_feed(&h->reqb, b->data + b->lim, b->end - b->lim);
		if (k < 0) {
			*next = conn_reply(c, 400, CONN_CLOSE_BAD_REQUEST, -(int)h->reqb.error);
			return -1;
		}
		b->lim += (uint32_t)k;
	}
	return moved;
}

/* ---- EXCHANGE: response direction ----------------------------------------- */
/* The response head (head_len bytes, not sent yet) switched protocols (101)
 * or opened a CONNECT tunnel: from here on both sides are a byte tunnel. */
static enum conn_next response_tunnel(struct conn *c, const char *why, uint32_t head_len)
{
	c->flags |= CONN_F_RSP_STARTED;
	conn_log_request(c, "TCP_MISS", why, head_len);
	conn_http_free(c);
	conn_set_proto(c, CONN_PROTO_TUNNEL); /* HTTP is over on this connection */
	conn_enter_tunnel(c);
	return CONN_NEXT_AGAIN;
}

/* The origin's answer has no HTTP/1.x status line (ICY, HTTP/0.9): it is
 * relayed as it comes, as a body that ends when the connection does. */
static void response_stream(struct conn *c)
{
	struct conn_http *h = c->h;

	h->rsp.body = HTTP_BODY_CLOSE;
	h->rsp_head_done = 1;
	http_body_init(&h->rspb, &h->rsp);
	c->flags |= CONN_F_CLOSE_AFTER;
	STAT_INC(c->w->stats.responses_raw);
	conn_timer_arm(c, CONN_TIMER_RESPONSE);
}

/* Classifies the response bytes that arrived: heads (1xx, 101, final) and the
 * body. Returns 0, or -1 with *next set when the state changed. */
static int classify_response(struct conn *c, enum conn_next *next)
{
	struct conn_http *h = c->h;
	struct buf *b = c->u2c;
	long k;
	int r;

	while (b->end > b->lim) {
		if (h->rsp_head_done) {
			k = http_body_feed(&h->rspb, b->data + b->lim, b->end - b->lim);
			if (k < 0) {
				*next = conn_reply(c, 502, CONN_CLOSE_BAD_RESPONSE,
						   -(int)h->rspb.error);
				return -1;
			}
			b->lim += (uint32_t)k;
			if (h->rspb.eased)
				c->flags |= CONN_F_CLOSE_AFTER; /* lenient chunked framing */
			if (h->rspb.need_cr) {
				/* a framing line ended in LF alone: the client gets CRLF */
				if (buf_insert_at_lim(&c->w->bufs, &c->u2c, '\r') < 0) {
					conn_close(c, CONN_CLOSE_NO_MEMORY, ENOMEM);
					*next = CONN_NEXT_CLOSED;
					return -1;
				}
				b = c->u2c;
				h->rspb.need_cr = 0;
				continue;
			}
			if (h->rspb.done && b->end > b->lim) {
				/* bytes after a complete response: not reusable */
				b->end = b->lim;
				c->flags |= CONN_F_CLOSE_AFTER;
			}
			return 0;
		}
		r = http_parse(&h->rsp, b->data + b->lim, b->end - b->lim, &c->cfg->rsp_limits);
		if (r == HTTP_NEED_MORE)
			return 0;
		if (r == HTTP_INVALID && h->rsp.error == HTTP_ERR_NO_STATUS_LINE &&
		    b->lim == b->start && !(c->flags & CONN_F_RSP_STARTED)) {
			response_stream(c);
			continue;
		}
		if (r == HTTP_INVALID) {
			*next = conn_reply(c, 502, CONN_CLOSE_BAD_RESPONSE, -(int)h->rsp.error);
			return -1;
		}
		c->status = h->rsp.status;
		if (alog_enabled(c->w->alog) && h->rsp.content_type.len > 0)
			conn_copy_span(h->type, sizeof(h->type), b->data + b->lim,
				       h->rsp.content_type);
		if (h->rsp.flags & HTTP_F_NORMALIZE) {
			r = normalize_head(c, &c->u2c, &h->rsp, (uint32_t)r);
			b = c->u2c;
			if (r < 0) {
				*next = conn_reply(c, 502, CONN_CLOSE_NO_MEMORY, ENOMEM);
				return -1;
			}
		}
		if (h->rsp.status == 101) {
			if (!(h->req.flags & HTTP_F_UPGRADE) ||
			    !(h->req.flags & HTTP_F_CONN_UPGRADE)) {
				*next = conn_reply(c, 502, CONN_CLOSE_BAD_RESPONSE, 0);
				return -1;
			}
			/* switching protocols: from here on both sides are a byte tunnel */
			STAT_INC(c->w->stats.tunnels_upgrade);
			*next = response_tunnel(c, "upgrade", (uint32_t)r);
			return -1;
		}
		if ((h->req.flags & HTTP_F_METHOD_CONNECT) && h->rsp.status / 100 == 2) {
			/* an explicit proxy took the CONNECT: a tunnel from here on */
			STAT_INC(c->w->stats.tunnels_connect);
			*next = response_tunnel(c, "connect", (uint32_t)r);
			return -1;
		}
		if (h->rsp.status < 200) {
			if (h->req.minor == 0) {
				/* no interim responses for an HTTP/1.0 client: drop it */
				memmove(b->data + b->lim, b->data + b->lim + r,
					b->end - b->lim - r);
				b->end -= (uint32_t)r;
			} else {
				b->lim += (uint32_t)r;
			}
			http_msg_init_response(&h->rsp, NULL, 0,
					       (h->req.flags & HTTP_F_METHOD_HEAD) != 0);
			continue;
		}
		b->lim += (uint32_t)r;
		h->rsp_head_done = 1;
		http_body_init(&h->rspb, &h->rsp);
		h->rspb.lenient = 1; /* chunked framing as browsers read it */
		if (!http_msg_keeps_alive(&h->rsp) || h->rsp.body == HTTP_BODY_CLOSE)
			c->flags |= CONN_F_CLOSE_AFTER;
		conn_timer_arm(c, CONN_TIMER_RESPONSE); /* [timeouts] response: origin silence */
	}
	return 0;
}

/* Response bodies at least this long go by splice() (when the pool has pipes). */
#define SPLICE_MIN (32 * 1024)

/* Should the rest of this response body move by splice()? Only a
 * Content-Length body, only once the copy buffer is empty (bytes stay in
 * order), and then until the pipe is empty again. */
static int splicing(const struct conn *c)
{
	const struct conn_http *h = c->h;

	if (c->pipe != NULL)
		return 1;
	return h->rsp_head_done && h->rspb.kind == HTTP_BODY_LENGTH && !h->rspb.done &&
	       h->rspb.remaining >= SPLICE_MIN && c->u2c == NULL && !c->w->pipes.broken;
}

/* Upstream → pipe → client. Returns bytes moved, or -1 with *next set. */
static long splice_response(struct conn *c, enum conn_next *next)
{
	struct conn_http *h = c->h;
	struct worker *w = c->w;
	long moved = 0;
	size_t want;
	ssize_t n;

	for (;;) {
		if (c->pipe != NULL && c->pipe->bytes > 0 && c->cli.writable) {
			n = pipe_drain(c->pipe, c->cli.fd);
			if (n == -EAGAIN || (n > 0 && c->pipe->bytes > 0))
				conn_write_blocked(c, &c->cli);
			if (n > 0) {
				conn_uncork(c, 0); /* the splice pushed held bytes out too */
				moved += n;
				c->bytes_out += (uint64_t)n;
				STAT_ADD(w->stats.bytes_out, n);
				STAT_ADD(w->stats.bytes_spliced, n);
			} else if (n != -EAGAIN) {
				*next = conn_client_failed(c, (int)-n);
				return -1;
			}
		}
		if (c->pipe != NULL && c->pipe->bytes == 0) {
			pipe_put(&w->pipes, c->pipe);
			c->pipe = NULL;
		}
		if (h->rspb.done || moved >= RELAY_BUDGET || !c->up.readable || c->up.eof)
			break;
		if (c->pipe != NULL && c->pipe->bytes > 0)
			break; /* the client cannot take more now: backpressure */
		if (c->pipe == NULL && (c->pipe = pipe_get(&w->pipes)) == NULL)
			break; /* no pipe to be had: the copy path takes over */
		want = w->pipes.size - c->pipe->bytes;
		if (want > h->rspb.remaining)
			want = (size_t)h->rspb.remaining;
		n = pipe_fill(c->pipe, c->up.fd, want);
		if (n == 0) {
			c->up.eof = 1;
			c->up.readable = 0;
			break;
		}
		if (n == -EAGAIN) {
			c->up.readable = 0;
			continue;
		}
		if (n < 0) {
			*next = conn_reply(c, 502, CONN_CLOSE_UPSTREAM_RESET, (int)-n);
			return -1;
		}
		/* a short fill says nothing (the pipe's pages run out first): only
		 * EAGAIN into an empty pipe means the socket is drained */
		http_body_advance(&h->rspb, (uint64_t)n);
	}
	return moved;
}

/* Most responses come as a head and then a body written apart (nginx: the
 * head, then sendfile), so they arrive as two segments a few microseconds
 * apart. Relaying each as it comes costs two sends and two packets; instead
 * the first bytes of a response whose body goes on wait (once per response,
 * at most CONN_CORK_MS) for the rest to arrive, and both leave in one send.
 * Only small amounts wait; bytes ready to be read are always read before
 * what waits is sent. */
#define HOLD_MAX 4096

static int hold_response(struct conn *c)
{
	struct conn_http *h = c->h;

	if (!h->rsp_head_done || h->rspb.done || c->u2c == NULL || c->up.eof ||
	    c->u2c->lim - c->u2c->start > HOLD_MAX || buf_room(c->u2c) == 0)
		return 0; /* (a full buffer must be sent before more can be read) */
	if (c->up.readable)
		return 1; /* more is there: read it first, send it all together */
	if (h->held)
		return 0;
	h->held = 1;
	conn_cork(c);
	return 1;
}

/* Upstream → client. Returns bytes moved, or -1 with *next set. */
static long pump_response(struct conn *c, enum conn_next *next)
{
	struct conn_http *h = c->h;
	struct buf *b;
	long moved = 0;
	ssize_t n;

	for (;;) {
		if (splicing(c)) {
			n = splice_response(c, next);
			if (n < 0)
				return -1;
			moved += n;
			if (c->pipe != NULL || h->rspb.done || !c->up.readable || c->up.eof ||
			    moved >= RELAY_BUDGET)
				break;
			/* no pipe could be had: go on copying */
		}
		if (c->cli.writable && !hold_response(c)) {
			/* the end of a last response waits in the kernel for the
			 * FIN that LINGER's shutdown sends right after, and leaves
			 * with it */
			n = conn_write_more(c, &c->cli, &c->u2c,
					    h->rsp_head_done && h->rspb.done &&
						    (c->flags & CONN_F_CLOSE_AFTER));
			if (n > 0) {
				moved += n;
				continue;
			}
			if (n < 0 && n != -EAGAIN) {
				*next = conn_client_failed(c, (int)-n);
				return -1;
			}
		}
		if (moved >= RELAY_BUDGET || (h->rsp_head_done && h->rspb.done) ||
		    !c->up.readable || c->up.eof)
			break;
		if (!h->rsp_head_done && grow_head(c, &c->u2c, c->cfg->max_response_head) < 0) {
			conn_close(c, CONN_CLOSE_NO_MEMORY, ENOMEM);
			*next = CONN_NEXT_CLOSED;
			return -1;
		}
		b = c->u2c;
		if (b != NULL && buf_room(b) == 0 && b->start == 0)
			break; /* full: backpressure until the client drains it */
		n = conn_read(c, &c->up, &c->u2c);
		if (n == -EAGAIN || n == 0)
			continue;
		if (n < 0) {
			if (n != -ENOMEM && retry_request(c)) {
				*next = CONN_NEXT_AGAIN;
				return -1;
			}
			*next = n == -ENOMEM
					? (conn_close(c, CONN_CLOSE_NO_MEMORY, ENOMEM),
					   CONN_NEXT_CLOSED)
					: conn_reply(c, 502, CONN_CLOSE_UPSTREAM_RESET, (int)-n);
			return -1;
		}
		histo_since(&c->w->histo, HISTO_FIRST_BYTE, c->lc->metrics_slot, &h->head_us);
		if (classify_response(c, next) < 0)
			return -1;
	}
	if (c->up.eof && !(h->rsp_head_done && h->rspb.done)) {
		if (h->rsp_head_done && http_body_eof(&h->rspb))
			return moved; /* close-delimited body: complete now */
		if (retry_request(c)) {
			*next = CONN_NEXT_AGAIN;
			return -1;
		}
		if ((c->flags & CONN_F_UP_REUSED) && !h->rsp_head_done &&
		    (c->u2c == NULL || c->u2c->end == c->u2c->start) &&
		    c->cfg->upstream_errors == UPSTREAM_ERRORS_RESET) {
			/* a kept-alive origin connection closed under a request that
			 * cannot be resent: the client's (equally reused) connection
			 * closes the same way, and the client retries as it would */
			conn_close(c, CONN_CLOSE_UPSTREAM_EOF, 0);
			*next = CONN_NEXT_CLOSED;
			return -1;
		}
		/* the response ended early: 502 if nothing went out, else close */
		*next = conn_reply(c, 502,
				   !h->rsp_head_done && c->u2c != NULL && c->u2c->end > c->u2c->lim
					   ? CONN_CLOSE_BAD_RESPONSE /* a partial head */
					   : CONN_CLOSE_UPSTREAM_EOF,
				   0);
		return -1;
	}
	return moved;
}

/* The response is under way and everything sent has been taken: a pause
 * now is the origin's (long-poll, server-sent events), which a direct
 * connection would wait out. It waits as a quiet tunnel does ([timeouts]
 * tunnel, TCP keep-alive after a quiet minute); bytes that a side does not
 * take stay under [timeouts] response. */
static int body_quiet(const struct conn *c)
{
	return c->h->rsp_head_done && c->h->reqb.done && c->pre == NULL &&
	       (c->u2c == NULL || c->u2c->start == c->u2c->end) &&
	       (c->c2u == NULL || c->c2u->start == c->c2u->lim) &&
	       (c->pipe == NULL || c->pipe->bytes == 0);
}

/* Both messages are through: keep the client (and upstream) for the next
 * request, or close gracefully. */
static enum conn_next end_exchange(struct conn *c)
{
	struct conn_http *h = c->h;
	/* an origin that closed after answering ends the client's connection
	 * too, as it would directly, unless the next request is already in */
	int up_gone = c->up.eof && (c->c2u == NULL || c->c2u->end == c->c2u->lim);
	int keep = !(c->flags & (CONN_F_CLOSE_AFTER | CONN_F_UP_WR_SHUT)) && h->reqb.done &&
		   !c->cli.eof && !c->w->draining && !up_gone;

	c->flags |= CONN_F_SERVED;
	STAT_INC(c->w->stats.replies[c->status / 100 % 10]);
	histo_since(&c->w->histo, HISTO_REQUEST, c->lc->metrics_slot, &h->t0_us);
	conn_log_request(c, "TCP_MISS", keep ? "keep-alive" : "done", 0);
	if (!keep) {
		if (h->reqb.done && !(c->flags & CONN_F_UP_WR_SHUT))
			conn_finish_upstream(c);
		return conn_linger(c, CONN_CLOSE_DONE, 0);
	}
	conn_http_free(c);
	c->flags &= (uint16_t) ~(CONN_F_RSP_STARTED | CONN_F_UP_REUSED | CONN_F_CLOSE_AFTER);
	c->status = 0;
	if (c->up.eof)
		conn_close_upstream(c);
	buf_put(&c->w->bufs, c->u2c);
	c->u2c = NULL;
	conn_timer_arm(c, CONN_TIMER_IDLE);
	conn_set_state(c, CONN_ST_REQ_HEAD);
	return CONN_NEXT_AGAIN;
}

enum conn_next conn_st_exchange(struct conn *c)
{
	struct conn_http *h = c->h;
	enum conn_next next = CONN_NEXT_WAIT;
	long up, down;

	up = pump_request(c, &next);
	if (up < 0)
		return next;
	/* a client that resets while its request is complete is read no more:
	 * its error would wait for the response, the origin must hear it now */
	if (c->cli.failed && h->reqb.done && conn_client_error(c, &next))
		return next;
	down = pump_response(c, &next);
	if (down < 0)
		return next;
	if (h->rsp_head_done && h->rspb.done && c->pipe == NULL &&
	    (c->u2c == NULL || c->u2c->start == c->u2c->lim)) {
		if (h->reqb.done && c->pre == NULL &&
		    (c->c2u == NULL || c->c2u->start == c->c2u->lim))
			return end_exchange(c);
		/* answered before the request body was through: that body is moot */
		c->flags |= CONN_F_CLOSE_AFTER;
		return end_exchange(c);
	}
	if (up > 0 || down > 0) /* progress either way */
		conn_timer_arm(c, body_quiet(c) ? CONN_TIMER_TUNNEL : CONN_TIMER_RESPONSE);
	if (up >= RELAY_BUDGET || down >= RELAY_BUDGET)
		return CONN_NEXT_YIELD;
	return CONN_NEXT_WAIT;
}

/* ---- the HTTP protocol ------------------------------------------------------ */
/* The first bytes started like a request line. */
static enum conn_next http_start(struct conn *c)
{
	conn_timer_arm(c, CONN_TIMER_HEADER);
	conn_set_state(c, CONN_ST_REQ_HEAD);
	return CONN_NEXT_AGAIN;
}

static enum conn_next http_resolved(struct conn *c)
{
	conn_set_state(c,
		       conn_vcheck_pending(&c->h->v, c->cfg) ? CONN_ST_VERIFY : CONN_ST_UP_CONNECT);
	return CONN_NEXT_AGAIN;
}

static enum conn_next http_connected(struct conn *c)
{
	conn_timer_arm(c, CONN_TIMER_RESPONSE);
	conn_set_state(c, CONN_ST_EXCHANGE);
	return CONN_NEXT_AGAIN;
}

/* 408 for a half-sent head, 504 for an origin that went quiet; a
 * keep-alive connection idle between requests just closes. */
static int http_timeout(struct conn *c, enum conn_timer t)
{
	switch (t) {
	case CONN_TIMER_HEADER:
		if (c->state != CONN_ST_REQ_HEAD || c->c2u == NULL || c->c2u->end <= c->c2u->lim)
			return 0;
		conn_reply(c, 408, CONN_CLOSE_CLIENT_HEADER_TIMEOUT, 0);
		break;
	case CONN_TIMER_RESPONSE:
		conn_reply(c, 504, CONN_CLOSE_RESPONSE_TIMEOUT, 0);
		break;
	case CONN_TIMER_IDLE:
		conn_close(c, CONN_CLOSE_KEEPALIVE_END, 0);
		return 1;
	default:
		return 0;
	}
	conn_run(c);
	return 1;
}

/* An exchange cut short still gets its line (the log part of c->h exists
 * only when the log is on: the caller checked). */
static void http_log_close(struct conn *c, enum conn_close_reason reason)
{
	if (c->h != NULL && c->h->method[0])
		conn_log_request(c, (c->flags & CONN_F_RESOLVED) ? "TCP_MISS_ABORTED" : "NONE_NONE",
				 conn_close_token(reason), 0);
}

static const conn_state_fn http_states[CONN_ST_MAX] = {
	[CONN_ST_REQ_HEAD] = conn_st_req_head,
	[CONN_ST_VERIFY] = conn_st_verify,
	[CONN_ST_EXCHANGE] = conn_st_exchange,
};

static struct conn_vcheck *http_vcheck(struct conn *c)
{
	return &c->h->v;
}

const struct conn_proto conn_proto_http = {
	.name = "http",
	.vcheck = http_vcheck,
	.verified = conn_http_to_upstream,
	.states = http_states,
	.start = http_start,
	.resolved = http_resolved,
	.connected = http_connected,
	.refuse = conn_reply,
	.timeout = http_timeout,
	.log_close = http_log_close,
	.release = conn_http_free,
};
