/* accesslog.c — the access log (see accesslog.h). */
#include "remora-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <urcu/uatomic.h>

#include "accesslog.h"
#include "log.h"
#include "stats.h"

#define RING_SIZE  (512 * 1024) /* per worker: ~2,500 lines of 200 bytes */
#define DRAIN_MS   50
/* Longest line: JSON escapes a byte in at most 6; the URL (CONN_LOG_URL_MAX
 * path + a 127-byte host), the host again and a 63-byte type are ~2,400
 * bytes before escaping: 16 KiB holds any line whole. */
#define LINE_MAX_B 16384

/*
 * Root may only write a log in a directory that no one else can write to:
 * there, another user could plant a link (or rename a directory) and have
 * root create or append to a file anywhere. Returns 0, or -EPERM with the
 * reason in err. Not needed once privileges are dropped: the user can reach
 * only what it could already write.
 */
static int check_dir(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(((struct alog *)0)->path)];
	const char *slash = strrchr(path, '/');
	char who[64];
	struct stat st;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	if (stat(dir, &st) == -1) {
		snprintf(err, errlen, "access_log: cannot open %s: directory %s (%d: %s)", path,
			 dir, errno, strerror(errno));
		return -errno;
	}
	if (st.st_uid == 0 && !(st.st_mode & S_IWOTH) &&
	    !((st.st_mode & S_IWGRP) && st.st_gid != 0))
		return 0;
	if (st.st_uid != 0)
		snprintf(who, sizeof(who), "its owner, uid %u", (unsigned)st.st_uid);
	else if (st.st_mode & S_IWOTH)
		snprintf(who, sizeof(who), "everyone (mode %04o)", (unsigned)(st.st_mode & 07777));
	else
		snprintf(who, sizeof(who), "group gid %u (mode %04o)", (unsigned)st.st_gid,
			 (unsigned)(st.st_mode & 07777));
	snprintf(err, errlen,
		 "access_log: refusing to open %s as root: its directory %s is writable by %s, "
		 "not only by root (a link planted there would make root write elsewhere); make "
		 "the directory root's and not group/world-writable, or set [global] user so "
		 "that the log is opened as that user",
		 path, dir, who);
	return -EPERM;
}

/* Opens the log for appending, never through a symbolic link; as root only
 * in a directory that only root can write to. Used for the first open and
 * every reopen alike. Returns the fd, or -errno with the reason in err. */
static int open_path(const char *path, char *err, size_t errlen)
{
	int fd, rc;

	if (path[0] == '\0')
		fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	else if (geteuid() == 0 && (rc = check_dir(path, err, errlen)) < 0)
		return rc;
	else
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
			  0640);
	if (fd == -1) {
		rc = -errno;
		snprintf(err, errlen, "access_log: cannot open %s (%d: %s)%s",
			 path[0] ? path : "stderr", -rc, strerror(-rc),
			 rc == -ELOOP ? ": it is a symbolic link, which is refused" : "");
		return rc;
	}
	return fd;
}

int alog_open(struct alog *al, const char *path, enum alog_format fmt, unsigned n_workers,
	      char *err, size_t errlen)
{
	unsigned i;

	memset(al, 0, sizeof(*al));
	al->fd = -1;
	al->format = fmt;
	pthread_mutex_init(&al->lock, NULL);
	if (path == NULL || strcmp(path, "off") == 0)
		return 0;
	snprintf(al->path, sizeof(al->path), "%s", strcmp(path, "-") == 0 ? "" : path);
	al->on = 1;
	al->rings = calloc(n_workers, sizeof(*al->rings));
	if (al->rings == NULL)
		goto nomem;
	al->n_rings = n_workers;
	for (i = 0; i < n_workers; i++) {
		al->rings[i].buf = malloc(RING_SIZE);
		if (al->rings[i].buf == NULL)
			goto nomem;
		al->rings[i].size = RING_SIZE;
	}
	return 0;
nomem:
	snprintf(err, errlen, "access_log: out of memory");
	alog_stop(al);
	return -1;
}

/* Copies ring r's pending bytes into out (cap bytes); returns how many. */
static size_t ring_take(struct alog_ring *r, char *out, size_t cap)
{
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE), tail = r->tail;
	size_t n = (size_t)(head - tail), off = (size_t)(tail & (r->size - 1)), first;

	if (n > cap)
		n = cap;
	first = n < r->size - off ? n : r->size - off;
	memcpy(out, r->buf + off, first);
	memcpy(out + first, r->buf, n - first);
	__atomic_store_n(&r->tail, tail + n, __ATOMIC_RELEASE);
	return n;
}

static void write_all(struct alog *al, const char *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		k = write(al->fd, p, n);
		if (k <= 0) {
			if (k == -1 && errno == EINTR)
				continue;
			if (STAT_GET(al->write_errors) == 0)
				log_error("access_log: write failed (%d: %s); lines are lost",
					  errno, strerror(errno));
			STAT_INC(al->write_errors);
			return;
		}
		p += k;
		n -= (size_t)k;
	}
}

/* Writes everything the rings hold. Lines never straddle a take: a ring is
 * taken up to its head, and heads only move by whole lines. */
static void drain(struct alog *al, char *chunk, size_t cap)
{
	unsigned i;
	size_t n;

	for (i = 0; i < al->n_rings; i++) {
		while ((n = ring_take(&al->rings[i], chunk, cap)) > 0)
			write_all(al, chunk, n);
	}
}

/* Reopens the log (SIGUSR1 or a new path): writer thread only. Everything
 * queued before was drained to the old file. */
static void writer_reopen(struct alog *al, char *path, size_t cap)
{
	char err[sizeof(al->path) + 512];
	int fd;

	/* a reload may rewrite the path at any time: work on a copy */
	pthread_mutex_lock(&al->lock);
	snprintf(path, cap, "%s", al->path);
	pthread_mutex_unlock(&al->lock);
	fd = open_path(path, err, sizeof(err));
	if (fd < 0) {
		log_error("%s; keeping the old file", err);
		return;
	}
	close(al->fd);
	al->fd = fd;
	log_info("access_log: reopened %s", path[0] ? path : "stderr");
}

static void *alog_main(void *arg)
{
	struct alog *al = arg;
	struct timespec ts = {0, DRAIN_MS * 1000000L};
	char *chunk = malloc(RING_SIZE + sizeof(al->path)), *path = chunk + RING_SIZE;

	if (chunk == NULL) {
		log_error("access_log: out of memory: writer stopped");
		return NULL;
	}
	for (;;) {
		int stop = ATOMIC_GET(al->stop);

		drain(al, chunk, RING_SIZE);
		if (ATOMIC_XCHG(al->reopen, 0))
			writer_reopen(al, path, sizeof(al->path));
		if (stop)
			break;
		nanosleep(&ts, NULL);
	}
	free(chunk);
	return NULL;
}

int alog_start(struct alog *al, char *err, size_t errlen)
{
	int rc;

	if (!al->on)
		return 0;
	al->fd = open_path(al->path, err, errlen);
	if (al->fd < 0)
		return -1;
	rc = pthread_create(&al->thread, NULL, alog_main, al);
	if (rc != 0) {
		snprintf(err, errlen, "access_log: cannot start the writer (%d: %s)", rc,
			 strerror(rc));
		return -1;
	}
	al->started = 1;
	return 0;
}

void alog_stop(struct alog *al)
{
	unsigned i;

	if (al->started) {
		ATOMIC_SET(al->stop, 1);
		pthread_join(al->thread, NULL); /* its last round drains every ring */
		al->started = 0;
	}
	if (al->fd >= 0)
		close(al->fd);
	al->fd = -1;
	al->on = 0;
	for (i = 0; i < al->n_rings; i++)
		free(al->rings[i].buf);
	free(al->rings);
	al->rings = NULL;
	al->n_rings = 0;
}

void alog_configure(struct alog *al, const char *path, enum alog_format fmt)
{
	pthread_mutex_lock(&al->lock);
	snprintf(al->path, sizeof(al->path), "%s", strcmp(path, "-") == 0 ? "" : path);
	pthread_mutex_unlock(&al->lock);
	__atomic_store_n(&al->format, fmt, __ATOMIC_RELAXED);
	alog_reopen(al);
}

void alog_reopen(struct alog *al)
{
	ATOMIC_SET(al->reopen, 1);
}

/* A log line being built; it never overflows: what does not fit is cut, and
 * room for the line's last two bytes ('}' and '\n' in JSON) stays free. */
struct line {
	char *p;
	size_t n, cap;
};

static void line_raw(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void line_raw(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (l->n + 2 >= l->cap)
		return;
	va_start(ap, fmt);
	k = vsnprintf(l->p + l->n, l->cap - 2 - l->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		l->n = l->n + (size_t)k < l->cap - 3 ? l->n + (size_t)k : l->cap - 3;
}

/*
 * Appends s escaped for the format, so that every byte of a line is printable
 * ASCII whatever the client or the origin sent:
 *   JSON   '"' and '\' with a backslash; bytes < 0x20, 0x7f and >= 0x80 as
 *          \u00XX (each byte one code point: a line is always valid JSON);
 *   Squid  bytes <= 0x20 (space included: fields are space-separated), 0x7f
 *          and >= 0x80 (C1 controls among them) as %XX, as Squid does.
 * An empty s is written as "-" in the Squid format.
 */
static void line_str(struct line *l, const char *s, int json)
{
	static const char hex[] = "0123456789ABCDEF";

	if (!json && *s == '\0')
		s = "-";
	for (; *s && l->n + 8 < l->cap; s++) {
		unsigned char ch = (unsigned char)*s;

		if (json && (ch == '"' || ch == '\\')) {
			l->p[l->n++] = '\\';
			l->p[l->n++] = (char)ch;
		} else if (ch > 0x20 && ch < 0x7f) {
			l->p[l->n++] = (char)ch;
		} else if (json && ch == ' ') {
			l->p[l->n++] = ' ';
		} else {
			if (json) {
				memcpy(l->p + l->n, "\\u00", 4);
				l->n += 4;
			} else {
				l->p[l->n++] = '%';
			}
			l->p[l->n++] = hex[ch >> 4];
			l->p[l->n++] = hex[ch & 15];
		}
	}
}

static void format_json(struct line *l, double t, const struct alog_entry *e)
{
	const char *keys[] = {"client", "code",	    "method", "url",	     "peer",
			      "type",	"orig_dst", "host",   "close_reason"};
	const char *vals[] = {e->client, e->code,     e->method, e->url,	 e->peer,
			      e->type,	 e->orig_dst, e->host,	 e->close_reason};
	size_t i;

	line_raw(l, "{\"time\":%.3f,\"elapsed_ms\":%llu,\"status\":%u,\"bytes\":%llu,\"worker\":%u",
		 t, (unsigned long long)e->elapsed_ms, e->status, (unsigned long long)e->bytes,
		 e->worker);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		line_raw(l, ",\"%s\":\"", keys[i]);
		line_str(l, vals[i], 1);
		line_raw(l, "\"");
	}
	if (e->tls != NULL) {
		const char *tk[] = {"sni", "alpn", "tls_versions", "ja4"};
		const char *tv[] = {e->tls->sni, e->tls->alpn, e->tls->versions, e->tls->ja4};

		for (i = 0; i < sizeof(tk) / sizeof(tk[0]); i++) {
			line_raw(l, ",\"%s\":\"", tk[i]);
			line_str(l, tv[i], 1);
			line_raw(l, "\"");
		}
		line_raw(l, ",\"ech\":%s,\"bytes_up\":%llu", e->tls->ech ? "true" : "false",
			 (unsigned long long)e->tls->bytes_up);
	}
	l->p[l->n++] = '}';
	l->p[l->n++] = '\n';
}

/* Squid's native format:
 * time.ms elapsed client code/status bytes method URL user hierarchy/peer type */
static void format_squid(struct line *l, double t, const struct alog_entry *e)
{
	/* Squid logs the media type only: one field, no parameters */
	size_t tl = strcspn(e->type, "; \t");
	char mtype[64];

	if (tl >= sizeof(mtype))
		tl = 0; /* written as "-" */
	memcpy(mtype, e->type, tl);
	mtype[tl] = '\0';
	line_raw(l, "%.3f %6llu ", t, (unsigned long long)e->elapsed_ms);
	line_str(l, e->client, 0);
	line_raw(l, " ");
	line_str(l, e->code, 0);
	line_raw(l, "/%03u %llu ", e->status, (unsigned long long)e->bytes);
	line_str(l, e->method, 0);
	line_raw(l, " ");
	line_str(l, e->url, 0);
	line_raw(l, " - %s/", strcmp(e->peer, "-") == 0 ? "HIER_NONE" : "ORIGINAL_DST");
	line_str(l, e->peer, 0);
	line_raw(l, " ");
	line_str(l, mtype, 0);
	l->p[l->n++] = '\n';
}

size_t alog_format_line(char *buf, size_t cap, enum alog_format fmt, double t,
			const struct alog_entry *e)
{
	struct line l = {buf, 0, cap};

	if (fmt == ALOG_JSON)
		format_json(&l, t, e);
	else
		format_squid(&l, t, e);
	return l.n;
}

void alog_line(struct alog *al, unsigned w, const struct alog_entry *e)
{
	struct alog_ring *r = &al->rings[w];
	char line[LINE_MAX_B];
	struct timespec ts;
	uint64_t head, free_b;
	size_t off, first, n;
	double t;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	t = (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1000.0;
	n = alog_format_line(line, sizeof(line), __atomic_load_n(&al->format, __ATOMIC_RELAXED), t,
			     e);
	head = r->head;
	free_b = r->size - (head - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE));
	if ((uint64_t)n > free_b) {
		STAT_INC(r->dropped); /* the writer is behind: count, never wait */
		return;
	}
	off = (size_t)(head & (r->size - 1));
	first = (size_t)n < r->size - off ? (size_t)n : r->size - off;
	memcpy(r->buf + off, line, first);
	memcpy(r->buf, line + first, (size_t)n - first);
	__atomic_store_n(&r->head, head + (uint64_t)n, __ATOMIC_RELEASE);
	STAT_INC(r->lines);
}
