/*
 * accesslog.h — one line per request, in Squid's native access.log format
 * (or JSON), written without ever blocking a worker on the disk.
 *
 * Each worker formats its lines into its own single-producer/single-consumer
 * ring; one writer thread drains every ring to the file every 50 ms. When a
 * ring is full the line is dropped and counted, never queued without bound.
 * SIGUSR1 (alog_reopen) makes the writer reopen the path (logrotate).
 *
 * Thread use: alog_open/start/stop/reopen from the main thread;
 * alog_line from the owning worker only (ring w); alog_enabled from anyone.
 *
 * Shared fields: on is written by alog_open only, before any other thread
 * starts; fd belongs to the writer thread while it runs (the main thread
 * touches it only before alog_start and after alog_stop); path is read and
 * written under lock only (the writer copies it before using it).
 */
#ifndef REMORA_ACCESSLOG_H
#define REMORA_ACCESSLOG_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

enum alog_format { ALOG_SQUID, ALOG_JSON };

struct alog_ring {
	char *buf;
	uint32_t size;	  /* a power of two */
	uint64_t head;	  /* bytes produced (worker) */
	uint64_t tail;	  /* bytes consumed (writer) */
	uint64_t dropped; /* lines that did not fit (worker) */
	uint64_t lines;	  /* lines queued (worker) */
};

struct alog {
	pthread_t thread;
	int started;
	int on;		 /* the log is on (fixed at alog_open) */
	int fd;		 /* -1: not open; the writer's while it runs */
	char path[4096]; /* "" for stderr ("-"); under lock */
	enum alog_format format;
	struct alog_ring *rings;
	unsigned n_rings;
	int stop;
	int reopen;
	pthread_mutex_t lock; /* path, between the main thread and the writer */
	uint64_t write_errors;
};

/* One finished request, as the worker knows it. Strings need not be
 * NUL-terminated where a length is given. */
/* What a TLS flow's line adds (JSON fields; the SNI names the Squid URL). */
struct alog_tls {
	const char *sni;  /* "" without one */
	const char *alpn; /* comma-separated, raw bytes (escaped when written) */
	const char *versions;
	const char *ja4;
	int ech;	   /* encrypted_client_hello: sni is the outer name */
	int denied;	   /* refused by policy: logged NONE_NONE/000, never tunnelled */
	uint64_t bytes_up; /* client to origin */
};

struct alog_entry {
	uint64_t elapsed_ms;
	const char *client; /* IP only */
	const char *code;   /* Squid result code: TCP_MISS, NONE_NONE, TCP_TUNNEL */
	unsigned status;    /* 0 when no status was sent */
	uint64_t bytes;	    /* to the client, head and body */
	const char *method;
	const char *url;
	const char *peer; /* original destination IP, "-" if none */
	const char *type; /* response Content-Type, "-" if none */
	const char *orig_dst;
	const char *host; /* "-" if none */
	const char *close_reason;
	unsigned worker;
	const struct alog_tls *tls; /* a TLS flow, else NULL */
};

/* path: NULL or "off" = off, "-" = stderr, else a file to append to. Sets
 * the log up; the file is opened by alog_start. Returns 0, or -1 with a
 * message in err. */
int alog_open(struct alog *al, const char *path, enum alog_format fmt, unsigned n_workers,
	      char *err, size_t errlen);
/* Opens the file and starts the writer (a no-op when the log is off). Call
 * it after the privilege drop: the file is opened, and later reopened, by
 * the same user. The file is never opened through a symbolic link
 * (O_NOFOLLOW), and, while the process is root, only in a directory that no
 * one but root can write to. Returns 0, or -1 with a message naming the path
 * and the reason in err. */
int alog_start(struct alog *al, char *err, size_t errlen);
/* Drains every ring, stops the writer, closes the file. */
void alog_stop(struct alog *al);
/* Switches to another path or format (reload; main thread). The log must be
 * on, and stays on. */
void alog_configure(struct alog *al, const char *path, enum alog_format fmt);
/* Asks the writer to reopen the file (any thread). */
void alog_reopen(struct alog *al);
/* Formats entry e, at time t (epoch seconds), as one line ending in '\n'
 * into buf (cap bytes, at least 64); every byte of the line is printable
 * ASCII (see accesslog.c for the escaping). Returns the line's length, which
 * is less than cap (a line too long is cut). Any thread. */
size_t alog_format_line(char *buf, size_t cap, enum alog_format fmt, double t,
			const struct alog_entry *e);
/* Formats and queues one line into ring w (owning worker only). */
void alog_line(struct alog *al, unsigned w, const struct alog_entry *e);
static inline int alog_enabled(const struct alog *al)
{
	return al != NULL && al->on;
}

#endif
