/*
 * DECLARATIONS FOR CHECKING ONLY: not a BSD header, not an ABI. Used by
 * tests/lint/bsd_compile.sh (README.md here) to compile the BSD sources on
 * Linux with -fsyntax-only.
 * From errno(2) / intro(2) (numbers as listed there).
 */
#ifndef BSDCHK_ERRNO_H
#define BSDCHK_ERRNO_H
#if defined(__OpenBSD__)
int *__errno(void);
#define errno (*__errno())
#else
int *__error(void);
#define errno (*__error())
#endif
#define EPERM	     1
#define ENOENT	     2
#define EINTR	     4
#define EIO	     5
#define EBADF	     9
#define ENOMEM	     12
#define EACCES	     13
#define EINVAL	     22
#define EPIPE	     32
#define EAGAIN	     35
#define EWOULDBLOCK  EAGAIN
#define EINPROGRESS  36
#define EALREADY     37
#define EOPNOTSUPP   45
#define EADDRINUSE   48
#define ECONNRESET   54
#define ENOBUFS	     55
#define ENOTCONN     57
#define ETIMEDOUT    60
#define ECONNREFUSED 61
#endif
