/* textout.h — text appended into a fixed buffer that never overflows: what
 * does not fit is cut (the metrics exposition: admin.c, histo.c). */
#ifndef REMORA_TEXTOUT_H
#define REMORA_TEXTOUT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* buf[0..len) written so far, of cap bytes; len == cap once cut short. */
struct out {
	char *buf;
	size_t len, cap;
};

static inline void out(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends fmt's text (cut at the end of the buffer). */
static inline void out(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len >= o->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len = o->len + (size_t)n < o->cap ? o->len + (size_t)n : o->cap;
}

#endif
