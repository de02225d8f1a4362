/* poller_kqueue.c — BSD/macOS backend of poller.h: kqueue plus a pipe wake-up.
 * The system calls; what they mean (change lists, event bits) is decided by
 * kqueue_xlate.c, which is unit-tested on every platform. kqueue reports
 * read and write readiness as separate filters, merged here into one event
 * per fd. */
#include "remora-config.h"

#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#include "poller/poller.h"
#include "poller_xlate.h"

struct poller {
	int kqfd;
	int wakefd[2]; /* pipe: [0] registered for reading, [1] written by poller_wake() */
	struct kevent evs[256];
};

#define WAKE_TAG NULL

/* struct kevent flags and their names in kqueue_xlate.c. */
static const struct {
	unsigned short ev;
	unsigned int kqx;
} flag_names[] = {
	{EV_ADD, KQX_ADD},	   {EV_DELETE, KQX_DELETE}, {EV_ENABLE, KQX_ENABLE},
	{EV_DISABLE, KQX_DISABLE}, {EV_CLEAR, KQX_CLEAR},   {EV_RECEIPT, KQX_RECEIPT},
	{EV_EOF, KQX_EOF},	   {EV_ERROR, KQX_ERROR},
};

#define NFLAGS (sizeof(flag_names) / sizeof(flag_names[0]))

const char *poller_backend(void)
{
	return "kqueue";
}

/* A struct kevent for change x, carrying udata. */
static void kev_from_kqx(struct kevent *kev, const struct kqx_kev *x, void *udata)
{
	unsigned short flags = 0;
	size_t i;

	for (i = 0; i < NFLAGS; i++)
		if (x->flags & flag_names[i].kqx)
			flags |= flag_names[i].ev;
	EV_SET(kev, (uintptr_t)x->fd, x->filter == KQX_WRITE ? EVFILT_WRITE : EVFILT_READ, flags, 0,
	       0, udata);
}

/* The translation's view of a returned struct kevent. */
static void kqx_from_kev(struct kqx_kev *x, const struct kevent *kev)
{
	size_t i;

	x->fd = (int)kev->ident;
	x->filter = kev->filter == EVFILT_WRITE ? KQX_WRITE : KQX_READ;
	x->flags = 0;
	for (i = 0; i < NFLAGS; i++)
		if (kev->flags & flag_names[i].ev)
			x->flags |= flag_names[i].kqx;
	x->fflags = kev->fflags;
	x->data = kev->data;
}

/* Applies the change list of op in one kevent() call. Every change is
 * answered in place (EV_RECEIPT), so none is skipped after a failure and
 * no pending event is taken. 0 or -errno. */
static int kqueue_apply(struct poller *p, enum poller_op op, int fd, uint32_t events, void *udata)
{
	static const struct timespec zero = {0, 0};
	struct kqx_kev ch[KQX_MAX_CHANGES], rc[KQX_MAX_CHANGES];
	struct kevent kev[KQX_MAX_CHANGES];
	int n = kqx_changes(op, fd, events, ch), nr, i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		kev_from_kqx(&kev[i], &ch[i], udata);
	nr = kevent(p->kqfd, kev, n, kev, n, &zero);
	if (nr == -1)
		return poller_syscall_error(errno);
	for (i = 0; i < nr; i++)
		kqx_from_kev(&rc[i], &kev[i]);
	return kqx_receipts(ch, n, rc, nr);
}

static int set_nonblock_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return poller_syscall_error(errno);
	return 0;
}

int poller_create(struct poller **pp)
{
	struct poller *p = calloc(1, sizeof(*p));
	int err;

	if (p == NULL)
		return -ENOMEM;
	p->wakefd[0] = p->wakefd[1] = -1;
	p->kqfd = kqueue();
	if (p->kqfd == -1 || fcntl(p->kqfd, F_SETFD, FD_CLOEXEC) == -1 || pipe(p->wakefd) == -1) {
		err = poller_syscall_error(errno);
		goto fail;
	}
	err = set_nonblock_cloexec(p->wakefd[0]);
	if (err == 0)
		err = set_nonblock_cloexec(p->wakefd[1]);
	if (err == 0)
		err = kqueue_apply(p, POLLER_OP_ADD, p->wakefd[0], POLLER_IN, WAKE_TAG);
	if (err < 0)
		goto fail;
	*pp = p;
	return 0;
fail:
	poller_destroy(p);
	return err;
}

void poller_destroy(struct poller *p)
{
	if (p == NULL)
		return;
	if (p->kqfd >= 0)
		close(p->kqfd);
	if (p->wakefd[0] >= 0)
		close(p->wakefd[0]);
	if (p->wakefd[1] >= 0)
		close(p->wakefd[1]);
	free(p);
}

int poller_set(struct poller *p, int fd, uint32_t events, void *udata)
{
	return kqueue_apply(p, POLLER_OP_SET, fd, events, udata);
}

int poller_add(struct poller *p, int fd, uint32_t events, void *udata)
{
	return kqueue_apply(p, POLLER_OP_ADD, fd, events, udata);
}

int poller_del(struct poller *p, int fd)
{
	return kqueue_apply(p, POLLER_OP_DEL, fd, 0, NULL);
}

int poller_wait(struct poller *p, struct poller_event *ev, int max, int timeout_ms)
{
	struct timespec ts, *tsp = NULL;
	struct kqx_kev x;
	int n, i, j, out = 0;
	char junk[64];

	if (max > (int)(sizeof(p->evs) / sizeof(p->evs[0])))
		max = (int)(sizeof(p->evs) / sizeof(p->evs[0]));
	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
		tsp = &ts;
	}
	n = kevent(p->kqfd, NULL, 0, p->evs, max, tsp);
	if (n == -1)
		return poller_syscall_error(errno);
	for (i = 0; i < n; i++) {
		void *udata = (void *)p->evs[i].udata;
		uint32_t e;

		if (udata == WAKE_TAG) {
			/* acknowledge now: a wake-up after these reads is a new one */
			while (read(p->wakefd[0], junk, sizeof(junk)) > 0)
				;
			ev[out].udata = NULL;
			ev[out++].events = 0;
			continue;
		}
		kqx_from_kev(&x, &p->evs[i]);
		e = kqx_events(&x);
		/* merge the second filter of an fd into its first event */
		for (j = 0; j < out; j++)
			if (ev[j].udata == udata)
				break;
		if (j < out) {
			ev[j].events |= e;
			continue;
		}
		ev[out].udata = udata;
		ev[out++].events = e;
	}
	return out;
}

int poller_wake(struct poller *p)
{
	char one = 1;

	if (write(p->wakefd[1], &one, 1) == -1 && errno != EAGAIN)
		return poller_syscall_error(errno);
	return 0;
}
