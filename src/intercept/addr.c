/* addr.c — parsing, printing and comparing socket addresses. */
#include "remora-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intercept/intercept.h"

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int ic_addr_parse(const char *s, union ic_addr *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon;
	size_t hlen;
	uint16_t port;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return -EINVAL;
		hlen = (size_t)(close - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		if (parse_port(close + 2, &port) < 0 ||
		    inet_pton(AF_INET6, host, &out->in6.sin6_addr) != 1)
			return -EINVAL;
		out->in6.sin6_family = AF_INET6;
		out->in6.sin6_port = htons(port);
		return 0;
	}
	colon = strrchr(s, ':');
	if (colon == NULL || strchr(s, ':') != colon)
		return -EINVAL;
	hlen = (size_t)(colon - s);
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (parse_port(colon + 1, &port) < 0 || inet_pton(AF_INET, host, &out->in4.sin_addr) != 1)
		return -EINVAL;
	out->in4.sin_family = AF_INET;
	out->in4.sin_port = htons(port);
	return 0;
}

static bool is_v4mapped(const union ic_addr *a)
{
	return a->sa.sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a->in6.sin6_addr);
}

void ic_addr_unmap(union ic_addr *a)
{
	struct sockaddr_in in4 = {.sin_family = AF_INET};

	if (!is_v4mapped(a))
		return;
	in4.sin_port = a->in6.sin6_port;
	memcpy(&in4.sin_addr, &a->in6.sin6_addr.s6_addr[12], 4);
	memset(a, 0, sizeof(*a));
	a->in4 = in4;
}

char *ic_addr_format_ip(const union ic_addr *a, char *buf, size_t len)
{
	union ic_addr u = *a;

	const char *ok = NULL;

	if (len == 0)
		return buf;
	ic_addr_unmap(&u);
	if (u.sa.sa_family == AF_INET)
		ok = inet_ntop(AF_INET, &u.in4.sin_addr, buf, (socklen_t)len);
	else if (u.sa.sa_family == AF_INET6)
		ok = inet_ntop(AF_INET6, &u.in6.sin6_addr, buf, (socklen_t)len);
	else
		ok = snprintf(buf, len, "(af %d)", u.sa.sa_family) >= 0 ? buf : NULL;
	if (ok == NULL)
		buf[0] = '\0'; /* too small: an empty string, never an unterminated one */
	return buf;
}

char *ic_addr_format(const union ic_addr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	union ic_addr u = *a;

	ic_addr_unmap(&u);
	ic_addr_format_ip(&u, ip, sizeof(ip));
	snprintf(buf, len, u.sa.sa_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
		 (unsigned)ic_addr_port(&u));
	return buf;
}

socklen_t ic_addr_len(const union ic_addr *a)
{
	return a->sa.sa_family == AF_INET6 ? sizeof(a->in6) : sizeof(a->in4);
}

uint16_t ic_addr_port(const union ic_addr *a)
{
	return ntohs(a->sa.sa_family == AF_INET6 ? a->in6.sin6_port : a->in4.sin_port);
}

static bool ip_equal(const union ic_addr *x, const union ic_addr *y)
{
	if (x->sa.sa_family != y->sa.sa_family)
		return false;
	if (x->sa.sa_family == AF_INET)
		return x->in4.sin_addr.s_addr == y->in4.sin_addr.s_addr;
	return memcmp(&x->in6.sin6_addr, &y->in6.sin6_addr, 16) == 0;
}

bool ic_addr_equal(const union ic_addr *a, const union ic_addr *b)
{
	union ic_addr x = *a, y = *b;

	ic_addr_unmap(&x);
	ic_addr_unmap(&y);
	return ic_addr_port(&x) == ic_addr_port(&y) && ip_equal(&x, &y);
}

bool ic_addr_is_any(const union ic_addr *a)
{
	if (a->sa.sa_family == AF_INET)
		return a->in4.sin_addr.s_addr == htonl(INADDR_ANY);
	return a->sa.sa_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&a->in6.sin6_addr);
}

bool ic_addr_is_listener(const union ic_addr *dst, const union ic_addr *listeners, size_t n)
{
	union ic_addr d = *dst;
	size_t i;

	ic_addr_unmap(&d);
	for (i = 0; i < n; i++) {
		union ic_addr l = listeners[i];

		ic_addr_unmap(&l);
		if (ic_addr_port(&l) != ic_addr_port(&d))
			continue;
		/* listeners are IPV6_V6ONLY: a wildcard matches its own family only */
		if (ic_addr_is_any(&l) ? l.sa.sa_family == d.sa.sa_family : ip_equal(&l, &d))
			return true;
	}
	return false;
}

int ic_cidr_parse(const char *s, struct ic_cidr *out)
{
	char ip[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long bits;
	char *end;
	int max;

	memset(out, 0, sizeof(*out));
	if (n == 0 || n >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, n);
	ip[n] = '\0';
	if (inet_pton(AF_INET, ip, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, ip, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	bits = (unsigned long)max;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		errno = 0;
		bits = strtoul(slash + 1, &end, 10);
		if (errno != 0 || *end != '\0' || bits > (unsigned long)max)
			return -EINVAL;
	}
	out->bits = (uint8_t)bits;
	return 0;
}

bool ic_cidr_match(const struct ic_cidr *c, const union ic_addr *a)
{
	union ic_addr u = *a;
	const uint8_t *p;
	unsigned full, rest;

	ic_addr_unmap(&u);
	if (u.sa.sa_family != c->family)
		return false;
	p = c->family == AF_INET ? (const uint8_t *)&u.in4.sin_addr
				 : (const uint8_t *)&u.in6.sin6_addr;
	full = c->bits / 8u;
	rest = c->bits % 8u;
	if (memcmp(p, c->addr, full) != 0)
		return false;
	return rest == 0 || ((p[full] ^ c->addr[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}
