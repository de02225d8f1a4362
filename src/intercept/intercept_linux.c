/* intercept_linux.c — Linux mechanisms: IP_TRANSPARENT, SO_ORIGINAL_DST,
 * IP_BIND_ADDRESS_NO_PORT. */
#include "remora-config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <sys/socket.h>

#include "intercept/intercept.h"

int ic_platform_set_transparent(int fd, int family)
{
	int one = 1;

	if (family == AF_INET6) {
#if HAVE_IPV6_TRANSPARENT
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_TRANSPARENT, &one, sizeof(one)) == -1)
			return -errno;
		return 0;
#else
		return -EOPNOTSUPP;
#endif
	}
	if (setsockopt(fd, IPPROTO_IP, IP_TRANSPARENT, &one, sizeof(one)) == -1)
		return -errno;
	return 0;
}

int ic_platform_defer_accept(int fd, unsigned seconds)
{
	int v = (int)seconds;

	if (setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &v, sizeof(v)) == -1)
		return -errno;
	return 0;
}

int ic_platform_bind_no_port(int fd)
{
#if HAVE_IP_BIND_ADDRESS_NO_PORT
	int one = 1;

	/* applies to IPv6 sockets too (the option lives at SOL_IP level) */
	if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) == -1)
		return -errno;
	return 0;
#else
	return -EOPNOTSUPP;
#endif
}

int ic_platform_nat_lookup(int fd, const union ic_addr *peer, union ic_addr *dst)
{
	union ic_addr self;
	socklen_t len = sizeof(self);
	int v = 0;

	(void)peer;
	if (getsockname(fd, &self.sa, &len) == -1)
		return -errno;
	/* never ask conntrack on a transparent socket: its answer would be stale */
	len = sizeof(v);
	if (self.sa.sa_family == AF_INET6) {
#if HAVE_IPV6_TRANSPARENT
		if (getsockopt(fd, IPPROTO_IPV6, IPV6_TRANSPARENT, &v, &len) == 0 && v)
			return -EINVAL;
#endif
	} else if (getsockopt(fd, IPPROTO_IP, IP_TRANSPARENT, &v, &len) == 0 && v) {
		return -EINVAL;
	}
	len = sizeof(*dst);
	if (self.sa.sa_family == AF_INET6 && !IN6_IS_ADDR_V4MAPPED(&self.in6.sin6_addr)) {
#if HAVE_IP6T_SO_ORIGINAL_DST
		if (getsockopt(fd, IPPROTO_IPV6, IP6T_SO_ORIGINAL_DST, &dst->sa, &len) == -1)
			return -errno;
		return 0;
#else
		return -EOPNOTSUPP;
#endif
	}
	if (getsockopt(fd, IPPROTO_IP, SO_ORIGINAL_DST, &dst->sa, &len) == -1)
		return -errno;
	return 0;
}

const char *ic_platform_features(void)
{
	return "IP_TRANSPARENT"
#if HAVE_IPV6_TRANSPARENT
	       " IPV6_TRANSPARENT"
#endif
#if HAVE_SO_ORIGINAL_DST
	       " SO_ORIGINAL_DST"
#endif
#if HAVE_IP6T_SO_ORIGINAL_DST
	       " IP6T_SO_ORIGINAL_DST"
#endif
#if HAVE_IP_BIND_ADDRESS_NO_PORT
	       " IP_BIND_ADDRESS_NO_PORT"
#endif
#if HAVE_ACCEPT4
	       " accept4"
#endif
#if HAVE_SPLICE
	       " splice"
#endif
		;
}
