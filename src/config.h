/*
 * config.h — the configuration file (INI, parsed with libinih) as a value.
 *
 * A struct config is built by config_load() on one thread, then only read;
 * it is immutable once published (reload publishes a new one).
 */
#ifndef REMORA_CONFIG_H
#define REMORA_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "domains.h"
#include "intercept/intercept.h"
#include "http/http.h"
#include "log.h"

#define CONFIG_MAX_LISTENERS	 64
#define CONFIG_MAX_WORKERS	 256
#define CONFIG_MAX_ACL		 256
#define CONFIG_NAME_MAX		 64
/* inih keeps section names under 50 bytes: "listener " + 40 */
#define CONFIG_LISTENER_NAME_MAX 40
#define CONFIG_MAX_PORTS	 32

enum balance { BALANCE_P2C, BALANCE_ROUND_ROBIN };
enum non_http { NON_HTTP_TUNNEL, NON_HTTP_REJECT };
enum host_verify { HOST_VERIFY_OFF, HOST_VERIFY_LOG, HOST_VERIFY_STRICT };
/* [http] upstream_errors: what a client sees when the origin cannot be reached */
enum upstream_errors { UPSTREAM_ERRORS_RESET, UPSTREAM_ERRORS_STATUS };
/* [acl] deny_http, deny_tls: what a client asking for a denied name gets */
enum deny_http { DENY_HTTP_451, DENY_HTTP_REDIRECT };
enum deny_tls { DENY_TLS_RESET, DENY_TLS_ALERT };

/* [listener] protocol: what its flows carry (auto: their first bytes decide) */
enum listen_proto { LISTEN_PROTO_AUTO, LISTEN_PROTO_HTTP, LISTEN_PROTO_TLS, LISTEN_PROTO_TCP };

struct listener_conf {
	char name[CONFIG_NAME_MAX];
	enum listen_proto protocol;
	union ic_addr addr;
	enum ic_mode mode;
	enum ic_spoof spoof;
	int backlog;
	/* TCP_DEFER_ACCEPT: a connection is accepted only once its first bytes are
	 * in, or after about this many seconds of silence; 0 = off (default) */
	unsigned defer_accept_s;
	int line; /* line of the [listener NAME] header, for messages */
	/* its latency histograms' slot (histo_names_assign) */
	uint8_t metrics_slot;
	/* intercept_ports: the destination ports the router steers here
	 * (--print-rules); default 80 */
	size_t n_ports;
	uint16_t ports[CONFIG_MAX_PORTS];
};

struct config {
	unsigned workers; /* resolved: "auto" becomes the number of online CPUs */
	enum balance balance;
	enum log_level log_level;
	uint32_t drain_timeout_ms;
	uint32_t buffer_size;  /* bytes per relay buffer (each direction) */
	int splice;	       /* large response bodies by splice() through pipes */
	char access_log[4096]; /* "off", "-" (stderr) or a path */
	char user[64];	       /* [global] user: drop to it after start-up ("" = stay) */
	int access_log_json;   /* access_log_format = json (else squid) */
	uint32_t client_header_timeout_ms;
	uint32_t connect_timeout_ms;
	uint32_t idle_timeout_ms;
	uint32_t response_timeout_ms;
	uint32_t first_bytes_timeout_ms; /* silence before a new client becomes a tunnel */
	uint32_t tunnel_timeout_ms;	 /* idle byte tunnels and upgraded connections */
	/* [http] */
	enum non_http non_http;
	int via;			/* add a Via field and refuse our own */
	char via_name[CONFIG_NAME_MAX]; /* received-by pseudonym (default: hostname) */
	uint32_t max_request_line;
	uint32_t max_head;
	uint32_t max_response_head;
	uint32_t max_fields;
	int absolute_form_rewrite; /* absolute_form = rewrite (else pass, as sent) */
	int connect_reject;	   /* connect = reject (else forward to the original destination) */
	enum upstream_errors upstream_errors;
	uint32_t http_lenient;	      /* HTTP_LENIENT_* */
	enum host_verify host_verify; /* resolve Host, compare with the destination */
	char dns_servers[256];	      /* "ip[:port],..." or "" = resolv.conf */
	int admin_on;		      /* [admin] listen = off turns it off */
	union ic_addr admin_addr;     /* [admin] listen, default 127.0.0.1:9180 */
	/* [acl]: empty lists allow everything */
	size_t n_allow_clients;
	struct ic_cidr allow_clients[CONFIG_MAX_ACL];
	size_t n_allow_ports;
	uint16_t allow_ports[CONFIG_MAX_ACL];
	/* [acl] deny_domains, deny_domains_file: NULL when neither is given */
	struct domains *deny_domains;
	enum deny_http deny_http; /* default 451 */
	enum deny_tls deny_tls;	  /* default reset */
	char deny_redirect[512];  /* Location for deny_http = redirect */
	char *deny_body;	  /* deny_body_file's bytes (NUL-terminated), or NULL */
	size_t deny_body_len;
	/* [limits]: 0 = unlimited */
	uint32_t max_connections;
	uint32_t max_connections_per_client;
	/* [router]: what --print-rules writes and the start-up self-check
	 * looks for */
	uint32_t fw_mark;		 /* mark of intercepted and spoofed-reply packets */
	uint32_t route_table;		 /* policy-routing table with the local route */
	char subscribers[256];		 /* interfaces facing the subscribers ("" = any) */
	char upstream[256];		 /* interfaces facing the origins ("" = no notrack) */
	uint32_t per_client_ipv6_prefix; /* IPv6 clients count per /N (default 64) */
	uint32_t tls_max_hello;		 /* bytes of ClientHello records read at most */
	size_t n_listeners;
	struct listener_conf listeners[CONFIG_MAX_LISTENERS];
	/* derived at load time */
	struct http_limits req_limits;
	struct http_limits rsp_limits;
	uint32_t timeout_ms[12]; /* indexed by enum conn_timer (conn.c checks the size) */
	unsigned long refs;	 /* config_get/config_put */
};

/* Reads and validates path. On success returns 0 and a new config in *out
 * (free with config_free). On failure returns -1 and writes one message
 * naming the file, the line and the key into err: "FILE:LINE: [section] key: why". */
int config_load(const char *path, struct config **out, char *err, size_t errlen);
/* Same, from a string (name is used in messages). */
int config_load_string(const char *name, const char *text, struct config **out, char *err,
		       size_t errlen);
void config_free(struct config *cfg);
/* Reference counting: a loaded config has one reference (its loader's);
 * every connection holds one for its lifetime, so a config outlives every
 * connection that started under it. Any thread. config_put(NULL) is a no-op. */
struct config *config_get(struct config *cfg);
void config_put(struct config *cfg);
/* [acl]: may this client reach this destination? */
int config_acl_allows(const struct config *cfg, const union ic_addr *client,
		      const union ic_addr *dst);
/*
 * [acl] deny_domains: is this host denied? host is a TLS SNI, an HTTP Host
 * field or an absolute-form authority, len bytes: "userinfo@" and ":port"
 * are dropped, "[IPv6]" never matches. Returns DOMAINS_MISS (0),
 * DOMAINS_EXACT or DOMAINS_SUFFIX (domains.h). Any thread; cfg is the
 * connection's own reference, so a reload never changes the answer midway.
 */
int config_domain_denied(const struct config *cfg, const char *host, size_t len);
/* A policy on the names a flow carries is on ([acl] deny_domains, or
 * host_verify = strict): what the policy cannot read is then refused, not
 * tunnelled (a padded ClientHello, the HTTP/2 preface), and an h2c upgrade
 * offer is dropped (docs/http.md). */
static inline int config_name_policy(const struct config *cfg)
{
	return cfg->deny_domains != NULL || cfg->host_verify == HOST_VERIFY_STRICT;
}
/* Graceful-close time (fixed): how long a client may take to read the end. */
#define CONFIG_LINGER_MS       2000
/* How often an aborted connection (ABORT) looks whether the client's send
 * queue has drained before it resets it (fixed; bounded by CONFIG_LINGER_MS). */
#define CONFIG_ABORT_POLL_MS   10
/* A tunnel quiet this long gets TCP keep-alive on both legs (set lazily: the
 * many short tunnels, TLS flows above all, never pay its system calls). */
#define CONFIG_TUNNEL_QUIET_MS 60000

/* Value parsers, exposed for the tests. Return 0 or -1. */
/* "250ms", "10s", "2m", "1h", "5d", or a bare number of seconds; 1 ms .. 7 days. */
#define CONFIG_DURATION_MAX_MS (7ull * 86400 * 1000)
int config_parse_duration(const char *s, uint32_t *ms);
/* "16384", "16k", "1m" (binary multiples). */
int config_parse_size(const char *s, uint64_t *bytes);

#endif
