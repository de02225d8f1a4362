/*
 * dns.h — a per-worker asynchronous resolver (c-ares) with a TTL cache, for
 * Host verification. Its sockets live in the worker's poller; answers are
 * delivered to waiters through a callback run on the worker thread.
 *
 * Thread safety: a resolver and its waiters belong to one worker thread.
 */
#ifndef REMORA_DNS_H
#define REMORA_DNS_H

#include <netinet/in.h>
#include <stdint.h>
#include <urcu/list.h>

#include "intercept/intercept.h"
#include "poller/poller.h"

/* First byte of every poller udata the worker gets: what it belongs to. */
enum poll_kind { POLL_KIND_CONN = 1, POLL_KIND_DNS = 2 };

#define DNS_MAX_ADDRS 8

struct dns;

/* What a name resolved to (or failed with), valid until expires. */
struct dns_answer {
	int status; /* 0, or an ARES_E* code */
	uint8_t n4, n6;
	struct in_addr a4[DNS_MAX_ADDRS];
	struct in6_addr a6[DNS_MAX_ADDRS];
};

struct dns_waiter;
typedef void (*dns_done_fn)(struct dns_waiter *w, const struct dns_answer *a);

struct dns_waiter {
	struct cds_list_head link; /* in its entry's list while waiting */
	dns_done_fn done;
};

/* servers: "ip[:port],..." or "" for the system's resolv.conf. 0 or -errno. */
int dns_new(struct dns **out, struct poller *p, const char *servers);
void dns_free(struct dns *d); /* NULL-tolerant; pending waiters are dropped silently */

/* Resolves name (a host name, lower or upper case, no port). Returns 1 with
 * *answer set when a fresh cached answer exists (read it at once: like the
 * answer a waiter is called with, it may be dropped by the next call); 0 when w is called with the
 * answer: later, or already from inside this call when c-ares answers at
 * once (hosts file, "localhost"), so a caller records that it waits before
 * the call; -errno on failure. */
int dns_resolve(struct dns *d, const char *name, struct dns_waiter *w,
		const struct dns_answer **answer);
/* Withdraws a waiting w (NULL-safe to call when it is not waiting). */
void dns_cancel(struct dns_waiter *w);
/* True when addr's IP is one of the answer's addresses. */
int dns_answer_has(const struct dns_answer *a, const union ic_addr *addr);

/* Poller plumbing (owning worker): an event on one of the resolver's
 * sockets (udata starts with POLL_KIND_DNS); an event for a socket the
 * resolver released earlier in the same batch is ignored. */
void dns_on_event(void *udata, uint32_t events);
/* Milliseconds until the resolver needs dns_tick (-1: nothing pending). */
int dns_timeout_ms(struct dns *d);
/* Time-based work, and frees the sockets released since the last call: call
 * it once per loop, after every event of the batch was dispatched (NULL-safe). */
void dns_tick(struct dns *d);

#endif
