/* acceptor.c — the acceptor thread (see acceptor.h). */
#include "remora-config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <urcu/uatomic.h>

#include "acceptor.h"
#include "log.h"
#include "stats.h"
#include "util.h"

/* Connections accepted per listener per wake-up before the others get a turn. */
#define ACCEPT_BATCH	64
/* Back-off when the process or system is out of file descriptors. */
#define EMFILE_PAUSE_MS 100

int acceptor_open(struct acceptor *a, const struct config *cfg, char *err, size_t errlen)
{
	char addr[IC_ADDR_STRLEN];
	size_t i;
	int fd, rc;

	memset(a, 0, sizeof(*a));
	a->balance = cfg->balance;
	a->rng = (uint64_t)now_ms() * 0x9E3779B97F4A7C15ull | 1;
	rc = poller_create(&a->poller);
	if (rc < 0) {
		snprintf(err, errlen, "acceptor: cannot create poller (%d: %s)", -rc,
			 strerror(-rc));
		return -1;
	}
	for (i = 0; i < cfg->n_listeners; i++) {
		const struct listener_conf *lc = &cfg->listeners[i];

		fd = ic_listen(&lc->addr, lc->mode, lc->backlog);
		if (fd < 0) {
			ic_addr_format(&lc->addr, addr, sizeof(addr));
			snprintf(err, errlen, "[listener %s] cannot listen on %s%s (%d: %s)%s",
				 lc->name, addr, lc->mode == IC_MODE_TPROXY ? " (transparent)" : "",
				 -fd, strerror(-fd),
				 fd == -EPERM	     ? ": IP_TRANSPARENT needs CAP_NET_ADMIN (or "
						       "CAP_NET_RAW); run as root or grant the capability"
				 : fd == -EADDRINUSE ? ": another process listens there"
				 : fd == -EADDRNOTAVAIL ? ": the address is not local"
							: "");
			acceptor_close(a);
			return -1;
		}
		a->listeners[a->n].conf = lc;
		a->listeners[a->n].fd = fd;
		a->addrs[a->n] = lc->addr;
		a->n++;
		rc = poller_set(a->poller, fd, POLLER_IN, &a->listeners[a->n - 1]);
		if (rc < 0) {
			snprintf(err, errlen, "acceptor: cannot poll listener (%d: %s)", -rc,
				 strerror(-rc));
			acceptor_close(a);
			return -1;
		}
	}
	return 0;
}

void acceptor_close(struct acceptor *a)
{
	size_t i;

	for (i = 0; i < a->n; i++) {
		if (a->listeners[i].fd >= 0)
			close(a->listeners[i].fd);
		a->listeners[i].fd = -1;
	}
	poller_destroy(a->poller);
	a->poller = NULL;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* Power of two choices: the less loaded of two random workers. */
static struct worker *pick_worker(struct acceptor *a)
{
	struct worker *x, *y;
	uint64_t r;

	if (a->n_workers == 1)
		return &a->workers[0];
	if (a->balance == BALANCE_ROUND_ROBIN)
		return &a->workers[a->rr++ % a->n_workers];
	r = xorshift(&a->rng);
	x = &a->workers[(r & 0xffffffffu) % a->n_workers];
	y = &a->workers[(r >> 32) % a->n_workers];
	return worker_load(y) < worker_load(x) ? y : x;
}

/* Pauses every listener (or resumes them) while descriptors are exhausted. */
static void set_paused(struct acceptor *a, int paused)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		(void)poller_set(a->poller, a->listeners[i].fd, paused ? 0 : POLLER_IN,
				 &a->listeners[i]);
}

static void accept_batch(struct acceptor *a, struct listener *l)
{
	union ic_addr peer;
	socklen_t len;
	struct conn *c;
	int i, fd;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		len = sizeof(peer);
		fd = accept4(l->fd, &peer.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* the kernel backlog holds new SYNs while we wait */
				log_warn("accept() on [listener %s] failed (%d: %s): pausing %d ms",
					 l->conf->name, errno, strerror(errno), EMFILE_PAUSE_MS);
				a->paused_until = now_ms() + EMFILE_PAUSE_MS;
				set_paused(a, 1);
				return;
			}
			STAT_INC(
				a->accept_errors); /* ECONNABORTED, EPROTO, ...: that client only */
			continue;
		}
		c = conn_new(fd, &peer, l->conf);
		if (c == NULL) {
			STAT_INC(a->handoff_failed);
			close(fd);
			continue;
		}
		worker_hand_off(pick_worker(a), c);
		STAT_INC(a->accepted);
	}
}

static void *acceptor_main(void *arg)
{
	struct acceptor *a = arg;
	struct poller_event ev[CONFIG_MAX_LISTENERS + 1];
	int n, i, timeout;

	while (!uatomic_read(&a->stop)) {
		timeout = -1;
		if (a->paused_until != 0) {
			uint64_t now = now_ms();

			if (now >= a->paused_until) {
				a->paused_until = 0;
				set_paused(a, 0);
			} else {
				timeout = (int)(a->paused_until - now) + 1;
			}
		}
		n = poller_wait(a->poller, ev, (int)ARRAY_SIZE(ev), timeout);
		if (n < 0 && n != -EINTR) {
			log_error("acceptor: poller_wait() failed (%d: %s)", -n, strerror(-n));
			break;
		}
		for (i = 0; i < n && !uatomic_read(&a->stop); i++)
			if (ev[i].udata != NULL)
				accept_batch(a, ev[i].udata);
	}
	return NULL;
}

int acceptor_start(struct acceptor *a, struct worker *workers, unsigned n_workers)
{
	a->workers = workers;
	a->n_workers = n_workers;
	return -pthread_create(&a->thread, NULL, acceptor_main, a);
}

void acceptor_stop(struct acceptor *a)
{
	size_t i;

	uatomic_set(&a->stop, 1);
	(void)poller_wake(a->poller);
	pthread_join(a->thread, NULL);
	for (i = 0; i < a->n; i++) {
		close(a->listeners[i].fd);
		a->listeners[i].fd = -1;
	}
}
