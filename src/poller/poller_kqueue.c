/* poller_kqueue.c — BSD/macOS backend of poller.h: kqueue plus a pipe wake-up.
 * Kept line-for-line parallel to poller_epoll.c; kqueue reports read and write
 * readiness as separate filters, merged here into one event per fd. */
#include "remora-config.h"

#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "poller/poller.h"

struct poller {
	int kqfd;
	int wakefd[2]; /* pipe: [0] registered for reading, [1] written by poller_wake() */
	struct kevent evs[256];
};

#define WAKE_TAG NULL

const char *poller_backend(void)
{
	return "kqueue";
}

static int set_nonblock_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return -errno;
	return 0;
}

int poller_create(struct poller **pp)
{
	struct poller *p = calloc(1, sizeof(*p));
	struct kevent kev;
	int err;

	if (p == NULL)
		return -ENOMEM;
	p->wakefd[0] = p->wakefd[1] = -1;
	p->kqfd = kqueue();
	if (p->kqfd == -1 || fcntl(p->kqfd, F_SETFD, FD_CLOEXEC) == -1 || pipe(p->wakefd) == -1)
		goto fail;
	if (set_nonblock_cloexec(p->wakefd[0]) < 0 || set_nonblock_cloexec(p->wakefd[1]) < 0)
		goto fail;
	EV_SET(&kev, p->wakefd[0], EVFILT_READ, EV_ADD, 0, 0, WAKE_TAG);
	if (kevent(p->kqfd, &kev, 1, NULL, 0, NULL) == -1)
		goto fail;
	*pp = p;
	return 0;
fail:
	err = errno ? -errno : -EINVAL;
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
	struct kevent kev[2];
	unsigned short clear = (events & POLLER_ET) ? EV_CLEAR : 0;

	EV_SET(&kev[0], fd, EVFILT_READ,
	       EV_ADD | clear | ((events & POLLER_IN) ? EV_ENABLE : EV_DISABLE), 0, 0, udata);
	EV_SET(&kev[1], fd, EVFILT_WRITE,
	       EV_ADD | clear | ((events & POLLER_OUT) ? EV_ENABLE : EV_DISABLE), 0, 0, udata);
	return kevent(p->kqfd, kev, 2, NULL, 0, NULL) == -1 ? -errno : 0;
}

int poller_add(struct poller *p, int fd, uint32_t events, void *udata)
{
	/* EV_ADD registers or updates: the same call as poller_set */
	return poller_set(p, fd, events, udata);
}

int poller_del(struct poller *p, int fd)
{
	struct kevent kev[2];

	EV_SET(&kev[0], fd, EVFILT_READ, EV_DELETE, 0, 0, NULL);
	EV_SET(&kev[1], fd, EVFILT_WRITE, EV_DELETE, 0, 0, NULL);
	if (kevent(p->kqfd, kev, 2, NULL, 0, NULL) == -1 && errno != ENOENT)
		return -errno;
	return 0;
}

int poller_wait(struct poller *p, struct poller_event *ev, int max, int timeout_ms)
{
	struct timespec ts, *tsp = NULL;
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
		return -errno;
	for (i = 0; i < n; i++) {
		void *udata = (void *)p->evs[i].udata;
		uint32_t e = 0;

		if (udata == WAKE_TAG) {
			while (read(p->wakefd[0], junk, sizeof(junk)) > 0)
				;
			ev[out].udata = NULL;
			ev[out++].events = 0;
			continue;
		}
		if (p->evs[i].filter == EVFILT_READ)
			e |= POLLER_IN;
		if (p->evs[i].filter == EVFILT_READ && (p->evs[i].flags & EV_EOF))
			e |= POLLER_HUP;
		if (p->evs[i].filter == EVFILT_WRITE)
			e |= POLLER_OUT;
		if (p->evs[i].flags & (EV_EOF | EV_ERROR))
			e |= (p->evs[i].flags & EV_ERROR) ? POLLER_IN | POLLER_OUT | POLLER_ERR : 0;
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
		return -errno;
	return 0;
}
