/*
 * DECLARATIONS FOR CHECKING ONLY: not a BSD header, not an ABI. Used by
 * tests/lint/bsd_compile.sh (README.md here) to compile the BSD sources on
 * Linux with -fsyntax-only.
 * From close(2), read(2), write(2), pipe(2).
 */
#ifndef BSDCHK_UNISTD_H
#define BSDCHK_UNISTD_H
#include <sys/types.h>
int close(int fd);
ssize_t read(int fd, void *buf, size_t nbytes);
ssize_t write(int fd, const void *buf, size_t nbytes);
int pipe(int fildes[2]);
#endif
