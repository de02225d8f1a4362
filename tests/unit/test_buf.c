/*
 * test_buf.c — the per-worker relay buffer pool: reuse, the max_free cap and
 * buf_pool_trim (buffers a burst left in the pool go back to the allocator;
 * those a steady load keeps taking stay).
 */
#include "remora-config.h"

#include <check.h>

#include "buf.h"
#include "unit.h"

#define SIZE 1024

/* Takes n buffers from bp and puts them all back. */
static void burst(struct buf_pool *bp, unsigned n)
{
	struct buf *b[300];
	unsigned i;

	ck_assert_uint_le(n, 300);
	for (i = 0; i < n; i++) {
		b[i] = buf_get(bp);
		ck_assert_ptr_nonnull(b[i]);
	}
	for (i = 0; i < n; i++)
		buf_put(bp, b[i]);
}

START_TEST(test_reuse_and_cap)
{
	struct buf_pool bp;
	struct buf *a, *b;

	buf_pool_init(&bp, SIZE, 4);
	a = buf_get(&bp);
	ck_assert_uint_eq(a->cap, SIZE);
	buf_put(&bp, a);
	b = buf_get(&bp);
	ck_assert_ptr_eq(a, b); /* reused */
	buf_put(&bp, b);
	burst(&bp, 10);
	ck_assert_uint_eq(bp.n_free, 4); /* beyond max_free: freed at once */
	ck_assert_uint_eq(bp.in_use, 0);
	buf_pool_fini(&bp);
}
END_TEST

START_TEST(test_trim_after_burst)
{
	struct buf_pool bp;

	buf_pool_init(&bp, SIZE, 256);
	burst(&bp, 200); /* the burst: 200 buffers end up pooled */
	ck_assert_uint_eq(bp.n_free, 200);
	/* the period of the burst: it took them all, nothing is surplus yet */
	ck_assert_uint_eq(buf_pool_trim(&bp, 8), 0);
	ck_assert_uint_eq(bp.n_free, 200);
	/* a quiet period: none was needed, all but the floor go */
	ck_assert_uint_eq(buf_pool_trim(&bp, 8), 192);
	ck_assert_uint_eq(bp.n_free, 8);
	ck_assert_uint_eq(buf_pool_trim(&bp, 8), 0);
	buf_pool_fini(&bp);
}
END_TEST

START_TEST(test_trim_keeps_steady_load)
{
	struct buf_pool bp;
	unsigned i;

	buf_pool_init(&bp, SIZE, 256);
	burst(&bp, 100);
	(void)buf_pool_trim(&bp, 0);
	for (i = 0; i < 5; i++) {
		/* every period takes 30 of the pooled buffers at once */
		burst(&bp, 30);
		(void)buf_pool_trim(&bp, 0);
	}
	ck_assert_uint_eq(bp.n_free, 30); /* the surplus went, the working set stayed */
	buf_pool_fini(&bp);
}
END_TEST

static Suite *buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("pool");

	tcase_add_test(tc, test_reuse_and_cap);
	tcase_add_test(tc, test_trim_after_burst);
	tcase_add_test(tc, test_trim_keeps_steady_load);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(buf_suite());
}
