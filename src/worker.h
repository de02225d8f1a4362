/*
 * worker.h — a worker thread: one poller, its connections, their buffers and
 * timers, owned outright (no locks on the data path).
 *
 * Which thread may call what:
 *   worker_init, worker_start, worker_join, worker_fini   main thread
 *   worker_hand_off, worker_load                          acceptor (any thread)
 *   worker_request_stop                                   any thread
 *   worker_set_local                                      main thread, any time
 *   worker_timer_insert, worker_dst_is_forbidden,
 *   everything else in conn.h                             the worker itself
 */
#ifndef REMORA_WORKER_H
#define REMORA_WORKER_H

#include <pthread.h>
#include <stdint.h>
#include <urcu/list.h>
#include <urcu/wfcqueue.h>

#include "accesslog.h"
#include "buf.h"
#include "config.h"
#include "conn.h"
#include "histo.h"
#include "poller/poller.h"

/* Upstream connect failures are counted per errno below this. */
#define WORKER_ERRNO_MAX 134

struct worker_stats {
	uint64_t accepted;
	uint64_t closed[CONN_CLOSE_MAX];
	uint64_t bytes_in;    /* from clients */
	uint64_t bytes_out;   /* to clients */
	uint64_t replies[10]; /* responses by status class (index 1..5) */
	uint64_t tunnels_non_http;
	uint64_t tunnels_upgrade;
	uint64_t tunnels_tls;	       /* first bytes were a TLS record */
	uint64_t tunnels_server_first; /* the client stayed silent (or paused) first */
	uint64_t tunnels_connect;      /* CONNECT answered 2xx by the origin */
	uint64_t responses_raw;	       /* answers without a status line, relayed as a stream */
	uint64_t tls_version[5];       /* by highest version offered: other, 1.0, 1.1, 1.2, 1.3 */
	uint64_t tls_sni[2];	       /* hellos without / with a server name */
	uint64_t tls_ech;	       /* hellos with encrypted_client_hello */
	uint64_t tls_denied;	       /* refused by [acl] deny_domains */
	uint64_t http_denied;	    /* requests refused by [acl] deny_domains (451 or redirect) */
	uint64_t tls_malformed[16]; /* not a well-formed ClientHello, by enum tls_error */
	uint64_t bytes_spliced;	    /* of bytes_out, moved by splice() */
	uint64_t bytes_spliced_in;  /* of bytes_in, moved by splice() (tunnels) */
	uint64_t connect_errno[WORKER_ERRNO_MAX];
	uint64_t host_verify[3];   /* match, mismatch, failed */
	uint64_t upstream_retries; /* requests resent after a reused upstream closed */
	struct ic_connect_stats connect;
};

struct worker {
	/* written by other threads */
	struct cds_wfcq_head qhead; /* hand-off queue */
	struct cds_wfcq_tail qtail;
	unsigned long load; /* connections handed off and not yet closed */
	int stop;	    /* drain requested */
	uint64_t heartbeat; /* now_ms() of the last loop (read by /healthz) */

	/* owned by the worker thread */
	unsigned id;
	pthread_t thread;
	struct poller *poller;
	struct buf_pool bufs;
	struct pipe_pool pipes;
	struct dns *dns;   /* Host verification resolver, made on first use */
	struct alog *alog; /* shared access log (its ring w->id is ours), or NULL */
	int draining;	   /* finishing: no keep-alive, no new requests */
	struct cds_list_head timers[CONN_TIMER_MAX]; /* by deadline (worker_timer_insert) */
	struct cds_list_head corked; /* conns holding bytes back, by cork_deadline */
	uint32_t drain_ms;	     /* set with the stop request */
	struct conn *dead;
	struct conn *pending;
	uint64_t now;
	uint64_t trim_at; /* next buf_pool_trim (w->now, ms) */
	int pipes_warned; /* the small-pipe warning was logged */
	uint64_t next_id;
	uint64_t nconns;
	struct worker_stats stats;
	struct histo_set histo;	 /* latency histograms by kind and listener slot */
	struct ic_ip_set *local; /* the box's own addresses (our copy), or NULL */
	const struct conn_proto *protos[CONN_PROTO_MAX]; /* registered at init */

	/* written by the main thread */
	struct ic_ip_set *local_next; /* newer copy, taken at the next loop (ATOMIC_XCHG) */
};

/* Prepares w (poller, queue, pool). Returns 0 or -errno. */
/* cfg gives the pool sizes (buffer_size, splice); connections bring their own
 * configuration along. */
int worker_init(struct worker *w, unsigned id, const struct config *cfg);
int worker_start(struct worker *w);
/* Asks the worker to finish its connections within drain_ms and exit. */
void worker_request_stop(struct worker *w, uint32_t drain_ms);
void worker_join(struct worker *w);
/* Releases what worker_init took (after worker_join). */
void worker_fini(struct worker *w);

/* liburcu publishes queue nodes with inline-asm atomics that ThreadSanitizer
 * cannot see; these annotations state the happens-before edge the queue
 * provides (producer's writes to c are visible once the consumer has it). */
#if defined(__SANITIZE_THREAD__)
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define HANDOFF_RELEASE(c) __tsan_release(c)
#define HANDOFF_ACQUIRE(c) __tsan_acquire(c)
#else
#define HANDOFF_RELEASE(c) ((void)(c))
#define HANDOFF_ACQUIRE(c) ((void)(c))
#endif

/* Queues c on w's list for timer c->timer, kept in c->deadline order (each
 * connection's deadline comes from its own configuration); c must not be on
 * a timer list. Owning worker only. */
void worker_timer_insert(struct worker *w, struct conn *c);

/* Gives w a newer set of the box's own addresses (w takes ownership of s;
 * each worker needs its own copy). Main thread. */
void worker_set_local(struct worker *w, struct ic_ip_set *s);
/* Must a connection to dst be refused: a special-purpose address
 * (ic_addr_is_forbidden_dst) or one of the box's own? Owning worker only. */
bool worker_dst_is_forbidden(const struct worker *w, const union ic_addr *dst);

/* Longest a worker sleeps: a connection handed off without a wake-up is
 * started within this time even if its client stays silent. */
#define WORKER_PICKUP_MS 100

/* Hands an accepted connection to w (c is w's from now on). c's client fd
 * goes straight into w's poller, readable only, so w wakes when the first
 * bytes arrive — one wake-up per connection, not one for the hand-off and
 * one for the bytes. w is woken at once only when c must not wait for its
 * client (now != 0: a forced tunnel connects at once) or when the fd could
 * not be registered; otherwise a silent client's connection is started
 * within WORKER_PICKUP_MS, which first_bytes timers allow for (acceptor.c).
 * Never blocks, never fails. */
void worker_hand_off(struct worker *w, struct conn *c, int now);
/* Current load estimate (relaxed read), for choosing a worker. */
unsigned long worker_load(const struct worker *w);

#endif
