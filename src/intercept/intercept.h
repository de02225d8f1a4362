/*
 * intercept.h — the interception room: socket addresses, transparent
 * listeners, original-destination lookup and spoofed upstream sockets.
 *
 * Functions return 0 (or an fd) on success and -errno on failure; nothing
 * here logs or keeps global state, so every call is safe from any thread.
 * Platform mechanisms live in intercept_linux.c (IP_TRANSPARENT, TPROXY,
 * SO_ORIGINAL_DST) and intercept_pf.c (BSD: PF DIOCNATLOOK, IPFW, *_BINDANY).
 */
#ifndef REMORA_INTERCEPT_H
#define REMORA_INTERCEPT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

union ic_addr {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

/* "ip:port" or "[ipv6]:port" is the longest form: 46 + 2 + 1 + 5 + NUL. */
#define IC_ADDR_STRLEN 56

enum ic_mode {
	IC_MODE_TPROXY,	  /* IP_TRANSPARENT listener; destination = getsockname() */
	IC_MODE_REDIRECT, /* NAT redirect; destination from the NAT table */
};

enum ic_spoof {
	IC_SPOOF_NONE,		 /* upstream from Remora's own address */
	IC_SPOOF_CLIENT_IP,	 /* client's IP, kernel-chosen port at connect() time */
	IC_SPOOF_CLIENT_IP_PORT, /* client's IP and port; falls back to CLIENT_IP */
};

/* Parses "a.b.c.d:port" or "[v6]:port" (port 1..65535 required; IPv4-mapped
 * IPv6 is kept as IPv6). Returns 0 or -EINVAL. */
int ic_addr_parse(const char *s, union ic_addr *out);
/* Formats as "a.b.c.d:port" / "[v6]:port" into buf (IC_ADDR_STRLEN bytes
 * suffice); returns buf. IPv4-mapped IPv6 is printed as IPv4. */
char *ic_addr_format(const union ic_addr *a, char *buf, size_t len);
/* Formats only the IP part (no port, no brackets); returns buf. */
char *ic_addr_format_ip(const union ic_addr *a, char *buf, size_t len);
socklen_t ic_addr_len(const union ic_addr *a);
uint16_t ic_addr_port(const union ic_addr *a);
/* True when IP and port are equal; IPv4 and its v4-mapped v6 form compare equal. */
bool ic_addr_equal(const union ic_addr *a, const union ic_addr *b);
/* True for 0.0.0.0 and :: (the wildcard). */
bool ic_addr_is_any(const union ic_addr *a);
/* Loop guard: true if dst is one of Remora's own listening addresses
 * (a wildcard listener matches any IP of its family on its port). */
bool ic_addr_is_listener(const union ic_addr *dst, const union ic_addr *listeners, size_t n);
/* Rewrites a v4-mapped IPv6 address (::ffff:a.b.c.d) as plain IPv4, in place. */
void ic_addr_unmap(union ic_addr *a);

/* Destinations Remora never connects to, whatever the interception says
 * (REDIRECT rewrites before routing: a SYN to 127.0.0.1 reaches us): loopback,
 * 0.0.0.0/8 and ::, link-local (169.254/16, fe80::/10), multicast, 240/4 and
 * broadcast, ff00::/8; IPv4-mapped IPv6 as its IPv4 address. (dstguard.c) */
bool ic_addr_is_forbidden_dst(const union ic_addr *dst);

/* A sorted, read-only set of IP addresses (ports ignored; IPv4 and its
 * v4-mapped form are one entry). malloc'd as one block: free() it. */
struct ic_ip_set {
	size_t n;
	struct in6_addr ip[]; /* IPv4 as ::ffff:a.b.c.d */
};
/* The set of a[0..n)'s IPs, or NULL (out of memory). */
struct ic_ip_set *ic_ip_set_new(const union ic_addr *a, size_t n);
/* A copy of s, or NULL (out of memory). */
struct ic_ip_set *ic_ip_set_dup(const struct ic_ip_set *s);
/* True when a's IP is in s. */
bool ic_ip_set_has(const struct ic_ip_set *s, const union ic_addr *a);
/* True when both exist and hold the same IPs. */
bool ic_ip_set_equal(const struct ic_ip_set *a, const struct ic_ip_set *b);
/* The box's own addresses: every IPv4/IPv6 address of its interfaces
 * (getifaddrs) plus extra[0..n_extra). 0 with *out set, or -errno. */
int ic_ip_set_local(struct ic_ip_set **out, const union ic_addr *extra, size_t n_extra);

/* An address prefix (CIDR): family, address bytes, prefix length. */
struct ic_cidr {
	int family;
	uint8_t addr[16];
	uint8_t bits;
};

/* Parses "a.b.c.d/n", "v6/n", or a bare address (a host prefix). 0 or -EINVAL. */
int ic_cidr_parse(const char *s, struct ic_cidr *out);
/* True if a (its IP; v4-mapped counts as IPv4) lies inside c. */
bool ic_cidr_match(const struct ic_cidr *c, const union ic_addr *a);

/* Opens a non-blocking listening socket (SO_REUSEADDR, IPV6_V6ONLY for v6);
 * mode TPROXY also sets IP_TRANSPARENT / IPV6_TRANSPARENT. Returns fd or -errno. */
int ic_listen(const union ic_addr *a, enum ic_mode mode, int backlog);

/* Finds the original destination of an accepted connection fd.
 * TPROXY: getsockname(); REDIRECT: the NAT lookup (never on a transparent
 * socket). local and peer are the accepted socket's own and peer addresses
 * (used by the BSD PF lookup). Returns 0 or -errno. */
int ic_orig_dst(int fd, enum ic_mode mode, const union ic_addr *peer, union ic_addr *dst);

/* Counters an upstream connect attempt adds to (owned by the caller). */
struct ic_connect_stats {
	uint64_t bind_collisions;  /* client-ip-port bind hit EADDRINUSE: fell back */
	uint64_t port_exhaustions; /* connect() found no free 4-tuple: retried */
};

/* Starts a non-blocking connect() to dst, bound per spoof to the client's
 * address. Collisions are retried (bounded) and counted in *st. Returns the
 * fd (connect in progress or done) or -errno. */
int ic_upstream_connect(const union ic_addr *dst, const union ic_addr *client, enum ic_spoof spoof,
			struct ic_connect_stats *st);

/* Platform hooks (intercept_linux.c / intercept_pf.c). */
/* Lets fd bind to / accept for non-local addresses. 0 or -errno. */
int ic_platform_set_transparent(int fd, int family);
/* Asks the kernel to choose the port only at connect() time (4-tuple aware).
 * Returns 0, or -EOPNOTSUPP where the platform has no such option. */
int ic_platform_bind_no_port(int fd);
/* TCP_DEFER_ACCEPT on listening socket fd: a connection is accepted only
 * when its first bytes arrive, or after about seconds of silence (the kernel
 * rounds up to its SYN-ACK retransmissions); 0 turns it off. Returns 0, or
 * -EOPNOTSUPP where the platform has no such option (0 asked: 0), or -errno. */
int ic_platform_defer_accept(int fd, unsigned seconds);
/* NAT-table lookup for REDIRECT mode. */
int ic_platform_nat_lookup(int fd, const union ic_addr *peer, union ic_addr *dst);
/* "IP_TRANSPARENT SO_ORIGINAL_DST ..." for remora -V. */
const char *ic_platform_features(void);

#endif
