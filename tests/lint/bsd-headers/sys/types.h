/*
 * DECLARATIONS FOR CHECKING ONLY: not a BSD header, not an ABI. Used by
 * tests/lint/bsd_compile.sh (README.md here) to compile the BSD sources on
 * Linux with -fsyntax-only.
 * The BSD integer types the manual pages use (u_int8_t, u_short, ...).
 */
#ifndef BSDCHK_SYS_TYPES_H
#define BSDCHK_SYS_TYPES_H
#include <stddef.h>
#include <stdint.h>
typedef unsigned char u_char;
typedef unsigned short u_short;
typedef unsigned int u_int;
typedef unsigned long u_long;
typedef uint8_t u_int8_t;
typedef uint16_t u_int16_t;
typedef uint32_t u_int32_t;
typedef uint64_t u_int64_t;
typedef long ssize_t;
typedef int64_t time_t;
typedef char *caddr_t;
#endif
