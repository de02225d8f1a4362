/*
 * conn_log.c — the access-log line of an HTTP exchange or a tunnel (Squid or
 * JSON format, written by accesslog.c's per-worker ring), and the
 * per-exchange state whose log part is filled only when the log is on.
 * Owning worker only.
 */
#include "remora-config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "accesslog.h"
#include "conn_http.h"
#include "worker.h"

/* The per-exchange state; the access-log part only when the log is on (it
 * is most of the size, and a request should not pay for zeroing it). */
struct conn_http *conn_http_new(struct conn *c)
{
	size_t base = offsetof(struct conn_http, start_ms);
	int logging = alog_enabled(c->w->alog);
	struct conn_http *h = malloc(logging ? sizeof(*h) : base);

	if (h == NULL)
		return NULL;
	memset(h, 0, offsetof(struct conn_http, v)); /* v.name: a string, set below */
	conn_vcheck_init(&h->v, c);
	if (logging) {
		h->start_ms = c->w->now;
		h->bytes_start = c->bytes_out;
		h->method[0] = h->type[0] = h->host[0] = h->url[0] = '\0';
		h->tls = NULL;
	}
	return h;
}

/* Copies span s of p into out as a C string (cut to fit). */
void conn_copy_span(char *out, size_t cap, const char *p, struct http_span s)
{
	size_t n = s.len < cap - 1 ? s.len : cap - 1;

	memcpy(out, p + s.off, n);
	out[n] = '\0';
}

/* Records method, Host and path (without query terms) for the log line;
 * the URL is put together when the line is written, when the original
 * destination (for requests without Host) is known. */
void conn_log_capture_request(struct conn *c, const char *p)
{
	struct conn_http *h = c->h;
	const struct http_msg *m = &h->req;
	struct http_span path = m->flags & HTTP_F_ABSOLUTE_FORM ? m->path : m->target;
	const char *q = memchr(p + path.off, '?', path.len);

	if (!alog_enabled(c->w->alog))
		return;
	if (q != NULL)
		path.len = (uint32_t)(q - (p + path.off));
	conn_copy_span(h->method, sizeof(h->method), p, m->method);
	if (m->flags & HTTP_F_ABSOLUTE_FORM)
		conn_copy_span(h->host, sizeof(h->host), p, m->authority);
	else if (m->host_field >= 0 && m->host.len > 0)
		conn_copy_span(h->host, sizeof(h->host), p, m->host);
	h->url[0] = '/'; /* "http://h?q" and an empty path both mean "/" */
	conn_copy_span(h->url + (path.len == 0 || p[path.off] != '/'), sizeof(h->url) - 1, p, path);
}

void conn_log_request(struct conn *c, const char *code, const char *reason, uint64_t unsent)
{
	struct conn_http *h = c->h;
	char client[INET6_ADDRSTRLEN], peer[INET6_ADDRSTRLEN] = "-", dst[IC_ADDR_STRLEN] = "-";
	char url[CONN_LOG_URL_MAX + 160];
	int known = conn_lookup_dst(c) == 0;
	struct alog_entry e;

	if (!alog_enabled(c->w->alog) || h == NULL || h->logged)
		return;
	h->logged = 1;
	ic_addr_format_ip(&c->peer, client, sizeof(client));
	if (known) {
		ic_addr_format(&c->dst, dst, sizeof(dst));
		if (strcmp(code, "NONE_NONE") != 0)
			ic_addr_format_ip(&c->dst, peer, sizeof(peer));
	}
	if (h->method[0] == '\0')
		snprintf(url, sizeof(url), "error:invalid-request");
	else if (h->url[0] == '\0' && h->tls != NULL && h->tls->sni[0] != '\0' && known)
		snprintf(url, sizeof(url), "%s:%u", h->tls->sni, ic_addr_port(&c->dst));
	else if (h->url[0] == '\0') /* a tunnel: where it went */
		snprintf(url, sizeof(url), "%s", dst);
	else if (h->host[0] != '\0')
		snprintf(url, sizeof(url), "http://%s%s", h->host, h->url);
	else if (known && ic_addr_port(&c->dst) == 80)
		snprintf(url, sizeof(url), "http://%s%s", peer[0] != '-' ? peer : dst, h->url);
	else
		snprintf(url, sizeof(url), "http://%s%s", dst, h->url);
	e = (struct alog_entry){
		.elapsed_ms = c->w->now - h->start_ms,
		.client = client,
		.code = code,
		.status = c->status,
		.bytes = c->bytes_out - h->bytes_start + unsent,
		.method = h->method[0] ? h->method : "NONE",
		.url = url,
		.peer = peer,
		.type = h->type[0] ? h->type : "-",
		.orig_dst = dst,
		.host = h->host[0] ? h->host : "-",
		.close_reason = reason,
		.worker = c->w->id,
		.tls = h->tls,
	};
	alog_line(c->w->alog, c->w->id, &e);
}

/* A tunnel's line: method NONE and the destination, or for TLS (tls set)
 * CONNECT, status 200 and the SNI, as Squid logs peek and splice (a flow
 * refused by policy: NONE_NONE/000, answered by Remora, no status sent). */
static void log_tunnel(struct conn *c, const struct alog_tls *tls, const char *reason)
{
	struct conn_http *h = conn_http_new(c);

	if (h == NULL)
		return;
	h->start_ms = c->start_ms;
	h->bytes_start = 0;
	snprintf(h->method, sizeof(h->method), tls != NULL ? "CONNECT" : "NONE");
	h->url[0] = '\0'; /* the log shows the destination */
	h->tls = tls;
	if (tls != NULL) {
		c->status = tls->denied ? 0 : 200;
		snprintf(h->host, sizeof(h->host), "%s", tls->sni);
	}
	c->h = h;
	conn_log_request(c, tls != NULL && tls->denied ? "NONE_NONE" : "TCP_TUNNEL", reason, 0);
	conn_http_free(c);
}

void conn_log_tunnel(struct conn *c, const char *reason)
{
	log_tunnel(c, NULL, reason);
}

void conn_log_tls(struct conn *c, const struct alog_tls *tls, const char *reason)
{
	log_tunnel(c, tls, reason);
}
