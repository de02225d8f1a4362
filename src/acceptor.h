/*
 * acceptor.h — the acceptor thread: owns every listening socket, accepts in
 * batches and hands each connection to a worker.
 *
 * Thread use: acceptor_open/start/stop/close from the main thread; the
 * acceptor thread itself runs between start and stop.
 */
#ifndef REMORA_ACCEPTOR_H
#define REMORA_ACCEPTOR_H

#include <pthread.h>
#include <stdint.h>

#include "config.h"
#include "poller/poller.h"
#include "worker.h"

struct listener {
	const struct listener_conf *conf;
	int fd;
};

struct acceptor {
	pthread_t thread;
	struct poller *poller;
	struct listener listeners[CONFIG_MAX_LISTENERS];
	union ic_addr addrs[CONFIG_MAX_LISTENERS]; /* for the workers' loop guard */
	size_t n;
	struct worker *workers;
	unsigned n_workers;
	enum balance balance;
	int stop;
	uint64_t rng;
	unsigned rr;
	uint64_t paused_until; /* EMFILE/ENFILE back-off */
	uint64_t accepted;
	uint64_t handoff_failed;
	uint64_t accept_errors;
};

/* Opens every listener of cfg. On failure returns -1 with a message naming
 * the listener, the call and the likely fix in err. */
int acceptor_open(struct acceptor *a, const struct config *cfg, char *err, size_t errlen);
/* Starts the thread, handing connections to workers[0..n_workers). 0 or -errno. */
int acceptor_start(struct acceptor *a, struct worker *workers, unsigned n_workers);
/* Stops accepting: the thread exits and every listener is closed. */
void acceptor_stop(struct acceptor *a);
/* Closes whatever acceptor_open left open (NULL-safe, idempotent). */
void acceptor_close(struct acceptor *a);

#endif
