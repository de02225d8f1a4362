/*
 * histo.h — latency histograms in Prometheus's shape (cumulative buckets
 * with le labels, _sum, _count), per worker and per listener.
 *
 * Writers and readers follow stats.h: each struct histo_set has one writer,
 * its worker thread, which adds with relaxed stores of its own values (no
 * lock, no lock-prefixed instruction); the admin thread merges every
 * worker's set with relaxed loads. Buckets are kept per bucket (not
 * cumulative) and _count is the sum of the buckets, so a merged snapshot is
 * always cumulative, monotone, and its +Inf bucket equals its _count, even
 * while workers write; _sum may lag a moment behind.
 *
 * Listener slots: a connection records into the slot of its listener
 * (listener_conf.metrics_slot). Slots belong to listener NAMES, not to
 * positions in a configuration: histo_names_assign() gives each name the
 * slot it had before (or the next free one) whenever a configuration is
 * loaded, so a reload that reorders, renames, adds or drops listeners never
 * moves one listener's history under another's name, and connections still
 * running under the old configuration count under their own listener's name.
 * A name that leaves the configuration keeps its slot and its series (they
 * stop growing). Beyond HISTO_SLOTS distinct names in the life of the
 * process, newer names share the last slot (and its name).
 *
 * Which thread may call what:
 *   histo_observe, histo_since       the set's worker only
 *   histo_merge, histo_format        any thread (relaxed reads)
 *   histo_names_assign               main thread, before cfg is published
 *   histo_names_count/_get           any thread (names never change once set)
 */
#ifndef REMORA_HISTO_H
#define REMORA_HISTO_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "util.h"

/* Upper bounds in µs of the finite buckets, 100 µs .. 60 s; one more bucket
 * (+Inf) takes what is above. */
#define HISTO_BOUNDS_US                                                                        \
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, \
		2500000, 5000000, 10000000, 30000000, 60000000
#define HISTO_FINITE  18
#define HISTO_BUCKETS (HISTO_FINITE + 1)
#define HISTO_SLOTS   CONFIG_MAX_LISTENERS

/* What is measured (one Prometheus histogram each; names in histo.c). */
enum histo_kind {
	HISTO_FIRST_BYTE, /* request head complete -> first response byte from the origin */
	HISTO_CONNECT,	  /* upstream connect() -> connected (successful connects only) */
	HISTO_REQUEST,	  /* request head's first byte -> exchange over (response sent) */
	HISTO_TLS_HELLO,  /* a TLS connection's first byte -> its complete ClientHello */
	HISTO_KINDS
};

struct histo {
	uint64_t bucket[HISTO_BUCKETS]; /* observations per bucket (not cumulative) */
	uint64_t sum_us;
};

struct histo_set {
	struct histo h[HISTO_KINDS][HISTO_SLOTS];
};

/* Listener names by slot (owned by the server; see the header comment). */
struct histo_names {
	unsigned n; /* slots in use: published with a release store */
	char name[HISTO_SLOTS][CONFIG_NAME_MAX];
};

/* Records one observation of us microseconds. slot < HISTO_SLOTS. */
void histo_observe(struct histo_set *s, enum histo_kind k, unsigned slot, uint64_t us);

/* The start stamp of a measurement: now_us(), or 0 when the histograms are
 * compiled out (-DREMORA_NO_HISTO, for benchmarks' A/B runs only). */
static inline uint64_t histo_now(void)
{
#ifdef REMORA_NO_HISTO
	return 0;
#else
	return now_us();
#endif
}

/* Records the time since *start (a histo_now() stamp) and clears *start, so
 * each stamp is observed at most once; does nothing when *start is 0. */
static inline void histo_since(struct histo_set *s, enum histo_kind k, unsigned slot,
			       uint64_t *start)
{
	uint64_t t = *start, now;

	if (t == 0)
		return;
	*start = 0;
	now = now_us();
	histo_observe(s, k, slot, now > t ? now - t : 0);
}

/* Adds the observations of src (read relaxed: src may be written meanwhile)
 * into acc (the caller's own). */
void histo_merge(struct histo *acc, const struct histo *src);

/* Metric name and help text of kind k ("remora_..._seconds"). */
const char *histo_kind_name(enum histo_kind k);
const char *histo_kind_help(enum histo_kind k);

/* Writes h's series in the Prometheus text format: a _bucket line per bound
 * (cumulative: le="0.0001" .. le="60", le="+Inf"), then _sum (in seconds)
 * and _count, each labelled lname="lvalue" (lvalue escaped as the format
 * wants: backslash, double quote, newline). No HELP or TYPE lines. Writes at
 * most len bytes (cut short when they do not fit) and returns the bytes
 * written. */
size_t histo_format(char *buf, size_t len, const char *name, const char *lname, const char *lvalue,
		    const struct histo *h);

/* Gives every listener of cfg its slot in t (the slot its name had, else the
 * next free one; the last slot when all are taken): sets
 * cfg->listeners[i].metrics_slot. Main thread, before cfg is published. */
void histo_names_assign(struct histo_names *t, struct config *cfg);
/* Slots in use, and the name of slot i < histo_names_count(t). Any thread. */
unsigned histo_names_count(const struct histo_names *t);
const char *histo_names_get(const struct histo_names *t, unsigned i);

#endif
