// SPDX-License-Identifier: MIT
/*
 * idle_conns - opens N keep-alive HTTP connections, makes one small request on
 * each, then holds all of them open and idle (benchmark scenario d: memory per
 * idle proxied connection).
 *
 *	idle_conns -t ADDR:PORT -n N [-p PATH] [-e EXPECT] [-P PARALLEL] [-T TIMEOUT_S] [-B]
 *
 * Connections are opened PARALLEL at a time (default 100) with one request
 * each ("GET PATH HTTP/1.1", keep-alive); every response must be a 200 whose
 * body contains EXPECT (if given).  When all N are answered it prints
 * "ready N" on stdout and waits for SIGTERM or SIGINT.  It then checks that
 * every connection is still open (no EOF, reset or unexpected bytes), prints
 * "alive M of N" and exits 0 only if M == N.  Any failure while opening
 * prints the reason and exits 1; usage errors exit 2.
 *
 * -B (burst, scenario f): all N connections are opened first (PARALLEL is
 * ignored) and no request is sent before every one of them is established;
 * then all N requests go out in one pass, so the proxy sees N requests at
 * once, and the responses are read as they come.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RESP_MAX 8192

struct ic {
	int fd;
	int state; /* 0 connecting, 1 writing, 2 reading, 3 done */
	size_t wpos, rlen;
	char resp[RESP_MAX];
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	size_t hl;
	int port;

	if (colon == NULL)
		return -1;
	port = atoi(colon + 1);
	if (port <= 0 || port > 65535)
		return -1;
	hl = (size_t)(colon - s);
	if (s[0] == '[' && hl >= 2 && s[hl - 1] == ']') {
		s++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

/* Returns 1 when c->resp holds one complete 200 response, 0 if more is
 * needed, -1 if it is not a 200 or is malformed. */
static int resp_complete(const struct ic *c, const char *expect)
{
	const char *end, *cl;
	long len;

	end = memmem(c->resp, c->rlen, "\r\n\r\n", 4);
	if (end == NULL)
		return c->rlen >= RESP_MAX - 1 ? -1 : 0;
	if (c->rlen < 12 || memcmp(c->resp + 8, " 200", 4) != 0)
		return -1;
	cl = strcasestr(c->resp, "\r\ncontent-length:");
	if (cl == NULL || cl > end)
		return -1;
	len = strtol(cl + 17, NULL, 10);
	if ((size_t)(end + 4 - c->resp) + (size_t)len > c->rlen)
		return 0;
	if (expect != NULL && memmem(end + 4, (size_t)len, expect, strlen(expect)) == NULL)
		return -1;
	return 1;
}

static int start_conn(struct ic *c, int ep, const struct sockaddr_storage *dst, socklen_t dlen)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};

	c->fd = socket(dst->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		return -errno;
	if (connect(c->fd, (const struct sockaddr *)dst, dlen) == -1 && errno != EINPROGRESS)
		return -errno;
	c->state = 0;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) == -1)
		return -errno;
	return 0;
}

/* Advances one connection on readiness. Returns 1 when its response is
 * complete, 2 when it just connected and hold (burst) keeps its request
 * back, 0 to wait, -1 on failure (message printed). */
static int step_conn(struct ic *c, int ep, const char *req, size_t reqlen, const char *expect,
		     int hold)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
	int err = 0, r;
	socklen_t el = sizeof(err);
	ssize_t n;

	if (c->state == 0) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) == -1 || err != 0) {
			fprintf(stderr, "idle_conns: connect: %s\n", strerror(err ? err : errno));
			return -1;
		}
		c->state = 1;
		if (hold) {
			/* connected: the request waits for the others (and the
			 * writable socket must not wake us meanwhile) */
			ev.events = 0;
			return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == -1 ? -1 : 2;
		}
	}
	if (c->state == 1) {
		n = send(c->fd, req + c->wpos, reqlen - c->wpos, MSG_NOSIGNAL);
		if (n == -1 && errno != EAGAIN) {
			fprintf(stderr, "idle_conns: send: %s\n", strerror(errno));
			return -1;
		}
		if (n > 0)
			c->wpos += (size_t)n;
		if (c->wpos < reqlen)
			return 0;
		c->state = 2;
		ev.events = EPOLLIN;
		if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == -1)
			return -1;
	}
	for (;;) {
		n = recv(c->fd, c->resp + c->rlen, RESP_MAX - 1 - c->rlen, 0);
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			fprintf(stderr, "idle_conns: %s before the response ended\n",
				n == 0 ? "EOF" : strerror(errno));
			return -1;
		}
		c->rlen += (size_t)n;
		c->resp[c->rlen] = '\0';
		r = resp_complete(c, expect);
		if (r < 0) {
			fprintf(stderr, "idle_conns: bad response: %.200s\n", c->resp);
			return -1;
		}
		if (r == 1) {
			c->state = 3;
			epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
			return 1;
		}
	}
}

/* Counts connections that are still open and quiet (no EOF, error or data). */
static unsigned long count_alive(struct ic *cs, unsigned long n)
{
	unsigned long alive = 0, i;
	struct pollfd p;

	for (i = 0; i < n; i++) {
		p.fd = cs[i].fd;
		p.events = POLLIN;
		p.revents = 0;
		if (poll(&p, 1, 0) == 0)
			alive++;
	}
	return alive;
}

int main(int argc, char **argv)
{
	const char *target = NULL, *path = "/", *expect = NULL;
	unsigned long n = 0, par = 100, started = 0, done = 0, alive, i;
	double timeout = 60, deadline;
	struct sockaddr_storage dst;
	socklen_t dlen;
	struct rlimit rl;
	struct epoll_event evs[256];
	struct sigaction sa;
	sigset_t mask, old;
	struct ic *cs;
	char req[512], host[128];
	size_t reqlen;
	int ep, opt, k, nev, r, burst = 0, hold;
	unsigned long connected = 0;

	while ((opt = getopt(argc, argv, "t:n:p:e:P:T:B")) != -1) {
		switch (opt) {
		case 't':
			target = optarg;
			break;
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'p':
			path = optarg;
			break;
		case 'e':
			expect = optarg;
			break;
		case 'P':
			par = strtoul(optarg, NULL, 10);
			break;
		case 'T':
			timeout = atof(optarg);
			break;
		case 'B':
			burst = 1;
			break;
		default:
			goto usage;
		}
	}
	if (target == NULL || n == 0 || par == 0 || parse_addr(target, &dst, &dlen) < 0)
		goto usage;
	if (burst)
		par = n;

	/* N sockets plus a few: raise the soft limit to the hard one. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n + 16) {
		fprintf(stderr, "idle_conns: open-file limit %lu < %lu\n",
			(unsigned long)rl.rlim_cur, n + 16);
		return 1;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(strrchr(target, ':') - target), target);
	reqlen = (size_t)snprintf(req, sizeof(req),
				  "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: idle_conns\r\n\r\n",
				  path, host);
	cs = calloc(n, sizeof(*cs));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (cs == NULL || ep == -1) {
		perror("idle_conns");
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	deadline = now_s() + timeout;
	while (done < n) {
		while (started < n && started - done < par) {
			r = start_conn(&cs[started], ep, &dst, dlen);
			if (r < 0) {
				fprintf(stderr, "idle_conns: connection %lu: %s\n", started,
					strerror(-r));
				return 1;
			}
			started++;
		}
		if (stop || now_s() > deadline) {
			fprintf(stderr, "idle_conns: %s after %lu of %lu responses\n",
				stop ? "interrupted" : "timed out", done, n);
			return 1;
		}
		nev = epoll_wait(ep, evs, 256, 100);
		hold = burst && connected < n;
		for (k = 0; k < nev; k++) {
			r = step_conn(evs[k].data.ptr, ep, req, reqlen, expect, hold);
			if (r < 0)
				return 1;
			if (r == 2)
				connected++;
			else
				done += (unsigned long)r;
		}
		if (hold && connected == n) {
			/* every connection is up: all requests now, in one pass */
			for (i = 0; i < n; i++) {
				r = step_conn(&cs[i], ep, req, reqlen, expect, 0);
				if (r < 0)
					return 1;
				done += (unsigned long)r;
			}
		}
	}
	printf("ready %lu\n", n);
	fflush(stdout);

	/* block TERM/INT and wait atomically: no lost wake-up */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, &old);
	while (!stop)
		sigsuspend(&old);
	alive = count_alive(cs, n);
	printf("alive %lu of %lu\n", alive, n);
	fflush(stdout);
	for (i = 0; i < n; i++)
		close(cs[i].fd);
	return alive == n ? 0 : 1;
usage:
	fprintf(stderr, "usage: idle_conns -t ADDR:PORT -n N [-p PATH] [-e EXPECT] [-P PARALLEL] "
			"[-T TIMEOUT_S] [-B]\n");
	return 2;
}
