/* main.c — command line, start-up, signals and shutdown. */
#include "remora-config.h"

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "poller/poller.h"
#include "rules.h"
#include "selfcheck.h"
#include "server.h"
#include "util.h"
#include <systemd/sd-daemon.h>
#include <time.h>

#if HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#include <stdbool.h>

/*
 * jemalloc's built-in options, read once at its start (before main). Freed
 * memory goes back to the kernel within about a second, by a background
 * thread, instead of staying dirty in the arenas until the next allocations
 * reuse it (the defaults: 10 s of decay, done only by allocating threads —
 * a worker idle after a burst would keep the burst's pages). MALLOC_CONF in
 * the environment still overrides any of them. Debian's libjemalloc2 has no
 * symbol prefix: the name it reads is malloc_conf.
 *
 * The background thread starts only once the privileges are dropped
 * (start_alloc_purging): made before, it would keep root's credentials
 * (threads have their own) while every other thread has dropped them.
 */
const char *malloc_conf = "background_thread:false,dirty_decay_ms:1000,muzzy_decay_ms:0";

static void start_alloc_purging(void)
{
	bool on = true;

	(void)mallctl("background_thread", NULL, NULL, &on, sizeof(on));
}
#else
static void start_alloc_purging(void)
{
}
#endif

static void usage(FILE *out)
{
	fprintf(out, "usage: remora [-t] -c FILE    run (or with -t: check) the configuration\n"
		     "       remora --print-rules[=nft|iptables] -c FILE\n"
		     "                              print the router rules for its listeners\n"
		     "       remora -V              print version, poller and build features\n"
		     "       remora -h              this help\n");
}

static void print_version(void)
{
	printf("remora %s\npoller: %s\nfeatures: %s\n", REMORA_VERSION, poller_backend(),
	       ic_platform_features());
}

int server_count_fds(void);

static void selfcheck_log(void *arg, const char *what, const char *fix)
{
	log_warn("self-check: %s; fix: %s", what, fix);
}

static void selfcheck_print(void *arg, const char *what, const char *fix)
{
	fprintf(stderr, "remora: warning: %s\n    fix: %s\n", what, fix);
}

/* Waits for one of sigs; with a timeout (usec > 0) returns 0 when it passed
 * with no signal. Returns 1 with *sig set otherwise. */
static int wait_signal(const sigset_t *sigs, uint64_t usec, int *sig)
{
	struct timespec ts = {(time_t)(usec / 1000000), (long)(usec % 1000000) * 1000};

	for (;;) {
		*sig = usec ? sigtimedwait(sigs, NULL, &ts) : (sigwait(sigs, sig) == 0 ? *sig : -1);
		if (*sig > 0)
			return 1;
		if (usec && errno == EAGAIN)
			return 0;
	}
}

/* How often the main thread re-reads the box's addresses (and feeds the
 * watchdog, at least twice per its period). */
#define LOCAL_REFRESH_US (1000 * 1000)

static uint64_t tick_usec(uint64_t wd_usec)
{
	return wd_usec != 0 && wd_usec / 2 < LOCAL_REFRESH_US ? wd_usec / 2 : LOCAL_REFRESH_US;
}

/* Runs until SIGTERM/SIGINT; SIGHUP reloads, SIGUSR1 reopens the access log.
 * Returns the exit status. */
static int run(const char *path, struct config *cfg, int fds_at_start)
{
	struct server srv;
	uint64_t wd_usec = 0;
	sigset_t sigs;
	int sig;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	/* threads inherit the mask: only sigwait() below sees these signals */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (server_start(&srv, path, cfg, fds_at_start) < 0) {
		sd_notifyf(0, "STATUS=start-up failed (see the log)");
		return 1;
	}
	start_alloc_purging(); /* after the drop: the thread gets the dropped credentials */
	/* systemd (Type=notify): ready, and a watchdog fed only while every
	 * worker loop is turning */
	if (sd_watchdog_enabled(0, &wd_usec) <= 0)
		wd_usec = 0;
	sd_notifyf(0, "READY=1\nSTATUS=serving: %u workers\nMAINPID=%lu", srv.n_workers,
		   (unsigned long)getpid());
	for (;;) {
		if (wait_signal(&sigs, tick_usec(wd_usec), &sig) == 0) {
			server_refresh_local(&srv); /* an address added to the box */
			if (wd_usec != 0 &&
			    admin_workers_alive(srv.workers, srv.n_workers, wd_usec / 1000))
				sd_notify(0, "WATCHDOG=1");
			continue;
		}
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP) {
			log_info("SIGHUP: reloading %s", path);
			/* CLOCK_MONOTONIC in microseconds, as systemd wants it */
			sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
				   (unsigned long long)now_us());
			(void)server_reload(&srv);
			sd_notify(0, "READY=1");
		} else if (sig == SIGUSR1) {
			server_reopen_logs(&srv);
		}
	}
	sd_notify(0, "STOPPING=1");
	log_info("%s: no longer accepting; draining for up to %u ms", strsignal(sig),
		 srv.cfg->drain_timeout_ms);
	server_stop(&srv);
	log_info("shutdown complete: %d descriptors leaked", server_count_fds() - fds_at_start);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"print-rules", optional_argument, NULL, 'R'},
		{NULL, 0, NULL, 0},
	};
	const char *path = NULL, *rules = NULL;
	enum rules_flavour flavour = RULES_NFT;
	struct config *cfg;
	char err[768];
	int opt, check = 0, fds_at_start = server_count_fds();

	while ((opt = getopt_long(argc, argv, "c:tVh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'R':
			rules = optarg ? optarg : "nft";
			if (rules_flavour_parse(rules, &flavour) < 0) {
				fprintf(stderr,
					"remora: --print-rules=%s: expected nft or iptables\n",
					rules);
				return 2;
			}
			break;
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
	if (check && cfg->user[0] != '\0' && getpwnam(cfg->user) == NULL) {
		fprintf(stderr, "remora: %s: [global] user = %s: no such user\n", path, cfg->user);
		config_put(cfg);
		return 1;
	}
	if (rules != NULL) {
		opt = rules_print(stdout, cfg, path, flavour) < 0;
		config_free(cfg);
		return opt;
	}
	if (check) {
		if (geteuid() == 0 && selfcheck_run(cfg, selfcheck_print, NULL) > 0)
			fprintf(stderr, "remora: the self-check found problems (warnings only)\n");
		printf("remora: %s: configuration OK (%zu listeners, %u workers)\n", path,
		       cfg->n_listeners, cfg->workers);
		config_free(cfg);
		return 0;
	}
	log_set_level(cfg->log_level);
	if (selfcheck_run(cfg, selfcheck_log, NULL) == 0)
		log_info("self-check: IP_TRANSPARENT, policy routing and forwarding are in place");
	return run(path, cfg, fds_at_start);
}
