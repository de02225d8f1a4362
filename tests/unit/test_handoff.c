/*
 * test_handoff.c — the acceptor → worker hand-off queue, used the way the
 * acceptor (worker_hand_off) and the worker (take_hand_offs in worker.c,
 * replicated here because it is static) use it: one wait-free cds_wfcq per
 * worker, a wake-up only when the queue goes from empty to non-empty, and a
 * consumer that splices the whole queue at once.
 */
#include "remora-config.h"

#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <urcu/wfcqueue.h>

#include "conn.h"
#include "poller/poller.h"
#include "unit.h"
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

START_TEST(first_hand_off_wakes)
{
	struct conn *c = fake_conn(1), *got[4];

	worker_hand_off(&w, c);
	ck_assert_uint_eq(worker_load(&w), 1);
	ck_assert_int_eq(pending_wakes(1000), 1);
	ck_assert_int_eq(pending_wakes(0), 0); /* acknowledged */
	ck_assert_uint_eq(take_all(got, 4), 1);
	ck_assert_ptr_eq(got[0], c);
	free_all(got, 1);
}
END_TEST

START_TEST(two_hand_offs_one_wake)
{
	struct conn *a = fake_conn(1), *b = fake_conn(2), *got[4];

	worker_hand_off(&w, a);
	worker_hand_off(&w, b);
	ck_assert_uint_eq(worker_load(&w), 2);
	ck_assert_int_eq(pending_wakes(1000), 1);
	ck_assert_int_eq(pending_wakes(0), 0);
	ck_assert_uint_eq(take_all(got, 4), 2);
	ck_assert_ptr_eq(got[0], a); /* FIFO */
	ck_assert_ptr_eq(got[1], b);
	free_all(got, 2);
}
END_TEST

/* Coalescing wake-ups alone could hide a second poller_wake(); here the first
 * wake-up is consumed before the second hand-off, so a wake on a non-empty
 * queue would show. */
START_TEST(hand_off_to_non_empty_queue_does_not_wake)
{
	struct conn *a = fake_conn(1), *b = fake_conn(2), *c = fake_conn(3), *got[4];

	worker_hand_off(&w, a);
	ck_assert_int_eq(pending_wakes(1000), 1);
	worker_hand_off(&w, b); /* queue still holds a: no wake-up */
	ck_assert_int_eq(pending_wakes(0), 0);
	worker_hand_off(&w, c);
	ck_assert_int_eq(pending_wakes(0), 0);
	ck_assert_uint_eq(take_all(got, 4), 3);
	ck_assert(got[0] == a && got[1] == b && got[2] == c);
	free_all(got, 3);
}
END_TEST

START_TEST(hand_off_after_splice_wakes_again)
{
	struct conn *got[4];
	int round;

	for (round = 0; round < 3; round++) {
		struct conn *a = fake_conn(1), *b = fake_conn(2);

		worker_hand_off(&w, a);
		worker_hand_off(&w, b);
		ck_assert_int_eq(pending_wakes(1000), 1);
		ck_assert_uint_eq(take_all(got, 4), 2);
		ck_assert_int_eq(pending_wakes(0), 0);
		ck_assert(cds_wfcq_empty(&w.qhead, &w.qtail));
		free_all(got, 2);
	}
	ck_assert_uint_eq(worker_load(&w), 6);
}
END_TEST

/* A wake-up that arrives before the splice is not lost, and one already
 * pending when the consumer splices leads at worst to an empty splice. */
START_TEST(wake_pending_across_splice)
{
	struct conn *a = fake_conn(1), *b = fake_conn(2), *got[4];

	worker_hand_off(&w, a);
	ck_assert_uint_eq(take_all(got, 4), 1); /* spliced before the wake is read */
	free_all(got, 1);
	worker_hand_off(&w, b); /* empty again: wakes (coalesced) */
	ck_assert_int_eq(pending_wakes(1000), 1);
	ck_assert_uint_eq(take_all(got, 4), 1);
	ck_assert_ptr_eq(got[0], b);
	free_all(got, 1);
	ck_assert_int_eq(pending_wakes(0), 0);
	ck_assert_uint_eq(take_all(got, 4), 0);
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
		worker_hand_off(&w, c);
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
	tcase_add_test(tc, first_hand_off_wakes);
	tcase_add_test(tc, two_hand_offs_one_wake);
	tcase_add_test(tc, hand_off_to_non_empty_queue_does_not_wake);
	tcase_add_test(tc, hand_off_after_splice_wakes_again);
	tcase_add_test(tc, wake_pending_across_splice);
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
