/*
 * DECLARATIONS FOR CHECKING ONLY: not a BSD header, not an ABI. Used by
 * tests/lint/bsd_compile.sh (README.md here) to compile the BSD sources on
 * Linux with -fsyntax-only.
 * From kqueue(2): struct kevent (FreeBSD 12 has ext[4], OpenBSD none),
 * EV_SET, the filters and flags remora uses. Flag values are placeholders
 * (distinct bits); a kevent field's type is as the page gives it.
 */
#ifndef BSDCHK_SYS_EVENT_H
#define BSDCHK_SYS_EVENT_H
#include <stdint.h>

struct timespec;

struct kevent {
	uintptr_t ident;      /* identifier for this event */
	short filter;	      /* filter for event */
	unsigned short flags; /* action flags for kqueue */
	unsigned int fflags;  /* filter flag value */
	int64_t data;	      /* filter data value */
	void *udata;	      /* opaque user data identifier */
#if defined(__FreeBSD__)
	uint64_t ext[4]; /* extensions */
#endif
};

#if defined(__FreeBSD__)
#define BSDCHK_EV_SET_EXT(kevp) \
	((kevp)->ext[0] = (kevp)->ext[1] = (kevp)->ext[2] = (kevp)->ext[3] = 0)
#else
#define BSDCHK_EV_SET_EXT(kevp) ((void)0)
#endif
#define EV_SET(kevp, a, b, c, d, e, f)               \
	do {                                         \
		struct kevent *bsdchk_kevp = (kevp); \
		bsdchk_kevp->ident = (a);            \
		bsdchk_kevp->filter = (b);           \
		bsdchk_kevp->flags = (c);            \
		bsdchk_kevp->fflags = (d);           \
		bsdchk_kevp->data = (e);             \
		bsdchk_kevp->udata = (f);            \
		BSDCHK_EV_SET_EXT(bsdchk_kevp);      \
	} while (0)

#define EVFILT_READ  (-1)
#define EVFILT_WRITE (-2)

#define EV_ADD	    0x0001
#define EV_DELETE   0x0002
#define EV_ENABLE   0x0004
#define EV_DISABLE  0x0008
#define EV_ONESHOT  0x0010
#define EV_CLEAR    0x0020
#define EV_RECEIPT  0x0040
#define EV_DISPATCH 0x0080
#define EV_ERROR    0x4000
#define EV_EOF	    0x8000

int kqueue(void);
int kevent(int kq, const struct kevent *changelist, int nchanges, struct kevent *eventlist,
	   int nevents, const struct timespec *timeout);
#endif
