/* chars.h — character classes of RFC 9110/9112 (private to src/http). */
#ifndef REMORA_HTTP_CHARS_H
#define REMORA_HTTP_CHARS_H

#include <stdint.h>

/* tchar: "!#$%&'*+-.^_`|~" DIGIT ALPHA — methods, field names, codings. */
static inline int http_is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	switch (c) {
	case '!':
	case '#':
	case '$':
	case '%':
	case '&':
	case '\'':
	case '*':
	case '+':
	case '-':
	case '.':
	case '^':
	case '_':
	case '`':
	case '|':
	case '~':
		return 1;
	default:
		return 0;
	}
}

/* field-vchar / SP / HTAB: VCHAR, obs-text (0x80-0xFF), space and tab. */
static inline int http_is_field_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* A byte a response's field value may hold: any but NUL (and CR and LF, which
 * end or break lines). Chromium and Firefox take the other control
 * characters there, and RFC 9110 5.5 lets a recipient keep them; both
 * browsers refuse NUL. */
static inline int http_is_rsp_value_char(unsigned char c)
{
	return c != 0 && c != '\r' && c != '\n';
}

/* A response field line [p, e) that names no field: no colon, or the bytes
 * before it (whitespace before a colon aside) empty or not a token, all of
 * them field characters. Browsers skip such lines; the parser and the
 * normaliser leave them out (docs/http.md, section 2). */
static inline int http_is_nameless_line(const char *p, const char *e)
{
	const char *q = p, *c;

	while (q < e && http_is_tchar((unsigned char)*q))
		q++;
	for (c = q; c < e && (*c == ' ' || *c == '\t'); c++)
		;
	if (q > p && c < e && *c == ':')
		return 0;
	for (q = p; q < e; q++)
		if (!http_is_field_char((unsigned char)*q))
			return 0; /* a control character: refused as ever */
	return 1;
}

static inline int http_is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline unsigned http_hex_val(unsigned char c)
{
	return c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
}

#endif
