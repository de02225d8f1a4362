/* histo.c — latency histograms (see histo.h). */
#include "remora-config.h"

#include <stdio.h>
#include <string.h>

#include "histo.h"
#include "stats.h"
#include "textout.h"

static const uint64_t bounds_us[HISTO_FINITE] = {HISTO_BOUNDS_US};

/* The le label of each finite bound, in seconds as Prometheus writes them. */
static const char *const bound_le[HISTO_FINITE] = {
	"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
	"0.1",	  "0.25",    "0.5",    "1",	"2.5",	  "5",	   "10",   "30",    "60",
};

static const struct {
	const char *name, *help;
} kinds[HISTO_KINDS] = {
	[HISTO_FIRST_BYTE] = {"remora_response_first_byte_seconds",
			      "Time from a complete request head to the first byte of the "
			      "origin's response."},
	[HISTO_CONNECT] = {"remora_upstream_connect_seconds",
			   "Time to connect to the origin (successful connects)."},
	[HISTO_REQUEST] = {"remora_request_duration_seconds",
			   "Time from a request's first byte to the end of its response "
			   "(the origin's or Remora's own)."},
	[HISTO_TLS_HELLO] = {"remora_tls_hello_wait_seconds",
			     "Time from a TLS connection's first byte to its complete "
			     "ClientHello."},
};

void histo_observe(struct histo_set *s, enum histo_kind k, unsigned slot, uint64_t us)
{
	struct histo *h = &s->h[k][slot < HISTO_SLOTS ? slot : HISTO_SLOTS - 1];
	unsigned i = 0;

	/* most observations are short: a scan from the bottom ends early */
	while (i < HISTO_FINITE && us > bounds_us[i])
		i++;
	STAT_INC(h->bucket[i]);
	STAT_ADD(h->sum_us, us);
}

void histo_merge(struct histo *acc, const struct histo *src)
{
	unsigned i;

	for (i = 0; i < HISTO_BUCKETS; i++)
		acc->bucket[i] += STAT_GET(src->bucket[i]);
	acc->sum_us += STAT_GET(src->sum_us);
}

const char *histo_kind_name(enum histo_kind k)
{
	return kinds[k].name;
}

const char *histo_kind_help(enum histo_kind k)
{
	return kinds[k].help;
}

size_t histo_format(char *buf, size_t len, const char *name, const char *lname, const char *lvalue,
		    const struct histo *h)
{
	struct out t = {buf, 0, len};
	char v[2 * CONFIG_NAME_MAX + 1];
	uint64_t cum = 0;
	size_t j = 0;
	unsigned i;

	for (; *lvalue != '\0' && j + 2 < sizeof(v); lvalue++) {
		if (*lvalue == '\\' || *lvalue == '"' || *lvalue == '\n')
			v[j++] = '\\';
		v[j++] = *lvalue == '\n' ? 'n' : *lvalue;
	}
	v[j] = '\0';
	for (i = 0; i < HISTO_BUCKETS; i++) {
		cum += h->bucket[i];
		out(&t, "%s_bucket{%s=\"%s\",le=\"%s\"} %llu\n", name, lname, v,
		    i < HISTO_FINITE ? bound_le[i] : "+Inf", (unsigned long long)cum);
	}
	out(&t, "%s_sum{%s=\"%s\"} %llu.%06llu\n", name, lname, v,
	    (unsigned long long)(h->sum_us / 1000000), (unsigned long long)(h->sum_us % 1000000));
	out(&t, "%s_count{%s=\"%s\"} %llu\n", name, lname, v, (unsigned long long)cum);
	return t.len;
}

void histo_names_assign(struct histo_names *t, struct config *cfg)
{
	unsigned n = t->n, s;
	size_t i;

	for (i = 0; i < cfg->n_listeners; i++) {
		const char *name = cfg->listeners[i].name;

		for (s = 0; s < n && strcmp(t->name[s], name) != 0; s++)
			;
		if (s == n && n < HISTO_SLOTS) {
			snprintf(t->name[n], sizeof(t->name[n]), "%s", name);
			n++;
			/* the name is complete before a reader can see the slot */
			ATOMIC_SET(t->n, n);
		}
		cfg->listeners[i].metrics_slot = (uint8_t)(s < HISTO_SLOTS ? s : HISTO_SLOTS - 1);
	}
}

unsigned histo_names_count(const struct histo_names *t)
{
	return ATOMIC_GET(t->n);
}

const char *histo_names_get(const struct histo_names *t, unsigned i)
{
	return t->name[i];
}
