/*
 * test_domains.c — the domain-name set (domains.c): exact and suffix
 * semantics (Squid's dstdomain), case, trailing dots, refused names, list
 * files with line numbers, duplicates, a cross-check against a naive
 * matcher; and the [acl] deny_* keys (config_deny.c) with their errors.
 */
#include "remora-config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "domains.h"
#include "unit.h"
#include "util.h"

/* A set of the names in a NULL-terminated list (each must be accepted). */
static struct domains *set_of(const char *const *names)
{
	struct domains_builder *b = domains_builder_new();
	struct domains *d = NULL;

	ck_assert_ptr_nonnull(b);
	for (; *names != NULL; names++)
		ck_assert_msg(domains_builder_add(b, *names, strlen(*names)) == 0, "refused %s",
			      *names);
	ck_assert_int_eq(domains_build(b, &d), 0);
	return d;
}

#define SET(...) set_of((const char *const[]){__VA_ARGS__, NULL})

static enum domains_hit match(const struct domains *d, const char *host)
{
	return domains_match(d, host, strlen(host), NULL);
}

/* ---- semantics ------------------------------------------------------------ */

START_TEST(exact_names)
{
	struct domains *d = SET("a.example", "b.example.com");

	ck_assert_int_eq(match(d, "a.example"), DOMAINS_EXACT);
	ck_assert_int_eq(match(d, "b.example.com"), DOMAINS_EXACT);
	ck_assert_int_eq(match(d, "x.a.example"), DOMAINS_MISS); /* exact: no subdomains */
	ck_assert_int_eq(match(d, "example"), DOMAINS_MISS);
	ck_assert_int_eq(match(d, "example.com"), DOMAINS_MISS);
	ck_assert_int_eq(match(d, "aa.example"), DOMAINS_MISS);
	ck_assert_int_eq(match(d, "a.example.net"), DOMAINS_MISS);
	ck_assert_int_eq(match(d, ""), DOMAINS_MISS);
	ck_assert_int_eq(match(d, "."), DOMAINS_MISS);
	ck_assert_uint_eq(domains_count(d), 2);
	domains_free(d);
}
END_TEST

/* ".example.com" matches example.com itself and every name below it, as
 * Squid's dstdomain; never a name that merely ends in the same letters. */
START_TEST(suffix_names)
{
	struct domains *d = SET(".example.com", ".org");
	struct domains_rule r;

	ck_assert_int_eq(match(d, "example.com"), DOMAINS_SUFFIX);
	ck_assert_int_eq(match(d, "www.example.com"), DOMAINS_SUFFIX);
	ck_assert_int_eq(match(d, "a.b.c.example.com"), DOMAINS_SUFFIX);
	ck_assert_int_eq(match(d, "badexample.com"), DOMAINS_MISS);
	ck_assert_int_eq(match(d, "example.com.evil"), DOMAINS_MISS);
	ck_assert_int_eq(match(d, "com"), DOMAINS_MISS);
	ck_assert_int_eq(match(d, "org"), DOMAINS_SUFFIX);
	ck_assert_int_eq(match(d, "wikipedia.org"), DOMAINS_SUFFIX);
	ck_assert_int_eq(domains_match(d, "WWW.Example.COM", 15, &r), DOMAINS_SUFFIX);
	ck_assert_uint_eq(r.len, 11);
	ck_assert_int_eq(memcmp(r.name, "example.com", 11), 0);
	domains_free(d);
}
END_TEST

/* An exact name and a suffix for the same name merge: the suffix covers it. */
START_TEST(exact_and_suffix_of_one_name)
{
	struct domains *d = SET("example.com", ".example.com", "a.example.com");

	ck_assert_uint_eq(domains_count(d), 2);
	ck_assert_int_eq(match(d, "example.com"), DOMAINS_EXACT);
	ck_assert_int_eq(match(d, "a.example.com"), DOMAINS_EXACT);
	ck_assert_int_eq(match(d, "b.example.com"), DOMAINS_SUFFIX);
	domains_free(d);
	/* an exact name above the host does not match the host */
	d = SET("example.com", ".a.example.com");
	ck_assert_int_eq(match(d, "x.example.com"), DOMAINS_MISS);
	ck_assert_int_eq(match(d, "x.a.example.com"), DOMAINS_SUFFIX);
	domains_free(d);
}
END_TEST

START_TEST(case_and_trailing_dots)
{
	struct domains *d = SET("MiXeD.Example.", ".Suffix.NET.");
	struct domains_rule r;

	ck_assert_int_eq(match(d, "mixed.example"), DOMAINS_EXACT);
	ck_assert_int_eq(match(d, "MIXED.EXAMPLE."), DOMAINS_EXACT);
	ck_assert_int_eq(match(d, "mixed.example.."), DOMAINS_MISS); /* one dot only */
	ck_assert_int_eq(match(d, "a.SUFFIX.net."), DOMAINS_SUFFIX);
	ck_assert_int_eq(domains_match(d, "Mixed.Example", 13, &r), DOMAINS_EXACT);
	ck_assert_int_eq(r.len, 13);
	ck_assert_int_eq(memcmp(r.name, "mixed.example", 13), 0); /* stored lower-case */
	domains_free(d);
}
END_TEST

/* Punycode names are plain ASCII labels; UTF-8 is refused on the list and
 * never matches as a host. */
START_TEST(idn_as_given)
{
	struct domains *d = SET(".xn--bcher-kva.example");
	struct domains_builder *b = domains_builder_new();

	ck_assert_int_eq(match(d, "www.xn--bcher-kva.example"), DOMAINS_SUFFIX);
	ck_assert_int_eq(match(d, "www.b\xc3\xbc"
				  "cher.example"),
			 DOMAINS_MISS);
	ck_assert_int_eq(domains_builder_add(b,
					     "b\xc3\xbc"
					     "cher.example",
					     13),
			 -EINVAL);
	domains_builder_free(b);
	domains_free(d);
}
END_TEST

START_TEST(host_lengths)
{
	char host[300];
	struct domains *d;

	/* 253 characters: 3 labels of 63 + one of 61, dots between */
	memset(host, 'a', 253);
	host[63] = host[127] = host[191] = '.';
	host[253] = '\0';
	d = SET(host, ".example");
	ck_assert_int_eq(match(d, host), DOMAINS_EXACT);
	host[253] = '.';
	ck_assert_int_eq(domains_match(d, host, 254, NULL), DOMAINS_EXACT);
	/* a host longer than any name misses, even under a listed suffix */
	memset(host, 'b', sizeof(host));
	memcpy(host + 280, ".example", 9);
	ck_assert_int_eq(match(d, host), DOMAINS_MISS);
	ck_assert_int_eq(match(d, "x.example"), DOMAINS_SUFFIX);
	domains_free(d);
}
END_TEST

START_TEST(null_and_empty_sets)
{
	struct domains *d = NULL;

	ck_assert_int_eq(match(NULL, "a.example"), DOMAINS_MISS);
	ck_assert_uint_eq(domains_count(NULL), 0);
	ck_assert_int_eq(domains_build(domains_builder_new(), &d), 0);
	ck_assert_int_eq(match(d, "a.example"), DOMAINS_MISS);
	ck_assert_uint_eq(domains_count(d), 0);
	domains_free(d);
	domains_free(NULL);
	domains_builder_free(NULL);
}
END_TEST

/* ---- refused names ------------------------------------------------------ */

static const struct {
	const char *name;
	int rc;
} bad_names[] = {
	{"", -EINVAL},
	{".", -EINVAL},
	{"..", -EINVAL},
	{"a..b", -EINVAL},
	{"..a", -EINVAL},
	{"a..", -EINVAL},
	{"a b", -EINVAL},
	{"a\tb", -EINVAL},
	{"*.example.com", -EINVAL},
	{"a/b", -EINVAL},
	{"a:80", -EINVAL},
	{"[::1]", -EINVAL},
	{"a@b", -EINVAL},
	{"caf\xc3\xa9.example", -EINVAL},
	{"a\x7f.example", -EINVAL},
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example",
	 -ENAMETOOLONG}, /* a label of 64 */
};

START_TEST(bad_name)
{
	struct domains_builder *b = domains_builder_new();
	const char *name = bad_names[_i].name;

	ck_assert_int_eq(domains_builder_add(b, name, strlen(name)), bad_names[_i].rc);
	ck_assert_uint_eq(domains_builder_count(b), 0);
	domains_builder_free(b);
}
END_TEST

START_TEST(name_of_254_refused)
{
	struct domains_builder *b = domains_builder_new();
	char name[256];

	memset(name, 'a', 254);
	name[63] = name[127] = name[191] = '.';
	ck_assert_int_eq(domains_builder_add(b, name, 254), -ENAMETOOLONG);
	name[254] = '.'; /* the trailing dot does not count */
	ck_assert_int_eq(domains_builder_add(b, name + 1, 254), 0);
	/* a NUL inside the given length is a bad character, not an end */
	ck_assert_int_eq(domains_builder_add(b, "a\0b", 3), -EINVAL);
	domains_builder_free(b);
}
END_TEST

/* ---- list text ------------------------------------------------------------ */

START_TEST(list_text)
{
	static const char text[] = "# blocked by order 17/2024\n"
				   "\n"
				   "a.example\n"
				   "  .b.example   # and everything below\r\n"
				   "\tC.EXAMPLE\t\n"
				   "d.example"; /* no final newline */
	struct domains_builder *b = domains_builder_new();
	struct domains *d = NULL;
	size_t line = 0;

	ck_assert_int_eq(domains_builder_add_list(b, text, sizeof(text) - 1, &line), 0);
	ck_assert_uint_eq(domains_builder_count(b), 4);
	ck_assert_int_eq(domains_build(b, &d), 0);
	ck_assert_int_eq(match(d, "a.example"), DOMAINS_EXACT);
	ck_assert_int_eq(match(d, "x.b.example"), DOMAINS_SUFFIX);
	ck_assert_int_eq(match(d, "c.example"), DOMAINS_EXACT);
	ck_assert_int_eq(match(d, "d.example"), DOMAINS_EXACT);
	domains_free(d);
}
END_TEST

START_TEST(list_errors_name_the_line)
{
	static const struct {
		const char *text;
		size_t line;
		int rc;
	} cases[] = {
		{"a.example\nb..example\n", 2, -EINVAL},
		{"a.example\r\nb.example c.example\r\n", 2, -EINVAL}, /* two names */
		{"# c\n\n\n\n\n\n\n\n\n\n\na.example\nbad_name!\n", 13, -EINVAL},
		{"ok.example\n.\n", 2, -EINVAL},
		{"x.example\n\0\n", 2, -EINVAL},
	};
	struct domains_builder *b;
	size_t i, line;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		b = domains_builder_new();
		line = 0;
		ck_assert_int_eq(domains_builder_add_list(b, cases[i].text,
							  strlen(cases[i].text) + (i == 4 ? 2 : 0),
							  &line),
				 cases[i].rc);
		ck_assert_msg(line == cases[i].line, "case %zu: line %zu, expected %zu", i, line,
			      cases[i].line);
		domains_builder_free(b);
	}
}
END_TEST

/* ---- duplicates and a naive cross-check -------------------------------- */

START_TEST(duplicates_are_merged_and_compacted)
{
	struct domains_builder *b = domains_builder_new(), *b1 = domains_builder_new();
	struct domains *d = NULL, *d1 = NULL;
	char name[64];
	int i, n;

	for (i = 0; i < 3000; i++) {
		/* each name three times: exact, suffix, exact again */
		n = snprintf(name, sizeof(name), "%sname%d.example", i / 1000 == 1 ? "." : "",
			     i % 1000);
		ck_assert_int_eq(domains_builder_add(b, name, (size_t)n), 0);
		if (i < 1000)
			ck_assert_int_eq(domains_builder_add(b1, name, (size_t)n), 0);
	}
	ck_assert_int_eq(domains_build(b, &d), 0);
	ck_assert_int_eq(domains_build(b1, &d1), 0);
	ck_assert_uint_eq(domains_count(d), 1000);
	ck_assert_uint_eq(domains_bytes(d), domains_bytes(d1)); /* no room left to duplicates */
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "name%d.example", i);
		ck_assert_int_eq(match(d, name), DOMAINS_EXACT);
		ck_assert_int_eq(match(d1, name), DOMAINS_EXACT);
		snprintf(name, sizeof(name), "x.name%d.example", i);
		ck_assert_int_eq(match(d, name), DOMAINS_SUFFIX);
		ck_assert_int_eq(match(d1, name), DOMAINS_MISS);
	}
	domains_free(d);
	domains_free(d1);
}
END_TEST

/* The naive rule: EXACT when host equals an exact entry, SUFFIX when it
 * equals a suffix entry s or ends in "." s. */
static enum domains_hit naive(char (*names)[24], const int *suffix, int n, const char *host)
{
	size_t hl = strlen(host), nl;
	enum domains_hit best = DOMAINS_MISS;
	int i;

	for (i = 0; i < n; i++) {
		nl = strlen(names[i]);
		if (!suffix[i] && strcmp(host, names[i]) == 0)
			return DOMAINS_EXACT;
		if (suffix[i] && hl >= nl && strcmp(host + hl - nl, names[i]) == 0 &&
		    (hl == nl || host[hl - nl - 1] == '.'))
			best = DOMAINS_SUFFIX;
	}
	return best;
}

START_TEST(cross_check_with_naive)
{
	enum { N = 2000, Q = 20000 };
	static char names[N][24];
	static int suffix[N];
	struct domains_builder *b = domains_builder_new();
	struct domains *d = NULL;
	char host[64], *dot;
	unsigned seed = 11;
	int i, got, want;

	/* small alphabet, few labels: many shared suffixes and near misses */
	for (i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "%c%u.%c%u.%s", 'a' + rand_r(&seed) % 3,
			 rand_r(&seed) % 40, 'a' + rand_r(&seed) % 3, rand_r(&seed) % 5,
			 rand_r(&seed) % 2 ? "t" : "u");
		suffix[i] = rand_r(&seed) % 3 == 0;
		if (suffix[i]) {
			char s[26];

			snprintf(s, sizeof(s), ".%s", names[i]);
			ck_assert_int_eq(domains_builder_add(b, s, strlen(s)), 0);
		} else {
			ck_assert_int_eq(domains_builder_add(b, names[i], strlen(names[i])), 0);
		}
	}
	ck_assert_int_eq(domains_build(b, &d), 0);
	for (i = 0; i < Q; i++) {
		snprintf(host, sizeof(host), "%c%u.%c%u.%c%u.%s", 'a' + rand_r(&seed) % 3,
			 rand_r(&seed) % 40, 'a' + rand_r(&seed) % 3, rand_r(&seed) % 40,
			 'a' + rand_r(&seed) % 3, rand_r(&seed) % 5, rand_r(&seed) % 2 ? "t" : "u");
		dot = host;
		if (i % 2) /* also hosts with 3 labels, which may equal a name */
			dot = strchr(host, '.') + 1;
		want = naive(names, suffix, N, dot);
		got = match(d, dot);
		ck_assert_msg(got == want, "%s: %d, naive %d", dot, got, want);
	}
	domains_free(d);
}
END_TEST

/* A million names build and answer in the unit test's time (the numbers
 * are in bench/domains_bench.c; here only an upper bound per name). */
START_TEST(million_names)
{
	struct domains_builder *b = domains_builder_new();
	struct domains *d = NULL;
	char name[64];
	struct timespec t0, t1;
	double secs;
	int i, n;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0); /* CPU time: the machine may be busy */
	for (i = 0; i < 1000000; i++) {
		n = snprintf(name, sizeof(name), "%sh%07x.example%d.com", i % 4 ? "" : ".", i,
			     i % 97);
		ck_assert_int_eq(domains_builder_add(b, name, (size_t)n), 0);
	}
	ck_assert_int_eq(domains_build(b, &d), 0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_uint_eq(domains_count(d), 1000000);
	ck_assert_msg(domains_bytes(d) / 1000000 < 64, "%zu bytes a name",
		      domains_bytes(d) / 1000000);
	ck_assert_int_eq(match(d, "h0000004.example4.com"), DOMAINS_SUFFIX);
	ck_assert_int_eq(match(d, "x.h0000004.example4.com"), DOMAINS_SUFFIX);
	ck_assert_int_eq(match(d, "h0000005.example5.com"), DOMAINS_EXACT);
	ck_assert_int_eq(match(d, "x.h0000005.example5.com"), DOMAINS_MISS);
	ck_assert_int_eq(match(d, "h0000005.example6.com"), DOMAINS_MISS);
	domains_free(d);
	/* about 0.3 s; 5.5 s under ASan: this bound only catches a blow-up */
	ck_assert_msg(secs < 20.0, "built in %.2f s of CPU", secs);
}
END_TEST

/* ---- [acl] deny_* keys ------------------------------------------------- */

#define NAME	 "test.conf"
#define LISTENER "[listener a]\nlisten = 192.0.2.1:3129\n"

static char err[1024];

static struct config *load(const char *text)
{
	struct config *cfg = NULL;

	if (config_load_string(NAME, text, &cfg, err, sizeof(err)) < 0)
		return NULL;
	return cfg;
}

/* A temporary file with text; its path in path (unlink when done). */
static void temp_file(char *path, size_t len, const char *text, size_t n)
{
	int fd;

	snprintf(path, len, "/tmp/remora-test-domains-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, text, n), (ssize_t)n);
	close(fd);
}

START_TEST(config_defaults_off)
{
	struct config *cfg = load(LISTENER);

	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_ptr_null(cfg->deny_domains);
	ck_assert_int_eq(cfg->deny_http, DENY_HTTP_451);
	ck_assert_int_eq(cfg->deny_tls, DENY_TLS_RESET);
	ck_assert_ptr_null(cfg->deny_body);
	ck_assert_int_eq(config_domain_denied(cfg, "a.example", 9), DOMAINS_MISS);
	config_free(cfg);
}
END_TEST

START_TEST(config_inline_and_file)
{
	char list[64], body[64], text[1024];
	struct config *cfg;

	temp_file(list, sizeof(list), "# list\nfile.example\n.sub.example\n", 32);
	temp_file(body, sizeof(body), "<h1>451</h1>\n", 13);
	snprintf(text, sizeof(text),
		 LISTENER "[acl]\n"
			  "deny_domains = a.example, .b.example\n"
			  "deny_domains = c.example\n"
			  "deny_domains_file = %s\n"
			  "deny_http = 451\n"
			  "deny_body_file = %s\n"
			  "deny_tls = alert\n",
		 list, body);
	cfg = load(text);
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_uint_eq(domains_count(cfg->deny_domains), 5);
	ck_assert_int_eq(cfg->deny_tls, DENY_TLS_ALERT);
	ck_assert_uint_eq(cfg->deny_body_len, 13);
	ck_assert_str_eq(cfg->deny_body, "<h1>451</h1>\n");
	ck_assert_int_eq(config_domain_denied(cfg, "a.example", 9), DOMAINS_EXACT);
	ck_assert_int_eq(config_domain_denied(cfg, "x.b.example", 11), DOMAINS_SUFFIX);
	ck_assert_int_eq(config_domain_denied(cfg, "c.example:8080", 14), DOMAINS_EXACT);
	ck_assert_int_eq(config_domain_denied(cfg, "user@file.example:80", 20), DOMAINS_EXACT);
	ck_assert_int_eq(config_domain_denied(cfg, "w.SUB.example.", 14), DOMAINS_SUFFIX);
	ck_assert_int_eq(config_domain_denied(cfg, "[2001:db8::1]:80", 16), DOMAINS_MISS);
	ck_assert_int_eq(config_domain_denied(cfg, "d.example", 9), DOMAINS_MISS);
	ck_assert_int_eq(config_domain_denied(cfg, "", 0), DOMAINS_MISS);
	config_free(cfg);
	unlink(list);
	unlink(body);
}
END_TEST

START_TEST(config_redirect)
{
	struct config *cfg = load(LISTENER "[acl]\ndeny_domains = a.example\ndeny_http = redirect\n"
					   "deny_redirect = https://blocked.example/?why=451\n");

	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_int_eq(cfg->deny_http, DENY_HTTP_REDIRECT);
	ck_assert_str_eq(cfg->deny_redirect, "https://blocked.example/?why=451");
	config_free(cfg);
}
END_TEST

/* A bad name in a list file: the message names the config file and the
 * key's line, the list file and the name's line. */
START_TEST(config_list_error_names_file_and_line)
{
	char list[64], text[512], want[128];

	temp_file(list, sizeof(list), "a.example\n# comment\n\nb..example\n", 32);
	snprintf(text, sizeof(text),
		 LISTENER "[acl]\ndeny_domains = a.example\n"
			  "deny_domains_file = %s\n",
		 list);
	ck_assert_ptr_null(load(text));
	snprintf(want, sizeof(want), NAME ":5: [acl] deny_domains_file: %s:4: invalid name", list);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "'%s' is not '%s...'", err, want);
	unlink(list);
	ck_assert_ptr_null(load(text)); /* now missing */
	ck_assert_msg(strstr(err, "cannot read") != NULL && strstr(err, list) != NULL &&
			      strstr(err, "No such file") != NULL,
		      "%s", err);
}
END_TEST

/* inih reads a line and its newline into 199 bytes and parses the rest as a
 * line of its own: a longer line is refused on its own line, with advice. */
START_TEST(config_long_line)
{
	char text[512], name[256];
	struct config *cfg;
	size_t n = 198 - strlen("deny_domains = ");

	memset(name, 'a', n);
	name[63] = name[127] = '.';
	name[n] = '\0';
	snprintf(text, sizeof(text), LISTENER "[acl]\ndeny_domains = %s\n", name);
	cfg = load(text);
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_int_eq(config_domain_denied(cfg, name, n), DOMAINS_EXACT);
	config_free(cfg);
	snprintf(text, sizeof(text), LISTENER "[acl]\ndeny_domains = %sa\n", name);
	ck_assert_ptr_null(load(text));
	ck_assert_msg(strncmp(err, NAME ":4: line too long (over 198 characters", 39) == 0, "%s",
		      err);
}
END_TEST

static const struct {
	const char *text;
	int line;
	const char *want;
} config_errors[] = {
	{"deny_domains = a.example, b..example\n", 4, "[acl] deny_domains: 'b..example': invalid"},
	{"deny_domains = .\n", 4, "'.': invalid name"},
	{"deny_domains_file = relative.txt\n", 4, "not an absolute path"},
	{"deny_domains_file = /nonexistent/remora/list\n", 4, "cannot read /nonexistent"},
	{"deny_domains_file = /tmp\n", 4, "Is a directory"},
	{"deny_http = 403\n", 4, "deny_http: invalid value '403' (expected 451 | redirect)"},
	{"deny_http = 451\ndeny_http = 451\n", 5, "deny_http: key given twice"},
	{"deny_tls = drop\n", 4, "deny_tls: invalid value 'drop' (expected reset | alert)"},
	{"deny_http = redirect\n", 4, "deny_http: redirect needs deny_redirect"},
	{"deny_domains = a.example\ndeny_redirect = http://x.example/\n", 5,
	 "deny_redirect: only used with deny_http = redirect"},
	{"deny_http = redirect\ndeny_redirect = ftp://x.example/\n", 5,
	 "deny_redirect: invalid value 'ftp://x.example/'"},
	{"deny_http = redirect\ndeny_redirect = https://x.example/a b\n", 5,
	 "deny_redirect: invalid value"},
	{"deny_http = redirect\ndeny_redirect = https://\n", 5, "deny_redirect: invalid value"},
	{"deny_http = redirect\ndeny_redirect = https://x.example/\ndeny_body_file = /dev/null\n",
	 6, "deny_body_file: only used with deny_http = 451"},
	{"deny_body_file = /nonexistent/remora/body\n", 4, "deny_body_file: cannot read"},
	{"deny_body_file = /tmp\n", 4, "Is a directory"},
	{"deny_everything = on\n", 4, "[acl] deny_everything: unknown key"},
};

START_TEST(config_error)
{
	char text[512], prefix[32];

	snprintf(text, sizeof(text), LISTENER "[acl]\n%s", config_errors[_i].text);
	ck_assert_msg(load(text) == NULL, "accepted: %s", text);
	snprintf(prefix, sizeof(prefix), NAME ":%d: ", config_errors[_i].line);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "'%s' does not start with '%s'",
		      err, prefix);
	ck_assert_msg(strstr(err, config_errors[_i].want) != NULL, "'%s' does not say '%s'", err,
		      config_errors[_i].want);
}
END_TEST

static Suite *domains_suite(void)
{
	Suite *s = suite_create("domains");
	TCase *tc = tcase_create("semantics");

	tcase_add_test(tc, exact_names);
	tcase_add_test(tc, suffix_names);
	tcase_add_test(tc, exact_and_suffix_of_one_name);
	tcase_add_test(tc, case_and_trailing_dots);
	tcase_add_test(tc, idn_as_given);
	tcase_add_test(tc, host_lengths);
	tcase_add_test(tc, null_and_empty_sets);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_loop_test(tc, bad_name, 0, (int)ARRAY_SIZE(bad_names));
	tcase_add_test(tc, name_of_254_refused);
	tcase_add_test(tc, list_text);
	tcase_add_test(tc, list_errors_name_the_line);
	suite_add_tcase(s, tc);

	tc = tcase_create("sets");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, duplicates_are_merged_and_compacted);
	tcase_add_test(tc, cross_check_with_naive);
	tcase_add_test(tc, million_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("config");
	tcase_add_test(tc, config_defaults_off);
	tcase_add_test(tc, config_inline_and_file);
	tcase_add_test(tc, config_redirect);
	tcase_add_test(tc, config_list_error_names_file_and_line);
	tcase_add_test(tc, config_long_line);
	tcase_add_loop_test(tc, config_error, 0, (int)ARRAY_SIZE(config_errors));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(domains_suite());
}
