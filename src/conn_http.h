/*
 * conn_http.h — private to the HTTP protocol (conn_http.c, conn_verify.c):
 * the per-exchange state and the functions its files share. The transport
 * (conn.c) knows none of it: it reaches HTTP through conn_proto_http.
 * Owning worker only.
 */
#ifndef REMORA_CONN_HTTP_H
#define REMORA_CONN_HTTP_H

#include "conn_int.h"
#include "dns.h"
#include "http/http.h"

/* Per-exchange HTTP state: allocated when a request head starts arriving and
 * released when the exchange ends, so idle keep-alive connections carry none. */
struct conn_http {
	struct http_msg req;
	struct http_msg rsp;
	struct http_body reqb;
	struct http_body rspb;
	uint8_t rsp_head_done; /* the final (non-1xx) response head has arrived */
	uint8_t logged;	       /* the access-log line of this exchange is out */
	char *replay;	       /* a copy of a bodiless GET/HEAD/OPTIONS sent on a reused upstream */
	uint32_t replay_len;
	uint8_t retried; /* the copy was resent on a fresh upstream connection */
	uint8_t held;	 /* the response's first bytes were held back once (hold_response) */
	/* histo_now() stamps: the head's first byte, the head complete (histo.h) */
	uint64_t t0_us, head_us;
	struct conn_vcheck v; /* [http] host_verify of this request's Host (name last) */
	/* for the access log (filled only when it is on) */
	uint64_t start_ms;    /* first byte of the request head */
	uint64_t bytes_start; /* c->bytes_out when the exchange began */
	char method[24];      /* "" until the request head is complete */
	char type[64];	      /* response Content-Type */
	char host[128];
	char url[CONN_LOG_URL_MAX];
	const struct alog_tls *tls; /* a TLS flow's line (conn_log_tls), else NULL */
};

extern const struct conn_proto conn_proto_http;

/* Answers the client with a generated status (Connection: close) instead of
 * anything from upstream, then lingers. Only before any response byte went
 * out; otherwise it just closes. */
/* conn_head.c: does a Via field of the head at p (len bytes) name us as
 * received-by? */
int conn_head_own_via(const char *p, size_t len, const char *name);
/* Under a name policy, does the request head at p (head_len bytes) offer
 * h2c (left out of the forwarded head; HTTP_F_UPGRADE is then cleared)? */
int conn_head_drop_h2c(struct conn *c, const char *p, uint32_t head_len);
/* Rebuilds the request head at p (head_len bytes) into c->pre; drop: the
 * answer of conn_head_drop_h2c. 0, or -1 when it does not fit. */
int conn_head_rewrite(struct conn *c, const char *p, uint32_t head_len, int drop);
enum conn_next conn_reply(struct conn *c, int status, enum conn_close_reason reason, int err);
/* Does the request head at p name a domain of [acl] deny_domains (its
 * absolute-form authority, else Host; for CONNECT its target)? */
int conn_http_denied(const struct conn *c, const char *p);
/* Answers a denied request: 451 with the operator's body, or a redirect. */
enum conn_next conn_http_deny(struct conn *c);
/* A new per-exchange state for c, or NULL (out of memory). */
struct conn_http *conn_http_new(struct conn *c);
/* Writes the access-log line of the exchange in c->h (once; no-op when the
 * log is off): code is Squid's result code, reason how the exchange ended,
 * unsent the bytes of the response still to go out. */
void conn_log_request(struct conn *c, const char *code, const char *reason, uint64_t unsent);
/* Copies span sp of p into out as a C string (cut to fit cap). */
void conn_copy_span(char *out, size_t cap, const char *p, struct http_span sp);
/* Records method, Host and path of the request head at p for the log line
 * (no-op when the log is off). */
void conn_log_capture_request(struct conn *c, const char *p);
/* Releases c->h (NULL-tolerant). */
void conn_http_free(struct conn *c);

/* The request passed its checks: to a new upstream connection, or out on the
 * kept one (UP_CONNECT, or EXCHANGE under the response timer). */
enum conn_next conn_http_to_upstream(struct conn *c);
enum conn_next conn_st_req_head(struct conn *c);
enum conn_next conn_st_exchange(struct conn *c);

/* The access-log line of a tunnel that carried no HTTP request. */
void conn_log_tunnel(struct conn *c, const char *reason);
/* The access-log line of a TLS flow (conn_tls.c). */
struct alog_tls;
void conn_log_tls(struct conn *c, const struct alog_tls *tls, const char *reason);

#endif
