/*
 * conn_reply.c — the responses Remora writes itself: error statuses
 * (400 ... 505, always Connection: close, only before any response byte went
 * out) and the [acl] deny_domains answer (451 with the operator's body, or a
 * redirect). Owning worker only.
 */
#include "remora-config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "accesslog.h"
#include "conn_http.h"
#include "domains.h"
#include "stats.h"
#include "worker.h"

/* ---- generated responses ------------------------------------------------- */
/* Writes a generated response (Connection: close) and lingers: status, an
 * optional extra header line (with its CRLF), a body of blen bytes of type.
 * Only before any response byte went out; otherwise the connection closes. */
static enum conn_next reply_with(struct conn *c, int status, const char *extra, const char *type,
				 const char *body, size_t blen, enum conn_close_reason reason,
				 int err)
{
	const char *why = http_reason(status);
	int head_only = c->h != NULL && (c->h->req.flags & HTTP_F_METHOD_HEAD);
	size_t cap = blen + strlen(extra) + 256;
	struct buf *b;
	int n;

	if (c->flags & CONN_F_RSP_STARTED) {
		/* never a second status line: the client sees the connection end,
		 * with a reset where the origin reset (a FIN would make a cut body
		 * look complete) */
		if (reason == CONN_CLOSE_UPSTREAM_RESET)
			return conn_abort(c, CONN_ABORT_CLIENT, reason, err);
		conn_close(c, reason, err);
		return CONN_NEXT_CLOSED;
	}
	if (c->h != NULL && c->h->rsp_head_done && c->u2c != NULL && c->u2c->lim > c->u2c->start &&
	    reason == CONN_CLOSE_UPSTREAM_RESET) {
		c->flags |= CONN_F_RSP_STARTED; /* the held head goes out, then the reset */
		return conn_abort(c, CONN_ABORT_CLIENT, reason, err);
	}
	if (c->h != NULL && c->h->rsp_head_done && c->u2c != NULL && c->u2c->lim > c->u2c->start) {
		/* the origin's head was held back (hold_response): it has answered,
		 * so what it sent goes out as it came, then the connection ends */
		c->flags |= CONN_F_RSP_STARTED;
		conn_log_request(c, "TCP_MISS_ABORTED", conn_close_token(reason),
				 c->u2c->lim - c->u2c->start);
		return conn_linger(c, reason, err);
	}
	buf_put(&c->w->bufs, c->u2c);
	c->u2c = b = buf_get(&c->w->bufs);
	if (b == NULL || (cap > b->cap && buf_grow(&c->w->bufs, &c->u2c, (uint32_t)cap) < 0)) {
		conn_close(c, CONN_CLOSE_NO_MEMORY, ENOMEM);
		return CONN_NEXT_CLOSED;
	}
	b = c->u2c;
	n = snprintf(b->data, b->cap,
		     "HTTP/1.1 %d %s\r\n%sContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
		     status, why, extra, type, blen);
	if (!head_only) {
		memcpy(b->data + n, body, blen);
		n += (int)blen;
	}
	b->end = b->lim = (uint32_t)n;
	c->status = (uint16_t)status;
	c->flags |= CONN_F_RSP_STARTED;
	STAT_INC(c->w->stats.replies[status / 100 % 10]);
	if (c->h != NULL)
		histo_since(&c->w->histo, HISTO_REQUEST, c->lc->metrics_slot, &c->h->t0_us);
	if (alog_enabled(c->w->alog) && c->h != NULL)
		snprintf(c->h->type, sizeof(c->h->type), "%s", type);
	conn_log_request(c,
			 c->up.fd >= 0 || status == 502 || status == 504 ? "TCP_MISS" : "NONE_NONE",
			 conn_close_token(reason), (uint64_t)n);
	return conn_linger(c, reason, err);
}

enum conn_next conn_reply(struct conn *c, int status, enum conn_close_reason reason, int err)
{
	char body[160];
	int blen = snprintf(body, sizeof(body), "%d %s\n", status, http_reason(status));

	return reply_with(c, status, "", "text/plain", body, (size_t)blen, reason, err);
}

/* The request names a domain of [acl] deny_domains: 451 Unavailable For
 * Legal Reasons (RFC 7725) with the operator's body, or a redirect. */
enum conn_next conn_http_deny(struct conn *c)
{
	static const char dflt[] = "451 Unavailable For Legal Reasons\n";
	char loc[600];

	STAT_INC(c->w->stats.http_denied);
	if (c->cfg->deny_http == DENY_HTTP_REDIRECT) {
		snprintf(loc, sizeof(loc), "Location: %s\r\n", c->cfg->deny_redirect);
		return reply_with(c, 302, loc, "text/plain", "", 0, CONN_CLOSE_ACL_DENIED, 0);
	}
	if (c->cfg->deny_body != NULL)
		return reply_with(c, 451, "", "text/html; charset=utf-8", c->cfg->deny_body,
				  c->cfg->deny_body_len, CONN_CLOSE_ACL_DENIED, 0);
	return reply_with(c, 451, "", "text/plain", dflt, sizeof(dflt) - 1, CONN_CLOSE_ACL_DENIED,
			  0);
}

/* Does the request's authority (absolute-form target, else Host; CONNECT:
 * its target) name a denied domain? */
int conn_http_denied(const struct conn *c, const char *p)
{
	const struct http_msg *m = &c->h->req;
	struct http_span a = (m->flags & HTTP_F_ABSOLUTE_FORM)	  ? m->authority
			     : (m->flags & HTTP_F_METHOD_CONNECT) ? m->target
								  : m->host;

	return a.len > 0 && config_domain_denied(c->cfg, p + a.off, a.len) != DOMAINS_MISS;
}
