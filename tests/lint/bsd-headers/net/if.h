/*
 * DECLARATIONS FOR CHECKING ONLY: not a BSD header, not an ABI. Used by
 * tests/lint/bsd_compile.sh (README.md here) to compile the BSD sources on
 * Linux with -fsyntax-only.
 * <net/if.h>: pf(4)'s example includes it before <net/pfvar.h>.
 */
#ifndef BSDCHK_NET_IF_H
#define BSDCHK_NET_IF_H
#define IFNAMSIZ 16
#endif
