/*
 * rules.h — the router rule set for a configuration (remora --print-rules).
 *
 * From the listeners (address, mode, spoof, intercept_ports) and [router]
 * (mark, table, subscribers, upstream) it writes one POSIX sh script that
 * installs everything the kernel needs, IPv4 and IPv6:
 *   - per TPROXY listener a tproxy rule, per REDIRECT listener a redirect
 *     (or dnat) rule, for the listener's ports from the subscribers' side;
 *   - then, never before them, the "socket transparent" rule that marks the
 *     origins' replies to spoofed upstream sockets (docs/deployment.md 5.2);
 *   - notrack rules for the intercepted legs when [router] upstream is set;
 *   - the ip rule / ip route lines of the policy routing (mark -> table ->
 *     local), replaced rather than duplicated when the script runs again.
 * Pure text: no sockets, nothing run. Any thread.
 */
#ifndef REMORA_RULES_H
#define REMORA_RULES_H

#include <stdio.h>

#include "config.h"

enum rules_flavour { RULES_NFT, RULES_IPTABLES };

/* "nft" or "iptables" (NULL or "" = nft) into *out; 0, or -1 when unknown. */
int rules_flavour_parse(const char *s, enum rules_flavour *out);

/* Writes the script for cfg to out; conf_path is named in its header.
 * Returns 0, or -EIO when writing failed. */
int rules_print(FILE *out, const struct config *cfg, const char *conf_path,
		enum rules_flavour flavour);

#endif
