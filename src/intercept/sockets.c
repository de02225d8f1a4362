/* sockets.c — transparent listeners and spoofed upstream sockets. */
#include "remora-config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "intercept/intercept.h"

static int fail_close(int fd)
{
	int err = -errno;

	close(fd);
	return err;
}

int ic_listen(const union ic_addr *a, enum ic_mode mode, int backlog)
{
	int one = 1, fd, err;

	fd = socket(a->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		return fail_close(fd);
	/* accepted sockets inherit it: a response written in two parts must not
	 * wait for the client's delayed ACK (Nagle) */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (a->sa.sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1)
		return fail_close(fd);
	if (mode == IC_MODE_TPROXY) {
		err = ic_platform_set_transparent(fd, a->sa.sa_family);
		if (err < 0) {
			close(fd);
			return err;
		}
	}
	if (bind(fd, &a->sa, ic_addr_len(a)) == -1 || listen(fd, backlog) == -1)
		return fail_close(fd);
	return fd;
}

int ic_orig_dst(int fd, enum ic_mode mode, const union ic_addr *peer, union ic_addr *dst)
{
	socklen_t len = sizeof(*dst);

	if (mode == IC_MODE_REDIRECT)
		return ic_platform_nat_lookup(fd, peer, dst);
	/* TPROXY: the accepted socket is bound to the address the client dialled */
	if (getsockname(fd, &dst->sa, &len) == -1)
		return -errno;
	ic_addr_unmap(dst);
	return 0;
}

/* One attempt: socket, transparent bind per spoof, connect. -errno or fd. */
static int upstream_try(const union ic_addr *dst, const union ic_addr *client, enum ic_spoof spoof)
{
	union ic_addr src = *client;
	int one = 1, fd, err;

	fd = socket(dst->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (spoof != IC_SPOOF_NONE) {
		err = ic_platform_set_transparent(fd, dst->sa.sa_family);
		if (err == 0 && spoof == IC_SPOOF_CLIENT_IP) {
			if (src.sa.sa_family == AF_INET)
				src.in4.sin_port = 0;
			else
				src.in6.sin6_port = 0;
			err = ic_platform_bind_no_port(fd);
			if (err == -EOPNOTSUPP)
				err = 0; /* BSD: plain bind(ip, 0) is all there is */
		}
		if (err == 0 && bind(fd, &src.sa, ic_addr_len(&src)) == -1)
			err = -errno;
		if (err < 0) {
			close(fd);
			return err;
		}
	}
	if (connect(fd, &dst->sa, ic_addr_len(dst)) == -1 && errno != EINPROGRESS)
		return fail_close(fd);
	return fd;
}

int ic_upstream_connect(const union ic_addr *dst, const union ic_addr *client, enum ic_spoof spoof,
			struct ic_connect_stats *st)
{
	union ic_addr c = *client;
	int tries, fd = -EINVAL;

	ic_addr_unmap(&c);
	if (spoof != IC_SPOOF_NONE && c.sa.sa_family != dst->sa.sa_family)
		return -EAFNOSUPPORT;
	for (tries = 0; tries < 4; tries++) {
		fd = upstream_try(dst, &c, spoof);
		if (fd >= 0)
			return fd;
		if (fd == -EADDRINUSE && spoof == IC_SPOOF_CLIENT_IP_PORT) {
			/* the client's own port is taken (an older flow in TIME_WAIT) */
			st->bind_collisions++;
			spoof = IC_SPOOF_CLIENT_IP;
			continue;
		}
		if (fd == -EADDRNOTAVAIL || fd == -EADDRINUSE) {
			/* no free 4-tuple right now: a fresh socket may get another port */
			st->port_exhaustions++;
			continue;
		}
		break;
	}
	return fd;
}
