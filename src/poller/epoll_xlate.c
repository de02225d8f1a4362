/* epoll_xlate.c — the pure half of the epoll backend (poller_xlate.h):
 * POLLER_* interest to epoll_ctl() calls, epoll events to POLLER_* bits. */
#include <sys/epoll.h>

#include "poller/poller.h"
#include "poller_xlate.h"

struct epx_change epx_change(enum poller_op op, uint32_t events)
{
	struct epx_change c = {.op = EPOLL_CTL_DEL, .enoent_ok = 1};

	if (op == POLLER_OP_DEL || (events & (POLLER_IN | POLLER_OUT)) == 0)
		return c; /* epoll always reports errors and hang-ups: to be silent, leave */
	if (events & POLLER_IN)
		c.mask |= EPOLLIN | EPOLLRDHUP;
	if (events & POLLER_OUT)
		c.mask |= EPOLLOUT;
	if (events & POLLER_ET)
		c.mask |= EPOLLET;
	c.enoent_ok = 0;
	if (op == POLLER_OP_ADD) {
		c.op = EPOLL_CTL_ADD;
	} else {
		/* MOD changes the trigger mode too; ENOENT: not registered yet */
		c.op = EPOLL_CTL_MOD;
		c.enoent_op = EPOLL_CTL_ADD;
	}
	return c;
}

uint32_t epx_events(uint32_t e)
{
	uint32_t ev = 0;

	if (e & (EPOLLIN | EPOLLRDHUP))
		ev |= POLLER_IN;
	if (e & (EPOLLRDHUP | EPOLLHUP))
		ev |= POLLER_IN | POLLER_HUP;
	if (e & EPOLLOUT)
		ev |= POLLER_OUT;
	if (e & (EPOLLERR | EPOLLHUP))
		ev |= POLLER_IN | POLLER_OUT | POLLER_ERR;
	return ev;
}
