/*
 * DECLARATIONS FOR CHECKING ONLY: not a BSD header, not an ABI. Used by
 * tests/lint/bsd_compile.sh (README.md here) to compile the BSD sources on
 * Linux with -fsyntax-only.
 * From socket(2), getsockname(2), setsockopt(2); SO_BINDANY from OpenBSD's
 * getsockopt(2) (not in FreeBSD). Values are placeholders.
 */
#ifndef BSDCHK_SYS_SOCKET_H
#define BSDCHK_SYS_SOCKET_H
#include <sys/types.h>
typedef uint8_t sa_family_t;
typedef uint32_t socklen_t;

struct sockaddr {
	uint8_t sa_len;
	sa_family_t sa_family;
	char sa_data[14];
};

#define AF_UNSPEC    0
#define AF_INET	     2
#define AF_INET6     28
#define SOCK_STREAM  1
#define SOL_SOCKET   0xffff
#define SO_REUSEADDR 0x0004
#define SO_ERROR     0x1007
#if defined(__OpenBSD__)
#define SO_BINDANY 0x1000
#endif
#define SHUT_RD	  0
#define SHUT_WR	  1
#define SHUT_RDWR 2

int socket(int domain, int type, int protocol);
int getsockname(int s, struct sockaddr *name, socklen_t *namelen);
int getsockopt(int s, int level, int optname, void *optval, socklen_t *optlen);
int setsockopt(int s, int level, int optname, const void *optval, socklen_t optlen);
int shutdown(int s, int how);
#endif
