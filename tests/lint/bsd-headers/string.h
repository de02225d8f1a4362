/*
 * DECLARATIONS FOR CHECKING ONLY: not a BSD header, not an ABI. Used by
 * tests/lint/bsd_compile.sh (README.md here) to compile the BSD sources on
 * Linux with -fsyntax-only.
 * From memset(3), memcpy(3), memcmp(3), strlen(3).
 */
#ifndef BSDCHK_STRING_H
#define BSDCHK_STRING_H
#include <stddef.h>
void *memset(void *b, int c, size_t len);
void *memcpy(void *dst, const void *src, size_t len);
int memcmp(const void *b1, const void *b2, size_t len);
size_t strlen(const char *s);
#endif
