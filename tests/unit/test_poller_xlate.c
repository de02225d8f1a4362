/*
 * test_poller_xlate.c — the pure half of both poller backends
 * (src/poller/poller_xlate.h), run on Linux without a kqueue: what one
 * kernel event means in poller.h's bits, and which kernel changes
 * poller_add/poller_set/poller_del make.
 *
 * The first table puts the two kernels side by side: for each socket
 * situation, what epoll reports and what kqueue reports (one or two
 * filters), and the bits each backend must hand to the owner. The kqueue
 * column follows FreeBSD's kqueue(2): a socket error arrives as EV_EOF with
 * the error in fflags, never as EV_ERROR.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "poller/poller.h"
#include "poller/poller_xlate.h"
#include "unit.h"

#define IN  POLLER_IN
#define OUT POLLER_OUT
#define ERR POLLER_ERR
#define HUP POLLER_HUP
#define ET  POLLER_ET

#define RD(fl, ff)                                                \
	{                                                         \
		.filter = KQX_READ, .flags = (fl), .fflags = (ff) \
	}
#define WR(fl, ff)                                                 \
	{                                                          \
		.filter = KQX_WRITE, .flags = (fl), .fflags = (ff) \
	}
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- one socket situation, both kernels -------------------------------- */

struct situation {
	const char *name;
	uint32_t epoll;	      /* epoll_event.events */
	struct kqx_kev kq[2]; /* the filters kqueue returns */
	int nkq;
	uint32_t want_epoll;  /* poller.h bits from the epoll backend */
	uint32_t want_kqueue; /* ... and from the kqueue backend (merged) */
};

static const struct situation situations[] = {
	{"readable", EPOLLIN, {RD(0, 0)}, 1, IN, IN},
	{"writable", EPOLLOUT, {WR(0, 0)}, 1, OUT, OUT},
	{"readable and writable", EPOLLIN | EPOLLOUT, {RD(0, 0), WR(0, 0)}, 2, IN | OUT, IN | OUT},
	{"peer FIN (half close): EOF, no error in fflags",
	 EPOLLIN | EPOLLRDHUP,
	 {RD(KQX_EOF, 0)},
	 1,
	 IN | HUP,
	 IN | HUP},
	{"peer FIN with OUT watched",
	 EPOLLIN | EPOLLRDHUP | EPOLLOUT,
	 {RD(KQX_EOF, 0), WR(0, 0)},
	 2,
	 IN | HUP | OUT,
	 IN | HUP | OUT},
	/* test_poller: tcp_reset_reports_error (IN|ET watched) */
	{"reset: EOF with ECONNRESET in fflags",
	 EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR,
	 {RD(KQX_EOF, ECONNRESET)},
	 1,
	 IN | OUT | ERR | HUP,
	 IN | OUT | ERR | HUP},
	/* test_poller: connect_refused_reports_in_out_err (IN|OUT|ET watched) */
	{"refused connect: both filters EOF with ECONNREFUSED",
	 EPOLLIN | EPOLLRDHUP | EPOLLOUT | EPOLLHUP | EPOLLERR,
	 {RD(KQX_EOF, ECONNREFUSED), WR(KQX_EOF, ECONNREFUSED)},
	 2,
	 IN | OUT | ERR | HUP,
	 IN | OUT | ERR | HUP},
	{"refused connect, OUT watched: write-side EOF with the error",
	 EPOLLOUT | EPOLLHUP | EPOLLERR,
	 {WR(KQX_EOF, ECONNREFUSED)},
	 1,
	 IN | OUT | ERR | HUP,
	 IN | OUT | ERR | HUP},
	{"connect timed out: write-side EOF with ETIMEDOUT",
	 EPOLLOUT | EPOLLHUP | EPOLLERR,
	 {WR(KQX_EOF, ETIMEDOUT)},
	 1,
	 IN | OUT | ERR | HUP,
	 IN | OUT | ERR | HUP},
	{"own shutdown(SHUT_WR): write-side EOF, no error",
	 EPOLLOUT,
	 {WR(KQX_EOF, 0)},
	 1,
	 OUT,
	 OUT},
	/* Known difference: kqueue's write-side EOF without an error is the
	 * same for "we shut down" and "the other side is gone", so it cannot
	 * be ERR without lying in the shutdown case; the write finds EPIPE. */
	{"pipe whose reader closed: write-side EOF, no error",
	 EPOLLOUT | EPOLLERR,
	 {WR(KQX_EOF, 0)},
	 1,
	 IN | OUT | ERR,
	 OUT},
	{"clean close of both directions",
	 EPOLLIN | EPOLLRDHUP | EPOLLOUT | EPOLLHUP,
	 {RD(KQX_EOF, 0), WR(KQX_EOF, 0)},
	 2,
	 IN | OUT | ERR | HUP,
	 IN | OUT | HUP},
	{"EV_ERROR answer (a change failed, data = errno)",
	 EPOLLERR,
	 {{.filter = KQX_READ, .flags = KQX_ERROR, .data = EBADF}},
	 1,
	 IN | OUT | ERR,
	 IN | OUT | ERR},
	{"fflags without EV_EOF mean nothing", EPOLLIN, {RD(0, 0x1)}, 1, IN, IN},
};

START_TEST(epoll_event_bits)
{
	const struct situation *s = &situations[_i];

	ck_assert_msg(epx_events(s->epoll) == s->want_epoll, "%s: epoll %#x gave %#x, want %#x",
		      s->name, s->epoll, epx_events(s->epoll), s->want_epoll);
}
END_TEST

START_TEST(kqueue_event_bits)
{
	const struct situation *s = &situations[_i];
	uint32_t got = 0;
	int i;

	for (i = 0; i < s->nkq; i++)
		got |= kqx_events(&s->kq[i]); /* poller_wait merges an fd's filters */
	ck_assert_msg(got == s->want_kqueue, "%s: kqueue gave %#x, want %#x", s->name, got,
		      s->want_kqueue);
}
END_TEST

/* ---- kqueue change lists ----------------------------------------------- */

#define R_ (KQX_RECEIPT)
#define CH(f, fl)                                          \
	{                                                  \
		.fd = 7, .filter = (f), .flags = (fl) | R_ \
	}

struct changes_case {
	const char *name;
	enum poller_op op;
	uint32_t events;
	int n;
	struct kqx_kev want[KQX_MAX_CHANGES];
};

static const struct changes_case changes_cases[] = {
	{"add IN|OUT edge",
	 POLLER_OP_ADD,
	 IN | OUT | ET,
	 2,
	 {CH(KQX_READ, KQX_ADD | KQX_CLEAR), CH(KQX_WRITE, KQX_ADD | KQX_CLEAR)}},
	{"add IN level", POLLER_OP_ADD, IN, 1, {CH(KQX_READ, KQX_ADD)}},
	{"add OUT level", POLLER_OP_ADD, OUT, 1, {CH(KQX_WRITE, KQX_ADD)}},
	{"add silent: nothing to register", POLLER_OP_ADD, 0, 0, {{0}}},
	/* EV_CLEAR of an existing knote cannot change: delete, then add */
	{"set level -> edge: delete and re-add with EV_CLEAR",
	 POLLER_OP_SET,
	 IN | ET,
	 3,
	 {CH(KQX_READ, KQX_DELETE), CH(KQX_WRITE, KQX_DELETE), CH(KQX_READ, KQX_ADD | KQX_CLEAR)}},
	{"set edge -> level: delete and re-add without EV_CLEAR",
	 POLLER_OP_SET,
	 IN | OUT,
	 4,
	 {CH(KQX_READ, KQX_DELETE), CH(KQX_WRITE, KQX_DELETE), CH(KQX_READ, KQX_ADD),
	  CH(KQX_WRITE, KQX_ADD)}},
	{"set OUT only: the read filter goes",
	 POLLER_OP_SET,
	 OUT | ET,
	 3,
	 {CH(KQX_READ, KQX_DELETE), CH(KQX_WRITE, KQX_DELETE), CH(KQX_WRITE, KQX_ADD | KQX_CLEAR)}},
	{"set silent", POLLER_OP_SET, 0, 2, {CH(KQX_READ, KQX_DELETE), CH(KQX_WRITE, KQX_DELETE)}},
	{"del", POLLER_OP_DEL, IN | OUT, 2, {CH(KQX_READ, KQX_DELETE), CH(KQX_WRITE, KQX_DELETE)}},
};

START_TEST(kqueue_changes)
{
	const struct changes_case *c = &changes_cases[_i];
	struct kqx_kev ch[KQX_MAX_CHANGES];
	int n = kqx_changes(c->op, 7, c->events, ch), i;

	ck_assert_msg(n == c->n, "%s: %d changes, want %d", c->name, n, c->n);
	for (i = 0; i < n; i++) {
		ck_assert_msg(ch[i].fd == 7 && ch[i].filter == c->want[i].filter &&
				      ch[i].flags == c->want[i].flags,
			      "%s: change %d is (%d, %d, %#x), want (7, %d, %#x)", c->name, i,
			      ch[i].fd, ch[i].filter, ch[i].flags, c->want[i].filter,
			      c->want[i].flags);
	}
}
END_TEST

/* ---- kqueue receipts: the outcome of a change list --------------------- */

/* An EV_RECEIPT answer: the change itself, flags EV_ERROR, data = errno. */
#define ANS(f, e)                                                       \
	{                                                               \
		.fd = 7, .filter = (f), .flags = KQX_ERROR, .data = (e) \
	}
/* A real event where an answer should be (EV_RECEIPT not honoured). */
#define EVT(f)                         \
	{                              \
		.fd = 7, .filter = (f) \
	}

struct receipts_case {
	const char *name;
	enum poller_op op;
	uint32_t events;
	int nr;
	struct kqx_kev rc[KQX_MAX_CHANGES];
	int want;
};

static const struct receipts_case receipts_cases[] = {
	{"add: all done", POLLER_OP_ADD, IN | OUT, 2, {ANS(KQX_READ, 0), ANS(KQX_WRITE, 0)}, 0},
	/* native kqueue stops a list at its first failure unless the answer
	 * has room: with receipts the write delete still runs, and the read
	 * filter's ENOENT (nothing registered) is no failure */
	{"del: ENOENT on the read filter, write deleted",
	 POLLER_OP_DEL,
	 0,
	 2,
	 {ANS(KQX_READ, ENOENT), ANS(KQX_WRITE, 0)},
	 0},
	{"del: nothing registered",
	 POLLER_OP_DEL,
	 0,
	 2,
	 {ANS(KQX_READ, ENOENT), ANS(KQX_WRITE, ENOENT)},
	 0},
	{"del: bad fd", POLLER_OP_DEL, 0, 2, {ANS(KQX_READ, EBADF), ANS(KQX_WRITE, EBADF)}, -EBADF},
	{"set: deletes ENOENT, adds done",
	 POLLER_OP_SET,
	 IN | OUT,
	 4,
	 {ANS(KQX_READ, ENOENT), ANS(KQX_WRITE, ENOENT), ANS(KQX_READ, 0), ANS(KQX_WRITE, 0)},
	 0},
	{"set: an add fails",
	 POLLER_OP_SET,
	 IN | OUT,
	 4,
	 {ANS(KQX_READ, 0), ANS(KQX_WRITE, 0), ANS(KQX_READ, 0), ANS(KQX_WRITE, ENOMEM)},
	 -ENOMEM},
	{"add: ENOENT on an add is a failure",
	 POLLER_OP_ADD,
	 IN,
	 1,
	 {ANS(KQX_READ, ENOENT)},
	 -ENOENT},
	{"an answer missing", POLLER_OP_DEL, 0, 1, {ANS(KQX_READ, 0)}, -EIO},
	{"no answers at all", POLLER_OP_ADD, IN, 0, {{0}}, -EIO},
	{"a pending event where an answer belongs", POLLER_OP_ADD, IN, 1, {EVT(KQX_READ)}, -EIO},
	{"answers out of order",
	 POLLER_OP_ADD,
	 IN | OUT,
	 2,
	 {ANS(KQX_WRITE, 0), ANS(KQX_READ, 0)},
	 -EIO},
	{"an answer with a negative errno", POLLER_OP_ADD, IN, 1, {ANS(KQX_READ, -3)}, -EIO},
};

START_TEST(kqueue_receipts)
{
	const struct receipts_case *c = &receipts_cases[_i];
	struct kqx_kev ch[KQX_MAX_CHANGES];
	int n = kqx_changes(c->op, 7, c->events, ch);
	int got = kqx_receipts(ch, n, c->rc, c->nr);

	ck_assert_msg(got == c->want, "%s: %d, want %d", c->name, got, c->want);
}
END_TEST

/* ---- epoll change lists ------------------------------------------------ */

struct epoll_case {
	const char *name;
	enum poller_op op;
	uint32_t events;
	struct epx_change want;
};

static const struct epoll_case epoll_cases[] = {
	{"add IN|OUT edge",
	 POLLER_OP_ADD,
	 IN | OUT | ET,
	 {EPOLL_CTL_ADD, EPOLLIN | EPOLLRDHUP | EPOLLOUT | EPOLLET, 0, 0}},
	{"add silent: not registered", POLLER_OP_ADD, 0, {EPOLL_CTL_DEL, 0, 0, 1}},
	/* MOD changes EPOLLET in place (no delete needed, unlike kqueue) */
	{"set edge -> level",
	 POLLER_OP_SET,
	 IN,
	 {EPOLL_CTL_MOD, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_ADD, 0}},
	{"set level -> edge",
	 POLLER_OP_SET,
	 OUT | ET,
	 {EPOLL_CTL_MOD, EPOLLOUT | EPOLLET, EPOLL_CTL_ADD, 0}},
	/* epoll reports errors and hang-ups unasked: silent means removed */
	{"set silent", POLLER_OP_SET, 0, {EPOLL_CTL_DEL, 0, 0, 1}},
	{"set ET alone is silent", POLLER_OP_SET, ET, {EPOLL_CTL_DEL, 0, 0, 1}},
	{"del", POLLER_OP_DEL, IN, {EPOLL_CTL_DEL, 0, 0, 1}},
};

START_TEST(epoll_changes)
{
	const struct epoll_case *c = &epoll_cases[_i];
	struct epx_change got = epx_change(c->op, c->events);

	ck_assert_msg(got.op == c->want.op && got.mask == c->want.mask &&
			      got.enoent_op == c->want.enoent_op &&
			      got.enoent_ok == c->want.enoent_ok,
		      "%s: (op %d, mask %#x, enoent_op %d, enoent_ok %d)", c->name, got.op,
		      got.mask, got.enoent_op, got.enoent_ok);
}
END_TEST

/* ---- failed system calls ----------------------------------------------- */

/* Regression: kevent() failing with errno 0 made the poller return
 * -errno == 0, i.e. success. */
START_TEST(syscall_error_is_never_success)
{
	ck_assert_int_eq(poller_syscall_error(0), -EIO);
	ck_assert_int_eq(poller_syscall_error(-4), -EIO);
	ck_assert_int_eq(poller_syscall_error(EBADF), -EBADF);
	ck_assert_int_eq(poller_syscall_error(EINTR), -EINTR);
	ck_assert_int_eq(poller_syscall_error(ENOENT), -ENOENT);
}
END_TEST

static Suite *xlate_suite(void)
{
	Suite *s = suite_create("poller_xlate");
	TCase *tc;

	tc = tcase_create("event_bits");
	tcase_add_loop_test(tc, epoll_event_bits, 0, (int)ARRAY_LEN(situations));
	tcase_add_loop_test(tc, kqueue_event_bits, 0, (int)ARRAY_LEN(situations));
	suite_add_tcase(s, tc);

	tc = tcase_create("changes");
	tcase_add_loop_test(tc, kqueue_changes, 0, (int)ARRAY_LEN(changes_cases));
	tcase_add_loop_test(tc, kqueue_receipts, 0, (int)ARRAY_LEN(receipts_cases));
	tcase_add_loop_test(tc, epoll_changes, 0, (int)ARRAY_LEN(epoll_cases));
	tcase_add_test(tc, syscall_error_is_never_success);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(xlate_suite());
}
