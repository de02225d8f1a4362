/*
 * unit.h — helpers shared by the Check unit tests (header-only, test code).
 *
 * Known bugs: a test that demonstrates an open bug in src/ lives in its own
 * TCase named "bug_<what>" and tagged UNIT_KNOWN_BUG. The regular meson test
 * excludes the tag (CK_EXCLUDE_TAGS); each bug case is registered once more
 * on its own (CK_RUN_CASE) with should_fail, so it shows as an expected
 * failure until the bug is fixed, then as an unexpected pass: at that point
 * drop the tag and the meson entry and the case becomes a regression test.
 */
#ifndef REMORA_TESTS_UNIT_H
#define REMORA_TESTS_UNIT_H

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define UNIT_KNOWN_BUG "knownbug"

/* A TCase for an open bug (see above). */
static inline TCase *unit_bug_case(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_set_tags(tc, UNIT_KNOWN_BUG);
	return tc;
}

/* Runs s with the environment's Check settings; returns the exit status. */
static inline int unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * Guarded memory: len bytes that end exactly where a PROT_NONE page begins,
 * so reading one byte past the end faults. Free with guard_free().
 */
struct guard {
	char *map;
	size_t maplen;
};

static inline char *guard_alloc(struct guard *g, size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t data = (len + pg - 1) / pg * pg;

	if (data == 0)
		data = pg;
	g->maplen = data + pg;
	g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(g->map, MAP_FAILED);
	ck_assert_int_eq(mprotect(g->map + data, pg, PROT_NONE), 0);
	return g->map + data - len;
}

/* Copies len bytes of src against the guard page; returns the copy. */
static inline char *guard_copy(struct guard *g, const void *src, size_t len)
{
	char *p = guard_alloc(g, len);

	memcpy(p, src, len);
	return p;
}

static inline void guard_free(struct guard *g)
{
	if (g->map != NULL)
		munmap(g->map, g->maplen);
	g->map = NULL;
}

/* A guarded room for inputs of many lengths (one per test program, opened
 * and closed by a checked fixture): guard_room_place() moves n bytes so that
 * the last of them is the last byte before the guard page. */
struct guard_room {
	struct guard g;
	char *end;
	size_t len;
};

static inline void guard_room_open(struct guard_room *r, size_t len)
{
	r->end = guard_alloc(&r->g, len) + len;
	r->len = len;
}

static inline const char *guard_room_place(struct guard_room *r, const void *src, size_t n)
{
	ck_assert_uint_le(n, r->len);
	memmove(r->end - n, src, n); /* (src may be in the room already) */
	return r->end - n;
}

static inline void guard_room_close(struct guard_room *r)
{
	guard_free(&r->g);
}

#endif
