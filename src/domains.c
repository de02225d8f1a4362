/* domains.c — the domain-name set of domains.h: arena + open-addressing table. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domains.h"

/* entry flags, the first byte of an arena entry (0: a merged duplicate) */
#define F_EXACT	  1u
#define F_SUFFIX  2u
#define ENTRY_HDR 2 /* [flags][length] */

/* The builder's arena: entries back to back from offset 1 (0 means "empty
 * slot" in the table), the same layout the set keeps. */
struct domains_builder {
	unsigned char *arena;
	size_t len, cap;
	size_t n; /* entries, duplicates included */
};

struct slot {
	uint32_t off; /* arena offset of the entry; 0: empty */
	uint32_t tag; /* high half of the mixed hash */
};

struct domains {
	struct slot *slots;
	size_t mask; /* slots - 1 (a power of two minus one) */
	unsigned char *arena;
	size_t arena_len;
	size_t count;
};

/* FNV-1a, 64 bits, fed right to left so that at each label boundary the
 * running value is the hash of the suffix from there to the end. */
#define HASH_INIT	0xcbf29ce484222325ull
#define HASH_STEP(h, c) (((h) ^ (c)) * 0x100000001b3ull)

/* Spreads the running value over all 64 bits (MurmurHash3's finaliser):
 * low bits pick the slot, high bits are the tag. */
static inline uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static uint64_t hash_name(const unsigned char *s, size_t len)
{
	uint64_t h = HASH_INIT;

	while (len-- > 0)
		h = HASH_STEP(h, s[len]);
	return mix(h);
}

/* The slot holding name (lower case), or the empty slot where it would go. */
static struct slot *probe(struct slot *slots, size_t mask, const unsigned char *arena, uint64_t m,
			  const unsigned char *name, size_t len)
{
	size_t i = (size_t)m & mask;
	uint32_t tag = (uint32_t)(m >> 32);
	const unsigned char *e;

	for (;; i = (i + 1) & mask) {
		if (slots[i].off == 0)
			return &slots[i];
		if (slots[i].tag != tag)
			continue;
		e = arena + slots[i].off;
		if (e[1] == len && memcmp(e + ENTRY_HDR, name, len) == 0)
			return &slots[i];
	}
}

struct domains_builder *domains_builder_new(void)
{
	return calloc(1, sizeof(struct domains_builder));
}

void domains_builder_free(struct domains_builder *b)
{
	if (b == NULL)
		return;
	free(b->arena);
	free(b);
}

size_t domains_builder_count(const struct domains_builder *b)
{
	return b->n;
}

/* Room for need more bytes in the arena: 0, -EOVERFLOW or -ENOMEM. */
static int arena_reserve(struct domains_builder *b, size_t need)
{
	size_t cap;
	unsigned char *a;

	if (b->len + need <= b->cap)
		return 0;
	if (b->len + need > UINT32_MAX)
		return -EOVERFLOW;
	cap = b->cap < 65536 ? 65536 : b->cap * 2;
	while (cap < b->len + need)
		cap *= 2;
	if (cap > (size_t)UINT32_MAX + 1)
		cap = (size_t)UINT32_MAX + 1;
	a = realloc(b->arena, cap);
	if (a == NULL)
		return -ENOMEM;
	if (b->len == 0)
		b->len = 1; /* offset 0 is the table's "empty" */
	b->arena = a;
	b->cap = cap;
	return 0;
}

/* Lower-cases and checks name into out (len bytes): 0, -EINVAL, -ENAMETOOLONG. */
static int copy_name(unsigned char *out, const char *name, size_t len)
{
	size_t i, label = 0;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)name[i];
		if (c == '.') {
			if (label == 0)
				return -EINVAL;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			   c == '_') {
			label++;
		} else if (c >= 'A' && c <= 'Z') {
			c += 'a' - 'A';
			label++;
		} else {
			return -EINVAL;
		}
		if (label > DOMAINS_LABEL_MAX)
			return -ENAMETOOLONG;
		out[i] = c;
	}
	return label == 0 ? -EINVAL : 0;
}

int domains_builder_add(struct domains_builder *b, const char *name, size_t len)
{
	unsigned flags = F_EXACT;
	int rc;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len > 0 && name[0] == '.') {
		flags = F_SUFFIX;
		name++;
		len--;
	}
	if (len == 0)
		return -EINVAL;
	if (len > DOMAINS_NAME_MAX)
		return -ENAMETOOLONG;
	rc = arena_reserve(b, ENTRY_HDR + len);
	if (rc < 0)
		return rc;
	rc = copy_name(b->arena + b->len + ENTRY_HDR, name, len);
	if (rc < 0)
		return rc;
	b->arena[b->len] = (unsigned char)flags;
	b->arena[b->len + 1] = (unsigned char)len;
	b->len += ENTRY_HDR + len;
	b->n++;
	return 0;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

int domains_builder_add_list(struct domains_builder *b, const char *text, size_t len, size_t *line)
{
	const char *p = text, *end = text + len, *eol, *s, *e, *hash;
	size_t n = 0;
	int rc;

	/* one reservation: an entry takes at most 3/2 of its line ("a\n" -> 3) */
	rc = arena_reserve(b, len / 2 * 3 + ENTRY_HDR + 1);
	if (rc < 0) {
		*line = 1;
		return rc;
	}
	for (; p < end; p = eol + 1) {
		n++;
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		hash = memchr(p, '#', (size_t)(eol - p));
		e = hash != NULL ? hash : eol;
		for (s = p; s < e && is_blank(*s); s++)
			;
		while (e > s && is_blank(e[-1]))
			e--;
		if (s == e)
			continue;
		rc = domains_builder_add(b, s, (size_t)(e - s));
		if (rc < 0) {
			*line = n;
			return rc;
		}
	}
	return 0;
}

/* A power of two above n * 4 / 3 (load at most 3/4), at least 16. */
static size_t table_size(size_t n)
{
	size_t size = 16;

	while (size * 3 < n * 4 + 3)
		size *= 2;
	return size;
}

/* After duplicates were merged (their flags byte is 0): moves the live
 * entries down over them and indexes them again in a table sized for the
 * unique names. Without memory for the new table the set stays as it is
 * (correct, only larger). */
static void compact(struct domains *d)
{
	size_t size = table_size(d->count), from, to = 1, elen;
	struct slot *slots = calloc(size, sizeof(*slots)), *s;
	unsigned char *a = d->arena;
	uint64_t m;

	if (slots == NULL)
		return;
	for (from = 1; from < d->arena_len; from += elen) {
		elen = ENTRY_HDR + a[from + 1];
		if (a[from] == 0)
			continue;
		m = hash_name(a + from + ENTRY_HDR, a[from + 1]);
		memmove(a + to, a + from, elen);
		/* every entry before to is in the new table, none equals this one */
		s = probe(slots, size - 1, a, m, a + to + ENTRY_HDR, a[to + 1]);
		s->off = (uint32_t)to;
		s->tag = (uint32_t)(m >> 32);
		to += elen;
	}
	free(d->slots);
	d->slots = slots;
	d->mask = size - 1;
	d->arena_len = to;
}

#define AHEAD 8 /* entries hashed ahead of the insertion (domains_build) */

struct ahead {
	size_t off; /* 0: none left */
	uint64_t m;
};

/* Hashes the entry at off (if any) into *a and prefetches its home slot;
 * returns the offset of the entry after it. */
static size_t hash_ahead(const struct domains *d, size_t off, struct ahead *a)
{
	const unsigned char *e;

	if (off >= d->arena_len) {
		a->off = 0;
		return off;
	}
	e = d->arena + off;
	a->off = off;
	a->m = hash_name(e + ENTRY_HDR, e[1]);
	__builtin_prefetch(&d->slots[a->m & d->mask], 1);
	return off + ENTRY_HDR + e[1];
}

int domains_build(struct domains_builder *b, struct domains **out)
{
	struct domains *d = calloc(1, sizeof(*d));
	struct ahead ring[AHEAD];
	size_t off, next, dead = 0, k;
	struct slot *s;
	unsigned char *a, *e;
	uint64_t m;

	if (d != NULL)
		d->slots = calloc(table_size(b->n), sizeof(struct slot));
	if (d == NULL || d->slots == NULL) {
		free(d);
		domains_builder_free(b);
		return -ENOMEM;
	}
	d->mask = table_size(b->n) - 1;
	d->arena = b->arena;
	d->arena_len = b->len;
	/* the table is far larger than the caches: hash AHEAD entries ahead
	 * and prefetch their slots, so that the misses overlap */
	for (next = 1, k = 0; k < AHEAD; k++)
		next = hash_ahead(d, next, &ring[k]);
	for (k = 0; ring[k].off != 0; k = (k + 1) % AHEAD) {
		off = ring[k].off;
		m = ring[k].m;
		next = hash_ahead(d, next, &ring[k]);
		e = b->arena + off;
		s = probe(d->slots, d->mask, b->arena, m, e + ENTRY_HDR, e[1]);
		if (s->off != 0) { /* a duplicate: merge its flags into the first */
			b->arena[s->off] |= e[0];
			e[0] = 0;
			dead += ENTRY_HDR + e[1];
			continue;
		}
		s->off = (uint32_t)off;
		s->tag = (uint32_t)(m >> 32);
		d->count++;
	}
	if (dead != 0)
		compact(d);
	if (d->arena_len != b->cap && d->arena_len != 0) {
		a = realloc(d->arena, d->arena_len); /* shrinking: failure keeps the old */
		if (a != NULL)
			d->arena = a;
	}
	free(b);
	*out = d;
	return 0;
}

enum domains_hit domains_match(const struct domains *d, const char *host, size_t len,
			       struct domains_rule *rule)
{
	unsigned char low[DOMAINS_NAME_MAX], at[DOMAINS_NAME_MAX];
	uint64_t h = HASH_INIT, mh[DOMAINS_NAME_MAX];
	const struct slot *s, *hit = NULL;
	enum domains_hit res = DOMAINS_MISS;
	size_t i, j, nb = 0;
	unsigned char c;

	if (len > 0 && host[len - 1] == '.')
		len--;
	if (d == NULL || d->count == 0 || len == 0 || len > DOMAINS_NAME_MAX)
		return DOMAINS_MISS;
	/* one pass right to left: at each label boundary the hash of the
	 * suffix from there; prefetch its slot so that the misses overlap */
	for (i = len; i-- > 0;) {
		c = (unsigned char)host[i];
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		low[i] = c;
		h = HASH_STEP(h, c);
		if (i > 0 && host[i - 1] != '.')
			continue;
		mh[nb] = mix(h);
		at[nb] = (unsigned char)i;
		__builtin_prefetch(&d->slots[mh[nb] & d->mask]);
		nb++;
	}
	/* shortest suffix first; low[i..len) is a whole-label suffix (or all) */
	for (j = 0; j < nb; j++) {
		i = at[j];
		if (hit != NULL && i > 0)
			continue; /* covered: only the host itself can still be exact */
		s = probe(d->slots, d->mask, d->arena, mh[j], low + i, len - i);
		if (s->off == 0)
			continue;
		c = d->arena[s->off];
		if (i == 0 && (c & F_EXACT))
			hit = s, res = DOMAINS_EXACT;
		else if (hit == NULL && (i == 0 || (c & F_SUFFIX)))
			hit = s, res = DOMAINS_SUFFIX;
	}
	if (hit != NULL && rule != NULL) {
		rule->name = (const char *)d->arena + hit->off + ENTRY_HDR;
		rule->len = d->arena[hit->off + 1];
	}
	return res;
}

size_t domains_count(const struct domains *d)
{
	return d != NULL ? d->count : 0;
}

size_t domains_bytes(const struct domains *d)
{
	if (d == NULL)
		return 0;
	return sizeof(*d) + d->arena_len + (d->mask + 1) * sizeof(struct slot);
}

void domains_free(struct domains *d)
{
	if (d == NULL)
		return;
	free(d->slots);
	free(d->arena);
	free(d);
}
