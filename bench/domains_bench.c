// SPDX-License-Identifier: MIT
/*
 * domains_bench — load time, memory and lookups per second of the domain
 * set (src/domains.c) behind [acl] deny_domains (docs/benchmarks.md).
 *
 *	domains_bench [-n N[,N...]] [-q QUERIES] [--smoke]
 *
 * For each N (default 10000,100000,1000000) it generates N list names
 * (deterministic: random second-level labels of 6-20 characters under 12
 * TLDs, 30% with a subdomain, 25% written as ".suffix"), writes them as a
 * list file, then measures:
 *   load      the list text parsed and built into a set (in memory), and a
 *             whole config_load_string() with deny_domains_file = the file;
 *   memory    bytes the set requested (domains_bytes), bytes jemalloc's
 *             stats.allocated grew by, and the growth of the resident set;
 *   lookups   QUERIES (default 1000000) hosts per mix: "hit" (listed names
 *             and names below listed suffixes), "miss" (fresh names of the
 *             same shape), "50/50".
 * Times are CPU time of the process (the machine may be shared); wall time
 * is printed beside them. Prints one Markdown table. --smoke: N = 1000,
 * 10000 queries (meson test 'domains_bench', suite bench).
 */
#include "remora-config.h"

#include <errno.h>
#if HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "domains.h"

#define HOST_MAX 96

struct clocks {
	struct timespec cpu, wall;
};

static void clocks_now(struct clocks *c)
{
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c->cpu);
	clock_gettime(CLOCK_MONOTONIC, &c->wall);
}

static double secs(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* xorshift64*: deterministic names for every run */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/* One list-shaped name into out (no leading dot); returns its length. */
static int gen_name(uint64_t *s, char *out, size_t len)
{
	static const char *const tld[] = {"com", "net", "org", "ru",	 "de",	 "info",
					  "xyz", "io",	"uk",  "online", "site", "club"};
	static const char *const sub[] = {"www", "m", "cdn", "static", "img", "api"};
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	char sld[24];
	int n = 6 + (int)(rnd(s) % 15), i, r;

	for (i = 0; i < n; i++)
		sld[i] = alnum[rnd(s) % (i == 0 ? 26 : 36)];
	sld[n] = '\0';
	r = (int)(rnd(s) % 10);
	if (r < 3)
		return snprintf(out, len, "%s.%s.%s", sub[rnd(s) % 6], sld, tld[rnd(s) % 12]);
	return snprintf(out, len, "%s.%s", sld, tld[rnd(s) % 12]);
}

static size_t allocated(void)
{
#if HAVE_JEMALLOC
	uint64_t epoch = 1;
	size_t v = 0, sz = sizeof(epoch);

	(void)mallctl("epoch", NULL, NULL, &epoch, sz);
	sz = sizeof(v);
	(void)mallctl("stats.allocated", &v, &sz, NULL, 0);
	return v;
#else
	return 0;
#endif
}

static size_t rss(void)
{
	unsigned long size, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f != NULL) {
		if (fscanf(f, "%lu %lu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res * (size_t)sysconf(_SC_PAGESIZE);
}

struct list {
	char *text; /* the list file's contents */
	size_t len;
	size_t *off; /* start of each name in text (with its dot, if any) */
	double avg_len;
};

static void make_list(struct list *l, size_t n)
{
	uint64_t s = 0x9e3779b97f4a7c15ull;
	size_t cap = n * 40 + 64, i, total = 0;
	int k;

	l->text = malloc(cap);
	l->off = malloc(n * sizeof(*l->off));
	if (l->text == NULL || l->off == NULL)
		exit(1);
	l->len = 0;
	for (i = 0; i < n; i++) {
		l->off[i] = l->len;
		if (rnd(&s) % 4 == 0)
			l->text[l->len++] = '.';
		k = gen_name(&s, l->text + l->len, cap - l->len);
		total += (size_t)k;
		l->len += (size_t)k;
		l->text[l->len++] = '\n';
	}
	l->avg_len = (double)total / (double)n;
}

/* Queries: mix 0 hit, 1 miss, 2 half and half; q hosts of HOST_MAX bytes. */
static char *make_queries(const struct list *l, size_t n, size_t q, int mix)
{
	uint64_t s = 0x1234567ull + (uint64_t)mix;
	char *h = malloc(q * HOST_MAX), *name;
	size_t i, j, nl;

	if (h == NULL)
		exit(1);
	for (i = 0; i < q; i++) {
		char *out = h + i * HOST_MAX;

		if (mix == 1 || (mix == 2 && i % 2)) {
			gen_name(&s, out, HOST_MAX);
			continue;
		}
		j = rnd(&s) % n;
		name = l->text + l->off[j];
		nl = strcspn(name, "\n");
		if (name[0] == '.' && rnd(&s) % 2) /* below the suffix */
			snprintf(out, HOST_MAX, "x9%.*s", (int)nl, name);
		else if (name[0] == '.') /* the suffix's own name */
			snprintf(out, HOST_MAX, "%.*s", (int)nl - 1, name + 1);
		else
			snprintf(out, HOST_MAX, "%.*s", (int)nl, name);
	}
	return h;
}

/* Lookups per second (CPU) over q hosts; *hits counts the hits. */
static double lookups(const struct domains *d, const char *h, size_t q, size_t *hits)
{
	struct clocks a, b;
	size_t i, n = 0;

	clocks_now(&a);
	for (i = 0; i < q; i++)
		n += domains_match(d, h + i * HOST_MAX, strlen(h + i * HOST_MAX), NULL) !=
		     DOMAINS_MISS;
	clocks_now(&b);
	*hits = n;
	return (double)q / secs(&a.cpu, &b.cpu);
}

static int run(size_t n, size_t q)
{
	struct list l;
	struct domains_builder *b;
	struct domains *d = NULL;
	struct config *cfg = NULL;
	struct clocks t0, tp, t1, t2, t3;
	size_t a0, a1, r0, r1, line = 0, hits[3];
	double rate[3];
	char path[] = "/tmp/remora-domains-bench-XXXXXX", conf[256], err[1024], *qs;
	int fd, mix;

	make_list(&l, n);
	fd = mkstemp(path);
	if (fd == -1 || write(fd, l.text, l.len) != (ssize_t)l.len) {
		perror("domains_bench: list file");
		return 1;
	}
	close(fd);

	a0 = allocated();
	r0 = rss();
	clocks_now(&t0);
	b = domains_builder_new();
	if (b == NULL || domains_builder_add_list(b, l.text, l.len, &line) < 0 ||
	    (clocks_now(&tp), domains_build(b, &d)) < 0) {
		fprintf(stderr, "domains_bench: build failed (line %zu)\n", line);
		return 1;
	}
	clocks_now(&t1);
	a1 = allocated();
	r1 = rss();

	snprintf(conf, sizeof(conf),
		 "[listener a]\nlisten = 127.0.0.1:3129\n[acl]\ndeny_domains_file = %s\n", path);
	clocks_now(&t2);
	if (config_load_string("bench.conf", conf, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "domains_bench: %s\n", err);
		return 1;
	}
	clocks_now(&t3);
	config_free(cfg);
	unlink(path);

	for (mix = 0; mix < 3; mix++) {
		qs = make_queries(&l, n, q, mix);
		(void)lookups(d, qs, q < 100000 ? q : 100000, &hits[mix]); /* warm up */
		rate[mix] = lookups(d, qs, q, &hits[mix]);
		free(qs);
	}
	printf("| %zu | %zu | %.1f | %.0f + %.0f (%.0f) | %.0f (%.0f) | %.1f | %.1f | %.1f | %.1f "
	       "(%zu%%) "
	       "| "
	       "%.1f (%zu%%) | %.1f (%zu%%) |\n",
	       n, domains_count(d), l.avg_len, secs(&t0.cpu, &tp.cpu) * 1e3,
	       secs(&tp.cpu, &t1.cpu) * 1e3, secs(&t0.wall, &t1.wall) * 1e3,
	       secs(&t2.cpu, &t3.cpu) * 1e3, secs(&t2.wall, &t3.wall) * 1e3,
	       (double)domains_bytes(d) / (double)n, (double)(a1 - a0) / (double)n,
	       (double)(r1 > r0 ? r1 - r0 : 0) / (double)n, rate[0] / 1e6, hits[0] * 100 / q,
	       rate[1] / 1e6, hits[1] * 100 / q, rate[2] / 1e6, hits[2] * 100 / q);
	fflush(stdout);
	domains_free(d);
	free(l.text);
	free(l.off);
	return 0;
}

int main(int argc, char **argv)
{
	size_t sizes[8] = {10000, 100000, 1000000}, n_sizes = 3, q = 1000000, i;
	char *p, *end;
	int opt;

	if (argc > 1 && strcmp(argv[1], "--smoke") == 0) {
		sizes[0] = 1000;
		n_sizes = 1;
		q = 10000;
		argc = 1;
	}
	while ((opt = getopt(argc, argv, "n:q:")) != -1) {
		switch (opt) {
		case 'n':
			for (n_sizes = 0, p = optarg; *p && n_sizes < 8; p = *end ? end + 1 : end)
				sizes[n_sizes++] = strtoul(p, &end, 10);
			break;
		case 'q':
			q = strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr,
				"usage: domains_bench [-n N[,N...]] [-q QUERIES] | --smoke\n");
			return 2;
		}
	}
	printf("| names | unique | avg length | load: parse + build, ms CPU (wall, total) | "
	       "load: config file, ms CPU (wall) | bytes/name requested | bytes/name jemalloc | "
	       "RSS growth/name | Mlookups/s hit (hits) | miss | 50/50 |\n"
	       "|---|---|---|---|---|---|---|---|---|---|---|\n");
	for (i = 0; i < n_sizes; i++)
		if (sizes[i] == 0 || q == 0 || run(sizes[i], q) != 0)
			return 1;
	return 0;
}
