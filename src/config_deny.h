/*
 * config_deny.h — private to config.c and config_deny.c: the [acl] deny_*
 * keys (domain lists and what a denied client gets). Parsing runs on the
 * loading thread only; the result hangs off struct config (config.h).
 */
#ifndef REMORA_CONFIG_DENY_H
#define REMORA_CONFIG_DENY_H

#include <stddef.h>

#include "config.h"
#include "domains.h"

/* Parse state across the keys of one load. Zero-initialise. */
struct deny_parse {
	struct domains_builder *b; /* the names so far; NULL before the first */
	unsigned seen;		   /* DENY_K_* keys given */
};

/*
 * One [acl] key. Returns 1 when it was a deny_* key and is valid, 0 when it
 * was one and is not (msg holds "[acl] KEY: why", naming a list file and its
 * line when the fault is in one), -1 when name is not a deny_* key.
 */
int config_deny_key(struct config *cfg, struct deny_parse *dp, const char *name, const char *value,
		    char *msg, size_t msglen);

/*
 * After the last key: the cross-checks between keys, then the domain set is
 * built into cfg->deny_domains (dp's builder is consumed either way). 0, or
 * -1 with msg and *key set to the key to blame (for its line).
 */
int config_deny_finish(struct config *cfg, struct deny_parse *dp, const char **key, char *msg,
		       size_t msglen);

/* Frees what a failed load left in dp. */
void config_deny_abandon(struct deny_parse *dp);

/* Frees cfg's deny_* allocations (config_free). */
void config_deny_release(struct config *cfg);

#endif
