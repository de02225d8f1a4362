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
#include "dns.h"
#include "pipe.h"
#include "config.h"
#include "http/http.h"
#include "intercept/intercept.h"

/* The states, in the order a request goes through them. */
#define CONN_STATES(X)                                                                 \
	X(FIRST_BYTES, "waiting for the first bytes (HTTP, TLS or other)")             \
	X(REQ_HEAD, "reading request head")                                            \
	X(TLS_HELLO, "reading the TLS ClientHello")                                    \
	X(RESOLVE, "finding the original destination")                                 \
	X(VERIFY, "verifying a name against the original destination")                 \
	X(UP_CONNECT, "connecting upstream (transparent)")                             \
	X(TLS_FLIGHT, "relaying the ClientHello until the server answers it")          \
	X(EXCHANGE, "relaying request and response")                                   \
	X(TUNNEL, "tunnelling bytes")                                                  \
	X(LINGER, "[closing] flushing, then discarding input until the client closes") \
	X(ABORT, "[closing] delivering a reset peer's last bytes, then resetting")     \
	X(CLOSED, "closed")

#define CONN_ST_ENUM(name, desc) CONN_ST_##name,
enum conn_state { CONN_STATES(CONN_ST_ENUM) CONN_ST_MAX };
#undef CONN_ST_ENUM

/* Why a connection ended: feeds the error log, metrics and the access log.
 * X(enum, token, log level, description) */
#define CONN_CLOSE_REASONS(X)                                                                      \
	X(NONE, "none", LOG_ERROR, "not closed")                                                   \
	X(DONE, "done", LOG_DEBUG, "finished")                                                     \
	X(CLIENT_EMPTY, "client-empty", LOG_DEBUG, "client closed before sending anything")        \
	X(KEEPALIVE_END, "keepalive-end", LOG_DEBUG,                                               \
	  "client closed an idle keep-alive connection")                                           \
	X(CLIENT_EOF, "client-eof", LOG_INFO, "client closed in the middle of a request")          \
	X(CLIENT_RESET, "client-reset", LOG_DEBUG, "client connection reset")                      \
	X(CLIENT_HEADER_TIMEOUT, "client-header-timeout", LOG_INFO,                                \
	  "client sent no complete request head in time")                                          \
	X(BAD_REQUEST, "bad-request", LOG_INFO, "invalid request (answered with its status)")      \
	X(METHOD_NOT_ALLOWED, "method-not-allowed", LOG_INFO,                                      \
	  "CONNECT on an intercept port (405)")                                                    \
	X(VIA_LOOP, "via-loop", LOG_WARN, "request already carries our own Via entry (508)")       \
	X(NON_HTTP_REJECTED, "non-http-rejected", LOG_INFO,                                        \
	  "not HTTP and non_http = reject, or not readable under a name policy")                   \
	X(LATE_HTTP, "late-http", LOG_INFO,                                                        \
	  "a tunnel's first line turned out to be an HTTP request after bytes had moved")          \
	X(HOST_MISMATCH, "host-mismatch", LOG_INFO,                                                \
	  "Host or SNI does not resolve to the original destination")                              \
	X(ACL_DENIED, "acl-denied", LOG_INFO, "refused by [acl] (403)")                            \
	X(ORIG_DST_FAILED, "orig-dst-failed", LOG_WARN, "original destination lookup failed")      \
	X(LOOP_GUARD, "loop-guard", LOG_WARN,                                                      \
	  "original destination is one of Remora's own listeners (loop guard)")                    \
	X(DST_FORBIDDEN, "dst-forbidden", LOG_WARN,                                                \
	  "original destination is the box itself, loopback, link-local or multicast")             \
	X(UPSTREAM_SOCKET, "upstream-socket", LOG_WARN,                                            \
	  "cannot create or bind the transparent upstream socket")                                 \
	X(UPSTREAM_REFUSED, "upstream-refused", LOG_INFO, "upstream refused the connection")       \
	X(UPSTREAM_UNREACHABLE, "upstream-unreachable", LOG_INFO, "upstream unreachable")          \
	X(UPSTREAM_CONNECT_FAILED, "upstream-connect-failed", LOG_INFO, "upstream connect failed") \
	X(CONNECT_TIMEOUT, "connect-timeout", LOG_INFO, "upstream connect timed out")              \
	X(RESPONSE_TIMEOUT, "response-timeout", LOG_INFO,                                          \
	  "the response did not start or move on in time")                                         \
	X(UPSTREAM_RESET, "upstream-reset", LOG_INFO, "upstream connection reset")                 \
	X(UPSTREAM_EOF, "upstream-eof", LOG_INFO,                                                  \
	  "upstream closed before the response was complete")                                      \
	X(BAD_RESPONSE, "bad-response", LOG_INFO, "invalid response from upstream")                \
	X(IDLE_TIMEOUT, "idle-timeout", LOG_DEBUG, "no bytes moved within the idle timeout")       \
	X(NO_MEMORY, "no-memory", LOG_WARN, "out of memory")                                       \
	X(POLLER, "poller", LOG_WARN, "cannot register with the poller")                           \
	X(SHUTDOWN, "shutdown", LOG_INFO, "still open when the drain time ran out")

#define CONN_CLOSE_ENUM(name, token, lvl, desc) CONN_CLOSE_##name,
enum conn_close_reason { CONN_CLOSE_REASONS(CONN_CLOSE_ENUM) CONN_CLOSE_MAX };
#undef CONN_CLOSE_ENUM

/* Which per-phase timeout a connection is waiting under. */
enum conn_timer {
	CONN_TIMER_HEADER,   /* [timeouts] client_header: a request head is arriving */
	CONN_TIMER_CONNECT,  /* [timeouts] connect */
	CONN_TIMER_RESPONSE, /* [timeouts] response: waiting for the response head */
	CONN_TIMER_IDLE,     /* [timeouts] idle: keep-alive between requests */
	CONN_TIMER_LINGER,   /* fixed: closing gracefully */
	CONN_TIMER_FIRST,    /* [timeouts] first_bytes: a new client's silence becomes a tunnel */
	CONN_TIMER_TUNNEL,   /* [timeouts] tunnel: a byte tunnel (or upgrade) with no traffic */
	CONN_TIMER_QUIET,    /* a tunnel's first CONFIG_TUNNEL_QUIET_MS of quiet: then keep-alive */
	CONN_TIMER_QUIET_REST, /* the rest of [timeouts] tunnel after CONN_TIMER_QUIET */
	CONN_TIMER_ABORT,      /* fixed: ABORT looks again whether the client's queue drained */
	CONN_TIMER_MAX
};

/* Longest a response's first bytes wait for the rest of its body (held in the
 * relay buffer), or bytes sent with MSG_MORE wait in the kernel, before the
 * worker sends them anyway. */
#define CONN_CORK_MS 1

/* Longest URL the access log keeps (query terms are never logged). */
#define CONN_LOG_URL_MAX 2048

/* Connection flags (conn.flags). */
#define CONN_F_TUNNEL	   0x01u   /* not HTTP (or upgraded): bytes relayed as they are */
#define CONN_F_RSP_STARTED 0x02u   /* response bytes went to the client this exchange */
#define CONN_F_SERVED	   0x04u   /* at least one exchange completed */
#define CONN_F_UP_REUSED   0x08u   /* this exchange runs on a kept-alive upstream */
#define CONN_F_CLOSE_AFTER 0x10u   /* no keep-alive after this exchange */
#define CONN_F_UP_WR_SHUT  0x20u   /* upstream write side is shut or broken */
#define CONN_F_RESOLVED	   0x40u   /* RESOLVE passed: destination, loop guard, ACL */
#define CONN_F_CORKED	   0x80u   /* response bytes sent with MSG_MORE wait in the kernel */
#define CONN_F_SNIFFING	   0x100u  /* tunnel: the client's first line is still being classified */
#define CONN_F_COMMITTED   0x200u  /* sniffing tunnel: held prefix bytes went upstream */
#define CONN_F_KEEPALIVE   0x400u  /* tunnel: TCP keep-alive is on for both legs */
#define CONN_F_SPLICE_C2U  0x800u  /* tunnel: client bytes carry bulk, move by splice() */
#define CONN_F_SPLICE_U2C  0x1000u /* tunnel: upstream bytes carry bulk, move by splice() */
#define CONN_F_ABORT_UP	   0x2000u /* ABORT delivers to the origin (the client reset) */

struct conn;
struct conn_http;
struct conn_proto;
struct conn_tls;
struct worker;

/* The protocols above the transport, chosen by a connection's first bytes. */
enum conn_proto_id { CONN_PROTO_TUNNEL, CONN_PROTO_HTTP, CONN_PROTO_TLS, CONN_PROTO_MAX };

/* One leg (client or upstream). udata for the poller is the side itself. */
struct conn_side {
	uint8_t kind; /* POLL_KIND_CONN (dns.h): the poller udata's first byte */
	int fd;
	uint8_t readable; /* edge-triggered readiness not yet consumed */
	uint8_t writable;
	uint8_t eof;	    /* read returned 0 */
	uint8_t shut;	    /* we have shut down writing on this fd */
	uint8_t hup;	    /* the peer closed (or failed): EOF is queued behind the data */
	uint8_t failed;	    /* an error (or a full hang-up) was reported: see SO_ERROR */
	uint8_t registered; /* in the worker's poller (the client's: by the acceptor) */
	uint8_t out_armed;  /* POLLER_OUT is asked for (the client's: once a write blocked) */
	struct conn *c;
};

struct conn {
	struct cds_wfcq_node qnode; /* acceptor → worker hand-off */
	struct cds_list_head tlink; /* in the worker's queue for c->timer */
	struct cds_list_head clink; /* in the worker's corked list (CONN_F_CORKED) */
	struct conn *next_dead;	    /* freed at the end of the event batch */
	struct conn *next_pending;  /* ran out of budget: run again this loop */
	struct worker *w;
	struct config *cfg;		/* the configuration it started under (a reference) */
	uint32_t *client_slot;		/* per-client count to drop when it ends, or NULL */
	const struct listener_conf *lc; /* in cfg */
	struct conn_side cli, up;
	struct buf *c2u, *u2c;		/* client→upstream, upstream→client; NULL when empty */
	struct buf *pre;		/* rewritten request head, sent upstream before c2u */
	const struct conn_proto *proto; /* HTTP or the tunnel: set by the first bytes */
	struct conn_http *h;		/* HTTP state of the exchange in progress, else NULL */
	struct conn_tls *tls;		/* TLS: the ClientHello read, else NULL */
	struct rpipe *pipe;		/* bytes to the client in flight by splice(), else NULL */
	struct rpipe *pipe_c2u;		/* tunnel: client bytes in flight by splice(), else NULL */
	uint64_t deadline;
	uint64_t cork_deadline; /* now_us() when corked bytes must go out */
	uint64_t id;
	union ic_addr peer, dst;
	uint32_t requests;  /* request heads seen on this connection */
	uint64_t bytes_out; /* bytes sent to the client, for the access log */
	uint64_t bytes_in;  /* bytes read from the client */
	uint64_t start_ms;  /* when the worker took the connection */
	uint16_t status;    /* status of the last response head (ours or upstream's) */
	uint8_t state;
	uint8_t reason;
	uint8_t timer;
	uint8_t pending;
	uint8_t queued;	      /* may still be in the hand-off queue: not freed until taken */
	uint8_t free_on_take; /* closed and freed (conn_free) while queued */
	uint16_t flags;
	struct http_sniff sniff; /* first-bytes classifier (FIRST_BYTES, sniffing tunnels) */
	uint8_t close_state;	 /* state in which the close was decided (for the log) */
	uint8_t up_wait_fin;	 /* LINGER keeps the finished upstream until the origin's FIN */
	uint64_t reset_by;	 /* ABORT: w->now when the leg is reset whatever it holds */
	int err;		 /* errno detail of the close: > 0 errno, < 0 -enum http_error */
	/* histo_now() when the upstream connect began (histo.h) */
	uint64_t up_start_us;
};

/* Allocates a conn for an accepted fd (acceptor thread). NULL on ENOMEM. */
struct conn *conn_new(int fd, const union ic_addr *peer, const struct listener_conf *lc,
		      struct config *cfg);
/* Closes and frees a conn that was never handed to a worker (acceptor). */
void conn_free_unstarted(struct conn *c);
/* Takes ownership of c in worker w and starts it (owning worker only). */
void conn_start(struct worker *w, struct conn *c);
/* Handles readiness on one side (w: the worker whose poller reported it).
 * A conn whose first event came before the worker took it from the queue
 * is started here (the queue then skips it). Owning worker only. */
void conn_on_event(struct worker *w, struct conn_side *s, uint32_t events);
/* A write on s would block: readiness to write is asked for (the client's
 * fd is registered without it until the first time this happens). */
void conn_write_blocked(struct conn *c, struct conn_side *s);
/* Runs the state machine until it must wait (owning worker only). */
void conn_run(struct conn *c);
/* Closes both legs now with a reason (errno detail err, or 0), logs it when
 * the reason's level is enabled, and queues c to be freed at the end of the
 * batch. Idempotent. Owning worker only. */
void conn_close(struct conn *c, enum conn_close_reason reason, int err);
/* Frees a closed conn (owning worker, end of batch); one still in the
 * hand-off queue (the acceptor may be linking it) is freed when taken. */
void conn_free(struct conn *c);
/* Arms timer t from now (owning worker only). */
void conn_timer_arm(struct conn *c, enum conn_timer t);
/* Timer t expired: close, or answer 408/504 first (owning worker only). */
void conn_timeout(struct conn *c, enum conn_timer t);
/* Puts c on its worker's corked list (CONN_F_CORKED) until CONN_CORK_MS from
 * now, unless it is there already (owning worker only). */
void conn_cork(struct conn *c);
/* Takes c off its worker's corked list; push: make the kernel send the bytes
 * held back by MSG_MORE now (owning worker only). */
void conn_uncork(struct conn *c, int push);
/* c's cork time ran out: send whatever it holds back (owning worker only). */
void conn_cork_expired(struct conn *c);

const char *conn_state_name(enum conn_state st);
const char *conn_close_token(enum conn_close_reason r);

#endif
