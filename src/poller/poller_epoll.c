/* poller_epoll.c — Linux backend of poller.h: epoll plus an eventfd wake-up.
 * The system calls; what they mean is in epoll_xlate.c. */
#include "remora-config.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "poller/poller.h"
#include "poller_xlate.h"

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
		err = poller_syscall_error(errno);
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

/* Makes the epoll_ctl() call(s) that epx_change() names. 0 or -errno. */
static int epoll_apply(struct poller *p, int fd, enum poller_op op, uint32_t events, void *udata)
{
	struct epx_change c = epx_change(op, events);
	struct epoll_event ev = {.events = c.mask, .data.ptr = udata};

	if (epoll_ctl(p->epfd, c.op, fd, &ev) != -1)
		return 0;
	if (errno == ENOENT && c.enoent_ok)
		return 0;
	if (errno == ENOENT && c.enoent_op != 0 && epoll_ctl(p->epfd, c.enoent_op, fd, &ev) != -1)
		return 0;
	return poller_syscall_error(errno);
}

int poller_set(struct poller *p, int fd, uint32_t events, void *udata)
{
	return epoll_apply(p, fd, POLLER_OP_SET, events, udata);
}

int poller_add(struct poller *p, int fd, uint32_t events, void *udata)
{
	return epoll_apply(p, fd, POLLER_OP_ADD, events, udata);
}

int poller_del(struct poller *p, int fd)
{
	return epoll_apply(p, fd, POLLER_OP_DEL, 0, NULL);
}

int poller_wait(struct poller *p, struct poller_event *ev, int max, int timeout_ms)
{
	int n, i;
	uint64_t junk;

	if (max > (int)(sizeof(p->evs) / sizeof(p->evs[0])))
		max = (int)(sizeof(p->evs) / sizeof(p->evs[0]));
	n = epoll_wait(p->epfd, p->evs, max, timeout_ms);
	if (n == -1)
		return poller_syscall_error(errno);
	for (i = 0; i < n; i++) {
		ev[i].udata = p->evs[i].data.ptr;
		ev[i].events = 0;
		if (ev[i].udata == WAKE_TAG) {
			/* acknowledge now: a wake-up after this read is a new one */
			if (read(p->wakefd, &junk, sizeof(junk)) == -1 && errno != EAGAIN)
				return poller_syscall_error(errno);
			continue;
		}
		ev[i].events = epx_events(p->evs[i].events);
	}
	return n;
}

int poller_wake(struct poller *p)
{
	uint64_t one = 1;

	if (write(p->wakefd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		return poller_syscall_error(errno);
	return 0;
}
