/*
 * stats.h — counters with one writer thread and any number of readers
 * (the admin thread's /metrics, the exit summary).
 *
 * The owner adds with a relaxed atomic store of its own previous value (a
 * plain add, no lock prefix: there is only one writer); readers load
 * relaxed. Counters are monotonic; a reader may see them a moment late.
 */
#ifndef REMORA_STATS_H
#define REMORA_STATS_H

#include <stdint.h>

#define STAT_ADD(x, n) __atomic_store_n(&(x), (x) + (uint64_t)(n), __ATOMIC_RELAXED)
#define STAT_INC(x)    STAT_ADD(x, 1)
#define STAT_GET(x)    __atomic_load_n(&(x), __ATOMIC_RELAXED)

#endif

/*
 * Flags, pointers and shared counters between threads: C11-style atomics
 * (GCC builtins), which ThreadSanitizer understands — liburcu 0.13's
 * uatomic_* are inline assembly it cannot see.
 */
#define ATOMIC_GET(x)	  __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define ATOMIC_SET(x, v)  __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)
#define ATOMIC_XCHG(x, v) __atomic_exchange_n(&(x), (v), __ATOMIC_ACQ_REL)
#define ATOMIC_ADD(x, v)  __atomic_add_fetch(&(x), (v), __ATOMIC_ACQ_REL)
#define ATOMIC_SUB(x, v)  __atomic_sub_fetch(&(x), (v), __ATOMIC_ACQ_REL)
