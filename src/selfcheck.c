/* selfcheck.c — the start-up check of the kernel's interception set-up. */
#include "remora-config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fib_rules.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "selfcheck.h"
#include "util.h"

#ifndef IP_TRANSPARENT
#define IP_TRANSPARENT 19
#endif
#ifndef IPV6_TRANSPARENT
#define IPV6_TRANSPARENT 75
#endif

/* What to look for in one netlink dump. */
struct nl_want {
	uint32_t mark, table;
	int found;
};

/* IP_TRANSPARENT on a fresh socket of family af: 0 or -errno. */
static int try_transparent(int af)
{
	int fd = socket(af, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, rc = 0;

	if (fd == -1)
		return -errno;
	if (setsockopt(fd, af == AF_INET ? SOL_IP : SOL_IPV6,
		       af == AF_INET ? IP_TRANSPARENT : IPV6_TRANSPARENT, &one, sizeof(one)) == -1)
		rc = -errno;
	close(fd);
	return rc;
}

/* The attribute of type t in a rule or route message, or NULL. */
static const struct rtattr *nl_attr(const struct nlmsghdr *h, size_t hdrlen, unsigned short t)
{
	const struct rtattr *a = (const void *)((const char *)NLMSG_DATA(h) + NLMSG_ALIGN(hdrlen));
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(hdrlen);

	for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == t)
			return a;
	return NULL;
}

static uint32_t nl_u32(const struct rtattr *a, uint32_t dflt)
{
	uint32_t v;

	if (a == NULL || RTA_PAYLOAD(a) < sizeof(v))
		return dflt;
	memcpy(&v, RTA_DATA(a), sizeof(v));
	return v;
}

/* Is h the rule (fwmark mark -> table) or the local default route in table? */
static void nl_match(const struct nlmsghdr *h, struct nl_want *w)
{
	if (h->nlmsg_type == RTM_NEWRULE) {
		const struct fib_rule_hdr *r = NLMSG_DATA(h);
		uint32_t table = nl_u32(nl_attr(h, sizeof(*r), FRA_TABLE), r->table);

		if (r->action == FR_ACT_TO_TBL && table == w->table &&
		    nl_u32(nl_attr(h, sizeof(*r), FRA_FWMARK), 0) == w->mark)
			w->found = 1;
	} else if (h->nlmsg_type == RTM_NEWROUTE) {
		const struct rtmsg *r = NLMSG_DATA(h);
		uint32_t table = nl_u32(nl_attr(h, sizeof(*r), RTA_TABLE), r->rtm_table);

		if (r->rtm_type == RTN_LOCAL && r->rtm_dst_len == 0 && table == w->table)
			w->found = 1;
	}
}

/* Dumps the rules (RTM_GETRULE) or routes (RTM_GETROUTE) of family af and
 * looks for w. Returns 0 (w->found says) or -errno. */
static int nl_dump(int af, uint16_t type, struct nl_want *w)
{
	struct {
		struct nlmsghdr h;
		struct rtmsg r;
	} req = {
		.h = {.nlmsg_len = sizeof(req),
		      .nlmsg_type = type,
		      .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		      .nlmsg_seq = 1},
		.r = {.rtm_family = (unsigned char)af},
	};
	static __thread char buf[32768];
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	int fd, rc = 0, done = 0;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd == -1)
		return -errno;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		done = 1, rc = -errno;
	while (!done) {
		const struct nlmsghdr *h = (const void *)buf;

		n = recv(fd, buf, sizeof(buf), 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				rc = e->error;
				done = 1;
				break;
			}
			nl_match(h, w);
		}
		if (n == 0)
			break;
	}
	close(fd);
	return rc;
}

/* "1" in a /proc/sys file? 1, 0, or -errno. */
static int sysctl_on(const char *path)
{
	char c = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd == -1)
		return -errno;
	rc = read(fd, &c, 1) == 1 ? c == '1' : -EIO;
	close(fd);
	return rc;
}

/* Checks one family; f = 0 (IPv4) or 1 (IPv6). */
static int check_family(const struct config *cfg, int f, int transparent, int routing,
			selfcheck_report_fn report, void *arg)
{
	const char *ip = f ? "ip -6" : "ip", *v = f ? "IPv6" : "IPv4";
	int af = f ? AF_INET6 : AF_INET, rc, bad = 0;
	char what[256], fix[256];
	struct nl_want w = {.mark = cfg->fw_mark, .table = cfg->route_table};

	if (transparent && (rc = try_transparent(af)) < 0) {
		snprintf(what, sizeof(what), "%s: %s fails (%d: %s)", v,
			 f ? "IPV6_TRANSPARENT" : "IP_TRANSPARENT", -rc, strerror(-rc));
		report(arg, what, "run as root or with CAP_NET_ADMIN (the systemd unit grants it)");
		bad++;
	}
	if (routing) {
		rc = nl_dump(af, RTM_GETRULE, &w);
		if (rc < 0 || !w.found) {
			snprintf(what, sizeof(what),
				 "%s: no ip rule sends mark 0x%x to table %u%s%s", v, cfg->fw_mark,
				 cfg->route_table, rc < 0 ? " (cannot read: " : "",
				 rc < 0 ? strerror(-rc) : "");
			if (rc < 0)
				strcat(what, ")");
			snprintf(fix, sizeof(fix),
				 "%s rule add fwmark 0x%x lookup %u (see remora --print-rules)", ip,
				 cfg->fw_mark, cfg->route_table);
			report(arg, what, fix);
			bad++;
		}
		w.found = 0;
		rc = rc < 0 ? rc : nl_dump(af, RTM_GETROUTE, &w);
		if (rc == 0 && !w.found) {
			snprintf(what, sizeof(what), "%s: table %u has no local default route", v,
				 cfg->route_table);
			snprintf(fix, sizeof(fix), "%s route add local %s dev lo table %u", ip,
				 f ? "::/0" : "0.0.0.0/0", cfg->route_table);
			report(arg, what, fix);
			bad++;
		}
	}
	rc = sysctl_on(f ? "/proc/sys/net/ipv6/conf/all/forwarding"
			 : "/proc/sys/net/ipv4/ip_forward");
	if (rc == 0) {
		snprintf(what, sizeof(what), "%s: forwarding is off (%s)", v,
			 f ? "net.ipv6.conf.all.forwarding = 0" : "net.ipv4.ip_forward = 0");
		snprintf(fix, sizeof(fix), "sysctl -w %s=1 (and the same in /etc/sysctl.d/)",
			 f ? "net.ipv6.conf.all.forwarding" : "net.ipv4.ip_forward");
		report(arg, what, fix);
		bad++;
	}
	return bad;
}

int selfcheck_run(const struct config *cfg, selfcheck_report_fn report, void *arg)
{
	int transparent[2] = {0, 0}, routing[2] = {0, 0}, used[2] = {0, 0}, bad = 0, f;
	size_t i;

	for (i = 0; i < cfg->n_listeners; i++) {
		const struct listener_conf *l = &cfg->listeners[i];

		f = l->addr.sa.sa_family == AF_INET6;
		if (l->n_ports == 0)
			continue;
		used[f] = 1;
		if (l->mode == IC_MODE_TPROXY || l->spoof != IC_SPOOF_NONE)
			transparent[f] = routing[f] = 1;
	}
	for (f = 0; f < 2; f++)
		if (used[f])
			bad += check_family(cfg, f, transparent[f], routing[f], report, arg);
	return bad;
}
