/*
 * DECLARATIONS FOR CHECKING ONLY: not a BSD header, not an ABI. Used by
 * tests/lint/bsd_compile.sh (README.md here) to compile the BSD sources on
 * Linux with -fsyntax-only.
 * From open(2) and fcntl(2); flag values are placeholders.
 */
#ifndef BSDCHK_FCNTL_H
#define BSDCHK_FCNTL_H
#define O_RDONLY   0x0000
#define O_WRONLY   0x0001
#define O_RDWR	   0x0002
#define O_NONBLOCK 0x0004
#define O_CLOEXEC  0x00100000
#define F_GETFD	   1
#define F_SETFD	   2
#define F_GETFL	   3
#define F_SETFL	   4
#define FD_CLOEXEC 1
int open(const char *path, int flags, ...);
int fcntl(int fd, int cmd, ...);
#endif
