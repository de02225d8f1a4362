/*
 * conn.h — one intercepted client connection and its upstream leg, driven by
 * a state machine inside the owning worker.
 *
 * Ownership: the acceptor allocates a conn (conn_new) and hands it to one
 * worker; from then on only that worker's thread touches it. The conn owns
 * both fds and any relay buffers it holds.
 */
#ifndef REMORA_CONN_H
#define REMORA_CONN_H

#include <stdint.h>
#include <urcu/list.h>
#include <urcu/wfcqueue.h>

#include "buf.h"
#include "config.h"
#include "http/http.h"
#include "intercept/intercept.h"

/* The states, in the order a request goes through them. */
#define CONN_STATES(X)                                                                     \
	X(REQ_HEAD, "reading request head")                                               \
	X(RESOLVE, "finding the original destination")                                    \
	X(UP_CONNECT, "connecting upstream (transparent)")                                \
	X(RELAY, "relaying both directions")                                              \
	X(CLOSED, "closed")

#define CONN_ST_ENUM(name, desc) CONN_ST_##name,
enum conn_state { CONN_STATES(CONN_ST_ENUM) CONN_ST_MAX };
#undef CONN_ST_ENUM

/* Why a connection ended: feeds the error log, metrics and the access log.
 * X(enum, token, log level, description) */
#define CONN_CLOSE_REASONS(X)                                                              \
	X(NONE, "none", LOG_ERROR, "not closed")                                           \
	X(DONE, "done", LOG_DEBUG, "both sides finished")                                 \
	X(CLIENT_EMPTY, "client-empty", LOG_DEBUG, "client closed before sending anything") \
	X(CLIENT_EOF, "client-eof-in-head", LOG_INFO, "client closed inside the request head") \
	X(CLIENT_RESET, "client-reset", LOG_DEBUG, "client connection reset")             \
	X(CLIENT_HEADER_TIMEOUT, "client-header-timeout", LOG_INFO,                          \
	  "client sent no complete request head in time")                                 \
	X(HEAD_TOO_LARGE, "head-too-large", LOG_INFO, "request head larger than the buffer") \
	X(BAD_REQUEST, "bad-request", LOG_INFO, "not an HTTP/1.x request head")           \
	X(ORIG_DST_FAILED, "orig-dst-failed", LOG_WARN, "original destination lookup failed") \
	X(LOOP_GUARD, "loop-guard", LOG_WARN,                                             \
	  "original destination is one of Remora's own listeners (loop guard)")           \
	X(UPSTREAM_SOCKET, "upstream-socket", LOG_WARN,                                    \
	  "cannot create or bind the transparent upstream socket")                         \
	X(UPSTREAM_REFUSED, "upstream-refused", LOG_INFO, "upstream refused the connection") \
	X(UPSTREAM_UNREACHABLE, "upstream-unreachable", LOG_INFO, "upstream unreachable") \
	X(UPSTREAM_CONNECT_FAILED, "upstream-connect-failed", LOG_INFO,                   \
	  "upstream connect failed")                                                       \
	X(CONNECT_TIMEOUT, "connect-timeout", LOG_INFO, "upstream connect timed out")      \
	X(UPSTREAM_RESET, "upstream-reset", LOG_INFO, "upstream connection reset")        \
	X(IDLE_TIMEOUT, "idle-timeout", LOG_DEBUG, "no bytes moved within the idle timeout") \
	X(NO_MEMORY, "no-memory", LOG_WARN, "out of memory")                              \
	X(POLLER, "poller", LOG_WARN, "cannot register with the poller")                  \
	X(SHUTDOWN, "shutdown", LOG_INFO, "still open when the drain time ran out")

#define CONN_CLOSE_ENUM(name, token, lvl, desc) CONN_CLOSE_##name,
enum conn_close_reason { CONN_CLOSE_REASONS(CONN_CLOSE_ENUM) CONN_CLOSE_MAX };
#undef CONN_CLOSE_ENUM

/* Which per-phase timeout a connection is waiting under. */
enum conn_timer {
	CONN_TIMER_HEADER,  /* [timeouts] client_header */
	CONN_TIMER_CONNECT, /* [timeouts] connect */
	CONN_TIMER_IDLE,    /* [timeouts] idle */
	CONN_TIMER_MAX
};

struct conn;
struct worker;

/* One leg (client or upstream). udata for the poller is the side itself. */
struct conn_side {
	int fd;
	uint8_t readable; /* edge-triggered readiness not yet consumed */
	uint8_t writable;
	uint8_t eof;	  /* read returned 0 */
	uint8_t shut;	  /* we have shut down writing on this fd */
	struct conn *c;
};

struct conn {
	struct cds_wfcq_node qnode; /* acceptor → worker hand-off */
	struct cds_list_head tlink; /* in the worker's queue for c->timer */
	struct conn *next_dead;	    /* freed at the end of the event batch */
	struct conn *next_pending;  /* ran out of budget: run again this loop */
	struct worker *w;
	const struct listener_conf *lc;
	struct conn_side cli, up;
	struct buf *c2u, *u2c; /* client→upstream, upstream→client; NULL when empty */
	uint64_t deadline;
	uint64_t id;
	union ic_addr peer, dst;
	struct http_head_state hs;
	uint8_t state;
	uint8_t reason;
	uint8_t timer;
	uint8_t pending;
	int err; /* errno detail of the close, 0 if none */
};

/* Allocates a conn for an accepted fd (acceptor thread). NULL on ENOMEM. */
struct conn *conn_new(int fd, const union ic_addr *peer, const struct listener_conf *lc);
/* Takes ownership of c in worker w and starts it (owning worker only). */
void conn_start(struct worker *w, struct conn *c);
/* Handles readiness on one side (owning worker only). */
void conn_on_event(struct conn_side *s, uint32_t events);
/* Runs the state machine until it must wait (owning worker only). */
void conn_run(struct conn *c);
/* Closes both legs now with a reason (errno detail err, or 0), logs it when
 * the reason's level is enabled, and queues c to be freed at the end of the
 * batch. Idempotent. Owning worker only. */
void conn_close(struct conn *c, enum conn_close_reason reason, int err);
/* Frees a closed conn (owning worker, end of batch). */
void conn_free(struct conn *c);
/* Arms timer t from now (owning worker only). */
void conn_timer_arm(struct conn *c, enum conn_timer t);

const char *conn_state_name(enum conn_state st);
const char *conn_close_token(enum conn_close_reason r);

#endif
