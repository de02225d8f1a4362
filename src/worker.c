/* worker.c — the worker thread's event loop (see worker.h). */
#include "remora-config.h"

#include <errno.h>
#include <string.h>
#include <urcu/uatomic.h>

#include "conn_http.h"
#include "dns.h"
#include "log.h"
#include "stats.h"
#include "util.h"
#include "worker.h"

#define WORKER_EVENTS	  256
/* Free relay buffers a worker keeps for reuse; once a period, those its load
 * did not need in the last one go back to the allocator, down to the floor. */
#define WORKER_POOL_BUFS  256
#define WORKER_POOL_FLOOR 8
#define WORKER_TRIM_MS	  1000
/* Free pipes a worker keeps for splice(), and the capacity asked for each. */
#define WORKER_POOL_PIPES 64
#define WORKER_PIPE_SIZE  (256 * 1024)

/* Graceful close: how long a client may take to read the end and close. */

int worker_init(struct worker *w, unsigned id, const struct config *cfg)
{
	int i, err;

	memset(w, 0, sizeof(*w));
	w->id = id;
	cds_wfcq_init(&w->qhead, &w->qtail);
	buf_pool_init(&w->bufs, cfg->buffer_size, WORKER_POOL_BUFS);
	pipe_pool_init(&w->pipes, cfg->splice ? WORKER_PIPE_SIZE : 0, WORKER_POOL_PIPES);
	w->pipes.broken = !cfg->splice;
	for (i = 0; i < CONN_TIMER_MAX; i++)
		CDS_INIT_LIST_HEAD(&w->timers[i]);
	CDS_INIT_LIST_HEAD(&w->corked);
	/* the protocols above the transport: conn.c reaches them only here */
	w->protos[CONN_PROTO_TUNNEL] = &conn_proto_tunnel;
	w->protos[CONN_PROTO_HTTP] = &conn_proto_http;
	w->protos[CONN_PROTO_TLS] = &conn_proto_tls;
	err = poller_create(&w->poller);
	if (err < 0)
		cds_wfcq_destroy(&w->qhead, &w->qtail);
	return err;
}

void worker_fini(struct worker *w)
{
	/* before the poller: the resolver takes its sockets out of it */
	dns_free(w->dns);
	w->dns = NULL;
	poller_destroy(w->poller);
	w->poller = NULL;
	free(w->local);
	w->local = NULL;
	free(ATOMIC_XCHG(w->local_next, NULL));
	buf_pool_fini(&w->bufs);
	pipe_pool_fini(&w->pipes);
	cds_wfcq_destroy(&w->qhead, &w->qtail);
}

void worker_timer_insert(struct worker *w, struct conn *c)
{
	struct cds_list_head *head = &w->timers[c->timer], *pos;

	/* from the tail backwards: one step when deadlines only grow (one
	 * configuration); a reload that shortens a timeout walks past the
	 * connections still running under the longer one */
	for (pos = head->prev; pos != head; pos = pos->prev)
		if (cds_list_entry(pos, struct conn, tlink)->deadline <= c->deadline)
			break;
	cds_list_add(&c->tlink, pos);
}

void worker_set_local(struct worker *w, struct ic_ip_set *s)
{
	/* a copy the worker has not taken yet comes back to us: ours to free */
	free(ATOMIC_XCHG(w->local_next, s));
}

/* Takes the newest set of own addresses the main thread published. */
static void take_local(struct worker *w)
{
	struct ic_ip_set *s = ATOMIC_XCHG(w->local_next, NULL);

	if (s != NULL) {
		free(w->local);
		w->local = s;
	}
}

bool worker_dst_is_forbidden(const struct worker *w, const union ic_addr *dst)
{
	return ic_addr_is_forbidden_dst(dst) || (w->local != NULL && ic_ip_set_has(w->local, dst));
}

void worker_hand_off(struct worker *w, struct conn *c, int now)
{
	ATOMIC_ADD(w->load, 1);
	/* every write to c above happens before the worker's first look at it,
	 * whether that comes from the poller (conn_on_event) or the queue */
	c->cli.registered = 1;
	HANDOFF_RELEASE(c);
	if (poller_add(w->poller, c->cli.fd, POLLER_IN | POLLER_ET, &c->cli) < 0) {
		c->cli.registered = 0; /* no event can come: conn_start registers it */
		now = 1;
		HANDOFF_RELEASE(c); /* (the queue alone carries c to the worker now) */
	}
	/* The eventfd write cannot fail short of a counter overflow, and a
	 * pending wake-up is never lost (it stays readable until read). */
	cds_wfcq_enqueue(&w->qhead, &w->qtail, &c->qnode);
	if (now)
		(void)poller_wake(w->poller);
}

unsigned long worker_load(const struct worker *w)
{
	return ATOMIC_GET(w->load);
}

void worker_request_stop(struct worker *w, uint32_t drain_ms)
{
	ATOMIC_SET(w->drain_ms, drain_ms);
	ATOMIC_SET(w->stop, 1);
	(void)poller_wake(w->poller);
}

/* The worker is ending: a connection it never started is closed. */
static void drop_unstarted(struct conn *c)
{
	if (c->client_slot != NULL)
		ATOMIC_SUB(*c->client_slot, 1);
	conn_free_unstarted(c);
}

/* Takes every connection the acceptor queued: starts it (start = 1) or,
 * when the worker is ending, closes it; frees those already closed. */
static void take_hand_offs(struct worker *w, int start)
{
	struct cds_wfcq_head head;
	struct cds_wfcq_tail tail;
	struct cds_wfcq_node *node, *next;

	cds_wfcq_init(&head, &tail);
	/* single consumer: the splice needs no lock */
	if (__cds_wfcq_splice_blocking(&head, &tail, &w->qhead, &w->qtail) ==
	    CDS_WFCQ_RET_SRC_EMPTY) {
		cds_wfcq_destroy(&head, &tail);
		return;
	}
	__cds_wfcq_for_each_blocking_safe (&head, &tail, node, next) {
		struct conn *c = caa_container_of(node, struct conn, qnode);

		HANDOFF_ACQUIRE(c);
		c->queued = 0;
		if (c->free_on_take)
			conn_free(c); /* started by its first event, closed, freed */
		else if (c->w != NULL)
			continue; /* started by its first event (conn_on_event) */
		else if (start)
			conn_start(w, c);
		else
			drop_unstarted(c);
	}
	cds_wfcq_destroy(&head, &tail);
}

static void expire_timers(struct worker *w)
{
	struct conn *c;
	int t;

	for (t = 0; t < CONN_TIMER_MAX; t++) {
		while (!cds_list_empty(&w->timers[t])) {
			c = cds_list_first_entry(&w->timers[t], struct conn, tlink);
			if (c->deadline > w->now)
				break;
			conn_timeout(c, (enum conn_timer)t);
			if (c->state != CONN_ST_CLOSED && c->timer == t && c->deadline <= w->now &&
			    cds_list_first_entry(&w->timers[t], struct conn, tlink) == c) {
				/* a handler that neither re-armed nor closed would be
				 * called again at once, for ever: a bug, made visible */
				log_error("conn %u.%llu: timer %d due and not re-armed: closed",
					  w->id, (unsigned long long)c->id, t);
				conn_close(c, CONN_CLOSE_IDLE_TIMEOUT, 0);
			}
		}
	}
}

/* Sends what responses held back past their deadline: the rest of the
 * response did not come in time. */
static void push_corked(struct worker *w)
{
	uint64_t now;
	struct conn *c;

	if (cds_list_empty(&w->corked))
		return;
	/* the fine clock: a coarse tick could pass between a cork and the next
	 * loop within microseconds and end the wait at once */
	now = now_us();
	while (!cds_list_empty(&w->corked)) {
		c = cds_list_first_entry(&w->corked, struct conn, clink);
		if (c->cork_deadline > now)
			break;
		conn_cork_expired(c);
	}
}

/* Milliseconds until the earliest deadline (-1: none). */
static int next_timeout(struct worker *w)
{
	uint64_t first = UINT64_MAX;
	struct conn *c;
	int t, cork_ms = -1, dns_ms = dns_timeout_ms(w->dns);

	if (w->pending != NULL)
		return 0;
	for (t = 0; t < CONN_TIMER_MAX; t++) {
		if (cds_list_empty(&w->timers[t]))
			continue;
		c = cds_list_first_entry(&w->timers[t], struct conn, tlink);
		if (c->deadline < first)
			first = c->deadline;
	}
	if (!cds_list_empty(&w->corked)) {
		uint64_t now = now_us();

		/* on the fine clock: whole milliseconds, rounded up */
		c = cds_list_first_entry(&w->corked, struct conn, clink);
		cork_ms =
			c->cork_deadline <= now ? 0 : (int)((c->cork_deadline - now + 999) / 1000);
	}
	if (first == UINT64_MAX) {
		t = -1;
	} else {
		/* +1: the coarse clock must have passed the deadline when we wake */
		t = first <= w->now ? 0 : (int)(first - w->now + 1);
	}
	if (cork_ms >= 0 && (t < 0 || cork_ms < t))
		t = cork_ms;
	return dns_ms >= 0 && (t < 0 || dns_ms < t) ? dns_ms : t;
}

static void run_pending(struct worker *w)
{
	struct conn *list = w->pending, *c;

	w->pending = NULL;
	while ((c = list) != NULL) {
		list = c->next_pending;
		if (c->pending == 2) {
			conn_free(c); /* closed while queued here; free_dead() left it to us */
			continue;
		}
		c->pending = 0;
		if (c->state != CONN_ST_CLOSED)
			conn_run(c);
	}
}

static void free_dead(struct worker *w)
{
	struct conn *c;

	while ((c = w->dead) != NULL) {
		w->dead = c->next_dead;
		if (!c->pending)
			conn_free(c);
		else
			c->pending = 2; /* still on the pending list: run_pending() frees it */
	}
}

/* Closes every connection that is idle between requests or still waiting for
 * its first byte; the others may finish until the drain deadline. */
static void close_all(struct worker *w, enum conn_close_reason reason, int only_unstarted)
{
	struct conn *c, *tmp;
	int t;

	for (t = 0; t < CONN_TIMER_MAX; t++) {
		cds_list_for_each_entry_safe (c, tmp, &w->timers[t], tlink) {
			if (only_unstarted &&
			    ((c->state != CONN_ST_REQ_HEAD && c->state != CONN_ST_FIRST_BYTES) ||
			     c->c2u != NULL))
				continue;
			conn_close(c, reason, 0);
		}
	}
}

/* Once a second: idle pipes beyond the floor go, a new pipe may be tried
 * again, and the first small one is logged (each is counted:
 * remora_splice_pipes_small_total). */
static void check_pipes(struct worker *w)
{
	pipe_pool_tick(&w->pipes, WORKER_POOL_FLOOR);
	if (w->pipes.small == 0 || w->pipes_warned)
		return;
	w->pipes_warned = 1;
	log_warn("worker %u: new splice pipes come out under %u KiB, so bodies and tunnels are "
		 "copied instead: this user holds fs.pipe-user-pages-soft pages of pipes (raise "
		 "it: sysctl fs.pipe-user-pages-soft; docs/deployment.md)",
		 w->id, PIPE_MIN_CAP / 1024);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct poller_event ev[WORKER_EVENTS];
	uint64_t drain_deadline = 0;
	int n, i, timeout;

	for (;;) {
		take_local(w);
		timeout = next_timeout(w);
		if (drain_deadline != 0 && (timeout < 0 || timeout > 100))
			timeout = 100;
		else if (timeout < 0 || timeout > WORKER_PICKUP_MS)
			timeout = WORKER_PICKUP_MS; /* hand-offs that did not wake us */
		n = poller_wait(w->poller, ev, WORKER_EVENTS, timeout);
		w->now = now_ms();
		STAT_ADD(w->heartbeat, w->now - w->heartbeat);
		if (n < 0 && n != -EINTR) {
			log_error("worker %u: poller_wait() failed (%d: %s)", w->id, -n,
				  strerror(-n));
			break;
		}
		/* first the hand-offs: an event below is most often a new
		 * connection's first bytes (one that came before the acceptor
		 * queued its conn starts it: conn_on_event) */
		take_hand_offs(w, 1);
		for (i = 0; i < n; i++) {
			if (ev[i].udata == NULL)
				continue; /* a wake-up: the hand-offs are taken */
			if (*(const uint8_t *)ev[i].udata == POLL_KIND_DNS)
				dns_on_event(ev[i].udata, ev[i].events);
			else
				conn_on_event(w, ev[i].udata, ev[i].events);
		}
		dns_tick(w->dns);
		run_pending(w);
		expire_timers(w);
		push_corked(w);
		if (drain_deadline == 0 && ATOMIC_GET(w->stop)) {
			take_hand_offs(w, 1);
			drain_deadline = w->now + ATOMIC_GET(w->drain_ms);
			w->draining = 1;
			close_all(w, CONN_CLOSE_CLIENT_EMPTY, 1);
		}
		if (drain_deadline != 0 && w->nconns > 0 && w->now >= drain_deadline)
			close_all(w, CONN_CLOSE_SHUTDOWN, 0);
		free_dead(w);
		if (w->now >= w->trim_at) {
			/* after a burst, memory comes back (the allocator hands
			 * freed pages to the kernel by itself: see main.c) */
			buf_pool_trim(&w->bufs, WORKER_POOL_FLOOR);
			w->trim_at = w->now + WORKER_TRIM_MS;
			check_pipes(w);
		}
		if (drain_deadline != 0 && w->nconns == 0 && w->pending == NULL)
			break;
	}
	close_all(w, CONN_CLOSE_SHUTDOWN, 0);
	free_dead(w);
	take_hand_offs(w, 0); /* what was closed while queued, and latecomers */
	return NULL;
}

int worker_start(struct worker *w)
{
	w->now = now_ms();
	w->heartbeat = w->now;
	return -pthread_create(&w->thread, NULL, worker_main, w);
}

void worker_join(struct worker *w)
{
	pthread_join(w->thread, NULL);
}
