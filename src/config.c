/* config.c — the INI configuration: parsing, validation, defaults. */
#include "remora-config.h"
#include "stats.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "config_deny.h"
#include "conn.h"
#include "util.h"
#include <urcu/uatomic.h>

static void derive(struct config *cfg);

/* The blank space inih skips around sections, keys and values (isspace() less '\n'). */
#define INI_BLANK " \t\v\f\r"

struct parse_ctx {
	struct config *cfg;
	const char *file;
	const char *text; /* the whole file, to find line numbers */
	char msg[512];	  /* first error, without "file:line: " */
	int err_line;	  /* its line, or <= 0 when inih's answer or none applies */
	int failed;
	unsigned seen; /* keys seen in the current section (bit per key) */
	char section[128];
	struct listener_conf *cur; /* current [listener NAME], or NULL */
	int workers_auto;
	struct deny_parse deny; /* [acl] deny_* keys (config_deny.c) */
	int single_line
		[7]; /* line of [global], [timeouts], [http], [admin], [acl], [limits], [router] */
};

/* A bit need only be unique within its section (the mask is reset per
 * section): later keys reuse the bits of keys that live in other sections. */
enum key_bit {
	K_WORKERS = 1u << 0,
	K_BALANCE = 1u << 1,
	K_LOG_LEVEL = 1u << 2,
	K_DRAIN = 1u << 3,
	K_BUFFER = 1u << 4,
	K_LISTEN = 1u << 5,
	K_MODE = 1u << 6,
	K_SPOOF = 1u << 7,
	K_BACKLOG = 1u << 8,
	K_CLIENT_HEADER = 1u << 9,
	K_CONNECT = 1u << 10,
	K_IDLE = 1u << 11,
	K_RESPONSE = 1u << 12,
	K_NON_HTTP = 1u << 13,
	K_VIA = 1u << 14,
	K_VIA_NAME = 1u << 15,
	K_MAX_LINE = 1u << 16,
	K_MAX_HEAD = 1u << 17,
	K_MAX_FIELDS = 1u << 18,
	K_BARE_LF = 1u << 19,
	K_SPLICE = 1u << 20,
	K_ADMIN_LISTEN = 1u << 21,
	K_ACCESS_LOG = 1u << 22,
	K_ACCESS_LOG_FORMAT = 1u << 23,
	K_USER = 1u << 24,
	K_ALLOW_CLIENTS = 1u << 25,
	K_ALLOW_PORTS = 1u << 26,
	K_MAX_CONN = 1u << 27,
	K_MAX_CONN_CLIENT = 1u << 28,
	K_HOST_VERIFY = 1u << 29,
	K_DNS_SERVERS = 1u << 30,
	/* [timeouts] */
	K_FIRST_BYTES = K_WORKERS,
	K_TUNNEL = K_BALANCE,
	/* [http] */
	K_ABSOLUTE_FORM = K_MODE,
	K_CONNECT_METHOD = K_SPOOF,
	K_UPSTREAM_ERRORS = K_BACKLOG,
	K_MAX_RSP_HEAD = K_LOG_LEVEL,
	K_INTERCEPT_PORTS = 1u << 31,
	K_PROTOCOL = K_WORKERS,	     /* [listener] */
	K_MAX_TLS_HELLO = K_WORKERS, /* [limits] */
	/* [listener] */
	K_DEFER_ACCEPT = K_DRAIN,
	/* [router] keys: bits are only compared within one section */
	K_MARK = 1u << 0,
	K_TABLE = 1u << 1,
	K_SUBSCRIBERS = 1u << 2,
	K_UPSTREAM = 1u << 3,
	K_CLIENT_PREFIX6 = 1u << 31,
};

static int fail(struct parse_ctx *x, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records the first error: its message now, its line (if known here: > 0)
 * now or, for key errors, from inih's return value later. */
static int fail(struct parse_ctx *x, int line, const char *fmt, ...)
{
	va_list ap;

	if (x->failed++)
		return 0;
	x->err_line = line;
	va_start(ap, fmt);
	vsnprintf(x->msg, sizeof(x->msg), fmt, ap);
	va_end(ap);
	return 0;
}

/* Marks key as seen in this section; a second occurrence is an error. */
static int once(struct parse_ctx *x, unsigned bit, const char *name)
{
	if (x->seen & bit)
		return fail(x, -1, "[%s] %s: key given twice", x->section, name);
	x->seen |= bit;
	return 1;
}

#define BAD_VALUE(x, name, value, expect) \
	fail(x, -1, "[%s] %s: invalid value '%s' (expected %s)", (x)->section, name, value, expect)

/* "a | b | c" keyword values: stores the index of value in words (NULL
 * terminated) into *out; 0, or -1 when it is none of them. */
static int keyword(const char *value, const char *const *words, int *out)
{
	int i;

	for (i = 0; words[i] != NULL; i++) {
		if (strcmp(value, words[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	return -1;
}

/* A keyword key: once only, value one of words, index into *out. */
#define KEYWORD_KEY(x, bit, name, value, out, expect, ...)               \
	do {                                                             \
		static const char *const words_[] = {__VA_ARGS__, NULL}; \
		int v_;                                                  \
		if (!once(x, bit, name))                                 \
			return 0;                                        \
		if (keyword(value, words_, &v_) < 0)                     \
			return BAD_VALUE(x, name, value, expect);        \
		*(out) = v_;                                             \
	} while (0)

static int parse_on_off(const char *value, int *out)
{
	if (strcmp(value, "on") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "true") == 0)
		*out = 1;
	else if (strcmp(value, "off") == 0 || strcmp(value, "no") == 0 ||
		 strcmp(value, "false") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

static int global_key(struct parse_ctx *x, const char *name, const char *value)
{
	struct config *cfg = x->cfg;
	uint64_t sz;
	char *end;
	unsigned long v;

	if (strcmp(name, "workers") == 0) {
		if (!once(x, K_WORKERS, name))
			return 0;
		if (strcmp(value, "auto") == 0) {
			x->workers_auto = 1;
			return 1;
		}
		errno = 0;
		v = strtoul(value, &end, 10);
		if (errno || *end || value[0] < '0' || value[0] > '9' || v < 1 ||
		    v > CONFIG_MAX_WORKERS)
			return BAD_VALUE(x, name, value, "'auto' or a number from 1 to 256");
		x->workers_auto = 0;
		cfg->workers = (unsigned)v;
	} else if (strcmp(name, "balance") == 0) {
		/* in enum balance order */
		KEYWORD_KEY(x, K_BALANCE, name, value, (int *)&cfg->balance, "p2c | round-robin",
			    "p2c", "round-robin");
	} else if (strcmp(name, "log_level") == 0) {
		if (!once(x, K_LOG_LEVEL, name))
			return 0;
		if (log_level_parse(value, &cfg->log_level) < 0)
			return BAD_VALUE(x, name, value, "error | warn | info | debug");
	} else if (strcmp(name, "drain_timeout") == 0) {
		if (!once(x, K_DRAIN, name))
			return 0;
		if (config_parse_duration(value, &cfg->drain_timeout_ms) < 0)
			return BAD_VALUE(x, name, value, "a duration such as 10s or 500ms");
	} else if (strcmp(name, "buffer_size") == 0) {
		if (!once(x, K_BUFFER, name))
			return 0;
		if (config_parse_size(value, &sz) < 0 || sz < 1024 || sz > 1024 * 1024)
			return BAD_VALUE(x, name, value, "a size from 1k to 1m");
		cfg->buffer_size = (uint32_t)sz;
	} else if (strcmp(name, "access_log") == 0) {
		if (!once(x, K_ACCESS_LOG, name))
			return 0;
		if (value[0] == '\0' || strlen(value) >= sizeof(cfg->access_log) ||
		    (strcmp(value, "off") != 0 && strcmp(value, "-") != 0 && value[0] != '/'))
			return BAD_VALUE(x, name, value, "off, - (stderr) or an absolute path");
		snprintf(cfg->access_log, sizeof(cfg->access_log), "%s", value);
	} else if (strcmp(name, "user") == 0) {
		if (!once(x, K_USER, name))
			return 0;
		if (value[0] == '\0' || strlen(value) >= sizeof(cfg->user) ||
		    strspn(value,
			   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
			    strlen(value))
			return BAD_VALUE(x, name, value, "a user name");
		snprintf(cfg->user, sizeof(cfg->user), "%s", value);
	} else if (strcmp(name, "access_log_format") == 0) {
		KEYWORD_KEY(x, K_ACCESS_LOG_FORMAT, name, value, &cfg->access_log_json,
			    "squid | json", "squid", "json");
	} else if (strcmp(name, "splice") == 0) {
		if (!once(x, K_SPLICE, name))
			return 0;
		if (parse_on_off(value, &cfg->splice) < 0)
			return BAD_VALUE(x, name, value, "on | off");
	} else {
		return fail(x, -1, "[global] %s: unknown key", name);
	}
	return 1;
}

static int timeouts_key(struct parse_ctx *x, const char *name, const char *value)
{
	static const struct {
		const char *name;
		unsigned bit;
		size_t off;
	} keys[] = {
		{"client_header", K_CLIENT_HEADER,
		 offsetof(struct config, client_header_timeout_ms)},
		{"connect", K_CONNECT, offsetof(struct config, connect_timeout_ms)},
		{"idle", K_IDLE, offsetof(struct config, idle_timeout_ms)},
		{"response", K_RESPONSE, offsetof(struct config, response_timeout_ms)},
		{"first_bytes", K_FIRST_BYTES, offsetof(struct config, first_bytes_timeout_ms)},
		{"tunnel", K_TUNNEL, offsetof(struct config, tunnel_timeout_ms)},
	};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(name, keys[i].name) != 0)
			continue;
		if (!once(x, keys[i].bit, name))
			return 0;
		if (config_parse_duration(value, (uint32_t *)((char *)x->cfg + keys[i].off)) < 0)
			return BAD_VALUE(x, name, value, "a duration such as 10s or 500ms");
		return 1;
	}
	return fail(x, -1, "[timeouts] %s: unknown key", name);
}

static int size_key(struct parse_ctx *x, const char *name, const char *value, unsigned bit,
		    uint64_t lo, uint64_t hi, uint32_t *out)
{
	uint64_t v;
	char expect[64];

	if (!once(x, bit, name))
		return 0;
	if (config_parse_size(value, &v) < 0 || v < lo || v > hi) {
		snprintf(expect, sizeof(expect), "a number from %llu to %llu",
			 (unsigned long long)lo, (unsigned long long)hi);
		return BAD_VALUE(x, name, value, expect);
	}
	*out = (uint32_t)v;
	return 1;
}

static int http_key(struct parse_ctx *x, const char *name, const char *value)
{
	struct config *cfg = x->cfg;
	size_t i;
	int on;

	if (strcmp(name, "non_http") == 0) {
		/* in enum non_http order */
		KEYWORD_KEY(x, K_NON_HTTP, name, value, (int *)&cfg->non_http, "tunnel | reject",
			    "tunnel", "reject");
	} else if (strcmp(name, "via") == 0) {
		if (!once(x, K_VIA, name))
			return 0;
		if (parse_on_off(value, &cfg->via) < 0)
			return BAD_VALUE(x, name, value, "on | off");
	} else if (strcmp(name, "via_name") == 0) {
		if (!once(x, K_VIA_NAME, name))
			return 0;
		for (i = 0; value[i]; i++)
			if (!((value[i] >= 'a' && value[i] <= 'z') ||
			      (value[i] >= 'A' && value[i] <= 'Z') ||
			      (value[i] >= '0' && value[i] <= '9') || strchr("-._", value[i])))
				break;
		if (i == 0 || value[i] != '\0' || i >= sizeof(cfg->via_name))
			return BAD_VALUE(x, name, value,
					 "a host-like name (letters, digits, - . _)");
		memcpy(cfg->via_name, value, i + 1);
	} else if (strcmp(name, "max_request_line") == 0) {
		return size_key(x, name, value, K_MAX_LINE, 256, 1 << 20, &cfg->max_request_line);
	} else if (strcmp(name, "max_head") == 0) {
		return size_key(x, name, value, K_MAX_HEAD, 1024, 1 << 20, &cfg->max_head);
	} else if (strcmp(name, "max_response_head") == 0) {
		return size_key(x, name, value, K_MAX_RSP_HEAD, 1024, 1 << 20,
				&cfg->max_response_head);
	} else if (strcmp(name, "absolute_form") == 0) {
		KEYWORD_KEY(x, K_ABSOLUTE_FORM, name, value, &cfg->absolute_form_rewrite,
			    "pass | rewrite", "pass", "rewrite");
	} else if (strcmp(name, "connect") == 0) {
		KEYWORD_KEY(x, K_CONNECT_METHOD, name, value, &cfg->connect_reject,
			    "forward | reject", "forward", "reject");
	} else if (strcmp(name, "upstream_errors") == 0) {
		/* in enum upstream_errors order */
		KEYWORD_KEY(x, K_UPSTREAM_ERRORS, name, value, (int *)&cfg->upstream_errors,
			    "reset | status", "reset", "status");
	} else if (strcmp(name, "max_fields") == 0) {
		return size_key(x, name, value, K_MAX_FIELDS, 1, 10000, &cfg->max_fields);
	} else if (strcmp(name, "host_verify") == 0) {
		/* in enum host_verify order */
		KEYWORD_KEY(x, K_HOST_VERIFY, name, value, (int *)&cfg->host_verify,
			    "off | log | strict", "off", "log", "strict");
	} else if (strcmp(name, "dns_servers") == 0) {
		if (!once(x, K_DNS_SERVERS, name))
			return 0;
		if (strlen(value) >= sizeof(cfg->dns_servers) ||
		    strspn(value, "0123456789abcdefABCDEF.:[], ") != strlen(value))
			return BAD_VALUE(x, name, value,
					 "addresses like 198.18.2.2 or [2001:db8::53]:53");
		snprintf(cfg->dns_servers, sizeof(cfg->dns_servers), "%s", value);
	} else if (strcmp(name, "lenient_bare_lf") == 0) {
		if (!once(x, K_BARE_LF, name))
			return 0;
		if (parse_on_off(value, &on) < 0)
			return BAD_VALUE(x, name, value, "on | off");
		cfg->http_lenient = on ? cfg->http_lenient | 1u : cfg->http_lenient & ~1u;
	} else {
		return fail(x, -1, "[http] %s: unknown key", name);
	}
	return 1;
}

static int admin_key(struct parse_ctx *x, const char *name, const char *value)
{
	if (strcmp(name, "listen") != 0)
		return fail(x, -1, "[admin] %s: unknown key", name);
	if (!once(x, K_ADMIN_LISTEN, name))
		return 0;
	if (strcmp(value, "off") == 0) {
		x->cfg->admin_on = 0;
		return 1;
	}
	if (ic_addr_parse(value, &x->cfg->admin_addr) < 0)
		return BAD_VALUE(x, name, value,
				 "off, IPv4:port or [IPv6]:port, e.g. 127.0.0.1:9180");
	x->cfg->admin_on = 1;
	return 1;
}

/* Splits a comma/space separated list; calls fn on each item. */
static int for_each_item(struct parse_ctx *x, const char *name, const char *value,
			 int (*fn)(struct parse_ctx *x, const char *name, const char *item))
{
	char buf[4096], *save = NULL, *tok;

	if (strlen(value) >= sizeof(buf))
		return fail(x, -1, "[%s] %s: list too long", x->section, name);
	snprintf(buf, sizeof(buf), "%s", value);
	for (tok = strtok_r(buf, ", \t", &save); tok != NULL; tok = strtok_r(NULL, ", \t", &save))
		if (!fn(x, name, tok))
			return 0;
	return 1;
}

static int acl_client(struct parse_ctx *x, const char *name, const char *item)
{
	struct config *cfg = x->cfg;

	if (cfg->n_allow_clients == CONFIG_MAX_ACL)
		return fail(x, -1, "[acl] %s: more than %d networks", name, CONFIG_MAX_ACL);
	if (ic_cidr_parse(item, &cfg->allow_clients[cfg->n_allow_clients]) < 0)
		return BAD_VALUE(x, name, item, "networks like 198.18.0.0/15 or 2001:db8::/32");
	cfg->n_allow_clients++;
	return 1;
}

/* One port number (1..65535) from a list; 0 or -1. */
static int parse_port(const char *item, uint16_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(item, &end, 10);
	if (errno || *end || item[0] < '0' || item[0] > '9' || v < 1 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static int acl_port(struct parse_ctx *x, const char *name, const char *item)
{
	struct config *cfg = x->cfg;

	if (cfg->n_allow_ports == CONFIG_MAX_ACL)
		return fail(x, -1, "[acl] %s: more than %d ports", name, CONFIG_MAX_ACL);
	if (parse_port(item, &cfg->allow_ports[cfg->n_allow_ports]) < 0)
		return BAD_VALUE(x, name, item, "port numbers from 1 to 65535");
	cfg->n_allow_ports++;
	return 1;
}

static int acl_key(struct parse_ctx *x, const char *name, const char *value)
{
	char msg[sizeof(x->msg)];
	int rc;

	if (strcmp(name, "allow_clients") == 0)
		return once(x, K_ALLOW_CLIENTS, name) && for_each_item(x, name, value, acl_client);
	if (strcmp(name, "allow_ports") == 0)
		return once(x, K_ALLOW_PORTS, name) && for_each_item(x, name, value, acl_port);
	rc = config_deny_key(x->cfg, &x->deny, name, value, msg, sizeof(msg));
	if (rc >= 0)
		return rc == 1 ? 1 : fail(x, -1, "%s", msg);
	return fail(x, -1, "[acl] %s: unknown key", name);
}

static int limits_key(struct parse_ctx *x, const char *name, const char *value)
{
	if (strcmp(name, "max_connections") == 0)
		return size_key(x, name, value, K_MAX_CONN, 0, 10000000, &x->cfg->max_connections);
	if (strcmp(name, "max_connections_per_client") == 0)
		return size_key(x, name, value, K_MAX_CONN_CLIENT, 0, 10000000,
				&x->cfg->max_connections_per_client);
	if (strcmp(name, "per_client_ipv6_prefix") == 0)
		return size_key(x, name, value, K_CLIENT_PREFIX6, 1, 128,
				&x->cfg->per_client_ipv6_prefix);
	if (strcmp(name, "max_tls_hello") == 0)
		return size_key(x, name, value, K_MAX_TLS_HELLO, 512, 1 << 20,
				&x->cfg->tls_max_hello);
	return fail(x, -1, "[limits] %s: unknown key", name);
}

int config_acl_allows(const struct config *cfg, const union ic_addr *client,
		      const union ic_addr *dst)
{
	size_t i;
	int ok;

	for (ok = cfg->n_allow_clients == 0, i = 0; !ok && i < cfg->n_allow_clients; i++)
		ok = ic_cidr_match(&cfg->allow_clients[i], client);
	if (!ok)
		return 0;
	for (ok = cfg->n_allow_ports == 0, i = 0; !ok && i < cfg->n_allow_ports; i++)
		ok = cfg->allow_ports[i] == ic_addr_port(dst);
	return ok;
}

static int listener_port(struct parse_ctx *x, const char *name, const char *item)
{
	struct listener_conf *l = x->cur;
	size_t i;

	if (l->n_ports == CONFIG_MAX_PORTS)
		return fail(x, -1, "[%s] %s: more than %d ports", x->section, name,
			    CONFIG_MAX_PORTS);
	if (parse_port(item, &l->ports[l->n_ports]) < 0)
		return BAD_VALUE(x, name, item, "port numbers from 1 to 65535");
	for (i = 0; i < l->n_ports; i++)
		if (l->ports[i] == l->ports[l->n_ports])
			return fail(x, -1, "[%s] %s: port %s given twice", x->section, name, item);
	l->n_ports++;
	return 1;
}

/* "eth0, vlan*": interface names for nft (a trailing * is a wildcard). */
static int router_ifaces(struct parse_ctx *x, const char *name, const char *value, char *out,
			 size_t outlen)
{
	const char *p = value;
	size_t n;

	if (strlen(value) >= outlen)
		return fail(x, -1, "[router] %s: list too long", name);
	while (*p) {
		n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-@");
		if (p[n] == '*')
			n++;
		if (n == 0 || n > 15 || (p[n] && p[n] != ',' && p[n] != ' ' && p[n] != '\t'))
			return BAD_VALUE(x, name, value,
					 "interface names like eth0, vlan100, ppp*");
		p += n;
		p += strspn(p, ", \t");
	}
	snprintf(out, outlen, "%s", value);
	return 1;
}

static int router_key(struct parse_ctx *x, const char *name, const char *value)
{
	struct config *cfg = x->cfg;
	unsigned long long v;
	char *end;
	int mark = strcmp(name, "mark") == 0;

	if (strcmp(name, "subscribers") == 0)
		return once(x, K_SUBSCRIBERS, name) &&
		       router_ifaces(x, name, value, cfg->subscribers, sizeof(cfg->subscribers));
	if (strcmp(name, "upstream") == 0)
		return once(x, K_UPSTREAM, name) &&
		       router_ifaces(x, name, value, cfg->upstream, sizeof(cfg->upstream));
	if (!mark && strcmp(name, "table") != 0)
		return fail(x, -1, "[router] %s: unknown key", name);
	if (!once(x, mark ? K_MARK : K_TABLE, name))
		return 0;
	errno = 0; /* decimal, or 0x hex (a leading 0 is not octal: 010 is ten) */
	v = strtoull(value, &end,
		     value[0] == '0' && (value[1] == 'x' || value[1] == 'X') ? 16 : 10);
	if (errno || *end || value[0] < '0' || value[0] > '9' || v < 1 || v > 0xffffffffull ||
	    (!mark && (v >= 253 && v <= 255)))
		return BAD_VALUE(x, name, value,
				 mark ? "a mark from 1 to 0xffffffff"
				      : "a table number other than 253-255 (default, main, local)");
	*(mark ? &cfg->fw_mark : &cfg->route_table) = (uint32_t)v;
	return 1;
}

/* defer_accept = off | on (1 s) | a duration of whole seconds, 1s to 10m. */
static int listener_defer_accept(struct parse_ctx *x, const char *name, const char *value)
{
	uint32_t ms;
	int on;

	if (parse_on_off(value, &on) == 0) {
		x->cur->defer_accept_s = on ? 1 : 0;
		return 1;
	}
	if (config_parse_duration(value, &ms) < 0 || ms < 1000 || ms > 600000 || ms % 1000 != 0)
		return BAD_VALUE(x, name, value, "off, on (1s) or whole seconds from 1s to 10m");
	x->cur->defer_accept_s = ms / 1000;
	return 1;
}

static int listener_key(struct parse_ctx *x, const char *name, const char *value)
{
	struct listener_conf *l = x->cur;
	char *end;
	unsigned long v;

	if (strcmp(name, "listen") == 0) {
		if (!once(x, K_LISTEN, name))
			return 0;
		if (ic_addr_parse(value, &l->addr) < 0)
			return BAD_VALUE(x, name, value,
					 "IPv4:port or [IPv6]:port, e.g. 0.0.0.0:3129");
	} else if (strcmp(name, "mode") == 0) {
		/* in enum ic_mode order */
		KEYWORD_KEY(x, K_MODE, name, value, (int *)&l->mode, "tproxy | redirect", "tproxy",
			    "redirect");
	} else if (strcmp(name, "spoof") == 0) {
		/* in enum ic_spoof order */
		KEYWORD_KEY(x, K_SPOOF, name, value, (int *)&l->spoof,
			    "none | client-ip | client-ip-port", "none", "client-ip",
			    "client-ip-port");
	} else if (strcmp(name, "backlog") == 0) {
		if (!once(x, K_BACKLOG, name))
			return 0;
		errno = 0;
		v = strtoul(value, &end, 10);
		if (errno || *end || value[0] < '0' || value[0] > '9' || v < 1 || v > 65535)
			return BAD_VALUE(x, name, value, "a number from 1 to 65535");
		l->backlog = (int)v;
	} else if (strcmp(name, "protocol") == 0) {
		/* in enum listen_proto order */
		KEYWORD_KEY(x, K_PROTOCOL, name, value, (int *)&l->protocol,
			    "auto | http | tls | tcp", "auto", "http", "tls", "tcp");
	} else if (strcmp(name, "defer_accept") == 0) {
		return once(x, K_DEFER_ACCEPT, name) && listener_defer_accept(x, name, value);
	} else if (strcmp(name, "intercept_ports") == 0) {
		l->n_ports = 0;
		return once(x, K_INTERCEPT_PORTS, name) &&
		       for_each_item(x, name, value, listener_port);
	} else {
		return fail(x, -1, "[%s] %s: unknown key", x->section, name);
	}
	return 1;
}

/* Validates one section header; [listener NAME] creates the listener. */
static int add_section(struct parse_ctx *x, const char *section, int line)
{
	const char *name;
	size_t i;

	static const char *const singles[] = {"global", "timeouts", "http",  "admin",
					      "acl",	"limits",   "router"};
	size_t k;

	for (k = 0; k < ARRAY_SIZE(singles); k++) {
		if (strcmp(section, singles[k]) != 0)
			continue;
		if (x->single_line[k] != 0)
			return fail(x, line, "[%s]: section given twice (first on line %d)",
				    section, x->single_line[k]);
		x->single_line[k] = line;
		return 1;
	}
	if (strncmp(section, "listener ", 9) != 0 && strcmp(section, "listener") != 0)
		return fail(
			x, line,
			"[%s]: unknown section (expected [global], [timeouts], [http], [admin], "
			"[acl], [limits], [router] or [listener NAME])",
			section);
	name = section + 8;
	while (*name == ' ' || *name == '\t')
		name++;
	if (*name == '\0' || strlen(name) > CONFIG_LISTENER_NAME_MAX)
		return fail(x, line, "[%s]: a listener needs a name of 1 to %d characters", section,
			    CONFIG_LISTENER_NAME_MAX);
	for (i = 0; i < x->cfg->n_listeners; i++)
		if (strcmp(x->cfg->listeners[i].name, name) == 0)
			return fail(x, line, "[%s]: listener defined twice (first on line %d)",
				    section, x->cfg->listeners[i].line);
	if (x->cfg->n_listeners == CONFIG_MAX_LISTENERS)
		return fail(x, line, "[%s]: more than %d listeners", section, CONFIG_MAX_LISTENERS);
	x->cur = &x->cfg->listeners[x->cfg->n_listeners++];
	snprintf(x->cur->name, sizeof(x->cur->name), "%s", name);
	x->cur->line = line;
	x->cur->mode = IC_MODE_TPROXY;
	x->cur->spoof = IC_SPOOF_CLIENT_IP;
	x->cur->backlog = 4096;
	x->cur->n_ports = 1;
	x->cur->ports[0] = 80;
	return 1;
}

/* First pass over the raw text: every section header, with its line, so that
 * empty and misnamed sections are reported and listeners exist in file order.
 * inih (second pass) then delivers the keys. */
static int scan_sections(struct parse_ctx *x)
{
	const char *p = x->text, *eol, *q, *close, *rest;
	char section[128];
	int line = 1;

	for (; *p; line++, p = *eol ? eol + 1 : eol) {
		eol = strchr(p, '\n');
		if (eol == NULL)
			eol = p + strlen(p);
		/* inih reads a line, its '\n' included, into INI_MAX_LINE - 1
		 * bytes: a longer one is read as two (the rest as a line of its
		 * own, and every later line number one off) */
		if (eol - p + (*eol == '\n') > INI_MAX_LINE - 1)
			return fail(x, line,
				    "line too long (over %d characters; split it: list keys such "
				    "as [acl] deny_domains may repeat)",
				    INI_MAX_LINE - 2);
		q = p + (line == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0 ? 3 : 0); /* a BOM */
		q += strspn(q, INI_BLANK); /* as inih skips */
		if (q >= eol || *q != '[')
			continue;
		close = memchr(q, ']', (size_t)(eol - q));
		if (close == NULL)
			return fail(x, line, "section header without ']'");
		/* inih ignores what follows: a key there would be lost unseen */
		rest = close + 1 + strspn(close + 1, INI_BLANK);
		if (rest < eol && *rest != ';')
			return fail(x, line, "text after ']' (a key goes on a line of its own)");
		if ((size_t)(close - q - 1) >= sizeof(section))
			return fail(x, line, "section name too long");
		memcpy(section, q + 1, (size_t)(close - q - 1));
		section[close - q - 1] = '\0';
		if (!add_section(x, section, line))
			return 0;
	}
	return 1;
}

static struct listener_conf *find_listener(struct config *cfg, const char *section)
{
	const char *name = section + 8;
	size_t i;

	while (*name == ' ' || *name == '\t')
		name++;
	for (i = 0; i < cfg->n_listeners; i++)
		if (strcmp(cfg->listeners[i].name, name) == 0)
			return &cfg->listeners[i];
	return NULL;
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *x = user;

	if (x->failed)
		return 0;
	if (section[0] == '\0')
		return fail(x, -1, "%s: key outside any section (put it under [global])", name);
	if (strcmp(section, x->section) != 0) {
		/* a new section: remember which keys it has had */
		size_t n = strnlen(section, sizeof(x->section) - 1);

		memcpy(x->section, section, n);
		x->section[n] = '\0';
		x->seen = 0;
		x->cur = strncmp(section, "listener", 8) == 0 ? find_listener(x->cfg, section)
							      : NULL;
	}
	if (strcmp(section, "global") == 0)
		return global_key(x, name, value);
	if (strcmp(section, "timeouts") == 0)
		return timeouts_key(x, name, value);
	if (strcmp(section, "http") == 0)
		return http_key(x, name, value);
	if (strcmp(section, "admin") == 0)
		return admin_key(x, name, value);
	if (strcmp(section, "acl") == 0)
		return acl_key(x, name, value);
	if (strcmp(section, "limits") == 0)
		return limits_key(x, name, value);
	if (strcmp(section, "router") == 0)
		return router_key(x, name, value);
	if (x->cur == NULL) /* scan_sections() made every listener it accepted */
		return fail(x, -1, "[%s]: unknown listener section", section);
	return listener_key(x, name, value);
}

static void set_defaults(struct config *cfg)
{
	cfg->workers = 0;
	cfg->balance = BALANCE_P2C;
	cfg->log_level = LOG_INFO;
	cfg->drain_timeout_ms = 10 * 1000;
	cfg->buffer_size = 16 * 1024;
	cfg->splice = 1;
	snprintf(cfg->access_log, sizeof(cfg->access_log), "off");
	cfg->admin_on = 1;
	(void)ic_addr_parse("127.0.0.1:9180", &cfg->admin_addr);
	cfg->client_header_timeout_ms = 10 * 1000;
	cfg->connect_timeout_ms = 130 * 1000; /* past Linux's own SYN retries (127 s) */
	cfg->idle_timeout_ms = 60 * 1000;
	cfg->response_timeout_ms = 15 * 60 * 1000; /* as Squid's read_timeout */
	cfg->first_bytes_timeout_ms = 300;
	cfg->tunnel_timeout_ms = 3600 * 1000;
	cfg->non_http = NON_HTTP_TUNNEL;
	cfg->via = 0;
	if (gethostname(cfg->via_name, sizeof(cfg->via_name) - 1) != 0 || cfg->via_name[0] == '\0')
		snprintf(cfg->via_name, sizeof(cfg->via_name), "remora");
	cfg->max_request_line = 8 * 1024;
	cfg->max_head = 64 * 1024; /* as Squid's request_header_max_size */
	/* as Chromium's limit (Firefox takes 384 KiB): a page a browser shows
	 * directly must not become a 502 */
	cfg->max_response_head = 256 * 1024;
	cfg->max_fields = 100;
	cfg->http_lenient = 0;
	cfg->fw_mark = 1;
	cfg->route_table = 100;
	cfg->per_client_ipv6_prefix = 64;
	cfg->tls_max_hello = 16 * 1024;
}

/* Line of "key =" inside the section whose header is on line sec (0 if absent). */
static int key_line(const char *text, int sec, const char *key)
{
	const char *p = text;
	size_t klen = strlen(key);
	int line = 1;

	if (sec <= 0)
		return 0;
	for (; *p; line++) {
		const char *q = p;

		while (*q == ' ' || *q == '\t')
			q++;
		if (line > sec && *q == '[')
			return 0;
		if (line > sec && strncmp(q, key, klen) == 0 &&
		    (q[klen] == ' ' || q[klen] == '\t' || q[klen] == '='))
			return line;
		p = strchr(p, '\n');
		if (p == NULL)
			break;
		p++;
	}
	return 0;
}

static int validate(struct parse_ctx *x)
{
	struct config *cfg = x->cfg;
	const char *key;
	char msg[sizeof(x->msg)];
	size_t i, j;

	if (cfg->n_listeners == 0)
		return fail(x, -1, "no [listener NAME] section: nothing to listen on");
	for (i = 0; i < cfg->n_listeners; i++)
		if (cfg->listeners[i].addr.sa.sa_family == 0)
			return fail(
				x, cfg->listeners[i].line,
				"[listener %s] listen: missing key (e.g. listen = 0.0.0.0:3129)",
				cfg->listeners[i].name);
	for (i = 0; i < cfg->n_listeners; i++)
		for (j = 0; j < i; j++)
			if (ic_addr_equal(&cfg->listeners[i].addr, &cfg->listeners[j].addr))
				return fail(x, cfg->listeners[i].line,
					    "[listener %s] listen: same address as [listener %s]",
					    cfg->listeners[i].name, cfg->listeners[j].name);
	if (cfg->max_request_line > cfg->max_head)
		return fail(x, key_line(x->text, x->single_line[2], "max_request_line"),
			    "[http] max_request_line: %u is larger than max_head (%u)",
			    cfg->max_request_line, cfg->max_head);
	if (x->workers_auto || cfg->workers == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		cfg->workers = n < 1			? 1
			       : n > CONFIG_MAX_WORKERS ? CONFIG_MAX_WORKERS
							: (unsigned)n;
	}
	if (config_deny_finish(cfg, &x->deny, &key, msg, sizeof(msg)) < 0)
		return fail(x, key_line(x->text, x->single_line[4], key), "%s", msg);
	return 1;
}

int config_load_string(const char *name, const char *text, struct config **out, char *err,
		       size_t errlen)
{
	struct parse_ctx x = {.file = name, .text = text};
	int line = 0;

	err[0] = '\0';
	x.cfg = calloc(1, sizeof(*x.cfg));
	if (x.cfg == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	set_defaults(x.cfg);
	x.workers_auto = 1;
	if (scan_sections(&x)) {
		/* parser settings (process-wide in Debian's libinih): continuation
		 * lines are typos here, and the first error ends the parse so that
		 * the line inih returns is the line of our first error */
		ini_allow_multiline = false;
		ini_stop_on_first_error = true;
		line = ini_parse_string(text, on_entry, &x);
		if (line > 0 && !x.failed)
			fail(&x, line,
			     "syntax error (expected [section], key = value, or ; comment)");
		else if (line < 0)
			fail(&x, -1, "cannot parse (out of memory)");
		else if (line > 0 && x.err_line <= 0)
			x.err_line = line;
	}
	if (!x.failed)
		validate(&x);
	if (x.failed) {
		if (x.err_line > 0)
			snprintf(err, errlen, "%s:%d: %s", name, x.err_line, x.msg);
		else
			snprintf(err, errlen, "%s: %s", name, x.msg);
		config_deny_abandon(&x.deny);
		config_free(x.cfg);
		return -1;
	}
	derive(x.cfg);
	*out = x.cfg;
	return 0;
}

int config_load(const char *path, struct config **out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	int rc;

	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open (%d: %s)", path, errno, strerror(errno));
		return -1;
	}
	for (;;) {
		if (cap - len < 4096) {
			char *t = realloc(text, cap + 65536);

			if (t == NULL || cap > (1u << 24)) {
				free(t ? t : text);
				fclose(f);
				snprintf(err, errlen, "%s: too large or out of memory", path);
				return -1;
			}
			text = t;
			cap += 65536;
		}
		n = fread(text + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	text[len] = '\0';
	if (memchr(text, '\0', len) != NULL) {
		free(text);
		snprintf(err, errlen, "%s: contains a NUL byte (not a text file?)", path);
		return -1;
	}
	rc = config_load_string(path, text, out, err, errlen);
	free(text);
	return rc;
}

void config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	config_deny_release(cfg);
	free(cfg);
}

struct config *config_get(struct config *cfg)
{
	ATOMIC_ADD(cfg->refs, 1);
	return cfg;
}

void config_put(struct config *cfg)
{
	if (cfg != NULL && ATOMIC_SUB(cfg->refs, 1) == 0)
		config_free(cfg);
}

/* What the data path needs, computed once per load. */
static void derive(struct config *cfg)
{
	cfg->req_limits = (struct http_limits){
		.max_line = cfg->max_request_line,
		.max_head = cfg->max_head,
		.max_fields = (uint16_t)(cfg->max_fields > 65535 ? 65535 : cfg->max_fields),
		.lenient = cfg->http_lenient,
	};
	/* responses: the origin is trusted with larger heads, not with framing */
	cfg->rsp_limits = (struct http_limits){
		.max_line = cfg->max_response_head,
		.max_head = cfg->max_response_head,
		.max_fields = 1000,
		.lenient = cfg->http_lenient,
	};
	cfg->timeout_ms[CONN_TIMER_HEADER] = cfg->client_header_timeout_ms;
	cfg->timeout_ms[CONN_TIMER_CONNECT] = cfg->connect_timeout_ms;
	cfg->timeout_ms[CONN_TIMER_RESPONSE] = cfg->response_timeout_ms;
	cfg->timeout_ms[CONN_TIMER_IDLE] = cfg->idle_timeout_ms;
	cfg->timeout_ms[CONN_TIMER_LINGER] = CONFIG_LINGER_MS;
	cfg->timeout_ms[CONN_TIMER_ABORT] = CONFIG_ABORT_POLL_MS;
	cfg->timeout_ms[CONN_TIMER_FIRST] = cfg->first_bytes_timeout_ms;
	cfg->timeout_ms[CONN_TIMER_TUNNEL] = cfg->tunnel_timeout_ms;
	/* the tunnel timeout in two parts: keep-alive goes on in between */
	cfg->timeout_ms[CONN_TIMER_QUIET] = cfg->tunnel_timeout_ms < CONFIG_TUNNEL_QUIET_MS
						    ? cfg->tunnel_timeout_ms
						    : CONFIG_TUNNEL_QUIET_MS;
	cfg->timeout_ms[CONN_TIMER_QUIET_REST] =
		cfg->tunnel_timeout_ms - cfg->timeout_ms[CONN_TIMER_QUIET];
	cfg->refs = 1;
}
