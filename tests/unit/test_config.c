/*
 * test_config.c — the configuration file (config.c): the shipped file,
 * defaults, every error message (file, line and key named), and the value
 * parsers. REMORA_CONF names the shipped conf/remora.conf (set by meson).
 */
#include "remora-config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "http/http.h"
#include "unit.h"

#define NAME	 "test.conf"
#define LISTENER "[listener a]\nlisten = 192.0.2.1:3129\n"
#define ERRLEN	 1024

static char err[ERRLEN];

static struct config *load_ok(const char *text)
{
	struct config *cfg = NULL;

	ck_assert_msg(config_load_string(NAME, text, &cfg, err, sizeof(err)) == 0,
		      "rejected: %s\n--- text:\n%s", err, text);
	ck_assert_ptr_nonnull(cfg);
	return cfg;
}

/*
 * Expects text to be rejected with one message naming the file, the line
 * (line > 0; 0: no line expected) and each of the strings in want (the key,
 * section or value the message is about). NULL ends want.
 */
static void expect_error(const char *text, int line, const char *const *want)
{
	struct config *cfg = NULL;
	char prefix[64];

	ck_assert_msg(config_load_string(NAME, text, &cfg, err, sizeof(err)) == -1, "accepted:\n%s",
		      text);
	ck_assert_ptr_null(cfg);
	if (line > 0)
		snprintf(prefix, sizeof(prefix), NAME ":%d: ", line);
	else
		snprintf(prefix, sizeof(prefix), NAME ": ");
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "'%s' does not start with '%s'",
		      err, prefix);
	for (; *want != NULL; want++)
		ck_assert_msg(strstr(err, *want) != NULL, "'%s' does not mention '%s'", err, *want);
	ck_assert_ptr_null(strchr(err, '\n')); /* one line */
}

#define EXPECT_ERROR(text, line, ...) \
	expect_error(text, line, (const char *const[]){__VA_ARGS__, NULL})

/* ---- the shipped file and defaults -------------------------------------- */

static unsigned online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > CONFIG_MAX_WORKERS ? CONFIG_MAX_WORKERS : (unsigned)n;
}

START_TEST(shipped_file)
{
	const char *path = getenv("REMORA_CONF");
	struct config *cfg = NULL;
	union ic_addr v4, v6;
	size_t i;

	ck_assert_msg(path != NULL, "REMORA_CONF not set (run through meson test)");
	ck_assert_msg(config_load(path, &cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(cfg->workers, online_cpus()); /* workers = auto */
	ck_assert_int_eq(cfg->balance, BALANCE_P2C);
	ck_assert_int_eq(cfg->log_level, LOG_INFO);
	ck_assert_uint_eq(cfg->drain_timeout_ms, 10000);
	ck_assert_uint_eq(cfg->buffer_size, 16384);
	ck_assert_uint_eq(cfg->client_header_timeout_ms, 10000);
	ck_assert_uint_eq(cfg->connect_timeout_ms, 130000);
	ck_assert_uint_eq(cfg->idle_timeout_ms, 60000);
	ck_assert_uint_eq(cfg->max_head, 65536); /* heads past buffer_size get their own buffer */
	ck_assert_uint_le(cfg->max_request_line, cfg->max_head);
	ck_assert_uint_eq(cfg->n_listeners, 2);
	ck_assert_str_eq(cfg->listeners[0].name, "http4");
	ck_assert_str_eq(cfg->listeners[1].name, "http6");
	ck_assert_int_eq(ic_addr_parse("0.0.0.0:3129", &v4), 0);
	ck_assert_int_eq(ic_addr_parse("[::]:3129", &v6), 0);
	ck_assert(ic_addr_equal(&cfg->listeners[0].addr, &v4));
	ck_assert(ic_addr_equal(&cfg->listeners[1].addr, &v6));
	ck_assert_int_eq(cfg->listeners[1].addr.sa.sa_family, AF_INET6);
	for (i = 0; i < cfg->n_listeners; i++) {
		ck_assert_int_eq(cfg->listeners[i].mode, IC_MODE_TPROXY);
		ck_assert_int_eq(cfg->listeners[i].spoof, IC_SPOOF_CLIENT_IP);
		ck_assert_int_eq(cfg->listeners[i].backlog, 4096);
		ck_assert_int_gt(cfg->listeners[i].line, 0);
	}
	ck_assert_int_lt(cfg->listeners[0].line, cfg->listeners[1].line);
	config_free(cfg);
}
END_TEST

START_TEST(defaults)
{
	struct config *cfg = load_ok(LISTENER);
	const struct listener_conf *l = &cfg->listeners[0];

	ck_assert_uint_eq(cfg->workers, online_cpus());
	ck_assert_int_eq(cfg->balance, BALANCE_P2C);
	ck_assert_int_eq(cfg->log_level, LOG_INFO);
	ck_assert_uint_eq(cfg->drain_timeout_ms, 10000);
	ck_assert_uint_eq(cfg->buffer_size, 16384);
	ck_assert_uint_eq(cfg->client_header_timeout_ms, 10000);
	ck_assert_uint_eq(cfg->connect_timeout_ms, 130000);
	ck_assert_uint_eq(cfg->idle_timeout_ms, 60000);
	ck_assert_uint_eq(cfg->response_timeout_ms, 15 * 60000);
	ck_assert_uint_eq(cfg->first_bytes_timeout_ms, 300);
	ck_assert_uint_eq(cfg->tunnel_timeout_ms, 3600 * 1000);
	ck_assert_uint_eq(cfg->max_response_head, 262144);
	ck_assert_int_eq(cfg->absolute_form_rewrite, 0);
	ck_assert_int_eq(cfg->connect_reject, 0);
	ck_assert_int_eq(cfg->upstream_errors, UPSTREAM_ERRORS_RESET);
	ck_assert_int_eq(cfg->non_http, NON_HTTP_TUNNEL);
	ck_assert_int_eq(cfg->via, 0);
	ck_assert_uint_gt(strlen(cfg->via_name), 0); /* the host name, or "remora" */
	ck_assert_uint_lt(strlen(cfg->via_name), CONFIG_NAME_MAX);
	ck_assert_uint_eq(cfg->max_request_line, 8192);
	ck_assert_uint_eq(cfg->max_head, 65536);
	ck_assert_uint_eq(cfg->max_fields, 100);
	ck_assert_uint_eq(cfg->http_lenient, 0);
	ck_assert_uint_eq(cfg->n_listeners, 1);
	ck_assert_str_eq(l->name, "a");
	ck_assert_int_eq(l->mode, IC_MODE_TPROXY);
	ck_assert_int_eq(l->spoof, IC_SPOOF_CLIENT_IP);
	ck_assert_int_eq(l->backlog, 4096);
	ck_assert_int_eq(l->line, 1);
	config_free(cfg);
	config_free(NULL);
}
END_TEST

START_TEST(every_key_set)
{
	struct config *cfg = load_ok("; comment\n"
				     "# another comment\n"
				     "[global]\n"
				     "workers = 3\n"
				     "balance = round-robin\n"
				     "log_level = debug\n"
				     "drain_timeout = 1500ms\n"
				     "buffer_size = 64k\n"
				     "\n"
				     "[timeouts]\n"
				     "client_header = 2s\n"
				     "connect = 250ms\n"
				     "idle = 5m\n"
				     "response = 30s\n"
				     "[http]\n"
				     "non_http = reject\n"
				     "via = on\n"
				     "via_name = proxy-1.example_a\n"
				     "max_request_line = 4k\n"
				     "max_head = 32768\n"
				     "max_fields = 50\n"
				     "lenient_bare_lf = yes\n"
				     "[listener first]\n"
				     "listen = 10.0.0.1:8080\n"
				     "mode = redirect\n"
				     "spoof = none\n"
				     "backlog = 128\n"
				     "[listener second]\n"
				     "listen = [2001:db8::1]:8080\n"
				     "mode = tproxy\n"
				     "spoof = client-ip-port\n");

	ck_assert_uint_eq(cfg->workers, 3);
	ck_assert_int_eq(cfg->balance, BALANCE_ROUND_ROBIN);
	ck_assert_int_eq(cfg->log_level, LOG_DEBUG);
	ck_assert_uint_eq(cfg->drain_timeout_ms, 1500);
	ck_assert_uint_eq(cfg->buffer_size, 65536);
	ck_assert_uint_eq(cfg->client_header_timeout_ms, 2000);
	ck_assert_uint_eq(cfg->connect_timeout_ms, 250);
	ck_assert_uint_eq(cfg->idle_timeout_ms, 300000);
	ck_assert_uint_eq(cfg->response_timeout_ms, 30000);
	ck_assert_int_eq(cfg->non_http, NON_HTTP_REJECT);
	ck_assert_int_eq(cfg->via, 1);
	ck_assert_str_eq(cfg->via_name, "proxy-1.example_a");
	ck_assert_uint_eq(cfg->max_request_line, 4096);
	ck_assert_uint_eq(cfg->max_head, 32768);
	ck_assert_uint_eq(cfg->max_fields, 50);
	ck_assert_uint_eq(cfg->http_lenient, HTTP_LENIENT_BARE_LF);
	ck_assert_uint_eq(cfg->n_listeners, 2);
	ck_assert_str_eq(cfg->listeners[0].name, "first");
	ck_assert_int_eq(cfg->listeners[0].line, 23);
	ck_assert_int_eq(cfg->listeners[0].mode, IC_MODE_REDIRECT);
	ck_assert_int_eq(cfg->listeners[0].spoof, IC_SPOOF_NONE);
	ck_assert_int_eq(cfg->listeners[0].backlog, 128);
	ck_assert_uint_eq(ic_addr_port(&cfg->listeners[0].addr), 8080);
	ck_assert_str_eq(cfg->listeners[1].name, "second");
	ck_assert_int_eq(cfg->listeners[1].line, 28);
	ck_assert_int_eq(cfg->listeners[1].mode, IC_MODE_TPROXY);
	ck_assert_int_eq(cfg->listeners[1].spoof, IC_SPOOF_CLIENT_IP_PORT);
	ck_assert_int_eq(cfg->listeners[1].addr.sa.sa_family, AF_INET6);
	config_free(cfg);
}
END_TEST

START_TEST(value_edges_accepted)
{
	struct config *cfg;

	/* the smallest buffer needs the head limits lowered to fit in it */
	cfg = load_ok("[global]\nworkers = 1\nbuffer_size = 1k\n"
		      "[http]\nmax_head = 1k\nmax_request_line = 256\nmax_fields = 1\n" LISTENER);
	ck_assert_uint_eq(cfg->workers, 1);
	ck_assert_uint_eq(cfg->buffer_size, 1024);
	ck_assert_uint_eq(cfg->max_head, 1024);
	ck_assert_uint_eq(cfg->max_request_line, 256);
	ck_assert_uint_eq(cfg->max_fields, 1);
	config_free(cfg);
	cfg = load_ok("[global]\nbuffer_size = 1m\n[http]\nmax_head = 1m\nmax_request_line = 1m\n"
		      "max_fields = 10000\n" LISTENER);
	ck_assert_uint_eq(cfg->max_head, 1048576);
	ck_assert_uint_eq(cfg->max_request_line, 1048576);
	ck_assert_uint_eq(cfg->max_fields, 10000);
	config_free(cfg);
	cfg = load_ok("[global]\nworkers = 256\nbuffer_size = 1m\n" LISTENER);
	ck_assert_uint_eq(cfg->workers, 256);
	ck_assert_uint_eq(cfg->buffer_size, 1048576);
	config_free(cfg);
	cfg = load_ok("[global]\nworkers = auto\nbuffer_size = 16384\n" LISTENER);
	ck_assert_uint_eq(cfg->workers, online_cpus());
	config_free(cfg);
	cfg = load_ok("[listener a]\nlisten = 192.0.2.1:1\nbacklog = 1\n"
		      "[listener b]\nlisten = 192.0.2.1:65535\nbacklog = 65535\n");
	ck_assert_int_eq(cfg->listeners[0].backlog, 1);
	ck_assert_int_eq(cfg->listeners[1].backlog, 65535);
	ck_assert_uint_eq(cfg->listeners[0].defer_accept_s, 0); /* off by default */
	config_free(cfg);
	cfg = load_ok("[listener a]\nlisten = 192.0.2.1:1\ndefer_accept = on\n"
		      "[listener b]\nlisten = 192.0.2.1:2\ndefer_accept = 10m\n"
		      "[listener c]\nlisten = 192.0.2.1:3\ndefer_accept = off\n"
		      "[listener d]\nlisten = 192.0.2.1:4\ndefer_accept = 3s\n");
	ck_assert_uint_eq(cfg->listeners[0].defer_accept_s, 1);
	ck_assert_uint_eq(cfg->listeners[1].defer_accept_s, 600);
	ck_assert_uint_eq(cfg->listeners[2].defer_accept_s, 0);
	ck_assert_uint_eq(cfg->listeners[3].defer_accept_s, 3);
	config_free(cfg);
}
END_TEST

START_TEST(log_levels)
{
	static const struct {
		const char *s;
		enum log_level l;
	} t[] = {
		{"error", LOG_ERROR}, {"warn", LOG_WARN}, {"info", LOG_INFO}, {"debug", LOG_DEBUG}};
	char text[256];
	struct config *cfg;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(text, sizeof(text), "[global]\nlog_level = %s\n" LISTENER, t[i].s);
		cfg = load_ok(text);
		ck_assert_int_eq(cfg->log_level, t[i].l);
		config_free(cfg);
	}
}
END_TEST

START_TEST(on_off_values)
{
	static const struct {
		const char *s;
		int on;
	} t[] = {{"on", 1}, {"yes", 1}, {"true", 1}, {"off", 0}, {"no", 0}, {"false", 0}};
	char text[256];
	struct config *cfg;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(text, sizeof(text), "[http]\nvia = %s\nlenient_bare_lf = %s\n" LISTENER,
			 t[i].s, t[i].s);
		cfg = load_ok(text);
		ck_assert_int_eq(cfg->via, t[i].on);
		ck_assert_uint_eq(cfg->http_lenient, t[i].on ? HTTP_LENIENT_BARE_LF : 0);
		config_free(cfg);
	}
}
END_TEST

START_TEST(syntax_variants)
{
	struct config *cfg;

	/* CRLF line ends, indentation, inline comments, no spaces around '=' */
	cfg = load_ok("[global]\r\n  workers=2 ; two\r\n\r\n  [listener  a]\r\n"
		      "listen=192.0.2.1:80\r\nmode = redirect ; NAT\r\n");
	ck_assert_uint_eq(cfg->workers, 2);
	ck_assert_str_eq(cfg->listeners[0].name, "a");
	ck_assert_int_eq(cfg->listeners[0].mode, IC_MODE_REDIRECT);
	ck_assert_int_eq(cfg->listeners[0].line, 4);
	config_free(cfg);
	/* sections in any order, a listener's keys in any order */
	cfg = load_ok("[timeouts]\nidle = 1h\n[listener z]\nspoof = none\nlisten = 192.0.2.1:1\n"
		      "[global]\nworkers = 4\n");
	ck_assert_uint_eq(cfg->idle_timeout_ms, 3600000);
	ck_assert_int_eq(cfg->listeners[0].spoof, IC_SPOOF_NONE);
	ck_assert_uint_eq(cfg->workers, 4);
	config_free(cfg);
}
END_TEST

START_TEST(max_listeners)
{
	char *text = malloc(CONFIG_MAX_LISTENERS * 64 + 64), *p = text;
	struct config *cfg;
	int i;

	ck_assert_ptr_nonnull(text);
	for (i = 0; i < CONFIG_MAX_LISTENERS; i++)
		p += sprintf(p, "[listener l%d]\nlisten = 192.0.2.1:%d\n", i, 1000 + i);
	cfg = load_ok(text);
	ck_assert_uint_eq(cfg->n_listeners, CONFIG_MAX_LISTENERS);
	ck_assert_str_eq(cfg->listeners[CONFIG_MAX_LISTENERS - 1].name, "l63");
	config_free(cfg);
	/* one more: rejected at its header */
	sprintf(p, "[listener extra]\nlisten = 192.0.2.1:999\n");
	EXPECT_ERROR(text, 2 * CONFIG_MAX_LISTENERS + 1, "[listener extra]", "64");
	free(text);
}
END_TEST

START_TEST(listener_name_63_chars)
{
	/* CONFIG_NAME_MAX - 1 characters, no keys: only the header is parsed */
	char text[256], name[CONFIG_NAME_MAX];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(text, sizeof(text), "[listener %s]\n", name);
	/* valid name, but no listen key: the error names the listener */
	EXPECT_ERROR(text, 1, name, "listen");
}
END_TEST

/* ---- errors: sections --------------------------------------------------- */

START_TEST(err_unknown_section)
{
	EXPECT_ERROR(LISTENER "[globals]\nworkers = 2\n", 3, "[globals]", "unknown section");
	EXPECT_ERROR("[Global]\n" LISTENER, 1, "[Global]", "unknown section");
	EXPECT_ERROR("[listeners x]\n" LISTENER, 1, "[listeners x]", "unknown section");
}
END_TEST

START_TEST(err_section_without_bracket)
{
	EXPECT_ERROR(LISTENER "\n[global\nworkers = 2\n", 4, "']'");
	EXPECT_ERROR("[listener a\nlisten = 192.0.2.1:1\n", 1, "']'");
}
END_TEST

START_TEST(err_section_name_too_long)
{
	char text[512];

	memset(text, 0, sizeof(text));
	text[0] = '[';
	memset(text + 1, 's', 200);
	strcat(text, "]\n" LISTENER);
	EXPECT_ERROR(text, 1, "too long");
}
END_TEST

START_TEST(err_listener_without_name)
{
	EXPECT_ERROR("[listener]\nlisten = 192.0.2.1:1\n", 1, "[listener]", "name");
	EXPECT_ERROR(LISTENER "[listener   ]\nlisten = 192.0.2.1:2\n", 3, "[listener   ]", "name");
}
END_TEST

START_TEST(err_listener_name_too_long)
{
	char text[256], name[CONFIG_LISTENER_NAME_MAX + 2];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0'; /* CONFIG_LISTENER_NAME_MAX + 1 characters: one too many */
	snprintf(text, sizeof(text), LISTENER "[listener %s]\nlisten = 192.0.2.1:2\n", name);
	EXPECT_ERROR(text, 3, name, "name of 1 to 40");
}
END_TEST

START_TEST(err_duplicate_listener_name)
{
	EXPECT_ERROR(LISTENER "[global]\nworkers = 1\n[listener a]\nlisten = 192.0.2.1:2\n", 5,
		     "[listener a]", "defined twice", "line 1");
}
END_TEST

START_TEST(err_duplicate_listen_address)
{
	EXPECT_ERROR(LISTENER "\n[listener b]\nlisten = 192.0.2.1:3129\n", 4, "[listener b]",
		     "listen", "[listener a]");
	/* v4-mapped and plain v4 are the same address */
	EXPECT_ERROR(LISTENER "[listener b]\nlisten = [::ffff:192.0.2.1]:3129\n", 3, "[listener b]",
		     "listen", "[listener a]");
}
END_TEST

START_TEST(err_missing_listen)
{
	/* the line is the section header's */
	EXPECT_ERROR(LISTENER "[listener b]\nmode = redirect\nspoof = none\n", 3, "[listener b]",
		     "listen", "missing");
	EXPECT_ERROR("[listener only]\n", 1, "[listener only]", "listen", "missing");
}
END_TEST

/* Checks across keys: the message names both keys, and the line of the
 * [http] key when it was given (a default has no line). */
START_TEST(err_head_limits)
{
	/* a head may be longer than a relay buffer: it moves to a larger one */
	config_free(load_ok("[global]\nbuffer_size = 4k\n[http]\nmax_head = 64k\n" LISTENER));
	EXPECT_ERROR("[http]\nmax_head = 2k\nmax_request_line = 4k\n" LISTENER, 3,
		     "[http] max_request_line", "max_head", "4096", "2048");
}
END_TEST

START_TEST(err_no_listeners)
{
	EXPECT_ERROR("", 0, "listener");
	EXPECT_ERROR("[global]\nworkers = 2\n[timeouts]\nidle = 1s\n", 0, "listener");
	EXPECT_ERROR("; only a comment\n", 0, "listener");
}
END_TEST

/* ---- errors: keys -------------------------------------------------------- */

START_TEST(err_key_outside_section)
{
	EXPECT_ERROR("workers = 2\n" LISTENER, 1, "workers", "outside any section");
	EXPECT_ERROR("\n\n; c\nbalance = p2c\n[global]\n" LISTENER, 4, "balance",
		     "outside any section");
}
END_TEST

START_TEST(err_unknown_key)
{
	EXPECT_ERROR("[global]\nworkers = 2\nworker = 2\n" LISTENER, 3, "[global]", "worker",
		     "unknown key");
	EXPECT_ERROR(LISTENER "[timeouts]\nread = 1s\n", 4, "[timeouts]", "read", "unknown key");
	EXPECT_ERROR(LISTENER "[http]\nmax_body = 1m\n", 4, "[http]", "max_body", "unknown key");
	EXPECT_ERROR(LISTENER "bind = 1.2.3.4:5\n", 3, "[listener a]", "bind", "unknown key");
	/* global keys do not belong in a listener, nor listener keys in [global] */
	EXPECT_ERROR(LISTENER "workers = 2\n", 3, "[listener a]", "workers", "unknown key");
	EXPECT_ERROR("[global]\nlisten = 192.0.2.1:1\n" LISTENER, 2, "[global]", "listen",
		     "unknown key");
}
END_TEST

START_TEST(err_duplicate_key)
{
	EXPECT_ERROR("[global]\nworkers = 2\nbalance = p2c\nworkers = 3\n" LISTENER, 4, "[global]",
		     "workers", "twice");
	EXPECT_ERROR(LISTENER "[timeouts]\nidle = 1s\nidle = 2s\n", 5, "[timeouts]", "idle",
		     "twice");
	EXPECT_ERROR(LISTENER "mode = tproxy\nmode = redirect\n", 4, "[listener a]", "mode",
		     "twice");
	EXPECT_ERROR(LISTENER "listen = 192.0.2.1:3130\n", 3, "[listener a]", "listen", "twice");
	EXPECT_ERROR(LISTENER "[http]\nvia = on\nmax_fields = 9\nvia = off\n", 6, "[http]", "via",
		     "twice");
}
END_TEST

/* Each bad value: the message names the line, the section, the key and the value. */
/* clang-format off */
static const struct {
	const char *section, *key, *value;
} bad_values[] = {
	{"global", "workers", "0"},
	{"global", "workers", "257"},
	{"global", "workers", "-1"},
	{"global", "workers", "+2"},
	{"global", "workers", "2x"},
	{"global", "workers", "two"},
	{"global", "workers", "Auto"},
	{"global", "workers", "99999999999999999999999"},
	{"global", "balance", "random"},
	{"global", "balance", "P2C"},
	{"global", "balance", "roundrobin"},
	{"global", "log_level", "trace"},
	{"global", "log_level", "INFO"},
	{"global", "drain_timeout", "0"},
	{"global", "drain_timeout", "10x"},
	{"global", "drain_timeout", "25h"},
	{"global", "drain_timeout", "-5s"},
	{"global", "buffer_size", "512"},
	{"global", "buffer_size", "1023"},
	{"global", "buffer_size", "2m"},
	{"global", "buffer_size", "1048577"},
	{"global", "buffer_size", "16kb"},
	{"global", "buffer_size", "lots"},
	{"timeouts", "client_header", "0s"},
	{"timeouts", "connect", "soon"},
	{"timeouts", "idle", "1d"},
	{"timeouts", "response", "0"},
	{"timeouts", "first_bytes", "0ms"},
	{"timeouts", "tunnel", "2d"},
	{"http", "absolute_form", "origin"},
	{"http", "connect", "deny"},
	{"http", "upstream_errors", "502"},
	{"listener a", "protocol", "https"},
	{"http", "max_response_head", "512"},
	{"http", "non_http", "drop"},
	{"http", "non_http", "Tunnel"},
	{"http", "via", "maybe"},
	{"http", "via", "ON"},
	{"http", "via", "1"},
	{"http", "via_name", "two words"},
	{"http", "via_name", "a/b"},
	{"http", "via_name", "proxy:8080"},
	{"http", "via_name", "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"},
	{"http", "max_request_line", "255"},
	{"http", "max_request_line", "1048577"},
	{"http", "max_request_line", "long"},
	{"http", "max_head", "1023"},
	{"http", "max_head", "2m"},
	{"http", "max_fields", "0"},
	{"http", "max_fields", "10001"},
	{"http", "max_fields", "-5"},
	{"http", "lenient_bare_lf", "1"},
	{"http", "lenient_bare_lf", ""},
	{"listener a", "listen", "192.0.2.1"},
	{"listener a", "listen", "192.0.2.1:0"},
	{"listener a", "listen", "192.0.2.1:65536"},
	{"listener a", "listen", "example.com:80"},
	{"listener a", "listen", "[::1]80"},
	{"listener a", "mode", "transparent"},
	{"listener a", "mode", "TPROXY"},
	{"listener a", "spoof", "client"},
	{"listener a", "spoof", "yes"},
	{"listener a", "backlog", "0"},
	{"listener a", "backlog", "65536"},
	{"listener a", "backlog", "-1"},
	{"listener a", "backlog", "many"},
	{"listener a", "backlog", "10 20"},
	{"listener a", "defer_accept", "500ms"},
	{"listener a", "defer_accept", "1500ms"},
	{"listener a", "defer_accept", "11m"},
	{"listener a", "defer_accept", "0"},
	{"listener a", "defer_accept", "sometimes"},
};
/* clang-format on */

START_TEST(err_bad_value)
{
	const char *sec = bad_values[_i].section, *key = bad_values[_i].key;
	const char *val = bad_values[_i].value;
	char text[512], where[64], quoted[96];
	int is_listener = strcmp(sec, "listener a") == 0;

	/* the bad key sits on line 4 whatever its section */
	if (is_listener && strcmp(key, "listen") == 0)
		snprintf(text, sizeof(text), "[global]\nworkers = 1\n[%s]\n%s = %s\n", sec, key,
			 val);
	else if (is_listener)
		snprintf(text, sizeof(text), "[global]\n[%s]\nlisten = 192.0.2.1:1\n%s = %s\n", sec,
			 key, val);
	else
		snprintf(text, sizeof(text), "\n[%s]\n\n%s = %s\n" LISTENER, sec, key, val);
	snprintf(where, sizeof(where), "[%s] %s:", sec, key);
	snprintf(quoted, sizeof(quoted), "'%s'", val);
	EXPECT_ERROR(text, 4, where, quoted, "invalid value");
}
END_TEST

START_TEST(err_empty_value)
{
	EXPECT_ERROR("[global]\nworkers =\n" LISTENER, 2, "[global] workers:", "''");
	EXPECT_ERROR(LISTENER "mode =   \n", 3, "[listener a] mode:", "''");
}
END_TEST

START_TEST(err_syntax)
{
	EXPECT_ERROR(LISTENER "this line has no equals sign\n", 3, "syntax error");
	EXPECT_ERROR("[global]\nworkers 2\n" LISTENER, 2, "syntax error");
	/* a continuation line is a typo, not a multi-line value */
	EXPECT_ERROR(LISTENER "mode = tproxy\n  redirect\n", 4, "syntax error");
}
END_TEST

START_TEST(first_error_wins)
{
	/* two bad values: the first is reported */
	EXPECT_ERROR("[global]\nworkers = 0\nbalance = x\n" LISTENER, 2, "workers");
	/* a section error found by the header scan comes before any key error */
	EXPECT_ERROR("[global]\nworkers = 0\n[bogus]\n" LISTENER, 3, "[bogus]");
}
END_TEST

START_TEST(err_truncated_message_is_terminated)
{
	struct config *cfg = NULL;
	char small[24];

	memset(small, 'Z', sizeof(small));
	ck_assert_int_eq(config_load_string("x.conf", "[global]\nworkers = 0\n" LISTENER, &cfg,
					    small, sizeof(small)),
			 -1);
	ck_assert_ptr_nonnull(memchr(small, '\0', sizeof(small)));
	ck_assert_int_eq(strncmp(small, "x.conf:2: ", 10), 0);
}
END_TEST

/* ---- config_load -------------------------------------------------------- */

static char *write_temp(const char *data, size_t len)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/remora-test-config.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

START_TEST(load_nonexistent)
{
	struct config *cfg = NULL;
	const char *path = "/nonexistent/remora-test/remora.conf";

	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), -1);
	ck_assert_ptr_null(cfg);
	ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "%s", err);
	ck_assert_ptr_nonnull(strstr(err, "cannot open"));
	ck_assert_ptr_nonnull(strstr(err, strerror(ENOENT)));
}
END_TEST

START_TEST(load_file_with_nul)
{
	static const char data[] = "[listener a]\nlisten = 192.0.2.1:1\0\nmode = tproxy\n";
	struct config *cfg = NULL;
	char *path = write_temp(data, sizeof(data) - 1);

	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), -1);
	unlink(path);
	ck_assert_ptr_null(cfg);
	ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "%s", err);
	ck_assert_ptr_nonnull(strstr(err, "NUL"));
}
END_TEST

START_TEST(load_file_errors_name_the_path)
{
	static const char data[] = "[listener a]\nlisten = 192.0.2.1:1\nmode = sideways\n";
	struct config *cfg = NULL;
	char *path = write_temp(data, sizeof(data) - 1), want[128];

	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), -1);
	unlink(path);
	snprintf(want, sizeof(want), "%s:3: [listener a] mode:", path);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
}
END_TEST

START_TEST(load_large_file)
{
	/* more than one read buffer (64 KiB) of comments, then a listener */
	size_t n = 200 * 1024, len;
	char *data = malloc(n + 64), *path;
	struct config *cfg = NULL;

	ck_assert_ptr_nonnull(data);
	for (len = 0; len + 40 < n; len += 40)
		memcpy(data + len, ";23456789012345678901234567890123456789\n", 40);
	len += (size_t)sprintf(data + len, "[listener big]\nlisten = 192.0.2.1:1\n");
	path = write_temp(data, len);
	ck_assert_msg(config_load(path, &cfg, err, sizeof(err)) == 0, "%s", err);
	unlink(path);
	ck_assert_str_eq(cfg->listeners[0].name, "big");
	ck_assert_int_eq(cfg->listeners[0].line, (int)(n / 40) + (n % 40 ? 1 : 0));
	config_free(cfg);
	free(data);
}
END_TEST

/* ---- value parsers ------------------------------------------------------ */

START_TEST(parse_duration)
{
	/* clang-format off */
	static const struct {
		const char *s;
		uint32_t ms;
	} ok[] = {
		{"250ms", 250},		{"1ms", 1},		{"10s", 10000},
		{"2m", 120000},		{"1h", 3600000},	{"10", 10000},
		{"24h", 86400000},	{"1440m", 86400000},	{"86400", 86400000},
		{"86400000ms", 86400000},	{"007s", 7000},
	};
	static const char *const bad[] = {
		"0", "0ms", "0s", "-1", "10x", "", "25h", "ms", "s", "h", "10 s", " 10", "10s ",
		"10S", "1.5s", "+5", "86401", "1441m", "86400001ms", "99999999999999999999",
		"18446744073709551616ms", "10sms", "1e3",
	};
	/* clang-format on */
	uint32_t ms;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ms = 0;
		ck_assert_msg(config_parse_duration(ok[i].s, &ms) == 0, "'%s' rejected", ok[i].s);
		ck_assert_msg(ms == ok[i].ms, "'%s': %u ms, expected %u", ok[i].s, ms, ok[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms = 12345;
		ck_assert_msg(config_parse_duration(bad[i], &ms) == -1, "'%s' accepted", bad[i]);
		ck_assert_uint_eq(ms, 12345); /* untouched on error */
	}
}
END_TEST

START_TEST(parse_size)
{
	/* clang-format off */
	static const struct {
		const char *s;
		uint64_t bytes;
	} ok[] = {
		{"0", 0},		{"16384", 16384},	{"16k", 16384},
		{"16K", 16384},		{"1m", 1048576},	{"1M", 1048576},
		{"1099511627776", 1ull << 40},
		{"1073741824k", 1ull << 40},
		{"1048576m", 1ull << 40},
	};
	static const char *const bad[] = {
		"", "k", "-1", "+1", "1g", "1kb", " 1", "1 k", "1.5k", "1099511627777",
		"1073741825k", "1048577m", "99999999999999999999", "0x10",
	};
	/* clang-format on */
	uint64_t b;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		b = 0;
		ck_assert_msg(config_parse_size(ok[i].s, &b) == 0, "'%s' rejected", ok[i].s);
		ck_assert_msg(b == ok[i].bytes, "'%s': %llu", ok[i].s, (unsigned long long)b);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = 777;
		ck_assert_msg(config_parse_size(bad[i], &b) == -1, "'%s' accepted", bad[i]);
		ck_assert_uint_eq(b, 777);
	}
}
END_TEST

/* ---- known bugs --------------------------------------------------------- */

/*
 * BUG (config.c, config_load_string): key errors are written without a line
 * and later prefixed with the line inih returns, which is the line of the
 * FIRST error inih saw — a syntax error on an earlier line (inih keeps
 * parsing after one) makes the key's message carry the wrong line:
 * "test.conf:2: [global] workers: invalid value 'abc'" for a key on line 3.
 * Fix: when inih's line and the handler's failure differ, report the syntax
 * error; or pass the line into the handler (INI_HANDLER_LINENO / scan the
 * text) and format the message with it at once.
 */
START_TEST(regression_line_after_syntax_error)
{
	struct config *cfg = NULL;

	ck_assert_int_eq(config_load_string(NAME,
					    "[global]\n"
					    "no equals sign here\n"
					    "workers = abc\n" LISTENER,
					    &cfg, err, sizeof(err)),
			 -1);
	/* either the first error (the syntax error, line 2) or the key on line 3 */
	ck_assert_msg(
		(strncmp(err, NAME ":2: ", 11) == 0 && strstr(err, "syntax") != NULL) ||
			(strncmp(err, NAME ":3: ", 11) == 0 && strstr(err, "workers") != NULL),
		"wrong line: %s", err);
}
END_TEST

/*
 * BUG (config.c, on_entry/once): the duplicate-key check resets whenever the
 * section changes, so a re-opened section takes the same key twice and the
 * second silently wins: "[global] workers=2 [timeouts] ... [global] workers=3"
 * loads with workers = 3. Fix: keep the seen-bits per section (one mask for
 * [global], one for [timeouts], one per listener in struct listener_conf or
 * parse_ctx), or reject a section header given twice in scan_sections().
 */
START_TEST(regression_duplicate_key_in_reopened_section)
{
	struct config *cfg = NULL;

	ck_assert_msg(config_load_string(NAME,
					 "[global]\nworkers = 2\n[timeouts]\nidle = 1s\n"
					 "[global]\nworkers = 3\n" LISTENER,
					 &cfg, err, sizeof(err)) == -1,
		      "accepted: workers = %u", cfg != NULL ? cfg->workers : 0);
	ck_assert_ptr_nonnull(strstr(err, NAME ":"));
	ck_assert_ptr_nonnull(strstr(err, "global"));
}
END_TEST

/*
 * BUG (config.c, on_entry, the REMORA_ASSERT at "scan_sections() made every
 * listener"): inih copies section names into a 50-byte buffer (MAX_SECTION),
 * so "[listener NAME]" with a NAME of 41..63 characters — accepted by
 * add_section() (CONFIG_NAME_MAX 64) — reaches on_entry() truncated,
 * find_listener() finds nothing and the assertion aborts the process: a
 * valid-looking config file crashes "remora -t". Fix: cap names so that
 * "listener " + NAME fits inih's section buffer (CONFIG_NAME_MAX 41, with a
 * message), or fail cleanly with an error instead of asserting when
 * x->cur == NULL.
 */
START_TEST(regression_long_listener_name_aborts)
{
	char text[256], name[CONFIG_NAME_MAX];
	struct config *cfg = NULL;
	int rc;

	memset(name, 'n', sizeof(name) - 1); /* 63 characters: a valid name */
	name[sizeof(name) - 1] = '\0';
	snprintf(text, sizeof(text), "[listener %s]\nlisten = 192.0.2.1:1\n", name);
	rc = config_load_string(NAME, text, &cfg, err, sizeof(err));
	/* either loads, or says why; never aborts */
	if (rc == 0)
		ck_assert_str_eq(cfg->listeners[0].name, name);
	else
		ck_assert_ptr_nonnull(strstr(err, NAME ":1:"));
	config_free(rc == 0 ? cfg : NULL);
}
END_TEST

/*
 * BUG (config.c, config_load_string, "prefix the line number" branch):
 * "snprintf(msg, ..., err + strlen(name) + 2)" assumes err holds at least
 * "NAME: "; when errlen is shorter than that (or the name is long — main.c
 * uses 768 bytes, a path can be 4095) it reads past the end of err. Shown
 * here with err against a guard page. Fix: let fail() record the message
 * offset it wrote after the prefix (or format into a local buffer first) and
 * never index err beyond strnlen(err, errlen).
 */
START_TEST(regression_small_errlen_over_read)
{
	struct guard g = {0};
	char *small = guard_alloc(&g, 8);
	struct config *cfg = NULL;

	ck_assert_int_eq(config_load_string("a-rather-long-file-name.conf",
					    "[global]\nworkers = x\n" LISTENER, &cfg, small, 8),
			 -1);
	ck_assert_ptr_nonnull(memchr(small, '\0', 8));
	guard_free(&g);
}
END_TEST

/*
 * BUG (config.c, scan_sections): a line of 199 characters passed the length
 * check, but inih reads a line and its '\n' into 199 bytes: it read the
 * line's '\n' as a line of its own, and every error after it named the
 * wrong line (one too far). A line of 198 characters still fits; 199 is
 * "too long", naming its own line.
 */
START_TEST(regression_longest_line_keeps_line_numbers)
{
	char text[512], fill[256];

	memset(fill, 'x', sizeof(fill));
	snprintf(text, sizeof(text), "[global]\n;%.197s\nworkers = x\n" LISTENER, fill);
	EXPECT_ERROR(text, 3, "workers"); /* 198 characters */
	snprintf(text, sizeof(text), "[global]\n;%.198s\nworkers = x\n" LISTENER, fill);
	EXPECT_ERROR(text, 2, "too long");
	/* CRLF: the '\r' is one of them */
	snprintf(text, sizeof(text), "[global]\r\n;%.196s\r\nworkers = x\r\n" LISTENER, fill);
	EXPECT_ERROR(text, 3, "workers");
	snprintf(text, sizeof(text), "[global]\r\n;%.197s\r\nworkers = x\r\n" LISTENER, fill);
	EXPECT_ERROR(text, 2, "too long");
}
END_TEST

/*
 * BUG (config.c, scan_sections): inih ignores whatever follows a section
 * header's ']', so "[global] workers = 4" loaded without that key and
 * without a word. Text after ']' is an error; blank space and a ';' comment
 * are not.
 */
START_TEST(regression_text_after_section_header)
{
	struct config *cfg;

	EXPECT_ERROR("[global] workers = 4\n" LISTENER, 1, "after ']'");
	EXPECT_ERROR(LISTENER "[timeouts]]\nidle = 5s\n", 3, "after ']'");
	EXPECT_ERROR(LISTENER "[http] # a comment?\n", 3, "after ']'");
	cfg = load_ok("[global] \t; the process\r\nworkers = 3\r\n" LISTENER);
	ck_assert_uint_eq(cfg->workers, 3);
	config_free(cfg);
}
END_TEST

/*
 * BUG (config.c, scan_sections): the header scan skipped only spaces and
 * tabs before '[' where inih skips every blank (VT, FF, CR) and a UTF-8 BOM
 * on line 1; a header behind one was unseen by the scan, so "[global]" given
 * twice that way was not refused and its keys were taken twice (the last
 * won).
 */
START_TEST(regression_blank_before_section_header)
{
	struct config *cfg;

	EXPECT_ERROR("[global]\nworkers = 2\n" LISTENER "\v[global]\nworkers = 3\n", 5,
		     "given twice");
	EXPECT_ERROR("\xef\xbb\xbf[global]\nworkers = 2\n" LISTENER "[global]\nworkers = 3\n", 5,
		     "given twice");
	cfg = load_ok("\xef\xbb\xbf[global]\nworkers = 2\n\f[listener a]\nlisten = 192.0.2.1:1\n");
	ck_assert_uint_eq(cfg->workers, 2);
	ck_assert_uint_eq(cfg->n_listeners, 1);
	config_free(cfg);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_add_test(tc, shipped_file);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, every_key_set);
	tcase_add_test(tc, value_edges_accepted);
	tcase_add_test(tc, log_levels);
	tcase_add_test(tc, on_off_values);
	tcase_add_test(tc, syntax_variants);
	tcase_add_test(tc, max_listeners);
	tcase_add_test(tc, listener_name_63_chars);
	suite_add_tcase(s, tc);

	tc = tcase_create("section_errors");
	tcase_add_test(tc, err_unknown_section);
	tcase_add_test(tc, err_section_without_bracket);
	tcase_add_test(tc, err_section_name_too_long);
	tcase_add_test(tc, err_listener_without_name);
	tcase_add_test(tc, err_listener_name_too_long);
	tcase_add_test(tc, err_duplicate_listener_name);
	tcase_add_test(tc, err_duplicate_listen_address);
	tcase_add_test(tc, err_missing_listen);
	tcase_add_test(tc, err_no_listeners);
	tcase_add_test(tc, err_head_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("key_errors");
	tcase_add_test(tc, err_key_outside_section);
	tcase_add_test(tc, err_unknown_key);
	tcase_add_test(tc, err_duplicate_key);
	tcase_add_loop_test(tc, err_bad_value, 0,
			    (int)(sizeof(bad_values) / sizeof(bad_values[0])));
	tcase_add_test(tc, err_empty_value);
	tcase_add_test(tc, err_syntax);
	tcase_add_test(tc, first_error_wins);
	tcase_add_test(tc, err_truncated_message_is_terminated);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_test(tc, load_nonexistent);
	tcase_add_test(tc, load_file_with_nul);
	tcase_add_test(tc, load_file_errors_name_the_path);
	tcase_add_test(tc, load_large_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("value_parsers");
	tcase_add_test(tc, parse_duration);
	tcase_add_test(tc, parse_size);
	suite_add_tcase(s, tc);

	tc = tcase_create("regression_line_after_syntax_error");
	tcase_add_test(tc, regression_line_after_syntax_error);
	suite_add_tcase(s, tc);
	tc = tcase_create("regression_duplicate_key_in_reopened_section");
	tcase_add_test(tc, regression_duplicate_key_in_reopened_section);
	suite_add_tcase(s, tc);
	tc = tcase_create("regression_long_listener_name_aborts");
	tcase_add_test(tc, regression_long_listener_name_aborts);
	suite_add_tcase(s, tc);
	tc = tcase_create("regression_small_errlen_over_read");
	tcase_add_test(tc, regression_small_errlen_over_read);
	suite_add_tcase(s, tc);
	tc = tcase_create("regression_config_lines");
	tcase_add_test(tc, regression_longest_line_keeps_line_numbers);
	tcase_add_test(tc, regression_text_after_section_header);
	tcase_add_test(tc, regression_blank_before_section_header);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(config_suite());
}
