/*
 * server.h — the running proxy as one value: configuration, listeners,
 * acceptor, workers, admin listener and access log; start, reload, stop.
 * Main thread only.
 */
#ifndef REMORA_SERVER_H
#define REMORA_SERVER_H

#include "acceptor.h"
#include "accesslog.h"
#include "admin.h"
#include "config.h"
#include "histo.h"
#include "worker.h"

struct server {
	const char *path;
	struct config *cfg;	/* current configuration (our reference) */
	struct listen_set *set; /* current listeners, as published */
	/* the set before s->set when the acceptor did not take s->set in time: it
	 * may still poll it (and closes its leaving sockets when it switches) */
	struct listen_set *untaken_prev;
	struct acceptor acc;
	struct worker *workers;
	unsigned n_workers; /* fixed for the life of the process */
	unsigned started;   /* workers running */
	struct admin admin;
	struct alog alog;
	struct histo_names names; /* listener names of the histograms' slots */
	int acceptor_running;
	int fds_at_start;
	struct ic_ip_set *local; /* the box's own addresses, as last given to the workers */
};

/* Starts everything for cfg (loaded from path; the server takes cfg's
 * reference). Returns 0, or -1 after logging why and undoing what started. */
int server_start(struct server *s, const char *path, struct config *cfg, int fds_at_start);
/* Re-reads the file: a valid configuration replaces the running one without
 * closing the listeners that stay; an invalid one is refused and logged, the
 * old one keeps running. Returns 0 or -1. */
int server_reload(struct server *s);
/* Re-reads the box's own addresses (interfaces, listeners, admin) and gives
 * every worker a copy when they changed: connections to them are refused.
 * Called at start, on reload and periodically (an address added later). */
void server_refresh_local(struct server *s);
/* Reopens the access log (logrotate). */
void server_reopen_logs(struct server *s);
/* Stops accepting, drains for drain_timeout, frees everything. */
void server_stop(struct server *s);

#endif
