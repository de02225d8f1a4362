/*
 * poller.h — the readiness-notification contract, one instance per thread.
 *
 * Backends: poller_epoll.c (Linux) and poller_kqueue.c (BSD, macOS), chosen
 * by meson (-Dpoller=auto|epoll|kqueue); what their kernel events mean is
 * decided in poller_xlate.h, tested for both. Both report the same
 * normalised events:
 *   POLLER_IN   readable (or peer closed its write side: a read returns 0)
 *   POLLER_HUP  also set when the peer has closed its write side: the EOF is
 *               queued behind any data (lets an edge-triggered reader stop
 *               after a short read only when no EOF is pending)
 *   POLLER_OUT  writable (or a non-blocking connect() finished)
 *   POLLER_ERR  error or hang-up; always delivered together with IN|OUT so a
 *               handler that reads or writes finds out the cause from errno.
 *               kqueue cannot tell the peer's hang-up from our own
 *               shutdown(SHUT_WR) on the write filter when no error is
 *               pending: there it reports OUT (as epoll does after
 *               SHUT_WR), so a clean close of both directions is
 *               IN|HUP|OUT without ERR, and the write finds EPIPE.
 * POLLER_ET asks for edge-triggered delivery (epoll EPOLLET, kqueue EV_CLEAR):
 * an event is reported once per readiness change, so the owner must read or
 * write until EAGAIN or remember that the fd is still ready.
 *
 * Stale-event rule: a batch returned by poller_wait() may hold events for an
 * fd that a handler earlier in the same batch closed. Owners must not free
 * the udata of a closed fd before the batch is finished (see worker.c: conns
 * are freed at the end of the batch).
 *
 * Thread safety:
 *   poller_create, poller_destroy, poller_set, poller_del, poller_wait
 *     only from the owning thread;
 *   poller_add   also from another thread (the acceptor registers a new
 *     connection in its worker's poller): both backends keep no state of
 *     their own per fd, the kernel's epoll_ctl()/kevent() are thread-safe;
 *   poller_wake  from any thread, any time while the poller exists.
 */
#ifndef REMORA_POLLER_H
#define REMORA_POLLER_H

#include <stdint.h>

#define POLLER_IN  0x1u
#define POLLER_OUT 0x2u
#define POLLER_ERR 0x4u
#define POLLER_ET  0x8u	 /* only in poller_set(): edge-triggered */
#define POLLER_HUP 0x10u /* with IN: the peer closed its side (EOF follows the data) */

struct poller;

struct poller_event {
	void *udata;	 /* as given to poller_set(); NULL for a wake-up */
	uint32_t events; /* POLLER_IN | POLLER_OUT | POLLER_ERR */
};

/* Creates a poller; returns 0 and stores it in *pp, or -errno. */
int poller_create(struct poller **pp);
/* Closes the poller and its wake-up; NULL-tolerant. Registered fds stay open. */
void poller_destroy(struct poller *p);
/* Registers fd, or replaces its interest set; events 0 keeps it registered
 * but silent. udata must not be NULL. Returns 0 or -errno. */
int poller_set(struct poller *p, int fd, uint32_t events, void *udata);
/* Registers a new fd (one the poller has never seen, or that was closed
 * since): one system call where poller_set may need two. 0 or -errno. */
int poller_add(struct poller *p, int fd, uint32_t events, void *udata);
/* Unregisters fd (must still be open); an fd that is not registered is
 * fine. Returns 0 or -errno. */
int poller_del(struct poller *p, int fd);
/* Waits up to timeout_ms (-1: forever) and fills at most max events.
 * Returns the number of events (0 on timeout), or -errno (-EINTR included).
 * A wake-up from poller_wake() is returned as one event with udata NULL and
 * is already acknowledged. */
int poller_wait(struct poller *p, struct poller_event *ev, int max, int timeout_ms);
/* Makes a concurrent or the next poller_wait() return. Any thread. 0 or -errno. */
int poller_wake(struct poller *p);
/* Name of the backend ("epoll" or "kqueue"). */
const char *poller_backend(void);

#endif
