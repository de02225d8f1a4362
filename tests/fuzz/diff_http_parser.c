/*
 * diff_http_parser.c — differential check of Remora's HTTP/1.x framing
 * (src/http: http_parse, http_body_*) against nodejs http-parser 2.9
 * (Debian libhttp-parser-dev), used only as a test oracle. docs/http.md,
 * "Differential check", says how to run it and lists what it found.
 *
 *   diff_http_parser [-r RULES] [-b KNOWN_BUGS] [-u] [-v] [-l] [-x N]
 *                    [-q|-s|-a] PATH...
 *   diff_http_parser --selftest
 *
 * Inputs: each file (directories are walked, sorted) is one input in the
 * fuzz corpus layout: the first byte is the fuzz targets' control byte and
 * is skipped; for a response its low bit says "answers a HEAD request" (as
 * in fuzz_response.c). Every input runs as a request; the paths after -s
 * also run as a response, those after -q do not, and after -a (the default)
 * a path with "response" in its name does.
 *
 * Messages: both parsers read the whole input; message by message (requests
 * pipelined on a kept-alive connection; interim 1xx responses, then the
 * final one) the verdicts are compared in this order, and the first
 * disagreement is the difference:
 *   head      accept | incomplete | the error (HTTP_ERR_* without the
 *             prefix, or HPE_*); one side rejecting while the other still
 *             waits for the head is "undecided", not a difference
 *   head-end  offset after the head (both accepted)
 *   framing   none | length | chunked | close
 *   length    the Content-Length (both framed by length)
 *   body      accept | the error
 *   body-end  offset after the message, or "incomplete"
 *
 * Rules: a difference is looked up in RULES (differences.txt: the intended
 * differences), then in KNOWN_BUGS (diff_known_bugs.txt: reported, not
 * failed). Exit 0 when every difference is covered (with -u: and every rule
 * matched some input), 1 otherwise (unlisted differences are printed with
 * their input, escaped), 2 on usage or I/O errors.
 *
 * Options: -v prints every difference and each rule's first example; -l runs
 * Remora with [http] lenient_bare_lf = on; -x N prints at most N unlisted
 * differences (default 50).
 *
 * Remora runs with src/worker.c's default limits (requests: request line
 * 8192, head 16384, 100 fields; responses: head 16384 = buffer_size, 1000
 * fields). http_parser is fed one byte at a time, so that each callback
 * knows its offset; it is told when a response answers HEAD, as its API
 * requires of the caller.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <http_parser.h>

#include "http/http.h"

#define MAX_MSGS   16
#define MAX_RULES  128
#define INPUT_MAX  (1 << 20)
#define TOK	   48
#define SHOW_BYTES 600

static const char *const remora_err_names[] = {
#define ERR_NAME(name, status, desc) #name,
	HTTP_ERRORS(ERR_NAME)
#undef ERR_NAME
};

/* -l sets .lenient to HTTP_LENIENT_BARE_LF ([http] lenient_bare_lf = on) */
static struct http_limits req_limits = {
	.max_line = 8192, .max_head = 16384, .max_fields = 100, .lenient = 0};
static struct http_limits rsp_limits = {
	.max_line = 16384, .max_head = 16384, .max_fields = 1000, .lenient = 0};

enum dir { DIR_REQ, DIR_RSP };
static const char *const dir_names[] = {"req", "rsp"};

/* Facts a rule may require ("when" column), from the message's raw bytes
 * (whichever parser refused them) and where http_parser stopped. */
#define FACTS(X)                                                                                 \
	X(CONNECT, "connect")			  /* request method CONNECT */                   \
	X(METHOD_TOKEN, "method-token")		  /* the method is a token */                    \
	X(NO_BODY_STATUS, "no-body-status")	  /* response 1xx, 204 or 304 */                 \
	X(LEADING_EMPTY, "leading-empty-line")	  /* message starts with CR or LF */             \
	X(BARE_CR, "bare-cr")			  /* a CR followed by something else than LF */  \
	X(CL_SAME_LIST, "cl-same-list")		  /* Content-Length: 3, 3 */                     \
	X(CL_SAME_LINES, "cl-same-lines")	  /* 2+ Content-Length lines, one value */       \
	X(CL_19, "cl-19-digits")		  /* a Content-Length of 19+ digits */           \
	X(CL_20, "cl-20-digits")		  /* a Content-Length of 20+ digits */           \
	X(TE_HTAB, "te-htab")			  /* a Transfer-Encoding line holds an HTAB */   \
	X(TE_EMPTY, "te-empty-element")		  /* Transfer-Encoding: , chunked */             \
	X(HP_AT_HTAB, "hp-stopped-at-htab")	  /* http_parser's error is on an HTAB */        \
	X(CL_AND_TE, "cl-and-te")		  /* Content-Length and Transfer-Encoding */     \
	X(WS_COLON, "ws-before-colon")		  /* a field name, SP / HTAB, then a colon */    \
	X(FOLD_FIRST, "fold-before-fields")	  /* the line after the start line: SP / HTAB */ \
	X(NAMELESS, "nameless-line")		  /* a field line naming no field */             \
	X(CL_NOT_NUMBER, "cl-not-number")	  /* a Content-Length element not 1-18 digits */ \
	X(TE_CHUNKED_ODD, "te-chunked-irregular") /* chunked, not once and last */               \
	X(CTL_VALUE, "ctl-in-value")		  /* a field line: CTL but HTAB, no NUL */

#define FACT_ENUM(id, name) FACT_##id,
enum { FACTS(FACT_ENUM) FACT_MAX };
#undef FACT_ENUM
#define FACT_NAME(id, name) name,
static const char *const fact_names[] = {FACTS(FACT_NAME)};
#undef FACT_NAME

/* ---- rules ----------------------------------------------------------------- */
struct rule {
	char id[TOK], dir[8], aspect[TOK], remora[TOK], hp[TOK], when[TOK];
	char reason[256];
	int bug; /* from the known-bugs file: a difference to fix, not an intended one */
	unsigned long used, used_dir[2];
	char example[SHOW_BYTES * 4 + 64]; /* first input it matched */
};

struct ctx {
	struct rule rules[MAX_RULES];
	int n_rules;
	int verbose, max_show;
	unsigned long n_inputs[2], agree[2][4], unlisted, unlisted_dir[2];
	const char *cur_path;
};

static const char *const aspects[] = {"head", "head-end", "framing", "length", "body", "body-end"};

static int load_rules(struct ctx *x, const char *path, int bug)
{
	char line[1024];
	FILE *f = fopen(path, "r");
	int lineno = 0;

	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		struct rule *r = &x->rules[x->n_rules];
		int n = 0, ok = 0;
		size_t i;

		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (line[strspn(line, " \t")] == '#' || line[strspn(line, " \t")] == '\0')
			continue;
		if (x->n_rules == MAX_RULES ||
		    sscanf(line, "%47s %7s %47s %47s %47s %47s %n", r->id, r->dir, r->aspect,
			   r->remora, r->hp, r->when, &n) < 6 ||
		    n == 0 || line[n] == '\0') {
			fprintf(stderr,
				"%s:%d: expected: ID DIR ASPECT REMORA HTTP_PARSER WHEN REASON\n",
				path, lineno);
			fclose(f);
			return -1;
		}
		snprintf(r->reason, sizeof(r->reason), "%s", line + n);
		r->bug = bug;
		for (i = 0; i < sizeof(aspects) / sizeof(aspects[0]); i++)
			ok |= strcmp(r->aspect, aspects[i]) == 0;
		ok &= strcmp(r->dir, "req") == 0 || strcmp(r->dir, "rsp") == 0 ||
		      strcmp(r->dir, "*") == 0;
		if (strcmp(r->when, "-") != 0) {
			int known = 0;

			for (i = 0; i < FACT_MAX; i++)
				known |= strcmp(r->when, fact_names[i]) == 0;
			ok &= known;
		}
		if (!ok) {
			fprintf(stderr, "%s:%d: unknown direction, aspect or fact\n", path, lineno);
			fclose(f);
			return -1;
		}
		x->n_rules++;
	}
	fclose(f);
	return 0;
}

/* ---- output ---------------------------------------------------------------- */
static void escape(char *out, size_t cap, const unsigned char *p, size_t len)
{
	size_t o = 0, i;

	for (i = 0; i < len && i < SHOW_BYTES && o + 8 < cap; i++) {
		unsigned char c = p[i];

		if (c == '\r')
			o += (size_t)snprintf(out + o, cap - o, "\\r");
		else if (c == '\n')
			o += (size_t)snprintf(out + o, cap - o, "\\n");
		else if (c == '\t')
			o += (size_t)snprintf(out + o, cap - o, "\\t");
		else if (c == '\\' || c == '"')
			o += (size_t)snprintf(out + o, cap - o, "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
	}
	if (i < len)
		o += (size_t)snprintf(out + o, cap - o, "...(%zu bytes)", len);
	out[o] = '\0';
}

/* ---- one message through Remora ------------------------------------------- */
enum verdict { V_ACCEPT, V_INCOMPLETE, V_REJECT };

struct side {
	enum verdict head;
	char head_err[TOK];
	size_t head_end; /* absolute offset after the head */
	char kind[TOK];
	uint64_t cl;
	enum verdict body; /* V_ACCEPT: no error (complete or not) */
	char body_err[TOK];
	int done;
	size_t end; /* absolute offset after the message, when done */
	/* Remora only */
	int keep_alive, connect;
	unsigned status;
};

static const char *kind_name(enum http_body_kind k)
{
	static const char *const names[] = {"none", "length", "chunked", "close"};

	return k <= HTTP_BODY_CLOSE ? names[k] : "?";
}

static void remora_message(const char *buf, size_t len, size_t off, enum dir d, int head_req,
			   struct side *s)
{
	struct http_field fields[1000];
	struct http_msg m;
	struct http_body b;
	long n;
	int r;

	memset(s, 0, sizeof(*s));
	if (d == DIR_REQ)
		http_msg_init_request(&m, fields, 100);
	else
		http_msg_init_response(&m, fields, 1000, head_req);
	r = http_parse(&m, buf + off, len - off, d == DIR_REQ ? &req_limits : &rsp_limits);
	if (r == HTTP_NEED_MORE) {
		s->head = V_INCOMPLETE;
		return;
	}
	if (r < 0) {
		s->head = V_REJECT;
		snprintf(s->head_err, TOK, "%s", remora_err_names[m.error]);
		return;
	}
	s->head = V_ACCEPT;
	s->head_end = off + (size_t)r;
	snprintf(s->kind, TOK, "%s", kind_name(m.body));
	s->cl = m.content_length;
	s->keep_alive = http_msg_keeps_alive(&m);
	s->connect = (m.flags & HTTP_F_METHOD_CONNECT) != 0;
	s->status = m.status;
	http_body_init(&b, &m);
	n = http_body_feed(&b, buf + s->head_end, len - s->head_end);
	if (n < 0) {
		s->body = V_REJECT;
		snprintf(s->body_err, TOK, "%s", remora_err_names[b.error]);
		return;
	}
	s->body = V_ACCEPT;
	if (!b.done && (size_t)n == len - s->head_end)
		http_body_eof(&b); /* the input ends: the connection closes here */
	s->done = b.done;
	s->end = s->head_end + (size_t)n;
}

/* ---- the whole input through http_parser --------------------------------- */
struct hp_msg {
	int head_done, done, upgrade, at_eof;
	size_t head_end, end;
	uint8_t flags;
	int te;
	uint64_t cl;
	unsigned status, method;
};

struct hp_run {
	struct hp_msg m[MAX_MSGS + 1];
	int cur;    /* index of the message being parsed */
	size_t pos; /* offset of the byte being fed */
	int head_req;
	int at_eof;  /* feeding the end of input */
	int err;     /* HPE_* */
	int err_msg; /* message the error belongs to */
	size_t err_pos;
	int stopped; /* left HTTP (upgrade / CONNECT) after message cur - 1 */
};

static int hp_on_headers(http_parser *p)
{
	struct hp_run *h = p->data;
	struct hp_msg *m = &h->m[h->cur];

	m->head_done = 1;
	m->head_end = h->pos + 1;
	m->flags = (uint8_t)p->flags;
	m->te = p->uses_transfer_encoding;
	m->cl = p->content_length;
	m->status = p->status_code;
	m->method = p->method;
	/* the caller's knowledge http_parser cannot have: this answers a HEAD */
	return p->type == HTTP_RESPONSE && h->head_req ? 1 : 0;
}

static int hp_on_complete(http_parser *p)
{
	struct hp_run *h = p->data;
	struct hp_msg *m = &h->m[h->cur];

	m->done = 1;
	m->end = h->pos + 1;
	m->at_eof = h->at_eof;
	m->upgrade = p->upgrade;
	if (h->cur < MAX_MSGS)
		h->cur++;
	return 0;
}

static void hp_run(struct hp_run *h, const char *buf, size_t len, enum dir d, int head_req)
{
	http_parser_settings st;
	http_parser p;
	size_t i;

	memset(h, 0, sizeof(*h));
	h->head_req = head_req;
	http_parser_settings_init(&st);
	st.on_headers_complete = hp_on_headers;
	st.on_message_complete = hp_on_complete;
	http_parser_init(&p, d == DIR_REQ ? HTTP_REQUEST : HTTP_RESPONSE);
	p.data = h;
	for (i = 0; i < len; i++) {
		int before = h->cur;

		h->pos = i;
		if (http_parser_execute(&p, &st, buf + i, 1) != 1 || p.http_errno != HPE_OK) {
			h->err = p.http_errno;
			h->err_msg = h->cur;
			h->err_pos = i;
			return;
		}
		if (p.upgrade && h->cur > before) {
			h->stopped = 1; /* "the rest is in a different protocol" */
			return;
		}
	}
	h->pos = len - 1; /* end of input: a close-delimited message completes */
	h->at_eof = 1;
	http_parser_execute(&p, &st, buf, 0);
	if (p.http_errno != HPE_OK && p.http_errno != HPE_INVALID_EOF_STATE) {
		h->err = p.http_errno;
		h->err_msg = h->cur;
		h->err_pos = len;
	}
}

/* http_parser's verdict on message k, in the same terms as Remora's. */
static void hp_side(const struct hp_run *h, int k, struct side *s)
{
	const struct hp_msg *m = &h->m[k];
	int err_here = h->err != HPE_OK && h->err_msg == k;

	memset(s, 0, sizeof(*s));
	/* on_headers_complete runs before http_parser judges the framing
	 * fields (Transfer-Encoding in a request): an error on that same byte
	 * rejects the head */
	if (!m->head_done || (err_here && h->err_pos + 1 == m->head_end)) {
		s->head = err_here ? V_REJECT : V_INCOMPLETE;
		if (err_here)
			snprintf(s->head_err, TOK, "%s", http_errno_name(h->err));
		return;
	}
	s->head = V_ACCEPT;
	s->head_end = m->head_end;
	s->cl = m->cl;
	if (m->done && m->end == m->head_end && !m->at_eof)
		snprintf(s->kind, TOK, "none"); /* complete at the blank line */
	else if (m->flags & F_CHUNKED)
		snprintf(s->kind, TOK, "chunked");
	else if (m->te || m->cl == ULLONG_MAX)
		snprintf(s->kind, TOK, "close");
	else
		snprintf(s->kind, TOK, "length");
	s->body = err_here ? V_REJECT : V_ACCEPT;
	if (err_here)
		snprintf(s->body_err, TOK, "%s", http_errno_name(h->err));
	s->done = m->done;
	s->end = m->end;
}

/* ---- comparison ------------------------------------------------------------ */
struct diff {
	const char *aspect;
	char remora[TOK], hp[TOK];
};

static const char *head_tok(const struct side *s)
{
	return s->head == V_ACCEPT	 ? "accept"
	       : s->head == V_INCOMPLETE ? "incomplete"
					 : s->head_err;
}

/* 0: the sides agree on this message (or neither has a message: one still
 * waits for the rest of a head the other already refused); 1: *df set. */
static int compare(const struct side *r, const struct side *h, struct diff *df)
{
	if ((r->head == V_INCOMPLETE && h->head == V_REJECT) ||
	    (r->head == V_REJECT && h->head == V_INCOMPLETE))
		return 0;
	if (r->head != h->head || (r->head == V_ACCEPT && r->head_end != h->head_end)) {
		df->aspect = r->head != h->head ? "head" : "head-end";
		if (r->head != h->head) {
			snprintf(df->remora, TOK, "%s", head_tok(r));
			snprintf(df->hp, TOK, "%s", head_tok(h));
		} else {
			snprintf(df->remora, TOK, "%zu", r->head_end);
			snprintf(df->hp, TOK, "%zu", h->head_end);
		}
		return 1;
	}
	if (r->head != V_ACCEPT)
		return 0;
	if (strcmp(r->kind, h->kind) != 0) {
		df->aspect = "framing";
		snprintf(df->remora, TOK, "%s", r->kind);
		snprintf(df->hp, TOK, "%s", h->kind);
		return 1;
	}
	if (strcmp(r->kind, "length") == 0 && r->cl != h->cl) {
		df->aspect = "length";
		snprintf(df->remora, TOK, "%llu", (unsigned long long)r->cl);
		snprintf(df->hp, TOK, "%llu", (unsigned long long)h->cl);
		return 1;
	}
	if (r->body != h->body) {
		df->aspect = "body";
		snprintf(df->remora, TOK, "%s", r->body == V_ACCEPT ? "accept" : r->body_err);
		snprintf(df->hp, TOK, "%s", h->body == V_ACCEPT ? "accept" : h->body_err);
		return 1;
	}
	if (r->body == V_ACCEPT && (r->done != h->done || (r->done && r->end != h->end))) {
		df->aspect = "body-end";
		if (r->done)
			snprintf(df->remora, TOK, "%zu", r->end);
		else
			snprintf(df->remora, TOK, "incomplete");
		if (h->done)
			snprintf(df->hp, TOK, "%zu", h->end);
		else
			snprintf(df->hp, TOK, "incomplete");
		return 1;
	}
	return 0;
}

static int is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A Content-Length value [v, e): if it is 1*DIGIT, or a list of equal
 * ones, its number without leading zeros goes to out and the count of
 * elements is returned; otherwise 0. Digit runs of 19+ / 20+ set facts. */
static int cl_value(const char *v, const char *e, char *out, size_t cap, unsigned *f)
{
	char cur[24];
	const char *t;
	int elems = 0;
	size_t n;

	out[0] = '\0';
	for (;;) {
		while (v < e && (*v == ' ' || *v == '\t'))
			v++;
		while (v + 1 < e && *v == '0' && v[1] >= '0' && v[1] <= '9')
			v++;
		for (t = v; t < e && *t >= '0' && *t <= '9'; t++)
			;
		n = (size_t)(t - v);
		*f |= (n >= 19 ? 1u << FACT_CL_19 : 0) | (n >= 20 ? 1u << FACT_CL_20 : 0);
		snprintf(cur, sizeof(cur), "%.*s", (int)(n < 23 ? n : 23), v);
		while (t < e && (*t == ' ' || *t == '\t'))
			t++;
		if (n == 0 || (t < e && *t != ',') || (elems > 0 && strcmp(cur, out) != 0))
			return 0;
		if (elems++ == 0)
			snprintf(out, cap, "%s", cur);
		if (t == e)
			return elems;
		v = t + 1;
	}
}

/* A Transfer-Encoding value [v, e): HTAB in it; an empty list element. */
static unsigned te_facts(const char *v, const char *e)
{
	unsigned f = memchr(v, '\t', (size_t)(e - v)) != NULL ? 1u << FACT_TE_HTAB : 0;
	int seen = 0; /* a token since the last comma */

	for (; v < e; v++) {
		if (*v == ',' && !seen)
			f |= 1u << FACT_TE_EMPTY;
		if (*v == ',')
			seen = 0;
		else if (*v != ' ' && *v != '\t')
			seen = 1;
	}
	return seen ? f : f | 1u << FACT_TE_EMPTY;
}

/* The next comma-separated element of the list at *v (up to e), without
 * the SP / HTAB around it, in [*t, *te); *v moves past its comma. 0 when
 * the list has no more (the last element, possibly empty, came before). */
static int next_element(const char **v, const char *e, const char **t, const char **te)
{
	const char *p = *v, *q;

	if (p == NULL)
		return 0;
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	for (q = p; q < e && *q != ','; q++)
		;
	*t = p;
	for (*te = q; *te > p && ((*te)[-1] == ' ' || (*te)[-1] == '\t'); (*te)--)
		;
	*v = q < e ? q + 1 : NULL;
	return 1;
}

/* True if a comma-separated element of the Content-Length value [v, e) is
 * not 1 to 18 digits. */
static int cl_not_number(const char *v, const char *e)
{
	const char *t, *te;

	while (next_element(&v, e, &t, &te))
		if (te == t || te - t > 18 || strspn(t, "0123456789") < (size_t)(te - t))
			return 1;
	return 0;
}

/* Transfer-Encoding lines seen so far: chunked elements, whether the last
 * element is chunked, whether any list was not plain (empty elements,
 * parameters). */
struct te_seen {
	int chunked, last_chunked, odd;
};

static void te_elements(struct te_seen *ts, const char *v, const char *e)
{
	const char *t, *te;

	while (next_element(&v, e, &t, &te)) {
		ts->last_chunked = te - t == 7 && strncasecmp(t, "chunked", 7) == 0;
		ts->chunked += ts->last_chunked;
		for (ts->odd |= te == t; t < te; t++)
			ts->odd |= !is_tchar((unsigned char)*t);
	}
}

/* True if [p, e) holds a control character other than HTAB (0x7f too). */
static int has_ctl(const char *p, const char *e)
{
	for (; p < e; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			return 1;
	return 0;
}

/* True if the field line [p, e) is a token, SP / HTAB, then a colon. */
static int ws_before_colon(const char *p, const char *e)
{
	const char *q = p;

	while (q < e && is_tchar((unsigned char)*q))
		q++;
	if (q == p || q == e || (*q != ' ' && *q != '\t'))
		return 0;
	while (q < e && (*q == ' ' || *q == '\t'))
		q++;
	return q < e && *q == ':';
}

/* True if the field line [p, e) names no field: no colon, or before the
 * first colon (whitespace there aside) nothing or something not a token. */
static int nameless_line(const char *p, const char *e)
{
	const char *c = memchr(p, ':', (size_t)(e - p)), *q;

	if (c == NULL)
		return 1;
	while (c > p && (c[-1] == ' ' || c[-1] == '\t'))
		c--;
	if (c == p)
		return 1;
	for (q = p; q < c; q++)
		if (!is_tchar((unsigned char)*q))
			return 1;
	return 0;
}

/* Facts from the field lines of the head at p (up to e): Content-Length
 * values and repeats, HTAB in Transfer-Encoding, both framing fields,
 * whitespace before a colon. */
static unsigned head_facts(const char *p, const char *e)
{
	char first[24] = "", val[24];
	const char *eol, *ve;
	unsigned f = 0;
	int lines = 0, same = 1, elems, te = 0, in_cl = 0;
	struct te_seen ts = {0, 0, 0};

	p = memchr(p, '\n', (size_t)(e - p));
	if (p != NULL && p + 1 < e && (p[1] == ' ' || p[1] == '\t'))
		f |= 1u << FACT_FOLD_FIRST;
	for (; p != NULL && p + 1 < e; p = eol) {
		p++;
		eol = memchr(p, '\n', (size_t)(e - p));
		if (eol == NULL)
			eol = e;
		if (p[0] == '\r' || p[0] == '\n')
			break; /* the blank line */
		ve = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
		if (ws_before_colon(p, ve))
			f |= 1u << FACT_WS_COLON;
		if (p[0] != ' ' && p[0] != '\t' && nameless_line(p, ve))
			f |= 1u << FACT_NAMELESS;
		if (memchr(p, 0, (size_t)(ve - p)) == NULL && has_ctl(p, ve))
			f |= 1u << FACT_CTL_VALUE;
		if (p[0] == ' ' || p[0] == '\t') {
			if (in_cl)
				f |= 1u << FACT_CL_NOT_NUMBER; /* a fold continues it */
			continue;
		}
		in_cl = 0;
		if (ve - p >= 18 && strncasecmp(p, "transfer-encoding:", 18) == 0) {
			f |= te_facts(p + 18, ve);
			te_elements(&ts, p + 18, ve);
			te = 1;
		}
		if (ve - p < 15 || strncasecmp(p, "content-length:", 15) != 0)
			continue;
		in_cl = 1;
		if (cl_not_number(p + 15, ve))
			f |= 1u << FACT_CL_NOT_NUMBER;
		elems = cl_value(p + 15, ve, val, sizeof(val), &f);
		if (elems > 1)
			f |= 1u << FACT_CL_SAME_LIST;
		if (elems == 0 || (lines++ > 0 && strcmp(first, val) != 0))
			same = 0;
		if (lines == 1)
			memcpy(first, val, sizeof(val));
	}
	if (lines > 1 && same)
		f |= 1u << FACT_CL_SAME_LINES;
	if (lines > 0 && te)
		f |= 1u << FACT_CL_AND_TE;
	if (ts.chunked > 0 && (ts.chunked > 1 || !ts.last_chunked || ts.odd))
		f |= 1u << FACT_TE_CHUNKED_ODD;
	return f;
}

static unsigned facts_of(const char *buf, size_t len, size_t off, enum dir d, const struct side *r,
			 const struct hp_run *h, int k)
{
	const struct hp_msg *hm = &h->m[k];
	unsigned f = 0;
	unsigned st = hm->head_done ? hm->status : r->status;
	size_t i;

	if (d == DIR_REQ && (r->connect || (hm->head_done && hm->method == HTTP_CONNECT) ||
			     (len - off >= 8 && memcmp(buf + off, "CONNECT ", 8) == 0)))
		f |= 1u << FACT_CONNECT;
	for (i = off; i < len && is_tchar((unsigned char)buf[i]); i++)
		;
	if (d == DIR_REQ && i > off && i < len && buf[i] == ' ')
		f |= 1u << FACT_METHOD_TOKEN;
	if (d == DIR_RSP && (hm->head_done || r->head == V_ACCEPT) &&
	    ((st >= 100 && st < 200) || st == 204 || st == 304))
		f |= 1u << FACT_NO_BODY_STATUS;
	if (off < len && (buf[off] == '\r' || buf[off] == '\n'))
		f |= 1u << FACT_LEADING_EMPTY;
	for (i = off; i + 1 < len; i++)
		if (buf[i] == '\r' && buf[i + 1] != '\n') {
			f |= 1u << FACT_BARE_CR;
			break;
		}
	if (h->err != HPE_OK && h->err_msg == k && h->err_pos < len && buf[h->err_pos] == '\t')
		f |= 1u << FACT_HP_AT_HTAB;
	return f | head_facts(buf + off, buf + len);
}

static struct rule *find_rule(struct ctx *x, enum dir d, const struct diff *df, unsigned facts)
{
	int i;
	unsigned k;

	for (i = 0; i < x->n_rules; i++) {
		struct rule *r = &x->rules[i];
		int when_ok = strcmp(r->when, "-") == 0;

		for (k = 0; !when_ok && k < FACT_MAX; k++)
			when_ok = (facts & (1u << k)) && strcmp(r->when, fact_names[k]) == 0;
		if ((strcmp(r->dir, "*") == 0 || strcmp(r->dir, dir_names[d]) == 0) &&
		    strcmp(r->aspect, df->aspect) == 0 &&
		    (strcmp(r->remora, "*") == 0 || strcmp(r->remora, df->remora) == 0) &&
		    (strcmp(r->hp, "*") == 0 || strcmp(r->hp, df->hp) == 0) && when_ok)
			return r;
	}
	return NULL;
}

/* Runs one input in one direction; returns 1 if an unlisted difference. */
static int check_input(struct ctx *x, const char *buf, size_t len, enum dir d, int head_req)
{
	static struct hp_run h;
	struct side r, hs;
	struct diff df;
	struct rule *rule;
	size_t off = 0;
	char esc[SHOW_BYTES * 4 + 64];
	int k;

	x->n_inputs[d]++;
	hp_run(&h, buf, len, d, head_req);
	for (k = 0; k < MAX_MSGS; k++) {
		remora_message(buf, len, off, d, head_req, &r);
		hp_side(&h, k, &hs);
		if (compare(&r, &hs, &df)) {
			unsigned facts = facts_of(buf, len, off, d, &r, &h, k);

			rule = find_rule(x, d, &df, facts);
			escape(esc, sizeof(esc), (const unsigned char *)buf, len);
			if (rule != NULL) {
				rule->used_dir[d]++;
				if (rule->used++ == 0)
					snprintf(rule->example, sizeof(rule->example), "%s", esc);
			}
			if (rule != NULL && x->verbose)
				printf("%-22s %s %s msg %d: %s remora=%s http_parser=%s  \"%s\"\n",
				       rule->id, dir_names[d], x->cur_path, k, df.aspect, df.remora,
				       df.hp, esc);
			if (rule != NULL)
				return 0;
			x->unlisted_dir[d]++;
			if (x->unlisted++ < (unsigned long)x->max_show || x->verbose)
				printf("UNLISTED %s %s message %d: %s: remora=%s "
				       "http_parser=%s%s\n  "
				       "input: \"%s\"\n",
				       dir_names[d], x->cur_path, k, df.aspect, df.remora, df.hp,
				       d == DIR_RSP && head_req ? " (answers HEAD)" : "", esc);
			return 1;
		}
		if (r.head != V_ACCEPT) {
			x->agree[d][r.head != hs.head ? 3 : r.head == V_REJECT ? 1 : 2]++;
			return 0;
		}
		/* agreed on this message: go on only where both would */
		if (!r.done || r.body != V_ACCEPT || h.m[k].upgrade ||
		    (d == DIR_REQ && (r.connect || !r.keep_alive)) ||
		    (d == DIR_RSP && (r.status >= 200 || r.status == 101)) || r.end >= len)
			break;
		off = r.end;
	}
	x->agree[d][0]++;
	return 0;
}

/* ---- inputs ------------------------------------------------------------------ */
static int run_file(struct ctx *x, const char *path, int as_response)
{
	static char data[INPUT_MAX];
	FILE *f = fopen(path, "rb");
	size_t n;
	int bad = 0;

	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	n = fread(data, 1, sizeof(data), f);
	fclose(f);
	if (n < 1)
		return 0; /* the fuzz targets ignore empty inputs too */
	x->cur_path = path;
	bad |= check_input(x, data + 1, n - 1, DIR_REQ, 0);
	if (as_response)
		bad |= check_input(x, data + 1, n - 1, DIR_RSP, data[0] & 1);
	return bad;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A file, or every file under a directory (sorted, for stable output). */
static int run_path(struct ctx *x, const char *path, int as_response)
{
	struct stat st;
	struct dirent *e;
	char **names = NULL, full[4096];
	size_t n = 0, cap = 0, i;
	DIR *dir;
	int bad = 0, r;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(x, path, as_response);
	dir = opendir(path);
	if (dir == NULL)
		return -1;
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			names = realloc(names, cap * sizeof(*names));
			if (names == NULL)
				exit(2);
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(dir);
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		snprintf(full, sizeof(full), "%s/%s", path, names[i]);
		r = run_path(x, full, as_response);
		if (r < 0)
			bad = -1;
		else if (bad >= 0)
			bad |= r;
		free(names[i]);
	}
	free(names);
	return bad;
}

static void summary(struct ctx *x)
{
	static const char *const what[] = {"accept", "reject", "incomplete", "undecided"};
	const struct rule *r;
	int v, i;

	printf("diff_http_parser: %lu inputs as requests, %lu as responses\n", x->n_inputs[0],
	       x->n_inputs[1]);
	printf("  %-10s %-24s %8s %8s\n", "class", "", "req", "rsp");
	for (v = 0; v < 4; v++)
		printf("  %-10s %-24s %8lu %8lu\n", "agree", what[v], x->agree[0][v],
		       x->agree[1][v]);
	for (i = 0; i < x->n_rules; i++) {
		r = &x->rules[i];
		printf("  %-10s %-24s %8lu %8lu\n", r->bug ? "KNOWN-BUG" : "intended", r->id,
		       r->used_dir[0], r->used_dir[1]);
	}
	printf("  %-10s %-24s %8lu %8lu\n", "UNLISTED", "", x->unlisted_dir[0], x->unlisted_dir[1]);
	for (i = 0; i < x->n_rules; i++) {
		r = &x->rules[i];
		if (r->used && (r->bug || x->verbose))
			printf("%s %s (%s): %s\n  e.g. \"%s\"\n", r->bug ? "KNOWN BUG" : "example",
			       r->id, r->aspect, r->reason, r->example);
	}
}

/* ---- self-test: differences must be found, and only listed ones pass ------- */
static const struct selftest_case {
	const char *in;
	enum dir d;
	const char *aspect, *remora, *hp; /* NULL: the parsers agree */
} selftest_cases[] = {
	{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi", DIR_REQ, NULL, NULL, NULL},
	{"GET / HTTP/1.1\r\n\r\n", DIR_REQ, "head", "HOST_MISSING", "accept"},
	{"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\n\r\n", DIR_REQ, "head",
	 "HOST_MISSING", "accept"},
	{"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", DIR_RSP, "framing", "none",
	 "length"},
	{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;\x01\r\nx\r\n0\r\n\r\n",
	 DIR_REQ, "body", "BAD_CHUNK_EXT", "accept"},
};

static void selftest_rule(struct rule *r, const struct selftest_case *c, const char *when)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->id, TOK, "selftest");
	snprintf(r->dir, 8, "%s", dir_names[c->d]);
	snprintf(r->aspect, TOK, "%s", c->aspect);
	snprintf(r->remora, TOK, "%s", c->remora);
	snprintf(r->hp, TOK, "%s", c->hp);
	snprintf(r->when, TOK, "%s", when);
}

static int selftest(void)
{
	static struct ctx x;
	const struct selftest_case *c;
	size_t i;
	int fails = 0, r;

	x.cur_path = "(selftest)";
	for (i = 0; i < sizeof(selftest_cases) / sizeof(selftest_cases[0]); i++) {
		c = &selftest_cases[i];
		x.n_rules = 0;
		r = check_input(&x, c->in, strlen(c->in), c->d, 0);
		if (r != (c->aspect != NULL)) {
			printf("selftest %zu: %s\n", i,
			       c->aspect ? "a difference with no rule was not flagged"
					 : "an agreeing input was flagged");
			fails++;
		}
		if (c->aspect == NULL)
			continue;
		/* its exact rule covers it; the same rule under a fact that does
		 * not hold does not */
		x.n_rules = 1;
		selftest_rule(&x.rules[0], c, "-");
		if (check_input(&x, c->in, strlen(c->in), c->d, 0) != 0 || x.rules[0].used != 1) {
			printf("selftest %zu: not matched by rule %s %s %s %s\n", i, c->aspect,
			       c->remora, c->hp, dir_names[c->d]);
			fails++;
		}
		selftest_rule(&x.rules[0], c, "connect");
		if (check_input(&x, c->in, strlen(c->in), c->d, 0) != 1) {
			printf("selftest %zu: matched a rule whose fact does not hold\n", i);
			fails++;
		}
	}
	printf("selftest: %s\n", fails ? "FAILED" : "ok");
	return fails ? 1 : 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: diff_http_parser [-r RULES] [-b KNOWN_BUGS] [-u] [-v] [-l] [-x N] "
			"[-q|-s|-a] "
			"PATH...\n"
			"       diff_http_parser --selftest\n");
	return 2;
}

int main(int argc, char **argv)
{
	static struct ctx x;
	int i, mode = 'a', require_used = 0, bad = 0, r;

	x.max_show = 50;
	if (argc == 2 && strcmp(argv[1], "--selftest") == 0)
		return selftest();
	for (i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-r") == 0 || strcmp(argv[i], "-b") == 0) && i + 1 < argc) {
			if (load_rules(&x, argv[i + 1], argv[i][1] == 'b') < 0)
				return 2;
			i++;
		} else if (strcmp(argv[i], "-x") == 0 && i + 1 < argc) {
			x.max_show = atoi(argv[++i]);
		} else if (strcmp(argv[i], "-u") == 0) {
			require_used = 1;
		} else if (strcmp(argv[i], "-v") == 0) {
			x.verbose = 1;
		} else if (strcmp(argv[i], "-l") == 0) {
			req_limits.lenient = rsp_limits.lenient = HTTP_LENIENT_BARE_LF;
		} else if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "-s") == 0 ||
			   strcmp(argv[i], "-a") == 0) {
			mode = argv[i][1];
		} else if (argv[i][0] == '-') {
			return usage();
		} else {
			r = run_path(&x, argv[i],
				     mode == 's' || (mode == 'a' && strstr(argv[i], "response")));
			if (r < 0)
				return 2;
			bad |= r;
		}
	}
	if (x.n_inputs[0] == 0)
		return usage();
	summary(&x);
	for (i = 0; require_used && i < x.n_rules; i++) {
		if (x.rules[i].used)
			continue;
		if (x.rules[i].bug)
			printf("FIXED? known bug %s shows no more: remove it from the known bugs\n",
			       x.rules[i].id);
		else
			printf("UNUSED rule %s: no input shows this difference (add a seed input, "
			       "or remove the rule and its entry in docs/http.md)\n",
			       x.rules[i].id);
		bad = 1;
	}
	if (x.unlisted)
		printf("FAIL: %lu difference(s) not listed in the rules\n", x.unlisted);
	return bad ? 1 : 0;
}
