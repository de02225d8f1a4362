/* acceptor.c — the acceptor thread (see acceptor.h). */
#include "remora-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <urcu-qsbr.h>
#include <urcu/uatomic.h>

#include "acceptor.h"
#include "log.h"
#include "stats.h"
#include "util.h"

/* Connections accepted per listener per wake-up before the others get a turn. */
#define ACCEPT_BATCH	64
/* Back-off when the process or system is out of file descriptors. */
#define EMFILE_PAUSE_MS 100
/* How long the main thread waits for the acceptor to take a new set. */
#define PUBLISH_WAIT_MS 5000

static const struct listener *find_listener(const struct listen_set *s,
					    const struct listener_conf *lc)
{
	size_t i;

	for (i = 0; s != NULL && i < s->n; i++)
		if (s->l[i].conf->mode == lc->mode && ic_addr_equal(&s->l[i].conf->addr, &lc->addr))
			return &s->l[i];
	return NULL;
}

static int prev_has_addr(const struct listen_set *s, const union ic_addr *a)
{
	size_t i;

	for (i = 0; s != NULL && i < s->n; i++)
		if (ic_addr_equal(&s->l[i].conf->addr, a))
			return 1;
	return 0;
}

static int has_fd(const struct listen_set *s, int fd)
{
	size_t i;

	for (i = 0; s != NULL && i < s->n; i++)
		if (s->l[i].fd == fd)
			return 1;
	return 0;
}

struct listen_set *listen_set_build(struct config *cfg, const struct listen_set *prev, char *err,
				    size_t errlen)
{
	struct listen_set *s = calloc(1, sizeof(*s));
	const struct listener *old;
	char addr[IC_ADDR_STRLEN];
	size_t i;
	int fd, err2;

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = config_get(cfg);
	for (i = 0; i < cfg->n_listeners; i++) {
		const struct listener_conf *lc = &cfg->listeners[i];

		old = find_listener(prev, lc);
		if (old != NULL) {
			fd = old->fd; /* stays open across the reload (listen_set_adjust) */
		} else {
			fd = ic_listen(&lc->addr, lc->mode, lc->backlog);
			if (fd >= 0 && lc->defer_accept_s != 0 &&
			    (err2 = ic_platform_defer_accept(fd, lc->defer_accept_s)) < 0) {
				close(fd);
				fd = err2;
			}
		}
		if (fd < 0) {
			ic_addr_format(&lc->addr, addr, sizeof(addr));
			snprintf(err, errlen, "[listener %s] cannot listen on %s%s (%d: %s)%s",
				 lc->name, addr, lc->mode == IC_MODE_TPROXY ? " (transparent)" : "",
				 -fd, strerror(-fd),
				 fd == -EPERM ? ": IP_TRANSPARENT needs CAP_NET_RAW; run as root "
						"or grant the capability"
				 : fd == -EACCES
					 ? ": a port below 1024 needs CAP_NET_BIND_SERVICE, kept "
					   "after the switch to [global] user only when the "
					   "configuration at start has such a port (restart)"
				 : fd == -EADDRINUSE && prev_has_addr(prev, &lc->addr)
					 ? ": Remora itself listens there in the other mode; a "
					   "listener's mode changes only with a restart"
				 : fd == -EOPNOTSUPP
					 ? ": defer_accept needs Linux (TCP_DEFER_ACCEPT)"
				 : fd == -EADDRINUSE	? ": another process listens there"
				 : fd == -EADDRNOTAVAIL ? ": the address is not local"
							: "");
			listen_set_free(s, prev);
			return NULL;
		}
		s->l[i].conf = lc;
		s->l[i].fd = fd;
		s->l[i].set = s;
		s->n++;
	}
	return s;
}

void listen_set_adjust(const struct listen_set *s, const struct listen_set *prev)
{
	const struct listener *old;
	size_t i;

	for (i = 0; i < s->n; i++) {
		const struct listener_conf *lc = s->l[i].conf;

		old = find_listener(prev, lc);
		if (old == NULL || old->fd != s->l[i].fd)
			continue;
		if (old->conf->backlog != lc->backlog)
			(void)listen(old->fd, lc->backlog);
		if (old->conf->defer_accept_s != lc->defer_accept_s)
			(void)ic_platform_defer_accept(old->fd, lc->defer_accept_s);
	}
}

void listen_set_free(struct listen_set *s, const struct listen_set *keep)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		if (s->l[i].fd >= 0 && !has_fd(keep, s->l[i].fd))
			close(s->l[i].fd);
	config_put(s->cfg);
	free(s);
}

int acceptor_init(struct acceptor *a)
{
	const char *test_hook_stall;

	memset(a, 0, sizeof(*a));
	a->rng = (uint64_t)now_ms() * 0x9E3779B97F4A7C15ull | 1;
	/* the slot hash key: unknown outside, so nobody can aim a client at
	 * another's slot (blocks only very early at boot, before the pool is ready) */
	if (getrandom(a->slot_key, sizeof(a->slot_key), 0) != (ssize_t)sizeof(a->slot_key))
		return errno != 0 ? -errno : -EIO;
	test_hook_stall = getenv("REMORA_TEST_ACCEPTOR_STALL_MS");
	if (test_hook_stall != NULL)
		a->test_stall_ms = (unsigned)atoi(test_hook_stall);
	a->per_client = calloc(ACCEPTOR_CLIENT_SLOTS, sizeof(*a->per_client));
	if (a->per_client == NULL)
		return -ENOMEM;
	return poller_create(&a->poller);
}

void acceptor_fini(struct acceptor *a)
{
	poller_destroy(a->poller);
	a->poller = NULL;
	free(a->per_client);
	a->per_client = NULL;
}

#define ROTL64(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL64(v[1], 13) ^ v[0];
	v[0] = ROTL64(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL64(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = ROTL64(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = ROTL64(v[1], 17) ^ v[2];
	v[2] = ROTL64(v[2], 32);
}

uint64_t acceptor_siphash(const void *data, size_t len, const uint64_t k[2])
{
	const uint8_t *in = data;
	uint64_t v[4] = {k[0] ^ 0x736f6d6570736575ull, k[1] ^ 0x646f72616e646f6dull,
			 k[0] ^ 0x6c7967656e657261ull, k[1] ^ 0x7465646279746573ull};
	uint64_t m, last = (uint64_t)len << 56;
	size_t i, j;

	for (i = 0; i + 8 <= len; i += 8) {
		for (m = 0, j = 0; j < 8; j++)
			m |= (uint64_t)in[i + j] << (8 * j);
		v[3] ^= m;
		sip_round(v);
		sip_round(v);
		v[0] ^= m;
	}
	for (j = 0; i + j < len; j++)
		last |= (uint64_t)in[i + j] << (8 * j);
	v[3] ^= last;
	sip_round(v);
	sip_round(v);
	v[0] ^= last;
	v[2] ^= 0xff;
	for (j = 0; j < 4; j++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

uint32_t acceptor_client_slot(const uint64_t key[2], const union ic_addr *peer, unsigned prefix6)
{
	union ic_addr u = *peer;
	uint8_t in[18] = {0};
	size_t n;
	unsigned i;

	ic_addr_unmap(&u);
	if (u.sa.sa_family == AF_INET6) {
		/* family tag, prefix length, the first prefix6 bits of the address */
		in[0] = 6;
		in[1] = (uint8_t)(prefix6 > 128 ? 128 : prefix6);
		memcpy(in + 2, &u.in6.sin6_addr, 16);
		for (i = in[1]; i < 128; i++)
			in[2 + i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
		n = 18;
	} else {
		in[0] = 4;
		memcpy(in + 1, &u.in4.sin_addr, 4);
		n = 5;
	}
	return (uint32_t)acceptor_siphash(in, n, key) & (ACCEPTOR_CLIENT_SLOTS - 1);
}

static unsigned long open_connections(const struct acceptor *a)
{
	unsigned long n = 0;
	unsigned i;

	for (i = 0; i < a->n_workers; i++)
		n += worker_load(&a->workers[i]);
	return n;
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
static struct worker *pick_worker(struct acceptor *a, enum balance balance)
{
	struct worker *x, *y;
	uint64_t r;

	if (a->n_workers == 1)
		return &a->workers[0];
	if (balance == BALANCE_ROUND_ROBIN)
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

	for (i = 0; i < a->cur->n; i++)
		(void)poller_set(a->poller, a->cur->l[i].fd, paused ? 0 : POLLER_IN, &a->cur->l[i]);
}

/* Counts c against its client's cap; false (c not taken) when over it. */
static int take_client_slot(struct acceptor *a, struct conn *c, const struct config *cfg)
{
	uint32_t *slot = &a->per_client[acceptor_client_slot(a->slot_key, &c->peer,
							     cfg->per_client_ipv6_prefix)];
	char ip[INET6_ADDRSTRLEN];
	uint64_t now;

	if (ATOMIC_ADD(*slot, 1) > cfg->max_connections_per_client) {
		ATOMIC_SUB(*slot, 1);
		STAT_INC(a->per_client_refused);
		now = now_ms();
		if (now - a->per_client_logged >= 1000) { /* at most one line a second */
			a->per_client_logged = now;
			log_warn("client %s over max_connections_per_client (%u): connection "
				 "closed (%llu so far)",
				 ic_addr_format_ip(&c->peer, ip, sizeof(ip)),
				 cfg->max_connections_per_client,
				 (unsigned long long)a->per_client_refused);
		}
		return 0;
	}
	c->client_slot = slot;
	return 1;
}

/* Must a new connection be started at once, rather than when its first
 * bytes arrive (or within WORKER_PICKUP_MS)? A forced tunnel connects
 * upstream at once (a server-first protocol); a first_bytes timeout too
 * short to absorb the pick-up delay wants an exact start. */
static int must_start_now(const struct listener_conf *lc, const struct config *cfg)
{
	return lc->protocol == LISTEN_PROTO_TCP ||
	       cfg->timeout_ms[CONN_TIMER_FIRST] < 2 * WORKER_PICKUP_MS;
}

/* Accepts up to ACCEPT_BATCH connections (all of them when draining). */
static void accept_batch(struct acceptor *a, struct listener *l, int drain)
{
	struct config *cfg = l->set->cfg;
	union ic_addr peer;
	socklen_t len;
	struct conn *c;
	int i, fd;

	for (i = 0; drain || i < ACCEPT_BATCH; i++) {
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
				if (drain)
					return;
				a->paused_until = now_ms() + EMFILE_PAUSE_MS;
				set_paused(a, 1);
				return;
			}
			STAT_INC(
				a->accept_errors); /* ECONNABORTED, EPROTO, ...: that client only */
			continue;
		}
		c = conn_new(fd, &peer, l->conf, cfg);
		if (c == NULL) {
			STAT_INC(a->handoff_failed);
			close(fd);
			continue;
		}
		if (cfg->max_connections_per_client != 0 && !take_client_slot(a, c, cfg)) {
			conn_free_unstarted(c);
			continue;
		}
		worker_hand_off(pick_worker(a, cfg->balance), c, must_start_now(l->conf, cfg));
		STAT_INC(a->accepted);
		if (cfg->max_connections != 0 && open_connections(a) >= cfg->max_connections) {
			/* the kernel backlog holds new SYNs until we are below the mark */
			log_warn("max_connections (%u) reached: accepting paused",
				 cfg->max_connections);
			STAT_INC(a->limit_pauses);
			a->over_limit = 1;
			set_paused(a, 1);
			return;
		}
	}
}

/* Moves from a->cur to s: new sockets are polled, kept ones re-tagged, and
 * the ones that left are drained of queued connections, then closed. */
static void switch_set(struct acceptor *a, struct listen_set *s)
{
	struct listen_set *old = a->cur;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (poller_set(a->poller, s->l[i].fd, POLLER_IN, &s->l[i]) < 0)
			log_error("acceptor: cannot poll [listener %s]", s->l[i].conf->name);
	for (i = 0; old != NULL && i < old->n; i++) {
		if (has_fd(s, old->l[i].fd))
			continue;
		(void)poller_del(a->poller, old->l[i].fd);
		accept_batch(a, &old->l[i], 1);
		close(old->l[i].fd);
		old->l[i].fd = -1;
		STAT_INC(a->listeners_closed);
	}
	a->cur = s;
	a->paused_until = 0;
	a->over_limit = 0;
	ATOMIC_SET(a->ack, s);
}

/* Accepting resumes at 90 % of max_connections. */
static unsigned long low_water(const struct config *cfg)
{
	return cfg->max_connections == 0 ? ~0ul : cfg->max_connections - cfg->max_connections / 10;
}

static void *acceptor_main(void *arg)
{
	struct acceptor *a = arg;
	struct poller_event ev[CONFIG_MAX_LISTENERS + 1];
	struct listen_set *pub;
	int n, i, timeout;

	rcu_register_thread();
	while (!ATOMIC_GET(a->stop)) {
		if (a->test_stall_ms != 0 && ATOMIC_GET(a->pub) != a->cur && a->cur != NULL) {
			/* test hook: the first hand-over after start is late */
			struct timespec ts = {(time_t)(a->test_stall_ms / 1000),
					      (long)(a->test_stall_ms % 1000) * 1000000L};

			a->test_stall_ms = 0;
			nanosleep(&ts, NULL);
		}
		/* rcu_dereference(), as an acquire load TSan can follow */
		pub = ATOMIC_GET(a->pub);
		if (pub != a->cur)
			switch_set(a, pub);
		timeout = -1;
		if (a->over_limit) {
			if (open_connections(a) <= low_water(a->cur->cfg)) {
				a->over_limit = 0;
				set_paused(a, 0);
				log_info("connections below the low-water mark: accepting again");
			} else {
				timeout = 20; /* workers close connections without telling us */
			}
		} else if (a->paused_until != 0) {
			uint64_t now = now_ms();

			if (now >= a->paused_until) {
				a->paused_until = 0;
				set_paused(a, 0);
			} else {
				timeout = (int)(a->paused_until - now) + 1;
			}
		}
		rcu_thread_offline(); /* sleeping is a quiescent state */
		n = poller_wait(a->poller, ev, (int)ARRAY_SIZE(ev), timeout);
		rcu_thread_online();
		if (n < 0 && n != -EINTR) {
			log_error("acceptor: poller_wait() failed (%d: %s)", -n, strerror(-n));
			break;
		}
		for (i = 0; i < n && !ATOMIC_GET(a->stop); i++)
			if (ev[i].udata != NULL)
				accept_batch(a, ev[i].udata, 0);
		rcu_quiescent_state();
	}
	rcu_unregister_thread();
	return NULL;
}

int acceptor_start(struct acceptor *a, struct listen_set *set, struct worker *workers,
		   unsigned n_workers)
{
	a->workers = workers;
	a->n_workers = n_workers;
	ATOMIC_SET(a->pub, set); /* rcu_assign_pointer(), as a release store */
	return -pthread_create(&a->thread, NULL, acceptor_main, a);
}

int acceptor_wait_taken(struct acceptor *a, const struct listen_set *set)
{
	struct timespec ts = {0, 5 * 1000000L};
	uint64_t deadline = now_ms() + PUBLISH_WAIT_MS;

	while (ATOMIC_GET(a->ack) != set) {
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		nanosleep(&ts, NULL);
	}
	return 0;
}

int acceptor_publish(struct acceptor *a, struct listen_set *set)
{
	ATOMIC_SET(a->pub, set); /* rcu_assign_pointer(), as a release store */
	(void)poller_wake(a->poller);
	return acceptor_wait_taken(a, set);
}

void acceptor_stop(struct acceptor *a)
{
	ATOMIC_SET(a->stop, 1);
	(void)poller_wake(a->poller);
	pthread_join(a->thread, NULL);
}
