/* kqueue_xlate.c — the pure half of the kqueue backend (poller_xlate.h).
 * Written against FreeBSD's kqueue(2); the rules it encodes:
 *  - a socket's error (reset, refused, timed out) arrives as EV_EOF with the
 *    error in fflags, on either filter, never as EV_ERROR;
 *  - EV_ERROR on a returned event is the answer to a change, data = errno;
 *  - EV_ADD on an existing knote updates udata, fflags and data only: its
 *    EV_CLEAR (edge/level) stays as first registered;
 *  - a change that fails stops the rest of the list unless the event list
 *    has room for its EV_ERROR answer; EV_RECEIPT answers every change and
 *    keeps kevent() from also collecting pending events. */
#include "poller/poller.h"
#include "poller_xlate.h"

/* Appends one change to ch at *n. */
static void kqx_push(struct kqx_kev *ch, int *n, int fd, enum kqx_filter f, unsigned int flags)
{
	ch[*n] = (struct kqx_kev){.fd = fd, .filter = f, .flags = flags | KQX_RECEIPT};
	(*n)++;
}

int kqx_changes(enum poller_op op, int fd, uint32_t events, struct kqx_kev ch[KQX_MAX_CHANGES])
{
	unsigned int add = KQX_ADD | ((events & POLLER_ET) ? KQX_CLEAR : 0);
	int n = 0;

	if (op != POLLER_OP_ADD) {
		/* SET: the old knotes go, so the new trigger mode takes effect
		 * and a direction no longer wanted is silent */
		kqx_push(ch, &n, fd, KQX_READ, KQX_DELETE);
		kqx_push(ch, &n, fd, KQX_WRITE, KQX_DELETE);
	}
	if (op == POLLER_OP_DEL)
		return n;
	if (events & POLLER_IN)
		kqx_push(ch, &n, fd, KQX_READ, add);
	if (events & POLLER_OUT)
		kqx_push(ch, &n, fd, KQX_WRITE, add);
	return n;
}

int kqx_receipts(const struct kqx_kev *ch, int n, const struct kqx_kev *rc, int nr)
{
	int i;

	for (i = 0; i < n; i++) {
		/* one answer per change, in order; anything else is not a receipt */
		if (i >= nr || !(rc[i].flags & KQX_ERROR) || rc[i].fd != ch[i].fd ||
		    rc[i].filter != ch[i].filter)
			return -EIO;
		if (rc[i].data == 0 || (rc[i].data == ENOENT && (ch[i].flags & KQX_DELETE)))
			continue;
		/* data is an errno; anything else (negative, huge) is -EIO */
		return rc[i].data > 0 && rc[i].data <= 0xffff ? -(int)rc[i].data : -EIO;
	}
	return 0;
}

uint32_t kqx_events(const struct kqx_kev *ev)
{
	if (ev->flags & KQX_ERROR)
		return POLLER_IN | POLLER_OUT | POLLER_ERR;
	if ((ev->flags & KQX_EOF) && ev->fflags != 0)
		/* the connection failed: reset, refused, timed out */
		return POLLER_IN | POLLER_OUT | POLLER_ERR | POLLER_HUP;
	if (ev->filter == KQX_WRITE)
		/* EOF without an error: nothing more can be sent, after our own
		 * shutdown(SHUT_WR) too; epoll reports only EPOLLOUT then, and a
		 * write fails with EPIPE */
		return POLLER_OUT;
	if (ev->flags & KQX_EOF)
		return POLLER_IN | POLLER_HUP; /* the peer closed its side */
	return POLLER_IN;
}
