/* config_deny.c — [acl] deny_* keys: domain lists, inline and from files,
 * and the answers a denied client gets (config_deny.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_deny.h"

#define DENY_LIST_MAX ((size_t)1 << 30) /* bytes of one list file */
#define DENY_BODY_MAX ((size_t)1 << 20) /* bytes of the 451 body */

enum deny_key {
	DENY_K_HTTP = 1u << 0,
	DENY_K_REDIRECT = 1u << 1,
	DENY_K_BODY = 1u << 2,
	DENY_K_TLS = 1u << 3,
};

/*
 * Reads the whole file at path (at most max bytes) into a new buffer (NUL
 * added after the data, not counted in *len). 0, or -errno: -EFBIG when
 * larger than max, -EISDIR for a directory.
 */
static int read_file(const char *path, size_t max, char **out, size_t *len)
{
	struct stat st;
	size_t n = 0, cap;
	ssize_t r;
	char *buf, *t, c;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -errno;
	if (fstat(fd, &st) == -1 || S_ISDIR(st.st_mode)) {
		err = S_ISDIR(st.st_mode) ? -EISDIR : -errno;
		close(fd);
		return err;
	}
	/* st_size is a hint (a FIFO or /proc file says 0): read until EOF */
	cap = st.st_size > 0 && (size_t)st.st_size <= max ? (size_t)st.st_size + 1 : 65536;
	buf = malloc(cap);
	if (buf == NULL)
		err = -ENOMEM;
	while (err == 0 && n <= max) {
		if (n + 1 < cap)
			r = read(fd, buf + n, cap - n - 1);
		else
			r = read(fd, &c, 1); /* full: at the end, or grow */
		if (r == -1 && errno != EINTR)
			err = -errno;
		if (r <= 0) {
			if (r == 0)
				break;
			continue;
		}
		if (n + 1 == cap) {
			t = realloc(buf, cap * 2);
			if (t == NULL) {
				err = -ENOMEM;
				break;
			}
			buf = t;
			cap *= 2;
			buf[n] = c;
		}
		n += (size_t)r;
	}
	close(fd);
	if (err == 0 && n > max)
		err = -EFBIG;
	if (err != 0) {
		free(buf);
		return err;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* "why" of a domains_builder_add() error. */
static const char *name_error(int rc)
{
	switch (rc) {
	case -EINVAL:
		return "invalid name (expected a.example or .example.com: letters, digits, "
		       "'-' and '_' between single dots, one name per line; IDN as xn--)";
	case -ENAMETOOLONG:
		return "name too long (253 characters at most, 63 a label)";
	case -EOVERFLOW:
		return "the lists are too large (4 GiB of names at most)";
	default:
		return "out of memory";
	}
}

static int builder(struct deny_parse *dp, const char *name, char *msg, size_t msglen)
{
	if (dp->b == NULL)
		dp->b = domains_builder_new();
	if (dp->b == NULL)
		snprintf(msg, msglen, "[acl] %s: out of memory", name);
	return dp->b != NULL;
}

/* deny_domains = a.example, .b.example ... (may repeat). */
static int inline_names(struct deny_parse *dp, const char *name, const char *value, char *msg,
			size_t msglen)
{
	const char *p = value;
	size_t n;
	int rc;

	if (!builder(dp, name, msg, msglen))
		return 0;
	for (p += strspn(p, ", \t"); *p != '\0'; p += strspn(p, ", \t")) {
		n = strcspn(p, ", \t");
		rc = domains_builder_add(dp->b, p, n);
		if (rc < 0) {
			snprintf(msg, msglen, "[acl] %s: '%.*s': %s", name, (int)(n > 80 ? 80 : n),
				 p, name_error(rc));
			return 0;
		}
		p += n;
	}
	return 1;
}

/* deny_domains_file = /path (may repeat): one name per line, # comments. */
static int list_file(struct deny_parse *dp, const char *name, const char *path, char *msg,
		     size_t msglen)
{
	char *text;
	size_t len, line = 0;
	int rc;

	if (path[0] != '/') {
		snprintf(msg, msglen, "[acl] %s: '%s' is not an absolute path", name, path);
		return 0;
	}
	if (!builder(dp, name, msg, msglen))
		return 0;
	rc = read_file(path, DENY_LIST_MAX, &text, &len);
	if (rc < 0) {
		snprintf(msg, msglen, "[acl] %s: cannot read %s (%d: %s)", name, path, -rc,
			 rc == -EFBIG ? "larger than 1 GiB" : strerror(-rc));
		return 0;
	}
	rc = domains_builder_add_list(dp->b, text, len, &line);
	free(text);
	if (rc < 0)
		snprintf(msg, msglen, "[acl] %s: %s:%zu: %s", name, path, line, name_error(rc));
	return rc == 0;
}

/* deny_redirect = URL: absolute http(s), printable ASCII without spaces
 * (it becomes a Location field). */
static int redirect_url(struct config *cfg, const char *value)
{
	size_t i, n = strlen(value);

	if (n >= sizeof(cfg->deny_redirect) ||
	    (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0) ||
	    n <= (size_t)(value[4] == 's' ? 8 : 7))
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)value[i] <= ' ' || (unsigned char)value[i] >= 0x7f)
			return 0;
	memcpy(cfg->deny_redirect, value, n + 1);
	return 1;
}

/* deny_body_file = /path: the 451 body, as given. */
static int body_file(struct config *cfg, const char *name, const char *path, char *msg,
		     size_t msglen)
{
	int rc;

	if (path[0] != '/') {
		snprintf(msg, msglen, "[acl] %s: '%s' is not an absolute path", name, path);
		return 0;
	}
	rc = read_file(path, DENY_BODY_MAX, &cfg->deny_body, &cfg->deny_body_len);
	if (rc < 0)
		snprintf(msg, msglen, "[acl] %s: cannot read %s (%d: %s)", name, path, -rc,
			 rc == -EFBIG ? "larger than 1 MiB" : strerror(-rc));
	return rc == 0;
}

/* A key given once only: 1, or 0 with msg. */
static int once(struct deny_parse *dp, unsigned bit, const char *name, char *msg, size_t msglen)
{
	if (dp->seen & bit) {
		snprintf(msg, msglen, "[acl] %s: key given twice", name);
		return 0;
	}
	dp->seen |= bit;
	return 1;
}

/* A once-only key whose value is w0 or w1: its index into *out. 1, or 0 with msg. */
static int keyword(struct deny_parse *dp, unsigned bit, const char *name, const char *value,
		   const char *w0, const char *w1, int *out, char *msg, size_t msglen)
{
	if (!once(dp, bit, name, msg, msglen))
		return 0;
	if (strcmp(value, w0) == 0 || strcmp(value, w1) == 0) {
		*out = strcmp(value, w0) == 0 ? 0 : 1;
		return 1;
	}
	snprintf(msg, msglen, "[acl] %s: invalid value '%s' (expected %s | %s)", name, value, w0,
		 w1);
	return 0;
}

int config_deny_key(struct config *cfg, struct deny_parse *dp, const char *name, const char *value,
		    char *msg, size_t msglen)
{
	if (strcmp(name, "deny_domains") == 0)
		return inline_names(dp, name, value, msg, msglen);
	if (strcmp(name, "deny_domains_file") == 0)
		return list_file(dp, name, value, msg, msglen);
	if (strcmp(name, "deny_http") == 0) /* in enum deny_http order */
		return keyword(dp, DENY_K_HTTP, name, value, "451", "redirect",
			       (int *)&cfg->deny_http, msg, msglen);
	if (strcmp(name, "deny_tls") == 0) /* in enum deny_tls order */
		return keyword(dp, DENY_K_TLS, name, value, "reset", "alert", (int *)&cfg->deny_tls,
			       msg, msglen);
	if (strcmp(name, "deny_redirect") == 0) {
		if (!once(dp, DENY_K_REDIRECT, name, msg, msglen))
			return 0;
		if (redirect_url(cfg, value))
			return 1;
		snprintf(msg, msglen,
			 "[acl] %s: invalid value '%.80s' (expected an http:// or https:// URL "
			 "without spaces, under %zu characters)",
			 name, value, sizeof(cfg->deny_redirect));
		return 0;
	}
	if (strcmp(name, "deny_body_file") == 0)
		return once(dp, DENY_K_BODY, name, msg, msglen) &&
		       body_file(cfg, name, value, msg, msglen);
	return -1;
}

int config_deny_finish(struct config *cfg, struct deny_parse *dp, const char **key, char *msg,
		       size_t msglen)
{
	int rc;

	*key = NULL;
	if (cfg->deny_http == DENY_HTTP_REDIRECT && !(dp->seen & DENY_K_REDIRECT)) {
		*key = "deny_http";
		snprintf(msg, msglen, "[acl] deny_http: redirect needs deny_redirect = URL");
	} else if (cfg->deny_http != DENY_HTTP_REDIRECT && (dp->seen & DENY_K_REDIRECT)) {
		*key = "deny_redirect";
		snprintf(msg, msglen, "[acl] deny_redirect: only used with deny_http = redirect");
	} else if (cfg->deny_http != DENY_HTTP_451 && (dp->seen & DENY_K_BODY)) {
		*key = "deny_body_file";
		snprintf(msg, msglen, "[acl] deny_body_file: only used with deny_http = 451");
	}
	if (*key != NULL) {
		config_deny_abandon(dp);
		return -1;
	}
	if (dp->b == NULL)
		return 0;
	rc = domains_build(dp->b, &cfg->deny_domains);
	dp->b = NULL;
	if (rc < 0) {
		*key = "deny_domains";
		snprintf(msg, msglen, "[acl] deny_domains: out of memory building the set");
		return -1;
	}
	return 0;
}

void config_deny_abandon(struct deny_parse *dp)
{
	domains_builder_free(dp->b);
	dp->b = NULL;
}

void config_deny_release(struct config *cfg)
{
	domains_free(cfg->deny_domains);
	cfg->deny_domains = NULL;
	free(cfg->deny_body);
	cfg->deny_body = NULL;
}

int config_domain_denied(const struct config *cfg, const char *host, size_t len)
{
	const char *p;

	if (cfg->deny_domains == NULL || len == 0)
		return DOMAINS_MISS;
	/* authority: drop "userinfo@" and ":port"; an IP literal "[v6]" is no name */
	p = memrchr(host, '@', len);
	if (p != NULL) {
		len -= (size_t)(p + 1 - host);
		host = p + 1;
	}
	if (len == 0 || host[0] == '[')
		return DOMAINS_MISS;
	p = memchr(host, ':', len);
	if (p != NULL)
		len = (size_t)(p - host);
	return domains_match(cfg->deny_domains, host, len, NULL);
}
