/*
 * poller_xlate.h — private to src/poller: the pure part of each backend.
 *
 * A backend is two halves. This one holds no state and makes no system
 * call: it turns one kernel event into poller.h's POLLER_* bits, and
 * builds the list of kernel changes for poller_add/poller_set/poller_del.
 * The other half (poller_epoll.c, poller_kqueue.c) makes the calls. The
 * pure half of both backends compiles and is unit-tested on any platform
 * (tests/unit/test_poller_xlate.c), so kqueue's rules are checked on Linux.
 *
 * kqueue's types and constants exist only on BSD, so the kqueue half works
 * on struct kqx_kev, which mirrors the fields of struct kevent that matter
 * here; poller_kqueue.c copies between the two. epoll's constants are plain
 * numbers, so the epoll half uses them directly (it compiles where
 * <sys/epoll.h> exists).
 *
 * Everything here is safe from any thread.
 */
#ifndef REMORA_POLLER_XLATE_H
#define REMORA_POLLER_XLATE_H

#include <errno.h>
#include <stdint.h>

/* The three registration calls of poller.h. */
enum poller_op {
	POLLER_OP_ADD, /* poller_add: an fd the poller has not seen (or closed since) */
	POLLER_OP_SET, /* poller_set: registered or not, replace the interest set */
	POLLER_OP_DEL, /* poller_del */
};

/* The return value for a system call that failed with err (errno): -err,
 * never 0, so a call that fails without setting errno still fails (-EIO). */
static inline int poller_syscall_error(int err)
{
	return err > 0 ? -err : -EIO;
}

/* ---- epoll (epoll_xlate.c) --------------------------------------------- */

/* One epoll_ctl() call: op and mask (EPOLL_CTL_*, EPOLL*); when it fails
 * with ENOENT, either that counts as success (enoent_ok) or enoent_op (if
 * not 0) is tried instead with the same mask. */
struct epx_change {
	int op;
	uint32_t mask;
	int enoent_op;
	int enoent_ok;
};

/* The epoll_ctl() call for op with POLLER_* interest events. */
struct epx_change epx_change(enum poller_op op, uint32_t events);
/* POLLER_* bits for one epoll_event's events (EPOLL* bits). */
uint32_t epx_events(uint32_t epoll_events);

/* ---- kqueue (kqueue_xlate.c) ------------------------------------------- */

enum kqx_filter {
	KQX_READ,  /* EVFILT_READ */
	KQX_WRITE, /* EVFILT_WRITE */
};

/* struct kevent flags, by name (poller_kqueue.c maps them to EV_*). */
#define KQX_ADD	    0x01u /* EV_ADD */
#define KQX_DELETE  0x02u /* EV_DELETE */
#define KQX_ENABLE  0x04u /* EV_ENABLE */
#define KQX_DISABLE 0x08u /* EV_DISABLE */
#define KQX_CLEAR   0x10u /* EV_CLEAR: edge-triggered */
#define KQX_RECEIPT 0x20u /* EV_RECEIPT: every change answers with an EV_ERROR entry */
#define KQX_EOF	    0x40u /* EV_EOF: that direction is shut; fflags = socket error */
#define KQX_ERROR   0x80u /* EV_ERROR: a change's result; data = errno (0: done) */

/* The fields of one struct kevent that the translation reads or writes. */
struct kqx_kev {
	int fd;			/* ident */
	enum kqx_filter filter; /* filter */
	unsigned int flags;	/* KQX_* */
	unsigned int fflags;	/* with KQX_EOF on a socket: its pending error, or 0 */
	int64_t data;		/* with KQX_ERROR: errno, 0 for success */
};

/* The most changes kqx_changes() builds for one call. */
#define KQX_MAX_CHANGES 4

/* Fills ch with the changes for op on fd with POLLER_* interest events
 * (ignored for DEL); returns how many (0..KQX_MAX_CHANGES). A filter is
 * added only for a wanted direction (IN: read, OUT: write), with KQX_CLEAR
 * for POLLER_ET; SET and DEL first delete both filters (an existing knote's
 * EV_CLEAR cannot change). Each change carries KQX_RECEIPT, so the kernel
 * applies every one and answers each (see kqx_receipts). */
int kqx_changes(enum poller_op op, int fd, uint32_t events, struct kqx_kev ch[KQX_MAX_CHANGES]);
/* The outcome of the n changes ch as answered by the nr entries rc that
 * kevent() returned: 0, or -errno of the first change that failed. ENOENT
 * for a KQX_DELETE is success (nothing was registered); an answer missing
 * for a change is -EIO. */
int kqx_receipts(const struct kqx_kev *ch, int n, const struct kqx_kev *rc, int nr);
/* POLLER_* bits for one event returned by kevent(). */
uint32_t kqx_events(const struct kqx_kev *ev);

#endif
