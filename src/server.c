/* server.c — start, reload and stop the whole proxy (see server.h). */
#include "remora-config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <urcu-qsbr.h>
#include <urcu/uatomic.h>

#include "log.h"
#include "privs.h"
#include "server.h"
#include "stats.h"

/* Open descriptors other than stdin/stdout/stderr, or -1 if unknown. */
int server_count_fds(void);
int server_count_fds(void)
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

static const char *spoof_name(enum ic_spoof sp)
{
	return sp == IC_SPOOF_NONE	  ? "none"
	       : sp == IC_SPOOF_CLIENT_IP ? "client-ip"
					  : "client-ip-port";
}

static void log_listeners(const struct listen_set *set)
{
	char addr[IC_ADDR_STRLEN];
	size_t i;

	for (i = 0; i < set->n; i++)
		log_info("listening on %s [listener %s] mode %s, spoof %s",
			 ic_addr_format(&set->l[i].conf->addr, addr, sizeof(addr)),
			 set->l[i].conf->name,
			 set->l[i].conf->mode == IC_MODE_TPROXY ? "tproxy" : "redirect",
			 spoof_name(set->l[i].conf->spoof));
}

/* A listener or the admin port below 1024 (needs CAP_NET_BIND_SERVICE). */
static int has_low_port(const struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n_listeners; i++)
		if (ic_addr_port(&cfg->listeners[i].addr) < 1024)
			return 1;
	return cfg->admin_on && ic_addr_port(&cfg->admin_addr) < 1024;
}

/* Starts the admin thread on the socket s->admin holds (admin_open), the
 * reload counters carried over. Logged; -1 leaves the port closed. */
static int run_admin(struct server *s, const union ic_addr *addr, uint64_t ok, uint64_t bad)
{
	char a[IC_ADDR_STRLEN];
	int rc;

	s->admin.alog = &s->alog;
	s->admin.names = &s->names;
	s->admin.reloads = ok;
	s->admin.reload_failures = bad;
	rc = admin_start(&s->admin, s->workers, s->n_workers, &s->acc);
	if (rc < 0) {
		log_error("admin: cannot start (%d: %s)", -rc, strerror(-rc));
		admin_stop(&s->admin);
		return -1;
	}
	if (addr != NULL)
		log_info("admin: http://%s/metrics and /healthz",
			 ic_addr_format(addr, a, sizeof(a)));
	return 0;
}

/*
 * A reload's admin address: the new socket is opened before the old one
 * closes, so that an address that cannot be had refuses the reload with the
 * old port still serving. When the old socket itself may hold the port (the
 * same port, a wildcard on one side) it is closed first and, if the new
 * address still cannot be had, opened again. 0, or -1 with err.
 */
static int admin_move(struct server *s, const struct config *old, const struct config *cfg,
		      char *err, size_t errlen)
{
	const union ic_addr *to = cfg->admin_on ? &cfg->admin_addr : NULL;
	const union ic_addr *from = old->admin_on ? &old->admin_addr : NULL;
	uint64_t ok = s->admin.reloads, bad = s->admin.reload_failures;
	struct admin fresh;
	char err2[256];

	if (cfg->admin_on == old->admin_on && (to == NULL || ic_addr_equal(to, from)))
		return 0;
	if (admin_open(&fresh, to, err, errlen) == 0) {
		admin_stop(&s->admin);
		s->admin = fresh;
		(void)run_admin(s, to, ok, bad); /* a thread that cannot start: logged */
		return 0;
	}
	if (from == NULL || ic_addr_port(from) != ic_addr_port(to))
		return -1;
	admin_stop(&s->admin);
	if (admin_open(&s->admin, to, err, errlen) == 0) {
		(void)run_admin(s, to, ok, bad);
		return 0;
	}
	if (admin_open(&s->admin, from, err2, sizeof(err2)) < 0)
		log_error("%s", err2);
	else
		(void)run_admin(s, from, ok, bad);
	return -1;
}

void server_refresh_local(struct server *s)
{
	union ic_addr extra[CONFIG_MAX_LISTENERS + 1];
	struct ic_ip_set *set, *copy;
	size_t n = 0, i;
	int rc;

	for (i = 0; i < s->cfg->n_listeners; i++)
		if (!ic_addr_is_any(&s->cfg->listeners[i].addr))
			extra[n++] = s->cfg->listeners[i].addr;
	if (s->cfg->admin_on && !ic_addr_is_any(&s->cfg->admin_addr))
		extra[n++] = s->cfg->admin_addr;
	rc = ic_ip_set_local(&set, extra, n);
	if (rc < 0) {
		log_warn("cannot list the local addresses (%d: %s): keeping the previous list", -rc,
			 strerror(-rc));
		return;
	}
	if (ic_ip_set_equal(set, s->local)) {
		free(set);
		return;
	}
	free(s->local);
	s->local = set;
	for (i = 0; i < s->started; i++) {
		copy = ic_ip_set_dup(set);
		if (copy != NULL)
			worker_set_local(&s->workers[i], copy);
	}
	log_debug("%zu local addresses refused as destinations", set->n);
}

int server_start(struct server *s, const char *path, struct config *cfg, int fds_at_start)
{
	char err[1024];
	unsigned i;
	int rc;

	memset(s, 0, sizeof(*s));
	s->path = path;
	s->cfg = cfg;
	s->fds_at_start = fds_at_start;
	s->n_workers = cfg->workers;
	s->admin.fd = -1;
	s->alog.fd = -1;
	histo_names_assign(&s->names, cfg);
	s->set = listen_set_build(cfg, NULL, err, sizeof(err));
	if (s->set == NULL) {
		log_error("%s", err);
		goto fail;
	}
	if (alog_open(&s->alog, cfg->access_log, cfg->access_log_json ? ALOG_JSON : ALOG_SQUID,
		      cfg->workers, err, sizeof(err)) < 0 ||
	    admin_open(&s->admin, cfg->admin_on ? &cfg->admin_addr : NULL, err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto fail;
	}
	/* every socket is open: drop privileges before any thread starts */
	if (privs_drop(cfg->user, has_low_port(cfg), err, sizeof(err)) < 0 ||
	    privs_probe_transparent(err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto fail;
	}
	if (cfg->user[0] != '\0') {
		privs_describe(err, sizeof(err));
		log_info("running as user %s: %s", cfg->user, err);
	}
	/* after the drop: the same user opens and reopens (SIGUSR1) the log */
	if (alog_start(&s->alog, err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto fail;
	}
	s->workers = calloc(cfg->workers, sizeof(*s->workers));
	rc = s->workers == NULL ? -ENOMEM : acceptor_init(&s->acc);
	if (rc < 0) {
		log_error("cannot start (%d: %s)", -rc, strerror(-rc));
		goto fail;
	}
	server_refresh_local(s);
	for (i = 0; i < cfg->workers; i++) {
		rc = worker_init(&s->workers[i], i, cfg);
		if (rc == 0 && s->local != NULL)
			worker_set_local(&s->workers[i], ic_ip_set_dup(s->local));
		if (rc == 0) {
			s->workers[i].alog = alog_enabled(&s->alog) ? &s->alog : NULL;
			rc = worker_start(&s->workers[i]);
			if (rc < 0)
				worker_fini(&s->workers[i]);
		}
		if (rc < 0) {
			log_error("worker %u: cannot start (%d: %s)", i, -rc, strerror(-rc));
			goto fail;
		}
		s->started++;
	}
	rc = acceptor_start(&s->acc, s->set, s->workers, s->n_workers);
	if (rc < 0) {
		log_error("acceptor: cannot start (%d: %s)", -rc, strerror(-rc));
		goto fail;
	}
	s->acceptor_running = 1;
	if (run_admin(s, cfg->admin_on ? &cfg->admin_addr : NULL, 0, 0) < 0)
		goto fail;
	log_listeners(s->set);
	log_info("remora %s started: %u workers, poller %s", REMORA_VERSION, cfg->workers,
		 poller_backend());
	return 0;
fail:
	server_stop(s);
	return -1;
}

/* Settings that only a restart can change: refuse the reload, say why. */
static int check_restart_only(const struct config *old, const struct config *new, char *err,
			      size_t errlen)
{
	if (new->workers != old->workers)
		snprintf(err, errlen, "[global] workers: %u -> %u needs a restart", old->workers,
			 new->workers);
	else if (new->buffer_size != old->buffer_size)
		snprintf(err, errlen, "[global] buffer_size needs a restart");
	else if (strcmp(new->dns_servers, old->dns_servers) != 0)
		snprintf(err, errlen, "[http] dns_servers needs a restart");
	else if (strcmp(new->user, old->user) != 0)
		snprintf(err, errlen, "[global] user needs a restart");
	else if (new->splice != old->splice)
		snprintf(err, errlen, "[global] splice needs a restart");
	else if (strcmp(new->access_log, "off") == 0 && strcmp(old->access_log, "off") != 0)
		snprintf(err, errlen, "[global] access_log: turning it off needs a restart");
	else if (strcmp(new->access_log, "off") != 0 && strcmp(old->access_log, "off") == 0)
		snprintf(err, errlen, "[global] access_log: turning it on needs a restart");
	else
		return 0;
	return -1;
}

/* A reload whose hand-over timed out left s->untaken_prev: wait (bounded)
 * until the acceptor takes s->set, then retire the old set as a reload does.
 * Publishing another set first would let the acceptor switch from the old
 * set straight to the newest and close a socket that s->set also holds,
 * which listen_set_free(s->set, ...) then closed a second time. 0, or -1
 * when the acceptor still has not taken it. */
static int settle_hand_over(struct server *s)
{
	if (s->untaken_prev == NULL)
		return 0;
	if (acceptor_wait_taken(&s->acc, s->set) < 0)
		return -1;
	synchronize_rcu();
	listen_set_free(s->untaken_prev, s->set); /* the acceptor closed the leaving ones */
	s->untaken_prev = NULL;
	return 0;
}

int server_reload(struct server *s)
{
	struct config *cfg, *old = s->cfg;
	struct listen_set *set, *prev = s->set;
	char err[768];
	size_t kept = 0, i;

	if (config_load(s->path, &cfg, err, sizeof(err)) < 0 ||
	    (check_restart_only(old, cfg, err, sizeof(err)) < 0 && (config_put(cfg), 1))) {
		log_error("reload refused: %s; still running the previous configuration", err);
		ATOMIC_ADD(s->admin.reload_failures, 1);
		return -1;
	}
	if (settle_hand_over(s) < 0) {
		log_error("reload refused: the acceptor has still not taken the previous "
			  "listeners; still running the previous configuration");
		config_put(cfg);
		ATOMIC_ADD(s->admin.reload_failures, 1);
		return -1;
	}
	set = listen_set_build(cfg, prev, err, sizeof(err));
	if (set == NULL || admin_move(s, old, cfg, err, sizeof(err)) < 0) {
		log_error("reload refused: %s; still running the previous configuration", err);
		listen_set_free(set, prev);
		config_put(cfg);
		ATOMIC_ADD(s->admin.reload_failures, 1);
		return -1;
	}
	/* nothing can fail from here on: the new configuration is applied */
	listen_set_adjust(set, prev);
	histo_names_assign(&s->names, cfg); /* before anything can use cfg */
	if (acceptor_publish(&s->acc, set) < 0) {
		/* the acceptor may still use prev: retired by the next reload or stop */
		log_error("reload: the acceptor did not take the new listeners in time");
		s->untaken_prev = prev;
		s->set = set;
	} else {
		/* after a grace period no reader can hold prev any more */
		synchronize_rcu();
		for (i = 0; i < set->n; i++)
			for (size_t j = 0; j < prev->n; j++)
				kept += set->l[i].fd == prev->l[j].fd;
		listen_set_free(prev, set);
		s->set = set;
	}
	s->cfg = cfg;
	server_refresh_local(s); /* listener and admin addresses may have changed */
	log_set_level(cfg->log_level);
	if (strcmp(cfg->access_log, old->access_log) != 0 ||
	    cfg->access_log_json != old->access_log_json)
		alog_configure(&s->alog, cfg->access_log,
			       cfg->access_log_json ? ALOG_JSON : ALOG_SQUID);
	ATOMIC_ADD(s->admin.reloads, 1);
	log_info("reloaded %s: %zu listeners (%zu kept open, %zu new), in-flight connections "
		 "finish under the configuration they started with",
		 s->path, set->n, kept, set->n - kept);
	config_put(old);
	return 0;
}

void server_reopen_logs(struct server *s)
{
	alog_reopen(&s->alog);
}

static void log_summary(struct server *s)
{
	uint64_t total[CONN_CLOSE_MAX] = {0}, lines = 0, dropped = 0;
	char line[1024];
	unsigned i, r;
	int off;

	for (i = 0; i < s->started; i++) {
		const struct worker_stats *st = &s->workers[i].stats;

		log_info("worker %u: %llu connections, %llu bytes from clients (%llu spliced), "
			 "%llu to clients (%llu spliced), %llu spoofed-bind collisions, "
			 "%llu port exhaustions retried",
			 i, (unsigned long long)st->accepted, (unsigned long long)st->bytes_in,
			 (unsigned long long)st->bytes_spliced_in,
			 (unsigned long long)st->bytes_out, (unsigned long long)st->bytes_spliced,
			 (unsigned long long)st->connect.bind_collisions,
			 (unsigned long long)st->connect.port_exhaustions);
		for (r = 0; r < CONN_CLOSE_MAX; r++)
			total[r] += st->closed[r];
	}
	off = snprintf(line, sizeof(line), "close reasons:");
	for (r = 1; r < CONN_CLOSE_MAX; r++)
		if (total[r] && off < (int)sizeof(line))
			off += snprintf(line + off, sizeof(line) - (size_t)off, " %s=%llu",
					conn_close_token(r), (unsigned long long)total[r]);
	log_info("%s", line);
	log_info("acceptor: %llu accepted, %llu hand-off failures, %llu accept errors",
		 (unsigned long long)s->acc.accepted, (unsigned long long)s->acc.handoff_failed,
		 (unsigned long long)s->acc.accept_errors);
	if (!alog_enabled(&s->alog))
		return;
	for (i = 0; i < s->alog.n_rings; i++) {
		lines += STAT_GET(s->alog.rings[i].lines);
		dropped += STAT_GET(s->alog.rings[i].dropped);
	}
	log_info("access_log: %llu lines, %llu dropped (writer behind), %llu write errors",
		 (unsigned long long)lines, (unsigned long long)dropped,
		 (unsigned long long)STAT_GET(s->alog.write_errors));
}

void server_stop(struct server *s)
{
	uint32_t drain = s->cfg != NULL ? s->cfg->drain_timeout_ms : 0;
	unsigned i;

	if (s->acceptor_running) {
		acceptor_stop(&s->acc);
		s->acceptor_running = 0;
	}
	/* the acceptor has stopped: what it did not close of the untaken set */
	listen_set_free(s->untaken_prev, s->set);
	s->untaken_prev = NULL;
	listen_set_free(s->set, NULL); /* every listener closes: no new SYN is taken */
	s->set = NULL;
	for (i = 0; i < s->started; i++)
		worker_request_stop(&s->workers[i], drain);
	for (i = 0; i < s->started; i++)
		worker_join(&s->workers[i]);
	admin_stop(&s->admin);
	if (s->started == s->n_workers && s->n_workers > 0)
		log_summary(s);
	alog_stop(&s->alog); /* after the workers: their last lines are in the rings */
	for (i = 0; i < s->started; i++)
		worker_fini(&s->workers[i]);
	if (s->acc.poller != NULL)
		acceptor_fini(&s->acc);
	free(s->workers);
	s->workers = NULL;
	s->started = 0;
	config_put(s->cfg);
	s->cfg = NULL;
	free(s->local);
	s->local = NULL;
}
