// SPDX-License-Identifier: MIT
/*
 * hammer - a small non-blocking HTTP/1.1 load and correctness client.
 *
 * Runs TOTAL GET requests over CONCURRENCY connections kept in flight, with
 * one epoll loop and a fixed array of connection slots.  Every response is
 * parsed (status line, Content-Length, chunked or close-delimited body) and
 * checked: status 200, an optional substring, and optionally that the body
 * echoes the connection's own local address ("peer=ADDR ") and port
 * ("port=PORT "), which is how the netns tests prove the origin saw the
 * client's own address through a transparent proxy.
 *
 * Every request that was started ends in exactly one counter.  Exit status is
 * 0 only when all TOTAL requests were ok; 2 on usage errors.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX (64 * 1024)
#define BODY_MAX (64 * 1024 * 1024)
#define TICK_S	 0.02 /* timeout scan and back-off period */
#define ERR_SHOW 5    /* details printed for the first few failures only */

enum result { RES_OK, RES_CONNECT, RES_READ, RES_STATUS, RES_BODY, RES_TIMEOUT, RES_MAX };

enum slot_state { S_IDLE, S_CONNECTING, S_WRITING, S_READING };
enum body_mode { B_NONE, B_LENGTH, B_CHUNKED, B_CLOSE };
enum chunk_state { C_SIZE, C_DATA, C_DATA_CRLF, C_TRAILER };

struct buf {
	char *p;
	size_t len, cap;
};

struct slot {
	int fd;
	enum slot_state state;
	unsigned int reqs_on_conn; /* requests started on this connection */
	size_t wpos;		   /* bytes of the request already written */
	bool last_on_conn;	   /* request says Connection: close */
	double deadline;	   /* this request fails after it */
	double not_before;	   /* back-off after a connect error */
	char echo_peer[80];	   /* "peer=ADDR " expected with -E */
	char echo_port[24];	   /* "port=N " expected with -E port */
	/* response parser */
	struct buf in;	 /* raw bytes received, not yet consumed */
	struct buf body; /* decoded body */
	bool head_done, server_close;
	int status;
	enum body_mode mode;
	enum chunk_state cstate;
	unsigned long long remain; /* Content-Length or chunk bytes left */
};

struct opts {
	struct sockaddr_storage dst;
	socklen_t dstlen;
	const char *host, *path, *expect, *echo;
	unsigned long total, conc, per_conn;
	double timeout, req_timeout;
};

struct run {
	struct opts o;
	int ep;
	struct slot *slots;
	unsigned long started, done;
	unsigned long count[RES_MAX];
	unsigned long port_mismatch; /* -E port: right address, another port */
	unsigned int shown;
	char req_close[1024], req_keep[1024];
	size_t req_close_len, req_keep_len;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: hammer -t ADDR:PORT|[ADDR6]:PORT [-6] [-H host] [-p /path]\n"
			"              [-n total] [-c concurrency] [-k requests_per_connection]\n"
			"              [-e expected_body_substring] [-E addr|port]\n"
			"              [-T overall_timeout_s] [-R request_timeout_s]\n"
			"  -k 1 (default) sends Connection: close on every request;\n"
			"  -E addr: body must contain \"peer=<local address> \" (the origin's\n"
			"  echo of what it saw); -E port also counts responses whose echo has\n"
			"  another port than ours as port_mismatch=N (a spoof client-ip-port\n"
			"  fallback; the caller compares it with the proxy's counter).\n");
	exit(2);
}

/* Prints a failure detail for the first ERR_SHOW failures only. */
static void complain(struct run *r, const char *fmt, ...)
{
	va_list ap;

	if (r->shown++ >= ERR_SHOW)
		return;
	va_start(ap, fmt);
	fputs("hammer: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int buf_append(struct buf *b, const char *p, size_t n, size_t max)
{
	if (n == 0)
		return 0;
	if (b->len + n > max)
		return -1;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *np;

		while (cap < b->len + n)
			cap *= 2;
		np = realloc(b->p, cap + 1);
		if (!np)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static void buf_consume(struct buf *b, size_t n)
{
	if (n == 0)
		return;
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
	b->p[b->len] = '\0';
}

/* Parses numeric "ADDR:PORT" or "[ADDR6]:PORT" into o->dst; only IPv6 if want6. */
static int parse_target(const char *arg, bool want6, struct opts *o)
{
	struct addrinfo hints = {0}, *ai;
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(arg, ':');
	size_t skip = arg[0] == '[';

	if (!colon || colon - arg < 1 || (size_t)(colon - arg) >= sizeof(host))
		return -1;
	memcpy(host, arg + skip, colon - arg - skip);
	host[colon - arg - skip] = '\0';
	if (skip && (colon[-1] != ']' || !*host))
		return -1;
	if (skip)
		host[strlen(host) - 1] = '\0';
	hints.ai_family = want6 ? AF_INET6 : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(host, colon + 1, &hints, &ai))
		return -1;
	memcpy(&o->dst, ai->ai_addr, ai->ai_addrlen);
	o->dstlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static double parse_num(const char *s, double min)
{
	char *end;
	double v = strtod(s, &end);

	if (*end || v < min)
		usage();
	return v;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	const char *target = NULL;
	bool want6 = false;
	int c;

	memset(o, 0, sizeof(*o));
	o->path = "/";
	o->total = o->conc = o->per_conn = 1;
	o->timeout = 60;
	o->req_timeout = 10;
	while ((c = getopt(argc, argv, "t:H:p:n:c:k:e:E:T:R:6h")) != -1) {
		switch (c) {
		case 't':
			target = optarg;
			break;
		case 'H':
			o->host = optarg;
			break;
		case 'p':
			o->path = optarg;
			break;
		case 'n':
			o->total = parse_num(optarg, 1);
			break;
		case 'c':
			o->conc = parse_num(optarg, 1);
			break;
		case 'k':
			o->per_conn = parse_num(optarg, 1);
			break;
		case 'e':
			o->expect = optarg;
			break;
		case 'E':
			o->echo = optarg;
			break;
		case 'T':
			o->timeout = parse_num(optarg, 0.001);
			break;
		case 'R':
			o->req_timeout = parse_num(optarg, 0.001);
			break;
		case '6':
			want6 = true;
			break;
		default:
			usage();
		}
	}
	if (!target || optind != argc || parse_target(target, want6, o))
		usage();
	if (o->echo && strcmp(o->echo, "addr") && strcmp(o->echo, "port"))
		usage();
	if (o->conc > o->total)
		o->conc = o->total;
	if (!o->host) {
		/* Host: the target as written, minus a default :80 */
		size_t l = strlen(target);

		o->host = target;
		if (l > 3 && !strcmp(target + l - 3, ":80"))
			o->host = strndup(target, l - 3);
	}
}

static void build_requests(struct run *r)
{
	const char *fmt = "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: hammer\r\n%s\r\n";
	int n;

	n = snprintf(r->req_close, sizeof(r->req_close), fmt, r->o.path, r->o.host,
		     "Connection: close\r\n");
	if (n < 0 || (size_t)n >= sizeof(r->req_close)) {
		fprintf(stderr, "hammer: path or host too long\n");
		exit(2);
	}
	r->req_close_len = n;
	n = snprintf(r->req_keep, sizeof(r->req_keep), fmt, r->o.path, r->o.host, "");
	r->req_keep_len = n;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void slot_reset_parser(struct slot *s)
{
	s->in.len = 0;
	s->body.len = 0;
	s->head_done = false;
	s->server_close = false;
	s->status = 0;
	s->mode = B_NONE;
	s->cstate = C_SIZE;
	s->remain = 0;
}

static void slot_close(struct run *r, struct slot *s)
{
	if (s->fd != -1) {
		epoll_ctl(r->ep, EPOLL_CTL_DEL, s->fd, NULL);
		close(s->fd);
	}
	s->fd = -1;
	s->state = S_IDLE;
}

/* Records the outcome of the slot's current request; failures close it. */
static void slot_finish(struct run *r, struct slot *s, enum result res)
{
	r->count[res]++;
	r->done++;
	if (res != RES_OK)
		slot_close(r, s);
}

static void slot_want(struct run *r, struct slot *s, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = s};

	epoll_ctl(r->ep, EPOLL_CTL_MOD, s->fd, &ev);
}

/* Sends the (already counted) request on the slot's connected socket. */
static void slot_begin_request(struct run *r, struct slot *s, double now)
{
	s->reqs_on_conn++;
	s->last_on_conn = s->reqs_on_conn >= r->o.per_conn || r->started == r->o.total;
	s->wpos = 0;
	s->deadline = now + r->o.req_timeout;
	slot_reset_parser(s);
	s->state = S_WRITING;
	slot_want(r, s, EPOLLOUT);
}

/* A failed connect: counted, and the slot backs off for 10 ms (no spinning). */
static void slot_connect_failed(struct run *r, struct slot *s, double now, int err)
{
	complain(r, "connect: %s", strerror(err));
	s->not_before = now + 0.01;
	slot_finish(r, s, RES_CONNECT);
}

/* Starts a request on a new connection. */
static void slot_connect(struct run *r, struct slot *s, double now)
{
	struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = s};
	int one = 1;

	r->started++;
	s->reqs_on_conn = 0;
	s->state = S_CONNECTING;
	s->deadline = now + r->o.req_timeout;
	s->fd = socket(r->o.dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd == -1) {
		slot_connect_failed(r, s, now, errno);
		return;
	}
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* EADDRNOTAVAIL (ports exhausted) & co fail here, once per request */
	if (connect(s->fd, (struct sockaddr *)&r->o.dst, r->o.dstlen) == -1 &&
	    errno != EINPROGRESS) {
		slot_connect_failed(r, s, now, errno);
		return;
	}
	epoll_ctl(r->ep, EPOLL_CTL_ADD, s->fd, &ev);
}

/* After a request ended: reuse the connection, or open a new one if allowed. */
static void slot_next(struct run *r, struct slot *s, double now, bool reuse)
{
	if (r->started >= r->o.total) {
		slot_close(r, s);
		return;
	}
	if (reuse && s->fd != -1) {
		r->started++;
		slot_begin_request(r, s, now);
		return;
	}
	slot_close(r, s);
	if (now >= s->not_before)
		slot_connect(r, s, now);
}

/* Connect finished: check it, note our own address for -E, send. */
static void slot_connected(struct run *r, struct slot *s, double now)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(int);
	char a[INET6_ADDRSTRLEN];
	int err = 0;
	unsigned int port;

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1)
		err = errno;
	if (err) {
		slot_connect_failed(r, s, now, err);
		return;
	}
	sl = sizeof(ss);
	getsockname(s->fd, (struct sockaddr *)&ss, &sl);
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
		port = ntohs(sin6->sin6_port);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		port = ntohs(sin->sin_port);
	}
	snprintf(s->echo_peer, sizeof(s->echo_peer), "peer=%s ", a);
	snprintf(s->echo_port, sizeof(s->echo_port), "port=%u ", port);
	slot_begin_request(r, s, now);
}

static void slot_write(struct run *r, struct slot *s)
{
	const char *req = s->last_on_conn ? r->req_close : r->req_keep;
	size_t len = s->last_on_conn ? r->req_close_len : r->req_keep_len;
	ssize_t n;

	while (s->wpos < len) {
		n = write(s->fd, req + s->wpos, len - s->wpos);
		if (n == -1 && errno == EAGAIN)
			return;
		if (n == -1) {
			complain(r, "write: %s", strerror(errno));
			slot_finish(r, s, RES_READ);
			return;
		}
		s->wpos += n;
	}
	s->state = S_READING;
	slot_want(r, s, EPOLLIN);
}

/* Parses the response head in s->in; 1 done, 0 need more, -1 bad. */
static int parse_head(struct slot *s)
{
	char *end, *line, *next;
	bool chunked = false, has_len = false;

	end = s->in.len ? memmem(s->in.p, s->in.len, "\r\n\r\n", 4) : NULL;
	if (!end)
		return s->in.len >= HEAD_MAX ? -1 : 0;
	*end = '\0';
	if (strncmp(s->in.p, "HTTP/1.", 7) || s->in.len < 12 || s->in.p[8] != ' ')
		return -1;
	s->status = atoi(s->in.p + 9);
	if (s->in.p[7] == '0')
		s->server_close = true;
	for (line = strstr(s->in.p, "\r\n"); line; line = next) {
		line += 2;
		next = strstr(line, "\r\n");
		if (next)
			*next = '\0';
		if (!strncasecmp(line, "Content-Length:", 15)) {
			s->remain = strtoull(line + 15, NULL, 10);
			has_len = true;
		} else if (!strncasecmp(line, "Transfer-Encoding:", 18)) {
			chunked = strcasestr(line + 18, "chunked") != NULL;
		} else if (!strncasecmp(line, "Connection:", 11)) {
			if (strcasestr(line + 11, "close"))
				s->server_close = true;
		}
	}
	if (s->status / 100 == 1 || s->status == 204 || s->status == 304)
		s->mode = B_NONE;
	else if (chunked)
		s->mode = B_CHUNKED;
	else if (has_len)
		s->mode = s->remain ? B_LENGTH : B_NONE;
	else
		s->mode = B_CLOSE;
	s->head_done = true;
	buf_consume(&s->in, end + 4 - s->in.p);
	return 1;
}

/* Moves up to s->remain bytes of s->in into the body. */
static int take_data(struct slot *s)
{
	size_t n = s->in.len < s->remain ? s->in.len : s->remain;

	if (buf_append(&s->body, s->in.p, n, BODY_MAX))
		return -1;
	buf_consume(&s->in, n);
	s->remain -= n;
	return 0;
}

/* Decodes chunked framing from s->in; 1 done, 0 need more, -1 bad. */
static int parse_chunked(struct slot *s)
{
	char *eol, *end;

	for (;;) {
		if (s->cstate == C_DATA) {
			if (take_data(s))
				return -1;
			if (s->remain)
				return 0;
			s->cstate = C_DATA_CRLF;
			continue;
		}
		eol = s->in.len ? memmem(s->in.p, s->in.len, "\r\n", 2) : NULL;
		if (!eol)
			return s->in.len > 4096 ? -1 : 0;
		if (s->cstate == C_DATA_CRLF) {
			if (eol != s->in.p)
				return -1;
			s->cstate = C_SIZE;
		} else if (s->cstate == C_SIZE) {
			s->remain = strtoull(s->in.p, &end, 16);
			if (end == s->in.p || (*end != '\r' && *end != ';'))
				return -1;
			s->cstate = s->remain ? C_DATA : C_TRAILER;
		} else if (eol == s->in.p) { /* C_TRAILER: empty line ends it */
			buf_consume(&s->in, 2);
			return 1;
		}
		buf_consume(&s->in, eol + 2 - s->in.p);
	}
}

/* 1 when the response is complete, 0 need more, -1 malformed. */
static int parse_response(struct slot *s, bool eof)
{
	int rc;

	if (!s->head_done) {
		rc = parse_head(s);
		if (rc <= 0)
			return rc;
	}
	switch (s->mode) {
	case B_NONE:
		return 1;
	case B_LENGTH:
		if (take_data(s))
			return -1;
		return s->remain ? 0 : 1;
	case B_CHUNKED:
		return parse_chunked(s);
	case B_CLOSE:
		s->server_close = true;
		s->remain = BODY_MAX;
		if (take_data(s))
			return -1;
		return eof ? 1 : 0;
	}
	return -1;
}

static enum result check_response(struct run *r, struct slot *s)
{
	const char *b = s->body.p ? s->body.p : "";
	size_t bl = s->body.len;

	if (s->status != 200) {
		complain(r, "status %d", s->status);
		return RES_STATUS;
	}
	if (s->in.len) {
		complain(r, "%zu stray bytes after the response", s->in.len);
		return RES_BODY;
	}
	if (r->o.expect && !memmem(b, bl, r->o.expect, strlen(r->o.expect))) {
		complain(r, "body lacks \"%s\": %.200s", r->o.expect, b);
		return RES_BODY;
	}
	if (r->o.echo && !memmem(b, bl, s->echo_peer, strlen(s->echo_peer))) {
		complain(r, "echo check: want \"%s\", body: %.200s", s->echo_peer, b);
		return RES_BODY;
	}
	if (r->o.echo && !strcmp(r->o.echo, "port") &&
	    !memmem(b, bl, s->echo_port, strlen(s->echo_port))) {
		fprintf(stderr, "hammer: port mismatch: want \"%s\", body: %.200s\n", s->echo_port,
			b);
		r->port_mismatch++;
	}
	return RES_OK;
}

static void slot_read(struct run *r, struct slot *s, double now)
{
	char tmp[16384];
	ssize_t n;
	int rc = 0;
	bool eof = false;
	enum result res;

	for (;;) {
		n = read(s->fd, tmp, sizeof(tmp));
		if (n == -1 && errno == EAGAIN)
			break;
		if (n == -1) {
			complain(r, "read: %s", strerror(errno));
			slot_finish(r, s, RES_READ);
			return;
		}
		if (n == 0) {
			eof = true;
			break;
		}
		if (buf_append(&s->in, tmp, n, BODY_MAX + HEAD_MAX)) {
			complain(r, "response too large");
			slot_finish(r, s, RES_READ);
			return;
		}
		if (n < (ssize_t)sizeof(tmp))
			break;
	}
	rc = parse_response(s, eof);
	if (rc == 0 && !eof)
		return;
	if (rc <= 0) {
		complain(r, rc ? "malformed response" : "connection closed mid-response");
		slot_finish(r, s, rc ? RES_STATUS : RES_READ);
		return;
	}
	res = check_response(r, s);
	slot_finish(r, s, res);
	if (res == RES_OK)
		slot_next(r, s, now, !s->last_on_conn && !s->server_close && !eof);
}

static void handle_event(struct run *r, struct slot *s, uint32_t ev, double now)
{
	switch (s->state) {
	case S_CONNECTING:
		slot_connected(r, s, now);
		if (s->state == S_WRITING)
			slot_write(r, s);
		break;
	case S_WRITING:
		slot_write(r, s);
		break;
	case S_READING:
		if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
			slot_read(r, s, now);
		break;
	case S_IDLE:
		break;
	}
	if (s->state == S_IDLE)
		slot_next(r, s, now, false);
}

/* Fails overdue requests and (re)starts idle slots; runs every TICK_S. */
static void tick(struct run *r, double now)
{
	unsigned long i;

	for (i = 0; i < r->o.conc; i++) {
		struct slot *s = &r->slots[i];

		if (s->state != S_IDLE && now > s->deadline) {
			complain(r, "request timed out");
			slot_finish(r, s, RES_TIMEOUT);
		}
		if (s->state == S_IDLE)
			slot_next(r, s, now, false);
	}
}

int main(int argc, char **argv)
{
	struct run r = {0};
	struct epoll_event evs[256];
	double start, now, end, next_tick = 0;
	unsigned long i, inflight;
	int n, k;

	signal(SIGPIPE, SIG_IGN);
	parse_opts(argc, argv, &r.o);
	build_requests(&r);
	raise_nofile();
	r.ep = epoll_create1(EPOLL_CLOEXEC);
	r.slots = calloc(r.o.conc, sizeof(*r.slots));
	if (r.ep == -1 || !r.slots) {
		perror("hammer: setup");
		return 2;
	}
	for (i = 0; i < r.o.conc; i++)
		r.slots[i].fd = -1;

	start = now = now_s();
	end = start + r.o.timeout;
	while (r.done < r.o.total && now < end) {
		if (now >= next_tick) {
			tick(&r, now);
			next_tick = now + TICK_S;
		}
		n = epoll_wait(r.ep, evs, 256, TICK_S * 1000);
		if (n == -1 && errno != EINTR) {
			perror("hammer: epoll_wait");
			break;
		}
		now = now_s();
		for (k = 0; k < n; k++)
			handle_event(&r, evs[k].data.ptr, evs[k].events, now);
	}
	now = now_s();

	/* Whatever is still in flight at the overall deadline timed out. */
	for (i = 0, inflight = 0; i < r.o.conc; i++) {
		if (r.slots[i].state != S_IDLE) {
			slot_finish(&r, &r.slots[i], RES_TIMEOUT);
			inflight++;
		}
	}
	if (r.done < r.o.total)
		fprintf(stderr,
			"hammer: overall timeout (%.1f s): %lu in flight, %lu never started\n",
			r.o.timeout, inflight, r.o.total - r.started);

	printf("hammer: ok=%lu failed=%lu connect_errors=%lu read_errors=%lu bad_status=%lu "
	       "bad_body=%lu timeouts=%lu elapsed=%.3f rps=%.0f",
	       r.count[RES_OK], r.o.total - r.count[RES_OK], r.count[RES_CONNECT],
	       r.count[RES_READ], r.count[RES_STATUS], r.count[RES_BODY], r.count[RES_TIMEOUT],
	       now - start, r.count[RES_OK] / (now - start));
	if (r.o.echo && !strcmp(r.o.echo, "port"))
		printf(" port_mismatch=%lu", r.port_mismatch);
	printf("\n");
	return r.count[RES_OK] == r.o.total ? 0 : 1;
}
