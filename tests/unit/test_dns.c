/*
 * test_dns.c — the per-worker resolver (dns.c) driven the way the worker
 * loop drives it (worker_main: poller_wait, dns_on_event per event, then
 * dns_tick), against fake name servers: UDP sockets on 127.0.0.1 that this
 * test answers by hand, so the order of answers within one event batch is
 * under its control. Memory errors show under the ASan build.
 */
#include "remora-config.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns.h"
#include "poller/poller.h"
#include "unit.h"
#include "worker.h"

#define T_A	    1
#define T_AAAA	    28
#define RC_SERVFAIL 2

/* A fake name server: a bound UDP socket. */
struct fake_ns {
	int fd;
	uint16_t port;
};

/* One query a fake server read, kept to be answered later. */
struct query {
	struct fake_ns *ns;
	uint8_t q[512];
	ssize_t len;
	int type; /* T_A or T_AAAA */
	struct sockaddr_in from;
};

static void ns_open(struct fake_ns *ns)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);

	ns->fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_ge(ns->fd, 0);
	ck_assert_int_eq(bind(ns->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(ns->fd, (struct sockaddr *)&a, &len), 0);
	ns->port = ntohs(a.sin_port);
}

/* Reads one query into q (waits up to 2 s). */
static void ns_read(struct fake_ns *ns, struct query *q)
{
	struct pollfd pfd = {.fd = ns->fd, .events = POLLIN};
	socklen_t len = sizeof(q->from);
	size_t off = 12;

	q->ns = ns;
	ck_assert_int_eq(poll(&pfd, 1, 2000), 1);
	q->len = recvfrom(ns->fd, q->q, sizeof(q->q), 0, (struct sockaddr *)&q->from, &len);
	ck_assert_int_gt(q->len, 12 + 5);
	while (off < (size_t)q->len && q->q[off] != 0) /* the question's name */
		off += 1u + q->q[off];
	ck_assert_uint_lt(off + 4, (size_t)q->len);
	q->type = q->q[off + 1] << 8 | q->q[off + 2];
}

/* Answers q: rcode, and for an A query with rcode 0 one address record
 * 198.18.0.1 (TTL 60). */
static void ns_answer(const struct query *q, int rcode)
{
	static const uint8_t rr[] = {0xc0, 12, 0, T_A, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 0, 1};
	uint8_t r[600];
	int with_rr = rcode == 0 && q->type == T_A;
	size_t n = 12;

	memcpy(r, q->q, (size_t)q->len); /* id, question */
	r[2] = 0x81;			 /* QR, RD */
	r[3] = (uint8_t)(0x80 | rcode);
	r[6] = 0;
	r[7] = (uint8_t)with_rr;
	r[8] = r[9] = r[10] = r[11] = 0; /* no authority, no additional (EDNS) */
	while (r[n] != 0)
		n += 1u + r[n];
	n += 5;
	if (with_rr) {
		memcpy(r + n, rr, sizeof(rr));
		n += sizeof(rr);
	}
	ck_assert_int_eq(
		sendto(q->ns->fd, r, n, 0, (const struct sockaddr *)&q->from, sizeof(q->from)),
		(ssize_t)n);
}

static int answered;
static struct dns_answer last;

static void on_done(struct dns_waiter *w, const struct dns_answer *a)
{
	(void)w;
	answered++;
	last = *a;
}

/* One worker-loop turn: returns the number of events in the batch. */
static int loop_once(struct poller *p, struct dns *d, int timeout_ms)
{
	struct poller_event ev[16];
	int n = poller_wait(p, ev, 16, timeout_ms), i;

	ck_assert_int_ge(n, 0);
	for (i = 0; i < n; i++)
		dns_on_event(ev[i].udata, ev[i].events);
	dns_tick(d);
	return n;
}

/* Runs loop turns until one has no event for 100 ms. */
static void loop_idle(struct poller *p, struct dns *d)
{
	while (loop_once(p, d, 100) > 0)
		;
}

/* c-ares closes all its sockets when its last query ends; a second resolver
 * socket with an event later in the same batch must not be used after that
 * (it was freed at once: heap-use-after-free under ASan). */
START_TEST(test_two_servers_one_batch)
{
	struct fake_ns ns1, ns2;
	struct query q1[2], qa2, *qa, *qaaaa;
	struct poller *p;
	struct dns *d;
	struct dns_waiter w = {.done = on_done};
	const struct dns_answer *a = NULL;
	char servers[64];

	ns_open(&ns1);
	ns_open(&ns2);
	snprintf(servers, sizeof(servers), "127.0.0.1:%u,127.0.0.1:%u", ns1.port, ns2.port);
	ck_assert_int_eq(poller_create(&p), 0);
	ck_assert_int_eq(dns_new(&d, p, servers), 0);
	ck_assert_int_eq(dns_resolve(d, "batch.test", &w, &a), 0);
	/* both queries (A, AAAA) go to the first server */
	ns_read(&ns1, &q1[0]);
	ns_read(&ns1, &q1[1]);
	qa = q1[0].type == T_A ? &q1[0] : &q1[1];
	qaaaa = q1[0].type == T_A ? &q1[1] : &q1[0];
	ck_assert_int_eq(qa->type, T_A);
	ck_assert_int_eq(qaaaa->type, T_AAAA);
	/* A fails over to the second server (a second socket) ... */
	ns_answer(qa, RC_SERVFAIL);
	loop_idle(p, d);
	ns_read(&ns2, &qa2);
	ck_assert_int_eq(qa2.type, T_A);
	/* ... AAAA ends on the first (no data): the A query is the last one */
	ns_answer(qaaaa, 0);
	loop_idle(p, d);
	ck_assert_int_eq(answered, 0);
	/* one batch: the second server's answer ends the last query (c-ares
	 * closes both sockets), then a late duplicate on the first socket */
	ns_answer(&qa2, 0);
	ns_answer(qaaaa, 0);
	usleep(50 * 1000);
	ck_assert_int_eq(loop_once(p, d, 1000), 2);
	ck_assert_int_eq(answered, 1);
	ck_assert_int_eq(last.status, 0);
	ck_assert_int_eq(last.n4, 1);
	ck_assert_uint_eq(ntohl(last.a4[0].s_addr), 0xc6120001u);
	loop_idle(p, d);
	dns_free(d);
	poller_destroy(p);
	close(ns1.fd);
	close(ns2.fd);
}
END_TEST

/* worker_fini with a lookup in flight: the resolver closes its sockets
 * through the worker's poller, which must still exist then. */
START_TEST(test_worker_fini_inflight)
{
	static struct config cfg = {.buffer_size = 16384};
	static struct worker wk;
	struct dns_waiter w = {.done = on_done};
	const struct dns_answer *a = NULL;
	struct fake_ns ns;
	struct query q;
	char servers[32];

	ns_open(&ns);
	snprintf(servers, sizeof(servers), "127.0.0.1:%u", ns.port);
	ck_assert_int_eq(worker_init(&wk, 0, &cfg), 0);
	ck_assert_int_eq(dns_new(&wk.dns, wk.poller, servers), 0);
	ck_assert_int_eq(dns_resolve(wk.dns, "never.test", &w, &a), 0);
	ns_read(&ns, &q); /* never answered */
	worker_fini(&wk);
	ck_assert_ptr_null(wk.dns);
	close(ns.fd);
}
END_TEST

/* dns.c's bucket of a lower-case name (FNV-1a, 4096 buckets): mirrored here
 * to make names that share one, as a client choosing Host names can. */
static unsigned bucket_of(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h & 4095;
}

/* Resolves name through ns, answering its queries; returns after the answer. */
static void resolve_answered(struct poller *p, struct dns *d, struct fake_ns *ns, const char *name)
{
	struct dns_waiter w = {.done = on_done};
	const struct dns_answer *a = NULL;
	struct query q[2];
	int before = answered;

	ck_assert_int_eq(dns_resolve(d, name, &w, &a), 0);
	ns_read(ns, &q[0]);
	ns_read(ns, &q[1]);
	ns_answer(&q[0], 0);
	ns_answer(&q[1], 0);
	while (answered == before)
		loop_once(p, d, 1000);
	loop_idle(p, d);
}

/*
 * BUG (dns.c, dns_resolve): a bucket kept every name ever looked up, so
 * names chosen to share one (the hash is public) made each lookup there
 * compare with all of them (up to the 20,000 entries of the cache), and
 * expired answers were never dropped. A bucket now keeps at most 8 answers:
 * a ninth name drops the oldest.
 */
START_TEST(test_bucket_bounded)
{
	struct dns_waiter w = {.done = on_done};
	const struct dns_answer *a = NULL;
	char names[9][32], name[32];
	struct fake_ns ns;
	struct poller *p;
	struct dns *d;
	char servers[32];
	unsigned i, k, b = 0;

	for (i = 0, k = 0; i < 9; k++) {
		snprintf(name, sizeof(name), "n%u.collide.test", k);
		if (i == 0)
			b = bucket_of(name);
		if (bucket_of(name) == b)
			memcpy(names[i++], name, sizeof(name));
	}
	ns_open(&ns);
	snprintf(servers, sizeof(servers), "127.0.0.1:%u", ns.port);
	ck_assert_int_eq(poller_create(&p), 0);
	ck_assert_int_eq(dns_new(&d, p, servers), 0);
	for (i = 0; i < 9; i++)
		resolve_answered(p, d, &ns, names[i]);
	/* the last eight are answered from the cache, the first was dropped */
	for (i = 1; i < 9; i++)
		ck_assert_msg(dns_resolve(d, names[i], &w, &a) == 1, "%s not cached", names[i]);
	ck_assert_msg(dns_resolve(d, names[0], &w, &a) == 0, "%s still cached", names[0]);
	dns_cancel(&w);
	dns_free(d);
	poller_destroy(p);
	close(ns.fd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dns");
	TCase *tc = tcase_create("batch");

	tcase_add_test(tc, test_two_servers_one_batch);
	tcase_add_test(tc, test_worker_fini_inflight);
	tcase_add_test(tc, test_bucket_bounded);
	tcase_set_timeout(tc, 20);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
