/* poller_epoll.c — Linux backend of poller.h: epoll plus an eventfd wake-up. */
#include "remora-config.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "poller/poller.h"

struct poller {
	int epfd;
	int wakefd;
	struct epoll_event evs[256];
};

/* The wake-up's epoll tag: never a valid udata, which is always non-NULL. */
#define WAKE_TAG NULL

const char *poller_backend(void)
{
	return "epoll";
}

int poller_create(struct poller **pp)
{
	struct poller *p = calloc(1, sizeof(*p));
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = WAKE_TAG};
	int err;

	if (p == NULL)
		return -ENOMEM;
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	p->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->epfd == -1 || p->wakefd == -1 ||
	    epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->wakefd, &ev) == -1) {
		err = -errno;
		poller_destroy(p);
		return err;
	}
	*pp = p;
	return 0;
}

void poller_destroy(struct poller *p)
{
	if (p == NULL)
		return;
	if (p->epfd >= 0)
		close(p->epfd);
	if (p->wakefd >= 0)
		close(p->wakefd);
	free(p);
}

/* The epoll event mask for POLLER_* interest bits. */
static uint32_t epoll_events(uint32_t events)
{
	uint32_t e = 0;

	if (events & POLLER_IN)
		e |= EPOLLIN | EPOLLRDHUP;
	if (events & POLLER_OUT)
		e |= EPOLLOUT;
	if (events & POLLER_ET)
		e |= EPOLLET;
	return e;
}

int poller_set(struct poller *p, int fd, uint32_t events, void *udata)
{
	struct epoll_event ev = {.events = epoll_events(events), .data.ptr = udata};

	if ((events & (POLLER_IN | POLLER_OUT)) == 0) {
		/* epoll always reports errors and hang-ups: to be silent, leave */
		if (epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, NULL) == -1 && errno != ENOENT)
			return -errno;
		return 0;
	}
	if (epoll_ctl(p->epfd, EPOLL_CTL_MOD, fd, &ev) == -1) {
		if (errno != ENOENT || epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
			return -errno;
	}
	return 0;
}

int poller_add(struct poller *p, int fd, uint32_t events, void *udata)
{
	struct epoll_event ev = {.events = epoll_events(events), .data.ptr = udata};

	return epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) == -1 ? -errno : 0;
}

int poller_del(struct poller *p, int fd)
{
	if (epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, NULL) == -1 && errno != ENOENT)
		return -errno;
	return 0;
}

int poller_wait(struct poller *p, struct poller_event *ev, int max, int timeout_ms)
{
	int n, i;
	uint64_t junk;

	if (max > (int)(sizeof(p->evs) / sizeof(p->evs[0])))
		max = (int)(sizeof(p->evs) / sizeof(p->evs[0]));
	n = epoll_wait(p->epfd, p->evs, max, timeout_ms);
	if (n == -1)
		return -errno;
	for (i = 0; i < n; i++) {
		uint32_t e = p->evs[i].events;

		ev[i].udata = p->evs[i].data.ptr;
		ev[i].events = 0;
		if (ev[i].udata == WAKE_TAG) {
			/* acknowledge now: a wake-up after this read is a new one */
			if (read(p->wakefd, &junk, sizeof(junk)) == -1 && errno != EAGAIN)
				return -errno;
			continue;
		}
		if (e & (EPOLLIN | EPOLLRDHUP))
			ev[i].events |= POLLER_IN;
		if (e & (EPOLLRDHUP | EPOLLHUP))
			ev[i].events |= POLLER_IN | POLLER_HUP;
		if (e & EPOLLOUT)
			ev[i].events |= POLLER_OUT;
		if (e & (EPOLLERR | EPOLLHUP))
			ev[i].events |= POLLER_IN | POLLER_OUT | POLLER_ERR;
	}
	return n;
}

int poller_wake(struct poller *p)
{
	uint64_t one = 1;

	if (write(p->wakefd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		return -errno;
	return 0;
}
