/* intercept_pf.c — BSD mechanisms: IP_BINDANY / SO_BINDANY for transparent
 * sockets, PF's DIOCNATLOOK for REDIRECT ("rdr-to") mode. IPFW "fwd" keeps
 * the original destination as the accepted socket's local address, so it
 * uses mode tproxy (getsockname) and needs nothing here. */
#include "remora-config.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <net/pfvar.h> /* after <netinet/in.h>, as pf(4)'s example orders them */
#include <string.h>
#include <unistd.h>

#include "intercept/intercept.h"

int ic_platform_set_transparent(int fd, int family)
{
	int one = 1;

#if defined(SO_BINDANY) /* OpenBSD */
	(void)family;
	if (setsockopt(fd, SOL_SOCKET, SO_BINDANY, &one, sizeof(one)) == -1)
		return -errno;
#elif defined(IP_BINDANY) /* FreeBSD */
	if (family == AF_INET6) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_BINDANY, &one, sizeof(one)) == -1)
			return -errno;
	} else if (setsockopt(fd, IPPROTO_IP, IP_BINDANY, &one, sizeof(one)) == -1) {
		return -errno;
	}
#else
	(void)fd;
	(void)family;
	(void)one;
	return -EOPNOTSUPP;
#endif
	return 0;
}

int ic_platform_defer_accept(int fd, unsigned seconds)
{
	(void)fd;
	/* (FreeBSD's accf_data filter is the nearest thing; not used) */
	return seconds == 0 ? 0 : -EOPNOTSUPP;
}

int ic_platform_bind_no_port(int fd)
{
	(void)fd;
	return -EOPNOTSUPP;
}

int ic_platform_nat_lookup(int fd, const union ic_addr *peer, union ic_addr *dst)
{
	struct pfioc_natlook nl;
	union ic_addr self;
	socklen_t len = sizeof(self);
	int pf, err = 0;

	if (getsockname(fd, &self.sa, &len) == -1)
		return -errno;
	memset(&nl, 0, sizeof(nl));
	nl.af = self.sa.sa_family;
	nl.proto = IPPROTO_TCP;
	nl.direction = PF_OUT;
	if (nl.af == AF_INET) {
		nl.saddr.v4 = peer->in4.sin_addr;
		nl.daddr.v4 = self.in4.sin_addr;
		nl.sport = peer->in4.sin_port;
		nl.dport = self.in4.sin_port;
	} else {
		nl.saddr.v6 = peer->in6.sin6_addr;
		nl.daddr.v6 = self.in6.sin6_addr;
		nl.sport = peer->in6.sin6_port;
		nl.dport = self.in6.sin6_port;
	}
	pf = open("/dev/pf", O_RDONLY | O_CLOEXEC);
	if (pf == -1)
		return -errno;
	if (ioctl(pf, DIOCNATLOOK, &nl) == -1)
		err = -errno;
	close(pf);
	if (err < 0)
		return err;
	memset(dst, 0, sizeof(*dst));
	if (nl.af == AF_INET) {
		dst->in4.sin_family = AF_INET;
		dst->in4.sin_addr = nl.rdaddr.v4;
		dst->in4.sin_port = nl.rdport;
	} else {
		dst->in6.sin6_family = AF_INET6;
		dst->in6.sin6_addr = nl.rdaddr.v6;
		dst->in6.sin6_port = nl.rdport;
	}
	return 0;
}

const char *ic_platform_features(void)
{
#if defined(SO_BINDANY)
	return "SO_BINDANY DIOCNATLOOK";
#else
	return "IP_BINDANY DIOCNATLOOK";
#endif
}
