/* rules.c — remora --print-rules: the router rule set as a sh script. */
#include "remora-config.h"

#include <errno.h>
#include <string.h>

#include "rules.h"
#include "util.h"

/* What the listeners need, per family (0: IPv4, 1: IPv6). */
struct need {
	int tproxy[2];	/* a TPROXY listener */
	int redirect;	/* any REDIRECT listener */
	int spoofed[2]; /* replies to spoofed sockets (TPROXY, or spoof != none) */
	uint16_t ports[CONFIG_MAX_LISTENERS * CONFIG_MAX_PORTS]; /* the union */
	size_t n_ports;
};

static int fam(const struct listener_conf *l)
{
	return l->addr.sa.sa_family == AF_INET6;
}

static void need_scan(const struct config *cfg, struct need *n)
{
	size_t i, j, k;

	memset(n, 0, sizeof(*n));
	for (i = 0; i < cfg->n_listeners; i++) {
		const struct listener_conf *l = &cfg->listeners[i];

		if (l->n_ports == 0)
			continue;
		if (l->mode == IC_MODE_TPROXY)
			n->tproxy[fam(l)] = 1;
		else
			n->redirect = 1;
		if (l->mode == IC_MODE_TPROXY || l->spoof != IC_SPOOF_NONE)
			n->spoofed[fam(l)] = 1;
		for (j = 0; j < l->n_ports; j++) {
			for (k = 0; k < n->n_ports && n->ports[k] != l->ports[j]; k++)
				;
			if (k == n->n_ports)
				n->ports[n->n_ports++] = l->ports[j];
		}
	}
}

/* "80, 443" */
static void print_ports(FILE *o, const uint16_t *p, size_t n, const char *sep)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(o, "%s%u", i ? sep : "", p[i]);
}

/* nft: 'iifname "a" ', 'iifname { "a", "b" } ' (nothing for "" = any). */
static void nft_ifaces(FILE *o, const char *kw, const char *list)
{
	char buf[256], *save = NULL, *t;
	int first = 1, set = strpbrk(list, ", \t") != NULL;

	if (list[0] == '\0')
		return;
	snprintf(buf, sizeof(buf), "%s", list);
	fprintf(o, "%s %s", kw, set ? "{ " : "");
	for (t = strtok_r(buf, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save), first = 0)
		fprintf(o, "%s\"%s\"", first ? "" : ", ", t);
	fprintf(o, "%s ", set ? " }" : "");
}

/* The listener's own ports, when they are not the whole intercept_ports set. */
static void nft_own_ports(FILE *o, const struct listener_conf *l, const struct need *n)
{
	if (l->n_ports == n->n_ports)
		return;
	fprintf(o, "tcp dport { ");
	print_ports(o, l->ports, l->n_ports, ", ");
	fprintf(o, " } ");
}

/* "to :3129" for a wildcard listener, "to 198.18.1.1:3129" / "to [v6]:3129" */
static void print_target(FILE *o, const struct listener_conf *l, const char *sep)
{
	char ip[IC_ADDR_STRLEN];

	if (ic_addr_is_any(&l->addr))
		fprintf(o, "%s%u", sep, ic_addr_port(&l->addr));
	else if (fam(l))
		fprintf(o, "[%s]%s%u", ic_addr_format_ip(&l->addr, ip, sizeof(ip)), sep,
			ic_addr_port(&l->addr));
	else
		fprintf(o, "%s%s%u", ic_addr_format_ip(&l->addr, ip, sizeof(ip)), sep,
			ic_addr_port(&l->addr));
}

/* One raw chain: hook "prerouting" (packets in: iifname, the subscribers'
 * dport and the origins' sport) or "output" (out: oifname, the reverse). */
static void nft_raw_chain(FILE *o, const struct config *cfg, const char *hook, int client)
{
	int in = hook[0] == 'p';

	fprintf(o, "\tchain raw_%s {\n\t\ttype filter hook %s priority raw; policy accept;\n", hook,
		hook);
	if (client) {
		fprintf(o, "\t\t");
		nft_ifaces(o, in ? "iifname" : "oifname", cfg->subscribers);
		fprintf(o, "tcp %s @intercept_ports notrack\n", in ? "dport" : "sport");
	}
	fprintf(o, "\t\t");
	nft_ifaces(o, in ? "iifname" : "oifname", cfg->upstream);
	fprintf(o, "tcp %s @intercept_ports notrack\n\t}\n", in ? "sport" : "dport");
}

/* Both legs of an intercepted flow end on this box: no conntrack for them
 * (a redirected client leg must stay tracked: NAT needs it). */
static void nft_notrack(FILE *o, const struct config *cfg, const struct need *n)
{
	fprintf(o,
		"\t# Both legs of an intercepted flow end on this box: no conntrack for them.\n");
	nft_raw_chain(o, cfg, "prerouting", !n->redirect);
	nft_raw_chain(o, cfg, "output", !n->redirect);
}

static void nft_listener(FILE *o, const struct config *cfg, const struct listener_conf *l,
			 const struct need *n)
{
	const char *ip = fam(l) ? "ip6" : "ip";

	fprintf(o, "\t\t# [listener %s]\n\t\t", l->name);
	nft_ifaces(o, "iifname", cfg->subscribers);
	fprintf(o, "meta nfproto %s tcp dport @intercept_ports ", fam(l) ? "ipv6" : "ipv4");
	nft_own_ports(o, l, n);
	if (l->mode == IC_MODE_TPROXY) {
		fprintf(o, "tproxy %s to ", ip);
		print_target(o, l, ":");
		fprintf(o, " meta mark set 0x%x accept\n", cfg->fw_mark);
	} else if (ic_addr_is_any(&l->addr)) {
		fprintf(o, "redirect to :%u\n", ic_addr_port(&l->addr));
	} else {
		fprintf(o, "dnat %s to ", ip);
		print_target(o, l, ":");
		fprintf(o, "\n");
	}
}

static void nft_print(FILE *o, const struct config *cfg, const struct need *n)
{
	size_t i;

	fprintf(o, "nft -f - <<'EOF'\ntable inet remora\ndelete table inet remora\n"
		   "table inet remora {\n"
		   "\t# Every intercepted port: deleting elements bypasses Remora for them.\n"
		   "\tset intercept_ports {\n\t\ttype inet_service\n\t\telements = { ");
	print_ports(o, n->ports, n->n_ports, ", ");
	fprintf(o, " }\n\t}\n");
	if (cfg->upstream[0] != '\0')
		nft_notrack(o, cfg, n);
	if (n->tproxy[0] || n->tproxy[1] || n->spoofed[0] || n->spoofed[1]) {
		fprintf(o,
			"\tchain prerouting {\n\t\ttype filter hook prerouting priority mangle; "
			"policy accept;\n"
			"\t\t# 1. Subscribers' flows to the TPROXY listeners. These MUST come\n"
			"\t\t#    before rule 2, or a SYN from a reused client port finds the old\n"
			"\t\t#    TIME_WAIT socket instead of the listener.\n");
		for (i = 0; i < cfg->n_listeners; i++)
			if (cfg->listeners[i].n_ports && cfg->listeners[i].mode == IC_MODE_TPROXY)
				nft_listener(o, cfg, &cfg->listeners[i], n);
		fprintf(o,
			"\t\t# 2. The origins' replies to Remora's spoofed upstream sockets.\n"
			"\t\tmeta l4proto tcp socket transparent 1 meta mark set 0x%x "
			"accept\n\t}\n",
			cfg->fw_mark);
	}
	if (n->redirect) {
		fprintf(o,
			"\tchain prerouting_nat {\n\t\ttype nat hook prerouting priority dstnat; "
			"policy accept;\n");
		for (i = 0; i < cfg->n_listeners; i++)
			if (cfg->listeners[i].n_ports && cfg->listeners[i].mode == IC_MODE_REDIRECT)
				nft_listener(o, cfg, &cfg->listeners[i], n);
		fprintf(o, "\t}\n");
	}
	fprintf(o, "}\nEOF\n");
}

/* One iptables line per subscriber interface (or one without -i). */
static void ipt_each_iface(FILE *o, const struct config *cfg, const char *pre, const char *opt,
			   const char *post)
{
	char buf[256], *save = NULL, *t;
	size_t k;

	if (cfg->subscribers[0] == '\0') {
		fprintf(o, "%s%s\n", pre, post);
		return;
	}
	snprintf(buf, sizeof(buf), "%s", cfg->subscribers);
	for (t = strtok_r(buf, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
		k = strlen(t);
		if (k && t[k - 1] == '*') /* nft's wildcard is iptables' '+' */
			t[k - 1] = '+';
		fprintf(o, "%s%s %s %s\n", pre, opt, t, post);
	}
}

/* The -A lines of one listener into chain REMORA (mangle or nat). */
static void ipt_listener(FILE *o, const struct config *cfg, const struct listener_conf *l,
			 const char *ipt)
{
	char pre[128], post[384], ports[CONFIG_MAX_PORTS * 6 + 1], ip[IC_ADDR_STRLEN];
	uint16_t port = ic_addr_port(&l->addr);
	size_t i, k = 0;

	for (i = 0; i < l->n_ports; i++)
		k += (size_t)snprintf(ports + k, sizeof(ports) - k, "%s%u", i ? "," : "",
				      l->ports[i]);
	ic_addr_format_ip(&l->addr, ip, sizeof(ip));
	fprintf(o, "# [listener %s]\n", l->name);
	snprintf(pre, sizeof(pre), "%s -t %s -A REMORA ", ipt,
		 l->mode == IC_MODE_TPROXY ? "mangle" : "nat");
	k = (size_t)snprintf(post, sizeof(post), "-p tcp -m multiport --dports %s ", ports);
	if (l->mode == IC_MODE_TPROXY)
		snprintf(post + k, sizeof(post) - k,
			 "-j TPROXY %s%s--on-port %u --tproxy-mark 0x%x/0x%x",
			 ic_addr_is_any(&l->addr) ? "" : "--on-ip ",
			 ic_addr_is_any(&l->addr) ? "" : strcat(ip, " "), port, cfg->fw_mark,
			 cfg->fw_mark);
	else if (ic_addr_is_any(&l->addr))
		snprintf(post + k, sizeof(post) - k, "-j REDIRECT --to-ports %u", port);
	else
		snprintf(post + k, sizeof(post) - k, "-j DNAT --to-destination %s%s%s:%u",
			 fam(l) ? "[" : "", ip, fam(l) ? "]" : "", port);
	ipt_each_iface(o, cfg, pre, "-i", post);
}

static void ipt_chain(FILE *o, const char *ipt, const char *table, const char *chain,
		      const char *hook)
{
	fprintf(o, "%s -t %s -N %s 2>/dev/null || %s -t %s -F %s\n", ipt, table, chain, ipt, table,
		chain);
	fprintf(o, "%s -t %s -C %s -j %s 2>/dev/null || %s -t %s -I %s -j %s\n", ipt, table, hook,
		chain, ipt, table, hook, chain);
}

static void ipt_print(FILE *o, const struct config *cfg, const struct need *n)
{
	static const char *const ipts[2] = {"iptables", "ip6tables"};
	size_t i;
	int f;

	for (f = 0; f < 2; f++) {
		const char *ipt = ipts[f];

		if (n->spoofed[f] || n->tproxy[f]) {
			fprintf(o, "\n# %s: TPROXY rules first, then the socket rule\n", ipt);
			ipt_chain(o, ipt, "mangle", "REMORA", "PREROUTING");
			fprintf(o,
				"%s -t mangle -N REMORA_DIVERT 2>/dev/null || "
				"%s -t mangle -F REMORA_DIVERT\n",
				ipt, ipt);
			fprintf(o, "%s -t mangle -A REMORA_DIVERT -j MARK --set-mark 0x%x\n", ipt,
				cfg->fw_mark);
			fprintf(o, "%s -t mangle -A REMORA_DIVERT -j ACCEPT\n", ipt);
			for (i = 0; i < cfg->n_listeners; i++)
				if (cfg->listeners[i].n_ports && fam(&cfg->listeners[i]) == f &&
				    cfg->listeners[i].mode == IC_MODE_TPROXY)
					ipt_listener(o, cfg, &cfg->listeners[i], ipt);
			fprintf(o,
				"%s -t mangle -A REMORA -p tcp -m socket --transparent "
				"-j REMORA_DIVERT\n",
				ipt);
		}
		for (i = 0; i < cfg->n_listeners; i++)
			if (cfg->listeners[i].n_ports && fam(&cfg->listeners[i]) == f &&
			    cfg->listeners[i].mode == IC_MODE_REDIRECT)
				break;
		if (i < cfg->n_listeners) {
			fprintf(o, "\n# %s: NAT interception\n", ipt);
			ipt_chain(o, ipt, "nat", "REMORA", "PREROUTING");
			for (; i < cfg->n_listeners; i++)
				if (cfg->listeners[i].n_ports && fam(&cfg->listeners[i]) == f &&
				    cfg->listeners[i].mode == IC_MODE_REDIRECT)
					ipt_listener(o, cfg, &cfg->listeners[i], ipt);
		}
	}
}

/* ip rule / ip route: marked packets are delivered locally. Replaces rather
 * than duplicates when run again. */
static void print_routing(FILE *o, const struct config *cfg, const struct need *n)
{
	static const char *const fams[2][2] = {{"ip", "0.0.0.0/0"}, {"ip -6", "::/0"}};
	int f;

	if (!n->spoofed[0] && !n->spoofed[1])
		return;
	fprintf(o, "\n# Policy routing: packets with mark 0x%x are delivered locally.\n",
		cfg->fw_mark);
	for (f = 0; f < 2; f++) {
		if (!n->spoofed[f])
			continue;
		fprintf(o, "%s rule del fwmark 0x%x lookup %u 2>/dev/null || true\n", fams[f][0],
			cfg->fw_mark, cfg->route_table);
		fprintf(o, "%s rule add fwmark 0x%x lookup %u\n", fams[f][0], cfg->fw_mark,
			cfg->route_table);
		fprintf(o, "%s route replace local %s dev lo table %u\n", fams[f][0], fams[f][1],
			cfg->route_table);
	}
}

int rules_flavour_parse(const char *s, enum rules_flavour *out)
{
	if (s == NULL || s[0] == '\0' || strcmp(s, "nft") == 0)
		*out = RULES_NFT;
	else if (strcmp(s, "iptables") == 0)
		*out = RULES_IPTABLES;
	else
		return -1;
	return 0;
}

int rules_print(FILE *o, const struct config *cfg, const char *conf_path,
		enum rules_flavour flavour)
{
	struct need n;
	char a[IC_ADDR_STRLEN];
	size_t i;

	need_scan(cfg, &n);
	fprintf(o,
		"#!/bin/sh\n# Router rules for Remora's listeners in %s\n"
		"# (remora %s --print-rules=%s). Run as root on the router; running it\n"
		"# again replaces the rules. Subscribers' interfaces: %s.\n",
		conf_path, REMORA_VERSION, flavour == RULES_NFT ? "nft" : "iptables",
		cfg->subscribers[0] ? cfg->subscribers : "any ([router] subscribers)");
	for (i = 0; i < cfg->n_listeners; i++) {
		const struct listener_conf *l = &cfg->listeners[i];

		fprintf(o, "#   [listener %s] %s %s <- tcp ports ", l->name,
			l->mode == IC_MODE_TPROXY ? "tproxy" : "redirect",
			ic_addr_format(&l->addr, a, sizeof(a)));
		print_ports(o, l->ports, l->n_ports, ", ");
		fprintf(o, "%s\n", l->n_ports ? "" : "(none: intercept_ports is empty)");
	}
	fprintf(o, "set -e\n");
	if (n.n_ports == 0)
		fprintf(o, "# no listener intercepts any port: nothing to do\n");
	else if (flavour == RULES_NFT)
		nft_print(o, cfg, &n);
	else
		ipt_print(o, cfg, &n);
	if (n.n_ports)
		print_routing(o, cfg, &n);
	fflush(o);
	return ferror(o) ? -EIO : 0;
}
