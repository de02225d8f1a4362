/*
 * test_histo.c — the latency histograms (histo.c): which bucket a value
 * falls in at and around every bound, _sum and _count, merging, the text
 * exposition checked against the Prometheus text format's rules for
 * histograms (a _bucket line per bound in increasing le order, cumulative
 * and monotone, le="+Inf" last and equal to _count, then _sum and _count,
 * label values escaped), output cut at the buffer's end, and the listener
 * slots' names across reloads.
 */
#include "remora-config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "histo.h"
#include "unit.h"

static const uint64_t bounds[HISTO_FINITE] = {HISTO_BOUNDS_US};

static struct histo_set *set_new(void)
{
	struct histo_set *s = calloc(1, sizeof(*s));

	ck_assert_ptr_nonnull(s);
	return s;
}

/* The only bucket of h holding an observation (-1: none or several). */
static int only_bucket(const struct histo *h)
{
	int i, found = -1;

	for (i = 0; i < HISTO_BUCKETS; i++) {
		if (h->bucket[i] == 0)
			continue;
		if (found >= 0 || h->bucket[i] != 1)
			return -1;
		found = i;
	}
	return found;
}

START_TEST(bucket_bounds)
{
	unsigned i;

	/* le is inclusive: a bound itself falls in its own bucket, one µs more
	 * in the next one */
	for (i = 0; i < HISTO_FINITE; i++) {
		struct histo_set *s = set_new();

		histo_observe(s, HISTO_CONNECT, 0, bounds[i]);
		ck_assert_int_eq(only_bucket(&s->h[HISTO_CONNECT][0]), (int)i);
		memset(s, 0, sizeof(*s));
		histo_observe(s, HISTO_CONNECT, 0, bounds[i] + 1);
		ck_assert_int_eq(only_bucket(&s->h[HISTO_CONNECT][0]), (int)i + 1);
		if (i > 0) {
			memset(s, 0, sizeof(*s));
			histo_observe(s, HISTO_CONNECT, 0, bounds[i] - 1);
			ck_assert_int_eq(only_bucket(&s->h[HISTO_CONNECT][0]), (int)i);
		}
		free(s);
	}
	ck_assert_uint_eq(bounds[0], 100);		       /* 100 µs */
	ck_assert_uint_eq(bounds[HISTO_FINITE - 1], 60000000); /* 60 s */
	for (i = 1; i < HISTO_FINITE; i++)
		ck_assert_uint_gt(bounds[i], bounds[i - 1]);
}
END_TEST

START_TEST(sum_count_and_slots)
{
	struct histo_set *s = set_new();
	struct histo m = {{0}, 0};
	uint64_t sum = 0;
	unsigned i, n = 0;

	histo_observe(s, HISTO_REQUEST, 0, 0);
	ck_assert_int_eq(only_bucket(&s->h[HISTO_REQUEST][0]), 0);
	histo_observe(s, HISTO_REQUEST, 0, UINT64_MAX / 4);
	ck_assert_uint_eq(s->h[HISTO_REQUEST][0].bucket[HISTO_FINITE], 1);
	memset(s, 0, sizeof(*s));
	for (i = 0; i < 1000; i++) {
		uint64_t us = (uint64_t)i * i * 97;

		histo_observe(s, HISTO_FIRST_BYTE, 3, us);
		sum += us;
		n++;
	}
	histo_observe(s, HISTO_FIRST_BYTE, 1000, 5); /* out of range: the last slot */
	ck_assert_uint_eq(s->h[HISTO_FIRST_BYTE][HISTO_SLOTS - 1].bucket[0], 1);
	ck_assert_uint_eq(s->h[HISTO_FIRST_BYTE][3].sum_us, sum);
	histo_merge(&m, &s->h[HISTO_FIRST_BYTE][3]);
	histo_merge(&m, &s->h[HISTO_FIRST_BYTE][3]);
	ck_assert_uint_eq(m.sum_us, 2 * sum);
	sum = 0;
	for (i = 0; i < HISTO_BUCKETS; i++)
		sum += m.bucket[i];
	ck_assert_uint_eq(sum, 2 * n);
	/* other kinds and slots untouched */
	ck_assert_uint_eq(s->h[HISTO_CONNECT][3].sum_us, 0);
	ck_assert_uint_eq(s->h[HISTO_FIRST_BYTE][2].bucket[0], 0);
	free(s);
}
END_TEST

/* Parses one line `NAME{listener="L",le="X"} V` (le optional); returns the
 * number of fields read. */
static int parse_line(const char *line, char *name, char *lval, char *le, double *v)
{
	if (sscanf(line, "%127[a-z_]{listener=\"%63[^\"]\",le=\"%15[^\"]\"} %lf", name, lval, le,
		   v) == 4)
		return 4;
	le[0] = '\0';
	return sscanf(line, "%127[a-z_]{listener=\"%63[^\"]\"} %lf", name, lval, v) == 3 ? 3 : 0;
}

START_TEST(exposition)
{
	static const uint64_t obs[] = {0,	99,	  100,	    101,	250,
				       900,	1000,	  30000,    70000,	1200000,
				       9999999, 59000000, 60000001, 3600000000u};
	struct histo_set *s = set_new();
	char buf[8192], name[128], lval[64], le[16], *line, *save = NULL;
	double v, prev = -1, prev_le = -1, inf = -1, count = -1, sumv = -1;
	unsigned i, buckets = 0;
	uint64_t sum = 0;
	size_t n;

	for (i = 0; i < ARRAY_SIZE(obs); i++) {
		histo_observe(s, HISTO_CONNECT, 2, obs[i]);
		sum += obs[i];
	}
	n = histo_format(buf, sizeof(buf), "remora_x_seconds", "listener", "l1",
			 &s->h[HISTO_CONNECT][2]);
	ck_assert_uint_lt(n, sizeof(buf));
	ck_assert_uint_eq(strlen(buf), n);
	ck_assert(n > 0 && buf[n - 1] == '\n');
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		int f = parse_line(line, name, lval, le, &v);

		ck_assert_msg(f != 0, "not a sample line: %s", line);
		ck_assert_str_eq(lval, "l1");
		if (f == 4) {
			ck_assert_str_eq(name, "remora_x_seconds_bucket");
			ck_assert_msg(inf < 0, "a bucket after +Inf: %s", line);
			ck_assert_msg(v >= prev, "not cumulative: %s", line);
			prev = v;
			if (strcmp(le, "+Inf") == 0) {
				inf = v;
			} else {
				double b = strtod(le, NULL);

				ck_assert_msg(b > prev_le, "le not increasing: %s", line);
				/* the bound in seconds is the bound in µs */
				ck_assert_uint_eq((uint64_t)(b * 1e6 + 0.5), bounds[buckets]);
				prev_le = b;
				/* cumulative: observations <= the bound */
				uint64_t want = 0;
				for (i = 0; i < ARRAY_SIZE(obs); i++)
					want += obs[i] <= bounds[buckets];
				ck_assert_msg(v == (double)want, "%s: want %llu", line,
					      (unsigned long long)want);
			}
			buckets++;
		} else if (strcmp(name, "remora_x_seconds_sum") == 0) {
			ck_assert_msg(inf >= 0 && count < 0, "_sum out of place");
			sumv = v;
		} else {
			ck_assert_str_eq(name, "remora_x_seconds_count");
			ck_assert_msg(sumv >= 0, "_count before _sum");
			count = v;
		}
	}
	ck_assert_uint_eq(buckets, HISTO_BUCKETS);
	ck_assert(inf == (double)ARRAY_SIZE(obs));
	ck_assert(count == inf);
	ck_assert_msg((uint64_t)(sumv * 1e6 + 0.5) == sum, "sum %f", sumv);
	free(s);
}
END_TEST

START_TEST(exposition_escapes_and_cuts)
{
	struct histo h = {{0}, 1};
	char buf[4096], small[100];
	size_t n, cut;

	n = histo_format(buf, sizeof(buf), "m", "listener", "a\"b\\c\nd", &h);
	ck_assert_ptr_nonnull(strstr(buf, "m_count{listener=\"a\\\"b\\\\c\\nd\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(buf, "m_sum{listener=\"a\\\"b\\\\c\\nd\"} 0.000001\n"));
	ck_assert_ptr_nonnull(
		strstr(buf, "m_bucket{listener=\"a\\\"b\\\\c\\nd\",le=\"+Inf\"} 0\n"));
	/* cut short: never beyond len, a prefix of the whole */
	for (cut = 0; cut + 1 < sizeof(small); cut++) {
		size_t r;

		memset(small, 'Z', sizeof(small));
		r = histo_format(small, cut, "m", "listener", "a\"b\\c\nd", &h);
		ck_assert_uint_le(r, cut);
		ck_assert_int_eq(small[cut], 'Z'); /* nothing written past len */
		/* (a line cut short ends in a NUL) */
		ck_assert_int_eq(memcmp(small, buf, r > 0 ? r - 1 : 0), 0);
	}
	ck_assert_uint_gt(n, sizeof(small));
}
END_TEST

static void set_listeners(struct config *cfg, const char *const *names, size_t n)
{
	size_t i;

	cfg->n_listeners = n;
	for (i = 0; i < n; i++)
		snprintf(cfg->listeners[i].name, sizeof(cfg->listeners[i].name), "%s", names[i]);
}

START_TEST(names_follow_listeners)
{
	static const char *const first[] = {"a", "b"}, *const second[] = {"c", "b", "a"};
	struct histo_names *t = calloc(1, sizeof(*t));
	struct config *cfg = calloc(1, sizeof(*cfg));
	char nm[16];
	unsigned i;

	ck_assert(t != NULL && cfg != NULL);
	set_listeners(cfg, first, 2);
	histo_names_assign(t, cfg);
	ck_assert_uint_eq(histo_names_count(t), 2);
	ck_assert_uint_eq(cfg->listeners[0].metrics_slot, 0);
	ck_assert_uint_eq(cfg->listeners[1].metrics_slot, 1);
	/* a reload that reorders and adds: each name keeps its slot */
	set_listeners(cfg, second, 3);
	histo_names_assign(t, cfg);
	ck_assert_uint_eq(histo_names_count(t), 3);
	ck_assert_uint_eq(cfg->listeners[0].metrics_slot, 2); /* c: new */
	ck_assert_uint_eq(cfg->listeners[1].metrics_slot, 1); /* b */
	ck_assert_uint_eq(cfg->listeners[2].metrics_slot, 0); /* a */
	ck_assert_str_eq(histo_names_get(t, 0), "a");
	ck_assert_str_eq(histo_names_get(t, 2), "c");
	/* a full table: newer names share the last slot */
	cfg->n_listeners = 1;
	for (i = 0; i < HISTO_SLOTS + 5; i++) {
		snprintf(nm, sizeof(nm), "x%u", i);
		snprintf(cfg->listeners[0].name, sizeof(cfg->listeners[0].name), "%s", nm);
		histo_names_assign(t, cfg);
		ck_assert_uint_lt(cfg->listeners[0].metrics_slot, HISTO_SLOTS);
	}
	ck_assert_uint_eq(histo_names_count(t), HISTO_SLOTS);
	ck_assert_uint_eq(cfg->listeners[0].metrics_slot, HISTO_SLOTS - 1);
	free(cfg);
	free(t);
}
END_TEST

START_TEST(kind_names)
{
	unsigned k, j;

	for (k = 0; k < HISTO_KINDS; k++) {
		const char *n = histo_kind_name(k);
		size_t len = strlen(n);

		ck_assert(strncmp(n, "remora_", 7) == 0);
		ck_assert(len > 8 && strcmp(n + len - 8, "_seconds") == 0);
		ck_assert(strlen(histo_kind_help(k)) > 0);
		for (j = 0; j < k; j++)
			ck_assert_str_ne(n, histo_kind_name(j));
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("histo");
	TCase *tc = tcase_create("histo");

	tcase_add_test(tc, bucket_bounds);
	tcase_add_test(tc, sum_count_and_slots);
	tcase_add_test(tc, exposition);
	tcase_add_test(tc, exposition_escapes_and_cuts);
	tcase_add_test(tc, names_follow_listeners);
	tcase_add_test(tc, kind_names);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
