/* body.c — body framing tracker (see http.h): which bytes belong to the
 * current message. Chunked syntax is validated byte by byte (RFC 9112 7.1):
 *   chunk      = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-ext  = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
 *   last-chunk = 1*"0" [ chunk-ext ] CRLF, then trailer fields, then CRLF */
#include "http/chars.h"
#include "http/http.h"

enum {
	CH_SIZE_START, /* first hex digit of a chunk-size */
	CH_SIZE,       /* more hex digits */
	CH_EXT_BWS,    /* BWS before ';' or CR */
	CH_EXT_NAME0,  /* BWS, then first char of ext-name */
	CH_EXT_NAME,
	CH_EXT_EQ_BWS, /* BWS after the name: '=' ';' or CR */
	CH_EXT_VAL0,   /* BWS, then token or '"' */
	CH_EXT_TOKEN,
	CH_EXT_QUOTED,
	CH_EXT_QUOTED_ESC,
	CH_SIZE_LF, /* CR seen after the size line */
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TRAILER_START, /* start of a trailer line or the final CRLF */
	CH_TRAILER_NAME,
	CH_TRAILER_VALUE,
	CH_TRAILER_LF,
	CH_END_LF,  /* CR of the final CRLF seen */
	CH_EXT_ANY, /* lenient: extensions as free text up to the line end */
};

#define NEED_CR 2 /* lenient: a CR must go in before this LF (http_body.need_cr) */

#define CHUNK_LINE_MAX	  4096	      /* size line with extensions */
#define TRAILER_BYTES_MAX (16 * 1024) /* all trailer lines together */
#define CHUNK_SIZE_MAX	  ((uint64_t)1 << 60)

void http_body_init(struct http_body *b, const struct http_msg *m)
{
	b->kind = m->body;
	b->remaining = m->body == HTTP_BODY_LENGTH ? m->content_length : 0;
	b->state = CH_SIZE_START;
	b->done = m->body == HTTP_BODY_NONE;
	b->line_len = 0;
	b->in_ext = 0;
	b->trailer_bytes = 0;
	b->error = HTTP_ERR_NONE;
	b->lenient = b->need_cr = b->eased = 0;
}

static long bad(struct http_body *b, enum http_error e)
{
	b->error = e;
	return HTTP_INVALID;
}

/* Lenient (a response): what browsers take where chunk_syntax() would refuse
 * c — a field character in an extension starts free text up to the line end
 * (Chromium skips everything after ';'), and a LF ends the line without CR
 * (NEED_CR). Else the refusal e. */
static int chunk_ease(struct http_body *b, unsigned char c, enum http_error e)
{
	if (!b->lenient || (b->state == CH_SIZE_START && c == '\n'))
		return (int)bad(b, e);
	if (c == '\n')
		return b->eased = NEED_CR;
	if (b->in_ext && (c == '\r' || http_is_field_char(c))) {
		/* (a CR ends the line even inside an open quoted-string) */
		b->state = c == '\r' ? CH_SIZE_LF : CH_EXT_ANY;
		b->eased = 1;
		return 0;
	}
	return (int)bad(b, e);
}

/* One byte of the size line, extensions or CRLFs; 0, NEED_CR or HTTP_INVALID. */
static int chunk_syntax(struct http_body *b, unsigned char c)
{
	switch (b->state) {
	case CH_EXT_ANY:
		if (c == '\r' || c == '\n')
			break;
		return http_is_field_char(c) ? 0 : (int)bad(b, HTTP_ERR_BAD_CHUNK_EXT);
	case CH_SIZE_START:
		if (!http_is_hex(c))
			return (int)bad(b, HTTP_ERR_BAD_CHUNK_SIZE);
		b->remaining = http_hex_val(c);
		b->state = CH_SIZE;
		return 0;
	case CH_SIZE:
		if (http_is_hex(c)) {
			/* checked before it can pass the limit (or wrap around) */
			if (b->remaining > (CHUNK_SIZE_MAX - http_hex_val(c)) / 16)
				return (int)bad(b, HTTP_ERR_BAD_CHUNK_SIZE);
			b->remaining = b->remaining * 16 + http_hex_val(c);
			return 0;
		}
		b->state = CH_EXT_BWS;
		/* fall through */
	case CH_EXT_BWS:
		if (c == ' ' || c == '\t')
			return 0;
		if (c == ';') {
			b->state = CH_EXT_NAME0;
			b->in_ext = 1;
			return 0;
		}
		break;
	case CH_EXT_NAME0:
		if (c == ' ' || c == '\t')
			return 0;
		if (!http_is_tchar(c))
			return chunk_ease(b, c, HTTP_ERR_BAD_CHUNK_EXT);
		b->state = CH_EXT_NAME;
		return 0;
	case CH_EXT_NAME:
		if (http_is_tchar(c))
			return 0;
		b->state = CH_EXT_EQ_BWS;
		/* fall through */
	case CH_EXT_EQ_BWS:
		if (c == ' ' || c == '\t')
			return 0;
		if (c == '=') {
			b->state = CH_EXT_VAL0;
			return 0;
		}
		if (c == ';') {
			b->state = CH_EXT_NAME0;
			return 0;
		}
		break;
	case CH_EXT_VAL0:
		if (c == ' ' || c == '\t')
			return 0;
		if (c == '"') {
			b->state = CH_EXT_QUOTED;
			return 0;
		}
		if (!http_is_tchar(c))
			return chunk_ease(b, c, HTTP_ERR_BAD_CHUNK_EXT);
		b->state = CH_EXT_TOKEN;
		return 0;
	case CH_EXT_TOKEN:
		if (http_is_tchar(c))
			return 0;
		b->state = CH_EXT_BWS;
		if (c == ' ' || c == '\t' || c == ';') {
			b->state = c == ';' ? CH_EXT_NAME0 : CH_EXT_BWS;
			return 0;
		}
		break;
	case CH_EXT_QUOTED:
		if (c == '"')
			b->state = CH_EXT_BWS;
		else if (c == '\\')
			b->state = CH_EXT_QUOTED_ESC;
		else if (!(c == '\t' || (c >= 0x20 && c != 0x7f)))
			return chunk_ease(b, c, HTTP_ERR_BAD_CHUNK_EXT);
		return 0;
	case CH_EXT_QUOTED_ESC:
		if (!(c == '\t' || (c >= 0x20 && c != 0x7f)))
			return chunk_ease(b, c, HTTP_ERR_BAD_CHUNK_EXT);
		b->state = CH_EXT_QUOTED;
		return 0;
	default:
		return (int)bad(b, HTTP_ERR_BAD_CHUNK_SIZE);
	}
	/* the size line may only end here, in CR LF */
	if (c != '\r')
		return chunk_ease(b, c,
				  b->in_ext ? HTTP_ERR_BAD_CHUNK_EXT : HTTP_ERR_BAD_CHUNK_SIZE);
	b->state = CH_SIZE_LF;
	return 0;
}

/* Lenient: a LF that ends a framing line without its CR (NEED_CR). */
static int bare_lf(struct http_body *b, unsigned char c)
{
	return b->lenient && c == '\n' ? (b->eased = NEED_CR) : 0;
}

/* Trailer section: field lines, then CRLF. 0, 1 (message ended), NEED_CR or
 * HTTP_INVALID. */
static int trailer_syntax(struct http_body *b, unsigned char c)
{
	if (++b->trailer_bytes > TRAILER_BYTES_MAX)
		return (int)bad(b, HTTP_ERR_BAD_TRAILER);
	if ((b->state == CH_TRAILER_START || b->state == CH_TRAILER_VALUE) && bare_lf(b, c))
		return NEED_CR;
	switch (b->state) {
	case CH_TRAILER_START:
		if (c == '\r') {
			b->state = CH_END_LF;
			return 0;
		}
		if (!http_is_tchar(c))
			return (int)bad(b, HTTP_ERR_BAD_TRAILER);
		b->state = CH_TRAILER_NAME;
		return 0;
	case CH_TRAILER_NAME:
		if (c == ':')
			b->state = CH_TRAILER_VALUE;
		else if (!http_is_tchar(c))
			return (int)bad(b, HTTP_ERR_BAD_TRAILER);
		return 0;
	case CH_TRAILER_VALUE:
		if (c == '\r')
			b->state = CH_TRAILER_LF;
		else if (!http_is_field_char(c))
			return (int)bad(b, HTTP_ERR_BAD_TRAILER);
		return 0;
	case CH_TRAILER_LF:
		if (c != '\n')
			return (int)bad(b, HTTP_ERR_BAD_TRAILER);
		b->state = CH_TRAILER_START;
		return 0;
	case CH_END_LF:
		if (c != '\n')
			return (int)bad(b, HTTP_ERR_BAD_TRAILER);
		b->done = 1;
		return 1;
	default:
		return (int)bad(b, HTTP_ERR_BAD_TRAILER);
	}
}

static long feed_chunked(struct http_body *b, const char *buf, size_t len)
{
	size_t i = 0, n;
	unsigned char c;
	int r;

	while (i < len && !b->done) {
		switch (b->state) {
		case CH_DATA:
			n = len - i < b->remaining ? len - i : (size_t)b->remaining;
			i += n;
			b->remaining -= n;
			if (b->remaining == 0)
				b->state = CH_DATA_CR;
			continue;
		case CH_DATA_CR:
		case CH_DATA_LF:
			if (b->state == CH_DATA_CR && bare_lf(b, (unsigned char)buf[i]))
				break;
			c = (unsigned char)buf[i++];
			if (c != (b->state == CH_DATA_CR ? '\r' : '\n'))
				return bad(b, HTTP_ERR_BAD_CHUNK_END);
			b->state = b->state == CH_DATA_CR ? CH_DATA_LF : CH_SIZE_START;
			b->line_len = 0;
			b->in_ext = 0;
			continue;
		case CH_SIZE_LF:
			if ((unsigned char)buf[i++] != '\n')
				return bad(b, HTTP_ERR_BAD_CHUNK_SIZE);
			b->line_len = 0;
			b->state = b->remaining > 0 ? CH_DATA : CH_TRAILER_START;
			continue;
		case CH_TRAILER_START:
		case CH_TRAILER_NAME:
		case CH_TRAILER_VALUE:
		case CH_TRAILER_LF:
		case CH_END_LF:
			r = trailer_syntax(b, (unsigned char)buf[i]);
			if (r < 0)
				return HTTP_INVALID;
			if (r == NEED_CR)
				break;
			i++;
			continue;
		default:
			if (++b->line_len > CHUNK_LINE_MAX)
				return bad(b, HTTP_ERR_BAD_CHUNK_EXT);
			r = chunk_syntax(b, (unsigned char)buf[i]);
			if (r < 0)
				return HTTP_INVALID;
			if (r == NEED_CR)
				break;
			i++;
			continue;
		}
		b->need_cr = 1; /* the LF at buf[i] waits for the CR the caller puts before it */
		return (long)i;
	}
	return (long)i;
}

long http_body_feed(struct http_body *b, const char *buf, size_t len)
{
	size_t n;

	if (b->done)
		return 0;
	switch (b->kind) {
	case HTTP_BODY_LENGTH:
		n = len < b->remaining ? len : (size_t)b->remaining;
		b->remaining -= n;
		b->done = b->remaining == 0;
		return (long)n;
	case HTTP_BODY_CHUNKED:
		return feed_chunked(b, buf, len);
	case HTTP_BODY_CLOSE:
		return (long)len;
	default:
		b->done = 1;
		return 0;
	}
}

int http_body_eof(struct http_body *b)
{
	if (b->kind == HTTP_BODY_CLOSE)
		b->done = 1;
	return b->done;
}

void http_body_advance(struct http_body *b, uint64_t n)
{
	if (b->kind != HTTP_BODY_LENGTH)
		return;
	b->remaining = n < b->remaining ? b->remaining - n : 0;
	b->done = b->remaining == 0;
}
