/*
 * conn_verify.c — the VERIFY state, shared by the protocols: [http]
 * host_verify resolves a name the client gave (HTTP Host, TLS SNI) with
 * c-ares (the worker's resolver) and compares the answer with the flow's
 * original destination; strict refuses a mismatch (the protocol's way: 409,
 * a TLS alert or reset), log only logs it. Owning worker only.
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

/* ---- the name check ------------------------------------------------------- */
void conn_vcheck_init(struct conn_vcheck *v, struct conn *c)
{
	v->state = 0;
	v->match = 0;
	v->failed = 0;
	v->unusable = 0;
	v->conn = c;
	CDS_INIT_LIST_HEAD(&v->waiter.link);
	v->name[0] = '\0';
}

void conn_vcheck_set(struct conn_vcheck *v, const struct config *cfg, const char *host, size_t len)
{
	const char *q = host, *e = host + len, *colon;

	v->name[0] = '\0';
	v->unusable = 0;
	if (cfg->host_verify == HOST_VERIFY_OFF || len == 0)
		return;
	if (*q == '[') { /* IP literal */
		colon = memchr(q, ']', (size_t)(e - q));
		if (colon == NULL) {
			conn_vcheck_set_unusable(v, cfg);
			return;
		}
		q++;
		e = colon;
	} else if ((colon = memchr(q, ':', (size_t)(e - q))) != NULL) {
		e = colon;
	}
	/* a name that cannot be checked must not pass unchecked */
	if (e == q || (size_t)(e - q) >= sizeof(v->name)) {
		conn_vcheck_set_unusable(v, cfg);
		return;
	}
	memcpy(v->name, q, (size_t)(e - q));
	v->name[e - q] = '\0';
}

void conn_vcheck_set_unusable(struct conn_vcheck *v, const struct config *cfg)
{
	v->name[0] = '\0';
	v->unusable = cfg->host_verify != HOST_VERIFY_OFF;
}

int conn_vcheck_pending(const struct conn_vcheck *v, const struct config *cfg)
{
	return (v->name[0] != '\0' || v->unusable) && cfg->host_verify != HOST_VERIFY_OFF;
}

void conn_vcheck_cancel(struct conn_vcheck *v)
{
	if (v->state == 1)
		dns_cancel(&v->waiter); /* closed while a lookup was out */
}

/* The DNS answer arrived (worker thread, from inside c-ares): note it and run
 * the connection after this batch, not from inside the resolver. */
static void verify_done(struct dns_waiter *w, const struct dns_answer *a)
{
	struct conn_vcheck *v = caa_container_of(w, struct conn_vcheck, waiter);
	struct conn *c = v->conn;

	v->state = 2;
	v->failed = a->status != 0; /* (a is the cache's: not kept past this call) */
	v->match = !v->failed && dns_answer_has(a, &c->dst);
	if (!c->pending) {
		c->pending = 1;
		c->next_pending = c->w->pending;
		c->w->pending = c;
	}
}

/* Starts the check: an address literal is compared at once, a name is
 * looked up. Returns 1 while a lookup is out. */
static int vcheck_start(struct conn *c, struct conn_vcheck *v)
{
	const struct dns_answer *a = NULL;
	union ic_addr lit;
	int r;

	if (v->unusable) {
		v->state = 2; /* as a failed lookup */
		v->failed = 1;
		return 0;
	}
	memset(&lit, 0, sizeof(lit));
	if (inet_pton(AF_INET, v->name, &lit.in4.sin_addr) == 1) {
		v->match = c->dst.sa.sa_family == AF_INET &&
			   lit.in4.sin_addr.s_addr == c->dst.in4.sin_addr.s_addr;
		v->state = 3; /* an address: nothing to look up */
		return 0;
	}
	if (inet_pton(AF_INET6, v->name, &lit.in6.sin6_addr) == 1) {
		v->match = c->dst.sa.sa_family == AF_INET6 &&
			   memcmp(&lit.in6.sin6_addr, &c->dst.in6.sin6_addr, 16) == 0;
		v->state = 3;
		return 0;
	}
	if (c->w->dns == NULL && dns_new(&c->w->dns, c->w->poller, c->cfg->dns_servers) < 0) {
		log_error("host_verify: cannot start the resolver (c-ares)");
		c->w->dns = NULL;
		v->state = 2;
		v->failed = 1;
		return 0;
	}
	v->waiter.done = verify_done;
	v->state = 1; /* an answer inside the call (hosts file) sets 2 */
	r = dns_resolve(c->w->dns, v->name, &v->waiter, &a);
	if (r == 0 && v->state == 1) {
		conn_timer_arm(c, CONN_TIMER_CONNECT);
		return 1;
	}
	if (r != 0) {
		v->state = 2;
		v->failed = !(r > 0 && a->status == 0);
		v->match = !v->failed && dns_answer_has(a, &c->dst);
	}
	return 0;
}

enum conn_next conn_st_verify(struct conn *c)
{
	struct conn_vcheck *v = c->proto->vcheck(c);
	const char *result, *what = c->proto == c->w->protos[CONN_PROTO_TLS] ? "SNI" : "Host";

	if (v->state == 0 && vcheck_start(c, v))
		return CONN_NEXT_WAIT;
	if (v->state == 1)
		return CONN_NEXT_WAIT;
	result = v->match ? "match" : v->state == 2 && v->failed ? "failed" : "mismatch";
	STAT_INC(c->w->stats.host_verify[v->match ? 0 : v->state == 2 && v->failed ? 2 : 1]);
	if (!v->match) {
		char dst[IC_ADDR_STRLEN];

		log_msg(c->cfg->host_verify == HOST_VERIFY_LOG ? LOG_INFO : LOG_DEBUG,
			"conn %u.%llu host_verify: %s %s: lookup %s for %s (%s)", c->w->id,
			(unsigned long long)c->id, what,
			v->unusable ? "(not a name that can be looked up)" : v->name, result,
			ic_addr_format(&c->dst, dst, sizeof(dst)),
			c->cfg->host_verify == HOST_VERIFY_LOG ? "logged, forwarded" : "refused");
	}
	v->name[0] = '\0'; /* checked for this request */
	v->unusable = 0;
	v->state = 0;
	if (v->match || c->cfg->host_verify == HOST_VERIFY_LOG)
		return c->proto->verified(c);
	return c->proto->refuse(c, 409, CONN_CLOSE_HOST_MISMATCH, 0);
}
