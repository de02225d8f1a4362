/* admin.c — /metrics and /healthz (see admin.h). */
#include "remora-config.h"

#include <errno.h>
#if HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <urcu/uatomic.h>

#include "admin.h"
#include "http/http.h"
#include "log.h"
#include "poller/poller.h"
#include "stats.h"
#include "tls/tls.h"
#include "textout.h"
#include "util.h"

/* A worker whose loop has not run for this long is not alive. */
#define HEALTH_MAX_AGE_MS     5000
#define ADMIN_DEADLINE_MS     2000 /* a whole exchange: head in, response out */
#define ADMIN_MAX_CONNS	      16
#define ADMIN_EMFILE_PAUSE_MS 100
#define ADMIN_REQ_MAX	      4096
#define ADMIN_METRICS_MAX     (1024 * 1024) /* 64 listeners' histograms fit */

int admin_open(struct admin *ad, const union ic_addr *addr, char *err, size_t errlen)
{
	char a[IC_ADDR_STRLEN];

	memset(ad, 0, sizeof(*ad));
	ad->fd = -1;
	ad->start_ms = now_ms();
	if (addr == NULL)
		return 0;
	ad->addr = *addr;
	ad->fd = ic_listen(addr, IC_MODE_REDIRECT, 64); /* a plain listener */
	if (ad->fd < 0) {
		snprintf(err, errlen, "[admin] cannot listen on %s (%d: %s)",
			 ic_addr_format(addr, a, sizeof(a)), -ad->fd, strerror(-ad->fd));
		ad->fd = -1;
		return -1;
	}
	return 0;
}

int admin_workers_alive(const struct worker *workers, unsigned n, uint64_t max_age_ms)
{
	uint64_t now = now_ms();
	unsigned i;

	for (i = 0; i < n; i++)
		if (now > STAT_GET(workers[i].heartbeat) + max_age_ms)
			return 0;
	return 1;
}

static void help(struct out *o, const char *name, const char *type, const char *text)
{
	out(o, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

/* Sum of one counter over every worker. */
#define SUM(field)                                                   \
	({                                                           \
		uint64_t s_ = 0;                                     \
		for (unsigned i_ = 0; i_ < ad->n_workers; i_++)      \
			s_ += STAT_GET(ad->workers[i_].stats.field); \
		s_;                                                  \
	})

static void metrics_connections(const struct admin *ad, struct out *o)
{
	unsigned i;

	help(o, "remora_connections_open", "gauge", "Client connections open, per worker.");
	for (i = 0; i < ad->n_workers; i++)
		out(o, "remora_connections_open{worker=\"%u\"} %lu\n", i,
		    worker_load(&ad->workers[i]));
	help(o, "remora_connections_accepted_total", "counter",
	     "Client connections taken by each worker.");
	for (i = 0; i < ad->n_workers; i++)
		out(o, "remora_connections_accepted_total{worker=\"%u\"} %llu\n", i,
		    (unsigned long long)STAT_GET(ad->workers[i].stats.accepted));
	help(o, "remora_accept_errors_total", "counter",
	     "accept() failures that affected one client only.");
	out(o, "remora_accept_errors_total %llu\n",
	    (unsigned long long)STAT_GET(ad->acceptor->accept_errors));
	help(o, "remora_limit_pauses_total", "counter",
	     "Times accepting paused because max_connections was reached.");
	out(o, "remora_limit_pauses_total %llu\n",
	    (unsigned long long)STAT_GET(ad->acceptor->limit_pauses));
	help(o, "remora_per_client_refused_total", "counter",
	     "Connections closed because their client was over max_connections_per_client.");
	out(o, "remora_per_client_refused_total %llu\n",
	    (unsigned long long)STAT_GET(ad->acceptor->per_client_refused));
	help(o, "remora_handoff_failures_total", "counter",
	     "Accepted connections closed because no memory was left to hand them off.");
	out(o, "remora_handoff_failures_total %llu\n",
	    (unsigned long long)STAT_GET(ad->acceptor->handoff_failed));
}

/* TLS flows: by the highest version the hello offered, with and without a
 * server name, ECH, refused by policy, malformed hellos by cause. */
static void metrics_tls(const struct admin *ad, struct out *o)
{
	static const char *const vers[] = {"other", "1.0", "1.1", "1.2", "1.3"};
	unsigned k;

	help(o, "remora_tls_flows_total", "counter",
	     "TLS ClientHellos read, by the highest version offered.");
	for (k = 0; k < 5; k++)
		out(o, "remora_tls_flows_total{version=\"%s\"} %llu\n", vers[k],
		    (unsigned long long)SUM(tls_version[k]));
	help(o, "remora_tls_sni_total", "counter", "TLS ClientHellos with and without SNI.");
	out(o, "remora_tls_sni_total{sni=\"no\"} %llu\n", (unsigned long long)SUM(tls_sni[0]));
	out(o, "remora_tls_sni_total{sni=\"yes\"} %llu\n", (unsigned long long)SUM(tls_sni[1]));
	help(o, "remora_tls_ech_total", "counter",
	     "TLS ClientHellos with Encrypted Client Hello (the SNI seen is the outer name).");
	out(o, "remora_tls_ech_total %llu\n", (unsigned long long)SUM(tls_ech));
	help(o, "remora_http_denied_total", "counter",
	     "HTTP requests refused by [acl] deny_domains (451 or a redirect).");
	out(o, "remora_http_denied_total %llu\n", (unsigned long long)SUM(http_denied));
	help(o, "remora_tls_denied_total", "counter", "TLS flows refused by [acl] deny_domains.");
	out(o, "remora_tls_denied_total %llu\n", (unsigned long long)SUM(tls_denied));
	help(o, "remora_tls_malformed_total", "counter",
	     "Flows whose first bytes were not a well-formed TLS ClientHello, by cause.");
	for (k = 1; k < TLS_ERR_MAX; k++)
		out(o, "remora_tls_malformed_total{error=\"%s\"} %llu\n",
		    tls_error_name((enum tls_error)k), (unsigned long long)SUM(tls_malformed[k]));
}

static void metrics_traffic(const struct admin *ad, struct out *o)
{
	unsigned k;

	help(o, "remora_responses_total", "counter",
	     "Responses sent to clients by status class (upstream's and Remora's own).");
	for (k = 1; k <= 5; k++)
		out(o, "remora_responses_total{class=\"%uxx\"} %llu\n", k,
		    (unsigned long long)SUM(replies[k]));
	help(o, "remora_bytes_total", "counter", "Bytes relayed, by direction.");
	out(o, "remora_bytes_total{direction=\"from_clients\"} %llu\n",
	    (unsigned long long)SUM(bytes_in));
	out(o, "remora_bytes_total{direction=\"to_clients\"} %llu\n",
	    (unsigned long long)SUM(bytes_out));
	help(o, "remora_bytes_spliced_total", "counter",
	     "Bytes to clients moved by splice() without a copy.");
	out(o, "remora_bytes_spliced_total %llu\n", (unsigned long long)SUM(bytes_spliced));
	help(o, "remora_bytes_spliced_from_clients_total", "counter",
	     "Bytes from clients moved by splice() without a copy (tunnels).");
	out(o, "remora_bytes_spliced_from_clients_total %llu\n",
	    (unsigned long long)SUM(bytes_spliced_in));
	help(o, "remora_splice_pipes_small_total", "counter",
	     "New splice pipes that came out too small (fs.pipe-user-pages-soft): copied instead.");
	{
		uint64_t small = 0;

		for (unsigned i = 0; i < ad->n_workers; i++)
			small += STAT_GET(ad->workers[i].pipes.small);
		out(o, "remora_splice_pipes_small_total %llu\n", (unsigned long long)small);
	}
	help(o, "remora_tunnels_total", "counter", "Connections turned into byte tunnels.");
	out(o, "remora_tunnels_total{kind=\"non_http\"} %llu\n",
	    (unsigned long long)SUM(tunnels_non_http));
	out(o, "remora_tunnels_total{kind=\"upgrade\"} %llu\n",
	    (unsigned long long)SUM(tunnels_upgrade));
	out(o, "remora_tunnels_total{kind=\"tls\"} %llu\n", (unsigned long long)SUM(tunnels_tls));
	out(o, "remora_tunnels_total{kind=\"server_first\"} %llu\n",
	    (unsigned long long)SUM(tunnels_server_first));
	out(o, "remora_tunnels_total{kind=\"connect\"} %llu\n",
	    (unsigned long long)SUM(tunnels_connect));
	help(o, "remora_responses_raw_total", "counter",
	     "Origin answers without an HTTP/1.x status line, relayed as a stream.");
	out(o, "remora_responses_raw_total %llu\n", (unsigned long long)SUM(responses_raw));
	metrics_tls(ad, o);
}

static void metrics_upstream(const struct admin *ad, struct out *o)
{
	unsigned e;
	uint64_t v;

	help(o, "remora_upstream_connect_failures_total", "counter",
	     "Upstream connect() failures by errno.");
	for (e = 1; e < WORKER_ERRNO_MAX; e++) {
		v = SUM(connect_errno[e]);
		if (v != 0)
			out(o, "remora_upstream_connect_failures_total{errno=\"%s\"} %llu\n",
			    strerrorname_np((int)e) ? strerrorname_np((int)e) : "?",
			    (unsigned long long)v);
	}
	help(o, "remora_spoof_bind_collisions_total", "counter",
	     "client-ip-port binds that collided and fell back to client-ip.");
	out(o, "remora_spoof_bind_collisions_total %llu\n",
	    (unsigned long long)SUM(connect.bind_collisions));
	help(o, "remora_spoof_port_retries_total", "counter",
	     "Spoofed connects retried because no 4-tuple was free.");
	out(o, "remora_spoof_port_retries_total %llu\n",
	    (unsigned long long)SUM(connect.port_exhaustions));
	help(o, "remora_upstream_retries_total", "counter",
	     "Safe requests resent on a new connection after a kept-alive upstream closed.");
	out(o, "remora_upstream_retries_total %llu\n", (unsigned long long)SUM(upstream_retries));
	help(o, "remora_host_verify_total", "counter",
	     "Host verification (host_verify = log | strict) outcomes.");
	out(o, "remora_host_verify_total{result=\"match\"} %llu\n",
	    (unsigned long long)SUM(host_verify[0]));
	out(o, "remora_host_verify_total{result=\"mismatch\"} %llu\n",
	    (unsigned long long)SUM(host_verify[1]));
	out(o, "remora_host_verify_total{result=\"failed\"} %llu\n",
	    (unsigned long long)SUM(host_verify[2]));
	help(o, "remora_orig_dst_failures_total", "counter",
	     "Connections refused because the original destination was not found.");
	out(o, "remora_orig_dst_failures_total %llu\n",
	    (unsigned long long)SUM(closed[CONN_CLOSE_ORIG_DST_FAILED]));
	help(o, "remora_loop_guard_refusals_total", "counter",
	     "Connections refused by the loop guards (own listener address, own Via).");
	out(o, "remora_loop_guard_refusals_total{guard=\"address\"} %llu\n",
	    (unsigned long long)SUM(closed[CONN_CLOSE_LOOP_GUARD]));
	out(o, "remora_loop_guard_refusals_total{guard=\"via\"} %llu\n",
	    (unsigned long long)SUM(closed[CONN_CLOSE_VIA_LOOP]));
}

static void metrics_process(const struct admin *ad, struct out *o)
{
	uint64_t epoch = 1;
	size_t sz = sizeof(epoch), allocated = 0, resident = 0;
	unsigned r;

	help(o, "remora_closes_total", "counter", "Connections closed, by reason.");
	for (r = 1; r < CONN_CLOSE_MAX; r++)
		out(o, "remora_closes_total{reason=\"%s\"} %llu\n", conn_close_token(r),
		    (unsigned long long)SUM(closed[r]));
	if (ad->alog != NULL && alog_enabled(ad->alog)) {
		uint64_t lines = 0, dropped = 0;
		unsigned i;

		for (i = 0; i < ad->alog->n_rings; i++) {
			lines += STAT_GET(ad->alog->rings[i].lines);
			dropped += STAT_GET(ad->alog->rings[i].dropped);
		}
		help(o, "remora_access_log_lines_total", "counter", "Access-log lines, by fate.");
		out(o, "remora_access_log_lines_total{fate=\"queued\"} %llu\n",
		    (unsigned long long)lines);
		out(o, "remora_access_log_lines_total{fate=\"dropped\"} %llu\n",
		    (unsigned long long)dropped);
	}
	help(o, "remora_reloads_total", "counter", "Configuration reloads, by result.");
	out(o, "remora_reloads_total{result=\"ok\"} %llu\n",
	    (unsigned long long)ATOMIC_GET(ad->reloads));
	out(o, "remora_reloads_total{result=\"failed\"} %llu\n",
	    (unsigned long long)ATOMIC_GET(ad->reload_failures));
#if HAVE_JEMALLOC
	/* jemalloc refreshes its statistics when the epoch is bumped */
	(void)mallctl("epoch", NULL, NULL, &epoch, sz);
	sz = sizeof(size_t);
	(void)mallctl("stats.allocated", &allocated, &sz, NULL, 0);
	sz = sizeof(size_t);
	(void)mallctl("stats.resident", &resident, &sz, NULL, 0);
#else
	(void)epoch;
	(void)sz;
#endif
	help(o, "remora_jemalloc_allocated_bytes", "gauge", "Bytes allocated by the process.");
	out(o, "remora_jemalloc_allocated_bytes %zu\n", allocated);
	help(o, "remora_jemalloc_resident_bytes", "gauge", "Bytes of allocator pages resident.");
	out(o, "remora_jemalloc_resident_bytes %zu\n", resident);
	help(o, "remora_uptime_seconds", "gauge", "Seconds since start.");
	out(o, "remora_uptime_seconds %llu\n",
	    (unsigned long long)((now_ms() - ad->start_ms) / 1000));
	help(o, "remora_workers_alive", "gauge", "1 when every worker loop ran within 5 s.");
	out(o, "remora_workers_alive %d\n",
	    admin_workers_alive(ad->workers, ad->n_workers, HEALTH_MAX_AGE_MS));
}

/* The latency histograms: one series per kind and listener name, the sum of
 * every worker's (histo.h). */
static void metrics_histograms(const struct admin *ad, struct out *o)
{
	unsigned k, s, i, n = ad->names != NULL ? histo_names_count(ad->names) : 0;

	for (k = 0; k < HISTO_KINDS; k++) {
		help(o, histo_kind_name(k), "histogram", histo_kind_help(k));
		for (s = 0; s < n; s++) {
			struct histo sum = {{0}, 0};

			for (i = 0; i < ad->n_workers; i++)
				histo_merge(&sum, &ad->workers[i].histo.h[k][s]);
			if (o->len < o->cap)
				o->len += histo_format(o->buf + o->len, o->cap - o->len,
						       histo_kind_name(k), "listener",
						       histo_names_get(ad->names, s), &sum);
		}
	}
}

size_t admin_metrics(const struct admin *ad, char *buf, size_t len)
{
	struct out o = {buf, 0, len};

	metrics_connections(ad, &o);
	metrics_traffic(ad, &o);
	metrics_upstream(ad, &o);
	metrics_process(ad, &o);
	metrics_histograms(ad, &o);
	return o.len;
}

/*
 * The admin server: one thread, its own poller, non-blocking sockets. A slow
 * or silent client cannot hold the port: each connection has ADMIN_DEADLINE_MS
 * in all (not per read) to send its head and take its response, at most
 * ADMIN_MAX_CONNS are open (a new one closes the oldest), and when accept()
 * runs out of descriptors the listener rests ADMIN_EMFILE_PAUSE_MS instead of
 * spinning on a ready listener that cannot be accepted from.
 */
struct admin_conn {
	int fd; /* -1: free slot */
	uint64_t deadline_ms;
	uint64_t since_ms; /* accepted: the oldest is evicted first */
	size_t got;	   /* request bytes read */
	char *out;	   /* the response once the head is in; malloc'd */
	size_t out_len, out_off;
	struct http_msg m;
	char req[ADMIN_REQ_MAX];
};

/* Makes c's response (status line, fields, body), to be sent from now on. */
static void respond(struct admin *ad, struct admin_conn *c, int status, const char *type,
		    const char *body, size_t blen)
{
	size_t cap = blen + 256;
	int n;

	c->out = malloc(cap);
	if (c->out == NULL)
		return; /* closed by the caller */
	n = snprintf(c->out, cap,
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "%sConnection: close\r\n\r\n",
		     status, http_reason(status), type, blen,
		     status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (c->m.flags & HTTP_F_METHOD_HEAD)
		blen = 0; /* the head GET would have had, without its body (RFC 9110 9.3.2) */
	memcpy(c->out + n, body, blen);
	c->out_len = (size_t)n + blen;
	c->out_off = 0;
	(void)poller_set(ad->poller, c->fd, POLLER_OUT, c);
}

/* Answers the complete request head in c->req (r: http_parse's result). */
static void route(struct admin *ad, struct admin_conn *c, int r)
{
	const struct http_msg *m = &c->m;
	size_t blen;

	if (r < 0 || r == HTTP_NEED_MORE) {
		respond(ad, c, 400, "text/plain", "bad request\n", 12);
	} else if (!(m->method.len == 3 && memcmp(c->req + m->method.off, "GET", 3) == 0) &&
		   !(m->flags & HTTP_F_METHOD_HEAD)) {
		respond(ad, c, 405, "text/plain", "GET only\n", 9);
	} else if (m->target.len == 8 && memcmp(c->req + m->target.off, "/metrics", 8) == 0) {
		blen = admin_metrics(ad, ad->scratch, ADMIN_METRICS_MAX);
		respond(ad, c, 200, "text/plain; version=0.0.4", ad->scratch, blen);
	} else if (m->target.len == 8 && memcmp(c->req + m->target.off, "/healthz", 8) == 0) {
		if (admin_workers_alive(ad->workers, ad->n_workers, HEALTH_MAX_AGE_MS))
			respond(ad, c, 200, "text/plain", "ok\n", 3);
		else
			respond(ad, c, 503, "text/plain", "worker stalled\n", 15);
	} else {
		respond(ad, c, 404, "text/plain", "try /metrics or /healthz\n", 25);
	}
}

static void aconn_close(struct admin_conn *c)
{
	close(c->fd); /* also leaves the poller */
	c->fd = -1;
	free(c->out);
	c->out = NULL;
}

/* Reads what c's client sent, or sends what is left of the response; closes
 * c when the exchange is over or failed. */
static void aconn_io(struct admin *ad, struct admin_conn *c)
{
	static const struct http_limits lim = {1024, ADMIN_REQ_MAX, 50, 0};
	ssize_t n;
	int r;

	if (c->out != NULL) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n > 0)
			c->out_off += (size_t)n;
		if ((n == -1 && errno != EAGAIN && errno != EINTR) || c->out_off == c->out_len)
			aconn_close(c);
		return;
	}
	n = recv(c->fd, c->req + c->got, sizeof(c->req) - c->got, 0);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		aconn_close(c);
		return;
	}
	if (n < 0)
		return;
	c->got += (size_t)n;
	r = http_parse(&c->m, c->req, c->got, &lim);
	if (r == HTTP_NEED_MORE && c->got < sizeof(c->req))
		return;
	route(ad, c, r);
	if (c->out == NULL)
		aconn_close(c); /* no memory for the response */
}

/* A slot for a new connection: a free one, else the oldest is closed. */
static struct admin_conn *aconn_slot(struct admin *ad)
{
	struct admin_conn *oldest = &ad->conns[0];
	unsigned i;

	for (i = 0; i < ADMIN_MAX_CONNS; i++) {
		if (ad->conns[i].fd == -1)
			return &ad->conns[i];
		if (ad->conns[i].since_ms < oldest->since_ms)
			oldest = &ad->conns[i];
	}
	aconn_close(oldest);
	return oldest;
}

/* Accepts what the listener holds (a bounded batch). On EMFILE/ENFILE (or no
 * memory) the listener is taken out of the poller for a pause: it stays
 * readable, and polling it would spin without ever accepting. */
static void admin_accept(struct admin *ad, uint64_t now)
{
	struct admin_conn *c;
	unsigned k;
	int fd;

	for (k = 0; k < ADMIN_MAX_CONNS; k++) {
		fd = accept4(ad->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				(void)poller_set(ad->poller, ad->fd, 0, &ad->fd);
				ad->listen_resume_ms = now + ADMIN_EMFILE_PAUSE_MS;
				ATOMIC_ADD(ad->accept_pauses, 1);
			}
			return; /* EAGAIN, or a connection that went away */
		}
		c = aconn_slot(ad);
		c->fd = fd;
		c->since_ms = now;
		c->deadline_ms = now + ADMIN_DEADLINE_MS;
		c->got = 0;
		http_msg_init_request(&c->m, NULL, 0);
		if (poller_add(ad->poller, fd, POLLER_IN, c) < 0)
			aconn_close(c);
	}
}

/* Closes the connections past their deadline; returns the ms until the
 * next deadline or the listener's resumption (at most 250). */
static int admin_timers(struct admin *ad, uint64_t now)
{
	uint64_t next = now + 250;
	unsigned i;

	if (ad->listen_resume_ms != 0 && now >= ad->listen_resume_ms) {
		ad->listen_resume_ms = 0;
		(void)poller_set(ad->poller, ad->fd, POLLER_IN, &ad->fd);
	}
	if (ad->listen_resume_ms != 0 && ad->listen_resume_ms < next)
		next = ad->listen_resume_ms;
	for (i = 0; i < ADMIN_MAX_CONNS; i++) {
		struct admin_conn *c = &ad->conns[i];

		if (c->fd == -1)
			continue;
		if (now >= c->deadline_ms)
			aconn_close(c);
		else if (c->deadline_ms < next)
			next = c->deadline_ms;
	}
	return (int)(next - now);
}

static void *admin_main(void *arg)
{
	struct admin *ad = arg;
	struct poller_event ev[ADMIN_MAX_CONNS + 2];
	int n, i, listener, timeout = 250;

	while (!ATOMIC_GET(ad->stop)) {
		n = poller_wait(ad->poller, ev, ADMIN_MAX_CONNS + 2, timeout);
		listener = 0;
		for (i = 0; i < n; i++) {
			if (ev[i].udata == &ad->fd)
				listener = 1;
			else if (ev[i].udata != NULL &&
				 ((struct admin_conn *)ev[i].udata)->fd != -1)
				aconn_io(ad, ev[i].udata);
		}
		/* accepts last: a slot reused now cannot meet a stale event */
		if (listener)
			admin_accept(ad, now_ms());
		timeout = admin_timers(ad, now_ms());
	}
	return NULL;
}

/* Frees the server's state (admin thread stopped or never started). */
static void admin_free(struct admin *ad)
{
	unsigned i;

	if (ad->conns != NULL)
		for (i = 0; i < ADMIN_MAX_CONNS; i++)
			if (ad->conns[i].fd != -1)
				aconn_close(&ad->conns[i]);
	free(ad->conns);
	ad->conns = NULL;
	free(ad->scratch);
	ad->scratch = NULL;
	poller_destroy(ad->poller);
	ad->poller = NULL;
}

int admin_start(struct admin *ad, struct worker *workers, unsigned n_workers,
		const struct acceptor *a)
{
	unsigned i;
	int rc;

	ad->workers = workers;
	ad->n_workers = n_workers;
	ad->acceptor = a;
	if (ad->fd < 0)
		return 0;
	ad->conns = calloc(ADMIN_MAX_CONNS, sizeof(*ad->conns));
	ad->scratch = malloc(ADMIN_METRICS_MAX);
	rc = ad->conns == NULL || ad->scratch == NULL ? -ENOMEM : poller_create(&ad->poller);
	if (rc == 0)
		rc = poller_add(ad->poller, ad->fd, POLLER_IN, &ad->fd);
	if (rc == 0) {
		for (i = 0; i < ADMIN_MAX_CONNS; i++)
			ad->conns[i].fd = -1;
		/* the thread owns the poller and the connections from here on */
		rc = -pthread_create(&ad->thread, NULL, admin_main, ad);
	}
	if (rc != 0) {
		admin_free(ad);
		return rc;
	}
	ad->started = 1;
	return 0;
}

void admin_stop(struct admin *ad)
{
	if (ad->started) {
		ATOMIC_SET(ad->stop, 1);
		(void)poller_wake(ad->poller);
		pthread_join(ad->thread, NULL);
		ad->started = 0;
	}
	admin_free(ad);
	if (ad->fd >= 0)
		close(ad->fd);
	ad->fd = -1;
}
