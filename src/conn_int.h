/*
 * conn_int.h — private to conn.c and conn_http.c: the pieces of the state
 * machine both files use. Everything here runs on the owning worker only.
 */
#ifndef REMORA_CONN_INT_H
#define REMORA_CONN_INT_H

#include <sys/types.h>

#include "conn.h"

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
/* Answers the client with a generated status (Connection: close) instead of
 * anything from upstream, then lingers. Only before any response byte went
 * out; otherwise it just closes. */
enum conn_next conn_reply(struct conn *c, int status, enum conn_close_reason reason, int err);
/* Turns the connected c into a byte tunnel (non-HTTP, upgrade, CONNECT):
 * TCP keep-alive on both legs, [timeouts] tunnel. */
void conn_enter_tunnel(struct conn *c);
/* Closes c with a reset of the client connection (SO_LINGER 0), as a
 * refused or failed connection looks to a client that talks directly. */
void conn_reset(struct conn *c, enum conn_close_reason reason, int err);
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
/* A new per-exchange state for c, or NULL (out of memory). */
struct conn_http *conn_http_new(struct conn *c);
/* Writes the access-log line of the exchange in c->h (once; no-op when the
 * log is off): code is Squid's result code, reason how the exchange ended,
 * unsent the bytes of the response still to go out. */
void conn_log_request(struct conn *c, const char *code, const char *reason, uint64_t unsent);
/* Finds c's original destination once (cached in c->dst). 0 or -errno. */
int conn_lookup_dst(struct conn *c);
/* Releases c->h (NULL-tolerant). */
void conn_http_free(struct conn *c);

/* Keeps the Host name of the request head at p (no port, no brackets) in
 * c->h->vhost when [http] host_verify is on (conn_verify.c). */
void conn_capture_vhost(struct conn *c, const char *p);
/* Does the request in c->h need its Host checked (host_verify on)? */
int conn_needs_verify(const struct conn *c);
enum conn_next conn_st_verify(struct conn *c);
enum conn_next conn_st_req_head(struct conn *c);
enum conn_next conn_st_exchange(struct conn *c);

#endif
