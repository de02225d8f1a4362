/* sniff.c — first-bytes classifier: HTTP request, TLS record, or other (see http.h). */
#include <string.h>

#include "http/chars.h"
#include "http/http.h"

enum {
	SN_START, /* nothing seen yet */
	SN_TLS,	  /* 0x16: a TLS handshake record if 0x03 follows */
	SN_NOISE, /* CR/LF bytes before a request line (RFC 9112 2.2) */
	SN_TOKEN, /* inside what may be a method token */
	SN_H2,	  /* "PRI " at the start: may be the HTTP/2 connection preface */
	SN_LEAD,  /* SP / HTAB before what may be a method */
	SN_ODD,	  /* a token, then a byte some parsers split words at */
};

/* The HTTP/2 connection preface (RFC 9113 3.4): h2c with prior knowledge is
 * HTTP/2, not an HTTP/1 request line. */
static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define H2_PREFACE_LEN (sizeof(h2_preface) - 1)

void http_sniff_init(struct http_sniff *s)
{
	memset(s, 0, sizeof(*s));
}

static enum http_first decide(struct http_sniff *s, enum http_first v)
{
	s->verdict = (uint8_t)v;
	return v;
}

/* Longest method token (and CR/LF noise before it) still undecided: a
 * longer run is handed to the HTTP parser, which refuses it, so a client
 * cannot stay undecided (and out of the header timeout) by trickling bytes. */
#define SNIFF_MAX_RUN 64

/* Bytes that some origins take as the space between request-line words
 * (Python's http.server splits it with str.split()): after a token and
 * before a target, they make a request line for such an origin, so the
 * stream goes to the parser (which refuses it), not into a raw tunnel. */
static int odd_space(unsigned char ch)
{
	return ch == 0x0b || ch == 0x0c || (ch >= 0x1c && ch <= 0x1f) || ch == 0x85 || ch == 0xa0;
}

/* A byte before the method: CR/LF noise, SP / HTAB (" GET / HTTP/1.1" is
 * a request to the same origins), or the method's first byte. */
static enum http_first step_start(struct http_sniff *s, unsigned char ch)
{
	if (ch == '\r' || ch == '\n') {
		if (s->phase == SN_NOISE && ++s->n >= SNIFF_MAX_RUN)
			return decide(s, HTTP_FIRST_HTTP);
		if (s->phase == SN_START)
			s->n = 1;
		s->phase = SN_NOISE;
		return HTTP_FIRST_MORE;
	}
	if (ch == ' ' || ch == '\t') {
		if (s->phase == SN_LEAD && ++s->n >= SNIFF_MAX_RUN)
			return decide(s, HTTP_FIRST_HTTP);
		if (s->phase != SN_LEAD)
			s->n = 1;
		s->phase = SN_LEAD;
		return HTTP_FIRST_MORE;
	}
	if (!http_is_tchar(ch))
		return decide(s, HTTP_FIRST_OTHER);
	s->h2 = s->phase == SN_START && ch == 'P'; /* the preface has no noise */
	s->phase = SN_TOKEN;
	s->n = 1;
	return HTTP_FIRST_MORE;
}

/* One byte in state s->phase: the verdict, or HTTP_FIRST_MORE. */
static enum http_first step(struct http_sniff *s, unsigned char ch)
{
	switch (s->phase) {
	case SN_START:
		if (ch == 0x16) {
			s->phase = SN_TLS;
			return HTTP_FIRST_MORE;
		}
		return step_start(s, ch);
	case SN_NOISE:
		return step_start(s, ch);
	case SN_LEAD:
		/* after SP / HTAB: a method, or not HTTP (no more noise) */
		if (ch == ' ' || ch == '\t')
			return step_start(s, ch);
		if (!http_is_tchar(ch))
			return decide(s, HTTP_FIRST_OTHER);
		return step_start(s, ch);
	case SN_ODD:
		/* "GET<VT>/", "GET<VT>http://...", "OPTIONS<VT>*" */
		return decide(s, ch == '/' || ch == '*' || ch == 'h' || ch == 'H'
					 ? HTTP_FIRST_HTTP
					 : HTTP_FIRST_OTHER);
	case SN_TLS:
		return decide(s, ch == 0x03 ? HTTP_FIRST_TLS : HTTP_FIRST_OTHER);
	case SN_TOKEN:
		if (s->h2 && s->n < 4 && ch == (unsigned char)h2_preface[s->n]) {
			if (++s->n == 4)
				s->phase = SN_H2; /* "PRI " */
			return HTTP_FIRST_MORE;
		}
		s->h2 = 0;
		if (ch == ' ' || ch == '\t')
			return decide(s, HTTP_FIRST_HTTP); /* method SP: a request line */
		if (odd_space(ch)) {
			s->phase = SN_ODD;
			return HTTP_FIRST_MORE;
		}
		if (!http_is_tchar(ch))
			return decide(s, HTTP_FIRST_OTHER);
		if (++s->n >= SNIFF_MAX_RUN)
			return decide(s, HTTP_FIRST_HTTP);
		return HTTP_FIRST_MORE;
	case SN_H2:
		if (ch != (unsigned char)h2_preface[s->n])
			return decide(s, HTTP_FIRST_HTTP); /* "PRI " and then not the preface */
		if (++s->n == H2_PREFACE_LEN)
			return decide(s, HTTP_FIRST_OTHER);
		return HTTP_FIRST_MORE;
	default:
		return decide(s, HTTP_FIRST_OTHER);
	}
}

enum http_first http_sniff_feed(struct http_sniff *s, const char *p, size_t len)
{
	enum http_first v;
	size_t i;

	if (s->verdict != HTTP_FIRST_MORE)
		return (enum http_first)s->verdict;
	for (i = 0; i < len; i++) {
		v = step(s, (unsigned char)p[i]);
		if (v != HTTP_FIRST_MORE)
			return v;
	}
	return HTTP_FIRST_MORE;
}

int http_sniff_is_h2(const struct http_sniff *s)
{
	return s->verdict == HTTP_FIRST_OTHER && s->phase == SN_H2 && s->n == H2_PREFACE_LEN;
}

const char *http_first_name(enum http_first v)
{
	static const char *const names[] = {"undecided", "http", "tls", "other"};

	return v <= HTTP_FIRST_OTHER ? names[v] : "?";
}
