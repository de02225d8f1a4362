/* Unit tests for src/pipe.c: pooled splice pipes, their size, what happens
 * when the user's pipe pages run out, and the per-second trim. */
#include "remora-config.h"

#include <check.h>
#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include "pipe.h"
#include "unit.h"

#define SIZE (256 * 1024)

static int capacity(const struct rpipe *p)
{
	return fcntl(p->wfd, F_GETPIPE_SZ);
}

START_TEST(test_sized)
{
	struct pipe_pool pp;
	struct rpipe *p;

	pipe_pool_init(&pp, SIZE, 4);
	p = pipe_get(&pp);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_ge(capacity(p), SIZE);
	ck_assert_uint_eq(pp.small, 0);
	pipe_put(&pp, p);
	ck_assert_uint_eq(pp.n_free, 1);
	ck_assert_ptr_eq(pipe_get(&pp), p); /* reused */
	pipe_put(&pp, p);
	pipe_pool_fini(&pp);
}
END_TEST

/* Once the user holds fs.pipe-user-pages-soft pages of pipes, Linux makes
 * new pipes of 2 pages and refuses to grow them: pipe_get gives none (the
 * caller copies) instead of an 8 KiB pipe, counts it, and tries again only
 * after a pipe of its own closed or a tick. Root is not limited: the test
 * runs as nobody (Check forks each test). */
START_TEST(test_small_refused)
{
	struct pipe_pool pp;
	struct rpipe *p;
	int hog[400][2], n = 0, i;
	struct passwd *pw = getpwnam("nobody");

	if (geteuid() == 0) {
		ck_assert_ptr_nonnull(pw);
		ck_assert_int_eq(setgid(pw->pw_gid), 0);
		ck_assert_int_eq(setuid(pw->pw_uid), 0);
	}
	/* take the user's pipe pages: 1 MiB pipes until a new one is small */
	while (n < 400) {
		ck_assert_int_eq(pipe2(hog[n], O_CLOEXEC), 0);
		(void)fcntl(hog[n][1], F_SETPIPE_SZ, 1024 * 1024);
		if (fcntl(hog[n][1], F_GETPIPE_SZ) < PIPE_MIN_CAP)
			break;
		n++;
	}
	ck_assert_msg(n < 400, "fs.pipe-user-pages-soft is not limiting new pipes here");
	close(hog[n][0]);
	close(hog[n][1]);

	pipe_pool_init(&pp, SIZE, 4);
	ck_assert_ptr_null(pipe_get(&pp));
	ck_assert_uint_eq(pp.small, 1);
	ck_assert_ptr_null(pipe_get(&pp)); /* starved: not even tried */
	ck_assert_uint_eq(pp.small, 1);

	for (i = 0; i < n; i++) { /* the pages come back */
		close(hog[i][0]);
		close(hog[i][1]);
	}
	pipe_pool_tick(&pp, 0);
	p = pipe_get(&pp);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_ge(capacity(p), SIZE);
	pipe_put(&pp, p);
	pipe_pool_fini(&pp);
}
END_TEST

/* Idle pipes hold pipe pages: those unused for a whole tick go, down to the
 * floor; a pool in steady use keeps what it uses. */
START_TEST(test_tick_trims_idle)
{
	struct pipe_pool pp;
	struct rpipe *p[20];
	int i;

	pipe_pool_init(&pp, SIZE, 64);
	for (i = 0; i < 20; i++)
		p[i] = pipe_get(&pp);
	for (i = 0; i < 20; i++)
		pipe_put(&pp, p[i]);
	ck_assert_uint_eq(pp.n_free, 20);
	ck_assert_uint_eq(pipe_pool_tick(&pp, 8), 0); /* all were in use this tick */
	for (i = 0; i < 5; i++)			      /* steady use of 5 */
		p[i] = pipe_get(&pp);
	for (i = 0; i < 5; i++)
		pipe_put(&pp, p[i]);
	ck_assert_uint_eq(pipe_pool_tick(&pp, 8), 12); /* 15 idle all along: down to 8 */
	ck_assert_uint_eq(pp.n_free, 8);
	ck_assert_uint_eq(pipe_pool_tick(&pp, 8), 0);
	pipe_pool_fini(&pp);
}
END_TEST

static Suite *pipe_suite(void)
{
	Suite *s = suite_create("pipe");
	TCase *tc = tcase_create("pool");

	tcase_add_test(tc, test_sized);
	tcase_add_test(tc, test_small_refused);
	tcase_add_test(tc, test_tick_trims_idle);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(pipe_suite());
}
