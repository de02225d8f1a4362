/*
 * conn_head.c — a request head rebuilt before it goes upstream (into c->pre):
 * absolute-form to origin-form under [http] absolute_form = rewrite, a Via
 * entry, an h2c upgrade offer left out under a name policy; and the Via loop
 * check. The bytes not named here are copied as they came.
 */
#include "remora-config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conn_http.h"
#include "worker.h"

/* Does a Via field of the head at p (len bytes) name us as received-by? */
int conn_head_own_via(const char *p, size_t len, const char *name)
{
	const char *e = p + len, *line, *eol, *q, *t;
	size_t nlen = strlen(name);

	for (line = p; line < e; line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(e - line));
		if (eol == NULL)
			break;
		if (eol - line < 4 || strncasecmp(line, "via:", 4) != 0)
			continue;
		/* Via = #( received-protocol RWS received-by [ RWS comment ] ) */
		for (q = line + 4; q < eol;) {
			while (q < eol && (*q == ' ' || *q == '\t' || *q == ','))
				q++;
			while (q < eol && *q != ' ' && *q != '\t' && *q != ',')
				q++; /* received-protocol */
			while (q < eol && (*q == ' ' || *q == '\t'))
				q++;
			for (t = q; q < eol && *q != ' ' && *q != '\t' && *q != ',' && *q != '\r';)
				q++;
			if ((size_t)(q - t) == nlen && strncasecmp(t, name, nlen) == 0)
				return 1;
			while (q < eol && *q != ',')
				q++; /* comment */
		}
	}
	return 0;
}

static int put(struct buf *b, const char *p, size_t n)
{
	if (n > buf_room(b))
		return -1;
	memcpy(b->data + b->end, p, n);
	b->end += (uint32_t)n;
	return 0;
}

/* Does the field line [l, e) (its line end included) offer h2c? Any
 * Upgrade value with "h2c" in it, in any case, counts: origins read the
 * list their own way (Hypercorn strips NBSP, NEL and other Unicode spaces
 * around the whole value and upgrades without Connection: Upgrade; others
 * may drop a "/version" or parameters), and no other protocol name has
 * those letters. The head passed the strict request parser: no whitespace
 * before the colon, no obs-fold. */
static int offers_h2c(const char *l, const char *e)
{
	if (e - l < 8 || strncasecmp(l, "upgrade:", 8) != 0)
		return 0;
	for (l += 8; e - l >= 3; l++)
		if (strncasecmp(l, "h2c", 3) == 0)
			return 1;
	return 0;
}

/* The next line of [l, e) after l, or e. */
static const char *next_line(const char *l, const char *e)
{
	const char *n = memchr(l, '\n', (size_t)(e - l));

	return n != NULL ? n + 1 : e;
}

/* The field lines of the request head at p (head_len bytes): [*first, *end). */
static void field_lines(const struct http_msg *m, const char *p, uint32_t head_len,
			const char **first, const char **end)
{
	*first = next_line(p + m->method.off, p + head_len);
	*end = p + head_len - (p[head_len - 2] == '\r' ? 2 : 1);
}

int conn_head_drop_h2c(struct conn *c, const char *p, uint32_t head_len)
{
	struct http_msg *m = &c->h->req;
	const char *l, *e;
	int any = 0;

	if (!(m->flags & HTTP_F_UPGRADE) || !config_name_policy(c->cfg))
		return 0;
	field_lines(m, p, head_len, &l, &e);
	for (; l < e; l = next_line(l, e))
		any |= offers_h2c(l, next_line(l, e));
	if (any)
		m->flags &= ~HTTP_F_UPGRADE; /* (every Upgrade field, if several) */
	return any;
}

/* Copies the field lines [l, e) of m at p, leaving out the Host line when
 * skip_host, and with drop set the Upgrade lines offering h2c. */
static int put_fields(struct buf *b, const char *p, const struct http_msg *m, const char *l,
		      const char *e, int skip_host, int drop)
{
	const char *from = l, *n;
	int r = 0;

	for (; l < e; l = n) {
		n = next_line(l, e);
		if (!(skip_host && m->host_field >= 0 && l == p + m->host_line.off) &&
		    !(drop && offers_h2c(l, n)))
			continue;
		r |= put(b, from, (size_t)(l - from));
		from = n;
	}
	return r | put(b, from, (size_t)(e - from));
}

/* Rebuilds the request head at p into c->pre: with [http] absolute_form =
 * rewrite, absolute-form becomes origin-form with Host set to the target's
 * authority (RFC 9112 3.2.2); with via on a Via entry is added; with drop
 * the Upgrade lines offering h2c are left out (conn_head_drop_h2c). Other
 * bytes are copied unchanged. */
int conn_head_rewrite(struct conn *c, const char *p, uint32_t head_len, int drop)
{
	const struct http_msg *m = &c->h->req;
	const struct config *cfg = c->cfg;
	const int skip_host = (m->flags & HTTP_F_ABSOLUTE_FORM) && cfg->absolute_form_rewrite;
	const char *fields, *blank;
	struct buf *b = buf_get(&c->w->bufs);
	char line[256];
	int n, r = 0;

	field_lines(m, p, head_len, &fields, &blank);
	if (b == NULL)
		return -1;
	if (head_len + sizeof(line) > b->cap &&
	    buf_grow(&c->w->bufs, &b, head_len + sizeof(line))) {
		buf_put(&c->w->bufs, b);
		return -1;
	}
	if (skip_host) {
		r |= put(b, p + m->method.off, m->method.len + 1);
		if (m->path.len == 0 || p[m->path.off] != '/')
			r |= put(b, "/", 1); /* "http://h?q" means "/?q" */
		r |= put(b, p + m->path.off, m->path.len);
		n = snprintf(line, sizeof(line), " HTTP/1.%u\r\n", m->minor);
		r |= put(b, line, (size_t)n);
		r |= put(b, "Host: ", 6);
		r |= put(b, p + m->authority.off, m->authority.len);
		r |= put(b, "\r\n", 2); /* (the old Host line is left out) */
	} else {
		r |= put(b, p + m->method.off, (size_t)(fields - (p + m->method.off)));
	}
	r |= put_fields(b, p, m, fields, blank, skip_host, drop);
	if (cfg->via) {
		n = snprintf(line, sizeof(line), "Via: 1.%u %s\r\n", m->minor, cfg->via_name);
		r |= put(b, line, (size_t)n);
	}
	r |= put(b, "\r\n", 2);
	if (r != 0) {
		buf_put(&c->w->bufs, b);
		return -1;
	}
	b->lim = b->end;
	c->pre = b;
	return 0;
}
