/*
 * DECLARATIONS FOR CHECKING ONLY: not a BSD header, not an ABI. Used by
 * tests/lint/bsd_compile.sh (README.md here) to compile the BSD sources on
 * Linux with -fsyntax-only.
 * The C standard's bool.
 */
#ifndef BSDCHK_STDBOOL_H
#define BSDCHK_STDBOOL_H
#define bool _Bool
#define true 1
#define false 0
#endif
