/*
 * acceptor.h — the acceptor thread: owns every listening socket, accepts in
 * batches and hands each connection to a worker, together with a reference
 * to the configuration it arrived under.
 *
 * Reload: the main thread builds a new listener set (listen_set_build:
 * sockets that stay are carried over, new ones opened) and publishes it
 * (acceptor_publish) with RCU; the acceptor — the one RCU (QSBR) reader —
 * switches to it at its next wake-up, drains and closes listeners that left,
 * and acknowledges. Listeners that stay are never closed, so intercepted SYNs
 * always find a socket.
 *
 * Which thread may call what:
 *   listen_set_build, listen_set_free, acceptor_init/start/publish/stop/fini
 *                                                   main thread
 *   everything else                                 the acceptor thread
 */
#ifndef REMORA_ACCEPTOR_H
#define REMORA_ACCEPTOR_H

#include <pthread.h>
#include <stdint.h>

#include "config.h"
#include "poller/poller.h"
#include "worker.h"

struct listener {
	const struct listener_conf *conf; /* in set->cfg */
	int fd;
	struct listen_set *set;
};

/* A configuration with its open listening sockets (owns one config ref). */
struct listen_set {
	struct config *cfg;
	size_t n;
	struct listener l[CONFIG_MAX_LISTENERS];
};

struct acceptor {
	pthread_t thread;
	struct poller *poller;
	struct listen_set *pub; /* published by the main thread (RCU) */
	struct listen_set *cur; /* what the acceptor polls (acceptor only) */
	struct listen_set *ack; /* last set switched to, read by the main thread */
	struct worker *workers;
	unsigned n_workers;
	int stop;
	uint64_t rng;
	unsigned rr;
	uint64_t paused_until; /* EMFILE/ENFILE back-off */
	uint64_t accepted;
	uint64_t handoff_failed;
	uint64_t accept_errors;
	uint64_t listeners_closed; /* left the configuration on a reload */
	/* [limits] */
	uint32_t *per_client;	     /* open connections per client-address hash slot */
	uint64_t slot_key[2];	     /* per_client's hash key, random per start */
	int over_limit;		     /* paused: max_connections reached */
	uint64_t limit_pauses;	     /* times max_connections paused accepting */
	uint64_t per_client_refused; /* connections closed: a client over its cap */
	uint64_t per_client_logged;  /* now_ms() of the last such log line */
	/* test hook (environment REMORA_TEST_ACCEPTOR_STALL_MS, read at start):
	 * the first hand-over of a reload waits this long (tests/netns
	 * reload_stalled); 0 in production */
	unsigned test_stall_ms;
};

/* Slots of the per-client table: addresses hash into it, so two clients may
 * share a slot and count against one cap (conservative, never lenient). */
#define ACCEPTOR_CLIENT_SLOTS 65536

/* The per-client table slot of peer (IPv4-mapped counts as IPv4): a keyed
 * hash (SipHash-2-4 under key, random per start, so no one outside can pick
 * addresses that share a victim's slot) of the IPv4 address, or of the first
 * prefix6 bits of the IPv6 address (one subscriber holds a whole /64). Any
 * thread. */
uint32_t acceptor_client_slot(const uint64_t key[2], const union ic_addr *peer, unsigned prefix6);
/* SipHash-2-4 of in[0..len) under key (exposed for its test vectors). */
uint64_t acceptor_siphash(const void *in, size_t len, const uint64_t key[2]);

/* Opens the listeners of cfg, reusing the sockets of prev (may be NULL) whose
 * address and mode are unchanged. Takes a reference to cfg. On failure
 * returns NULL with a message naming the listener, the call and the likely
 * fix in err; nothing of prev is touched. */
struct listen_set *listen_set_build(struct config *cfg, const struct listen_set *prev, char *err,
				    size_t errlen);
/* Once the reload that built s from prev is committed: gives the sockets s
 * kept from prev their new backlog and defer_accept (main thread). */
void listen_set_adjust(const struct listen_set *s, const struct listen_set *prev);
/* Closes the sockets of s that are not in keep (NULL: all), drops the config
 * reference and frees s. */
void listen_set_free(struct listen_set *s, const struct listen_set *keep);

int acceptor_init(struct acceptor *a);
/* Starts the thread on set (published first), handing connections to
 * workers[0..n_workers). 0 or -errno. */
int acceptor_start(struct acceptor *a, struct listen_set *set, struct worker *workers,
		   unsigned n_workers);
/* Publishes set and waits (bounded) until the acceptor uses it; returns 0,
 * or -ETIMEDOUT. The caller then frees the previous set with
 * listen_set_free(prev, set) — after synchronize_rcu(). */
int acceptor_publish(struct acceptor *a, struct listen_set *set);
/* Waits (bounded, as acceptor_publish) until the acceptor uses set, published
 * earlier. 0 or -ETIMEDOUT. */
int acceptor_wait_taken(struct acceptor *a, const struct listen_set *set);
/* Stops accepting: the thread exits; listeners stay open until listen_set_free. */
void acceptor_stop(struct acceptor *a);
void acceptor_fini(struct acceptor *a);

#endif
