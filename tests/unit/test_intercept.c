/*
 * test_intercept.c — listeners, original-destination lookup and upstream
 * sockets (intercept/sockets.c + the platform file) on real loopback sockets.
 * Transparent (IP_TRANSPARENT) paths need CAP_NET_RAW: they are checked to
 * work as root and to fail with -EPERM otherwise.
 */
#include "remora-config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "intercept/intercept.h"
#include "unit.h"

static union ic_addr addr(const char *s)
{
	union ic_addr a;

	ck_assert_msg(ic_addr_parse(s, &a) == 0, "cannot parse '%s'", s);
	return a;
}

static union ic_addr local_of(int fd)
{
	union ic_addr a;
	socklen_t len = sizeof(a);

	ck_assert_int_eq(getsockname(fd, &a.sa, &len), 0);
	return a;
}

static union ic_addr peer_of(int fd)
{
	union ic_addr a;
	socklen_t len = sizeof(a);

	ck_assert_int_eq(getpeername(fd, &a.sa, &len), 0);
	return a;
}

static int is_root(void)
{
	return geteuid() == 0;
}

/* ip with port 0 (which ic_addr_parse rightly refuses): "any free port". */
static union ic_addr addr_port0(const char *ip)
{
	char s[IC_ADDR_STRLEN];
	union ic_addr a;

	snprintf(s, sizeof(s), ip[0] == ':' ? "[%s]:1" : "%s:1", ip);
	a = addr(s);
	if (a.sa.sa_family == AF_INET6)
		a.in6.sin6_port = 0;
	else
		a.in4.sin_port = 0;
	return a;
}

/* Listens on ip, any port (REDIRECT: no privileges); returns fd, *bound = address. */
static int listen_any_port(const char *ip, union ic_addr *bound)
{
	union ic_addr a = addr_port0(ip);
	int fd = ic_listen(&a, IC_MODE_REDIRECT, 16);

	ck_assert_msg(fd >= 0, "ic_listen(%s): %s", ip, strerror(-fd));
	*bound = local_of(fd);
	return fd;
}

/* Waits until fd is ready for events (poll); returns revents. */
static short wait_fd(int fd, short events)
{
	struct pollfd pfd = {.fd = fd, .events = events};

	ck_assert_int_eq(poll(&pfd, 1, 2000), 1);
	return pfd.revents;
}

static int accept_one(int lfd)
{
	int fd;

	wait_fd(lfd, POLLIN);
	fd = accept(lfd, NULL, NULL);
	ck_assert_int_ge(fd, 0);
	return fd;
}

/* Blocking client connection to a. */
static int dial(const union ic_addr *a)
{
	int fd = socket(a->sa.sa_family, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, &a->sa, ic_addr_len(a)), 0);
	return fd;
}

static int so_error(int fd)
{
	int err = -1;
	socklen_t len = sizeof(err);

	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	return err;
}

static int has_ipv6_loopback(void)
{
	union ic_addr a = addr_port0("::1");
	int fd = socket(AF_INET6, SOCK_STREAM, 0), ok;

	if (fd == -1)
		return 0;
	ok = bind(fd, &a.sa, sizeof(a.in6)) == 0;
	close(fd);
	return ok;
}

/* ---- ic_listen ----------------------------------------------------------- */

START_TEST(listen_redirect_v4)
{
	union ic_addr bound;
	int one = 0, fd = listen_any_port("127.0.0.1", &bound);
	socklen_t len = sizeof(one);

	ck_assert_int_eq(bound.sa.sa_family, AF_INET);
	ck_assert_uint_ne(ic_addr_port(&bound), 0);
	ck_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, &len), 0);
	ck_assert_int_eq(one, 1);
	len = sizeof(one);
	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &one, &len), 0);
	ck_assert_int_eq(one, 1);
	close(fd);
}
END_TEST

START_TEST(listen_v6_only)
{
	union ic_addr bound;
	int one = 0, fd;
	socklen_t len = sizeof(one);

	if (!has_ipv6_loopback())
		return; /* no IPv6 here: nothing to check */
	fd = listen_any_port("::1", &bound);
	ck_assert_int_eq(bound.sa.sa_family, AF_INET6);
	ck_assert_int_eq(getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, &len), 0);
	ck_assert_int_eq(one, 1);
	close(fd);
}
END_TEST

START_TEST(listen_port_in_use)
{
	union ic_addr bound;
	int fd = listen_any_port("127.0.0.1", &bound), fd2;

	fd2 = ic_listen(&bound, IC_MODE_REDIRECT, 16);
	ck_assert_int_eq(fd2, -EADDRINUSE);
	close(fd);
}
END_TEST

START_TEST(listen_non_local_address)
{
	union ic_addr a = addr("192.0.2.1:3129"); /* TEST-NET-1: not ours */
	int fd = ic_listen(&a, IC_MODE_REDIRECT, 16);

	ck_assert_int_eq(fd, -EADDRNOTAVAIL);
	/* a transparent listener may bind it (TPROXY), given the privilege */
	fd = ic_listen(&a, IC_MODE_TPROXY, 16);
	if (is_root()) {
		ck_assert_msg(fd >= 0, "%s", strerror(-fd));
		close(fd);
	} else {
		ck_assert_int_eq(fd, -EPERM);
	}
}
END_TEST

/* defer_accept: TCP_DEFER_ACCEPT is set on the listener, and cleared again */
START_TEST(listen_defer_accept)
{
	union ic_addr bound;
	int fd = listen_any_port("127.0.0.1", &bound), v = -1;
	socklen_t len = sizeof(v);

	ck_assert_msg(fd >= 0, "%s", strerror(-fd));
	ck_assert_int_eq(getsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &v, &len), 0);
	ck_assert_int_eq(v, 0); /* off unless asked */
	ck_assert_int_eq(ic_platform_defer_accept(fd, 3), 0);
	ck_assert_int_eq(getsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &v, &len), 0);
	ck_assert_int_ge(v, 3); /* the kernel rounds up to its SYN-ACK retransmissions */
	ck_assert_int_eq(ic_platform_defer_accept(fd, 0), 0);
	ck_assert_int_eq(getsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &v, &len), 0);
	ck_assert_int_eq(v, 0);
	close(fd);
}
END_TEST

START_TEST(listen_tproxy_privilege)
{
	union ic_addr a = addr_port0("127.0.0.1");
	int fd, v = 0;
	socklen_t len = sizeof(v);

	fd = ic_listen(&a, IC_MODE_TPROXY, 16);
	if (!is_root()) {
		ck_assert_int_eq(fd, -EPERM);
		return;
	}
	ck_assert_msg(fd >= 0, "%s", strerror(-fd));
	ck_assert_int_eq(getsockopt(fd, IPPROTO_IP, IP_TRANSPARENT, &v, &len), 0);
	ck_assert_int_eq(v, 1);
	close(fd);
}
END_TEST

START_TEST(listen_tproxy_v6_privilege)
{
	union ic_addr a = addr_port0("::1");
	int fd;

	if (!has_ipv6_loopback())
		return;
	fd = ic_listen(&a, IC_MODE_TPROXY, 16);
	if (is_root()) {
		ck_assert_msg(fd >= 0, "%s", strerror(-fd));
		close(fd);
	} else {
		ck_assert_msg(fd == -EPERM || fd == -EOPNOTSUPP, "%d", fd);
	}
}
END_TEST

/* ---- ic_orig_dst --------------------------------------------------------- */

START_TEST(orig_dst_tproxy_is_local_address)
{
	union ic_addr bound, peer, dst;
	int lfd = listen_any_port("127.0.0.1", &bound), cfd, afd;

	cfd = dial(&bound);
	afd = accept_one(lfd);
	peer = peer_of(afd);
	memset(&dst, 0xaa, sizeof(dst));
	ck_assert_int_eq(ic_orig_dst(afd, IC_MODE_TPROXY, &peer, &dst), 0);
	ck_assert(ic_addr_equal(&dst, &bound));
	ck_assert_int_eq(dst.sa.sa_family, AF_INET);
	/* and the client's view agrees */
	ck_assert(ic_addr_equal(&peer, (union ic_addr[]){local_of(cfd)}));
	close(afd);
	close(cfd);
	close(lfd);
}
END_TEST

START_TEST(orig_dst_tproxy_v6)
{
	union ic_addr bound, peer, dst;
	int lfd, cfd, afd;

	if (!has_ipv6_loopback())
		return;
	lfd = listen_any_port("::1", &bound);
	cfd = dial(&bound);
	afd = accept_one(lfd);
	peer = peer_of(afd);
	ck_assert_int_eq(ic_orig_dst(afd, IC_MODE_TPROXY, &peer, &dst), 0);
	ck_assert_int_eq(dst.sa.sa_family, AF_INET6);
	ck_assert(ic_addr_equal(&dst, &bound));
	close(afd);
	close(cfd);
	close(lfd);
}
END_TEST

START_TEST(orig_dst_tproxy_unmaps_v4_mapped)
{
	union ic_addr any6 = addr_port0("::"), v4, peer, dst;
	int lfd, cfd, afd, off = 0;

	/* a dual-stack socket (not ic_listen, which sets V6ONLY) sees v4 as mapped */
	lfd = socket(AF_INET6, SOCK_STREAM, 0);
	if (lfd == -1)
		return;
	ck_assert_int_eq(setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)), 0);
	if (bind(lfd, &any6.sa, sizeof(any6.in6)) == -1) {
		close(lfd);
		return;
	}
	ck_assert_int_eq(listen(lfd, 4), 0);
	v4 = addr("127.0.0.1:1");
	v4.in4.sin_port = local_of(lfd).in6.sin6_port;
	cfd = dial(&v4);
	afd = accept_one(lfd);
	peer = peer_of(afd);
	ck_assert_int_eq(ic_orig_dst(afd, IC_MODE_TPROXY, &peer, &dst), 0);
	ck_assert_int_eq(dst.sa.sa_family, AF_INET); /* unmapped */
	ck_assert(ic_addr_equal(&dst, &v4));
	close(afd);
	close(cfd);
	close(lfd);
}
END_TEST

START_TEST(orig_dst_redirect_without_nat)
{
	union ic_addr bound, peer, dst;
	int lfd = listen_any_port("127.0.0.1", &bound), cfd, afd, rc;

	cfd = dial(&bound);
	afd = accept_one(lfd);
	peer = peer_of(afd);
	rc = ic_orig_dst(afd, IC_MODE_REDIRECT, &peer, &dst);
	/* no NAT: no conntrack entry (-ENOENT, or -ENOPROTOOPT without the
	 * module); with conntrack loaded the entry holds the unchanged address */
	if (rc == 0)
		ck_assert(ic_addr_equal(&dst, &bound));
	else
		ck_assert_int_lt(rc, 0);
	close(afd);
	close(cfd);
	close(lfd);
}
END_TEST

START_TEST(orig_dst_redirect_on_transparent_socket)
{
	union ic_addr a = addr_port0("127.0.0.1"), bound, peer, dst;
	int lfd, cfd, afd;

	if (!is_root())
		return; /* a transparent socket needs the privilege */
	lfd = ic_listen(&a, IC_MODE_TPROXY, 16);
	ck_assert_int_ge(lfd, 0);
	bound = local_of(lfd);
	cfd = dial(&bound);
	afd = accept_one(lfd);
	peer = peer_of(afd);
	/* conntrack's answer would be stale on a TPROXY socket: refused */
	ck_assert_int_eq(ic_orig_dst(afd, IC_MODE_REDIRECT, &peer, &dst), -EINVAL);
	ck_assert_int_eq(ic_orig_dst(afd, IC_MODE_TPROXY, &peer, &dst), 0);
	ck_assert(ic_addr_equal(&dst, &bound));
	close(afd);
	close(cfd);
	close(lfd);
}
END_TEST

/*
 * BUG (intercept_linux.c, ic_platform_nat_lookup): the guard "never ask
 * conntrack on a transparent socket" checks IP_TRANSPARENT for AF_INET only;
 * on a transparent AF_INET6 socket the lookup goes ahead (here -ENOENT, with
 * a conntrack entry a stale address). Fix: also read IPV6_TRANSPARENT
 * (IPPROTO_IPV6) when self.sa.sa_family == AF_INET6 and return -EINVAL.
 */
START_TEST(regression_redirect_on_transparent_socket_v6)
{
	union ic_addr a = addr_port0("::1"), bound, peer, dst;
	int lfd, cfd, afd;

	if (!is_root() || !has_ipv6_loopback())
		return;
	lfd = ic_listen(&a, IC_MODE_TPROXY, 16);
	ck_assert_int_ge(lfd, 0);
	bound = local_of(lfd);
	cfd = dial(&bound);
	afd = accept_one(lfd);
	peer = peer_of(afd);
	ck_assert_int_eq(ic_orig_dst(afd, IC_MODE_REDIRECT, &peer, &dst), -EINVAL);
	close(afd);
	close(cfd);
	close(lfd);
}
END_TEST

START_TEST(orig_dst_not_a_socket)
{
	union ic_addr peer = addr("127.0.0.1:1"), dst;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(ic_orig_dst(p[0], IC_MODE_TPROXY, &peer, &dst), -ENOTSOCK);
	ck_assert_int_eq(ic_orig_dst(p[0], IC_MODE_REDIRECT, &peer, &dst), -ENOTSOCK);
	ck_assert_int_eq(ic_orig_dst(-1, IC_MODE_TPROXY, &peer, &dst), -EBADF);
	close(p[0]);
	close(p[1]);
}
END_TEST

/* ---- ic_upstream_connect ------------------------------------------------- */

START_TEST(upstream_no_spoof_connects)
{
	struct ic_connect_stats st = {0};
	union ic_addr bound, client = addr("198.51.100.7:40000"); /* ignored: no spoof */
	int lfd = listen_any_port("127.0.0.1", &bound), fd, afd;

	fd = ic_upstream_connect(&bound, &client, IC_SPOOF_NONE, &st);
	ck_assert_msg(fd >= 0, "%s", strerror(-fd));
	ck_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
	ck_assert(wait_fd(fd, POLLOUT) & POLLOUT);
	ck_assert_int_eq(so_error(fd), 0);
	ck_assert(ic_addr_equal((union ic_addr[]){peer_of(fd)}, &bound));
	afd = accept_one(lfd);
	ck_assert_uint_eq(st.bind_collisions, 0);
	ck_assert_uint_eq(st.port_exhaustions, 0);
	close(afd);
	close(fd);
	close(lfd);
}
END_TEST

START_TEST(upstream_no_spoof_any_client_family)
{
	struct ic_connect_stats st = {0};
	union ic_addr bound, client = addr("[2001:db8::7]:40000");
	int lfd = listen_any_port("127.0.0.1", &bound), fd;

	/* spoof none: the client's family does not matter */
	fd = ic_upstream_connect(&bound, &client, IC_SPOOF_NONE, &st);
	ck_assert_msg(fd >= 0, "%s", strerror(-fd));
	ck_assert(wait_fd(fd, POLLOUT) & POLLOUT);
	ck_assert_int_eq(so_error(fd), 0);
	close(fd);
	close(lfd);
}
END_TEST

START_TEST(upstream_refused)
{
	struct ic_connect_stats st = {0};
	union ic_addr bound, client = addr("127.0.0.1:40000");
	int lfd = listen_any_port("127.0.0.1", &bound), fd;

	close(lfd); /* the port is closed now */
	fd = ic_upstream_connect(&bound, &client, IC_SPOOF_NONE, &st);
	if (fd >= 0) {
		wait_fd(fd, POLLOUT);
		ck_assert_int_eq(so_error(fd), ECONNREFUSED);
		close(fd);
	} else {
		ck_assert_int_eq(fd, -ECONNREFUSED);
	}
	ck_assert_uint_eq(st.bind_collisions, 0);
	ck_assert_uint_eq(st.port_exhaustions, 0);
}
END_TEST

START_TEST(upstream_family_mismatch)
{
	struct ic_connect_stats st = {0};
	union ic_addr dst4 = addr("127.0.0.1:80"), dst6 = addr("[::1]:80");
	union ic_addr c4 = addr("192.0.2.1:1234"), c6 = addr("[2001:db8::1]:1234");

	ck_assert_int_eq(ic_upstream_connect(&dst4, &c6, IC_SPOOF_CLIENT_IP, &st), -EAFNOSUPPORT);
	ck_assert_int_eq(ic_upstream_connect(&dst4, &c6, IC_SPOOF_CLIENT_IP_PORT, &st),
			 -EAFNOSUPPORT);
	ck_assert_int_eq(ic_upstream_connect(&dst6, &c4, IC_SPOOF_CLIENT_IP, &st), -EAFNOSUPPORT);
	ck_assert_uint_eq(st.bind_collisions, 0);
	ck_assert_uint_eq(st.port_exhaustions, 0);
}
END_TEST

START_TEST(upstream_spoof_needs_privilege)
{
	struct ic_connect_stats st = {0};
	union ic_addr bound, client = addr("127.0.0.2:41000");
	int lfd = listen_any_port("127.0.0.1", &bound), fd;

	if (is_root()) {
		close(lfd);
		return; /* covered by the spoofing tests below */
	}
	fd = ic_upstream_connect(&bound, &client, IC_SPOOF_CLIENT_IP, &st);
	ck_assert_int_eq(fd, -EPERM);
	fd = ic_upstream_connect(&bound, &client, IC_SPOOF_CLIENT_IP_PORT, &st);
	ck_assert_int_eq(fd, -EPERM);
	close(lfd);
}
END_TEST

/* Root: the origin sees the spoofed source (any 127/8 address is local). */
static void spoofed_connect(enum ic_spoof spoof, const char *client_s, int same_port)
{
	struct ic_connect_stats st = {0};
	union ic_addr bound, client = addr(client_s), seen, want_ip;
	int lfd = listen_any_port("127.0.0.1", &bound), fd, afd;

	fd = ic_upstream_connect(&bound, &client, spoof, &st);
	ck_assert_msg(fd >= 0, "%s", strerror(-fd));
	ck_assert(wait_fd(fd, POLLOUT) & POLLOUT);
	ck_assert_int_eq(so_error(fd), 0);
	afd = accept_one(lfd);
	seen = peer_of(afd);
	want_ip = client;
	ic_addr_unmap(&want_ip);
	ck_assert_uint_eq(seen.in4.sin_addr.s_addr, want_ip.in4.sin_addr.s_addr);
	if (same_port)
		ck_assert_uint_eq(ic_addr_port(&seen), ic_addr_port(&client));
	ck_assert_uint_eq(st.bind_collisions, 0);
	close(afd);
	close(fd);
	close(lfd);
}

START_TEST(upstream_spoof_client_ip)
{
	if (!is_root())
		return;
	spoofed_connect(IC_SPOOF_CLIENT_IP, "127.0.0.2:41001", 0);
	/* a v4-mapped client is unmapped first */
	spoofed_connect(IC_SPOOF_CLIENT_IP, "[::ffff:127.0.0.3]:41002", 0);
}
END_TEST

START_TEST(upstream_spoof_client_ip_port)
{
	if (!is_root())
		return;
	spoofed_connect(IC_SPOOF_CLIENT_IP_PORT, "127.0.0.2:41003", 1);
}
END_TEST

START_TEST(upstream_spoof_port_collision_falls_back)
{
	struct ic_connect_stats st = {0};
	union ic_addr bound, client = addr("127.0.0.2:41004"), seen;
	int lfd, fd, afd, busy;

	if (!is_root())
		return;
	lfd = listen_any_port("127.0.0.1", &bound);
	/* someone already holds the client's ip:port */
	busy = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(busy, &client.sa, sizeof(client.in4)), 0);
	ck_assert_int_eq(listen(busy, 1), 0);
	fd = ic_upstream_connect(&bound, &client, IC_SPOOF_CLIENT_IP_PORT, &st);
	ck_assert_msg(fd >= 0, "%s", strerror(-fd));
	ck_assert_uint_eq(st.bind_collisions, 1);
	ck_assert(wait_fd(fd, POLLOUT) & POLLOUT);
	ck_assert_int_eq(so_error(fd), 0);
	afd = accept_one(lfd);
	seen = peer_of(afd);
	ck_assert_uint_eq(seen.in4.sin_addr.s_addr, client.in4.sin_addr.s_addr);
	ck_assert_uint_ne(ic_addr_port(&seen), ic_addr_port(&client)); /* fell back */
	close(afd);
	close(fd);
	close(busy);
	close(lfd);
}
END_TEST

/* ---- platform ------------------------------------------------------------ */

START_TEST(platform_features)
{
	const char *f = ic_platform_features();

	ck_assert_ptr_nonnull(f);
#ifdef __linux__
	ck_assert_ptr_nonnull(strstr(f, "IP_TRANSPARENT"));
#endif
}
END_TEST

static Suite *intercept_suite(void)
{
	Suite *s = suite_create("intercept");
	TCase *tc;

	tc = tcase_create("listen");
	tcase_add_test(tc, listen_redirect_v4);
	tcase_add_test(tc, listen_v6_only);
	tcase_add_test(tc, listen_port_in_use);
	tcase_add_test(tc, listen_non_local_address);
	tcase_add_test(tc, listen_tproxy_privilege);
	tcase_add_test(tc, listen_defer_accept);
	tcase_add_test(tc, listen_tproxy_v6_privilege);
	suite_add_tcase(s, tc);

	tc = tcase_create("orig_dst");
	tcase_add_test(tc, orig_dst_tproxy_is_local_address);
	tcase_add_test(tc, orig_dst_tproxy_v6);
	tcase_add_test(tc, orig_dst_tproxy_unmaps_v4_mapped);
	tcase_add_test(tc, orig_dst_redirect_without_nat);
	tcase_add_test(tc, orig_dst_redirect_on_transparent_socket);
	tcase_add_test(tc, orig_dst_not_a_socket);
	suite_add_tcase(s, tc);

	tc = tcase_create("upstream");
	tcase_add_test(tc, upstream_no_spoof_connects);
	tcase_add_test(tc, upstream_no_spoof_any_client_family);
	tcase_add_test(tc, upstream_refused);
	tcase_add_test(tc, upstream_family_mismatch);
	tcase_add_test(tc, upstream_spoof_needs_privilege);
	tcase_add_test(tc, upstream_spoof_client_ip);
	tcase_add_test(tc, upstream_spoof_client_ip_port);
	tcase_add_test(tc, upstream_spoof_port_collision_falls_back);
	suite_add_tcase(s, tc);

	tc = tcase_create("regression_redirect_on_transparent_socket_v6");
	tcase_add_test(tc, regression_redirect_on_transparent_socket_v6);
	suite_add_tcase(s, tc);

	tc = tcase_create("platform");
	tcase_add_test(tc, platform_features);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(intercept_suite());
}
