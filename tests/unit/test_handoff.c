/*
 * test_handoff.c — the acceptor → worker hand-off queue, used the way the
 * acceptor (worker_hand_off) and the worker (take_hand_offs in worker.c,
 * replicated here because it is static) use it: one wait-free cds_wfcq per
 * worker, the client's fd registered in the worker's poller by the acceptor
 * (readable only) so the first bytes wake the worker and the hand-off does
 * not, a wake-up only for a connection that must start at once, and a
 * consumer that splices the whole queue at once.
 */
#include "remora-config.h"

#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <urcu/wfcqueue.h>

#include "conn.h"
#include "poller/poller.h"
#include "unit.h"
#include "util.h"
#include "worker.h"

#define EVS 8

static struct config cfg;
static struct worker w;
static union ic_addr peer;

static void setup(void)
{
	cfg.buffer_size = 16384;
	cfg.client_header_timeout_ms = 1000;
	cfg.connect_timeout_ms = 1000;
	cfg.idle_timeout_ms = 1000;
	ck_assert_int_eq(ic_addr_parse("192.0.2.1:40000", &peer), 0);
	ck_assert_int_eq(worker_init(&w, 0, &cfg), 0);
	ck_assert_ptr_nonnull(w.poller);
}

static void teardown(void)
{
	worker_fini(&w);
}

/* An accepted connection with a fake fd; conn_new only allocates. */
static struct conn *fake_conn(uint64_t id)
{
	struct conn *c = conn_new(-1, &peer, NULL, &cfg);

	ck_assert_ptr_nonnull(c);
	c->id = id;
	return c;
}

/* Pending wake-ups of the worker's poller (0 or 1; waits up to timeout_ms). */
static int pending_wakes(int timeout_ms)
{
	struct poller_event ev[EVS];
	int n = poller_wait(w.poller, ev, EVS, timeout_ms), i;

	ck_assert_int_ge(n, 0);
	for (i = 0; i < n; i++)
		ck_assert_ptr_null(ev[i].udata); /* nothing else is registered */
	return n;
}

/* take_hand_offs() without conn_start: splices the queue into a private
 * one and moves the conns to out[], in order; returns how many. */
static size_t take_all(struct conn **out, size_t max)
{
	struct cds_wfcq_head head;
	struct cds_wfcq_tail tail;
	struct cds_wfcq_node *node, *next;
	size_t n = 0;

	cds_wfcq_init(&head, &tail);
	/* single consumer: the splice needs no lock */
	if (__cds_wfcq_splice_blocking(&head, &tail, &w.qhead, &w.qtail) ==
	    CDS_WFCQ_RET_SRC_EMPTY) {
		cds_wfcq_destroy(&head, &tail);
		return 0;
	}
	__cds_wfcq_for_each_blocking_safe (&head, &tail, node, next) {
		ck_assert_uint_lt(n, max);
		out[n++] = caa_container_of(node, struct conn, qnode);
		HANDOFF_ACQUIRE(out[n - 1]);
	}
	cds_wfcq_destroy(&head, &tail);
	return n;
}

static void free_all(struct conn **c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(c[i]);
}

START_TEST(fresh_worker_has_nothing)
{
	struct conn *got[4];

	ck_assert(cds_wfcq_empty(&w.qhead, &w.qtail));
	ck_assert_uint_eq(worker_load(&w), 0);
	ck_assert_int_eq(pending_wakes(0), 0);
	ck_assert_uint_eq(take_all(got, 4), 0);
}
END_TEST

/* An accepted connection on one end of a socket pair (*peer_fd: the other,
 * the "client"), as the acceptor hands it off. */
static struct conn *sock_conn(uint64_t id, int *peer_fd)
{
	int sv[2];
	struct conn *c;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	c = conn_new(sv[0], &peer, NULL, &cfg);
	ck_assert_ptr_nonnull(c);
	c->id = id;
	*peer_fd = sv[1];
	return c;
}

static void free_sock_conn(struct conn *c, int peer_fd)
{
	close(c->cli.fd);
	close(peer_fd);
	free(c);
}

/* Events of the worker's poller within timeout_ms: wake-ups counted in
 * *wakes, the first connection event's udata and events returned. */
static int poll_worker(int timeout_ms, int *wakes, void **udata, uint32_t *events)
{
	struct poller_event ev[EVS];
	int n = poller_wait(w.poller, ev, EVS, timeout_ms), i, conns = 0;

	ck_assert_int_ge(n, 0);
	*wakes = 0;
	for (i = 0; i < n; i++) {
		if (ev[i].udata == NULL) {
			(*wakes)++;
		} else if (conns++ == 0) {
			*udata = ev[i].udata;
			*events = ev[i].events;
		}
	}
	return conns;
}

/* The worker is not woken for a hand-off: the connection waits in the queue,
 * its fd already in the worker's poller, readable only (a new socket is
 * writable at once, and that must not wake the worker either). */
START_TEST(hand_off_does_not_wake)
{
	struct conn *c, *got[4];
	int pfd, wakes = 0;
	void *ud = NULL;
	uint32_t ev = 0;

	c = sock_conn(1, &pfd);
	worker_hand_off(&w, c, 0);
	ck_assert_uint_eq(worker_load(&w), 1);
	ck_assert_int_eq(poll_worker(50, &wakes, &ud, &ev), 0);
	ck_assert_int_eq(wakes, 0);
	ck_assert_int_eq(c->cli.registered, 1);
	ck_assert_uint_eq(take_all(got, 4), 1);
	ck_assert_ptr_eq(got[0], c);
	free_sock_conn(c, pfd);
}
END_TEST

/* The client's first bytes wake the worker, with the connection's own event. */
START_TEST(first_bytes_wake_with_the_conn)
{
	struct conn *c, *got[4];
	int pfd, wakes = 0;
	void *ud = NULL;
	uint32_t ev = 0;

	c = sock_conn(1, &pfd);
	worker_hand_off(&w, c, 0);
	ck_assert_int_eq(write(pfd, "GET", 3), 3);
	ck_assert_int_eq(poll_worker(1000, &wakes, &ud, &ev), 1);
	ck_assert_int_eq(wakes, 0);
	ck_assert_ptr_eq(ud, &c->cli);
	ck_assert(ev & POLLER_IN);
	ck_assert(!(ev & POLLER_OUT));
	ck_assert_uint_eq(take_all(got, 4), 1);
	free_sock_conn(c, pfd);
}
END_TEST

/* A connection that must start at once (a forced tunnel) wakes the worker. */
START_TEST(start_now_wakes)
{
	struct conn *a, *b, *got[4];
	int pa, pb, wakes = 0;
	void *ud = NULL;
	uint32_t ev = 0;

	a = sock_conn(1, &pa);
	b = sock_conn(2, &pb);
	worker_hand_off(&w, a, 0);
	worker_hand_off(&w, b, 1);
	ck_assert_int_eq(poll_worker(1000, &wakes, &ud, &ev), 0);
	ck_assert_int_eq(wakes, 1);
	ck_assert_int_eq(poll_worker(0, &wakes, &ud, &ev), 0);
	ck_assert_int_eq(wakes, 0); /* acknowledged */
	ck_assert_uint_eq(take_all(got, 4), 2);
	ck_assert(got[0] == a && got[1] == b); /* FIFO */
	free_sock_conn(a, pa);
	free_sock_conn(b, pb);
}
END_TEST

/* An fd the poller refuses cannot wake the worker by itself: the hand-off
 * wakes it, and conn_start will register the fd. */
START_TEST(unregistered_fd_wakes)
{
	struct conn *c = fake_conn(1), *got[4];
	int wakes = 0;
	void *ud = NULL;
	uint32_t ev = 0;

	worker_hand_off(&w, c, 0);
	ck_assert_int_eq(c->cli.registered, 0);
	ck_assert_int_eq(poll_worker(1000, &wakes, &ud, &ev), 0);
	ck_assert_int_eq(wakes, 1);
	ck_assert_uint_eq(take_all(got, 4), 1);
	ck_assert_ptr_eq(got[0], c);
	free_all(got, 1);
}
END_TEST

/* The stamp the first_bytes timer counts from is the acceptor's. */
START_TEST(accept_time_is_stamped)
{
	uint64_t t0 = now_ms();
	struct conn *c = fake_conn(1);

	ck_assert_uint_ge(c->start_ms, t0);
	ck_assert_uint_le(c->start_ms, now_ms());
	free(c);
}
END_TEST

START_TEST(stop_request_wakes)
{
	worker_request_stop(&w, 0);
	ck_assert_int_eq(pending_wakes(1000), 1);
}
END_TEST

/* ---- multi-producer stress --------------------------------------------- */

#define PRODUCERS     2
#define PER_PROD      100000u
#define ID(prod, seq) (((uint64_t)(prod) << 32) | (seq))

static void *producer(void *arg)
{
	uint64_t prod = (uint64_t)(uintptr_t)arg;
	uint32_t seq;

	for (seq = 0; seq < PER_PROD; seq++) {
		struct conn *c = conn_new(-1, &peer, NULL, &cfg);

		if (c == NULL)
			abort();
		c->id = ID(prod, seq);
		worker_hand_off(&w, c, 1);
	}
	return NULL;
}

START_TEST(stress_two_producers)
{
	pthread_t t[PRODUCERS];
	uint32_t next[PRODUCERS] = {0};
	uint64_t received = 0, wakes = 0;
	struct cds_wfcq_head head;
	struct cds_wfcq_tail tail;
	struct cds_wfcq_node *node, *nx;
	uintptr_t i;

	for (i = 0; i < PRODUCERS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, producer, (void *)i), 0);
	while (received < (uint64_t)PRODUCERS * PER_PROD) {
		/* block as the worker does: a lost wake-up would hang here */
		int n = pending_wakes(5000);

		ck_assert_msg(n == 1, "no wake-up within 5 s with %llu of %llu received",
			      (unsigned long long)received,
			      (unsigned long long)PRODUCERS * PER_PROD);
		wakes++;
		cds_wfcq_init(&head, &tail);
		if (__cds_wfcq_splice_blocking(&head, &tail, &w.qhead, &w.qtail) ==
		    CDS_WFCQ_RET_SRC_EMPTY) {
			cds_wfcq_destroy(&head, &tail);
			continue;
		}
		__cds_wfcq_for_each_blocking_safe (&head, &tail, node, nx) {
			struct conn *c = caa_container_of(node, struct conn, qnode);

			HANDOFF_ACQUIRE(c);
			uint32_t prod = (uint32_t)(c->id >> 32), seq = (uint32_t)c->id;

			ck_assert_uint_lt(prod, PRODUCERS);
			/* per-producer FIFO, each node exactly once */
			ck_assert_msg(seq == next[prod], "producer %u: got %u, expected %u", prod,
				      seq, next[prod]);
			next[prod]++;
			received++;
			free(c);
		}
		cds_wfcq_destroy(&head, &tail);
	}
	for (i = 0; i < PRODUCERS; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < PRODUCERS; i++)
		ck_assert_uint_eq(next[i], PER_PROD);
	ck_assert(cds_wfcq_empty(&w.qhead, &w.qtail));
	ck_assert_uint_eq(worker_load(&w), (uint64_t)PRODUCERS * PER_PROD);
	/* wake-ups are batched: far fewer than hand-offs (at least one) */
	ck_assert_uint_ge(wakes, 1);
	ck_assert_uint_le(wakes, received);
}
END_TEST

static Suite *handoff_suite(void)
{
	Suite *s = suite_create("handoff");
	TCase *tc;

	tc = tcase_create("wake_on_empty_to_non_empty");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, fresh_worker_has_nothing);
	tcase_add_test(tc, hand_off_does_not_wake);
	tcase_add_test(tc, first_bytes_wake_with_the_conn);
	tcase_add_test(tc, start_now_wakes);
	tcase_add_test(tc, unregistered_fd_wakes);
	tcase_add_test(tc, accept_time_is_stamped);
	tcase_add_test(tc, stop_request_wakes);
	suite_add_tcase(s, tc);

	tc = tcase_create("stress");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 50);
	tcase_add_test(tc, stress_two_producers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(handoff_suite());
}
