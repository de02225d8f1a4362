/*
 * DECLARATIONS FOR CHECKING ONLY: not a BSD header, not an ABI. Used by
 * tests/lint/bsd_compile.sh (README.md here) to compile the BSD sources on
 * Linux with -fsyntax-only.
 * From inet(4), inet6(4) and ip(4) (IP_BINDANY); IPV6_BINDANY is FreeBSD's
 * <netinet6/in6.h> (not in ip6(4)). Values are placeholders.
 */
#ifndef BSDCHK_NETINET_IN_H
#define BSDCHK_NETINET_IN_H
#include <sys/types.h>
#include <sys/socket.h>
typedef uint32_t in_addr_t;
typedef uint16_t in_port_t;

struct in_addr {
	in_addr_t s_addr;
};

struct in6_addr {
	uint8_t s6_addr[16];
};

struct sockaddr_in {
	uint8_t sin_len;
	sa_family_t sin_family;
	in_port_t sin_port;
	struct in_addr sin_addr;
	char sin_zero[8];
};

struct sockaddr_in6 {
	uint8_t sin6_len;
	sa_family_t sin6_family;
	in_port_t sin6_port;
	uint32_t sin6_flowinfo;
	struct in6_addr sin6_addr;
	uint32_t sin6_scope_id;
};

#define IPPROTO_IP   0
#define IPPROTO_TCP  6
#define IPPROTO_IPV6 41
#if defined(__FreeBSD__)
#define IP_BINDANY   24
#define IPV6_BINDANY 64
#endif
#endif
