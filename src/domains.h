/*
 * domains.h — a set of domain names for policy ([acl] deny_domains): exact
 * names ("a.example") and whole suffixes (".b.example"), matched against a
 * host name (TLS SNI, HTTP Host or absolute-form authority).
 *
 * Semantics (as Squid's dstdomain):
 *   "a.example"   matches a.example only;
 *   ".b.example"  matches b.example itself and every name below it
 *                 (x.b.example, y.x.b.example), never "xb.example".
 * Names compare case-insensitively; one trailing dot is ignored, on the list
 * and on the host. Internationalised names are matched as given: lists and
 * hosts carry the ASCII (punycode, "xn--") form; no conversion is done.
 * A list name is labels of letters, digits, '-' and '_' separated by single
 * dots, at most 63 characters a label and 253 a name.
 *
 * Life cycle: a builder collects names on one thread (domains_builder_new,
 * _add, _add_list), domains_build() turns it into a set, which is then
 * immutable: domains_match() may run on any number of threads at once, until
 * domains_free(). Pure: libc only, no I/O, no logging; errors are -errno.
 *
 * Layout (docs/benchmarks.md has the measurements): one arena holds every
 * unique name once as [flags][length][lower-case bytes]; an open-addressing
 * hash table (linear probing, load <= 3/4) of {arena offset, 32-bit hash tag}
 * finds them. A lookup hashes the host once, right to left, and probes the
 * table at each label boundary: a host of k labels costs at most k probes.
 */
#ifndef REMORA_DOMAINS_H
#define REMORA_DOMAINS_H

#include <stddef.h>

#define DOMAINS_NAME_MAX  253 /* without the trailing dot */
#define DOMAINS_LABEL_MAX 63

enum domains_hit {
	DOMAINS_MISS = 0,
	DOMAINS_EXACT = 1,  /* the host is listed as an exact name */
	DOMAINS_SUFFIX = 2, /* the host is, or is below, a listed ".suffix" */
};

/* The entry that matched: name (lower case, no dots added, not
 * NUL-terminated) points into the set and lives as long as it. */
struct domains_rule {
	const char *name;
	size_t len;
};

struct domains_builder;
struct domains;

/* A new, empty builder, or NULL when out of memory. */
struct domains_builder *domains_builder_new(void);
/* Frees a builder that was not given to domains_build(); NULL is a no-op. */
void domains_builder_free(struct domains_builder *b);

/*
 * Adds one name: "a.example" (exact) or ".b.example" (suffix), len bytes (no
 * NUL needed). Duplicates are allowed and merged at build time. Returns 0;
 * -EINVAL not a name (empty, a character other than letters, digits, '-',
 * '_', an empty label); -ENAMETOOLONG a name over 253 or a label over 63
 * characters; -EOVERFLOW the arena would pass 4 GiB; -ENOMEM.
 */
int domains_builder_add(struct domains_builder *b, const char *name, size_t len);

/*
 * Adds a list file's contents (text, len bytes): one
 * name per line; '#' starts a comment; blank lines, spaces, tabs and a CR
 * before the newline are ignored; two names on one line are -EINVAL. Returns
 * as domains_builder_add(); on error *line is the 1-based line at fault.
 * Names added before the faulty line stay in the builder.
 */
int domains_builder_add_list(struct domains_builder *b, const char *text, size_t len, size_t *line);

/* Names added so far (duplicates counted). */
size_t domains_builder_count(const struct domains_builder *b);

/*
 * Builds the set and frees the builder (on success and on failure). An empty
 * builder gives an empty set (which matches nothing). Returns 0 and the set
 * in *out, or -ENOMEM (*out untouched).
 */
int domains_build(struct domains_builder *b, struct domains **out);

/*
 * Looks up host (len bytes, not NUL-terminated; no port, no brackets):
 * DOMAINS_EXACT when the host itself is listed as an exact name (even if a
 * suffix covers it too), else DOMAINS_SUFFIX when a listed suffix covers it,
 * else DOMAINS_MISS. A host longer than 253 characters (after one trailing
 * dot) misses. When rule is not NULL, a hit fills it with the entry that
 * decided (for a suffix hit the broadest suffix). d may be NULL (misses).
 * Any thread, concurrently.
 */
enum domains_hit domains_match(const struct domains *d, const char *host, size_t len,
			       struct domains_rule *rule);

/* Unique names in the set (0 for NULL). */
size_t domains_count(const struct domains *d);
/* Bytes the set has allocated (header, arena, table), as requested from malloc. */
size_t domains_bytes(const struct domains *d);
/* NULL is a no-op. */
void domains_free(struct domains *d);

#endif
