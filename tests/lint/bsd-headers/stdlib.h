/*
 * DECLARATIONS FOR CHECKING ONLY: not a BSD header, not an ABI. Used by
 * tests/lint/bsd_compile.sh (README.md here) to compile the BSD sources on
 * Linux with -fsyntax-only.
 * From malloc(3).
 */
#ifndef BSDCHK_STDLIB_H
#define BSDCHK_STDLIB_H
#include <stddef.h>
void *malloc(size_t size);
void *calloc(size_t number, size_t size);
void *realloc(void *ptr, size_t size);
void free(void *ptr);
#endif
