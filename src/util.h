/* util.h — small helpers shared by every room: assertions, time, containers. */
#ifndef REMORA_UTIL_H
#define REMORA_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ARRAY_SIZE(a)			      (sizeof(a) / sizeof((a)[0]))
#define container_of_const(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#define likely(x)			      __builtin_expect(!!(x), 1)
#define unlikely(x)			      __builtin_expect(!!(x), 0)

/*
 * REMORA_ASSERT is for corrupted invariants only: never for network input,
 * resource exhaustion or kernel errors (those are counted, logged, survived).
 */
#define REMORA_ASSERT(x)                                                                          \
	do {                                                                                      \
		if (unlikely(!(x))) {                                                             \
			fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #x); \
			abort();                                                                  \
		}                                                                                 \
	} while (0)

/* Monotonic milliseconds (coarse clock: ~1-4 ms resolution, a vDSO read). */
static inline uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Monotonic microseconds (the fine clock, a vDSO read): for deadlines shorter
 * than the coarse clock's tick. */
static inline uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

#endif
