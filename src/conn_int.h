/*
 * conn_int.h — private to conn.c and conn_http.c: the pieces of the state
 * machine both files use. Everything here runs on the owning worker only.
 */
#ifndef REMORA_CONN_INT_H
#define REMORA_CONN_INT_H

#include <sys/types.h>

#include "conn.h"
#include "dns.h"

enum conn_next {
	CONN_NEXT_AGAIN,  /* the state changed: run the new one now */
	CONN_NEXT_WAIT,	  /* wait for readiness or a timer */
	CONN_NEXT_YIELD,  /* budget used up: run again after this event batch */
	CONN_NEXT_CLOSED, /* conn_close() was called */
};

/* Bytes a connection may move per direction per run before it yields. */
#define RELAY_BUDGET (256 * 1024)

void conn_set_state(struct conn *c, enum conn_state st);

/* Reads what fits into *bp (taken from the pool if needed). Returns bytes
 * read, 0 on EOF (sets s->eof), -EAGAIN when drained (clears s->readable), or
 * another -errno (-ENOMEM when no buffer could be had). */
ssize_t conn_read(struct conn *c, struct conn_side *s, struct buf **bp);
/* Writes (*bp)[start, lim) to s; gives the buffer back once it is empty.
 * Returns bytes written (0 if none were sendable), -EAGAIN when s is full
 * (clears s->writable), or another -errno. */
ssize_t conn_write(struct conn *c, struct conn_side *s, struct buf **bp);
/* conn_write to the client with MSG_MORE when more says the response goes on:
 * the kernel holds a last partial segment back until the next write, so a
 * head and the body behind it leave as one packet. Corked bytes are pushed
 * after CONN_CORK_MS at the latest (worker loop), or by the next write
 * without more, a shutdown or a close. */
ssize_t conn_write_more(struct conn *c, struct conn_side *s, struct buf **bp, int more);

/* Ends the connection gracefully: flush what is sendable to the client, shut
 * its write side, discard its input until it closes (or the linger timer),
 * then close with reason. Returns the next step. */
enum conn_next conn_linger(struct conn *c, enum conn_close_reason reason, int err);
/* conn_abort.c: one leg reset (reason, err) while bytes were in flight; the
 * other (to) gets what Remora holds for it (buffers and pipe), then, once
 * its send queue drained (at most CONFIG_LINGER_MS), a reset. What is held
 * for the leg that reset is dropped. The ABORT state and its timers. */
enum conn_abort_to {
	CONN_ABORT_CLIENT,   /* the origin reset: the client is reset */
	CONN_ABORT_UPSTREAM, /* the client reset: the origin is reset */
};
enum conn_next conn_abort(struct conn *c, enum conn_abort_to to, enum conn_close_reason reason,
			  int err);
enum conn_next conn_st_abort(struct conn *c);
void conn_abort_timeout(struct conn *c, enum conn_timer t);
/* A read from or write to the client failed with err (an errno): ENOMEM
 * (no buffer) closes c; any other error is the client's connection ending
 * (a reset): with a tunnel or an exchange open upstream the origin gets the
 * client's bytes Remora holds, then a reset (ABORT); with nothing open, or
 * a kept-alive upstream between exchanges, c closes. Returns the next step. */
enum conn_next conn_client_failed(struct conn *c, int err);
/* For a state that is not reading the client when an error was reported
 * (cli.failed): takes the pending error (SO_ERROR, which clears it) and, if
 * there is one, ends c as conn_client_failed does. Returns 1 with *next set
 * when it did, 0 when no error was pending. */
int conn_client_error(struct conn *c, enum conn_next *next);
/* Turns the connected c into a byte tunnel (non-HTTP, upgrade, CONNECT):
 * TCP keep-alive on both legs, [timeouts] tunnel. */
void conn_enter_tunnel(struct conn *c);
/* Closes c with a reset of the client connection (SO_LINGER 0), as a
 * refused or failed connection looks to a client that talks directly. */
void conn_reset(struct conn *c, enum conn_close_reason reason, int err);
/* Closes the upstream leg with a reset (SO_LINGER 0); the client leg stays. */
void conn_reset_upstream(struct conn *c);
/* conn_first.c: the FIRST_BYTES state; [timeouts] first_bytes expired; a
 * sniffing tunnel's client direction (0: flows as in any tunnel, 1: held,
 * -1: *next set). */
enum conn_next conn_st_first_bytes(struct conn *c);
void conn_first_bytes_timeout(struct conn *c);
int conn_tunnel_sniff(struct conn *c, enum conn_next *next);
/* Closes the upstream leg only (the client leg stays). */
void conn_close_upstream(struct conn *c);
/* Ends a finished upstream connection: a reset once the origin's FIN is in
 * (nothing more can come), else kept open through LINGER until that FIN
 * (conn_linger closes it in order if it never comes). */
void conn_finish_upstream(struct conn *c);
/* Finds c's original destination once (cached in c->dst). 0 or -errno. */
int conn_lookup_dst(struct conn *c);
/*
 * A protocol above the transport (docs/architecture.md): HTTP, or the byte
 * tunnel. The first bytes choose one (conn_first.c); conn.c drives sockets,
 * timers and closes and reaches the protocol only through this table, so it
 * never names a protocol's states or functions. Tables are registered per
 * worker (worker_init) and never change. Owning worker only.
 */
typedef enum conn_next (*conn_state_fn)(struct conn *c);

/* A name the client gave (HTTP Host, TLS SNI) checked against the flow's
 * original destination ([http] host_verify, conn_verify.c). A protocol
 * embeds one in its per-flow state. */
struct conn_vcheck {
	uint8_t state;	  /* 0 not yet, 1 waiting, 2 answered, 3 an address */
	uint8_t match;	  /* the answer holds the original destination */
	uint8_t failed;	  /* state 2: the lookup failed (no answer) */
	uint8_t unusable; /* a name was given that cannot be looked up: fails */
	struct dns_waiter waiter;
	struct conn *conn; /* back pointer for the DNS callback */
	char name[256];	   /* the name to check ("" = nothing to check) */
};

/* Prepares v for c (its name empty). */
void conn_vcheck_init(struct conn_vcheck *v, struct conn *c);
/* Sets the name to check from host[0..len) (a port and IPv6 brackets are
 * dropped); leaves it empty when host_verify is off or len is 0. A name that
 * cannot be looked up (too long, empty before its port, an unclosed '[')
 * is marked unusable: its check fails, as a failed lookup does. */
void conn_vcheck_set(struct conn_vcheck *v, const struct config *cfg, const char *host, size_t len);
/* Marks that a name was given but cannot be checked (a TLS server name that
 * is not a valid DNS name): with host_verify on, the check fails. */
void conn_vcheck_set_unusable(struct conn_vcheck *v, const struct config *cfg);
/* Is there a name to check? */
int conn_vcheck_pending(const struct conn_vcheck *v, const struct config *cfg);
/* Drops a lookup still out (the flow is closing). */
void conn_vcheck_cancel(struct conn_vcheck *v);
/* The VERIFY state, shared by the protocols that check a name. */
enum conn_next conn_st_verify(struct conn *c);

struct conn_proto {
	const char *name;
	/* the protocol's own states, indexed by enum conn_state (NULL elsewhere) */
	const conn_state_fn *states;
	/* the first bytes chose this protocol: its first state */
	enum conn_next (*start)(struct conn *c);
	/* RESOLVE passed (destination, loop guard, ACL): the next state */
	enum conn_next (*resolved)(struct conn *c);
	/* the upstream connection is up: the next state */
	enum conn_next (*connected)(struct conn *c);
	/* refuse in the protocol's own way (HTTP: a status page; a tunnel: a
	 * close, or a reset for a failed connect) */
	enum conn_next (*refuse)(struct conn *c, int status, enum conn_close_reason reason,
				 int err);
	/* the protocol's name check (VERIFY state), or NULL if it has none */
	struct conn_vcheck *(*vcheck)(struct conn *c);
	/* the name check passed (or is only logged): the next state */
	enum conn_next (*verified)(struct conn *c);
	/* timer t expired: 1 when the protocol handled it, 0 for the default */
	int (*timeout)(struct conn *c, enum conn_timer t);
	/* c is closing with reason: its access-log line, if one is owed */
	void (*log_close)(struct conn *c, enum conn_close_reason reason);
	/* releases the protocol's per-exchange state (NULL-tolerant) */
	void (*release)(struct conn *c);
};

/* Switches c to protocol id (its table from the worker). */
void conn_set_proto(struct conn *c, enum conn_proto_id id);
/* The tunnel protocol (conn_first.c) and TLS (conn_tls.c). */
extern const struct conn_proto conn_proto_tunnel;
extern const struct conn_proto conn_proto_tls;

#endif
