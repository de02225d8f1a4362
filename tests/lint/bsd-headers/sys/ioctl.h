/*
 * DECLARATIONS FOR CHECKING ONLY: not a BSD header, not an ABI. Used by
 * tests/lint/bsd_compile.sh (README.md here) to compile the BSD sources on
 * Linux with -fsyntax-only.
 * From ioctl(2).
 */
#ifndef BSDCHK_SYS_IOCTL_H
#define BSDCHK_SYS_IOCTL_H
int ioctl(int fd, unsigned long request, ...);
#endif
