/* main.c — command line, start-up, signals and shutdown. */
#include "remora-config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jemalloc/jemalloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acceptor.h"
#include "accesslog.h"
#include "admin.h"
#include "config.h"
#include "log.h"
#include "poller/poller.h"
#include "stats.h"
#include "util.h"
#include "worker.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: remora [-t] -c FILE    run (or with -t: check) the configuration\n"
		     "       remora -V              print version, poller and build features\n"
		     "       remora -h              this help\n");
}

static void print_version(void)
{
	printf("remora %s\npoller: %s\nfeatures: %s\n", REMORA_VERSION, poller_backend(),
	       ic_platform_features());
}

/* Open descriptors other than stdin/stdout/stderr, or -1 if unknown. */
static int count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && atoi(e->d_name) > 2)
			n++;
	closedir(d);
	return n - 1; /* the directory stream itself */
}

static void log_summary(struct worker *workers, unsigned n, const struct acceptor *a)
{
	uint64_t total[CONN_CLOSE_MAX] = {0};
	char line[512];
	unsigned i, r;
	int off;

	for (i = 0; i < n; i++) {
		const struct worker_stats *s = &workers[i].stats;

		log_info("worker %u: %llu connections, %llu bytes from clients, %llu to clients "
			 "(%llu spliced), %llu spoofed-bind collisions, %llu port exhaustions "
			 "retried",
			 i, (unsigned long long)s->accepted, (unsigned long long)s->bytes_in,
			 (unsigned long long)s->bytes_out, (unsigned long long)s->bytes_spliced,
			 (unsigned long long)s->connect.bind_collisions,
			 (unsigned long long)s->connect.port_exhaustions);
		for (r = 0; r < CONN_CLOSE_MAX; r++)
			total[r] += s->closed[r];
	}
	off = snprintf(line, sizeof(line), "close reasons:");
	for (r = 1; r < CONN_CLOSE_MAX; r++)
		if (total[r] && off < (int)sizeof(line))
			off += snprintf(line + off, sizeof(line) - (size_t)off, " %s=%llu",
					conn_close_token(r), (unsigned long long)total[r]);
	log_info("%s", line);
	log_info("acceptor: %llu accepted, %llu hand-off failures, %llu accept errors",
		 (unsigned long long)a->accepted, (unsigned long long)a->handoff_failed,
		 (unsigned long long)a->accept_errors);
}

static void log_access_summary(const struct alog *al)
{
	uint64_t lines = 0, dropped = 0;
	unsigned i;

	for (i = 0; i < al->n_rings; i++) {
		lines += STAT_GET(al->rings[i].lines);
		dropped += STAT_GET(al->rings[i].dropped);
	}
	log_info("access_log: %llu lines, %llu dropped (writer behind), %llu write errors",
		 (unsigned long long)lines, (unsigned long long)dropped,
		 (unsigned long long)STAT_GET(al->write_errors));
}

/* Runs until SIGTERM/SIGINT, then drains. Returns the exit status. */
static int run(struct config *cfg, int fds_at_start)
{
	struct acceptor a;
	struct admin ad;
	struct alog al;
	struct worker *workers;
	sigset_t sigs;
	char err[512], addr[IC_ADDR_STRLEN];
	unsigned i, started = 0;
	int sig, rc;
	size_t l;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	/* threads inherit the mask: only sigwait() below sees these signals */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (acceptor_open(&a, cfg, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return 1;
	}
	if (admin_open(&ad, cfg->admin_on ? &cfg->admin_addr : NULL, err, sizeof(err)) < 0) {
		log_error("%s", err);
		acceptor_close(&a);
		return 1;
	}
	if (alog_open(&al, cfg->access_log, cfg->access_log_json ? ALOG_JSON : ALOG_SQUID,
		      cfg->workers, err, sizeof(err)) < 0 ||
	    alog_start(&al) < 0) {
		log_error("%s", err);
		admin_stop(&ad);
		acceptor_close(&a);
		return 1;
	}
	workers = calloc(cfg->workers, sizeof(*workers));
	if (workers == NULL) {
		log_error("out of memory");
		alog_stop(&al);
		admin_stop(&ad);
		acceptor_close(&a);
		return 1;
	}
	for (i = 0; i < cfg->workers; i++) {
		rc = worker_init(&workers[i], i, cfg, a.addrs, a.n);
		workers[i].alog = alog_enabled(&al) ? &al : NULL;
		if (rc == 0)
			rc = worker_start(&workers[i]);
		if (rc < 0) {
			log_error("worker %u: cannot start (%d: %s)", i, -rc, strerror(-rc));
			if (rc == 0 || workers[i].poller != NULL)
				worker_fini(&workers[i]);
			goto stop_workers;
		}
		started++;
	}
	rc = acceptor_start(&a, workers, cfg->workers);
	if (rc < 0) {
		log_error("acceptor: cannot start (%d: %s)", -rc, strerror(-rc));
		goto stop_workers;
	}
	rc = admin_start(&ad, workers, cfg->workers, &a);
	if (rc < 0) {
		log_error("admin: cannot start (%d: %s)", -rc, strerror(-rc));
		acceptor_stop(&a);
		goto stop_workers;
	}
	if (cfg->admin_on)
		log_info("admin: http://%s/metrics and /healthz",
			 ic_addr_format(&cfg->admin_addr, addr, sizeof(addr)));
	for (l = 0; l < a.n; l++)
		log_info("listening on %s [listener %s] mode %s, spoof %s",
			 ic_addr_format(&cfg->listeners[l].addr, addr, sizeof(addr)),
			 cfg->listeners[l].name,
			 cfg->listeners[l].mode == IC_MODE_TPROXY ? "tproxy" : "redirect",
			 cfg->listeners[l].spoof == IC_SPOOF_NONE	 ? "none"
			 : cfg->listeners[l].spoof == IC_SPOOF_CLIENT_IP ? "client-ip"
									 : "client-ip-port");
	log_info("remora %s started: %u workers, poller %s", REMORA_VERSION, cfg->workers,
		 poller_backend());

	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP)
			log_warn("SIGHUP: configuration reload is not supported yet; ignored");
		if (sig == SIGUSR1)
			alog_reopen(&al);
	}
	log_info("%s: no longer accepting; draining for up to %u ms", strsignal(sig),
		 cfg->drain_timeout_ms);
	acceptor_stop(&a);
	rc = 0;
stop_workers:
	for (i = 0; i < started; i++)
		worker_request_stop(&workers[i]);
	for (i = 0; i < started; i++)
		worker_join(&workers[i]);
	if (rc == 0)
		log_summary(workers, started, &a);
	admin_stop(&ad);
	if (rc == 0 && alog_enabled(&al))
		log_access_summary(&al);
	alog_stop(&al); /* after the workers: their last lines are in the rings */
	for (i = 0; i < started; i++)
		worker_fini(&workers[i]);
	acceptor_close(&a);
	free(workers);
	if (rc == 0)
		log_info("shutdown complete: %d descriptors leaked",
			 count_open_fds() - fds_at_start);
	return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	struct config *cfg;
	char err[768];
	int opt, check = 0, rc, fds_at_start = count_open_fds();

	while ((opt = getopt(argc, argv, "c:tVh")) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 't':
			check = 1;
			break;
		case 'V':
			print_version();
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (path == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (config_load(path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "remora: %s\n", err);
		return 1;
	}
	if (check) {
		printf("remora: %s: configuration OK (%zu listeners, %u workers)\n", path,
		       cfg->n_listeners, cfg->workers);
		config_free(cfg);
		return 0;
	}
	log_set_level(cfg->log_level);
	rc = run(cfg, fds_at_start);
	config_free(cfg);
	return rc;
}
