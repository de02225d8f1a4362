/* dns.c — c-ares resolver with a TTL cache (see dns.h). */
#include "remora-config.h"

#include <ares.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "dns.h"
#include "util.h"

#define DNS_BUCKETS	4096
#define DNS_MAX_ENTRIES 20000
#define DNS_CHAIN_MAX	8 /* answers kept per bucket (see bucket_trim) */
#define DNS_TTL_MIN_S	5
#define DNS_TTL_MAX_S	3600
#define DNS_FAIL_TTL_S	5
#define DNS_TIMEOUT_MS	1500
#define DNS_TRIES	2
#define DNS_NAME_MAX	255

struct dns_entry {
	struct dns_entry *next; /* hash chain */
	struct cds_list_head waiters;
	struct dns *d;
	uint64_t expires; /* now_ms() */
	int pending;
	struct dns_answer ans;
	char name[];
};

struct dns_sock {
	uint8_t kind; /* POLL_KIND_DNS: must be first */
	uint8_t dead; /* c-ares closed it: events still queued for it are stale */
	int fd;
	struct dns *d;
	struct dns_sock *next;
};

struct dns {
	ares_channel chan;
	struct poller *poller;
	struct dns_sock *socks;
	struct dns_sock *dead; /* released sockets, freed by dns_tick (end of the batch) */
	size_t n_entries;
	unsigned pending;
	struct dns_entry *buckets[DNS_BUCKETS];
};

static uint32_t hash_name(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h & (DNS_BUCKETS - 1);
}

/* c-ares tells which of its sockets to watch, and for what. A socket it
 * closes may still have an event later in the worker's batch (c-ares closes
 * all of them when its last query ends): it is only marked dead here and
 * freed at the end of the batch (stale-event rule, poller.h). */
static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns *d = data;
	struct dns_sock **pp, *s;

	for (pp = &d->socks; (s = *pp) != NULL; pp = &s->next)
		if (s->fd == fd)
			break;
	if (!readable && !writable) {
		if (s != NULL) {
			(void)poller_del(d->poller, fd);
			*pp = s->next;
			s->dead = 1;
			s->fd = -1;
			s->next = d->dead;
			d->dead = s;
		}
		return;
	}
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL)
			return; /* the query times out: reported as a failure */
		s->kind = POLL_KIND_DNS;
		s->fd = fd;
		s->d = d;
		s->next = d->socks;
		d->socks = s;
	}
	(void)poller_set(d->poller, fd, (readable ? POLLER_IN : 0) | (writable ? POLLER_OUT : 0),
			 s);
}

int dns_new(struct dns **out, struct poller *p, const char *servers)
{
	static int lib_ok = -1;
	struct ares_options o;
	struct dns *d;
	int rc;

	if (lib_ok < 0)
		lib_ok = ares_library_init(ARES_LIB_INIT_ALL) == ARES_SUCCESS;
	if (!lib_ok)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return -ENOMEM;
	d->poller = p;
	memset(&o, 0, sizeof(o));
	o.sock_state_cb = sock_state;
	o.sock_state_cb_data = d;
	o.timeout = DNS_TIMEOUT_MS;
	o.tries = DNS_TRIES;
	rc = ares_init_options(&d->chan, &o,
			       ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (rc != ARES_SUCCESS) {
		free(d);
		return -EINVAL;
	}
	if (servers != NULL && servers[0] != '\0' &&
	    ares_set_servers_ports_csv(d->chan, servers) != ARES_SUCCESS) {
		ares_destroy(d->chan);
		free(d);
		return -EINVAL;
	}
	*out = d;
	return 0;
}

/* Frees the sockets c-ares released (no event of the batch still names them). */
static void free_dead_socks(struct dns *d)
{
	struct dns_sock *s;

	while ((s = d->dead) != NULL) {
		d->dead = s->next;
		free(s);
	}
}

void dns_free(struct dns *d)
{
	struct dns_entry *e, *n;
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < DNS_BUCKETS; i++)
		for (e = d->buckets[i]; e != NULL; e = n) {
			n = e->next;
			e->pending = 0; /* callbacks from ares_destroy find nobody */
			CDS_INIT_LIST_HEAD(&e->waiters);
		}
	ares_destroy(d->chan); /* runs the pending callbacks with ARES_EDESTRUCTION */
	free_dead_socks(d);    /* ares_destroy closed every socket */
	for (i = 0; i < DNS_BUCKETS; i++)
		for (e = d->buckets[i]; e != NULL; e = n) {
			n = e->next;
			free(e);
		}
	free(d);
}

static void unlink_entry(struct dns *d, struct dns_entry *e)
{
	struct dns_entry **pp = &d->buckets[hash_name(e->name)];

	for (; *pp != NULL; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			d->n_entries--;
			return;
		}
}

static void on_answer(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct dns_entry *e = arg;
	struct ares_addrinfo_node *n;
	struct dns_waiter *w;
	int ttl = DNS_TTL_MAX_S;

	(void)timeouts;
	if (status == ARES_EDESTRUCTION) {
		ares_freeaddrinfo(res);
		return; /* dns_free: the entry goes with the resolver */
	}
	memset(&e->ans, 0, sizeof(e->ans));
	e->ans.status = status;
	for (n = res ? res->nodes : NULL; n != NULL; n = n->ai_next) {
		if (n->ai_ttl < ttl)
			ttl = n->ai_ttl;
		if (n->ai_family == AF_INET && e->ans.n4 < DNS_MAX_ADDRS)
			e->ans.a4[e->ans.n4++] = ((struct sockaddr_in *)n->ai_addr)->sin_addr;
		else if (n->ai_family == AF_INET6 && e->ans.n6 < DNS_MAX_ADDRS)
			e->ans.a6[e->ans.n6++] = ((struct sockaddr_in6 *)n->ai_addr)->sin6_addr;
	}
	ares_freeaddrinfo(res);
	if (status != ARES_SUCCESS)
		ttl = DNS_FAIL_TTL_S;
	ttl = ttl < DNS_TTL_MIN_S ? DNS_TTL_MIN_S : ttl;
	e->expires = now_ms() + (uint64_t)ttl * 1000;
	e->pending = 0;
	e->d->pending--;
	while (!cds_list_empty(&e->waiters)) {
		w = cds_list_first_entry(&e->waiters, struct dns_waiter, link);
		cds_list_del_init(&w->link);
		w->done(w, &e->ans);
	}
	if (e->d->n_entries > DNS_MAX_ENTRIES) {
		unlink_entry(e->d, e); /* full: answer the waiters, keep nothing */
		free(e);
	}
}

/*
 * Before a new name joins bucket b: drops the bucket's expired answers and,
 * when it still holds DNS_CHAIN_MAX, its oldest one. The hash is public, so
 * a client can choose Host names that share a bucket: without this, every
 * lookup there compared its name with thousands of entries, and answers that
 * expired were never dropped, so a full cache stayed full. Entries still
 * being looked up stay (each has a connection waiting on it).
 */
static void bucket_trim(struct dns *d, uint32_t b, uint64_t now)
{
	struct dns_entry **pp = &d->buckets[b], **oldest = NULL, *e;
	unsigned kept = 0;

	while ((e = *pp) != NULL) {
		if (!e->pending && e->expires <= now) {
			*pp = e->next;
			d->n_entries--;
			free(e);
			continue;
		}
		if (!e->pending) {
			kept++;
			oldest = pp; /* new entries go in front: the last is the oldest */
		}
		pp = &e->next;
	}
	if (kept >= DNS_CHAIN_MAX) {
		e = *oldest;
		*oldest = e->next;
		d->n_entries--;
		free(e);
	}
}

int dns_resolve(struct dns *d, const char *name, struct dns_waiter *w,
		const struct dns_answer **answer)
{
	struct ares_addrinfo_hints hints = {.ai_family = AF_UNSPEC};
	char key[DNS_NAME_MAX + 1];
	struct dns_entry *e;
	uint32_t b;
	size_t i, n = strlen(name);

	if (n == 0 || n > DNS_NAME_MAX)
		return -EINVAL;
	for (i = 0; i <= n; i++)
		key[i] = (char)tolower((unsigned char)name[i]);
	b = hash_name(key);
	for (e = d->buckets[b]; e != NULL; e = e->next)
		if (strcmp(e->name, key) == 0)
			break;
	if (e != NULL && !e->pending && e->expires > now_ms()) {
		*answer = &e->ans;
		return 1;
	}
	if (e == NULL) {
		bucket_trim(d, b, now_ms());
		e = calloc(1, sizeof(*e) + n + 1);
		if (e == NULL)
			return -ENOMEM;
		memcpy(e->name, key, n + 1);
		e->d = d;
		CDS_INIT_LIST_HEAD(&e->waiters);
		e->next = d->buckets[b];
		d->buckets[b] = e;
		d->n_entries++;
	}
	cds_list_add_tail(&w->link, &e->waiters);
	if (!e->pending) {
		e->pending = 1;
		d->pending++;
		/* the waiter is queued first: a synchronous answer still finds it,
		 * and its callback defers any work (see dns_done_fn users) */
		ares_getaddrinfo(d->chan, key, NULL, &hints, on_answer, e);
	}
	return 0;
}

void dns_cancel(struct dns_waiter *w)
{
	if (w->link.next != NULL && !cds_list_empty(&w->link))
		cds_list_del_init(&w->link);
}

int dns_answer_has(const struct dns_answer *a, const union ic_addr *addr)
{
	union ic_addr u = *addr;
	unsigned i;

	ic_addr_unmap(&u);
	if (u.sa.sa_family == AF_INET) {
		for (i = 0; i < a->n4; i++)
			if (a->a4[i].s_addr == u.in4.sin_addr.s_addr)
				return 1;
	} else {
		for (i = 0; i < a->n6; i++)
			if (memcmp(&a->a6[i], &u.in6.sin6_addr, 16) == 0)
				return 1;
	}
	return 0;
}

void dns_on_event(void *udata, uint32_t events)
{
	struct dns_sock *s = udata;

	if (s->dead)
		return; /* released earlier in this batch */
	ares_process_fd(s->d->chan, (events & (POLLER_IN | POLLER_ERR)) ? s->fd : ARES_SOCKET_BAD,
			(events & (POLLER_OUT | POLLER_ERR)) ? s->fd : ARES_SOCKET_BAD);
}

int dns_timeout_ms(struct dns *d)
{
	struct timeval tv, *t;

	if (d == NULL || d->pending == 0)
		return -1;
	t = ares_timeout(d->chan, NULL, &tv);
	if (t == NULL)
		return -1;
	return (int)(t->tv_sec * 1000 + t->tv_usec / 1000) + 1;
}

void dns_tick(struct dns *d)
{
	if (d == NULL)
		return;
	if (d->pending != 0)
		ares_process_fd(d->chan, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	free_dead_socks(d);
}
