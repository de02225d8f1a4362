/*
 * DECLARATIONS FOR CHECKING ONLY: not a BSD header, not an ABI. Used by
 * tests/lint/bsd_compile.sh (README.md here) to compile the BSD sources on
 * Linux with -fsyntax-only.
 * Types and macros the C standard defines.
 */
#ifndef BSDCHK_STDDEF_H
#define BSDCHK_STDDEF_H
typedef __SIZE_TYPE__ size_t;
typedef __PTRDIFF_TYPE__ ptrdiff_t;
#define NULL		    ((void *)0)
#define offsetof(type, mem) __builtin_offsetof(type, mem)
#endif
