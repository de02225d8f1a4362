/* privs.c — user switch, capabilities, transparency probe (see privs.h). */
#include "remora-config.h"

#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "intercept/intercept.h"
#include "privs.h"

/* IP_TRANSPARENT (listeners and spoofed upstream sockets) needs CAP_NET_RAW
 * or CAP_NET_ADMIN: the narrower one is kept. CAP_NET_BIND_SERVICE (second)
 * only when a port below 1024 is configured. */
static const cap_value_t kept[] = {CAP_NET_RAW, CAP_NET_BIND_SERVICE};

static int set_caps(int n, char *err, size_t errlen)
{
	cap_t caps = cap_init(); /* all clear */
	int rc;

	if (caps == NULL) {
		snprintf(err, errlen, "cap_init failed (%d: %s)", errno, strerror(errno));
		return -1;
	}
	rc = cap_set_flag(caps, CAP_PERMITTED, n, kept, CAP_SET) == 0 &&
			     cap_set_flag(caps, CAP_EFFECTIVE, n, kept, CAP_SET) == 0 &&
			     cap_set_proc(caps) == 0
		     ? 0
		     : -1;
	if (rc < 0)
		snprintf(err, errlen, "cannot set capabilities (%d: %s)", errno, strerror(errno));
	cap_free(caps);
	return rc;
}

int privs_drop(const char *user, int low_ports, char *err, size_t errlen)
{
	int n = low_ports ? 2 : 1;
	struct passwd *pw;

	if (user == NULL || user[0] == '\0')
		return 0;
	if (geteuid() != 0) {
		snprintf(err, errlen, "[global] user = %s: not started as root, cannot switch",
			 user);
		return -1;
	}
	pw = getpwnam(user);
	if (pw == NULL) {
		snprintf(err, errlen, "[global] user = %s: no such user", user);
		return -1;
	}
	/* nothing outside the kept set can ever come back (bounding set) */
	for (cap_value_t v = 0; v <= CAP_LAST_CAP; v++)
		if (v != kept[0] && (n < 2 || v != kept[1]) &&
		    prctl(PR_CAPBSET_DROP, v, 0, 0, 0) == -1 && errno != EINVAL) {
			snprintf(err, errlen,
				 "cannot drop capability %d from the bounding set "
				 "(%d: %s)",
				 (int)v, errno, strerror(errno));
			return -1;
		}
	/* keep the permitted set across setuid(), then trim it */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1 || setgroups(0, NULL) == -1 ||
	    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1) {
		snprintf(err, errlen, "cannot switch to user %s (%d: %s)", user, errno,
			 strerror(errno));
		return -1;
	}
	if (set_caps(n, err, errlen) < 0)
		return -1;
	(void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return 0;
}

int privs_probe_transparent(char *err, size_t errlen)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

	if (fd == -1) {
		snprintf(err, errlen, "socket() failed (%d: %s)", errno, strerror(errno));
		return -1;
	}
	rc = ic_platform_set_transparent(fd, AF_INET);
	close(fd);
	if (rc == 0)
		return 0;
	snprintf(err, errlen,
		 "a transparent socket cannot be made (%d: %s): IP_TRANSPARENT needs "
		 "CAP_NET_RAW: run as root, or grant it (systemd: "
		 "AmbientCapabilities=CAP_NET_RAW; or setcap cap_net_raw+ep)",
		 -rc, strerror(-rc));
	return -1;
}

void privs_describe(char *buf, size_t len)
{
	cap_t caps = cap_get_proc();
	char *text = caps ? cap_to_text(caps, NULL) : NULL;

	snprintf(buf, len, "uid %u, capabilities %s", (unsigned)geteuid(), text ? text : "?");
	cap_free(text);
	cap_free(caps);
}
