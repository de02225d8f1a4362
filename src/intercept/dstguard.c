/* dstguard.c — destinations Remora must never connect to (see intercept.h):
 * special-purpose ranges, and sets of the box's own addresses. */
#include "remora-config.h"

#include <errno.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>

#include "intercept/intercept.h"

bool ic_addr_is_forbidden_dst(const union ic_addr *dst)
{
	union ic_addr u = *dst;
	const uint8_t *b;
	uint32_t v4;

	ic_addr_unmap(&u); /* ::ffff:127.0.0.1 is 127.0.0.1 */
	if (u.sa.sa_family == AF_INET) {
		v4 = ntohl(u.in4.sin_addr.s_addr);
		return (v4 >> 24) == 0	       /* 0.0.0.0/8: "this network" */
		       || (v4 >> 24) == 127    /* loopback */
		       || (v4 >> 16) == 0xa9fe /* 169.254/16 link-local */
		       || (v4 >> 28) >= 0xe;   /* 224/4 multicast, 240/4 and broadcast */
	}
	if (u.sa.sa_family != AF_INET6)
		return true;
	b = u.in6.sin6_addr.s6_addr;
	return IN6_IS_ADDR_UNSPECIFIED(&u.in6.sin6_addr) ||
	       IN6_IS_ADDR_LOOPBACK(&u.in6.sin6_addr) ||
	       (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* fe80::/10 link-local */
	       || b[0] == 0xff;			       /* ff00::/8 multicast */
}

/* The set's key of a: its IP as IPv6, IPv4 in the v4-mapped form. */
static void set_key(const union ic_addr *a, struct in6_addr *k)
{
	memset(k, 0, sizeof(*k));
	if (a->sa.sa_family == AF_INET6) {
		*k = a->in6.sin6_addr;
	} else {
		k->s6_addr[10] = k->s6_addr[11] = 0xff;
		memcpy(&k->s6_addr[12], &a->in4.sin_addr, 4);
	}
}

static int key_cmp(const void *x, const void *y)
{
	return memcmp(x, y, sizeof(struct in6_addr));
}

struct ic_ip_set *ic_ip_set_new(const union ic_addr *a, size_t n)
{
	struct ic_ip_set *s = malloc(sizeof(*s) + (n ? n : 1) * sizeof(s->ip[0]));
	size_t i, j;

	if (s == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		set_key(&a[i], &s->ip[i]);
	qsort(s->ip, n, sizeof(s->ip[0]), key_cmp);
	for (i = j = 0; i < n; i++) /* drop duplicates */
		if (j == 0 || key_cmp(&s->ip[j - 1], &s->ip[i]) != 0)
			s->ip[j++] = s->ip[i];
	s->n = j;
	return s;
}

struct ic_ip_set *ic_ip_set_dup(const struct ic_ip_set *s)
{
	size_t len = sizeof(*s) + (s->n ? s->n : 1) * sizeof(s->ip[0]);
	struct ic_ip_set *d = malloc(len);

	if (d != NULL)
		memcpy(d, s, len);
	return d;
}

bool ic_ip_set_has(const struct ic_ip_set *s, const union ic_addr *a)
{
	struct in6_addr k;

	set_key(a, &k);
	return bsearch(&k, s->ip, s->n, sizeof(s->ip[0]), key_cmp) != NULL;
}

bool ic_ip_set_equal(const struct ic_ip_set *a, const struct ic_ip_set *b)
{
	return a != NULL && b != NULL && a->n == b->n &&
	       memcmp(a->ip, b->ip, a->n * sizeof(a->ip[0])) == 0;
}

int ic_ip_set_local(struct ic_ip_set **out, const union ic_addr *extra, size_t n_extra)
{
	struct ifaddrs *ifa, *i;
	union ic_addr *all;
	size_t n = n_extra;

	if (getifaddrs(&ifa) == -1)
		return -errno;
	for (i = ifa; i != NULL; i = i->ifa_next)
		n += i->ifa_addr != NULL &&
		     (i->ifa_addr->sa_family == AF_INET || i->ifa_addr->sa_family == AF_INET6);
	all = calloc(n ? n : 1, sizeof(*all));
	if (all == NULL) {
		freeifaddrs(ifa);
		return -ENOMEM;
	}
	memcpy(all, extra, n_extra * sizeof(*all));
	n = n_extra;
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr != NULL && i->ifa_addr->sa_family == AF_INET)
			memcpy(&all[n++].in4, i->ifa_addr, sizeof(struct sockaddr_in));
		else if (i->ifa_addr != NULL && i->ifa_addr->sa_family == AF_INET6)
			memcpy(&all[n++].in6, i->ifa_addr, sizeof(struct sockaddr_in6));
	}
	freeifaddrs(ifa);
	for (size_t k = 0; k < n; k++)
		ic_addr_unmap(&all[k]);
	*out = ic_ip_set_new(all, n);
	free(all);
	return *out != NULL ? 0 : -ENOMEM;
}
