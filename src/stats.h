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
