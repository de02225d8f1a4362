/*
 * selfcheck.h — what the kernel can tell about the interception set-up:
 * at start-up (and in remora -t as root), each problem becomes one warning
 * saying what is missing and how to fix it. Remora starts anyway: rules may
 * come later, or live on another box.
 *
 * Checked for every family with an intercepting listener (intercept_ports
 * not empty): IP_TRANSPARENT works (TPROXY listeners and spoofed upstream
 * sockets); an ip rule sends [router] mark to [router] table and that table
 * has a local default route (TPROXY or spoofing); forwarding is on.
 * Reads only; any thread.
 */
#ifndef REMORA_SELFCHECK_H
#define REMORA_SELFCHECK_H

#include "config.h"

/* Called once per problem: what is missing, and the command that fixes it. */
typedef void (*selfcheck_report_fn)(void *arg, const char *what, const char *fix);

/* Runs the checks for cfg; returns the number of problems reported. */
int selfcheck_run(const struct config *cfg, selfcheck_report_fn report, void *arg);

#endif
