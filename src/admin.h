/*
 * admin.h — the admin listener: GET /metrics (Prometheus text format) and
 * GET /healthz, served by one small thread of its own with its own poller,
 * off the data path. It only reads the workers' and the acceptor's counters
 * (relaxed loads). Slow clients cannot hold it: each exchange has 2 s in all,
 * at most 16 connections are open (a new one closes the oldest), and accept()
 * failing for want of descriptors pauses the listener for 100 ms.
 *
 * Thread use: admin_open/start/stop from the main thread.
 */
#ifndef REMORA_ADMIN_H
#define REMORA_ADMIN_H

#include <pthread.h>
#include <stdint.h>

#include "acceptor.h"
#include "accesslog.h"
#include "histo.h"
#include "intercept/intercept.h"
#include "worker.h"

struct admin_conn;
struct poller;

struct admin {
	pthread_t thread;
	int fd; /* listening socket, -1 when off */
	/* the admin thread's own (from admin_start to admin_stop) */
	struct poller *poller;
	struct admin_conn *conns;  /* ADMIN_MAX_CONNS slots */
	char *scratch;		   /* the metrics text being made */
	uint64_t listen_resume_ms; /* 0, or when accepting resumes (EMFILE pause) */
	uint64_t accept_pauses;	   /* EMFILE/ENFILE pauses (any thread reads) */
	int stop;
	int started;
	union ic_addr addr;
	struct worker *workers;
	unsigned n_workers;
	const struct acceptor *acceptor;
	const struct alog *alog; /* may be NULL */
	/* the histograms' listener names by slot, or NULL */
	const struct histo_names *names;
	uint64_t start_ms;
	uint64_t reloads; /* written by the main thread */
	uint64_t reload_failures;
};

/* Opens the admin socket on addr (or nothing if addr is NULL). Returns 0, or
 * -1 with a message in err. */
int admin_open(struct admin *ad, const union ic_addr *addr, char *err, size_t errlen);
int admin_start(struct admin *ad, struct worker *workers, unsigned n_workers,
		const struct acceptor *a);
/* Stops the thread and closes the socket (NULL-safe when never opened). */
void admin_stop(struct admin *ad);

/* True when every worker's loop ran within the last max_age_ms. */
int admin_workers_alive(const struct worker *workers, unsigned n, uint64_t max_age_ms);
/* Writes the metrics text into buf (at most len bytes); returns its length. */
size_t admin_metrics(const struct admin *ad, char *buf, size_t len);

#endif
