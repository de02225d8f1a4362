/*
 * conn_tls.c — the TLS protocol: the first bytes were a TLS record, so the
 * ClientHello is read (src/tls/, never decrypted) while nothing goes
 * upstream; then the flow is checked (policy) and relayed as a tunnel to
 * its original destination — never to the SNI name — starting with the
 * hello, byte for byte as received. Its access-log line names the SNI in the
 * shape Squid writes for peek and splice. Owning worker only.
 */
#include "remora-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "accesslog.h"
#include "conn_http.h" /* the access-log helpers shared with HTTP */
#include "conn_int.h"
#include "domains.h"
#include "histo.h"
#include "stats.h"
#include "tls/tls.h"
#include "worker.h"

_Static_assert(TLS_ERR_MAX <= 16, "worker_stats.tls_malformed is too small");

/* A name policy's watch on a TLS 1.3 hello (TLS_FLIGHT): a server that
 * answers with a HelloRetryRequest reads the client's second ClientHello
 * afresh, server name included, so that one is read and checked too. */
struct tls_watch {
	struct tls_flight f;
	struct tls_hello retry; /* the second ClientHello (once f.server is 1) */
	int rc;			/* tls_hello_parse's last answer on it */
};

struct conn_tls {
	struct tls_hello hello;
	int verdict;		 /* tls_hello_parse's last answer (> 0: complete) */
	uint64_t start_us;	 /* histo_now() at the hello's first byte */
	struct conn_vcheck v;	 /* [http] host_verify of the SNI */
	struct tls_watch *watch; /* TLS_FLIGHT, else NULL */
};

/* TLS alert access_denied (RFC 8446 6.2), fatal, in a TLS 1.2-framed record. */
static const char alert_denied[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x31};

static enum conn_next tls_start(struct conn *c)
{
	c->tls = malloc(sizeof(*c->tls));
	if (c->tls == NULL) {
		conn_close(c, CONN_CLOSE_NO_MEMORY, ENOMEM);
		return CONN_NEXT_CLOSED;
	}
	tls_hello_init(&c->tls->hello, c->cfg->tls_max_hello);
	c->tls->verdict = TLS_NEED_MORE;
	c->tls->watch = NULL;
	c->tls->start_us = histo_now();
	conn_vcheck_init(&c->tls->v, c);
	conn_timer_arm(c, CONN_TIMER_HEADER); /* the hello must come within client_header */
	conn_set_state(c, CONN_ST_TLS_HELLO);
	return CONN_NEXT_AGAIN;
}

static void tls_release(struct conn *c)
{
	if (c->tls != NULL) {
		conn_vcheck_cancel(&c->tls->v);
		free(c->tls->watch);
	}
	free(c->tls);
	c->tls = NULL;
}

/* Counts what the hello offered (remora_tls_*). */
static void count_hello(struct conn *c, const struct tls_hello *h)
{
	struct worker_stats *st = &c->w->stats;
	unsigned v = h->version >= TLS_V_TLS10 && h->version <= TLS_V_TLS13
			     ? h->version - TLS_V_TLS10 + 1
			     : 0;

	STAT_INC(st->tls_version[v]);
	STAT_INC(st->tls_sni[(h->flags & TLS_F_SNI) && h->sni_len > 0]);
	if (h->flags & TLS_F_ECH)
		STAT_INC(st->tls_ech);
}

/* Not a well-formed ClientHello (or one over max_tls_hello): handled per
 * [http] non_http, counted. Refused, whatever non_http says, when a name
 * policy is on: servers accept what the reader does not (a hello padded
 * past the cap), and tunnelling it unread would carry a denied name past
 * the policy. */
static enum conn_next hello_bad(struct conn *c)
{
	enum tls_error e = c->tls->hello.error;

	STAT_INC(c->w->stats.tls_malformed[e < TLS_ERR_MAX ? e : 0]);
	if (c->cfg->non_http == NON_HTTP_REJECT || config_name_policy(c->cfg)) {
		conn_close(c, CONN_CLOSE_NON_HTTP_REJECTED, 0);
		return CONN_NEXT_CLOSED;
	}
	/* a plain tunnel, its bytes as they came */
	tls_release(c);
	conn_set_proto(c, CONN_PROTO_TUNNEL);
	STAT_INC(c->w->stats.tunnels_non_http);
	c->flags |= CONN_F_TUNNEL;
	conn_set_state(c, CONN_ST_RESOLVE);
	return CONN_NEXT_AGAIN;
}

static void tls_log_close(struct conn *c, enum conn_close_reason reason);

/* Refuses a flow by policy: a TLS alert (access_denied), or a reset. The
 * alert goes out as an HTTP refusal does (LINGER): then a FIN, and what the
 * client still sends is read and dropped until it closes, so that closing
 * with unread bytes does not turn into a reset that can discard the alert. */
static enum conn_next deny(struct conn *c, enum conn_close_reason reason)
{
	struct buf *b;

	STAT_INC(c->w->stats.tls_denied);
	if (c->cfg->deny_tls == DENY_TLS_ALERT) {
		buf_put(&c->w->bufs, c->u2c); /* (nothing came from upstream yet) */
		c->u2c = b = buf_get(&c->w->bufs);
		if (b != NULL) {
			memcpy(b->data, alert_denied, sizeof(alert_denied));
			b->start = 0;
			b->end = b->lim = sizeof(alert_denied);
			/* the line now: LINGER releases the hello it names */
			if (alog_enabled(c->w->alog))
				tls_log_close(c, reason);
			return conn_linger(c, reason, 0);
		}
	}
	conn_reset(c, reason, 0);
	return CONN_NEXT_CLOSED;
}

/* A server_name extension that does not hold exactly one valid host name:
 * several names (RFC 6066 allows one), another name type, a name that is
 * not a DNS name. Servers read such names their own way (nginx serves
 * "blocked.example:443" as blocked.example), so with [acl] deny_domains on
 * the hello is refused: the policy cannot say which name would be served. */
static int sni_unclear(const struct tls_hello *h)
{
	return (h->flags & TLS_F_SNI) && (h->n_names != 1 || h->sni_len == 0);
}

/* The hello is complete: policy, then to the original destination. */
static enum conn_next hello_done(struct conn *c)
{
	const struct tls_hello *h = &c->tls->hello;

	count_hello(c, h);
	histo_since(&c->w->histo, HISTO_TLS_HELLO, c->lc->metrics_slot, &c->tls->start_us);
	if (h->sni_len > 0 && config_domain_denied(c->cfg, h->sni, h->sni_len) != DOMAINS_MISS)
		return deny(c, CONN_CLOSE_ACL_DENIED);
	if (c->cfg->deny_domains != NULL && sni_unclear(h))
		return deny(c, CONN_CLOSE_ACL_DENIED);
	/* an ECH outer name is the provider's public name: not the destination's */
	if (!(h->flags & TLS_F_ECH) && sni_unclear(h))
		conn_vcheck_set_unusable(&c->tls->v, c->cfg); /* a name that cannot be checked */
	else if (!(h->flags & TLS_F_ECH))
		conn_vcheck_set(&c->tls->v, c->cfg, h->sni, h->sni_len);
	c->flags |= CONN_F_TUNNEL; /* the hello and all after it go as they are */
	conn_set_state(c, CONN_ST_RESOLVE);
	return CONN_NEXT_AGAIN;
}

static enum conn_next conn_st_tls_hello(struct conn *c)
{
	struct conn_tls *t = c->tls;
	struct buf *b;
	ssize_t n;

	for (;;) {
		b = c->c2u;
		if (b != NULL && b->end > b->start) {
			t->verdict = tls_hello_parse(&t->hello, (const uint8_t *)b->data + b->start,
						     b->end - b->start);
			if (t->verdict > 0)
				return hello_done(c);
			if (t->verdict == TLS_INVALID)
				return hello_bad(c);
		}
		if (c->cli.eof) {
			t->verdict = tls_hello_eof(&t->hello);
			return hello_bad(c);
		}
		if (!c->cli.readable)
			return CONN_NEXT_WAIT;
		/* a hello longer than a relay buffer moves to a buffer of the cap */
		if (b != NULL && buf_room(b) == 0 && b->start == 0 &&
		    b->cap < c->cfg->tls_max_hello &&
		    buf_grow(&c->w->bufs, &c->c2u, c->cfg->tls_max_hello) < 0) {
			conn_close(c, CONN_CLOSE_NO_MEMORY, ENOMEM);
			return CONN_NEXT_CLOSED;
		}
		n = conn_read(c, &c->cli, &c->c2u);
		if (n == -EAGAIN)
			return CONN_NEXT_WAIT;
		if (n < 0)
			return conn_client_failed(c, (int)-n);
	}
}

/* ---- TLS_FLIGHT: a name policy watches for a HelloRetryRequest ---------- */

/* Does the hello go through TLS_FLIGHT? With a name policy on, when it
 * offers TLS 1.3 (a HelloRetryRequest needs it). */
static int watch_wanted(const struct conn *c)
{
	const struct tls_hello *h = &c->tls->hello;

	return config_name_policy(c->cfg) && (h->flags & TLS_F_VERSIONS) &&
	       h->version >= TLS_V_TLS13;
}

/* The second ClientHello names what the first did (RFC 8446 4.1.2 lets a
 * client change only its key shares, cookie, early data and padding). */
static int same_name(const struct tls_hello *a, const struct tls_hello *b)
{
	const uint32_t f = TLS_F_SNI | TLS_F_SNI_MULTIPLE | TLS_F_SNI_INVALID | TLS_F_ECH;

	return ((a->flags ^ b->flags) & f) == 0 && a->n_names == b->n_names &&
	       a->sni_len == b->sni_len && memcmp(a->sni, b->sni, a->sni_len) == 0;
}

/* The flight is decided: what the client sent goes on, as in any tunnel. */
static enum conn_next flight_release(struct conn *c)
{
	free(c->tls->watch);
	c->tls->watch = NULL;
	conn_enter_tunnel(c);
	return CONN_NEXT_AGAIN;
}

/* The server asked again (HelloRetryRequest): reads the second ClientHello
 * from the first held byte (c2u->lim; nothing after it has gone). Its name
 * must be the first's; otherwise it is refused as the first would have
 * been, and the line names the second hello. */
static enum conn_next flight_retry(struct conn *c)
{
	struct tls_watch *wt = c->tls->watch;
	struct buf *b = c->c2u;

	if (b != NULL && b->end > b->lim)
		wt->rc = tls_hello_parse(&wt->retry, (const uint8_t *)b->data + b->lim,
					 b->end - b->lim);
	if (wt->rc == TLS_NEED_MORE && c->cli.eof)
		wt->rc = tls_hello_eof(&wt->retry);
	if (wt->rc == TLS_NEED_MORE)
		return CONN_NEXT_WAIT;
	if (wt->rc == TLS_INVALID) {
		c->tls->hello.error = wt->retry.error;
		STAT_INC(c->w->stats.tls_malformed[wt->retry.error < TLS_ERR_MAX ? wt->retry.error
										 : 0]);
		conn_close(c, CONN_CLOSE_NON_HTTP_REJECTED, 0);
		return CONN_NEXT_CLOSED;
	}
	if (!same_name(&c->tls->hello, &wt->retry)) {
		c->tls->hello = wt->retry;
		return deny(c, CONN_CLOSE_ACL_DENIED);
	}
	return flight_release(c);
}

/* A leg failed while the flight was watched: as in a tunnel (conn_abort
 * keeps only the client bytes that passed the watch). */
static enum conn_next flight_failed(struct conn *c, enum conn_close_reason reason, ssize_t n)
{
	if (n == -ENOMEM)
		conn_close(c, CONN_CLOSE_NO_MEMORY, ENOMEM);
	else if (reason == CONN_CLOSE_UPSTREAM_RESET)
		conn_abort(c, CONN_ABORT_CLIENT, reason, (int)-n);
	else
		return conn_client_failed(c, (int)-n);
	return c->state == CONN_ST_CLOSED ? CONN_NEXT_CLOSED : CONN_NEXT_AGAIN;
}

/* Reads what side has into *bp when there is room (a buffer of the hello
 * cap for the client's held bytes). 0 when nothing was read. */
static ssize_t flight_read(struct conn *c, struct conn_side *s, struct buf **bp)
{
	struct buf *b = *bp;

	if (!s->readable || s->eof)
		return 0;
	if (b != NULL && buf_room(b) == 0 && b->start == 0) {
		if (b->lim > 0 || b->cap >= c->cfg->tls_max_hello ||
		    buf_grow(&c->w->bufs, bp, c->cfg->tls_max_hello) < 0)
			return 0; /* full: the upstream takes what passed first */
	}
	return conn_read(c, s, bp);
}

/* Moves the bytes that may move, once each way. Returns the bytes moved,
 * or -1 (the step is in *next). */
static long flight_step(struct conn *c, enum conn_next *next)
{
	struct tls_flight *f = &c->tls->watch->f;
	long moved = 0;
	ssize_t n;

	if (c->c2u != NULL && !f->held)
		c->c2u->lim += (uint32_t)tls_flight_client(
			f, (const uint8_t *)c->c2u->data + c->c2u->lim, c->c2u->end - c->c2u->lim);
	if (c->c2u != NULL && c->c2u->start < c->c2u->lim && c->up.writable) {
		n = conn_write(c, &c->up, &c->c2u);
		if (n < 0 && n != -EAGAIN)
			goto up_failed;
		moved += n > 0 ? n : 0;
	}
	if (c->u2c != NULL)
		c->u2c->lim = c->u2c->end; /* the origin's bytes are not held */
	if (c->u2c != NULL && c->cli.writable) {
		n = conn_write(c, &c->cli, &c->u2c);
		if (n < 0 && n != -EAGAIN) {
			*next = flight_failed(c, CONN_CLOSE_CLIENT_RESET, n);
			return -1;
		}
		moved += n > 0 ? n : 0;
	}
	n = flight_read(c, &c->up, &c->u2c);
	if (n > 0)
		tls_flight_server(f, (const uint8_t *)c->u2c->data + c->u2c->end - n, (size_t)n);
	else if (n < 0 && n != -EAGAIN)
		goto up_failed;
	moved += n > 0 ? n : 0;
	n = flight_read(c, &c->cli, &c->c2u);
	if (n < 0 && n != -EAGAIN) {
		*next = flight_failed(c, CONN_CLOSE_CLIENT_RESET, n);
		return -1;
	}
	return moved + (n > 0 ? n : 0);
up_failed:
	*next = flight_failed(c, CONN_CLOSE_UPSTREAM_RESET, n);
	return -1;
}

/*
 * TLS_FLIGHT. The hello's records go upstream; the client's later records
 * pass while they cannot carry a ClientHello (change_cipher_spec, alerts,
 * 0-RTT data), the first other one is held; the origin's bytes go to the
 * client as they come. The origin's first handshake message decides: a
 * HelloRetryRequest makes the held bytes the second ClientHello, checked
 * (flight_retry); anything else (a ServerHello, an alert, its FIN) releases
 * them and the flow is a tunnel. Bounded: a few bytes of walk state, the
 * held bytes within max_tls_hello.
 */
static enum conn_next conn_st_tls_flight(struct conn *c)
{
	struct tls_watch *wt = c->tls->watch;
	enum conn_next next = CONN_NEXT_WAIT;
	long moved, total = 0;

	do {
		moved = flight_step(c, &next);
		if (moved < 0)
			return next;
		total += moved;
		if (c->up.eof && wt->f.server == TLS_NEED_MORE)
			wt->f.server = 0; /* the origin closed: it asks nothing */
		if (wt->f.server == 0 || (c->cli.eof && !wt->f.held))
			return flight_release(c);
		if (wt->f.server == 1 && wt->retry.max_len == 0) {
			tls_hello_init(&wt->retry, c->cfg->tls_max_hello);
			conn_timer_arm(c, CONN_TIMER_HEADER); /* the client answers now */
		}
		if (wt->f.server == 1 && wt->f.held) {
			next = flight_retry(c);
			if (next != CONN_NEXT_WAIT)
				return next;
		}
	} while (moved > 0 && total < RELAY_BUDGET);
	return moved > 0 ? CONN_NEXT_YIELD : CONN_NEXT_WAIT;
}

static enum conn_next tls_resolved(struct conn *c)
{
	conn_set_state(c, c->tls != NULL && conn_vcheck_pending(&c->tls->v, c->cfg)
				  ? CONN_ST_VERIFY
				  : CONN_ST_UP_CONNECT);
	return CONN_NEXT_AGAIN;
}

static enum conn_next tls_verified(struct conn *c)
{
	conn_set_state(c, CONN_ST_UP_CONNECT);
	return CONN_NEXT_AGAIN;
}

static struct conn_vcheck *tls_vcheck(struct conn *c)
{
	return &c->tls->v;
}

static enum conn_next tls_connected(struct conn *c)
{
	if (c->tls != NULL && c->tls->verdict > 0 && watch_wanted(c)) {
		c->tls->watch = calloc(1, sizeof(*c->tls->watch));
		if (c->tls->watch == NULL) {
			conn_close(c, CONN_CLOSE_NO_MEMORY, ENOMEM);
			return CONN_NEXT_CLOSED;
		}
		c->tls->watch->rc = TLS_NEED_MORE;
		tls_flight_init(&c->tls->watch->f);
		if (c->c2u != NULL) /* the hello's records pass; what follows is watched */
			c->c2u->lim = c->c2u->start + c->tls->hello.records_len;
		c->flags |= CONN_F_TUNNEL;
		conn_timer_arm(c, CONN_TIMER_TUNNEL);
		conn_set_state(c, CONN_ST_TLS_FLIGHT);
		return CONN_NEXT_AGAIN;
	}
	conn_enter_tunnel(c);
	return CONN_NEXT_AGAIN;
}

/* No status to answer with: a failed connect looks like one (a reset), a
 * policy refusal is a reset too (or an alert, [acl] deny_tls = alert). */
static enum conn_next tls_refuse(struct conn *c, int status, enum conn_close_reason reason, int err)
{
	if (status < 500 && c->tls != NULL && c->tls->verdict > 0)
		return deny(c, reason);
	conn_reset(c, reason, err);
	return CONN_NEXT_CLOSED;
}

static int tls_timeout(struct conn *c, enum conn_timer t)
{
	if (t == CONN_TIMER_HEADER && c->state == CONN_ST_TLS_HELLO)
		STAT_INC(c->w->stats.tls_malformed[TLS_ERR_TRUNCATED]);
	return 0; /* the transport's defaults */
}

/* Squid's shape for a spliced TLS flow:
 *   TCP_TUNNEL/200 <bytes> CONNECT <sni>:<port> - ORIGINAL_DST/<ip> -
 * (the IP when there is no SNI); JSON adds sni, alpn, tls_versions, ech,
 * ja4 and the bytes sent upstream. */
static void tls_log_close(struct conn *c, enum conn_close_reason reason)
{
	const struct tls_hello *h = c->tls != NULL && c->tls->verdict > 0 ? &c->tls->hello : NULL;
	char alpn[TLS_ALPN_BUF + TLS_ALPN_KEEP + 1] = "", versions[8 * TLS_VERSIONS_KEEP] = "";
	struct alog_tls lt;
	unsigned i;
	size_t n;

	if (h == NULL)
		return; /* no complete hello: nothing but the close */
	for (i = 0, n = 0; i < h->n_alpn_kept; i++)
		n += (size_t)snprintf(alpn + n, sizeof(alpn) - n, "%s%.*s", i ? "," : "",
				      h->alpn[i].len, h->alpn_buf + h->alpn[i].off);
	for (i = 0, n = 0; i < h->n_versions && n < sizeof(versions); i++)
		if (!tls_is_grease(h->versions[i]))
			n += (size_t)snprintf(versions + n, sizeof(versions) - n, "%s%s",
					      n ? "," : "", tls_version_str(h->versions[i]));
	lt = (struct alog_tls){
		.sni = h->sni,
		.alpn = alpn,
		.versions = versions[0] ? versions : tls_version_str(h->version),
		.ja4 = h->ja4,
		.ech = (h->flags & TLS_F_ECH) != 0,
		.denied = reason == CONN_CLOSE_ACL_DENIED || reason == CONN_CLOSE_HOST_MISMATCH ||
			  reason == CONN_CLOSE_DST_FORBIDDEN || reason == CONN_CLOSE_LOOP_GUARD,
		.bytes_up = c->bytes_in,
	};
	conn_log_tls(c, &lt, conn_close_token(reason));
}

static const conn_state_fn tls_states[CONN_ST_MAX] = {
	[CONN_ST_TLS_HELLO] = conn_st_tls_hello,
	[CONN_ST_VERIFY] = conn_st_verify,
	[CONN_ST_TLS_FLIGHT] = conn_st_tls_flight,
};

const struct conn_proto conn_proto_tls = {
	.name = "tls",
	.states = tls_states,
	.start = tls_start,
	.resolved = tls_resolved,
	.connected = tls_connected,
	.vcheck = tls_vcheck,
	.verified = tls_verified,
	.refuse = tls_refuse,
	.timeout = tls_timeout,
	.log_close = tls_log_close,
	.release = tls_release,
};
