/*
 * DECLARATIONS FOR CHECKING ONLY: not a BSD header, not an ABI. Used by
 * tests/lint/bsd_compile.sh (README.md here) to compile the BSD sources on
 * Linux with -fsyntax-only.
 * From pf(4): DIOCNATLOOK and struct pfioc_natlook (as FreeBSD's page
 * gives it; OpenBSD adds routing-domain fields after these). struct
 * pf_addr is shown there only through .v4 (nl.saddr.v4.s_addr); .v6 is its
 * IPv6 member. PF_OUT is PF_IN's counterpart (pf.conf's "out"). Needs
 * <sys/types.h>, <sys/socket.h>, <netinet/in.h> first, as the page's
 * example includes them. Values are placeholders.
 */
#ifndef BSDCHK_NET_PFVAR_H
#define BSDCHK_NET_PFVAR_H

struct pf_addr {
	union {
		struct in_addr v4;
		struct in6_addr v6;
		u_int8_t addr8[16];
		u_int16_t addr16[8];
		u_int32_t addr32[4];
	};
};

enum { PF_INOUT, PF_IN, PF_OUT };

struct pfioc_natlook {
	struct pf_addr saddr;
	struct pf_addr daddr;
	struct pf_addr rsaddr;
	struct pf_addr rdaddr;
	u_int16_t sport;
	u_int16_t dport;
	u_int16_t rsport;
	u_int16_t rdport;
	sa_family_t af;
	u_int8_t proto;
	u_int8_t direction;
};

#define DIOCNATLOOK 0xc04c4417UL
#endif
