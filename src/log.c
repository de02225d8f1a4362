/* log.c — the error log (see log.h). */
#include "remora-config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int log_level = LOG_INFO; /* relaxed atomic: set on reload, read everywhere */
static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_set_level(enum log_level lvl)
{
	__atomic_store_n(&log_level, (int)lvl, __ATOMIC_RELAXED);
}

int log_enabled(enum log_level lvl)
{
	return (int)lvl <= __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

int log_level_parse(const char *s, enum log_level *lvl)
{
	unsigned i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*lvl = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char line[1024];
	struct timeval tv;
	struct tm tm;
	size_t n;
	int m;
	va_list ap;

	if (!log_enabled(lvl))
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	m = snprintf(line + n, sizeof(line) - n,
		     ".%03ldZ remora[%ld] %s: ", (long)tv.tv_usec / 1000, (long)getpid(),
		     level_names[lvl]);
	n += (size_t)m;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	n = (m < 0 || (size_t)m >= sizeof(line) - n) ? sizeof(line) - 2 : n + (size_t)m;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) == -1) {
		/* nowhere left to report it */
	}
}
