/*
 * log.h — the error log: one line per event on stderr (journald adds its own
 * timestamps under systemd; a terminal gets ours).
 *
 * Line format:  2026-11-28T07:30:00.123Z remora[pid] warn: <message>
 * Thread safety: every call may come from any thread; each line is written
 * with one write(2), so lines from different threads never interleave.
 */
#ifndef REMORA_LOG_H
#define REMORA_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Sets the most verbose level that is printed (default LOG_INFO). */
void log_set_level(enum log_level lvl);
/* Parses "error" | "warn" | "info" | "debug"; returns 0 or -1. */
int log_level_parse(const char *s, enum log_level *lvl);
int log_enabled(enum log_level lvl);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                   \
	do {                                             \
		if (log_enabled(LOG_DEBUG))              \
			log_msg(LOG_DEBUG, __VA_ARGS__); \
	} while (0)

#endif
