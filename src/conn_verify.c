/*
 * conn_verify.c — the VERIFY state of the HTTP exchange: [http] host_verify
 * resolves the request's Host (c-ares, the worker's resolver) and compares
 * the answer with the flow's original destination; strict refuses a
 * mismatch with 409, log only logs it. Owning worker only.
 */
#include "remora-config.h"

#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "conn_http.h"
#include "dns.h"
#include "log.h"
#include "stats.h"
#include "worker.h"

/* ---- Host verification --------------------------------------------------- */
/* Keeps the Host name (no port, no brackets) when [http] host_verify is on. */
void conn_capture_vhost(struct conn *c, const char *p)
{
	struct conn_http *h = c->h;
	struct http_span host =
		h->req.flags & HTTP_F_ABSOLUTE_FORM ? h->req.authority : h->req.host;
	const char *q = p + host.off, *e = q + host.len, *colon;

	h->vhost[0] = '\0';
	/* CONNECT names where an explicit proxy (the original destination)
	 * should connect: not a name for the destination itself */
	if (c->cfg->host_verify == HOST_VERIFY_OFF || host.len == 0 ||
	    (h->req.flags & HTTP_F_METHOD_CONNECT))
		return;
	if (*q == '[') { /* IP literal */
		colon = memchr(q, ']', (size_t)(e - q));
		if (colon == NULL)
			return;
		q++;
		e = colon;
	} else if ((colon = memchr(q, ':', (size_t)(e - q))) != NULL) {
		e = colon;
	}
	if (e > q && (size_t)(e - q) < sizeof(h->vhost)) {
		memcpy(h->vhost, q, (size_t)(e - q));
		h->vhost[e - q] = '\0';
	}
}

int conn_needs_verify(const struct conn *c)
{
	return c->h != NULL && c->h->vhost[0] != '\0' && c->cfg->host_verify != HOST_VERIFY_OFF;
}

/* The DNS answer arrived (worker thread, from inside c-ares): note it and run
 * the connection after this batch, not from inside the resolver. */
static void verify_done(struct dns_waiter *w, const struct dns_answer *a)
{
	struct conn_http *h = caa_container_of(w, struct conn_http, waiter);
	struct conn *c = h->conn;

	h->verify = 2;
	h->answer = a->status == 0 ? a : NULL;
	h->vmatch = h->answer != NULL && dns_answer_has(a, &c->dst);
	if (!c->pending) {
		c->pending = 1;
		c->next_pending = c->w->pending;
		c->w->pending = c;
	}
}

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

enum conn_next conn_st_verify(struct conn *c)
{
	struct conn_http *h = c->h;
	const struct dns_answer *a = NULL;
	union ic_addr lit;
	const char *result;
	int r;

	if (h->verify == 0) {
		memset(&lit, 0, sizeof(lit));
		if (inet_pton(AF_INET, h->vhost, &lit.in4.sin_addr) == 1) {
			lit.sa.sa_family = AF_INET;
			h->vmatch = c->dst.sa.sa_family == AF_INET &&
				    lit.in4.sin_addr.s_addr == c->dst.in4.sin_addr.s_addr;
			h->verify = 3; /* an address: nothing to look up */
		} else if (inet_pton(AF_INET6, h->vhost, &lit.in6.sin6_addr) == 1) {
			h->vmatch = c->dst.sa.sa_family == AF_INET6 &&
				    memcmp(&lit.in6.sin6_addr, &c->dst.in6.sin6_addr, 16) == 0;
			h->verify = 3;
		} else {
			if (c->w->dns == NULL &&
			    dns_new(&c->w->dns, c->w->poller, c->cfg->dns_servers) < 0) {
				log_error("host_verify: cannot start the resolver (c-ares)");
				c->w->dns = NULL;
				h->verify = 2; /* a failed lookup */
			} else {
				h->waiter.done = verify_done;
				h->verify = 1; /* an answer inside the call (hosts file) sets 2 */
				r = dns_resolve(c->w->dns, h->vhost, &h->waiter, &a);
				if (r == 0 && h->verify == 1) {
					conn_timer_arm(c, CONN_TIMER_CONNECT);
					return CONN_NEXT_WAIT;
				}
				if (r != 0) {
					h->verify = 2;
					h->answer = r > 0 && a->status == 0 ? a : NULL;
					h->vmatch = h->answer != NULL && dns_answer_has(a, &c->dst);
				}
			}
		}
	}
	if (h->verify == 1)
		return CONN_NEXT_WAIT;
	result = h->vmatch ? "match" : h->verify == 2 && h->answer == NULL ? "failed" : "mismatch";
	STAT_INC(c->w->stats.host_verify[h->vmatch ? 0 : h->verify == 2 && !h->answer ? 2 : 1]);
	if (!h->vmatch) {
		char dst[IC_ADDR_STRLEN];

		log_msg(c->cfg->host_verify == HOST_VERIFY_LOG ? LOG_INFO : LOG_DEBUG,
			"conn %u.%llu host_verify: Host %s: lookup %s for %s (%s)", c->w->id,
			(unsigned long long)c->id, h->vhost, result,
			ic_addr_format(&c->dst, dst, sizeof(dst)),
			c->cfg->host_verify == HOST_VERIFY_LOG ? "logged, forwarded" : "409");
	}
	h->vhost[0] = '\0'; /* verified for this request */
	if (h->vmatch || c->cfg->host_verify == HOST_VERIFY_LOG)
		return conn_http_to_upstream(c);
	return conn_reply(c, 409, CONN_CLOSE_HOST_MISMATCH, 0);
}
