/*
 * privs.h — least privilege: drop to an unprivileged user keeping only the
 * capabilities Remora needs, and a start-up probe that a transparent socket
 * can be made. Main thread, before any other thread starts (capabilities are
 * per thread; threads created later inherit them).
 */
#ifndef REMORA_PRIVS_H
#define REMORA_PRIVS_H

#include <stddef.h>

/* If running as root and user is not empty: switch to user (and its group,
 * supplementary groups cleared), keeping CAP_NET_RAW (IP_TRANSPARENT) and,
 * only if low_ports is set (a listener or the admin port below 1024),
 * CAP_NET_BIND_SERVICE, and nothing else, not even in the bounding set.
 * Returns 0, or -1 with a message in err. */
int privs_drop(const char *user, int low_ports, char *err, size_t errlen);
/* Checks that an IP_TRANSPARENT socket can be made now; -1 with a message
 * naming the capability to grant otherwise. */
int privs_probe_transparent(char *err, size_t errlen);
/* "cap_net_bind_service,cap_net_raw=ep" or similar, for the log. */
void privs_describe(char *buf, size_t len);

#endif
